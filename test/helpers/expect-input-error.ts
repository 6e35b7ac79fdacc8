// Kept apart from run-action.ts: that one also serves the demo and benchmarks, outside jest.
import { expect } from '@jest/globals';
import { InputError } from '../../packages/kit/src/index.ts';
import { failureOf, leakedSecrets, type ActionRun } from './run-action.ts';

/**
 * What every bad-input case must show: the step failed, its error names the input and shows a
 * valid example, and no secret reached any output.
 */
export function expectInputError(run: ActionRun, input: string, pattern: RegExp, secrets: string[]): void {
  const message = failureOf(run);
  expect(run.exitCode).toBe(1);
  expect(message).toMatch(new RegExp(`^Input '${input}' `));
  expect(message).toMatch(pattern);
  expect(message).toContain('Example:');
  expect(leakedSecrets(run, secrets)).toEqual([]);
}

/** The InputError a call throws; anything else it throws, or nothing, fails the test. */
export function inputErrorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError, and nothing was thrown');
}

/**
 * The same, in process and in milliseconds: reading the settings throws an InputError naming
 * the input, with an example, and its message holds no secret.
 */
export function expectSettingsInputError(read: () => unknown, input: string, pattern: RegExp, secrets: string[]): void {
  const thrown = inputErrorOf(read);
  const message = thrown.message;
  expect(thrown.input).toBe(input);
  expect(message).toMatch(new RegExp(`^Input '${input}' `));
  expect(message).toMatch(pattern);
  expect(message).toContain('Example:');
  for (const secret of secrets) expect(message).not.toContain(secret);
}
