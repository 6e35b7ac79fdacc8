/**
 * The longest wait a timer can hold: setTimeout stores its delay in 32 bits and turns anything
 * longer into 1 ms, so a "30d" would fire at once. Inputs above it are refused, not clamped.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/**
 * Parses "90s", "5m", "2h", "1h30m", "250ms" or a bare number of seconds into milliseconds.
 * Returns undefined for anything else (negative values included) so callers can name the input.
 */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(value); match !== null; match = PART.exec(value)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    consumed = PART.lastIndex;
  }
  if (consumed !== value.length) return undefined;
  return Math.round(total);
}

/** Why a parsed duration cannot be used as a wait, or undefined when it can. */
export function durationTooLong(ms: number): string | undefined {
  return ms > MAX_DURATION_MS ? 'must be at most 24 days (a longer wait cannot be timed)' : undefined;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  if (minutes < 60) return `${minutes} min ${seconds} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h${minutes % 60 === 0 ? '' : ` ${minutes % 60} min`}`;
}
