import { readFileSync } from 'node:fs';
import { RE2JS } from 're2js';
import {
  decodeUrlPart,
  HttpRedirectError,
  HttpTransportError,
  httpRequest,
  jsonForLog,
  quoteUntrusted,
  redact,
  redactUrl,
  retry,
  RetryExhaustedError,
  type Clock,
  type HttpResponse,
} from '@deploy-suite/kit';
import { readJsonPath } from './json-path.ts';
import { describeStatus, statusRanges, type HttpCheckSpec, type Verdict } from './spec.ts';

/** One HTTP check made ready to run: absolute URL, effective timeout, body text. */
export interface HttpCheck {
  name: string;
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  expect: HttpCheckSpec['expect'];
  /** body-matches compiled by RE2: linear time, so no pattern can stall the event loop. */
  bodyPattern: RE2JS | undefined;
  followRedirects: boolean;
  insecure: boolean;
  ca: string | undefined;
}

export interface AttemptResult {
  ok: boolean;
  /** Why it failed; "" when it passed. */
  reason: string;
  /** "unreachable" when no HTTP answer came (not up yet), "assertion" when one came but was wrong. */
  failure?: 'unreachable' | 'assertion';
  status?: number;
  latencyMs?: number;
  /** Where the answer came from, when redirects led elsewhere (remote text: escape before logging). */
  finalUrl?: string;
}

export interface HttpCheckResult {
  kind: 'http';
  name: string;
  method: string;
  url: string;
  verdict: Verdict;
  attempts: number;
  status?: number;
  latencyMs?: number;
  /** The URL that answered after redirects, when it differs from url; redacted, remote text. */
  finalUrl?: string;
  durationMs: number;
  reason: string;
  soak?: { rounds: number; passed: number; ratio: number };
}

/** Why a URL's user name or password cannot be sent (a `%` not followed by two hex digits), or undefined. */
export function userInfoProblem(url: URL): string | undefined {
  for (const [part, value] of [
    ['user name', url.username],
    ['password', url.password],
  ] as const) {
    if (decodeUrlPart(value) === undefined)
      return `has a ${part} with a "%" that is not followed by two hex digits; write a literal % as %25`;
  }
  return undefined;
}

