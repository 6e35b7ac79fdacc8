import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createMariaUser,
  dropMariaUser,
  LOCAL_MARIADB,
  mariaQuery,
  pgQuery,
  uniqueName,
} from '../../../test/helpers/databases.ts';
import { runBuiltAction } from '../../../test/helpers/run-action.ts';
import { ageKeyPair, backupAction, errorOf, tempDir, TEST_KEYS } from './helpers.ts';

/**
 * A restore cancelled as the runner cancels a step (SIGINT first, or SIGTERM) leaves nothing in
 * RUNNER_TEMP: not the downloaded backup, not PostgreSQL's extracted dump folder, not the MySQL
 * option file holding the password. Each signal is sent once the file it is about exists.
 */

let keys: { identity: string; recipient: string };
beforeAll(async () => {
  keys = await ageKeyPair();
});

/** Runs a restore and sends `signal` as soon as `ready` sees what must be cleaned up. */
async function cancelledRestore(
  inputs: Record<string, string>,
  signal: NodeJS.Signals,
  ready: (runnerTemp: string, entries: string[]) => boolean,
): Promise<{ seen: string[]; exitCode: number | null; left: string[] }> {
  const runnerTemp = tempDir('runner-temp-');
  let seen: string[] = [];
  const run = await runBuiltAction(
    'db-backup',
    { command: 'restore', 'verify-key': TEST_KEYS.verify, identity: keys.identity, ...inputs },
    {
      env: { RUNNER_TEMP: runnerTemp },
      timeoutMs: 60_000,
      onStart: (child) => {
        const poll = setInterval(() => {
          const entries = existsSync(runnerTemp) ? readdirSync(runnerTemp) : [];
          if (ready(runnerTemp, entries)) {
            seen = entries;
            clearInterval(poll);
            child.kill(signal);
          }
        }, 5);
        child.on('close', () => clearInterval(poll));
      },
    },
  );
  return { seen, exitCode: run.exitCode, left: readdirSync(runnerTemp) };
}

const holds = (runnerTemp: string, entries: string[], prefix: string, ...path: string[]) =>
  entries.some((e) => e.startsWith(prefix) && existsSync(join(runnerTemp, e, ...path)));

describe.each(['SIGINT', 'SIGTERM'] as const)('a restore cancelled with %s', (signal) => {
  const made: { pg: string[]; maria: string[] } = { pg: [], maria: [] };
  afterAll(async () => {
    for (const db of made.pg) await pgQuery('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    for (const db of made.maria) await mariaQuery(`DROP DATABASE IF EXISTS ${db}`);
  });

  it('PostgreSQL: removes the downloaded backup and the extracted dump folder', async () => {
    const source = uniqueName('bkcancelpg');
    const target = uniqueName('bkcancelpgt');
    made.pg.push(source, target);
    await pgQuery('postgres', `CREATE DATABASE ${source}`);
    await pgQuery(source, 'CREATE TABLE bulk AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 300000) g');
    const store = tempDir('cancel-pg-');
    const url = `postgres://postgres@127.0.0.1:5432/${source}`;
    const backup = await backupAction({
      'database-url': url,
      store,
      recipients: keys.recipient,
      'pg-format': 'directory',
    });
    expect(errorOf(backup)).toBe('');

    const result = await cancelledRestore({ 'database-url': url, store, 'target-database': target }, signal, (dir, e) =>
      holds(dir, e, 'pg-restore-', 'dump', 'toc.dat'),
    );
    expect(result.seen).toEqual(expect.arrayContaining([expect.stringMatching(/^pg-restore-/)]));
    expect(result.exitCode).not.toBe(0);
    expect(result.left).toEqual([]);
  });

  it('MariaDB: removes the downloaded backup and the option file with the password', async () => {
    const source = uniqueName('bkcancelmy');
    const target = uniqueName('bkcancelmyt');
    made.maria.push(source, target);
    const password = `pw-${uniqueName('cancel')}`;
    const user = await createMariaUser(password);
    try {
      await mariaQuery(`CREATE DATABASE ${source}`);
      await mariaQuery(
        'CREATE TABLE bulk (id INT PRIMARY KEY, v CHAR(32)); INSERT INTO bulk SELECT seq, MD5(seq) FROM seq_1_to_300000',
        [],
        source,
      );
      const store = tempDir('cancel-my-');
      const url = `mysql://${user}:${password}@${LOCAL_MARIADB.host}:3306/${source}`;
      const backup = await backupAction({ 'database-url': url, store, recipients: keys.recipient });
      expect(errorOf(backup)).toBe('');

      // The restore has begun once the backup is downloaded and the client's option file written.
      const result = await cancelledRestore(
        { 'database-url': url, store, 'target-database': target },
        signal,
        (dir, e) =>
          holds(dir, e, 'backup-', 'object') &&
          e.some((name) => name.startsWith('db-client-') && readdirSync(join(dir, name)).length > 0),
      );
      expect(result.seen).toEqual(expect.arrayContaining([expect.stringMatching(/^db-client-/)]));
      expect(result.exitCode).not.toBe(0);
      expect(result.left).toEqual([]);
    } finally {
      await dropMariaUser(user);
    }
  });
});
