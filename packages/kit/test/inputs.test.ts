import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { Inputs, parseDuration } from '../src/index.ts';
import { inputErrorOf } from '../../../test/helpers/expect-input-error.ts';

const inputsOf = (values: Record<string, string>) => new Inputs((name) => values[name]);

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['30', 30_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['-5s', '5 minutes', 's', '5x', '', '1h-5m'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  it('names the input and shows an example', () => {
    const error = inputErrorOf(() => inputsOf({ timeout: '-5s' }).duration('timeout', '10s'));
    expect(error.input).toBe('timeout');
    expect(error.message).toContain("Input 'timeout' must be a duration");
    expect(error.message).toContain('-5s');
    expect(error.message).toContain('Example: timeout: 10s');
  });
});

describe('booleans are strict', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['False', false],
  ])('%s', (text, value) => expect(inputsOf({ flag: text }).boolean('flag', !value)).toBe(value));

  it.each(['ture', 'yes', '1', 'on'])('rejects %s instead of reading it as false', (text) => {
    expect(inputErrorOf(() => inputsOf({ flag: text }).boolean('flag', false)).message).toMatch(
      /'flag' must be true or false/,
    );
  });

  it('uses the default when empty', () => expect(inputsOf({ flag: '  ' }).boolean('flag', true)).toBe(true));
});

describe('numbers, enums, lists, URLs', () => {
  it('bounds integers', () => {
    const inputs = inputsOf({ n: '0', m: '3.5', k: '7' });
    expect(inputErrorOf(() => inputs.integer('n', 5, { min: 1 })).message).toContain('at least 1');
    expect(inputErrorOf(() => inputs.integer('m', 5)).message).toContain('whole number');
    expect(inputs.integer('k', 5, { min: 1, max: 10 })).toBe(7);
  });

  it('accepts only listed values', () => {
    expect(inputsOf({ mode: 'warn' }).oneOf('mode', ['fail', 'warn'] as const, 'fail')).toBe('warn');
    expect(
      inputErrorOf(() => inputsOf({ mode: 'maybe' }).oneOf('mode', ['fail', 'warn'] as const, 'fail')).message,
    ).toContain('one of fail, warn');
  });

  it('splits lists on newlines and commas', () => {
    expect(inputsOf({ l: 'a, b\nc,,\n d ' }).list('l')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('requires a scheme and hides URL passwords in errors', () => {
    expect(inputErrorOf(() => inputsOf({ u: 'example.com/health' }).url('u')).message).toContain('absolute URL');
    expect(inputErrorOf(() => inputsOf({ u: 'ftp://example.com' }).url('u')).message).toContain('http:// or https://');
    const error = inputErrorOf(() => inputsOf({ u: 'http://user:hunter22@exa mple.com' }).url('u'));
    expect(error.message).not.toContain('hunter22');
  });

  it('fails when a required input is empty', () => {
    expect(inputErrorOf(() => inputsOf({}).required('token', { example: 'token: ${{ secrets.TOKEN }}' })).message).toBe(
      "Input 'token' is required but was empty. Example: token: ${{ secrets.TOKEN }}",
    );
  });
});

describe('structured inputs', () => {
  const schema = z.array(z.strictObject({ name: z.string(), weight: z.number().optional() }));

  it('parses YAML and JSON', () => {
    expect(inputsOf({ s: '- name: a\n  weight: 2' }).structured('s', schema)).toEqual([{ name: 'a', weight: 2 }]);
    expect(inputsOf({ s: '[{"name": "b"}]' }).structured('s', schema)).toEqual([{ name: 'b' }]);
  });

  it('reports invalid YAML', () => {
    expect(inputErrorOf(() => inputsOf({ s: '- name: [a' }).structured('s', schema)).message).toMatch(
      /^Input 's' is not valid YAML/,
    );
  });

  it('reports schema problems with their path', () => {
    const message = inputErrorOf(() => inputsOf({ s: '- name: a\n  colour: red' }).structured('s', schema)).message;
    expect(message).toContain("Input 's' is not valid: at 0: Unrecognized key");
    expect(message).toContain('colour');
  });

  it('reads the document from a file input', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kit-')), 'doc.yml');
    writeFileSync(path, '- name: from-file\n');
    expect(inputsOf({ 's-file': path }).structured('s', schema, { fileInput: 's-file' })).toEqual([
      { name: 'from-file' },
    ]);
    expect(
      inputErrorOf(() => inputsOf({ 's-file': `${path}.missing` }).structured('s', schema, { fileInput: 's-file' }))
        .input,
    ).toBe('s-file');
    expect(
      inputErrorOf(() => inputsOf({ s: '[]', 's-file': path }).structured('s', schema, { fileInput: 's-file' }))
        .message,
    ).toContain('both given');
  });
});
