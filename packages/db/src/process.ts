import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ConfigurationError, errorMessage, isSystemError, redact } from '@deploy-suite/kit';
import { DumpFailedError } from './engine.ts';

/** Keeps the last part of a stream for error messages, without growing without bound. */
export class TailBuffer {
  private text = '';
  private readonly limit: number;
  constructor(limit = 8192) {
    this.limit = limit;
  }
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  toString(): string {
    return redact(this.text.trim());
  }
}

export interface Spawned {
  child: ChildProcessByStdio<Writable | null, Readable, Readable>;
  stderr: TailBuffer;
  /** Resolves with the exit code; never rejects (a spawn error becomes code -1 and stderr text). */
  exited: Promise<number>;
}

/** Spawns a tool with an argument array (never a shell) and an explicit environment. */
export function spawnTool(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore' },
): Spawned {
  const child = spawn(command, args, {
    env: options.env,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
  const stderr = new TailBuffer();
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<number>((resolve) => {
    child.on('error', (error) => {
      stderr.push(`${error.message}\n`);
      resolve(-1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
  });
  return { child, stderr, exited };
}

/** Runs a tool to completion and returns its stdout. */
export async function runTool(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const spawned = spawnTool(command, args, { env });
  let stdout = '';
  spawned.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await spawned.exited;
  return { code, stdout, stderr: spawned.stderr.toString() };
}

/**
 * A database driver's failure while a dump runs beside it (the server answered with an error, or
 * the session was terminated or lost) as a DumpFailedError saying what was being done. An error
 * that is already clear is kept; anything else is a bug and is returned untouched, stack and all.
 */
export function databaseFailure(error: unknown, doing: string): unknown {
  if (error instanceof ConfigurationError || !isDatabaseError(error)) return error;
  return new DumpFailedError(`${doing} failed: ${redact(errorMessage(error))}`);
}

/** What a database driver raises when the server refused something or the session is gone. */
export function isDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; sqlState?: unknown; severity?: unknown; fatal?: unknown };
  return (
    typeof e.sqlState === 'string' || // mysql2: the server's error
    e.fatal === true || // mysql2: the connection is gone
    (typeof e.severity === 'string' && typeof e.code === 'string') || // pg: the server's error
    isSystemError(error) ||
    // pg: the session ended under a query, or a query was sent to an ended one
    /^(Connection terminated|Client was closed|Client has encountered a connection error)/.test(errorMessage(error))
  );
}

/**
 * Feeds a tool's stdin from `input`. An input that fails — now, or before this was called (a
 * small damaged backup fails its hash check while still buffered) — stops the tool instead of
 * leaving it waiting on a stdin that never ends; the caller then reports `input.errored`.
 */
export function feedTool(input: Readable, stdin: Writable, stop: () => void): void {
  stdin.on('error', () => undefined); // EPIPE when the tool stops early; its exit code tells why
  input.on('error', stop);
  if (input.destroyed || input.errored) {
    stdin.end();
    stop();
    return;
  }
  input.pipe(stdin);
}
