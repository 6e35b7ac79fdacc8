import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { failureOf, leakedSecrets, runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';
import { startMariaDbInstance, type MariaDbInstance } from '../../../test/helpers/mariadb-instance.ts';
import { ageKeyPair, backupAction, tempDir, TEST_KEYS } from './helpers.ts';

/** The pids of the mariadbd processes serving a restored copy under `runnerTemp`. */
function copies(runnerTemp: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    if (args[0]?.endsWith('mariadbd') && args.some((arg) => arg.startsWith(`--datadir=${runnerTemp}/`)))
      pids.push(Number(entry));
  }
  return pids;
}

/** A copy under `runnerTemp` that accepts connections: its socket exists. */
function serving(runnerTemp: string): boolean {
  for (const pid of copies(runnerTemp)) {
    try {
      const socket = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .find((arg) => arg.startsWith('--socket='));
      if (socket !== undefined && existsSync(socket.slice('--socket='.length))) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

// db-backup's physical path on MariaDB, run the runner's way against one throwaway server writing
// ROW binary logs: a full backup, an incremental, the binary logs archived with each, a restore to
// a time T between two backups, the freshness gate and the drill. In order.

let db: MariaDbInstance;
let storeDir: string;
let keys: { identity: string; recipient: string };

/** The inputs every physical run here shares: this server, this store, these keys. */
const physicalInputs = (): Record<string, string> => ({
  method: 'physical',
  engine: 'mysql',
  host: '127.0.0.1',
  port: String(db.port),
  user: db.user,
  password: db.password,
  database: 'shop',
  store: storeDir,
  recipients: keys.recipient,
  identity: keys.identity,
});

function physical(inputs: Record<string, string>): Promise<ActionRun> {
  return backupAction({ ...physicalInputs(), ...inputs });
}

function insert(from: number, to: number): void {
  const rows = [];
  for (let id = from; id <= to; id += 1) rows.push(`(${id}, NOW(6))`);
  db.sql(`INSERT INTO shop.events (id, at) VALUES ${rows.join(', ')}`);
}

const sleepUntil = async (time: number): Promise<void> => {
  while (Date.now() < time) await new Promise((resolve) => setTimeout(resolve, Math.min(100, time - Date.now() + 1)));
};

function expectOk(run: ActionRun): void {
  expect(failureOf(run)).toBe('');
  expect(run.exitCode).toBe(0);
  expect(leakedSecrets(run, [db.password, keys.identity])).toEqual([]);
}

beforeAll(async () => {
  keys = await ageKeyPair();
  storeDir = tempDir('db-backup-mariadb-physical-');
  db = await startMariaDbInstance();
  db.sql('CREATE DATABASE shop; CREATE TABLE shop.events (id INT PRIMARY KEY, at DATETIME(6) NOT NULL)');
}, 60_000);

afterAll(async () => {
  await db?.stop();
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
});

describe('db-backup method physical on MariaDB (mariadb-backup and binary logs)', () => {
  let fullId = '';
  let incrementId = '';
  let target: Date;

  it('takes a full backup and an incremental on it, archiving the closed binary logs with each', async () => {
    insert(1, 5);
    const full = await physical({ command: 'backup', type: 'full' });
    expectOk(full);
    fullId = full.outputs['backup-id']!;
    expect(fullId).toMatch(/^mariadb-full-/);
    expect(full.summary).toContain('MariaDB full backup taken');

    insert(6, 10);
    const increment = await physical({ command: 'backup', type: 'incremental' });
    expectOk(increment);
    incrementId = increment.outputs['backup-id']!;
    expect(incrementId).toMatch(/^mariadb-incremental-/);
    expect(increment.summary).toContain(fullId);
    expect(readdirSync(join(storeDir, 'physical', 'shop', 'mariadb', 'binlogs')).length).toBeGreaterThan(0);
  }, 120_000);

  it('restores to a time T after the incremental: exactly the rows written before T', async () => {
    insert(11, 15);
    // Binary log events carry whole seconds: T is the next whole second, rows 16–20 come after it.
    target = new Date(Math.floor(Date.now() / 1000) * 1000 + 1000);
    await sleepUntil(target.getTime() + 20);
    insert(16, 20);
    // The hourly backup archives the binary logs that reach past T.
    const later = await physical({ command: 'backup', type: 'incremental' });
    expectOk(later);

    const run = await physical({ command: 'restore', 'target-time': target.toISOString() });
    expectOk(run);
    expect(run.outputs['backup-id']).toBe(incrementId);
    expect(JSON.parse(run.outputs['row-counts']!)).toEqual({ 'shop.events': 15 });
    expect(run.summary).toContain('| shop.events | 15 |');
    expect(run.summary).toContain(`${fullId} → ${incrementId}`);
  }, 150_000);

  it('check reports the newest recoverable point; verify restores the chain and reports the drill', async () => {
    const check = await physical({ command: 'check' });
    expectOk(check);
    expect(check.outputs['newest-id']).toMatch(/^mariadb-incremental-/);
    expect(Number(check.outputs['age-seconds'])).toBeLessThan(600);

    const verify = await physical({ command: 'verify', 'max-rto': '10m' });
    expectOk(verify);
    expect(JSON.parse(verify.outputs['row-counts']!)).toEqual({ 'shop.events': 20 });
    expect(Number(verify.outputs['restore-duration-seconds'])).toBeGreaterThan(0);
    expect(verify.summary).toContain('DR drill');

    const list = await physical({ command: 'list' });
    expectOk(list);
    expect((JSON.parse(list.outputs.backups!) as { id: string }[]).map((b) => b.id).at(-1)).toBe(fullId);
  }, 150_000);

  it('refuses bad inputs, naming them', async () => {
    for (const [inputs, message] of [
      [{ command: 'backup', type: 'incr' }, /Input 'type' must be full or incremental/],
      [{ command: 'restore', 'target-time': '2026-01-01T00:00:00.5Z' }, /Input 'target-time' must be a whole second/],
      [{ command: 'backup', 'pgbackrest-repo': '/var/lib/pgbackrest' }, /Input 'pgbackrest-repo' does not apply/],
    ] as [Record<string, string>, RegExp][]) {
      const run = await physical(inputs);
      expect(run.exitCode).toBe(1);
      expect(failureOf(run)).toMatch(message);
    }
  }, 60_000);

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'a drill cancelled with %s once the copy serves leaves no mariadbd serving it',
    async (signal) => {
      const runnerTemp = tempDir('runner-temp-');
      let signalled = false;
      const run = await runBuiltAction(
        'db-backup',
        {
          'signing-key': TEST_KEYS.signing,
          ...physicalInputs(),
          command: 'verify',
        },
        {
          env: { RUNNER_TEMP: runnerTemp },
          timeoutMs: 120_000,
          onStart: (child) => {
            const poll = setInterval(() => {
              if (serving(runnerTemp)) {
                signalled = true;
                clearInterval(poll);
                child.kill(signal);
              }
            }, 20);
            child.on('close', () => clearInterval(poll));
          },
        },
      );
      try {
        expect(signalled).toBe(true);
        expect(run.exitCode).not.toBe(0);
        const deadline = Date.now() + 5_000;
        while (copies(runnerTemp).length > 0 && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 100));
        expect(copies(runnerTemp)).toEqual([]);
      } finally {
        for (const pid of copies(runnerTemp)) process.kill(pid, 'SIGKILL');
        rmSync(runnerTemp, { recursive: true, force: true });
      }
    },
    150_000,
  );

  it('trusts the newest backup only with its whole chain: a missing full fails check and refuses an incremental', async () => {
    // The full's manifest gone: the increments on it can no longer be restored.
    rmSync(join(storeDir, 'physical', 'shop', 'mariadb', 'backups', `${fullId}.manifest.json`));
    const check = await physical({ command: 'check' });
    expect(check.exitCode).toBe(1);
    expect(failureOf(check)).toMatch(
      new RegExp(
        `The freshness gate failed: the newest backup mariadb-incremental-\\S+ cannot be restored: .*builds on ${fullId}, which is not in the store`,
      ),
    );
    const increment = await physical({ command: 'backup', type: 'incremental' });
    expect(increment.exitCode).toBe(1);
    expect(failureOf(increment)).toMatch(new RegExp(`whose chain is broken: .*${fullId}.*Take type full`));
    expect(increment.outputs['backup-id']).toBeUndefined();
  }, 60_000);
});
