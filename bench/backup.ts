// Backup and restore against plain pg_dump / pg_restore, on pgbench databases of about 100 MB and
// 1 GB made for the purpose (kept between runs). Figures: backup time ÷ `pg_dump -Fc > file`
// (goal ≤ 1.10 at the default zstd level), restore time ÷ plain `pg_restore` (goal ≤ 1.10), and the
// peak RSS of the action process at both sizes (goal: flat, under 150 MB).
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as age from 'age-encryption';
import { repoRoot } from '../test/helpers/run-action.ts';
import { median, round } from './stats.ts';

// Every manifest is signed: the bench holds a key pair like a backup job would.
const SIGNING_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PG = { PATH: process.env.PATH ?? '', PGHOST: '127.0.0.1', PGPORT: '5432', PGUSER: 'postgres' };
const sizes = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['100MB', '1GB'];
const SCALE: Record<string, number> = { '100MB': 7, '1GB': 70 };

function psql(database: string, sql: string): string {
  const result = spawnSync('psql', ['-X', '-At', '-d', database, '-c', sql], { env: PG, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim();
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv, stdoutFile?: string): number {
  const started = performance.now();
  const result = spawnSync('bash', ['-c', `"$0" "$@"${stdoutFile ? ` > '${stdoutFile}'` : ''}`, command, ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr.toString()}`);
  return (performance.now() - started) / 1000;
}

/** Runs the built action and samples its peak RSS (VmHWM) until it exits. */
async function runAction(
  inputs: Record<string, string>,
): Promise<{ seconds: number; peakRssMb: number; outputs: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-action-'));
  const outputFile = join(dir, 'output');
  writeFileSync(outputFile, '');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, RUNNER_TEMP: dir, GITHUB_OUTPUT: outputFile };
  for (const [key, value] of Object.entries({ 'signing-key': SIGNING_KEY, ...inputs }))
    env[`INPUT_${key.toUpperCase()}`] = value;
  const started = performance.now();
  const child = spawn(process.execPath, [join(repoRoot, 'actions/db-backup/dist/index.js')], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let peakKb = 0;
  const sample = (): void => {
    try {
      const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    } catch {
      // exited between samples
    }
  };
  const timer = setInterval(sample, 50);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  const outputs = readFileSync(outputFile, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`db-backup failed (${code}): ${stderr}\n${outputs}`);
  return { seconds, peakRssMb: round(peakKb / 1024, 1), outputs };
}

function ensureDatabase(size: string): string {
  const name = `bench_backup_${size.toLowerCase()}`;
  const scale = SCALE[size]!;
  const exists = psql('postgres', `SELECT count(*) FROM pg_database WHERE datname = '${name}'`) === '1';
  if (
    !exists ||
    psql(name, "SELECT count(*) FROM pg_tables WHERE tablename = 'pgbench_accounts'") !== '1' ||
    Number(psql(name, 'SELECT count(*) FROM pgbench_accounts')) !== scale * 100_000
  ) {
    console.log(`creating ${name} with pgbench -i -s ${scale}…`);
    psql('postgres', `DROP DATABASE IF EXISTS ${name}`);
    psql('postgres', `CREATE DATABASE ${name}`);
    timed('pgbench', ['-i', '-q', '-s', String(scale), name], PG);
  }
  return name;
}

const identity = await age.generateIdentity();
const recipient = await age.identityToRecipient(identity);
const results: Record<string, Record<string, number>> = {};
for (const size of sizes) {
  const database = ensureDatabase(size);
  const databaseBytes = Number(psql(database, `SELECT pg_database_size('${database}')`));
  const work = mkdtempSync(join(tmpdir(), 'bench-backup-'));
  const baselineFile = join(work, 'baseline.dump');
  // Warm the cache alike for both: one throwaway plain dump first. Then alternate, 3 runs each,
  // and take medians: single runs on a shared 2-core machine drift by 10-15%.
  timed('pg_dump', ['-Fc', '-d', database], PG, '/dev/null');
  const store = join(work, 'store');
  const dumpTimes: number[] = [];
  const backups: Awaited<ReturnType<typeof runAction>>[] = [];
  for (let i = 0; i < 3; i++) {
    dumpTimes.push(timed('pg_dump', ['-Fc', '-d', database], PG, baselineFile));
    backups.push(
      await runAction({
        command: 'backup',
        'database-url': `postgres://postgres@127.0.0.1:5432/${database}`,
        store,
        recipients: recipient,
      }),
    );
  }
  const baselineDump = median(dumpTimes);
  const backup = {
    seconds: median(backups.map((b) => b.seconds)),
    peakRssMb: Math.max(...backups.map((b) => b.peakRssMb)),
    outputs: backups[0]!.outputs,
  };
  const backupId = /backup-id<<(\S+)\n(.+)\n/.exec(backup.outputs)?.[2] ?? '';

  const restoreTarget = `${database}_restore`;
  psql('postgres', `DROP DATABASE IF EXISTS ${restoreTarget}`);
  psql('postgres', `CREATE DATABASE ${restoreTarget}`);
  const baselineRestore = timed(
    'pg_restore',
    ['--exit-on-error', '--single-transaction', '--no-owner', '-d', restoreTarget, baselineFile],
    PG,
  );
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

  results[size] = {
    database_mb: round(databaseBytes / 1024 / 1024, 0),
    pg_dump_s: round(baselineDump, 2),
    pg_dump_file_mb: round(statSync(baselineFile).size / 1024 / 1024, 1),
    backup_s: round(backup.seconds, 2),
    backup_peak_rss_mb: backup.peakRssMb,
    pg_restore_s: round(baselineRestore, 2),
    restore_s: round(restore.seconds, 2),
    restore_peak_rss_mb: restore.peakRssMb,
  };
  console.log(size, JSON.stringify(results[size]));
  rmSync(work, { recursive: true, force: true });
}
const largest = results[sizes.at(-1)!]!;
console.log(
  JSON.stringify({
    name: 'backup',
    ratio_vs_pg_dump: round(largest.backup_s! / largest.pg_dump_s!, 3),
    ratio_vs_pg_restore: round(largest.restore_s! / largest.pg_restore_s!, 3),
    peak_rss_mb: Object.fromEntries(
      Object.entries(results).map(([size, r]) => [size, Math.max(r.backup_peak_rss_mb!, r.restore_peak_rss_mb!)]),
    ),
    sizes: results,
  }),
);
