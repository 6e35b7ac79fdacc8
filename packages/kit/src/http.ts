import http from 'node:http';
import https from 'node:https';
import { isSensitiveHeader } from './secrets.ts';
import { escapeUntrusted } from './untrusted.ts';

export interface HttpRequest {
  method?: string;
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  /** Abort the whole exchange (connect, send, receive, every redirect hop) after this many ms. */
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM), e.g. a self-signed staging certificate; for the first origin only. */
  ca?: string;
  /** Skip TLS verification, for the first origin only. Callers warn when they set it. */
  insecure?: boolean;
  /** Bodies are cut beyond this size so a huge page cannot exhaust memory. */
  maxBodyBytes?: number;
  followRedirects?: boolean;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Time to the last byte, in ms. */
  latencyMs: number;
  /** True when the body was cut at maxBodyBytes. */
  truncated: boolean;
  /** The URL that answered, after redirects. */
  url: URL;
  /** Redirects followed to get there. */
  redirects: number;
}

/** A transport failure (refused, reset, DNS, TLS, timeout) — no HTTP status was received. */
export class HttpTransportError extends Error {
  override name = 'HttpTransportError';
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/**
 * A redirect this client will not follow: to another scheme than http(s), or from https down
 * to plain http (where anything sent, and the answer judged, could be read or forged on the way).
 */
export class HttpRedirectError extends Error {
  override name = 'HttpRedirectError';
  readonly location: string;
  constructor(message: string, location: string) {
    super(message);
    this.location = location;
  }
}

const agents = {
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
};

const MAX_REDIRECTS = 10;

/**
 * One HTTP exchange with node:http(s): a measured latency, a hard timeout over every hop, optional
 * extra CA, bounded body. No retries here; callers decide what is retryable.
 *
 * Redirects (when asked for) are followed the way browsers protect credentials: a hop to another
 * origin gets no credential headers (Authorization, cookies, API keys), nor the extra CA or the
 * relaxed TLS meant for the first origin; https never downgrades to http.
 */
export async function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const started = performance.now();
  const origin = request.url.origin;
  let hop: HttpRequest = request;
  for (let redirects = 0; ; redirects++) {
    const remainingMs = request.timeoutMs - (performance.now() - started);
    if (remainingMs <= 0) throw timeoutError(request.timeoutMs, redirects);
    const response = await exchange(hop, started, remainingMs, request.timeoutMs, redirects);
    const location = response.headers['location'];
    if (!request.followRedirects || !location || response.status < 300 || response.status >= 400) return response;
    if (redirects >= MAX_REDIRECTS) return response;
    let next: URL;
    try {
      next = new URL(location, hop.url);
    } catch {
      throw new HttpRedirectError(`redirect to a Location that is not a URL`, location);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new HttpRedirectError(`refused a redirect to a ${next.protocol} URL`, next.href);
    }
    if (hop.url.protocol === 'https:' && next.protocol === 'http:') {
      throw new HttpRedirectError('refused a redirect from https down to plain http', next.href);
    }
    hop = nextHop(request, hop, next, response.status, origin);
  }
}

/** The request for the next hop: credentials and custom trust only on the first origin. */
function nextHop(first: HttpRequest, hop: HttpRequest, next: URL, status: number, origin: string): HttpRequest {
  const sameOrigin = next.origin === origin;
  // 303, and 301/302 after a POST, become a GET without a body, as every browser does.
  const toGet = status === 303 || ((status === 301 || status === 302) && (hop.method ?? 'GET') === 'POST');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(first.headers ?? {})) {
    if (!sameOrigin && isSensitiveHeader(name)) continue;
    if (toGet && /^content-/i.test(name)) continue;
    headers[name] = value;
  }
  const result: HttpRequest = {
    ...hop,
    url: next,
    headers,
    ...(toGet ? { method: (hop.method ?? 'GET') === 'HEAD' ? 'HEAD' : 'GET', body: undefined } : {}),
  };
  if (sameOrigin) return { ...result, ca: first.ca, insecure: first.insecure };
  delete result.ca;
  delete result.insecure;
  return result;
}

function timeoutError(timeoutMs: number, redirects: number): HttpTransportError {
  const hops = redirects > 0 ? ` (across ${redirects} redirect${redirects === 1 ? '' : 's'})` : '';
  return new HttpTransportError(`no complete response within ${timeoutMs} ms${hops}`, 'TIMEOUT');
}

function exchange(
  request: HttpRequest,
  started: number,
  remainingMs: number,
  totalMs: number,
  redirects: number,
): Promise<HttpResponse> {
  const { url } = request;
  const secure = url.protocol === 'https:';
  const maxBody = request.maxBodyBytes ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      method: request.method ?? 'GET',
      headers: { 'user-agent': 'deploy-suite', ...request.headers },
      signal: request.signal,
    };
    if (secure && (request.ca !== undefined || request.insecure)) {
      // A dedicated agent so the relaxed or extended trust never leaks into other requests.
      options.agent = new https.Agent({ ca: request.ca, rejectUnauthorized: !request.insecure });
    } else {
      options.agent = secure ? agents.https : agents.http;
    }
    const req = (secure ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      res.on('data', (chunk: Buffer) => {
        if (size >= maxBody) {
          truncated = true;
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        clearTimeout(timer);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({
          status: res.statusCode ?? 0,
          headers,
          body: Buffer.concat(chunks).subarray(0, maxBody).toString('utf8'),
          latencyMs: performance.now() - started,
          truncated: truncated || size > maxBody,
          url,
          redirects,
        });
      });
      res.on('error', (error) => fail(error));
    });
    const timer = setTimeout(() => req.destroy(timeoutError(totalMs, redirects)), remainingMs);
    const fail = (error: Error & { code?: string }): void => {
      clearTimeout(timer);
      if (error instanceof HttpTransportError) return reject(error);
      reject(new HttpTransportError(describeTransportError(error), error.code ?? 'ERROR'));
    };
    req.on('error', fail);
    req.end(request.body);
  });
}

function describeTransportError(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing is listening there yet)';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name did not resolve';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `TLS certificate not trusted (${error.code}); give its CA with 'ca-file' or, for a test endpoint only, set insecure`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'TLS certificate does not match the host name';
    case 'CERT_HAS_EXPIRED':
      return 'TLS certificate has expired';
    case 'ABORT_ERR':
      return 'request aborted';
    default:
      // Node's own wording may quote what the remote sent (a parse error, a certificate field).
      return error.code
        ? `${escapeUntrusted(error.message, 300)} (${error.code})`
        : escapeUntrusted(error.message, 300);
  }
}

/** Loopback addresses, localhost and Unix socket paths: traffic that never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return (
    name.startsWith('/') ||
    name === 'localhost' ||
    name === '::1' ||
    /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
  );
}
