// The inventory of what a bundle contains: every package the bundler put into dist/, found from its
// module list (webpack stats), with version, licence id and the licence and notice texts the
// package ships. Written as dist/licenses.txt by scripts/build.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';

export interface BundledPackage {
  name: string;
  version: string;
  license: string;
  /** Licence, copying and notice files the package ships, by file name. */
  texts: { file: string; text: string }[];
}

interface StatsModule {
  nameForCondition?: string | null;
  chunks?: unknown[];
  orphan?: boolean;
  modules?: StatsModule[];
}

/** Every file the bundle took in: modules in an emitted chunk, those concatenated into one included. */
export function bundledFiles(stats: { modules?: StatsModule[] }): string[] {
  const files = new Set<string>();
  const walk = (modules: StatsModule[], inChunk: boolean): void => {
    for (const module of modules) {
      const included = inChunk || (module.chunks?.length ?? 0) > 0;
      if (!included) continue;
      if (typeof module.nameForCondition === 'string') files.add(module.nameForCondition);
      if (module.modules) walk(module.modules, true);
    }
  };
  walk(stats.modules ?? [], false);
  return [...files];
}

/** The package folder a file belongs to: the path up to the last node_modules/<name> or node_modules/@scope/<name>. */
export function packageRoot(file: string): string | undefined {
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const rest = file.slice(at + marker.length).split(sep);
  const segments = rest[0]?.startsWith('@') ? 2 : 1;
  if (rest.length <= segments) return undefined;
  return file.slice(0, at + marker.length) + rest.slice(0, segments).join(sep);
}

interface Manifest {
  name?: string;
  version?: string;
  license?: string | { type?: string };
  licenses?: { type?: string }[];
}

function licenseId(manifest: Manifest): string {
  if (typeof manifest.license === 'string') return manifest.license;
  if (manifest.license?.type !== undefined) return manifest.license.type;
  const ids = (manifest.licenses ?? []).map((entry) => entry.type).filter((id) => id !== undefined);
  return ids.length > 0 ? `(${ids.join(' OR ')})` : 'UNKNOWN (no licence field in package.json)';
}

/** The packages the given files come from, one entry per name and version, sorted. */
export function inventory(files: string[]): BundledPackage[] {
  const roots = new Set(files.map(packageRoot).filter((root) => root !== undefined));
  const packages = new Map<string, BundledPackage>();
  for (const root of roots) {
    if (!existsSync(join(root, 'package.json'))) continue;
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
    if (manifest.name === undefined) continue;
    const key = `${manifest.name}@${manifest.version ?? ''}`;
    if (packages.has(key)) continue;
    const texts = readdirSync(root)
      .filter((file) => /^(licen[cs]e|copying|notice|third-party-notices)/i.test(file))
      .sort()
      .map((file) => ({ file, text: readFileSync(join(root, file), 'utf8').trim() }));
    packages.set(key, {
      name: manifest.name,
      version: manifest.version ?? 'unknown',
      license: licenseId(manifest),
      texts,
    });
  }
  return [...packages.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

export function renderLicenses(action: string, packages: BundledPackage[]): string {
  const lines = [
    `Third-party packages bundled into actions/${action}/dist: ${packages.length}.`,
    `(The @deploy-suite/* packages are this repository's own code, under its licence.)`,
    '',
    ...packages.map((p) => `${p.name}@${p.version}  ${p.license}`),
  ];
  for (const p of packages) {
    lines.push('', '='.repeat(80), `${p.name}@${p.version}`, `License: ${p.license}`);
    if (p.texts.length === 0) lines.push('(the package ships no licence or notice file)');
    for (const { file, text } of p.texts) lines.push('', `--- ${file}`, text);
  }
  return `${lines.join('\n')}\n`;
}
