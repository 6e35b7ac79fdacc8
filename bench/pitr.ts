// The physical path's backup speed: pgBackRest full and incremental backups (through our module:
// encrypted repository, gz at pgBackRest's default level) against pg_basebackup of the same
// cluster — a plain copy (-Fp) and a gzip tar (-Ft, client-gzip:6, the closest like-for-like) —
// on a generated table of events (text, JSON and numbers, about 3.5:1 compressible), medians of
// 3 alternating rounds. The table is split into four partitions (as by month); between a full
// and its incremental 1% of rows are appended and 1% of the recent ones updated, all in the newest
// partition. pgBackRest 2.45 copies a changed file whole (block incremental came in 2.46), so the
// incremental copies that partition and its index, and skips the three others. Extra
// columns: the same full and incremental with zst, where pgBackRest has it.
// Usage: pnpm bench pitr [rows]  (default 400000, about 105 MB on disk)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPgBackRest, type PgBackRest } from '../packages/physical/src/index.ts';
import { postgresBin } from '../test/helpers/databases.ts';
import { startArchiveCluster } from '../test/helpers/pg-archive-cluster.ts';
import { median, round } from './stats.ts';

const rows = Number(process.argv[2] ?? 400_000);
const cluster = await startArchiveCluster({ archiveTimeoutSeconds: 120 });
const work = mkdtempSync(join(tmpdir(), 'bench-pitr-'));
let backrest: PgBackRest | undefined;
let zst: PgBackRest | undefined;

