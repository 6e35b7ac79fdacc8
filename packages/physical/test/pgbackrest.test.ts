import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { InputError } from '@deploy-suite/kit';
import {
  ArchiveGapError,
  PgBackRestError,
  PgBackRestMissingError,
  RestoreTargetError,
  WrongPassphraseError,
  openPgBackRest,
  type PgBackRest,
  type RestoredCluster,
} from '../src/index.ts';
import { commandLinesDuring } from '../../../test/helpers/databases.ts';
import { startArchiveCluster, type ArchiveCluster } from '../../../test/helpers/pg-archive-cluster.ts';

// One cluster archiving through pgBackRest for the whole file, the tests in order: the PITR path
// first, then the faults, the archive gap last (it damages the repository on purpose).

let cluster: ArchiveCluster;
let backrest: PgBackRest;
let scratch: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

async function restoredRows(restored: RestoredCluster): Promise<{ batch: string; n: number; at: Date }[]> {
  const client = new pg.Client({ host: '127.0.0.1', port: restored.port, user: 'admin', database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query<{ batch: string; n: number; at: Date }>(
      'SELECT batch, n, at FROM events ORDER BY id',
    );
    return rows;
  } finally {
    await client.end();
  }
}

async function restoredSettings(restored: RestoredCluster): Promise<Record<string, string>> {
  const client = new pg.Client({ host: '127.0.0.1', port: restored.port, user: 'admin', database: 'postgres' });
  await client.connect();
  try {
    const names = [
      'max_logical_replication_workers',
      'shared_preload_libraries',
      'primary_conninfo',
      'archive_mode',
      'listen_addresses',
    ];
    const settings: Record<string, string> = {};
    for (const name of names) {
      const { rows } = await client.query<{ setting: string }>('SELECT current_setting($1) AS setting', [name]);
      settings[name] = rows[0]!.setting;
    }
    return settings;
  } finally {
    await client.end();
  }
}

const newDir = (name: string) => join(scratch, name);

beforeAll(async () => {
  cluster = await startArchiveCluster({ archiveTimeoutSeconds: 5 });
  scratch = mkdtempSync(join(tmpdir(), 'pgr-test-'));
  chmodSync(scratch, 0o755);
  backrest = openPgBackRest(cluster.settings);
  await backrest.stanzaCreate();
  await cluster.query(
    'CREATE TABLE events (id bigserial PRIMARY KEY, batch text NOT NULL, n int NOT NULL, at timestamptz NOT NULL)',
  );
}, 60_000);

afterAll(async () => {
  backrest?.close();
  await cluster?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('pgBackRest on PostgreSQL', () => {
  it('writes a private config with the passphrase only inside it, and check passes', async () => {
    expect(statSync(backrest.config.path).mode & 0o777).toBe(0o600);
    expect(statSync(backrest.config.dir).mode & 0o777).toBe(0o700);
    await backrest.check();
  });

  let timeT: Date;
  it('restores to a time T between backups: every row up to T, none after', async () => {
    await insertBatch('a', 200);
    const full = await backrest.backup({ type: 'full' });
    expect(full.type).toBe('full');
    expect(full.prior).toBeNull();
    await insertBatch('b', 200);
    const incr = await backrest.backup({ type: 'incr' });
    expect(incr.type).toBe('incr');
    expect(incr.prior).toBe(full.label);
    await insertBatch('c', 200);
    timeT = await serverNow();
    await sleep(1100); // the next commit lands in a later second than T
    await insertBatch('d', 200);
    await cluster.switchAndWaitArchived();
    await sleep(1100); // the archived segment's stored second is after the batch after T
    await insertBatch('e', 10);
    await cluster.switchAndWaitArchived();

    const info = await backrest.info();
    expect(info.backups.map((b) => b.label)).toEqual([full.label, incr.label]);
    expect(info.archive.max).toMatch(/^[0-9A-F]{24}$/);
    for (const b of info.backups) {
      expect(b.walStart).toMatch(/^[0-9A-F]{24}$/);
      expect(b.repoSize).toBeGreaterThan(0);
    }

    const restored = await backrest.restore({ target: { time: timeT }, into: newDir('pitr') });
    try {
      expect(restored.backup.label).toBe(incr.label);
      const rows = await restoredRows(restored);
      const { rows: live } = await cluster.query<{ batch: string; n: number; at: Date }>(
        'SELECT batch, n, at FROM events WHERE at <= $1 ORDER BY id',
        [timeT],
      );
      expect(rows.length).toBe(600);
      expect(rows).toEqual(live);
      expect(rows.every((row) => row.at.getTime() <= timeT.getTime())).toBe(true);
      expect(new Set(rows.map((r) => r.batch))).toEqual(new Set(['a', 'b', 'c']));
      // The copy runs no subscription workers, preloaded libraries or replication connection.
      expect(await restoredSettings(restored)).toEqual({
        max_logical_replication_workers: '0',
        shared_preload_libraries: '',
        primary_conninfo: '',
        archive_mode: 'off',
        listen_addresses: '127.0.0.1',
      });
      const { rows: source } = await cluster.query<{ s: string }>(
        "SELECT current_setting('shared_preload_libraries') AS s",
      );
      expect(source[0]!.s).toBe('pg_stat_statements');
    } finally {
      await restored.discard();
    }
    expect(readdirSync(scratch)).not.toContain('pitr');
  }, 120_000);

  it('an incremental restores to the same data as a full taken at the same moment', async () => {
    await insertBatch('f', 300);
    await cluster.query("UPDATE events SET batch = 'a2' WHERE batch = 'a' AND n % 2 = 0");
    await cluster.query("DELETE FROM events WHERE batch = 'b' AND n % 3 = 0");
    // Nothing writes between the two backups.
    const incr = await backrest.backup({ type: 'incr' });
    const full = await backrest.backup({ type: 'full' });
    const fromIncr = await backrest.restore({ target: { backup: incr.label }, into: newDir('incr') });
    let incrRows;
    try {
      incrRows = await restoredRows(fromIncr);
    } finally {
      await fromIncr.discard();
    }
    const fromFull = await backrest.restore({ target: { backup: full.label }, into: newDir('full') });
    try {
      const fullRows = await restoredRows(fromFull);
      expect(incrRows).toEqual(fullRows);
      const { rows: live } = await cluster.query('SELECT batch, n, at FROM events ORDER BY id');
      expect(fullRows).toEqual(live);
    } finally {
      await fromFull.discard();
    }
  }, 120_000);

  it('reports freshness from the archived WAL and verifies clean', async () => {
    const now = new Date();
    const fresh = await backrest.freshness(now);
    const info = await backrest.info();
    expect(fresh.newestLabel).toBe(info.backups.at(-1)!.label);
    expect(fresh.gap).toBeNull();
    expect(fresh.recoverableUntil).not.toBeNull();
    expect(fresh.recoverableUntil!.getTime()).toBeGreaterThanOrEqual(info.backups.at(-1)!.stop.getTime());
    expect(fresh.ageSeconds).toBe(Math.max(0, Math.round((now.getTime() - fresh.recoverableUntil!.getTime()) / 1000)));
    const report = await backrest.verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('starts a copy whose data folder has no postgresql.conf or pg_hba.conf (the Debian layout)', async () => {
    const etc = join(cluster.dir, 'etc');
    mkdirSync(etc);
    const files = ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf'];
    for (const file of files) renameSync(join(cluster.dataDir, file), join(etc, file));
    let full;
    try {
      full = await backrest.backup({ type: 'full' });
    } finally {
      for (const file of files) renameSync(join(etc, file), join(cluster.dataDir, file));
    }
    const restored = await backrest.restore({ target: { backup: full.label }, into: newDir('debian') });
    try {
      for (const file of files) expect(existsSync(join(restored.dataDir, file))).toBe(false);
      const connect = async (password?: string) => {
        const client = new pg.Client({
          host: '127.0.0.1',
          port: restored.port,
          user: 'admin',
          database: 'postgres',
          ...(password === undefined ? {} : { password }),
        });
        await client.connect();
        return client;
      };
      const client = await connect(cluster.password);
      try {
        const { rows } = await client.query<{ rows: string; config: string; hba: string; listen: string }>(
          `SELECT (SELECT count(*) FROM events)::text AS rows, current_setting('config_file') AS config,
                  current_setting('hba_file') AS hba, current_setting('listen_addresses') AS listen`,
        );
        const { rows: live } = await cluster.query<{ n: string }>('SELECT count(*)::text AS n FROM events');
        expect(rows[0]).toEqual({
          rows: live[0]!.n,
          config: join(restored.socketDir, 'postgresql.conf'),
          hba: join(restored.socketDir, 'pg_hba.conf'),
          listen: '127.0.0.1',
        });
      } finally {
        await client.end();
      }
      // Not the source's trust rules: a password is needed on loopback.
      await expect(connect('wrong-password')).rejects.toThrow(/password authentication failed/);
    } finally {
      await restored.discard();
    }
  }, 90_000);

  it('a cancelled run (SIGTERM) stops the restored copy: the port stops answering, no server is left', async () => {
    const label = (await backrest.info()).backups.at(-1)!.label;
    const into = join(cluster.dir, 'cancelled');
    const script = join(cluster.dir, 'restore-then-wait.mjs');
    writeFileSync(
      script,
      [
        'const { openPgBackRest } = await import(process.env.MODULE);',
        'const backrest = openPgBackRest(JSON.parse(process.env.SETTINGS));',
        'const restored = await backrest.restore({ target: { backup: process.env.LABEL }, into: process.env.INTO });',
        'process.stdout.write("READY " + JSON.stringify({ port: restored.port, socketDir: restored.socketDir }) + "\\n");',
        'setInterval(() => {}, 1 << 30);',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [script], {
      env: {
        PATH: process.env.PATH,
        MODULE: join(import.meta.dirname, '../src/index.ts'),
        SETTINGS: JSON.stringify(cluster.settings),
        LABEL: label,
        INTO: into,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      const line = await new Promise<string>((done, fail) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const ready = out.split('\n').find((l) => l.startsWith('READY ') && out.includes(`${l}\n`));
          if (ready !== undefined) done(ready.slice('READY '.length));
        });
        void exited.then((code) => fail(new Error(`the restore script exited ${code}: ${out}`)));
      });
      const { port, socketDir } = JSON.parse(line) as { port: number; socketDir: string };
      const connect = async () => {
        const client = new pg.Client({
          host: '127.0.0.1',
          port,
          user: 'admin',
          password: cluster.password,
          database: 'postgres',
        });
        await client.connect();
        await client.end();
      };
      await connect();
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      await expect(connect()).rejects.toThrow(/ECONNREFUSED/);
      expect(existsSync(socketDir)).toBe(false);
      const servers = readdirSync('/proc')
        .filter((pid) => /^\d+$/.test(pid))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(into);
          } catch {
            return false;
          }
        });
      expect(servers).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      rmSync(into, { recursive: true, force: true });
      rmSync(`${into}.tablespaces`, { recursive: true, force: true });
    }
  }, 90_000);

  it('refuses a target in the future, before the oldest backup or past the archived WAL, before anything is written', async () => {
    const future = backrest.restore({ target: { time: new Date(Date.now() + 3_600_000) }, into: newDir('future') });
    await expect(future).rejects.toThrow(RestoreTargetError);
    await expect(future).rejects.toThrow(/in the future/);
    const oldest = (await backrest.info()).backups[0]!;
    const early = backrest.restore({
      target: { time: new Date(oldest.stop.getTime() - 60_000) },
      into: newDir('early'),
    });
    await expect(early).rejects.toThrow(/before the oldest backup/);
    await expect(early).rejects.toThrow(oldest.label);
    // A time the archive does not reach yet: the row is written but its segment is not archived.
    await insertBatch('unarchived', 1);
    const pending = backrest.restore({ target: { time: await serverNow() }, into: newDir('pending') });
    await expect(pending).rejects.toThrow(/past the newest archived WAL/);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it("the passphrase reaches no command line, pgBackRest's own workers included", async () => {
    const parallel = openPgBackRest({ ...cluster.settings, processMax: 2 });
    try {
      const lines = await commandLinesDuring('pgbackrest', () => parallel.backup({ type: 'incr' }));
      expect(lines.some((line) => line.includes('backup'))).toBe(true);
      expect(lines.join('\n')).not.toContain(cluster.cipherPass);
    } finally {
      parallel.close();
    }
  });

  it('refuses a non-empty folder and the live data folder', async () => {
    const busy = newDir('busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'keep'), 'x');
    await expect(backrest.restore({ target: 'latest', into: busy })).rejects.toThrow(/is not empty/);
    await expect(backrest.restore({ target: 'latest', into: cluster.dataDir })).rejects.toThrow(/live cluster/);
    await expect(backrest.restore({ target: 'latest', into: join(cluster.dataDir, 'x') })).rejects.toThrow(
      /live cluster/,
    );
    expect(readdirSync(busy)).toEqual(['keep']);
    rmSync(busy, { recursive: true });
  });

  it('names an unknown backup type', async () => {
    const error = await backrest.backup({ type: 'weekly' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(/"weekly".*full, diff or incr/);
  });

  it('a wrong passphrase is a clear error, and the passphrase never appears in it', async () => {
    const wrong = openPgBackRest({ ...cluster.settings, cipherPass: 'not-the-passphrase' });
    try {
      const infoError = await wrong.info().catch((e: unknown) => e);
      expect(infoError).toBeInstanceOf(WrongPassphraseError);
      expect((infoError as Error).message).toMatch(/passphrase does not open the repository/);
      const backupError = await wrong.backup({ type: 'incr' }).catch((e: unknown) => e);
      expect(backupError).toBeInstanceOf(WrongPassphraseError);
      for (const e of [infoError, backupError]) {
        expect((e as Error).message).not.toContain('not-the-passphrase');
        expect((e as Error).message).not.toContain(cluster.cipherPass);
      }
    } finally {
      wrong.close();
    }
  });

  it('pgbackrest missing from PATH: a clear error with the install hint', () => {
    const empty = mkdtempSync(join(tmpdir(), 'nopath-'));
    try {
      expect(() => openPgBackRest({ ...cluster.settings, env: { PATH: empty } })).toThrow(PgBackRestMissingError);
      expect(() => openPgBackRest({ ...cluster.settings, env: { PATH: empty } })).toThrow(
        /apt-get install -y pgbackrest/,
      );
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  it('check fails and says so when the archive_command fails', async () => {
    // pgBackRest's own archive-push, pushing to a stanza the repository does not have: it fails
    // on every segment (check refuses an archive_command without pgbackrest before it waits).
    await cluster.setArchiveCommand(
      `/usr/bin/pgbackrest --config=${cluster.archiveConfigPath} --stanza=nosuch archive-push %p`,
    );
    try {
      const error = await backrest.check().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PgBackRestError);
      expect((error as Error).message).toMatch(/WAL archiving does not work/);
      expect((error as Error).message).toMatch(/archive_command/);
      expect((error as Error).message).toMatch(/was not archived before the 5000ms timeout/);
    } finally {
      await cluster.restoreArchiving();
    }
    await cluster.switchAndWaitArchived(60_000);
    await backrest.check();
  }, 90_000);

  it('a gap in the archive: the gap check names the missing segment; a restore past it fails before anything starts', async () => {
    await insertBatch('g1', 50);
    await cluster.switchAndWaitArchived();
    await insertBatch('g2', 50);
    const missing = await cluster.switchAndWaitArchived();
    await insertBatch('g3', 50);
    await cluster.switchAndWaitArchived();
    await sleep(1100);
    await insertBatch('g4', 50);
    await cluster.switchAndWaitArchived();
    const info = await backrest.info();
    const folder = join(cluster.repoPath, 'archive', cluster.stanza, info.archiveId!, missing.slice(0, 16));
    const file = readdirSync(folder).find((name) => name.startsWith(`${missing}-`));
    expect(file).toBeDefined();
    rmSync(join(folder, file!));

    const fresh = await backrest.freshness();
    expect(fresh.gap?.missing).toBe(missing);
    const report = await backrest.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toContain(missing);

    const target = await serverNow();
    await sleep(50);
    for (const restoreTarget of [{ time: new Date(target.getTime() - 500) }, 'latest' as const]) {
      const error = await backrest.restore({ target: restoreTarget, into: newDir('gap') }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArchiveGapError);
      expect((error as ArchiveGapError).missingSegment).toBe(missing);
      expect((error as Error).message).toContain(`segment ${missing} is missing`);
    }
    expect(readdirSync(scratch)).toEqual([]);
  }, 90_000);

  it('a second gap after a later backup: a restore to latest from that backup fails naming it, nothing started', async () => {
    // The first gap (above) lies before this full backup's first WAL segment; the one made here after it.
    const full = await backrest.backup({ type: 'full' });
    await insertBatch('h1', 50);
    await cluster.switchAndWaitArchived();
    await insertBatch('h2', 50);
    const missing = await cluster.switchAndWaitArchived();
    await insertBatch('h3', 50);
    await cluster.switchAndWaitArchived();
    const info = await backrest.info();
    expect(info.backups.at(-1)!.label).toBe(full.label);
    expect(missing > full.walStop!).toBe(true);
    const folder = join(cluster.repoPath, 'archive', cluster.stanza, info.archiveId!, missing.slice(0, 16));
    const file = readdirSync(folder).find((name) => name.startsWith(`${missing}-`));
    rmSync(join(folder, file!));
    const fresh = await backrest.freshness();
    expect(fresh.gap?.missing).not.toBe(missing); // the first gap, counted from the oldest backup, is the earlier one
    expect(fresh.gap!.missing < full.walStart!).toBe(true);

    const error = await backrest.restore({ target: 'latest', into: newDir('gap2') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveGapError);
    expect((error as ArchiveGapError).missingSegment).toBe(missing);
    expect((error as Error).message).toContain(`segment ${missing} is missing`);
    expect(readdirSync(scratch)).toEqual([]);
  }, 90_000);

  it('a tablespace is restored into the folder next to the copy, never to its live location', async () => {
    const live = join(cluster.dir, 'tblspc');
    mkdirSync(live, { mode: 0o700 });
    chownSync(live, statSync(cluster.dataDir).uid, statSync(cluster.dataDir).gid);
    await cluster.query(`CREATE TABLESPACE elsewhere LOCATION '${live}'`);
    await cluster.query('CREATE TABLE placed (n int) TABLESPACE elsewhere');
    await cluster.query('INSERT INTO placed SELECT generate_series(1, 100)');
    const full = await backrest.backup({ type: 'full' });
    const snapshot = () =>
      execFileSync('find', [live, '-printf', '%p %s %T@\\n'], { encoding: 'utf8' }).split('\n').sort().join('\n');
    const before = snapshot();
    const restored = await backrest.restore({ target: { backup: full.label }, into: newDir('tblspc') });
    try {
      expect(restored.tablespaceDir).toBe(`${restored.dataDir}.tablespaces`);
      expect(readdirSync(restored.tablespaceDir!).length).toBeGreaterThan(0);
      const client = new pg.Client({
        host: '127.0.0.1',
        port: restored.port,
        user: 'admin',
        password: cluster.password,
        database: 'postgres',
      });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string; location: string }>(
          "SELECT (SELECT count(*) FROM placed)::text AS n, pg_tablespace_location(oid) AS location FROM pg_tablespace WHERE spcname = 'elsewhere'",
        );
        expect(rows[0]!.n).toBe('100');
        expect(rows[0]!.location.startsWith(`${restored.tablespaceDir!}/`)).toBe(true);
      } finally {
        await client.end();
      }
    } finally {
      await restored.discard();
    }
    expect(snapshot()).toBe(before);
    expect(readdirSync(scratch)).toEqual([]);
  }, 90_000);
});
