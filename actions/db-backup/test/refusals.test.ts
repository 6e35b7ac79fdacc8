import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPgDatabase, dropPgDatabase, pgQuery, uniqueName } from '../../../test/helpers/databases.ts';
import { backupAction, errorOf, tempDir, TEST_KEYS } from './helpers.ts';

/** What db-backup refuses to use from the store, run the runner's way. */

let source: string;
const store = tempDir('refusals-');
let id: string;
const url = () => `postgres://postgres@127.0.0.1:5432/${source}`;

beforeAll(async () => {
  source = await createPgDatabase('bkrefuse');
  const backup = await backupAction({ 'database-url': url(), store, 'allow-unencrypted': 'true' });
  expect(errorOf(backup)).toBe('');
  id = backup.outputs['backup-id']!;
});
afterAll(() => dropPgDatabase(source));

describe('db-backup refuses', () => {
  it('to verify a signed but unencrypted backup unless allow-unencrypted is set', async () => {
    const refused = await backupAction({ command: 'verify', 'database-url': url(), store });
    expect(refused.exitCode).toBe(1);
    expect(errorOf(refused)).toMatch(/is not encrypted; refusing to use it. Set allow-unencrypted: true/);
    expect(refused.outputs.verified).not.toBe('true');
    expect(refused.log).not.toMatch(/scratch database deploy_suite_scratch_/);

    const allowed = await backupAction({
      command: 'verify',
      'database-url': url(),
      store,
      'allow-unencrypted': 'true',
    });
    expect(errorOf(allowed)).toBe('');
    expect(allowed.outputs.verified).toBe('true');
  });

  it('a signed manifest stored under another backup id than its own, when that id is asked for', async () => {
    // A replay: the genuine, signed manifest of one backup copied to the key of a newer id.
    const other = `${id.slice(0, -6)}${id.endsWith('abcdef') ? '123456' : 'abcdef'}`;
    const folder = join(store, source);
    const manifest = readdirSync(folder).find((f) => f === `${id}.manifest.json`)!;
    copyFileSync(join(folder, manifest), join(folder, `${other}.manifest.json`));
    const target = uniqueName('bkrefuset');
    const run = await backupAction({
      command: 'restore',
      'database-url': url(),
      store,
      'backup-id': other,
      'target-database': target,
      'verify-key': TEST_KEYS.verify,
      'signing-key': '',
      'allow-unencrypted': 'true',
    });
    expect(run.exitCode).toBe(1);
    expect(errorOf(run)).toContain(`describes backup ${id}, not ${other}`);
    expect((await pgQuery('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [target])).rowCount).toBe(0);
  });
});
