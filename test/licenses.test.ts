// Each bundle's dist/licenses.txt is an inventory of every third-party package ncc put into it:
// name, the version installed, licence id, and the licence texts the package ships.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { actionDirs } from '../scripts/actions.ts';
import { bundledFiles, inventory, packageRoot } from '../scripts/licenses.ts';
import { sourceFolders } from '../scripts/stale-dist.ts';
import { repoRoot } from './helpers/run-action.ts';

/** Packages each action's code is known to bundle (what its settings and domain import). */
const KNOWN: Record<string, string[]> = {
  'deployment-metrics': [
    '@actions/core',
    '@actions/github',
    '@octokit/plugin-retry',
    '@octokit/plugin-throttling',
    'yaml',
    'zod',
  ],
  'approval-gate': [
    '@actions/core',
    '@actions/github',
    '@octokit/plugin-retry',
    '@octokit/plugin-throttling',
    'yaml',
    'zod',
  ],
  'blue-green-switch': [
    '@actions/core',
    '@actions/exec',
    '@actions/github',
    '@kubernetes/client-node',
    '@aws-sdk/client-elastic-load-balancing-v2',
    're2js',
    'yaml',
    'zod',
  ],
  'db-backup': [
    '@actions/core',
    'pg',
    'mysql2',
    'tar',
    'age-encryption',
    '@aws-sdk/client-s3',
    '@aws-sdk/lib-storage',
    '@azure/storage-blob',
    'yaml',
    'zod',
  ],
  migrate: ['@actions/core', 'pg', 'mysql2', 'libpg-query', 'yaml', '@actions/github'],
  'notify-stakeholders': ['@actions/core', '@actions/github', '@slack/web-api', 'nodemailer', 'yaml', 'zod'],
  'verify-checklist': ['@actions/core', '@actions/github', 'yaml', 'zod'],
  'smoke-test': ['@actions/core', 're2js', 'yaml', 'zod', '@prometheus-io/lezer-promql', '@lezer/lr'],
};

interface Entry {
  name: string;
  version: string;
  license: string;
}

function readInventory(action: string): { entries: Entry[]; text: string } {
  const text = readFileSync(join(repoRoot, 'actions', action, 'dist', 'licenses.txt'), 'utf8');
  const entries = [...text.matchAll(/^(@?[^@\s]+)@(\S+) {2}(.+)$/gm)].map(([, name, version, license]) => ({
    name: name!,
    version: version!,
    license: license!,
  }));
  return { entries, text };
}

/** The version of a package as installed for the action (its folder or a workspace package it reaches). */
function installedVersion(actionDir: string, name: string): string | undefined {
  for (const folder of sourceFolders(repoRoot, actionDir)) {
    const manifest = join(folder, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  }
  return undefined;
}

describe('dist/licenses.txt', () => {
  it('covers every action', () => {
    expect(actionDirs().map((a) => a.name)).toEqual(Object.keys(KNOWN).sort());
  });

  describe.each(actionDirs().map((a) => [a.name, a.dir] as const))('%s', (action, dir) => {
    it('names the packages known to be inside the bundle, at the versions installed', () => {
      const { entries } = readInventory(action);
      for (const name of KNOWN[action] ?? []) {
        const versions = entries.filter((entry) => entry.name === name).map((entry) => entry.version);
        expect([name, versions]).toEqual([name, expect.arrayContaining([installedVersion(dir, name)])]);
      }
    });

    it('gives every package a licence id and its licence text (or says it ships none)', () => {
      const { entries, text } = readInventory(action);
      expect(entries.length).toBeGreaterThan(KNOWN[action]!.length);
      for (const entry of entries) {
        expect([entry.name, entry.license]).not.toEqual([entry.name, expect.stringMatching(/^UNKNOWN/)]);
        const section = text
          .split(`\n${'='.repeat(80)}\n${entry.name}@${entry.version}\n`)[1]
          ?.split('='.repeat(80))[0];
        expect([entry.name, section]).toEqual([
          entry.name,
          expect.stringMatching(/^License: .+\n\n--- \S+\n\S|ships no/),
        ]);
      }
    });

    it('never lists the project’s own packages as third-party', () => {
      expect(readInventory(action).entries.filter((e) => e.name.startsWith('@deploy-suite/'))).toEqual([]);
    });
  });
});

describe('inventory from the bundler stats', () => {
  const pnpmPath = (pkg: string, file: string) =>
    join(repoRoot, 'node_modules', '.pnpm', 'x@1', 'node_modules', pkg, file);

  it('finds the package folder of a file, scoped names included', () => {
    expect(packageRoot(pnpmPath('pg', 'lib/client.js'))).toBe(pnpmPath('pg', '').replace(/\/$/, ''));
    expect(packageRoot(pnpmPath('@actions/core', 'lib/core.js'))).toBe(
      pnpmPath('@actions/core', '').replace(/\/$/, ''),
    );
    expect(packageRoot(join(repoRoot, 'packages', 'kit', 'src', 'index.ts'))).toBeUndefined();
  });

  it('takes modules in emitted chunks and those concatenated into them, not orphans', () => {
    const files = bundledFiles({
      modules: [
        { nameForCondition: '/a/node_modules/kept/index.js', chunks: [1] },
        {
          nameForCondition: null,
          chunks: [2],
          modules: [{ nameForCondition: '/a/node_modules/@s/inner/x.js', chunks: [] }],
        },
        { nameForCondition: '/a/node_modules/shaken/index.js', chunks: [], orphan: true },
      ],
    });
    expect(files).toEqual(['/a/node_modules/kept/index.js', '/a/node_modules/@s/inner/x.js']);
  });

  it('reads name, version, licence and its texts from the installed package', () => {
    const pg = join(repoRoot, 'packages', 'db', 'node_modules', 'pg', 'lib', 'index.js');
    const [entry] = inventory([pg]);
    expect(entry).toMatchObject({ name: 'pg', license: 'MIT', texts: [{ file: 'LICENSE' }] });
    expect(entry?.texts[0]?.text).toMatch(/Permission is hereby granted/);
  });
});
