import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { failureOf, leakedSecrets, runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';
import { startArchiveCluster, type ArchiveCluster } from '../../../test/helpers/pg-archive-cluster.ts';

// db-backup's physical path on PostgreSQL, run the runner's way against one throwaway cluster
// archiving its WAL through pgBackRest. The tests run in order: backups, the PITR restore, the
// drill, the freshness gate, bad inputs, and last the archive gap (it damages the repository).

let cluster: ArchiveCluster;
let runnerTemp: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function physical(inputs: Record<string, string>): Promise<ActionRun> {
  return runBuiltAction(
    'db-backup',
    {
      method: 'physical',
      'database-url': `postgres://admin@127.0.0.1:${cluster.port}/postgres`,
      'pgbackrest-repo': cluster.repoPath,
      'pgbackrest-stanza': cluster.stanza,
      'repo-passphrase': cluster.cipherPass,
      'pg-data': cluster.dataDir,
      'pg-socket': cluster.socketDir,
      'run-as': 'postgres',
      'keep-daily': '4',
      ...inputs,
    },
    // The cluster's OS user must traverse RUNNER_TEMP (pgBackRest's config, the restored cluster's socket).
    { env: { RUNNER_TEMP: runnerTemp }, timeoutMs: 120_000 },
  );
}

async function insertBatch(batch: string, rows: number): Promise<void> {
  await cluster.query(
    `INSERT INTO events (batch, n, at) SELECT $1, g, clock_timestamp() FROM generate_series(1, $2::int) g`,
    [batch, rows],
  );
}

async function serverNow(): Promise<Date> {
  const { rows } = await cluster.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  return rows[0]!.now;
}

function expectOk(run: ActionRun): void {
  expect(failureOf(run)).toBe('');
  expect(run.exitCode).toBe(0);
  expect(leakedSecrets(run, [cluster.cipherPass])).toEqual([]);
}

beforeAll(async () => {
  cluster = await startArchiveCluster({ archiveTimeoutSeconds: 10 });
  runnerTemp = mkdtempSync(join(tmpdir(), 'db-backup-physical-'));
  chmodSync(runnerTemp, 0o755);
  await cluster.query(
    'CREATE TABLE events (id bigserial PRIMARY KEY, batch text NOT NULL, n int NOT NULL, at timestamptz NOT NULL)',
  );
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (runnerTemp) rmSync(runnerTemp, { recursive: true, force: true });
});

describe('db-backup method physical on PostgreSQL (pgBackRest)', () => {
  let fullLabel = '';
  let incrLabel = '';

  it('takes a full backup (creating the stanza), then an incremental on it; the passphrase is masked', async () => {
    await insertBatch('a', 200);
    const full = await physical({ command: 'backup', type: 'full' });
    expectOk(full);
    expect(full.masks).toContain(cluster.cipherPass);
    fullLabel = full.outputs['backup-id']!;
    expect(fullLabel).toMatch(/^\d{8}-\d{6}F$/);
    expect(full.summary).toContain(`pgBackRest full backup taken: ${fullLabel}`);

    await insertBatch('b', 200);
    const incr = await physical({ command: 'backup', type: 'incr' });
    expectOk(incr);
    incrLabel = incr.outputs['backup-id']!;
    expect(incrLabel).toMatch(new RegExp(`^${fullLabel}_\\d{8}-\\d{6}I$`));
    expect(incr.summary).toContain(fullLabel); // builds on the full
  }, 120_000);

  it('restores to a time T between backups into a scratch cluster: exactly the rows up to T', async () => {
    await insertBatch('c', 200);
    const timeT = await serverNow();
    await sleep(1100); // the next commit lands in a later second than T
    await insertBatch('d', 200);
    await cluster.switchAndWaitArchived();
    await sleep(1100);
    await insertBatch('e', 10);
    await cluster.switchAndWaitArchived();
    const { rows } = await cluster.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE at <= $1', [timeT]);
    expect(Number(rows[0]!.n)).toBe(600);

    const run = await physical({ command: 'restore', 'target-time': timeT.toISOString() });
    expectOk(run);
    expect(run.outputs['backup-id']).toBe(incrLabel);
    expect(JSON.parse(run.outputs['row-counts']!)).toEqual({ 'public.events': 600 });
    expect(run.outputs.verified).toBe('true');
    expect(Number(run.outputs['restore-duration-seconds'])).toBeGreaterThan(0);
    expect(run.summary).toContain('| public.events | 600 |');
    expect(run.summary).toContain(timeT.toISOString());
    // The scratch cluster is gone.
    expect(readdirSync(runnerTemp)).toEqual([]);
  }, 120_000);

  it('restores the latest point into a named empty folder (with confirm) and leaves it stopped', async () => {
    const named = join(runnerTemp, 'named');
    const refused = await physical({ command: 'restore', 'target-data-dir': named });
    expect(refused.exitCode).toBe(1);
    expect(failureOf(refused)).toContain("Input 'confirm'");

    const run = await physical({ command: 'restore', 'target-data-dir': named, confirm: named });
    expectOk(run);
    expect(JSON.parse(run.outputs['row-counts']!)).toEqual({ 'public.events': 810 });
    expect(existsSync(join(named, 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(named, 'postmaster.pid'))).toBe(false);
    expect(run.summary).toContain('left stopped');
    rmSync(named, { recursive: true, force: true });
  }, 120_000);

  it('fails clearly when the restored cluster lacks the database, and removes the scratch copy', async () => {
    const run = await physical({
      command: 'restore',
      'database-url': `postgres://admin@127.0.0.1:${cluster.port}/no_such_db`,
    });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/has no database no_such_db/);
    expect(readdirSync(runnerTemp)).toEqual([]);
  }, 120_000);

  it('a wrong repository passphrase is named as such', async () => {
    const wrong = 'not-the-repository-passphrase';
    const run = await physical({ command: 'list', 'repo-passphrase': wrong });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/passphrase does not open the repository/);
    expect(leakedSecrets(run, [wrong])).toEqual([]);
  }, 60_000);

  it("verify runs pgBackRest's verify and a PITR drill, reporting RTO and RPO", async () => {
    const run = await physical({ command: 'verify', 'max-rto': '10m', 'max-age': '1h' });
    expectOk(run);
    expect(JSON.parse(run.outputs['row-counts']!)).toEqual({ 'public.events': 810 });
    expect(Number(run.outputs['restore-duration-seconds'])).toBeGreaterThan(0);
    expect(Number(run.outputs['age-seconds'])).toBeLessThan(600);
    expect(run.summary).toContain('DR drill');
    expect(run.summary).toContain('RTO (restore and verify)');

    // An RTO the drill cannot meet fails it, with the figures still reported.
    const missed = await physical({ command: 'verify', 'max-rto': '1s' });
    expect(missed.exitCode).toBe(1);
    expect(failureOf(missed)).toMatch(/drill missed its objectives: the restore took .* over the RTO/);
    expect(missed.outputs['restore-duration-seconds']).toBeDefined();
  }, 150_000);

  it('check passes on a fresh, whole archive and lists the backups', async () => {
    const run = await physical({ command: 'check' });
    expectOk(run);
    expect(run.outputs['newest-id']).toBe(incrLabel);
    expect(Number(run.outputs['age-seconds'])).toBeLessThan(600);
    expect(Date.parse(run.outputs['recoverable-until']!)).toBeGreaterThan(Date.now() - 600_000);
    expect(run.summary).toContain('✅ Recoverability');

    const list = await physical({ command: 'list' });
    expectOk(list);
    const backups = JSON.parse(list.outputs.backups!) as { id: string; type: string }[];
    expect(backups.map((b) => b.id)).toEqual([incrLabel, fullLabel]);
    expect(backups.map((b) => b.type)).toEqual(['incr', 'full']);

    const prune = await physical({ command: 'prune' });
    expect(prune.exitCode).toBe(1);
    expect(failureOf(prune)).toContain('repo1-retention-full');
  }, 120_000);

  it('refuses bad inputs at once, naming the input', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { command: 'backup', type: 'differential' },
        /Input 'type' must be full, diff or incr .*"differential".*Example: type: incr/,
      ],
      [
        { command: 'restore', 'target-time': new Date(Date.now() + 3_600_000).toISOString() },
        /Input 'target-time' is in the future/,
      ],
      [
        { command: 'restore', 'target-time': '2026-11-27 10:00' },
        /Input 'target-time' must be an ISO 8601 time with its offset/,
      ],
      [{ command: 'backup', 'repo-passphrase': '' }, /Input 'repo-passphrase' is required/],
      [{ command: 'backup', store: '/backups' }, /Input 'store' does not apply to method physical/],
      [
        { command: 'backup', method: 'logical', store: '/backups' },
        /Input 'pgbackrest-repo' does not apply to method logical/,
      ],
    ];
    for (const [inputs, message] of cases) {
      const run = await physical(inputs);
      expect(run.exitCode).toBe(1);
      expect(failureOf(run)).toMatch(message);
      expect(leakedSecrets(run, [cluster.cipherPass])).toEqual([]);
    }
  }, 60_000);

  it('a segment missing from the archive fails check, naming it', async () => {
    await insertBatch('g1', 50);
    await cluster.switchAndWaitArchived();
    const missing = await cluster.switchAndWaitArchived();
    await insertBatch('g2', 50);
    await cluster.switchAndWaitArchived();
    const folder = join(cluster.repoPath, 'archive', cluster.stanza);
    const archiveId = readdirSync(folder).find((name) => /^\d+-\d+$/.test(name))!;
    const segments = join(folder, archiveId, missing.slice(0, 16));
    const file = readdirSync(segments).find((name) => name.startsWith(`${missing}-`));
    expect(file).toBeDefined();
    rmSync(join(segments, file!));

    const run = await physical({ command: 'check' });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toContain(`segment ${missing} is missing`);
    expect(run.summary).toContain(`missing ${missing}`);
  }, 90_000);
});
