/**
 * Text read back from a remote (a label value, a response body, a store key, a tool's stderr)
 * made safe for one log line: control characters are escaped, so a newline cannot start a
 * workflow command (`::add-mask::`, `::stop-commands::`, a forged `::error::`), and the length
 * is bounded. The result is quoted, so it can never begin a line with `::` either.
 */
export function quoteUntrusted(text: string, maxLength = 200): string {
  return escapeLineSeparators(JSON.stringify(cut(text, maxLength)));
}

/**
 * The same without quotes, for text embedded after a prefix of our own (a tool's stderr):
 * every line break and control character becomes visible, and `::` cannot open a line.
 */
export function escapeUntrusted(text: string, maxLength = 4000): string {
  return quoteUntrusted(text, maxLength).slice(1, -1);
}

/**
 * A remote JSON value (a field of a response body) as JSON text for one log line: JSON already
 * escapes control characters; the line separators it leaves are escaped too, the length bounded.
 */
export function jsonForLog(value: unknown, maxLength = 200): string {
  return escapeLineSeparators(cut(JSON.stringify(value) ?? 'undefined', maxLength));
}

const cut = (text: string, maxLength: number): string =>
  text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;

const escapeLineSeparators = (json: string): string =>
  json.replace(/[\u2028\u2029\u0085]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
