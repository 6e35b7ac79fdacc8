import { createHash } from 'node:crypto';
import type { components } from '@octokit/openapi-types';
import { TestServer, type RecordedRequest, type ScriptedResponse } from '../helpers/http-server.ts';

type Deployment = components['schemas']['deployment'];
type DeploymentStatus = components['schemas']['deployment-status'];

interface Injected {
  method: string;
  path: RegExp;
  response: ScriptedResponse;
}

/**
 * A stateful fake of the GitHub REST API on loopback: deployments and their statuses, with
 * token auth, Link-header pagination, ETags and 304s, rate-limit headers and injected failures.
 * Responses carry the real API's shapes (typed with @octokit/openapi-types).
 */
export class FakeGitHub {
  readonly deployments: Deployment[] = [];
  readonly statuses = new Map<number, DeploymentStatus[]>();
  private readonly injected: Injected[] = [];
  private nextId = 1000;
  rateLimitRemaining = 5000;
  readonly server: TestServer;
  readonly token: string;

  private constructor(server: TestServer, token: string) {
    this.server = server;
    this.token = token;
  }

  static async start(token = 'ghs_faketoken000000000000000000000000'): Promise<FakeGitHub> {
    const server = await TestServer.start();
    const fake = new FakeGitHub(server, token);
    server.otherwise((request) => fake.handle(request));
    return fake;
  }

  get url(): string {
    return this.server.url.href.replace(/\/$/, '');
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** The next request matching method and path gets this response instead (one per call). */
  inject(method: string, path: RegExp, response: ScriptedResponse): this {
    this.injected.push({ method: method.toUpperCase(), path, response });
    return this;
  }

  /** Creates deployments directly, as if made earlier (the real API allows one write a second). */
  seed(owner: string, name: string, environment: string, count: number): void {
    for (let i = 0; i < count; i++) {
      this.createDeployment(owner, name, { body: JSON.stringify({ ref: 'main', environment }) } as RecordedRequest);
    }
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(request: RecordedRequest): ScriptedResponse {
    const rate = {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(Math.max(0, --this.rateLimitRemaining)),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    };
    const injectedAt = this.injected.findIndex((i) => i.method === request.method && i.path.test(request.path));
    if (injectedAt >= 0) {
      const [{ response }] = this.injected.splice(injectedAt, 1) as [Injected];
      return { ...response, headers: { ...rate, ...response.headers } };
    }
    const auth = request.headers.authorization;
    if (auth !== `token ${this.token}` && auth !== `Bearer ${this.token}`) {
      return {
        status: 401,
        headers: rate,
        body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' },
      };
    }
    const repo = /^\/repos\/([^/]+)\/([^/]+)\/deployments(?:\/(\d+)(\/statuses)?)?$/.exec(request.path);
    if (!repo) return { status: 404, headers: rate, body: { message: 'Not Found' } };
    const [, owner, name, id, statuses] = repo as unknown as [
      string,
      string,
      string,
      string | undefined,
      string | undefined,
    ];
    if (id === undefined && request.method === 'GET')
      return this.list(
        request,
        rate,
        this.deployments.filter((d) => this.matches(d, request)),
      );
    if (id === undefined && request.method === 'POST')
      return { status: 201, headers: rate, body: this.createDeployment(owner, name, request) };
    const deployment = this.deployments.find((d) => Number(d.id) === Number(id));
    if (!deployment) return { status: 404, headers: rate, body: { message: 'Not Found' } };
    if (statuses && request.method === 'POST')
      return { status: 201, headers: rate, body: this.createStatus(deployment, request) };
    if (statuses && request.method === 'GET')
      return this.list(request, rate, this.statuses.get(Number(deployment.id)) ?? []);
    return { headers: rate, body: deployment };
  }

  private matches(deployment: Deployment, request: RecordedRequest): boolean {
    const environment = request.url.searchParams.get('environment');
    return environment === null || deployment.environment === environment;
  }

  /** Newest first, per_page (max 100) and page, a Link header, and an ETag honoured by If-None-Match. */
  private list(request: RecordedRequest, rate: Record<string, string>, items: unknown[]): ScriptedResponse {
    const perPage = Math.min(100, Number(request.url.searchParams.get('per_page') ?? 30));
    const page = Number(request.url.searchParams.get('page') ?? 1);
    const ordered = [...items].reverse();
    const body = ordered.slice((page - 1) * perPage, page * perPage);
    const etag = `W/"${createHash('sha1').update(JSON.stringify(body)).digest('hex')}"`;
    const headers: Record<string, string> = { ...rate, etag };
    const last = Math.max(1, Math.ceil(ordered.length / perPage));
    const link = (p: number, rel: string) => {
      const url = new URL(request.url.href);
      url.searchParams.set('page', String(p));
      url.searchParams.set('per_page', String(perPage));
      return `<${url.href}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
    if (links.length > 0) headers.link = links.join(', ');
    if (request.headers['if-none-match'] === etag) {
      // A conditional hit costs no rate limit on GitHub.
      this.rateLimitRemaining++;
      return { status: 304, headers };
    }
    return { headers, body };
  }

  private createDeployment(owner: string, name: string, request: RecordedRequest): Deployment {
    const input = JSON.parse(request.body || '{}') as {
      ref: string;
      environment?: string;
      payload?: Record<string, unknown>;
      description?: string;
    };
    const now = new Date().toISOString();
    const id = this.nextId++;
    const deployment = {
      url: `${this.url}/repos/${owner}/${name}/deployments/${id}`,
      id,
      node_id: `DE_${id}`,
      sha: input.ref,
      ref: input.ref,
      task: 'deploy',
      payload: input.payload ?? {},
      original_environment: input.environment ?? 'production',
      environment: input.environment ?? 'production',
      description: input.description ?? null,
      creator: null,
      created_at: now,
      updated_at: now,
      statuses_url: `${this.url}/repos/${owner}/${name}/deployments/${id}/statuses`,
      repository_url: `${this.url}/repos/${owner}/${name}`,
      transient_environment: false,
      production_environment: input.environment === 'production',
    } satisfies Deployment;
    this.deployments.push(deployment);
    return deployment;
  }

  private createStatus(deployment: Deployment, request: RecordedRequest): DeploymentStatus {
    const input = JSON.parse(request.body || '{}') as {
      state: DeploymentStatus['state'];
      description?: string;
      environment_url?: string;
    };
    const list = this.statuses.get(Number(deployment.id)) ?? [];
    const now = new Date().toISOString();
    const status = {
      url: `${deployment.statuses_url}/${list.length + 1}`,
      id: list.length + 1,
      node_id: `DES_${deployment.id}_${list.length + 1}`,
      state: input.state,
      creator: null,
      description: input.description ?? '',
      environment: deployment.environment,
      target_url: '',
      environment_url: input.environment_url ?? '',
      log_url: '',
      created_at: now,
      updated_at: now,
      deployment_url: deployment.url,
      repository_url: deployment.repository_url,
    } satisfies DeploymentStatus;
    list.push(status);
    this.statuses.set(Number(deployment.id), list);
    return status;
  }
}
