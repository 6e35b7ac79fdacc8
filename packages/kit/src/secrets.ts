import * as core from '@actions/core';

/** Every value masked so far, its derived forms included, for redacting our own files. */
const known = new Set<string>();

/** Shorter values would mask ordinary words; the runner ignores them too. */
const MIN_LENGTH = 3;

function mask(value: string): void {
  if (value.length < MIN_LENGTH || known.has(value)) return;
  known.add(value);
  core.setSecret(value);
}

/**
 * Masks a secret and the forms it takes on its way out: Base64 (also of "user:secret" pairs,
 * as in Basic auth), URL-encoding, and each line of a multi-line value. Call before first use.
 */
export function registerSecret(value: string): void {
  for (const form of derivedForms(value)) mask(form);
}

export function derivedForms(value: string): string[] {
  const forms = new Set<string>([value, ...value.split(/\r?\n/).map((line) => line.trim())]);
  for (const form of [...forms]) {
    forms.add(Buffer.from(form).toString('base64'));
    forms.add(Buffer.from(form).toString('base64url'));
    forms.add(encodeURIComponent(form));
  }
  return [...forms].filter((form) => form.length >= MIN_LENGTH);
}

/**
 * Masks the credential inside an HTTP header value: "Bearer abc" masks "abc"; "Basic <b64>"
 * masks the Base64 and the decoded "user:password" and password; anything else whole.
 */
export function registerHeaderSecret(value: string): void {
  registerSecret(value);
  const match = /^(\w+)\s+(.+)$/.exec(value.trim());
  if (!match) return;
  const [, scheme, credential] = match as unknown as [string, string, string];
  registerSecret(credential);
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(credential, 'base64').toString('utf8');
    registerSecret(decoded);
    const password = decoded.slice(decoded.indexOf(':') + 1);
    if (decoded.includes(':')) registerSecret(password);
  }
}

/**
 * Masks the password (and user info) of a URL that carries credentials. Never throws: a password
 * with a stray `%` ("p%zz") cannot be percent-decoded, so only its written form is masked and the
 * caller's validation reports the input.
 */
export function registerUrlSecret(url: URL): void {
  if (url.password !== '') {
    registerSecret(url.password);
    const decoded = decodeUrlPart(url.password);
    if (decoded !== undefined) registerSecret(decoded);
    registerSecret(url.href);
  }
}

/** A percent-encoded URL part decoded, or undefined when it cannot be (a `%` not followed by two hex digits). */
export function decodeUrlPart(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Header names whose values are credentials. */
export function isSensitiveHeader(name: string): boolean {
  return /^(authorization|proxy-authorization|cookie|set-cookie)$|token|secret|key|password|auth|session|signature/i.test(
    name,
  );
}

/** Replaces every masked value in text with ***, longest first, for files the runner does not mask. */
export function redact(text: string): string {
  let result = text;
  for (const value of [...known].sort((a, b) => b.length - a.length)) {
    if (result.includes(value)) result = result.split(value).join('***');
  }
  return result;
}

/** For tests: forget registered secrets. */
export function resetSecretsForTests(): void {
  known.clear();
}
