import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ConfigurationError, escapeUntrusted, makeTempDir, onCleanup, redact } from '@deploy-suite/kit';

/** The MariaDB programs the physical path runs, each found on PATH unless given a path. */
export type MariaDbToolName = 'mariadb-backup' | 'mariadb-binlog' | 'mariadb' | 'mariadbd' | 'tar';
export type MariaDbTools = Partial<Record<MariaDbToolName, string>>;

/** How to install each program on the Debian/Ubuntu images runners use. */
const INSTALL: Record<MariaDbToolName, string> = {
  'mariadb-backup': 'sudo apt-get install mariadb-backup',
  'mariadb-binlog': 'sudo apt-get install mariadb-client',
  mariadb: 'sudo apt-get install mariadb-client',
  mariadbd: 'sudo apt-get install mariadb-server',
  tar: 'sudo apt-get install tar',
};

/** A tool failed, timed out or is missing: expected, reported without a stack. */
export class MariaDbToolError extends ConfigurationError {
  override name = 'MariaDbToolError';
}

/** A program is not installed (or not where it was said to be). */
export class MissingToolError extends MariaDbToolError {
  override name = 'MissingToolError';
}

/**
 * The path of each program, checked before anything starts: a missing one is one clear error
 * naming it and how to install it, never a spawn ENOENT halfway through a restore.
 */
export function resolveTools(names: MariaDbToolName[], tools: MariaDbTools = {}): Record<MariaDbToolName, string> {
  const resolved = {} as Record<MariaDbToolName, string>;
  // mariadbd lives in sbin, which a runner's PATH may lack.
  const searchPath = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'].filter(
    (dir) => dir !== '',
  );
  for (const name of names) {
    const given = tools[name];
    const candidates = given !== undefined ? [given] : searchPath.map((dir) => join(dir, name));
    const found = candidates.find((path) => isAbsolute(path) && executable(path));
    if (found === undefined) {
      throw new MissingToolError(
        given !== undefined
          ? `${name} was not found at ${given} (or is not executable). Install it with \`${INSTALL[name]}\`, or give its path.`
          : `${name} is not installed (not found on PATH or in /usr/sbin). Install it with \`${INSTALL[name]}\`.`,
      );
    }
    resolved[name] = found;
  }
  return resolved;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Keeps the end of a tool's stderr, bounded, for error messages. */
class Tail {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-8192);
  }
  /** Masked secrets removed, control characters escaped: safe for one log line. */
  toString(): string {
    return escapeUntrusted(redact(this.text.trim()), 2000);
  }
}

export interface RunningTool {
  child: ChildProcess;
  stdout: Readable;
  stdin: Writable | null;
  /** Resolves when the tool exited with 0; rejects with a clear error naming it otherwise. */
  done: Promise<void>;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Spawns a program as the leader of its own process group (detached) and registers the group with
 * the kit's cleanup (`onCleanup`): a cancelled job (SIGINT/SIGTERM) or an exit kills it before the
 * temporary folders go, so no throwaway mariadbd keeps serving a copy of production data on
 * loopback and no mariadb-backup keeps running after the run.
 */
export function spawnTracked(path: string, args: string[], options: Omit<SpawnOptions, 'detached'>): ChildProcess {
  const child = spawn(path, args, { ...options, detached: true });
  if (child.pid !== undefined) {
    const unregister = onCleanup(() => killGroup(child, 'SIGKILL'));
    child.once('exit', unregister);
  }
  return child;
}

/**
 * Starts a tool with an argument array (never a shell) and an explicit environment, bounded by
 * `timeoutMs`: past it the tool is stopped (SIGTERM, then SIGKILL) and `done` rejects.
 */
export function startTool(
  path: string,
  args: string[],
  options: { what: string; timeoutMs: number; stdin?: 'pipe' | 'ignore'; env?: NodeJS.ProcessEnv },
): RunningTool {
  const child = spawnTracked(path, args, {
    env: options.env ?? { PATH: process.env.PATH, LANG: 'C.UTF-8', TZ: 'UTC' },
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  const stderr = new Tail();
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  let timedOut = false;
  let killer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGTERM');
    killer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
  }, options.timeoutMs);
  const done = new Promise<void>((resolve, reject) => {
    let spawnError: Error | undefined;
    child.on('error', (error) => (spawnError = error));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      if (code === 0 && !timedOut) return resolve();
      const why = timedOut
        ? `did not finish within ${Math.round(options.timeoutMs / 1000)} s and was stopped`
        : spawnError !== undefined
          ? `could not be started (${spawnError.message})`
          : `failed (${code !== null ? `exit ${code}` : `signal ${signal ?? 'unknown'}`})`;
      const text = stderr.toString();
      reject(new MariaDbToolError(`${options.what} ${why}${text === '' ? '.' : `: ${text}`}`));
    });
  });
  // A caller that only awaits `done` later must not see an unhandled rejection meanwhile.
  done.catch(() => undefined);
  return { child, stdout: child.stdout!, stdin: child.stdin, done };
}