/** Resolves a spec against the base URL and defaults; throws a plain Error with the reason. */
export function prepareHttpCheck(
  spec: HttpCheckSpec,
  index: number,
  baseUrl: URL | undefined,
  defaultTimeoutMs: number,
): HttpCheck {
  let url: URL;
  const isAbsolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(spec.url);
  if (isAbsolute) {
    url = new URL(spec.url);
  } else if (baseUrl !== undefined) {
    url = new URL(spec.url.replace(/^\//, ''), baseUrl.href.endsWith('/') ? baseUrl : new URL(`${baseUrl.href}/`));
  } else {
    throw new Error(
      `check ${index + 1}: url "${redactUrl(spec.url)}" has no scheme; write https://host/path or set base-url`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`check ${index + 1}: url must use http:// or https://, got "${url.protocol}"`);
  }
  const userInfo = userInfoProblem(url);
  if (userInfo !== undefined) throw new Error(`check ${index + 1}: url ${userInfo}`);
  let ca: string | undefined;
  if (spec['ca-file'] !== undefined) {
    try {
      ca = readFileSync(spec['ca-file'], 'utf8');
    } catch {
      throw new Error(`check ${index + 1}: ca-file "${spec['ca-file']}" cannot be read`);
    }
  }
  const headers = { ...spec.headers };
  let body: string | undefined;
  if (typeof spec.body === 'string') body = spec.body;
  else if (spec.body !== undefined) {
    body = JSON.stringify(spec.body);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
  }
  return {
    name: spec.name ?? `${spec.method} ${url.pathname}`,
    method: spec.method,
    url,
    headers,
    body,
    timeoutMs: spec.timeout ?? defaultTimeoutMs,
    expect: spec.expect,
    bodyPattern:
      spec.expect['body-matches'] === undefined ? undefined : compileBodyPattern(spec.expect['body-matches']),
    followRedirects: spec['follow-redirects'],
    insecure: spec.insecure,
    ca,
  };
}

/** Compares one response with the check's expectations; returns every mismatch. */
export function evaluateResponse(check: HttpCheck, response: HttpResponse): string[] {
  const problems: string[] = [];
  const { expect } = check;
  const ranges = statusRanges(expect.status);
  if (!ranges.some(([low, high]) => response.status >= low && response.status <= high)) {
    problems.push(`status ${response.status}, expected ${describeStatus(ranges)}`);
  }
  const contains = expect['body-contains'] === undefined ? [] : [expect['body-contains']].flat();
  for (const text of contains) {
    if (!response.body.includes(text)) problems.push(`body does not contain "${text}"`);
  }
  if (check.bodyPattern !== undefined && !check.bodyPattern.matcher(response.body).find()) {
    problems.push(`body does not match /${expect['body-matches']}/`);
  }
  if (expect.json !== undefined) {
    let document: unknown;
    try {
      document = JSON.parse(response.body);
    } catch {
      problems.push('body is not JSON');
    }
    if (document !== undefined) {
      for (const [path, wanted] of Object.entries(expect.json)) {
        const found = readJsonPath(document, path);
        if (!found.found) problems.push(`JSON has nothing at ${path}`);
        else if (!sameJson(found.value, wanted)) {
          problems.push(`JSON at ${path} is ${jsonForLog(found.value)}, expected ${JSON.stringify(wanted)}`);
        }
      }
    }
  }
  for (const [name, wanted] of Object.entries(expect.headers ?? {})) {
    const actual = response.headers[name.toLowerCase()];
    if (actual === undefined) problems.push(`header ${name} is missing`);
    else if (!actual.toLowerCase().includes(wanted.toLowerCase()))
      problems.push(`header ${name} is ${quoteUntrusted(actual)}, expected it to contain "${wanted}"`);
  }
  if (expect['max-latency'] !== undefined && response.latencyMs > expect['max-latency']) {
    problems.push(`latency ${Math.round(response.latencyMs)} ms exceeds ${expect['max-latency']} ms`);
  }
  return problems;
}

/**
 * Compiles body-matches with RE2 (re2js): matching time grows linearly with the body, whatever
 * the pattern, so `^(a+)+$` cannot hang the step. Throws RE2's own message for a pattern it
 * cannot run (backreferences, lookaround).
 */
export function compileBodyPattern(source: string): RE2JS {
  return RE2JS.compile(source);
}

function sameJson(actual: unknown, wanted: unknown): boolean {
  return JSON.stringify(actual) === JSON.stringify(wanted);
}

export async function attemptHttpCheck(check: HttpCheck, signal?: AbortSignal): Promise<AttemptResult> {
  let response: HttpResponse;
  try {
    response = await httpRequest({
      method: check.method,
      url: check.url,
      headers: check.headers,
      body: check.body,
      timeoutMs: check.timeoutMs,
      ca: check.ca,
      insecure: check.insecure,
      followRedirects: check.followRedirects,
      signal,
    });
  } catch (error) {
    if (error instanceof HttpRedirectError) {
      // An answer came, and it pointed somewhere this check will not go: waiting will not change it.
      return {
        ok: false,
        reason: redact(`${error.message} (${quoteUntrusted(error.location)})`),
        failure: 'assertion',
      };
    }
    // Anything else is a bug, not a target that is still starting: it must not be retried away.
    if (!(error instanceof HttpTransportError)) throw error;
    return { ok: false, reason: redact(error.message), failure: 'unreachable' };
  }
  const problems = evaluateResponse(check, response);
  return {
    ok: problems.length === 0,
    reason: redact(problems.join('; ')),
    ...(problems.length === 0 ? {} : { failure: 'assertion' as const }),
    status: response.status,
    latencyMs: Math.round(response.latencyMs),
    ...(response.url.href === check.url.href ? {} : { finalUrl: redactUrl(redact(response.url.href)) }),
  };
}

export interface ReadinessOptions {
  /** Keep retrying a failing check until this many ms have passed; 0 means one attempt. */
  readyTimeoutMs: number;
  retryIntervalMs: number;
  clock?: Clock;
  onRetry?: (check: HttpCheck, attempt: number, result: AttemptResult, delayMs: number) => void;
}

class AttemptFailed extends Error {
  readonly result: AttemptResult;
  constructor(result: AttemptResult) {
    super(result.reason);
    this.result = result;
  }
}

/** Runs a check until it passes or the readiness deadline passes, backing off between attempts. */
export async function runHttpCheckUntilReady(check: HttpCheck, options: ReadinessOptions): Promise<HttpCheckResult> {
  const started = performance.now();
  let last: AttemptResult = { ok: false, reason: 'not attempted' };
  let attempts = 0;
  try {
    const outcome = await retry(
      async () => {
        attempts++;
        last = await attemptHttpCheck(check);
        if (!last.ok) throw new AttemptFailed(last);
        return last;
      },
      {
        attempts: options.readyTimeoutMs === 0 ? 1 : Number.MAX_SAFE_INTEGER,
        deadlineMs: options.readyTimeoutMs,
        baseDelayMs: options.retryIntervalMs,
        maxDelayMs: Math.max(options.retryIntervalMs, 10_000),
        jitter: 0.2,
        ...(options.clock ? { clock: options.clock } : {}),
        onRetry: ({ attempt, delayMs }) => options.onRetry?.(check, attempt, last, delayMs),
      },
    );
    last = outcome.value;
  } catch (error) {
    if (!(error instanceof RetryExhaustedError)) throw error;
  }
  const waited = attempts > 1 ? ` after ${attempts} attempts` : '';
  const kind = last.failure === 'unreachable' ? 'unreachable' : 'up but failing';
  return {
    kind: 'http',
    name: check.name,
    method: check.method,
    url: redactUrl(redact(check.url.href)),
    verdict: last.ok ? 'pass' : 'fail',
    attempts,
    ...(last.status === undefined ? {} : { status: last.status }),
    ...(last.latencyMs === undefined ? {} : { latencyMs: last.latencyMs }),
    ...(last.finalUrl === undefined ? {} : { finalUrl: last.finalUrl }),
    durationMs: Math.round(performance.now() - started),
    reason: last.ok ? '' : `${kind}${waited}: ${last.reason}`,
  };
}
