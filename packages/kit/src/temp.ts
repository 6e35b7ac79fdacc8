import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Private temporary folders under RUNNER_TEMP (the runner empties it after the job), never the
 * machine's shared temp folder. Each is removed by its owner when done, and by a SIGINT/SIGTERM
 * handler when the run is cancelled: a cancelled run must not leave a plaintext dump or a
 * password file behind.
 */
export interface TempDir {
  path: string;
  /** Removes the folder and everything in it; safe to call twice. */
  remove(): void;
}

const live = new Set<string>();
const cleanups = new Set<() => void>();
let handlersInstalled = false;

function tempRoot(): string {
  const runnerTemp = process.env.RUNNER_TEMP;
  return runnerTemp !== undefined && runnerTemp !== '' ? runnerTemp : tmpdir();
}

function cleanUpEverything(): void {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // Best effort: the process is going away.
    }
  }
  for (const path of live) rmSync(path, { recursive: true, force: true });
  live.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      cleanUpEverything();
      process.exit(code);
    });
  }
  process.once('exit', cleanUpEverything);
}

/** A new private (0700) folder under RUNNER_TEMP, removed on cancellation if not before. */
export function makeTempDir(prefix: string): TempDir {
  installHandlers();
  const path = mkdtempSync(join(tempRoot(), `${prefix}-`));
  live.add(path);
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      live.delete(path);
    },
  };
}

/**
 * Runs `cleanup` if the run is cancelled (SIGINT/SIGTERM) or exits before the returned function
 * is called; calling it unregisters the cleanup. For what a folder cannot hold: a child process
 * to stop, a scratch object this run created.
 */
export function onCancel(cleanup: () => void): () => void {
  installHandlers();
  cleanups.add(cleanup);
  return () => void cleanups.delete(cleanup);
}
