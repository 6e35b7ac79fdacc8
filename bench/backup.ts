// The backup action against the field's own command-line tools doing the same work:
//   action   — actions/db-backup/dist/index.js run the way the runner runs it (INPUT_* variables,
//              GITHUB_OUTPUT), zstd at its default level, encrypted to an age recipient, the
//              manifest signed, into a folder store (so the stored object is read back and hashed)
//   pipeline — `pg_dump -Fc -Z0 | zstd -3 | age -r KEY > file`, three processes joined by pipes
//   bare     — `pg_dump -Fc -Z0 > /dev/null`, the floor: what the dump alone costs
//   pg_dump  — `pg_dump -Fc > file`, pg_dump's own compression
// on two data sets: pgbench (compresses about 50:1) and a generated table of events with text,
// JSON and numbers (compresses about 3.5:1). Rounds alternate the four and medians are taken.
// Goal: action ÷ pipeline ≤ 1.15 on both, and the action's peak RSS under 150 MB at 1 GB (this run
// reports it at the size it ran). CPU is user + system time of the processes on our side (the
// action's node and its pg_dump; pg_dump, zstd and age), the database server excluded; machine
// CPU is the whole machine's over the same time, server and anything else running included.
// A restore through the action against plain `pg_restore` runs once per data set.
//
// Options: --rows=N (events rows, default 350000), --scale=N (pgbench scale, default 7),
// --rounds=N (default 5), --sets=pgbench,events, --no-restore, --dist=FOLDER (another build of the
// action's dist/, for a before/after comparison).
// Each set's last backup is also opened with the age binary (`age -d | zstd -t`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as age from 'age-encryption';
import { repoRoot } from '../test/helpers/run-action.ts';
import { median, round } from './stats.ts';

const options = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, '').split('=');
    return [key!, value ?? 'true'];
  }),
);
const ROWS = Number(options.get('rows') ?? 350_000);
const SCALE = Number(options.get('scale') ?? 7);
const ROUNDS = Number(options.get('rounds') ?? 5);
const SETS = (options.get('sets') ?? 'pgbench,events').split(',');
const RESTORE = !options.has('no-restore');
const DIST = options.get('dist') ?? join(repoRoot, 'actions/db-backup/dist');
for (const [name, value] of [
  ['rows', ROWS],
  ['scale', SCALE],
  ['rounds', ROUNDS],
] as const) {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
}

// Every manifest is signed: the bench holds a key pair like a backup job would.
const SIGNING_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PG = { PATH: process.env.PATH ?? '', PGHOST: '127.0.0.1', PGPORT: '5432', PGUSER: 'postgres' };
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function psql(database: string, sql: string): string {
  const result = spawnSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', sql], {
    env: PG,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim();
}

/** CPU seconds of this process's reaped children (utime + stime of all waited-for descendants). */
function childrenCpu(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ", field 3 is at index 0: cutime and cstime are fields 16 and 17.
  return (Number(fields[13]) + Number(fields[14])) / TICKS;
}

/** CPU seconds the whole machine spent busy (everything but idle and iowait), over all cores. */
function machineCpu(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .split(/\s+/)
    .map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS;
}

interface Measure {
  seconds: number;
  cpu: number;
  machineCpu: number;
}

