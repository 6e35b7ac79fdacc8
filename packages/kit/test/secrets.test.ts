import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  derivedForms,
  isSensitiveHeader,
  redact,
  registerHeaderSecret,
  registerSecret,
  registerUrlSecret,
  resetSecretsForTests,
} from '../src/index.ts';

describe('secret masking', () => {
  let written: string[];
  beforeEach(() => {
    resetSecretsForTests();
    written = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
  });

  const masked = () => written.filter((line) => line.startsWith('::add-mask::')).map((line) => line.slice(12).trim());

  it('masks the value and its Base64 and URL-encoded forms', () => {
    registerSecret('p@ss w/rd');
    expect(masked()).toEqual(
      expect.arrayContaining([
        'p@ss w/rd',
        Buffer.from('p@ss w/rd').toString('base64'),
        encodeURIComponent('p@ss w/rd').replace(/%/g, '%25'),
      ]),
    );
    expect(redact(`x ${Buffer.from('p@ss w/rd').toString('base64')} y`)).toBe('x *** y');
  });

  it('masks each line of a multi-line secret', () => {
    expect(derivedForms('line-one\nline-two')).toEqual(expect.arrayContaining(['line-one', 'line-two']));
  });

  it('masks the credential, the decoded pair and the password inside a Basic header', () => {
    const header = `Basic ${Buffer.from('deployer:s3cr3t!').toString('base64')}`;
    registerHeaderSecret(header);
    const text = redact(`a ${header} b deployer:s3cr3t! c s3cr3t! d`);
    expect(text).not.toContain('s3cr3t!');
    expect(text).not.toContain(Buffer.from('deployer:s3cr3t!').toString('base64'));
  });

  it('masks a bearer token on its own', () => {
    registerHeaderSecret('Bearer tok_123456');
    expect(redact('token=tok_123456')).toBe('token=***');
  });

  it('knows which headers carry credentials', () => {
    for (const name of ['Authorization', 'x-api-key', 'Cookie', 'X-Auth-Token', 'private-token'])
      expect(isSensitiveHeader(name)).toBe(true);
    for (const name of ['Accept', 'Content-Type', 'User-Agent']) expect(isSensitiveHeader(name)).toBe(false);
  });
});

describe('URL secrets', () => {
  beforeEach(() => {
    resetSecretsForTests();
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });

  it('masks a password with a stray % instead of throwing URIError', () => {
    expect(() => registerUrlSecret(new URL('http://deployer:p%zz-secret@db.example.com/'))).not.toThrow();
    expect(redact('auth p%zz-secret')).toBe('auth ***');
  });

  it('masks the decoded password too when it decodes', () => {
    registerUrlSecret(new URL('http://deployer:p%40ss-word@db.example.com/'));
    expect(redact('p@ss-word and p%40ss-word')).toBe('*** and ***');
  });
});
