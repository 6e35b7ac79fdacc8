import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** What a scripted route answers: a status, headers, a body, after a delay, or a dropped connection. */
export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | object;
  delayMs?: number;
  /** Destroy the socket instead of answering (a connection reset). */
  reset?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A fixed answer, a sequence (the last one repeats), or a function of the request. */
export type Route =
  ScriptedResponse | ScriptedResponse[] | ((request: RecordedRequest, count: number) => ScriptedResponse);

/**
 * A loopback HTTP(S) server for tests and fakes: routes by method and path, records every
 * request, and can delay, fail, answer 429 with Retry-After, or reset the connection.
 */
export class TestServer {
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly counts = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private fallback: Route = { status: 404, body: 'not found' };
  url!: URL;

  private readonly server: http.Server;
  private constructor(server: http.Server) {
    this.server = server;
  }

  static async start(options: { tls?: { key: string; cert: string } } = {}): Promise<TestServer> {
    const server = options.tls
      ? https.createServer({ key: options.tls.key, cert: options.tls.cert })
      : http.createServer();
    const instance = new TestServer(server);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => void instance.handle(req, res));
    server.on('connection', (socket: Socket) => {
      instance.sockets.add(socket);
      socket.on('close', () => instance.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    instance.url = new URL(`${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/`);
    return instance;
  }

  /** Routes METHOD path (path without query); "*" as method matches any. */
  route(method: string, path: string, route: Route): this {
    this.routes.set(`${method.toUpperCase()} ${path}`, route);
    return this;
  }

  otherwise(route: Route): this {
    this.fallback = route;
    return this;
  }

  hits(path: string): number {
    return this.requests.filter((request) => request.path === path).length;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', this.url);
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      url,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: Date.now(),
    };
    this.requests.push(recorded);
    const key = this.routes.has(`${recorded.method} ${recorded.path}`)
      ? `${recorded.method} ${recorded.path}`
      : `* ${recorded.path}`;
    const route = this.routes.get(key) ?? this.fallback;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    let response: ScriptedResponse;
    if (typeof route === 'function') response = route(recorded, count);
    else if (Array.isArray(route)) response = route[Math.min(count, route.length) - 1] ?? {};
    else response = route;

    if (response.delayMs) await new Promise((resolve) => setTimeout(resolve, response.delayMs));
    if (response.reset) {
      req.socket.destroy();
      return;
    }
    const isJson = response.body !== undefined && typeof response.body !== 'string';
    const body = isJson ? JSON.stringify(response.body) : ((response.body as string | undefined) ?? '');
    res.writeHead(response.status ?? 200, {
      ...(isJson ? { 'content-type': 'application/json' } : { 'content-type': 'text/plain' }),
      ...response.headers,
    });
    res.end(body);
  }
}
