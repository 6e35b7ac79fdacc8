import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP relay in front of a database server that can hold one statement on its way in:
 * the next client packet whose bytes match a pattern is kept back, and the test learns which
 * server session it belongs to (by the relay's own port towards the server). The test then kills
 * that session on the server (pg_terminate_backend / KILL) while its statement is in flight,
 * at a point known in advance, however loaded the machine is. Everything else passes unchanged.
 */
export class HoldProxy {
  port = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private armed: { pattern: RegExp; found: (held: Held) => void } | undefined;

  private constructor(server: net.Server) {
    this.server = server;
  }

  static async start(upstreamPort: number): Promise<HoldProxy> {
    const server = net.createServer();
    const proxy = new HoldProxy(server);
    server.on('connection', (client) => proxy.relay(client, upstreamPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy.port = (server.address() as AddressInfo).port;
    return proxy;
  }

  /** The next packet from any client matching `pattern` is held; resolves once it is. */
  holdNext(pattern: RegExp): Promise<Held> {
    if (this.armed !== undefined) throw new Error('a hold is already armed');
    return new Promise((found) => (this.armed = { pattern, found }));
  }

  /** Stops holding without having held anything. */
  disarm(): void {
    this.armed = undefined;
  }

  private relay(client: net.Socket, upstreamPort: number): void {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    // The server's answers (a termination notice included) reach the client, then its end.
    upstream.pipe(client);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.once('connect', () => {
      client.on('data', (chunk: Buffer) => {
        const armed = this.armed;
        if (armed !== undefined && armed.pattern.test(chunk.toString('latin1'))) {
          this.armed = undefined;
          client.pause();
          armed.found({
            port: upstream.localPort!,
            text: chunk.toString('latin1'),
            closed: upstream.destroyed
              ? Promise.resolve()
              : new Promise<void>((resolve) => upstream.once('close', () => resolve())),
            release: () => {
              if (!upstream.destroyed) upstream.write(chunk);
              client.resume();
            },
          });
          return;
        }
        if (!upstream.write(chunk)) {
          client.pause();
          upstream.once('drain', () => client.resume());
        }
      });
      client.on('end', () => upstream.end());
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface Held {
  /** The relay's local port towards the server: the held session's client port there. */
  port: number;
  /** The held packet, as text. */
  text: string;
  /** Settles when the server side of the held session has closed. */
  closed: Promise<void>;
  /** Lets the held packet go on (it meets a closed session if the server ended it). */
  release(): void;
}
