import { describe, expect, it } from '@jest/globals';
import { InputError, Inputs, MAX_DURATION_MS, parseDuration } from '../src/index.ts';

const inputsOf = (values: Record<string, string>) => new Inputs((name) => values[name] ?? '');

describe('durations a timer cannot hold', () => {
  it.each(['30d', '25d', '600h'])('refuses %s with an error naming the input', (text) => {
    expect(parseDuration(text)).toBeGreaterThan(MAX_DURATION_MS);
    let caught: unknown;
    try {
      inputsOf({ 'ready-timeout': text }).duration('ready-timeout', '60s');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).message).toBe(
      `Input 'ready-timeout' must be at most 24 days (a longer wait cannot be timed), got "${text}". Example: ready-timeout: 60s`,
    );
  });

  it("names the input's own limit when it is tighter than a timer's", () => {
    let caught: unknown;
    try {
      inputsOf({ timeout: '30d' }).duration('timeout', '2m', { maxMs: 30 * 60_000 });
    } catch (error) {
      caught = error;
    }
    expect((caught as InputError).message).toBe(
      `Input 'timeout' must be at most 1800s, got "30d". Example: timeout: 2m`,
    );
  });

  it('accepts the longest wait a timer holds', () => {
    expect(inputsOf({ timeout: '24d' }).duration('timeout', '10s')).toBe(24 * 86_400_000);
  });
});
