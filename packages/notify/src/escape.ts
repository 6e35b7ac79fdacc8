/**
 * Each channel's own escaping of text a user typed (a PR title, details), so that quotes,
 * newlines, markup and mentions arrive as text: they can neither break a payload (every payload
 * is built as an object and serialised, never by string concatenation) nor ping anyone.
 */

/**
 * Slack mrkdwn: &, < and > are the only control characters Slack asks to escape; escaping them
 * turns `<!channel>`, `<@U123>` and `<https://x|y>` into text. Formatting marks (*, _, ~, `)
 * are kept out of reach by zero-width spaces so a title cannot open bold, code or a quote.
 */
export function slackText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([*_~`])/g, '\u200b$1\u200b');
}

/**
 * GitHub-flavoured Markdown on one line: every character that can start markup is
 * backslash-escaped and HTML cannot open. GitHub still reads `\\#123` as a reference and `&#64;`
 * as a mention, so `@` and `#` are followed by a zero-width space: `@team` and `#123` stay text.
 */
export function markdownText(text: string): string {
  return text
    .replace(/[\\`*_{}[\]()<>+\-!|~&.]/g, (c) => `\\${c}`)
    .replace(/([@#])/g, '$1\u200b')
    .replace(/\r?\n|\r/g, ' ');
}

/** Adaptive Cards' Markdown subset (Teams): its markup characters escaped, newlines kept as spaces. */
export function adaptiveCardText(text: string): string {
  return text.replace(/[\\`*_[\]()~#>-]/g, (c) => `\\${c}`).replace(/\r?\n|\r/g, ' ');
}

export function htmlText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A header line (an email subject): no line breaks, bounded. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/[\r\n\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
