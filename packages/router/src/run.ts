import { getExecOutput, type ExecOutput } from '@actions/exec';
import { RouterError } from './provider.ts';

export interface RunOptions {
  /** What the command is, for messages ("nginx -t on lb1", "the switch command"). */
  what: string;
  timeoutMs: number;
  input?: string;
  env?: Record<string, string>;
}

/**
 * Runs a program with an argument array through @actions/exec (no shell), under coreutils'
 * `timeout`: at the limit the program is sent TERM, then KILL five seconds later, so a command
 * that hangs is stopped rather than left running behind a step that has moved on.
 */
export function runCommand(command: string, args: string[], options: RunOptions): Promise<ExecOutput> {
  return run((seconds) => ['timeout', ['--kill-after=5', String(seconds), command, ...args]], command, options);
}

/**
 * The same for a command line a person wrote ("./switch.sh --fast"): @actions/exec splits it
 * into arguments by its quoting rules, with no shell, after the `timeout` prefix.
 */
export function runCommandLine(commandLine: string, options: RunOptions): Promise<ExecOutput> {
  if (commandLine.trim() === '') return Promise.reject(new RouterError(`${options.what} is empty`));
  return run((seconds) => [`timeout --kill-after=5 ${seconds} ${commandLine.trim()}`, []], commandLine, options);
}

async function run(
  build: (seconds: number) => [string, string[]],
  command: string,
  options: RunOptions,
): Promise<ExecOutput> {
  const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const [tool, args] = build(seconds);
  let result: ExecOutput;
  try {
    result = await getExecOutput(tool, args, {
      silent: true,
      ignoreReturnCode: true,
      ...(options.input === undefined ? {} : { input: Buffer.from(options.input) }),
      // Always the environment this code sees (a child could otherwise get another process's).
      env: options.env ?? definedEntries(process.env),
    });
  } catch (error) {
    throw new RouterError(`Could not run ${options.what}: ${(error as Error).message}`);
  }
  // timeout exits 124 when it stopped the program, 137 when it had to kill it.
  if (result.exitCode === 124 || result.exitCode === 137) {
    throw new RouterError(`${options.what} did not finish within ${seconds}s and was stopped`);
  }
  if (result.exitCode === 127 && /No such file|not found/i.test(result.stderr)) {
    throw new RouterError(`Could not run ${options.what}: ${command.split(/\s/, 1)[0]} was not found`);
  }
  return result;
}

function definedEntries(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
