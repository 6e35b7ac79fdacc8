// Migration speed against plain tools, in one run on this machine.
// 1. 500 small migrations on an empty PostgreSQL database: `migrate apply` (the built action)
//    ÷ `psql -f` running the same statements from one file. Goal ≤ 1.5.
// 2. `migrate plan` over 2,000 files with all 2,000 applied ÷ a process that only reads and
//    hashes the same files. Goal < 2.
// 3. `migrate plan` of one 5 MB migration (50,000 INSERTs), in process ÷ reading and hashing that
//    file, and the time to plan it. Splitting and linting must grow linearly with the file: before
//    line numbers were counted incrementally, splitting alone took 149 s (456 s on this machine);
//    now under a second or two.
// 4. How splitting grows: the time for 4× the statements ÷ the time for 1×, for each engine's
//    splitter (linear ≈ 4, quadratic ≈ 16; goal < 8).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../test/helpers/run-action.ts';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { plan } from '../packages/db/src/migrate/index.ts';
import { splitMysql, splitPostgres } from '../packages/db/src/migrate/split.ts';
import { median, round } from './stats.ts';

const PG = { PATH: process.env.PATH ?? '', PGHOST: '127.0.0.1', PGPORT: '5432', PGUSER: 'postgres' };
const psql = (database: string, args: string[]): void => {
  const result = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', database, ...args], {
    env: PG,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(result.stderr);
};
const fresh = (name: string): string => {
  psql('postgres', ['-c', `DROP DATABASE IF EXISTS ${name}`, '-c', `CREATE DATABASE ${name}`]);
  return name;
};

function time(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const result = spawnSync(command, args, { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stdout}\n${result.stderr}`);
  return (performance.now() - started) / 1000;
}

function action(inputs: Record<string, string>): number {
  const dir = mkdtempSync(join(tmpdir(), 'bench-migrate-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, RUNNER_TEMP: dir, GITHUB_OUTPUT: join(dir, 'out') };
  writeFileSync(env.GITHUB_OUTPUT!, '');
  for (const [key, value] of Object.entries(inputs)) env[`INPUT_${key.toUpperCase()}`] = value;
  const seconds = time(process.execPath, [join(repoRoot, 'actions/migrate/dist/index.js')], env);
  rmSync(dir, { recursive: true, force: true });
  return seconds;
}

function folderOf(count: number): { folder: string; all: string } {
  const folder = mkdtempSync(join(tmpdir(), 'bench-migrations-'));
  const statements: string[] = [];
  for (let i = 1; i <= count; i++) {
    const sql = `CREATE TABLE t_${i} (id int PRIMARY KEY, name text);\nINSERT INTO t_${i} VALUES (1, 'row ${i}');\n`;
    writeFileSync(join(folder, `V${i}__table_${i}.sql`), sql);
    statements.push(sql);
  }
  const all = join(folder, '..', `${folder.split('/').pop()}.all.sql`);
  writeFileSync(all, statements.join(''));
  return { folder, all };
}

// 1. apply 500 migrations vs psql -f, 3 runs each, medians.
const small = folderOf(500);
const applyTimes: number[] = [];
const psqlTimes: number[] = [];
for (let i = 0; i < 3; i++) {
  const a = fresh('bench_migrate_psql');
  psqlTimes.push(time('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', a, '-f', small.all], PG));
  const b = fresh('bench_migrate_apply');
  applyTimes.push(
    action({ command: 'apply', folder: small.folder, 'database-url': `postgres://postgres@127.0.0.1:5432/${b}` }),
  );
}
console.log(`apply 500: ${round(median(applyTimes))} s; psql -f: ${round(median(psqlTimes))} s`);

// 2. plan over 2,000 applied files vs reading and hashing them.
const large = folderOf(2000);
const planned = fresh('bench_migrate_plan');
action({ command: 'apply', folder: large.folder, 'database-url': `postgres://postgres@127.0.0.1:5432/${planned}` });
const hashScript = `const fs=require('fs'),c=require('crypto'),p=require('path');const d=process.argv[1];for(const f of fs.readdirSync(d).sort())c.createHash('sha256').update(fs.readFileSync(p.join(d,f))).digest('hex');`;
const planTimes: number[] = [];
const hashTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  hashTimes.push(time(process.execPath, ['-e', hashScript, large.folder], { PATH: process.env.PATH }));
  planTimes.push(
    action({ command: 'plan', folder: large.folder, 'database-url': `postgres://postgres@127.0.0.1:5432/${planned}` }),
  );
}
console.log(
  `plan over 2000 applied: ${round(median(planTimes), 3)} s; read+hash process: ${round(median(hashTimes), 3)} s`,
);
// The same comparison inside one warm process, without Node's start-up on either side.
const planInProcess: number[] = [];
const hashInProcess: number[] = [];
for (let i = 0; i < 9; i++) {
  let started = performance.now();
  for (const file of readdirSync(large.folder).sort())
    createHash('sha256')
      .update(readFileSync(join(large.folder, file)))
      .digest('hex');
  hashInProcess.push((performance.now() - started) / 1000);
  started = performance.now();
  await plan({
    connection: {
      engine: 'postgres',
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      password: undefined,
      database: planned,
    },
    folder: large.folder,
    lockWaitMs: 0,
    appliedBy: 'bench',
  });
  planInProcess.push((performance.now() - started) / 1000);
}
console.log(`in process: plan ${round(median(planInProcess), 3)} s; read+hash ${round(median(hashInProcess), 3)} s`);

