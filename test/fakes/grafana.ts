import { TestServer, type RecordedRequest, type ScriptedResponse } from '../helpers/http-server.ts';

/** An annotation as Grafana's HTTP API lists it (the fields the suite uses, and a few more). */
export interface FakeAnnotation {
  id: number;
  alertId: number;
  dashboardUID: string;
  panelId: number;
  userId: number;
  login: string;
  time: number;
  timeEnd: number;
  created: number;
  updated: number;
  text: string;
  tags: string[];
}

/**
 * A stateful fake of Grafana's annotations API on loopback: POST /api/annotations, PATCH and
 * DELETE /api/annotations/:id, GET /api/annotations?tags=…&from=…&to=… (every tag must match,
 * newest first), behind a service account token (Bearer; 401 otherwise, 403 for a read-only
 * token). Dashboards that exist are named by UID; an unknown one is a 404, as in Grafana.
 * 5xx answers can be injected for the next requests.
 */
export class FakeGrafana {
  readonly annotations = new Map<number, FakeAnnotation>();
  readonly dashboards = new Set<string>(['deploys']);
  /** Tokens that may only read (a Viewer service account). */
  readonly readOnlyTokens = new Set<string>();
  readonly server: TestServer;
  readonly token: string;
  private readonly faults: ScriptedResponse[] = [];
  private nextId = 1;
  /** The fake's clock for created/updated (ms). */
  now: () => number = () => Date.now();

  private constructor(server: TestServer, token: string) {
    this.server = server;
    this.token = token;
  }

  static async start(token = 'glsa_fakeToken0123456789abcdefABCDEF_0a1b2c3d'): Promise<FakeGrafana> {
    const server = await TestServer.start();
    const fake = new FakeGrafana(server, token);
    server.otherwise((request) => fake.handle(request));
    return fake;
  }

  get url(): URL {
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** The next `count` requests fail with this status. */
  fail(status = 500, count = 1, retryAfterSeconds?: number): this {
    for (let i = 0; i < count; i++) {
      this.faults.push({
        status,
        ...(retryAfterSeconds === undefined ? {} : { headers: { 'retry-after': String(retryAfterSeconds) } }),
        body: { message: 'Internal Server Error' },
      });
    }
    return this;
  }

  reset(): void {
    this.annotations.clear();
    this.faults.length = 0;
    this.readOnlyTokens.clear();
    this.server.requests.length = 0;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(request: RecordedRequest): ScriptedResponse {
    const fault = this.faults.shift();
    if (fault) return fault;
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const readOnly = token !== undefined && this.readOnlyTokens.has(token);
    if (token !== this.token && !readOnly) return { status: 401, body: { message: 'invalid API key' } };
    if (request.path === '/api/annotations') {
      if (request.method === 'GET') return this.list(request);
      if (request.method === 'POST') return readOnly ? forbidden() : this.create(request);
    }
    const one = /^\/api\/annotations\/(\d+)$/.exec(request.path);
    if (one) {
      const annotation = this.annotations.get(Number(one[1]));
      if (request.method === 'PATCH') {
        if (readOnly) return forbidden();
        if (!annotation) return { status: 404, body: { message: 'Could not find annotation to update' } };
        return this.patch(request, annotation);
      }
      if (request.method === 'DELETE') {
        if (readOnly) return forbidden();
        if (!annotation) return { status: 404, body: { message: 'Could not find annotation' } };
        this.annotations.delete(annotation.id);
        return { body: { message: 'Annotation deleted' } };
      }
      if (request.method === 'GET') {
        return annotation ? { body: annotation } : { status: 404, body: { message: 'Annotation not found' } };
      }
    }
    return { status: 404, body: { message: 'Not found' } };
  }

  private parse(request: RecordedRequest): Record<string, unknown> | undefined {
    try {
      const body = JSON.parse(request.body) as unknown;
      return typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  }

  private create(request: RecordedRequest): ScriptedResponse {
    const body = this.parse(request);
    if (!body) return { status: 400, body: { message: 'bad request data' } };
    if (typeof body.text !== 'string' || body.text === '')
      return { status: 400, body: { message: 'Failed to save annotation: text field should not be empty' } };
    const problem = this.fieldProblem(body);
    if (problem) return { status: 400, body: { message: problem } };
    const dashboardUID = body.dashboardUID;
    if (dashboardUID !== undefined && (typeof dashboardUID !== 'string' || !this.dashboards.has(dashboardUID))) {
      return { status: 404, body: { message: 'Dashboard not found' } };
    }
    const now = this.now();
    const time = typeof body.time === 'number' ? body.time : now;
    const id = this.nextId++;
    this.annotations.set(id, {
      id,
      alertId: 0,
      dashboardUID: dashboardUID ?? '',
      panelId: 0,
      userId: 7,
      login: 'sa-deploy-suite',
      time,
      timeEnd: typeof body.timeEnd === 'number' ? body.timeEnd : time,
      created: now,
      updated: now,
      text: body.text,
      tags: (body.tags as string[] | undefined) ?? [],
    });
    return { body: { id, message: 'Annotation added' } };
  }

  /** PATCH changes only the fields given. */
  private patch(request: RecordedRequest, annotation: FakeAnnotation): ScriptedResponse {
    const body = this.parse(request);
    if (!body) return { status: 400, body: { message: 'bad request data' } };
    const problem = this.fieldProblem(body);
    if (problem) return { status: 400, body: { message: problem } };
    if (typeof body.time === 'number') annotation.time = body.time;
    if (typeof body.timeEnd === 'number') annotation.timeEnd = body.timeEnd;
    if (typeof body.text === 'string') annotation.text = body.text;
    if (Array.isArray(body.tags)) annotation.tags = body.tags as string[];
    annotation.updated = this.now();
    return { body: { message: 'Annotation patched' } };
  }

  private fieldProblem(body: Record<string, unknown>): string | undefined {
    for (const field of ['time', 'timeEnd'] as const) {
      if (body[field] !== undefined && (typeof body[field] !== 'number' || !Number.isInteger(body[field]))) {
        return `bad request data: ${field} must be epoch milliseconds`;
      }
    }
    if (body.tags !== undefined && (!Array.isArray(body.tags) || body.tags.some((t) => typeof t !== 'string'))) {
      return 'bad request data: tags must be a list of strings';
    }
    return undefined;
  }

  /** Filters as Grafana does: every tag given must be on the annotation; from/to overlap its span. */
  private list(request: RecordedRequest): ScriptedResponse {
    const tags = request.url.searchParams.getAll('tags');
    const from = Number(request.url.searchParams.get('from') ?? -Infinity);
    const to = Number(request.url.searchParams.get('to') ?? Infinity);
    const limit = Number(request.url.searchParams.get('limit') ?? 100);
    const found = [...this.annotations.values()]
      .filter((a) => tags.every((t) => a.tags.includes(t)))
      .filter((a) => a.timeEnd >= from && a.time <= to)
      .sort((a, b) => b.time - a.time || b.id - a.id)
      .slice(0, limit);
    return { body: found };
  }
}

function forbidden(): ScriptedResponse {
  return {
    status: 403,
    body: { message: 'You are not allowed to perform this action', accessErrorId: 'ACE0123456789' },
  };
}
