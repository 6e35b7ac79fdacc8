// check-dist's view of the tree: every file under actions/*/dist that is not as committed,
// a new (untracked) bundle chunk included, and nothing outside dist/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { distChanges } from '../scripts/dist-status.ts';

const git = (cwd: string, ...args: string[]): void => {
  const result = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
};

describe('distChanges', () => {
  let repo: string;
  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'check-dist-'));
    git(repo, 'init', '-q');
    for (const name of ['one', 'two']) {
      mkdirSync(join(repo, 'actions', name, 'dist'), { recursive: true });
      mkdirSync(join(repo, 'actions', name, 'src'), { recursive: true });
      writeFileSync(join(repo, 'actions', name, 'dist', 'index.js'), 'bundle\n');
      writeFileSync(join(repo, 'actions', name, 'src', 'main.ts'), 'source\n');
    }
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'initial');
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  it('is empty when every dist/ is as committed, whatever else changed', () => {
    writeFileSync(join(repo, 'actions', 'one', 'src', 'main.ts'), 'edited\n');
    writeFileSync(join(repo, 'actions', 'one', 'src', 'new.ts'), 'new\n');
    expect(distChanges(repo)).toEqual([]);
  });

  it('sees a new, untracked bundle file', () => {
    const stray = join(repo, 'actions', 'two', 'dist', '761.index.js');
    writeFileSync(stray, 'chunk\n');
    try {
      expect(distChanges(repo)).toEqual(['?? actions/two/dist/761.index.js']);
    } finally {
      unlinkSync(stray);
    }
  });

  it('sees modified and deleted bundle files', () => {
    writeFileSync(join(repo, 'actions', 'one', 'dist', 'index.js'), 'rebuilt\n');
    unlinkSync(join(repo, 'actions', 'two', 'dist', 'index.js'));
    expect(distChanges(repo).sort()).toEqual([' D actions/two/dist/index.js', ' M actions/one/dist/index.js']);
  });
});