function basebackup(target: string, extra: string[]): number {
  const started = performance.now();
  const result = spawnSync(
    postgresBin('pg_basebackup'),
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(cluster.port),
      '-U',
      'admin',
      '-D',
      target,
      '-c',
      'fast',
      '-X',
      'stream',
      '--no-sync',
      ...extra,
    ],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (result.status !== 0) throw new Error(`pg_basebackup failed: ${result.stderr}`);
  const seconds = (performance.now() - started) / 1000;
  rmSync(target, { recursive: true, force: true });
  return seconds;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** An hour of an events table's life: 1% new rows appended, 1% of the recent rows updated. */
async function churn(): Promise<void> {
  const { rows: top } = await cluster.query<{ max: string }>('SELECT max(id)::text AS max FROM events');
  const max = Number(top[0]!.max);
  const step = Math.max(1, Math.floor(rows / 100));
  await cluster.query(
    `INSERT INTO events (at, kind, message, payload, amount)
     SELECT now(), 'order', 'user ' || g || ' did ' || md5(g::text), jsonb_build_object('session', md5(g::text)), g / 7.0
     FROM generate_series(1, $1::int) g`,
    [step],
  );
  await cluster.query(`UPDATE events SET payload = payload || '{"touched": true}', amount = amount + 1 WHERE id > $1`, [
    max - step,
  ]);
  await cluster.switchAndWaitArchived(300_000);
}

try {
  backrest = openPgBackRest(cluster.settings);
  await backrest.stanzaCreate();
  console.log(`generating ${rows} events…`);
  // Partitioned by id into four parts, the way an events table is split by month: the hour's
  // changes touch only the newest part, which is what an incremental should have to copy.
  await cluster.query(
    `CREATE TABLE events (id bigserial, at timestamptz NOT NULL, kind text NOT NULL, message text NOT NULL,
       payload jsonb NOT NULL, amount numeric(12,2) NOT NULL, PRIMARY KEY (id)) PARTITION BY RANGE (id)`,
  );
  const part = Math.ceil(rows / 4);
  for (let i = 0; i < 4; i++) {
    const upper = i === 3 ? 'MAXVALUE' : String(1 + (i + 1) * part);
    await cluster.query(
      `CREATE TABLE events_p${i} PARTITION OF events FOR VALUES FROM (${1 + i * part}) TO (${upper})`,
    );
  }
  for (let done = 0; done < rows; done += 100_000) {
    await cluster.query(
      `INSERT INTO events (at, kind, message, payload, amount)
       SELECT now() - (g || ' seconds')::interval, (ARRAY['order','refund','login','logout','error'])[1 + g % 5],
              'user ' || (g * 7919 % 100003) || ' did ' || md5(g::text) || ' from ' || (g % 255) || '.' || (g * 13 % 255) || '.1.1',
              jsonb_build_object('session', md5((g * 31)::text), 'items', g % 17, 'tags', jsonb_build_array('a' || g % 11, 'b' || g % 7)),
              (g % 100000) / 7.0
       FROM generate_series($1::bigint, $2::bigint) g`,
      [done + 1, Math.min(done + 100_000, rows)],
    );
  }
  await cluster.query('CHECKPOINT');
  await cluster.switchAndWaitArchived(300_000);
  const { rows: size } = await cluster.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
  const databaseMb = Number(size[0]!.bytes) / 1024 / 1024;

  const plain: number[] = [];
  const gzipTar: number[] = [];
  const full: number[] = [];
  const incr: number[] = [];
  // Warm the cache alike for all: one throwaway plain copy first.
  basebackup(join(work, 'warm'), ['-Fp']);
  for (let round = 0; round < 3; round++) {
    plain.push(basebackup(join(work, `plain-${round}`), ['-Fp']));
    gzipTar.push(basebackup(join(work, `tar-${round}`), ['-Ft', '--compress=client-gzip:6']));
    full.push(await timed(() => backrest!.backup({ type: 'full' })));
    await churn();
    incr.push(await timed(() => backrest!.backup({ type: 'incr' })));
    console.log(
      `round ${round + 1}: pg_basebackup plain ${round1(plain)} s, gzip tar ${round1(gzipTar)} s, pgBackRest full ${round1(full)} s, incr ${round1(incr)} s`,
    );
  }
  const info = await backrest.info();
  const lastFull = info.backups.filter((b) => b.type === 'full').at(-1)!;
  const lastIncr = info.backups.filter((b) => b.type === 'incr').at(-1)!;

  let zstFull: number | null = null;
  let zstIncr: number | null = null;
  try {
    zst = openPgBackRest({ ...cluster.settings, compressType: 'zst' });
    zstFull = await timed(() => zst!.backup({ type: 'full' }));
    await churn();
    zstIncr = await timed(() => zst!.backup({ type: 'incr' }));
  } catch (error) {
    console.log(`zst not measured: ${(error as Error).message.slice(0, 200)}`);
  }

  const m = { plain: median(plain), gzipTar: median(gzipTar), full: median(full), incr: median(incr) };
  console.log(
    JSON.stringify({
      name: 'pitr',
      ratio_full_vs_pg_basebackup: round(m.full / m.plain, 3),
      ratio_full_vs_pg_basebackup_gzip: round(m.full / m.gzipTar, 3),
      ratio_incr_vs_pg_basebackup: round(m.incr / m.plain, 3),
      ratio_incr_vs_full: round(m.incr / m.full, 3),
      database_mb: round(databaseMb, 0),
      rows,
      pg_basebackup_plain_s: round(m.plain),
      pg_basebackup_gzip_tar_s: round(m.gzipTar),
      pgbackrest_full_s: round(m.full),
      pgbackrest_incr_s: round(m.incr),
      pgbackrest_full_repo_mb: round(lastFull.repoSize / 1024 / 1024, 1),
      pgbackrest_incr_repo_delta_mb: round(lastIncr.repoDelta / 1024 / 1024, 1),
      pgbackrest_zst_full_s: zstFull === null ? null : round(zstFull),
      pgbackrest_zst_incr_s: zstIncr === null ? null : round(zstIncr),
    }),
  );
} finally {
  zst?.close();
  backrest?.close();
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}

function round1(values: number[]): number {
  return round(values.at(-1)!, 1);
}
