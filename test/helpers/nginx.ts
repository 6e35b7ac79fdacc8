import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real nginx (Debian's) on a loopback port, in a folder of its own, proxying to the upstream
 * `live` that an include file defines: the router the blue-green tests switch.
 */
export class NginxRouter {
  readonly dir: string;
  readonly conf: string;
  readonly include: string;
  readonly port: number;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.conf = join(dir, 'nginx.conf');
    this.include = join(dir, 'live.conf');
    this.port = port;
  }

  /** Starts nginx with `live` pointing at the first address. */
  static async start(firstServer: string): Promise<NginxRouter> {
    const dir = mkdtempSync(join(tmpdir(), 'nginx-router-'));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'temp'), { mode: 0o777 });
    const port = await freePort();
    const router = new NginxRouter(dir, port);
    writeFileSync(router.include, `upstream live {\n    server ${firstServer} weight=100;\n    keepalive 16;\n}\n`);
    writeFileSync(
      router.conf,
      [
        'worker_processes 2;',
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${join(dir, 'error.log')} warn;`,
        'events { worker_connections 1024; }',
        'http {',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
          (kind) => `  ${kind}_temp_path ${join(dir, 'temp', kind)};`,
        ),
        `  include ${router.include};`,
        '  server {',
        `    listen 127.0.0.1:${port};`,
        '    location / {',
        '      proxy_pass http://live;',
        '      proxy_http_version 1.1;',
        '      proxy_set_header Connection "";',
        // A colour's server closing a kept-alive connection is retried on another, as in production.
        '      proxy_next_upstream error timeout;',
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    const started = spawnSync('nginx', ['-c', router.conf, '-e', join(dir, 'error.log')], { encoding: 'utf8' });
    if (started.status !== 0) throw new Error(`nginx did not start: ${started.stderr}`);
    await waitForPort(port);
    return router;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  stop(): void {
    spawnSync('nginx', ['-c', this.conf, '-e', join(this.dir, 'error.log'), '-s', 'quit'], { encoding: 'utf8' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One colour of the service: answers every path with its colour in a header and the body. */
export class ColourServer {
  readonly colour: string;
  readonly server: http.Server;
  /** A failing health check: /health answers 503. */
  unhealthy = false;
  /** A colour that serves without saying which it is (a broken release), to fail verification. */
  anonymous = false;
  requests = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(colour: string) {
    this.colour = colour;
    this.server = http.createServer((request, response) => {
      this.requests++;
      if (request.url === '/health') {
        response.writeHead(this.unhealthy ? 503 : 200, { 'content-type': 'text/plain' });
        response.end(this.unhealthy ? 'unhealthy' : 'ok');
        return;
      }
      response.writeHead(200, {
        'content-type': 'text/plain',
        ...(this.anonymous ? {} : { 'x-colour': this.colour }),
      });
      response.end(this.anonymous ? 'hello' : `colour=${this.colour}`);
    });
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(colour: string): Promise<ColourServer> {
    const server = new ColourServer(colour);
    await new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get healthUrl(): string {
    return `http://${this.address}/health`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const request = http.get({ host: '127.0.0.1', port, path: '/', timeout: 500 }, (response) => {
        response.resume();
        resolve(true);
      });
      request.on('error', () => resolve(false));
      request.on('timeout', () => {
        request.destroy();
        resolve(false);
      });
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx did not listen on ${port}`);
}

/**
 * Watches which colour the live URL serves, every `everyMs`, until stopped: when each colour
 * first answered after a given moment is what "changed colour within a second" is measured on.
 */
export class ColourProbe {
  readonly seen: { at: number; colour: string }[] = [];
  /** When the include file changed, and what it held then: the moments the router switched. */
  readonly changes: { at: number; text: string }[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(url: string, include?: string, everyMs = 20) {
    this.done = (async () => {
      while (this.running) {
        if (include !== undefined) {
          const text = readFileSync(include, 'utf8');
          if (this.changes.at(-1)?.text !== text) this.changes.push({ at: performance.now(), text });
        }
        // One retry, as a browser retries a GET whose kept-alive connection closed as it was sent.
        let colour = 'error';
        for (let attempt = 0; attempt < 2 && colour === 'error'; attempt++) {
          try {
            const response = await fetch(url);
            await response.text();
            colour = response.headers.get('x-colour') ?? 'none';
          } catch {
            colour = 'error';
          }
        }
        this.seen.push({ at: performance.now(), colour });
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    })();
  }

  /** The moments the include file came to send everything to `address`, in order. */
  switchesTo(address: string, other: string): number[] {
    return this.changes
      .filter((change) => change.text.includes(address) && !change.text.includes(other))
      .map((change) => change.at);
  }

  /**
   * Milliseconds from the include change at `since` until the probe saw only `colour` up to the
   * next change of the file, or undefined when it never did.
   */
  settledOn(colour: string, since: number): number | undefined {
    const until = this.changes.find((change) => change.at > since)?.at ?? Infinity;
    const window = this.seen.filter((sample) => sample.at >= since && sample.at < until);
    let firstOfRun: number | undefined;
    for (const sample of window) {
      if (sample.colour === colour) firstOfRun ??= sample.at;
      else firstOfRun = undefined;
    }
    return firstOfRun === undefined ? undefined : firstOfRun - since;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}