/** Runs a tool to completion and returns its stdout (bounded to `maxBytes`). */
export async function runTool(
  path: string,
  args: string[],
  options: { what: string; timeoutMs: number; maxBytes?: number; env?: NodeJS.ProcessEnv },
): Promise<string> {
  const running = startTool(path, args, options);
  const limit = options.maxBytes ?? 1024 * 1024;
  const chunks: Buffer[] = [];
  let total = 0;
  running.stdout.on('data', (chunk: Buffer) => {
    total += chunk.length;
    if (total > limit) {
      running.child.kill('SIGKILL');
      return;
    }
    chunks.push(chunk);
  });
  try {
    await running.done;
  } catch (error) {
    if (total > limit) throw new MariaDbToolError(`${options.what} printed more than ${limit} bytes; stopped.`);
    throw error;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** How to reach a MariaDB server: its socket, or host and port; the password is a secret. */
export interface MariaDbAccess {
  socket?: string;
  host?: string;
  port?: number;
  user: string;
  password?: string;
}

/** Option-file value in double quotes; backslash escapes are interpreted by the client. */
function optionValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * A private (0600) option file under RUNNER_TEMP with the credentials, for
 * `--defaults-extra-file`: the password never reaches argv or the environment. mariadb-backup
 * reads [client] and [mariadb-backup] groups, the clients [client].
 */
export function writeOptionFile(access: MariaDbAccess): { path: string; remove: () => void } {
  const folder = makeTempDir('mariadb-options');
  try {
    const lines = ['[client]', `user=${optionValue(access.user)}`];
    if (access.socket !== undefined) lines.push(`socket=${optionValue(access.socket)}`);
    if (access.host !== undefined) lines.push(`host=${optionValue(access.host)}`);
    if (access.port !== undefined) lines.push(`port=${access.port}`);
    if (access.password !== undefined) lines.push(`password=${optionValue(access.password)}`);
    return { path: folder.file('client.cnf', lines.join('\n') + '\n'), remove: () => folder.remove() };
  } catch (error) {
    folder.remove();
    throw error;
  }
}

/**
 * Runs SQL through the `mariadb` client in batch mode and returns the rows as arrays of
 * tab-separated fields. What comes back is untrusted: callers validate every field they use.
 */
export async function querySql(
  mariadb: string,
  access: MariaDbAccess,
  sql: string,
  options: { what: string; timeoutMs: number },
): Promise<string[][]> {
  const file = writeOptionFile(access);
  try {
    const out = await runTool(
      mariadb,
      [`--defaults-extra-file=${file.path}`, '--batch', '--skip-column-names', '--execute', sql],
      options,
    );
    return out
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t'));
  } finally {
    file.remove();
  }
}

/** For manifests and logs: where the server was reached, never the credentials. */
export function describeAccess(access: MariaDbAccess): string {
  const where = access.socket ?? `${access.host ?? 'localhost'}:${access.port ?? 3306}`;
  return `${access.user}@${where}`.slice(0, 600);
}