function exited(child: ChildProcess, name: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${name} failed (${code ?? signal}): ${stderr}`)),
    );
  });
}

/** Runs processes started by `start` and measures wall time and the CPU they used once all are reaped. */
async function measure(start: () => Promise<void>): Promise<Measure> {
  const cpu = childrenCpu();
  const machine = machineCpu();
  const started = performance.now();
  await start();
  return {
    seconds: (performance.now() - started) / 1000,
    cpu: childrenCpu() - cpu,
    machineCpu: machineCpu() - machine,
  };
}

/** `pg_dump <args> > file`, the file opened here and handed over as pg_dump's stdout. */
function dumpTo(database: string, args: string[], file: string): Promise<void> {
  const fd = openSync(file, 'w');
  try {
    const child = spawn('pg_dump', [...args, '-d', database], { env: PG, stdio: ['ignore', fd, 'pipe'] });
    return exited(child, 'pg_dump');
  } finally {
    closeSync(fd);
  }
}

/**
 * `pg_dump -Fc -Z0 | zstd -3 | age -r KEY > file`: each process's stdout is the next one's stdin;
 * our copy of each pipe's end is closed at once, so no byte passes through this process.
 */
function pipelineTo(database: string, recipient: string, file: string): Promise<void> {
  const dump = spawn('pg_dump', ['-Fc', '-Z0', '-d', database], { env: PG, stdio: ['ignore', 'pipe', 'pipe'] });
  const zstd = spawn('zstd', ['-3', '-q', '-c'], { stdio: [dump.stdout, 'pipe', 'pipe'] });
  dump.stdout.destroy();
  const encrypt = spawn('age', ['-r', recipient, '-o', file], { stdio: [zstd.stdout, 'ignore', 'pipe'] });
  zstd.stdout.destroy();
  return Promise.all([exited(dump, 'pg_dump'), exited(zstd, 'zstd'), exited(encrypt, 'age')]).then(() => undefined);
}

/** `age -d -i IDENTITY object | zstd -t`: the action's stored object opens with the age and zstd binaries. */
function opensWithAgeBinary(object: string, identityFile: string): Promise<void> {
  const decrypt = spawn('age', ['-d', '-i', identityFile, object], { stdio: ['ignore', 'pipe', 'pipe'] });
  const test = spawn('zstd', ['-t', '-q'], { stdio: [decrypt.stdout, 'ignore', 'pipe'] });
  decrypt.stdout.destroy();
  return Promise.all([exited(decrypt, 'age -d'), exited(test, 'zstd -t')]).then(() => undefined);
}

function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const match of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[match[1]!] = match[3]!;
  return outputs;
}

/** Runs the built action the way the runner does and samples its peak RSS (VmHWM) until it exits. */
async function runAction(
  inputs: Record<string, string>,
): Promise<Measure & { peakRssMb: number; outputs: Record<string, string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-action-'));
  const outputFile = join(dir, 'output');
  writeFileSync(outputFile, '');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, RUNNER_TEMP: dir, GITHUB_OUTPUT: outputFile };
  for (const [key, value] of Object.entries({ 'signing-key': SIGNING_KEY, ...inputs }))
    env[`INPUT_${key.toUpperCase()}`] = value;
  let peakKb = 0;
  const measured = await measure(() => {
    const child = spawn(process.execPath, [join(DIST, 'index.js')], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const sample = (): void => {
      try {
        const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
      } catch {
        // exited between samples
      }
    };
    const timer = setInterval(sample, 25);
    return exited(child, `db-backup ${inputs.command}`)
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\n${readFileSync(outputFile, 'utf8')}`);
      })
      .finally(() => clearInterval(timer));
  });
  const outputs = parseOutputs(readFileSync(outputFile, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  return { ...measured, peakRssMb: round(peakKb / 1024, 1), outputs };
}

function databaseExists(name: string): boolean {
  return psql('postgres', `SELECT count(*) FROM pg_database WHERE datname = '${name}'`) === '1';
}

function ensurePgbench(scale: number): string {
  const name = `bench_backup_pgbench_s${scale}`;
  const ready =
    databaseExists(name) &&
    psql(name, "SELECT count(*) FROM pg_tables WHERE tablename = 'pgbench_accounts'") === '1' &&
    Number(psql(name, 'SELECT count(*) FROM pgbench_accounts')) === scale * 100_000;
  if (!ready) {
    console.log(`creating ${name} with pgbench -i -s ${scale}…`);
    psql('postgres', `DROP DATABASE IF EXISTS ${name}`);
    psql('postgres', `CREATE DATABASE ${name}`);
    const result = spawnSync('pgbench', ['-i', '-q', '-s', String(scale), name], { env: PG, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`pgbench failed: ${result.stderr}`);
  }
  return name;
}

// The generated events: 9 columns of timestamps, ids, a UUID, money, a float, a message with a
// random reference and a JSON payload; about 310 bytes a row in the dump, zstd -3 about 3.5:1.
// The seed makes every run's data the same; the comment marks the generator's version.
const EVENTS_VERSION = 'events v1';
const EVENTS_SQL = (rows: number): string => `
SELECT setseed(0.42);
CREATE TABLE events (
  id bigint PRIMARY KEY, occurred_at timestamptz NOT NULL, kind text NOT NULL, user_id integer NOT NULL,
  session uuid NOT NULL, amount numeric(12,2), latency_ms double precision, message text NOT NULL,
  payload jsonb NOT NULL);
INSERT INTO events
SELECT g,
  timestamptz '2026-01-01' + g * interval '37 milliseconds' + (random() * 1000) * interval '1 millisecond',
  (ARRAY['page_view','click','signup','purchase','refund','login','logout','search','error'])[1 + floor(random() * 9)::int],
  floor(random() * 200000)::int,
  md5(g::text || random()::text)::uuid,
  CASE WHEN random() < 0.3 THEN round((random() * 500)::numeric, 2) END,
  random() * 250,
  (ARRAY['user opened the dashboard','payment accepted by provider','search returned no results',
         'session expired after inactivity','item added to cart','password reset requested'])[1 + floor(random() * 6)::int]
    || ' ref=' || substr(md5(random()::text), 1, 12),
  jsonb_build_object(
    'path', '/app/' || (ARRAY['home','cart','checkout','account','search','orders'])[1 + floor(random() * 6)::int]
      || '/' || floor(random() * 5000)::int,
    'ua', (ARRAY['Mozilla/5.0 (X11; Linux x86_64)','Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1)',
                 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)'])[1 + floor(random() * 3)::int],
    'ip', floor(random() * 256)::int || '.' || floor(random() * 256)::int || '.' || floor(random() * 256)::int
      || '.' || floor(random() * 256)::int,
    'status', (ARRAY[200,200,200,201,302,404,500])[1 + floor(random() * 7)::int],
    'tags', jsonb_build_array('t' || floor(random() * 50)::int, 't' || floor(random() * 50)::int),
    'score', round(random()::numeric, 4))
FROM generate_series(1, ${rows}) AS g;
COMMENT ON TABLE events IS '${EVENTS_VERSION}';
VACUUM ANALYZE events;`;

function ensureEvents(rows: number): string {
  const name = `bench_backup_events_${rows}`;
  const ready =
    databaseExists(name) &&
    psql(name, "SELECT coalesce(obj_description('events'::regclass), '')") === EVENTS_VERSION &&
    Number(psql(name, 'SELECT count(*) FROM events')) === rows;
  if (!ready) {
    console.log(`creating ${name}: ${rows} generated events…`);
    psql('postgres', `DROP DATABASE IF EXISTS ${name}`);
    psql('postgres', `CREATE DATABASE ${name}`);
    const result = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', name], {
      env: PG,
      input: EVENTS_SQL(rows),
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`generating events failed: ${result.stderr}`);
  }
  return name;
}

const mb = (bytes: number): number => round(bytes / 1024 / 1024, 1);
const stat = (runs: Measure[]): { s: number; cpu_s: number; machine_cpu_s: number } => ({
  s: round(median(runs.map((r) => r.seconds))),
  cpu_s: round(median(runs.map((r) => r.cpu))),
  machine_cpu_s: round(median(runs.map((r) => r.machineCpu))),
});

const identity = await age.generateIdentity();
const recipient = await age.identityToRecipient(identity);
const results: Record<string, Record<string, unknown>> = {};
const ratios: Record<string, number> = {};
console.log(
  `backup bench: sets ${SETS.join(', ')}; pgbench scale ${SCALE}, events ${ROWS} rows; ${ROUNDS} rounds; action from ${DIST}; ` +
    `the RSS goal is stated at 1 GB, these sets are smaller (sizes below)`,
);
for (const set of SETS) {
  const database = set === 'pgbench' ? ensurePgbench(SCALE) : set === 'events' ? ensureEvents(ROWS) : undefined;
  if (database === undefined) throw new Error(`unknown set ${set}: pgbench or events`);
  const databaseBytes = Number(psql(database, `SELECT pg_database_size('${database}')`));
  const work = mkdtempSync(join(tmpdir(), 'bench-backup-'));
  const files = { pipeline: join(work, 'pipeline.dump.zst.age'), custom: join(work, 'custom.dump') };
  // Warm the cache alike for all: one throwaway bare dump first. Then rounds in a rotating order.
  await dumpTo(database, ['-Fc', '-Z0'], '/dev/null');
  const runs = { action: [] as Measure[], pipeline: [] as Measure[], bare: [] as Measure[], pg_dump: [] as Measure[] };
  const peaks: number[] = [];
  let storedBytes = 0;

  let backupId = '';
  const store = join(work, 'store');
  const methods: Record<keyof typeof runs, () => Promise<Measure>> = {
    action: async () => {
      const run = await runAction({
        command: 'backup',
        'database-url': `postgres://postgres@127.0.0.1:5432/${database}`,
        store,
        recipients: recipient,
      });
      peaks.push(run.peakRssMb);
      storedBytes = Number(run.outputs['size-bytes']);
      backupId = run.outputs['backup-id'] ?? '';
      return run;
    },
    pipeline: () => measure(() => pipelineTo(database, recipient, files.pipeline)),
    bare: () => measure(() => dumpTo(database, ['-Fc', '-Z0'], '/dev/null')),
    pg_dump: () => measure(() => dumpTo(database, ['-Fc'], files.custom)),
  };
  const order = Object.keys(methods) as (keyof typeof runs)[];
  for (let i = 0; i < ROUNDS; i++) {
    for (let j = 0; j < order.length; j++) {
      const method = order[(i + j) % order.length]!;
      runs[method].push(await methods[method]());
    }
  }
  // The size of the plain dump, for the compression ratio (not timed).
  const plainFile = join(work, 'plain.dump');
  await dumpTo(database, ['-Fc', '-Z0'], plainFile);
  const plainBytes = statSync(plainFile).size;
  rmSync(plainFile);

  const identityFile = join(work, 'identity.txt');
  writeFileSync(identityFile, `${identity}\n`, { mode: 0o600 });
  const object = readdirSync(store, { recursive: true, encoding: 'utf8' }).find(
    (path) => path.includes(backupId) && path.endsWith('.age'),
  );
  if (object === undefined) throw new Error(`no .age object for ${backupId} in ${store}`);
  await opensWithAgeBinary(join(store, object), identityFile);

  const perRound = runs.action.map((a, i) => a.seconds / runs.pipeline[i]!.seconds);
  const figures: Record<string, unknown> = {
    database_mb: mb(databaseBytes),
    rows: set === 'events' ? ROWS : SCALE * 100_000,
    dump_mb: mb(plainBytes),
    action_stored_mb: mb(storedBytes),
    pipeline_stored_mb: mb(statSync(files.pipeline).size),
    pg_dump_file_mb: mb(statSync(files.custom).size),
    compression_ratio: round(plainBytes / statSync(files.pipeline).size, 2),
    action: stat(runs.action),
    pipeline: stat(runs.pipeline),
    bare_stream: stat(runs.bare),
    pg_dump_fc: stat(runs.pg_dump),
    ratio_vs_pipeline: round(
      median(runs.action.map((r) => r.seconds)) / median(runs.pipeline.map((r) => r.seconds)),
      3,
    ),
    ratio_vs_pipeline_per_round: { min: round(Math.min(...perRound), 3), max: round(Math.max(...perRound), 3) },
    cpu_ratio_vs_pipeline: round(median(runs.action.map((r) => r.cpu)) / median(runs.pipeline.map((r) => r.cpu)), 3),
    ratio_vs_pg_dump_fc: round(
      median(runs.action.map((r) => r.seconds)) / median(runs.pg_dump.map((r) => r.seconds)),
      3,
    ),
    action_peak_rss_mb: Math.max(...peaks),
    action_object_opens_with_age_binary: true,
  };

  if (RESTORE) {
    const restoreTarget = `${database}_restore`;
    psql('postgres', `DROP DATABASE IF EXISTS ${restoreTarget}`);
    psql('postgres', `CREATE DATABASE ${restoreTarget}`);
    const baseline = await measure(async () => {
      const child = spawn(
        'pg_restore',
        ['--exit-on-error', '--single-transaction', '--no-owner', '-d', restoreTarget, files.custom],
        { env: PG, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      await exited(child, 'pg_restore');
    });
    psql('postgres', `DROP DATABASE ${restoreTarget}`);
    const restore = await runAction({
      command: 'restore',
      'database-url': `postgres://postgres@127.0.0.1:5432/${database}`,
      store,
      identity,
      'backup-id': backupId,
      'target-database': restoreTarget,
    });
    psql('postgres', `DROP DATABASE ${restoreTarget}`);
    Object.assign(figures, {
      pg_restore_s: round(baseline.seconds),
      restore_s: round(restore.seconds),
      restore_peak_rss_mb: restore.peakRssMb,
      ratio_vs_pg_restore: round(restore.seconds / baseline.seconds, 3),
    });
  }
  results[set] = figures;
  ratios[set] = figures.ratio_vs_pipeline as number;
  const line = (name: string, m: { s: number; cpu_s: number; machine_cpu_s: number }): string =>
    `  ${name.padEnd(34)} ${m.s.toFixed(2).padStart(7)} s   cpu ${m.cpu_s.toFixed(2).padStart(6)} s   machine cpu ${m.machine_cpu_s.toFixed(2).padStart(6)} s`;
  console.log(
    [
      `${set}: ${figures.rows as number} rows, database ${figures.database_mb as number} MB, dump ${figures.dump_mb as number} MB, ` +
        `zstd -3 ${figures.compression_ratio as number}:1; medians of ${ROUNDS} rounds`,
      line('action (db-backup, age, signed)', figures.action as never),
      line('pg_dump -Fc -Z0 | zstd -3 | age', figures.pipeline as never),
      line('pg_dump -Fc -Z0 > /dev/null', figures.bare_stream as never),
      line('pg_dump -Fc', figures.pg_dump_fc as never),
      `  action ÷ pipeline ${figures.ratio_vs_pipeline as number} (per round ${perRound.map((r) => r.toFixed(2)).join(', ')}; goal ≤ 1.15), ` +
        `CPU ${figures.cpu_ratio_vs_pipeline as number}×; action peak RSS ${figures.action_peak_rss_mb as number} MB ` +
        `with a ${figures.dump_mb as number} MB dump (the goal, < 150 MB, is at 1 GB)`,
      ...(RESTORE
        ? [
            `  restore ${figures.restore_s as number} s vs pg_restore ${figures.pg_restore_s as number} s ` +
              `(${figures.ratio_vs_pg_restore as number}×), restore peak RSS ${figures.restore_peak_rss_mb as number} MB`,
          ]
        : []),
    ].join('\n'),
  );
  rmSync(work, { recursive: true, force: true });
}
console.log(
  JSON.stringify({
    name: 'backup',
    goal: { ratio_vs_pipeline: 1.15, peak_rss_mb_at_1GB: 150 },
    ratio_vs_pipeline: ratios,
    peak_rss_mb: Object.fromEntries(
      Object.entries(results).map(([set, r]) => [`${set}_${r.dump_mb as number}MB_dump`, r.action_peak_rss_mb]),
    ),
    rounds: ROUNDS,
    sets: results,
  }),
);