// 3. One 5 MB migration, planned (split, checked, linted) against an empty database.
const bigFolder = mkdtempSync(join(tmpdir(), 'bench-big-migration-'));
const inserts: string[] = ['CREATE TABLE events (id int PRIMARY KEY, kind text, body text);'];
for (let i = 0; i < 50_000; i++)
  inserts.push(
    `INSERT INTO events VALUES (${i}, 'kind-${i % 7}', 'payload for row ${i} -- not a comment; padded to 5 MB');`,
  );
const bigFile = join(bigFolder, 'V1__events.sql');
const bigSql = inserts.join('\n') + '\n';
const bigBytes = Buffer.byteLength(bigSql);
const bigDatabase = fresh('bench_migrate_big');
const bigPlan: number[] = [];
const bigHash: number[] = [];
for (let i = 0; i < 3; i++) {
  // A new comment each round: plan caches statements by checksum, and each round must split anew.
  writeFileSync(bigFile, `${bigSql}-- round ${i}\n`);
  let started = performance.now();
  createHash('sha256').update(readFileSync(bigFile)).digest('hex');
  bigHash.push((performance.now() - started) / 1000);
  started = performance.now();
  const result = await plan({
    connection: {
      engine: 'postgres',
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      password: undefined,
      database: bigDatabase,
    },
    folder: bigFolder,
    lockWaitMs: 0,
    appliedBy: 'bench',
  });
  bigPlan.push((performance.now() - started) / 1000);
  if (result.pending.length !== 1) throw new Error('the big migration was not planned');
}
console.log(
  `plan of one ${round(bigBytes / 1e6, 1)} MB migration: ${round(median(bigPlan), 2)} s; read+hash ${round(median(bigHash), 4)} s`,
);
rmSync(bigFolder, { recursive: true, force: true });

// 4. Growth of each splitter with the file: best of three at 1× and at 4× the statements.
const statements = (n: number): string =>
  Array.from({ length: n }, (_, i) => `INSERT INTO t VALUES (${i}, 'row ${i} -- not a comment; x');`).join('\n');
const bestOf = async (work: () => unknown): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return Math.min(...times);
};
await splitPostgres('SELECT 1;'); // the parser loads once
const [pgSmall, pgLarge] = [statements(3000), statements(12000)];
const pgGrowth = (await bestOf(() => splitPostgres(pgLarge))) / (await bestOf(() => splitPostgres(pgSmall)));
const [mySmall, myLarge] = [statements(5000), statements(20000)];
splitMysql(mySmall); // warm up
const myGrowth = (await bestOf(() => splitMysql(myLarge))) / (await bestOf(() => splitMysql(mySmall)));
console.log(`split growth at 4× the statements: PostgreSQL ${round(pgGrowth, 1)}, MySQL ${round(myGrowth, 1)}`);
for (const name of ['bench_migrate_psql', 'bench_migrate_apply', 'bench_migrate_plan', 'bench_migrate_big'])
  psql('postgres', ['-c', `DROP DATABASE IF EXISTS ${name}`]);
console.log(
  JSON.stringify({
    name: 'migrate',
    apply_500_s: round(median(applyTimes)),
    psql_500_s: round(median(psqlTimes)),
    ratio_apply_vs_psql: round(median(applyTimes) / median(psqlTimes), 3),
    plan_2000_s: round(median(planTimes), 3),
    read_hash_2000_s: round(median(hashTimes), 3),
    ratio_plan_vs_read_hash_processes: round(median(planTimes) / median(hashTimes), 3),
    plan_2000_in_process_s: round(median(planInProcess), 4),
    read_hash_2000_in_process_s: round(median(hashInProcess), 4),
    ratio_plan_vs_read_hash_in_process: round(median(planInProcess) / median(hashInProcess), 3),
    plan_5mb_file_s: round(median(bigPlan), 3),
    plan_5mb_file_before_s: 149,
    read_hash_5mb_file_s: round(median(bigHash), 4),
    ratio_plan_5mb_vs_read_hash: round(median(bigPlan) / median(bigHash), 1),
    split_growth_4x_postgres: round(pgGrowth, 2),
    split_growth_4x_mysql: round(myGrowth, 2),
  }),
);
