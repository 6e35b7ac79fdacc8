import { describe, expect, it } from '@jest/globals';
import { backoffDelay, parseDuration, parseRetryAfter, retry, RetryExhaustedError, systemClock } from '../src/index.ts';
import { fakeClock } from '../../../test/helpers/fake-clock.ts';

const failing = (times: number, error: Error = new Error('boom')) => {
  let calls = 0;
  return () => {
    calls++;
    return calls <= times ? Promise.reject(error) : Promise.resolve(calls);
  };
};

describe('retry', () => {
  it('backs off exponentially with jitter inside its bounds', async () => {
    const clock = fakeClock();
    const { value, attempts } = await retry(failing(3), {
      attempts: 5,
      baseDelayMs: 100,
      jitter: 0.5,
      clock,
      random: () => 1,
    });
    expect(value).toBe(4);
    expect(attempts).toBe(4);
    expect(clock.sleeps).toEqual([100, 200, 400]);
    for (let attempt = 1; attempt < 6; attempt++) {
      const low = backoffDelay(attempt, { baseDelayMs: 100, jitter: 0.5 }, () => 0);
      expect(low).toBe(Math.min(30_000, 100 * 2 ** (attempt - 1)) / 2);
    }
  });

  it('caps each delay', () => {
    expect(backoffDelay(20, { baseDelayMs: 1000, maxDelayMs: 5000, jitter: 0 })).toBe(5000);
  });

  it('prefers the server-given Retry-After', async () => {
    const clock = fakeClock();
    await retry(failing(1, Object.assign(new Error('busy'), { retryAfter: 7000 })), {
      clock,
      baseDelayMs: 10,
      retryAfterMs: (error) => (error as { retryAfter: number }).retryAfter,
    });
    expect(clock.sleeps).toEqual([7000]);
  });

  it('gives up when attempts run out, keeping the last error', async () => {
    const error = await retry(failing(10), { attempts: 3, clock: fakeClock() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect((error as RetryExhaustedError).attempts).toBe(3);
    expect((error as RetryExhaustedError).reason).toBe('attempts');
  });

  it('does not sleep past the deadline', async () => {
    const clock = fakeClock();
    const error = (await retry(failing(100), {
      attempts: 100,
      deadlineMs: 1000,
      baseDelayMs: 300,
      jitter: 0,
      clock,
    }).catch((e: unknown) => e)) as RetryExhaustedError;
    expect(error.reason).toBe('deadline');
    expect(clock.now()).toBeLessThanOrEqual(1000);
    expect(clock.sleeps).toEqual([300, 600]);
  });

  it('stops at once on a failure that is not retryable', async () => {
    const clock = fakeClock();
    const error = (await retry(failing(5), { attempts: 5, clock, retryable: () => false }).catch(
      (e: unknown) => e,
    )) as RetryExhaustedError;
    expect(error.reason).toBe('not-retryable');
    expect(error.attempts).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('refuses a server-given wait that would cross the deadline, without waiting at all', async () => {
    const clock = fakeClock();
    const error = (await retry(failing(5, Object.assign(new Error('busy'), { retryAfter: 120_000 })), {
      attempts: 5,
      deadlineMs: 10_000,
      clock,
      retryAfterMs: (e) => (e as { retryAfter: number }).retryAfter,
    }).catch((e: unknown) => e)) as RetryExhaustedError;
    expect(error.reason).toBe('deadline');
    expect(error.refusedDelayMs).toBe(120_000);
    expect(clock.sleeps).toEqual([]);
  });

  it('never sleeps longer than a timer can hold, even without a deadline', async () => {
    const clock = fakeClock();
    const error = (await retry(failing(5, Object.assign(new Error('busy'), { retryAfter: 30 * 86_400_000 })), {
      attempts: 5,
      clock,
      retryAfterMs: (e) => (e as { retryAfter: number }).retryAfter,
    }).catch((e: unknown) => e)) as RetryExhaustedError;
    expect(error.reason).toBe('deadline');
    expect(clock.sleeps).toEqual([]);
  });
});

describe('long waits', () => {
  it('refuses a sleep past the timer limit instead of waking after 1 ms', async () => {
    await expect(systemClock.sleep(parseDuration('30d')!)).rejects.toThrow(/timers hold at most 24 days/);
  });
});
