import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { backupAction, errorOf, tempDir, TEST_KEYS } from './helpers.ts';

/**
 * Object keys are named by whoever can write to the store. A key with line breaks in it, named in
 * a warning about a refused manifest, cannot start a workflow command: it is escaped on one line.
 */
describe('db-backup escapes store keys it names', () => {
  it('a planted manifest key holding line breaks and workflow commands is reported escaped', async () => {
    const store = tempDir('key-escape-');
    const database = 'shop';
    mkdirSync(join(store, database));
    const hostile =
      'x\n::add-mask::hijacked\n::stop-commands::tok\n::error::forged by the store\r\n::warning::forged too';
    writeFileSync(join(store, database, `${hostile}.manifest.json`), '{}');

    const run = await backupAction({
      command: 'list',
      'database-url': `postgres://postgres@127.0.0.1:5432/${database}`,
      store,
      'verify-key': TEST_KEYS.verify,
    });
    expect(errorOf(run)).toBe('');
    const commands = run.log
      .split(/\r\n|\n|\r|\u2028|\u2029|\u0085/)
      .filter((line) => line.startsWith('::'))
      .filter((line) => !/^::(group|endgroup|debug)::/.test(line));
    expect(commands).toEqual([
      expect.stringMatching(
        /^::warning::Refused "shop\/x\\n::add-mask::hijacked\\n::stop-commands::tok\\n::error::forged by the store\\r\\n::warning::forged too\.manifest\.json is not named as a manifest of shop"$/,
      ),
    ]);
    expect(run.masks.join('\n')).not.toContain('hijacked');
    expect(run.annotations.filter((a) => a.level === 'error')).toEqual([]);
  });
});
