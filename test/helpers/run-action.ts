import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  properties: Record<string, string>;
}

export interface ActionRun {
  exitCode: number | null;
  outputs: Record<string, string>;
  summary: string;
  state: Record<string, string>;
  env: Record<string, string>;
  annotations: Annotation[];
  /** Everything the action printed, with the ::add-mask:: commands taken out (the runner consumes them). */
  log: string;
  /** Values the action asked the runner to mask. */
  masks: string[];
  durationMs: number;
}

export interface RunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
  /** Called once the action's process runs: for tests that signal it (a cancelled run). */
  onStart?: (child: ChildProcess) => void;
}

/**
 * Runs a built action the way the runner does: node on actions/<name>/dist/index.js with
 * INPUT_* variables and fresh GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE and GITHUB_ENV files.
 */
export async function runBuiltAction(
  name: string,
  inputs: Record<string, string>,
  options: RunOptions = {},
): Promise<ActionRun> {
  const workdir = mkdtempSync(join(tmpdir(), `action-${name}-`));
  const files = {
    GITHUB_OUTPUT: join(workdir, 'output'),
    GITHUB_STEP_SUMMARY: join(workdir, 'summary'),
    GITHUB_STATE: join(workdir, 'state'),
    GITHUB_ENV: join(workdir, 'env'),
  };
  for (const path of Object.values(files)) writeFileSync(path, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? workdir,
    RUNNER_TEMP: workdir,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/service',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    ...files,
    ...options.env,
  };
  for (const [key, value] of Object.entries(inputs)) env[`INPUT_${key.replace(/ /g, '_').toUpperCase()}`] = value;

  const started = performance.now();
  const child = spawn(process.execPath, [join(repoRoot, 'actions', name, 'dist', 'index.js')], {
    env,
    cwd: options.cwd ?? workdir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onStart?.(child);
  let raw = '';
  child.stdout.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const exitCode = await new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  clearTimeout(timer);
  const durationMs = performance.now() - started;

  const masks: string[] = [];
  const annotations: Annotation[] = [];
  const logLines: string[] = [];
  for (const line of raw.split('\n')) {
    const command = /^::([\w-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (command?.[1] === 'add-mask') {
      masks.push(unescapeData(command[3] ?? ''));
      continue;
    }
    if (command && (command[1] === 'error' || command[1] === 'warning' || command[1] === 'notice')) {
      annotations.push({
        level: command[1],
        message: unescapeData(command[3] ?? ''),
        properties: parseProperties(command[2]),
      });
    }
    logLines.push(line);
  }
  const run: ActionRun = {
    exitCode,
    outputs: parseKeyValueFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    state: parseKeyValueFile(readFileSync(files.GITHUB_STATE, 'utf8')),
    env: parseKeyValueFile(readFileSync(files.GITHUB_ENV, 'utf8')),
    annotations,
    log: logLines.join('\n'),
    masks,
    durationMs,
  };
  rmSync(workdir, { recursive: true, force: true });
  return run;
}

/** Parses the runner's file-command format: name<<DELIMITER, value lines, DELIMITER. */
export function parseKeyValueFile(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, key, delimiter] = heredoc as unknown as [string, string, string];
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] as string);
      result[key] = value.join('\n');
    } else if (line.includes('=')) {
      result[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return result;
}

function unescapeData(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

function parseProperties(text: string | undefined): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0)
      properties[pair.slice(0, at)] = unescapeData(pair.slice(at + 1))
        .replace(/%3A/g, ':')
        .replace(/%2C/g, ',');
  }
  return properties;
}

/** Every place a secret could leak from a run: the log, outputs, summary and any files named. */
export function leakedSecrets(run: ActionRun, secrets: string[], extraFiles: string[] = []): string[] {
  const places = [run.log, JSON.stringify(run.outputs), run.summary, JSON.stringify(run.annotations)];
  for (const file of extraFiles) places.push(readFileSync(file, 'utf8'));
  return secrets.filter((secret) => places.some((text) => text.includes(secret)));
}

/**
 * Why a run failed: its step-failure annotations (those without a title; titled ones belong to
 * checks and lint findings). A run that failed without one — a crash, a kill — is described by its
 * exit code and the end of its log, so no test mistakes it for a clean run.
 */
export function failureOf(run: ActionRun): string {
  const messages = run.annotations
    .filter((a) => a.level === 'error' && a.properties.title === undefined)
    .map((a) => a.message);
  if (messages.length > 0) return messages.join('\n');
  if (run.exitCode === 0) return '';
  return `exited ${run.exitCode ?? 'by a signal'} without an error annotation; log ends:\n${run.log.slice(-2000)}`;
}
