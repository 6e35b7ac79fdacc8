// The demo's sample service: one colour of "shop" in one environment, a small HTTP server on
// loopback that says which colour and version answered, counts every request it serves in the
// Prometheus text format, and, when a release is faulty, fails one request in twelve on its API.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Release {
  version: string;
  digest: string;
  /** Fails one API request in twelve (8.3%): a fault only real traffic finds. */
  faulty: boolean;
}

export class SampleService {
  readonly environment: string;
  readonly colour: string;
  release: Release | undefined;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  /** Requests served by status code; 200 and 500 are exported from the start, at zero. */
  private readonly served = new Map<string, number>([
    ['200', 0],
    ['500', 0],
  ]);
  private apiCalls = 0;

  private constructor(environment: string, colour: string, release: Release | undefined) {
    this.environment = environment;
    this.colour = colour;
    this.release = release;
    this.server = http.createServer((request, response) => this.answer(request, response));
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(environment: string, colour: string, release: Release | undefined): Promise<SampleService> {
    const service = new SampleService(environment, colour, release);
    await new Promise<void>((resolve) => service.server.listen(0, '127.0.0.1', resolve));
    return service;
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get url(): string {
    return `http://${this.address}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(request: http.IncomingMessage, response: http.ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      const lines = [
        '# HELP http_requests_total Requests served, by status code.',
        '# TYPE http_requests_total counter',
        ...[...this.served].map(
          ([code, count]) =>
            `http_requests_total{environment="${this.environment}",colour="${this.colour}",code="${code}"} ${count}`,
        ),
        '',
      ];
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(lines.join('\n'));
      return;
    }
    const release = this.release;
    const send = (status: number, type: string, body: string) => {
      this.served.set(String(status), (this.served.get(String(status)) ?? 0) + 1);
      response.writeHead(status, { 'content-type': type, 'x-colour': this.colour });
      response.end(body);
    };
    if (release === undefined) return send(503, 'text/plain', 'nothing deployed on this colour yet');
    if (path === '/health') {
      return send(200, 'application/json', JSON.stringify({ status: 'ok', version: release.version }));
    }
    if (path === '/api/orders') {
      this.apiCalls++;
      if (release.faulty && this.apiCalls % 12 === 0) return send(500, 'application/json', '{"error":"internal"}');
      return send(200, 'application/json', JSON.stringify({ orders: [], version: release.version }));
    }
    if (path === '/') {
      return send(200, 'text/html', `<html><title>Shop</title>Shop ${release.version} (${this.colour})</html>`);
    }
    send(404, 'text/plain', 'not found');
  }
}

/** Steady traffic through a URL (the live router), as users would send it, until stopped. */
export class Traffic {
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(url: string, everyMs = 50) {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
          await response.arrayBuffer();
        } catch {
          // a user's failed request: the service's counters and the bake judge it, not the demo
        }
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
