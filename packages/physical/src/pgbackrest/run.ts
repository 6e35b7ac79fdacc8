import { spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { escapeUntrusted, onCleanup, redact } from '@deploy-suite/kit';
import { PgBackRestMissingError } from './errors.ts';

/** Where a binary is looked for after PATH (runuser lives in sbin, which a runner's PATH may lack). */
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The first executable `name` on `path` (then, when `system`, in the usual system folders), or undefined. */
export function findExecutable(name: string, path: string | undefined, system = false): string | undefined {
  if (isAbsolute(name)) return isExecutable(name) ? name : undefined;
  const dirs = (path ?? '').split(delimiter).filter((dir) => isAbsolute(dir));
  for (const dir of system ? [...dirs, ...SYSTEM_DIRS] : dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The pgbackrest binary on PATH, or a clear error saying how to install it. */
export function findPgBackRest(path: string | undefined, binary = 'pgbackrest'): string {
  const found = findExecutable(binary, path);
  if (found === undefined) {
    throw new PgBackRestMissingError(
      `pgBackRest is not installed: '${binary}' was not found on PATH. Install it on the runner (Debian/Ubuntu: ` +
        `sudo apt-get install -y pgbackrest), or run the job on the database host where it is installed.`,
    );
  }
  return found;
}

export interface RunOptions {
  /** Run as this OS user through `runuser -u <user> --` (the runner must be root); otherwise as ourselves. */
  runAs?: string | undefined;
  /** Hard bound: the tool is sent SIGTERM after this, SIGKILL 10 s later. */
  timeoutSeconds: number;
  /** The complete environment of the child (never the runner's own: PGBACKREST_* variables would steer it). */
  env: NodeJS.ProcessEnv;
  /** The most stdout kept; more is an error (a tool answering far more than expected is not trusted). */
  maxStdoutBytes?: number;
}

export interface RunResult {
  /** The exit code; 124 when the time bound stopped it, -1 when it could not be started. */
  code: number;
  timedOut: boolean;
  stdout: string;
  /** The last 16 KiB of stderr, secrets redacted (not yet escaped). */
  stderr: string;
}

const STDERR_TAIL = 16_384;

/**
 * Runs `command args` with an argument array (never a shell), bounded in time twice: coreutils
 * `timeout` inside (it kills the tool even when runuser sits between us) and our own SIGKILL of
 * the process group 20 s after that, for a tool that ignores both.
 */
export async function runBounded(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  const path = options.env.PATH;
  const argv: string[] = [];
  if (options.runAs !== undefined) {
    const runuser = findExecutable('runuser', path, true);
    if (runuser === undefined)
      throw new Error('runuser (util-linux) was not found; it runs tools as the database OS user');
    argv.push(runuser, '-u', options.runAs, '--');
  }
  const timeoutBin = findExecutable('timeout', path, true);
  if (timeoutBin !== undefined) argv.push(timeoutBin, '--kill-after=10', String(Math.ceil(options.timeoutSeconds)));
  argv.push(command, ...args);
  const [file, ...rest] = argv as [string, ...string[]];
  const startedAt = performance.now();
  const child = spawn(file, rest, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // A cancelled job (SIGINT/SIGTERM) stops the tool too: TERM (pgBackRest releases its locks), then KILL.
  const forget = onCleanup(() => stopTree(child.pid, 2000));
  const maxStdout = options.maxStdoutBytes ?? 64 * 1024 * 1024;
  const out: Buffer[] = [];
  let outBytes = 0;
  let overflow = false;
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    outBytes += chunk.length;
    if (outBytes > maxStdout) {
      overflow = true;
      killTree(child.pid, 'SIGKILL');
    } else out.push(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-STDERR_TAIL)));
  let killedByUs = false;
  const backstop = setTimeout(
    () => {
      killedByUs = true;
      killTree(child.pid, 'SIGKILL');
    },
    (options.timeoutSeconds + 20) * 1000,
  );
  const code = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      err += `\n${error.message}`;
      resolve(-1);
    });
    child.on('close', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : -1)));
  });
  clearTimeout(backstop);
  forget();
  if (overflow) err += `\nstdout exceeded ${maxStdout} bytes and was cut off`;
  // 124: timeout stopped it; 137: timeout's KILL after the grace period (only counted as the
  // time bound when the bound has in fact passed: an out-of-memory kill also exits 137).
  const elapsedSeconds = (performance.now() - startedAt) / 1000;
  const timedOut =
    killedByUs ||
    code === 124 ||
    (timeoutBin !== undefined && code === 137 && elapsedSeconds >= options.timeoutSeconds);
  return {
    code: timedOut ? 124 : overflow ? -1 : code,
    timedOut,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: redact(err.trim()),
  };
}

/**
 * The process groups of `pid` and of every process descending from it (read from /proc).
 * coreutils `timeout` and PostgreSQL's children may sit in groups of their own under runuser, so
 * killing the first group alone would miss them.
 */
export function treeGroups(pid: number): number[] {
  const parents = new Map<number, { ppid: number; pgid: number }>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [pid];
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), { ppid: Number(fields[1]), pgid: Number(fields[2]) });
    } catch {
      // gone meanwhile
    }
  }
  const groups = new Set<number>([pid]);
  const tree = new Set<number>([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [candidate, { ppid, pgid }] of parents) {
      if (!tree.has(candidate) && tree.has(ppid)) {
        tree.add(candidate);
        if (pgid > 1 && pgid !== process.pid) groups.add(pgid);
        grew = true;
      }
    }
  }
  return [...groups];
}

/** Sends `signal` to the process group of `pid` and to those of all its descendants. */
export function killTree(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  for (const group of treeGroups(pid)) {
    try {
      process.kill(-group, signal);
    } catch {
      // already gone
    }
  }
}

/** Waits (blocking: for exit and signal handlers) up to `ms` for `pid` to be gone; true when it is. */
export function waitGone(pid: number, ms: number): boolean {
  const until = Date.now() + ms;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      process.kill(pid, 0);
      // A child of ours that exited stays a zombie until the event loop reaps it: gone all the same.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return true;
    } catch {
      return true;
    }
    if (Date.now() >= until) return false;
    Atomics.wait(cell, 0, 0, 50);
  }
}

/** For a cancelled run: SIGTERM to the whole tree, a bounded wait, then SIGKILL to what is left. */
export function stopTree(pid: number | undefined, graceMs: number): void {
  if (pid === undefined) return;
  const groups = treeGroups(pid);
  for (const group of groups) {
    try {
      process.kill(-group, 'SIGTERM');
    } catch {
      // gone
    }
  }
  waitGone(pid, graceMs);
  for (const group of groups) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** A tool's stderr made safe for one log line: secrets redacted, control characters escaped, bounded. */
export function toolMessage(stderr: string, maxLength = 2000): string {
  const text = redact(stderr).trim();
  return text === '' ? 'no message' : escapeUntrusted(text, maxLength);
}
