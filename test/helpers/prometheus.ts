import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { TestServer, type Route } from './http-server.ts';

export interface Traffic {
  /** Requests added to the counters at every scrape. */
  perScrape: number;
  /** Share of those that are 5xx. */
  errorRatio: number;
}

/**
 * A small app exposing request counters in the Prometheus text format. Each scrape advances
 * the counters of every service by its traffic, so rate() sees a steady request and error rate.
 */
export class MetricsApp {
  readonly traffic = new Map<string, Traffic>();
  private readonly totals = new Map<string, { ok: number; errors: number }>();
  readonly server: TestServer;
  private constructor(server: TestServer) {
    this.server = server;
  }

  static async start(): Promise<MetricsApp> {
    const server = await TestServer.start();
    const app = new MetricsApp(server);
    server.route('GET', '/metrics', () => ({
      headers: { 'content-type': 'text/plain; version=0.0.4' },
      body: app.scrape(),
    }));
    return app;
  }

  set(service: string, traffic: Traffic): this {
    this.traffic.set(service, traffic);
    if (!this.totals.has(service)) this.totals.set(service, { ok: 0, errors: 0 });
    return this;
  }

  private scrape(): string {
    const lines = ['# HELP app_requests_total Requests served.', '# TYPE app_requests_total counter'];
    for (const [service, traffic] of this.traffic) {
      const total = this.totals.get(service)!;
      total.errors += Math.round(traffic.perScrape * traffic.errorRatio);
      total.ok += traffic.perScrape - Math.round(traffic.perScrape * traffic.errorRatio);
      lines.push(`app_requests_total{service="${service}",code="200"} ${total.ok}`);
      lines.push(`app_requests_total{service="${service}",code="500"} ${total.errors}`);
    }
    return lines.join('\n') + '\n';
  }
}

/** A real Prometheus (Debian's package) on a free loopback port, scraping the given targets every second. */
export class PrometheusServer {
  private readonly child: ChildProcess;
  private readonly dataDir: string;
  readonly url: URL;
  private constructor(child: ChildProcess, dataDir: string, url: URL) {
    this.child = child;
    this.dataDir = dataDir;
    this.url = url;
  }

  static async start(targets: URL[]): Promise<PrometheusServer> {
    const dataDir = mkdtempSync(join(tmpdir(), 'prometheus-'));
    const port = await freePort();
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: app',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t.host}'`).join(', ')}]`,
      '',
    ].join('\n');
    writeFileSync(join(dataDir, 'prometheus.yml'), config);
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dataDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dataDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const server = new PrometheusServer(child, dataDir, new URL(`http://127.0.0.1:${port}/`));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
      try {
        const response = await fetch(new URL('-/ready', server.url));
        if (response.ok) return server;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await server.stop();
    throw new Error(`prometheus did not become ready: ${stderr}`);
  }

  async query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const response = await fetch(new URL(`api/v1/query?query=${encodeURIComponent(promql)}`, this.url));
    const payload = (await response.json()) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    return payload.data.result;
  }

  /** Waits until a query returns at least one series with a value that satisfies the test. */
  async waitFor(promql: string, test: (value: number) => boolean = () => true, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const result = await this.query(promql);
      if (result.length > 0 && result.every((s) => test(Number(s.value[1])))) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`timed out waiting for ${promql}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A Prometheus answer for an instant vector, as the HTTP API writes it. */
export function vectorAnswer(series: { labels: Record<string, string>; value: string }[]): object {
  return {
    status: 'success',
    data: { resultType: 'vector', result: series.map((s) => ({ metric: s.labels, value: [1_700_000_000, s.value] })) },
  };
}

/**
 * A fake Prometheus for what a real one will not do on demand: hostile label values, overload
 * with a long Retry-After. It answers the query API (GET and POST) with the given route.
 */
export async function fakePrometheus(answer: Route): Promise<TestServer> {
  const server = await TestServer.start();
  server.route('*', '/api/v1/query', answer);
  return server;
}
