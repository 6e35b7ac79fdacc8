import { appendFileSync } from 'node:fs';
import { redact } from './secrets.ts';

/** GitHub rejects step summaries above 1 MiB; stay safely below it. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024 - 4096;

// '>' stays: it is harmless inside a line and keeps thresholds readable ("fail > 0.05").
// Brackets are escaped: a store key or a label value must never become a link or an image.
const escapeMap: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '|': '\\|',
  '\n': ' ',
  '[': '\\[',
  ']': '\\]',
};

/**
 * Escapes text for a Markdown table cell or line. Secrets are redacted first: escaping would
 * otherwise change a secret holding & < or | so that the final redaction no longer finds it.
 */
export function md(text: string | number | boolean): string {
  return redact(String(text)).replace(/[&<|\n[\]]/g, (char) => escapeMap[char] as string);
}

/**
 * Builds a Markdown job summary. The entry point writes it in `finally`, so a failed run
 * still explains itself; it is redacted and capped below GitHub's 1 MiB limit.
 */
export class JobSummary {
  private readonly parts: string[] = [];

  heading(text: string, level = 2): this {
    this.parts.push(`${'#'.repeat(level)} ${md(text)}\n`);
    return this;
  }

  paragraph(text: string): this {
    this.parts.push(`${text}\n`);
    return this;
  }

  table(header: string[], rows: (string | number | boolean)[][]): this {
    const line = (cells: (string | number | boolean)[]): string => `| ${cells.map(md).join(' | ')} |`;
    this.parts.push([line(header), `| ${header.map(() => '---').join(' | ')} |`, ...rows.map(line)].join('\n') + '\n');
    return this;
  }

  details(summary: string, body: string): this {
    this.parts.push(`<details><summary>${md(summary)}</summary>\n\n${body}\n\n</details>\n`);
    return this;
  }

  get isEmpty(): boolean {
    return this.parts.length === 0;
  }

  render(): string {
    const text = redact(this.parts.join('\n'));
    if (Buffer.byteLength(text) <= SUMMARY_LIMIT_BYTES) return text;
    const note =
      '\n\n_Summary truncated: it exceeded the 1 MiB job summary limit. The full report is in the outputs._\n';
    const budget = SUMMARY_LIMIT_BYTES - Buffer.byteLength(note);
    return (
      Buffer.from(text)
        .subarray(0, budget)
        .toString('utf8')
        .replace(/\uFFFD*$/, '') + note
    );
  }

  /** Appends to $GITHUB_STEP_SUMMARY; a no-op outside the runner. */
  write(path = process.env.GITHUB_STEP_SUMMARY): void {
    if (path === undefined || path === '' || this.isEmpty) return;
    appendFileSync(path, this.render() + '\n');
  }
}
