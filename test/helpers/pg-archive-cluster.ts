import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { archiveCommand, writeConfig, type PgBackRestSettings } from '../../packages/physical/src/index.ts';
import { asPostgres, initPostgresCluster, postgresBin } from './databases.ts';
import { freePort } from './ports.ts';

/**
 * A throwaway PostgreSQL cluster that archives its WAL through pgBackRest: archive_mode=on,
 * archive_command = pgbackrest archive-push with a config of its own (same repository and
 * passphrase), wal_level=replica, fsync=off, a free port and its own socket folder. Run as the
 * postgres OS user; `stop()` removes the cluster, the repository and every file made here.
 */
export interface ArchiveCluster {
  dir: string;
  dataDir: string;
  port: number;
  socketDir: string;
  repoPath: string;
  stanza: string;
  cipherPass: string;
  /** The password of the cluster's superuser, admin. */
  password: string;
  /** Settings for openPgBackRest pointing at this cluster and repository, run as postgres. */
  settings: PgBackRestSettings;
  /** The config archive_command uses. */
  archiveConfigPath: string;
  query: <R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ) => Promise<pg.QueryResult<R>>;
  /** Switches to a new WAL segment and waits (bounded) until the one it closed is archived; returns its name. */
  switchAndWaitArchived: (timeoutMs?: number) => Promise<string>;
  /** Sets archive_command (ALTER SYSTEM + reload); `restoreArchiving()` puts pgBackRest's back. */
  setArchiveCommand: (command: string) => Promise<void>;
  restoreArchiving: () => Promise<void>;
  stop: () => Promise<void>;
}

const OWNER = () => ({
  uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
  gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
});

export async function startArchiveCluster(
  options: { stanza?: string; archiveTimeoutSeconds?: number } = {},
): Promise<ArchiveCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'pgarc-'));
  const owner = OWNER();
  let dataDir = join(dir, 'data');
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const stopServer = () =>
    asPostgres([postgresBin('pg_ctl'), '-D', dataDir, '-m', 'immediate', '-t', '20', 'stop'], 30_000);
  try {
    dataDir = initPostgresCluster(dir, password);
    writeFileSync(
      join(dataDir, 'pg_hba.conf'),
      [
        'local all all trust',
        'host all all 127.0.0.1/32 trust',
        'local replication all trust',
        'host replication all 127.0.0.1/32 trust',
        '',
      ].join('\n'),
    );
    const repoPath = join(dir, 'repo');
    const lockPath = join(dir, 'lock');
    const archiveDir = join(dir, 'archive-conf');
    for (const folder of [repoPath, lockPath, archiveDir]) {
      mkdirSync(folder, { mode: 0o750 });
      chownSync(folder, owner.uid, owner.gid);
    }
    chmodSync(dir, 0o755);
    const stanza = options.stanza ?? `t${randomBytes(3).toString('hex')}`;
    const cipherPass = `repo-${randomBytes(12).toString('base64url')}`;
    const port = await freePort();
    const settings: PgBackRestSettings = {
      stanza,
      repoPath,
      cipherPass,
      retentionFull: 4,
      pgPath: dataDir,
      pgPort: port,
      pgSocketPath: dir,
      pgUser: 'admin',
      runAs: 'postgres',
      lockPath,
      archiveTimeoutSeconds: options.archiveTimeoutSeconds ?? 30,
    };
    const archiveConfig = writeConfig(settings, archiveDir);
    const command = archiveCommand(archiveConfig.path, stanza, '/usr/bin/pgbackrest');
    writeFileSync(
      join(dataDir, 'postgresql.auto.conf'),
      [
        "wal_level = 'replica'",
        "archive_mode = 'on'",
        `archive_command = '${command}'`,
        "listen_addresses = '127.0.0.1'",
        'fsync = off',
        'max_wal_senders = 3',
        // Background workers a restored copy must not start (it turns both off).
        "shared_preload_libraries = 'pg_stat_statements'",
        'max_logical_replication_workers = 4',
        "log_line_prefix = '%m '",
        '',
      ].join('\n'),
    );
    chownSync(join(dataDir, 'postgresql.auto.conf'), owner.uid, owner.gid);
    const start = asPostgres([
      postgresBin('pg_ctl'),
      '-D',
      dataDir,
      '-w',
      '-t',
      '30',
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-p ${port} -k ${dir}`,
      'start',
    ]);
    if (start.status !== 0) throw new Error(`pg_ctl start failed: ${start.stderr}`);

    const query = async <R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []) => {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'admin', database: 'postgres' });
      await client.connect();
      try {
        return await client.query<R>(sql, params);
      } finally {
        await client.end();
      }
    };
    const switchAndWaitArchived = async (timeoutMs = 30_000) => {
      const { rows } = await query<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name');
      const name = rows[0]!.name;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows: status } = await query<{ last: string | null }>(
          'SELECT last_archived_wal AS last FROM pg_stat_archiver',
        );
        const last = status[0]?.last;
        if (last !== null && last !== undefined && /^[0-9A-F]{24}/.test(last) && last.slice(0, 24) >= name) return name;
        if (Date.now() > deadline)
          throw new Error(`WAL segment ${name} was not archived within ${timeoutMs} ms (last ${last})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const setArchiveCommand = async (value: string) => {
      await query(`ALTER SYSTEM SET archive_command = '${value.replace(/'/g, "''")}'`);
      await query('SELECT pg_reload_conf()');
    };
    return {
      dir,
      dataDir,
      port,
      socketDir: dir,
      repoPath,
      stanza,
      cipherPass,
      password,
      settings,
      archiveConfigPath: archiveConfig.path,
      query,
      switchAndWaitArchived,
      setArchiveCommand,
      restoreArchiving: () => setArchiveCommand(command),
      stop: () => {
        stopServer();
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  } catch (error) {
    stopServer();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
