import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { escapeUntrusted, redact } from '@deploy-suite/kit';
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
  const maxStdout = options.maxStdoutBytes ?? 64 * 1024 * 1024;
  const out: Buffer[] = [];
  let outBytes = 0;
  let overflow = false;
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    outBytes += chunk.length;
    if (outBytes > maxStdout) {
      overflow = true;
      killGroup(child.pid, 'SIGKILL');
    } else out.push(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-STDERR_TAIL)));
  let killedByUs = false;
  const backstop = setTimeout(
    () => {
      killedByUs = true;
      killGroup(child.pid, 'SIGKILL');
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

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** A tool's stderr made safe for one log line: secrets redacted, control characters escaped, bounded. */
export function toolMessage(stderr: string, maxLength = 2000): string {
  const text = redact(stderr).trim();
  return text === '' ? 'no message' : escapeUntrusted(text, maxLength);
}
