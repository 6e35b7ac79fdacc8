import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { redact } from '@deploy-suite/kit';

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
