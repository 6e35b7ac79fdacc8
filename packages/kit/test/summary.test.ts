import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, jest } from '@jest/globals';
import { JobSummary, registerSecret, SUMMARY_LIMIT_BYTES } from '../src/index.ts';

describe('job summary', () => {
  it('renders tables with escaped cells', () => {
    const text = new JobSummary()
      .heading('Result')
      .table(['a', 'b'], [['x|y', '<b> > a']])
      .render();
    expect(text).toContain('## Result');
    expect(text).toContain('| x\\|y | &lt;b> > a |');
  });

  it('redacts a secret before escaping it, so a secret holding & < or | never shows', () => {
    const secret = 'p&ss<w|rd-42';
    registerSecret(secret);
    const text = new JobSummary()
      .heading(`token ${secret}`)
      .table(['k'], [[`value ${secret}`]])
      .render();
    expect(text).not.toContain('p&amp;ss');
    expect(text).not.toContain('ss&lt;w');
    expect(text).toContain('value ***');
  });

  it('never lets text from a remote become a link or an image', () => {
    const text = new JobSummary()
      .table(['Manifest'], [['shop/[login](https://evil.example) ![x](https://evil.example/p.png)']])
      .render();
    expect(text).toContain('\\[login\\](https://evil.example) !\\[x\\](https://evil.example/p.png)');
    expect(text).not.toMatch(/(^|[^\\])\[login\]/);
  });

  it('stays below the 1 MiB limit however much is added', () => {
    const summary = new JobSummary();
    for (let i = 0; i < 3000; i++) summary.paragraph('é'.repeat(500));
    const text = summary.render();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES);
    expect(text).toContain('Summary truncated');
    expect(text).not.toContain('\uFFFD');
  });

  it('redacts secrets and appends to the step summary file', () => {
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    registerSecret('summary-secret-value');
    const path = join(mkdtempSync(join(tmpdir(), 'summary-')), 'summary.md');
    new JobSummary().paragraph('token summary-secret-value here').write(path);
    expect(readFileSync(path, 'utf8')).toBe('token *** here\n\n');
  });
});
