import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault = 'status-500' | 'reset';

/**
 * A loopback HTTP proxy in front of a real service (s3rver, azurite) that injects faults into the
 * requests a predicate picks: a 500 answer, or a connection dropped after reading part of the body.
 */
export class FaultProxy {
  url!: string;
  readonly faulted: string[] = [];
  /** Every request that passed through, with its headers. */
  readonly seen: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();

  private constructor(server: http.Server) {
    this.server = server;
  }

  static async start(target: string, pick: (req: http.IncomingMessage) => Fault | undefined): Promise<FaultProxy> {
    const targetUrl = new URL(target);
    const server = http.createServer();
    const proxy = new FaultProxy(server);
    server.on('connection', (socket: Socket) => {
      proxy.sockets.add(socket);
      socket.on('close', () => proxy.sockets.delete(socket));
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      proxy.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const fault = pick(req);
      if (fault !== undefined) {
        proxy.faulted.push(`${req.method} ${req.url}`);
        if (fault === 'reset') {
          req.once('data', () => req.socket.destroy());
          req.once('end', () => req.socket.destroy());
          return;
        }
        req.resume();
        req.on('end', () => {
          res.writeHead(500, { 'content-type': 'application/xml' });
          res.end(
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected fault</Message></Error>',
          );
        });
        return;
      }
      const upstream = http.request(
        { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return proxy;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
