import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  commandLinesDuring,
  createMariaDatabase,
  createMariaUser,
  dropMariaDatabase,
  dropMariaUser,
  mariaQuery,
  uniqueName,
} from '../../../test/helpers/databases.ts';
import { FaultProxy, type Fault } from '../../../test/helpers/fault-proxy.ts';
import { startS3, type RunningS3 } from '../../../test/helpers/object-stores.ts';
import { leakedSecrets } from '../../../test/helpers/run-action.ts';
import { ageKeyPair, backupAction, errorOf, outputsOf } from './helpers.ts';

const password = `my p@ss:w/rd#%'"\\x`;
let s3: RunningS3;
let source: string;
let user: string;
let keys: { identity: string; recipient: string };
const dropLater: string[] = [];

/** Every file s3rver keeps for a bucket, i.e. every object it holds. */
function objectsIn(bucket: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  try {
    return walk(join(s3.directory, bucket)).filter((f) => f.endsWith('._S3rver_object'));
  } catch {
    return [];
  }
}

beforeAll(async () => {
  [s3, source, keys] = await Promise.all([startS3(), createMariaDatabase('bkmaria'), ageKeyPair()]);
  user = await createMariaUser(password);
}, 60_000);
afterAll(async () => {
  await s3?.stop();
  for (const name of [source, ...dropLater]) await dropMariaDatabase(name);
  await dropMariaUser(user);
});

const counts = async (database: string) =>
  (await mariaQuery(
    `SELECT (SELECT COUNT(*) FROM customers) AS c, (SELECT COUNT(*) FROM orders) AS o, (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = DATABASE()) AS r, (SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()) AS t`,
    [],
    database,
  )) as Record<string, number>[];

const s3Inputs = (endpoint = s3.endpoint) => ({
  store: `s3://${s3.bucket}/nightly`,
  's3-endpoint': endpoint,
  'aws-access-key-id': s3.accessKeyId,
  'aws-secret-access-key': s3.secretAccessKey,
});

describe('db-backup on MariaDB, S3 store', () => {
  const connection = () => ({ engine: 'mysql', host: '127.0.0.1', port: '3306', user, password, database: source });

  it('backs up with a password user, restores and verifies, never showing the password', async () => {
    const backup = await backupAction({
      ...connection(),
      ...s3Inputs(),
      recipients: keys.recipient,
      labels: 'daily',
      verify: 'true',
      identity: keys.identity,
    });
    expect(errorOf(backup)).toBe('');
    const out = outputsOf(backup);
    expect(out.location).toBe(`s3://${s3.bucket}/nightly/${source}/${out.id}.dump.zst.age`);
    expect(out.verified).toBe('true');
    const stored = objectsIn(s3.bucket).map((f) => readFileSync(f));
    expect(
      stored.some((bytes) => bytes.subarray(0, 21).toString() === 'age-encryption.org/v1' && bytes.length === out.size),
    ).toBe(true);
    expect(stored.some((bytes) => bytes.includes('customer 42'))).toBe(false);

    const target = uniqueName('bkmcopy');
    dropLater.push(target);
    const restore = await backupAction({
      ...connection(),
      ...s3Inputs(),
      command: 'restore',
      identity: keys.identity,
      'target-database': target,
    });
    expect(errorOf(restore)).toBe('');
    expect(await counts(target)).toEqual(await counts(source));
    for (const run of [backup, restore]) {
      expect(leakedSecrets(run, [password])).toEqual([]);
    }
  });

  it('never puts the password on a command line: the dump tool reads a private option file', async () => {
    await mariaQuery(
      'CREATE TABLE IF NOT EXISTS bulk AS SELECT seq AS id, MD5(seq) AS v FROM seq_1_to_300000',
      [],
      source,
    );
    let run: Awaited<ReturnType<typeof backupAction>> | undefined;
    const lines = await commandLinesDuring('-dump', async () => {
      run = await backupAction({ ...connection(), ...s3Inputs(), recipients: keys.recipient, compression: 'none' });
    });
    expect(errorOf(run!)).toBe('');
    expect(lines.some((line) => line.includes('--defaults-extra-file='))).toBe(true);
    expect(lines.filter((line) => line.includes('p@ss'))).toEqual([]);
  });

  it('takes the connection from a mysql:// URL with a percent-encoded password', async () => {
    const run = await backupAction({
      'database-url': `mysql://${user}:${encodeURIComponent(password)}@127.0.0.1:3306/${source}`,
      ...s3Inputs(),
      recipients: keys.recipient,
    });
    expect(errorOf(run)).toBe('');
    expect(leakedSecrets(run, [password, encodeURIComponent(password)])).toEqual([]);
  });

  it('asks S3 for server-side encryption on every object it writes', async () => {
    const proxy = await FaultProxy.start(s3.endpoint, () => undefined);
    try {
      const run = await backupAction({
        ...connection(),
        ...s3Inputs(proxy.url),
        recipients: keys.recipient,
        's3-server-side-encryption': 'aws:kms',
        's3-kms-key-id': 'alias/backups',
      });
      expect(errorOf(run)).toBe('');
      const writes = proxy.seen.filter((r) => r.method === 'PUT' || (r.method === 'POST' && r.url.includes('uploads')));
      expect(writes.map((r) => r.url)).toEqual(
        expect.arrayContaining([expect.stringContaining('.dump.zst.age'), expect.stringContaining('.manifest.json')]),
      );
      for (const write of writes) {
        expect(write.headers['x-amz-server-side-encryption']).toBe('aws:kms');
        expect(write.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBe('alias/backups');
      }
    } finally {
      await proxy.close();
    }
  });

  it.each<[string, Fault]>([
    ['a 500 from the store', 'status-500'],
    ['a dropped connection', 'reset'],
  ])('loses nothing when the upload fails with %s', async (_label, fault) => {
    const before = objectsIn(s3.bucket).length;
    const proxy = await FaultProxy.start(s3.endpoint, (req) =>
      req.method === 'PUT' && req.url?.includes('.dump.zst.age') ? fault : undefined,
    );
    try {
      const run = await backupAction({ ...connection(), ...s3Inputs(proxy.url), recipients: keys.recipient });
      expect(run.exitCode).toBe(1);
      expect(errorOf(run)).toContain(`Backup of ${source} failed; nothing was recorded`);
      expect(proxy.faulted.length).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
    expect(objectsIn(s3.bucket)).toHaveLength(before);
    const listed = await backupAction({ ...connection(), ...s3Inputs(), command: 'list' });
    expect(JSON.parse(listed.outputs.backups!)).toHaveLength(4);
  });
});
