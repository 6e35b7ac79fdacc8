import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'boundary.ts');

function run(mode: string) {
  const summaryPath = join(mkdtempSync(join(tmpdir(), 'boundary-')), 'summary.md');
  writeFileSync(summaryPath, '');
  const result = spawnSync(process.execPath, [fixture, mode], {
    env: { PATH: process.env.PATH, GITHUB_STEP_SUMMARY: summaryPath },
    encoding: 'utf8',
  });
  const log =
    result.stdout
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n') + result.stderr;
  return { status: result.status, log, summary: readFileSync(summaryPath, 'utf8') };
}

describe('error boundary', () => {
  it('succeeds and still writes the summary', () => {
    const { status, summary } = run('ok');
    expect(status).toBe(0);
    expect(summary).toContain('summary written even on failure');
  });

  it('fails a configuration error with its message alone, redacted, and no stack', () => {
    const { status, log, summary } = run('config');
    expect(status).toBe(1);
    expect(log).toContain('::error::Input x is wrong (***)');
    expect(log).not.toContain('boundary-secret-1234');
    expect(log).not.toMatch(/\n\s+at /);
    expect(summary).toContain('summary written even on failure');
  });

  it('reports a bug as a bug, with its stack', () => {
    const { status, log } = run('bug');
    expect(status).toBe(1);
    expect(log).toContain('a bug in this action');
    expect(log).toMatch(/\n\s+at /);
  });

  it.each([
    ['string', 'plain string thrown'],
    ['object', '{"code":42}'],
  ])('fails when a non-Error (%s) is thrown', (mode, text) => {
    const { status, log } = run(mode);
    expect(status).toBe(1);
    expect(log).toContain(text);
  });
});
