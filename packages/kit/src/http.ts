import http from 'node:http';
import https from 'node:https';

export interface HttpRequest {
  method?: string;
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  /** Abort the whole exchange (connect, send, receive) after this many ms. */
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM), e.g. a self-signed staging certificate. */
  ca?: string;
  /** Skip TLS verification. Callers warn when they set it. */
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

const agents = {
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
};

/**
 * One HTTP exchange with node:http(s): a measured latency, a hard timeout, optional extra CA,
 * bounded body. No retries here; callers decide what is retryable.
 */
export async function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const started = performance.now();
  let url = request.url;
  for (let redirects = 0; ; redirects++) {
    const response = await exchange({ ...request, url }, started);
    const location = response.headers['location'];
    if (request.followRedirects && location && response.status >= 300 && response.status < 400 && redirects < 10) {
      url = new URL(location, url);
      continue;
    }
    return response;
  }
}

function exchange(request: HttpRequest, started: number): Promise<HttpResponse> {
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
        });
      });
      res.on('error', (error) => fail(error));
    });
    const timer = setTimeout(() => {
      req.destroy(new HttpTransportError(`no complete response within ${request.timeoutMs} ms`, 'TIMEOUT'));
    }, request.timeoutMs);
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
      return error.code ? `${error.message} (${error.code})` : error.message;
  }
}
