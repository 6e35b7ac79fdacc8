import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  /** Writes a private (0600) file in the folder and returns its path: a password, a key. */
  file: (name: string, content: string) => string;
  /** Removes the folder and everything in it; safe to call twice. */
  remove: () => void;
}

const live = new Set<string>();
const cleanups = new Set<() => void>();
let handlersInstalled = false;

function tempRoot(): string {
  const runnerTemp = process.env.RUNNER_TEMP;
  return runnerTemp !== undefined && runnerTemp !== '' ? runnerTemp : tmpdir();
}

function cleanUpEverything(): void {
  // Processes first (a server still running from a folder about to go), then the folders.
  for (const cleanup of [...cleanups]) {
    try {
      cleanup();
    } catch {
      // best effort: the folders must still go
    }
  }
  cleanups.clear();
  for (const path of live) rmSync(path, { recursive: true, force: true });
  live.clear();
}

/**
 * How long cancel hooks may take: the runner sends SIGINT on cancellation, SIGTERM 7.5 s later and
 * then kills the process, so the hooks must be done, and the folders removed, well inside that.
 */
export const CANCEL_BUDGET_MS = 6_000;
const cancelHooks = new Set<() => Promise<void>>();
let cancelling = false;

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      // A second signal (the runner's SIGTERM after its SIGINT) waits for the first to finish.
      if (cancelling) return;
      cancelling = true;
      const hooks = [...cancelHooks].map((hook) => hook().catch(() => undefined));
      if (hooks.length === 0) {
        cleanUpEverything();
        process.exit(code);
      }
      const budget = new Promise((resolve) => setTimeout(resolve, CANCEL_BUDGET_MS).unref());
      void Promise.race([Promise.all(hooks), budget]).finally(() => {
        cleanUpEverything();
        process.exit(code);
      });
    });
  }
  process.once('exit', cleanUpEverything);
}

/**
 * Runs `hook` when the run is cancelled (SIGINT/SIGTERM), and waits for it (at most
 * CANCEL_BUDGET_MS) before the temporary folders go and the process exits: for putting back what
 * a step had half changed, such as traffic moved part-way. Returns a function that unregisters it.
 */
export function onCancel(hook: () => Promise<void>): () => void {
  installHandlers();
  cancelHooks.add(hook);
  return () => {
    cancelHooks.delete(hook);
  };
}

/**
 * Runs `cleanup` (synchronously) when the run is cancelled (SIGINT/SIGTERM) or the process exits,
 * before the temporary folders are removed: for stopping child processes (a restored server, a
 * backup tool) that would otherwise outlive a cancelled job. Returns a function that unregisters it
 * (call it once the child is gone).
 */
export function onCleanup(cleanup: () => void): () => void {
  installHandlers();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** A new private (0700) folder under RUNNER_TEMP, removed on cancellation if not before. */
export function makeTempDir(prefix: string): TempDir {
  installHandlers();
  const path = mkdtempSync(join(tempRoot(), `${prefix}-`));
  live.add(path);
  return {
    path,
    file: (name, content) => {
      const file = join(path, name);
      writeFileSync(file, content, { mode: 0o600 });
      return file;
    },
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      live.delete(path);
    },
  };
}
