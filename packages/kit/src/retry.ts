import { MAX_DURATION_MS } from './duration.ts';

/** Time and sleep behind an interface so tests can run retries without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      // setTimeout turns a longer delay into 1 ms; refuse rather than wake at once.
      if (!(ms <= MAX_DURATION_MS)) return reject(new RangeError(`cannot wait ${ms} ms: timers hold at most 24 days`));
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(abortReason(signal));
        },
        { once: true },
      );
    }),
};

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** Stop retrying once this many ms have passed since the first attempt. */
  deadlineMs?: number;
  /** First delay; doubles each time up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** 0..1: share of each delay that is randomised ("equal jitter"). */
  jitter?: number;
  /** Whether this failure is worth another attempt; default: every failure. */
  retryable?: (error: unknown) => boolean;
  /** A server-given wait (Retry-After) in ms, preferred over backoff when present. */
  retryAfterMs?: (error: unknown) => number | undefined;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  clock?: Clock;
  random?: () => number;
  signal?: AbortSignal;
}

export class RetryExhaustedError extends Error {
  override name = 'RetryExhaustedError';
  readonly attempts: number;
  readonly lastError: unknown;
  readonly reason: 'attempts' | 'deadline' | 'not-retryable';
  /** For 'deadline': the wait that would have crossed it. */
  readonly refusedDelayMs: number | undefined;
  constructor(
    attempts: number,
    lastError: unknown,
    reason: 'attempts' | 'deadline' | 'not-retryable',
    refusedDelayMs?: number,
  ) {
    super(lastError instanceof Error ? lastError.message : String(lastError), { cause: lastError });
    this.attempts = attempts;
    this.lastError = lastError;
    this.reason = reason;
    this.refusedDelayMs = refusedDelayMs;
  }
}

/** The delay before attempt n+1 (n starting at 1): exponential with equal jitter. */
export function backoffDelay(attempt: number, options: RetryOptions = {}, random = Math.random): number {
  const base = options.baseDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const jitter = options.jitter ?? 0.5;
  const exponential = Math.min(max, base * 2 ** (attempt - 1));
  return Math.round(exponential * (1 - jitter) + exponential * jitter * random());
}

/**
 * Runs fn until it succeeds, a failure is not retryable, attempts run out or the next wait
 * would cross the deadline. Retry-After from the server wins over backoff.
 * Resolves with the value and the number of attempts it took.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<{ value: T; attempts: number }> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const maxAttempts = options.attempts ?? 3;
  const started = clock.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(attempt), attempts: attempt };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (options.retryable && !options.retryable(error)) {
        throw new RetryExhaustedError(attempt, error, 'not-retryable');
      }
      if (attempt >= maxAttempts) throw new RetryExhaustedError(attempt, error, 'attempts');
      const hinted = options.retryAfterMs?.(error);
      const delayMs = hinted ?? backoffDelay(attempt, options, random);
      // A server may ask for any wait (Retry-After: 86400); the caller's deadline wins over it.
      const deadlineMs = Math.min(options.deadlineMs ?? MAX_DURATION_MS, MAX_DURATION_MS);
      if (!(clock.now() + delayMs - started <= deadlineMs)) {
        throw new RetryExhaustedError(attempt, error, 'deadline', delayMs);
      }
      options.onRetry?.({ attempt, delayMs, error });
      await clock.sleep(delayMs, options.signal);
    }
  }
}

/** Parses a Retry-After header (seconds or an HTTP date) into ms from now. */
export function parseRetryAfter(value: string | undefined | null, now = Date.now()): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
