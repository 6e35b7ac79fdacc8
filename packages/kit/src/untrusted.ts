/**
 * Text read back from a remote (a label value, a response body, a store key, a tool's stderr)
 * made safe for one log line: control characters are escaped, so a newline cannot start a
 * workflow command (`::add-mask::`, `::stop-commands::`, a forged `::error::`), and the length
 * is bounded. The result is quoted, so it can never begin a line with `::` either.
 */
export function quoteUntrusted(text: string, maxLength = 200): string {
  const cut = text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
  return JSON.stringify(cut).replace(
    /[\u2028\u2029\u0085]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * The same without quotes, for text embedded after a prefix of our own (a tool's stderr):
 * every line break and control character becomes visible, and `::` cannot open a line.
 */
export function escapeUntrusted(text: string, maxLength = 4000): string {
  return quoteUntrusted(text, maxLength).slice(1, -1);
}
