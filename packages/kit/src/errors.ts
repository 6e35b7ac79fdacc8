/**
 * A mistake the user can fix (bad input, unreachable target they named, a failed gate).
 * The error boundary prints its message without a stack trace; anything else is a bug.
 */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** A bad action input: names the input, says what was wrong and shows a valid example. */
export class InputError extends ConfigurationError {
  override name = 'InputError';
  readonly input: string;
  readonly problem: string;
  readonly example: string | undefined;
  constructor(input: string, problem: string, example?: string) {
    super(`Input '${input}' ${problem}${example === undefined ? '' : `. Example: ${example}`}`);
    this.input = input;
    this.problem = problem;
    this.example = example;
  }
}

/** A remote the action talks to failed; the message names the remote and the next step. */
export class RemoteError extends ConfigurationError {
  override name = 'RemoteError';
}

/**
 * An error the operating system or the network raised (it names a syscall, or carries an errno
 * code such as ECONNRESET or EACCES): something outside the action failed, not our code.
 */
export function isSystemError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; syscall?: unknown };
  return e.syscall !== undefined || (typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code));
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return `non-Error thrown: ${JSON.stringify(error)}`;
  } catch {
    return `non-Error thrown: ${String(error)}`;
  }
}

/** A gate decided "no" (a failed check, a missing approval): the step fails, with no stack trace. */
export class GateClosedError extends ConfigurationError {
  override name = 'GateClosedError';
}
