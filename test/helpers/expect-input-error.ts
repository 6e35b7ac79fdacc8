// Kept apart from run-action.ts: that one also serves the demo and benchmarks, outside jest.
import { expect } from '@jest/globals';
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
