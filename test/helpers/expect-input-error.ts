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

/**
 * The same, in process and in milliseconds: reading the settings throws an InputError naming
 * the input, with an example, and its message holds no secret.
 */
export function expectSettingsInputError(read: () => unknown, input: string, pattern: RegExp, secrets: string[]): void {
  let thrown: unknown;
  try {
    read();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InputError);
  const message = (thrown as InputError).message;
  expect((thrown as InputError).input).toBe(input);
  expect(message).toMatch(new RegExp(`^Input '${input}' `));
  expect(message).toMatch(pattern);
  expect(message).toContain('Example:');
  for (const secret of secrets) expect(message).not.toContain(secret);
}
