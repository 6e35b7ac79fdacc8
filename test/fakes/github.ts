import { createHash } from 'node:crypto';
import type { components } from '@octokit/openapi-types';
import { TestServer, type RecordedRequest, type ScriptedResponse } from '../helpers/http-server.ts';

type Deployment = components['schemas']['deployment'];
type DeploymentStatus = components['schemas']['deployment-status'];
export type FakeIssue = components['schemas']['issue'];
export type FakeComment = components['schemas']['issue-comment'];
type SimpleUser = components['schemas']['simple-user'];
type Label = components['schemas']['label'];
type Collaborator = components['schemas']['collaborator'];
type Permission = components['schemas']['repository-collaborator-permission'];
export type RoleName = 'admin' | 'maintain' | 'write' | 'triage' | 'read';

interface Injected {
  method: string;
  path: RegExp;
  response: ScriptedResponse;
  /** The request is carried out first, then answered with the response (a write that landed but failed). */
  landed: boolean;
  /** Only a request this accepts meets the response (e.g. a status write of one state). */
  when: ((request: RecordedRequest) => boolean) | undefined;
}

export interface WorkflowDispatch {
  owner: string;
  repo: string;
  workflow: string;
  ref: string;
  inputs: Record<string, unknown>;
  by: string;
  at: string;
}

/** A stable id for a name, as GitHub's ids are stable for a user or label. */
const smallId = (name: string): number => parseInt(createHash('sha1').update(name).digest('hex').slice(0, 7), 16);

export type Handler = (request: RecordedRequest, match: string[], rate: Record<string, string>) => ScriptedResponse;

/**
 * A stateful fake of the GitHub REST API on loopback: deployments and their statuses, issues and
 * labels, issue comments (created_at/updated_at, edits that keep the author), teams and their
 * members, collaborator permissions and workflow dispatches, with token auth (each token is a
 * user), Link-header pagination, ETags and 304s (free of rate limit), rate-limit headers,
 * secondary rate limits and injected failures. Responses carry the real API's shapes (typed with
 * @octokit/openapi-types).
 */
export class FakeGitHub {
  readonly deployments: Deployment[] = [];
  readonly statuses = new Map<number, DeploymentStatus[]>();
  /** Issues by "owner/repo". */
  readonly issues = new Map<string, FakeIssue[]>();
  /** Comments by issue id, oldest first. */
  readonly comments = new Map<number, FakeComment[]>();
  /** Team members' logins by "org/team-slug", in the order they were added. */
  readonly teams = new Map<string, string[]>();
  /** Collaborator roles by "owner/repo/login". */
  readonly roles = new Map<string, RoleName>();
  readonly dispatches: WorkflowDispatch[] = [];
  /** Commits by "owner/repo/sha": who wrote and committed them, and the authors of their pull requests. */
  readonly commits = new Map<
    string,
    { author: string | null; committer: string | null; pulls: string[]; date?: string | undefined }
  >();
  /** Changed files by "owner/repo/base...head", as the compare API lists them. */
  readonly comparisons = new Map<string, { filename: string; additions: number; deletions: number }[]>();
  private readonly injected: Injected[] = [];
  private readonly users = new Map<string, string>();
  private nextId = 1000;
  rateLimitRemaining = 5000;
  /** The fake's time, for created_at/updated_at; tests may set it. */
  now: () => Date = () => new Date();
  readonly server: TestServer;
  readonly token: string;
  private readonly routes: [string, RegExp, Handler][];
  /** Routes added by extensions (test/fakes/github-*.ts), tried before the built-in ones. */
  private readonly extraRoutes: [string, RegExp, Handler][] = [];

  private constructor(server: TestServer, token: string) {
    this.server = server;
    this.token = token;
    this.users.set(token, 'deploy-bot[bot]');
    const repo = '^/repos/([^/]+)/([^/]+)';
    this.routes = [
      ['GET', new RegExp(`${repo}/issues$`), (r, [o, n], rate) => this.listIssues(r, o!, n!, rate)],
      ['POST', new RegExp(`${repo}/issues$`), (r, [o, n], rate) => this.createIssue(r, o!, n!, rate)],
      [
        'GET',
        new RegExp(`${repo}/issues/(\\d+)$`),
        (r, [o, n, i], rate) => this.withIssue(o!, n!, i!, rate, (x) => this.conditional(r, rate, x)),
      ],
      [
        'PATCH',
        new RegExp(`${repo}/issues/(\\d+)$`),
        (r, [o, n, i], rate) => this.withIssue(o!, n!, i!, rate, (x) => this.updateIssue(r, x, rate)),
      ],
      [
        'POST',
        new RegExp(`${repo}/issues/(\\d+)/labels$`),
        (r, [o, n, i], rate) => this.withIssue(o!, n!, i!, rate, (x) => this.addLabels(r, x, rate)),
      ],
      [
        'GET',
        new RegExp(`${repo}/issues/(\\d+)/comments$`),
        (r, [o, n, i], rate) =>
          this.withIssue(o!, n!, i!, rate, (x) =>
            this.list(r, rate, this.comments.get(Number(x.id)) ?? [], 'oldest-first'),
          ),
      ],
      [
        'POST',
        new RegExp(`${repo}/issues/(\\d+)/comments$`),
        (r, [o, n, i], rate) =>
          this.withIssue(o!, n!, i!, rate, (x) => ({
            status: 201,
            headers: rate,
            body: this.addComment(o!, n!, x.number, {
              login: this.userOf(r),
              body: (JSON.parse(r.body || '{}') as { body: string }).body,
            }),
          })),
      ],
      [
        'GET',
        new RegExp(`${repo}/issues/comments/(\\d+)$`),
        (_r, [, , c], rate) => this.withComment(c!, rate, (x) => ({ headers: rate, body: x })),
      ],
      [
        'PATCH',
        new RegExp(`${repo}/issues/comments/(\\d+)$`),
        (r, [, , c], rate) =>
          this.withComment(c!, rate, (x) => ({
            headers: rate,
            body: this.editComment(Number(x.id), (JSON.parse(r.body || '{}') as { body: string }).body),
          })),
      ],
      [
        'DELETE',
        new RegExp(`${repo}/issues/comments/(\\d+)$`),
        (_r, [, , c], rate) =>
          this.withComment(c!, rate, (x) => {
            this.deleteComment(Number(x.id));
            return { status: 204, headers: rate };
          }),
      ],
      [
        'GET',
        /^\/orgs\/([^/]+)\/teams\/([^/]+)\/members$/,
        (r, [org, slug], rate) => this.listMembers(r, org!, slug!, rate),
      ],
      [
        'GET',
        new RegExp(`${repo}/collaborators/([^/]+)/permission$`),
        (_r, [o, n, u], rate) => this.permission(o!, n!, u!, rate),
      ],
      ['GET', /^\/user$/, (r, _m, rate) => this.authenticatedUser(r, rate)],
      ['GET', new RegExp(`${repo}/commits/([0-9a-f]+)$`), (_r, [o, n, sha], rate) => this.commit(o!, n!, sha!, rate)],
      [
        'GET',
        new RegExp(`${repo}/commits/([0-9a-f]+)/pulls$`),
        (r, [o, n, sha], rate) =>
          this.list(
            r,
            rate,
            (this.commits.get(`${o}/${n}/${sha}`)?.pulls ?? []).map((login, i) => ({
              number: i + 1,
              state: 'closed',
              user: this.user(login),
            })),
          ),
      ],
      [
        'GET',
        new RegExp(`${repo}/compare/([^/]+)$`),
        (_r, [o, n, basehead], rate) => this.compare(o!, n!, decodeURIComponent(basehead!), rate),
      ],
      [
        'POST',
        new RegExp(`${repo}/actions/workflows/([^/]+)/dispatches$`),
        (r, [o, n, w], rate) => this.dispatch(r, o!, n!, w!, rate),
      ],
    ];
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

  /**
   * Adds a route: how an extension of the fake (pull requests, check runs…) serves an endpoint of
   * its own. The handler gets the request, the pattern's groups and the rate-limit headers.
   */
  addRoute(method: string, path: RegExp, handler: Handler): this {
    this.extraRoutes.push([method.toUpperCase(), path, handler]);
    return this;
  }

  /** Another token that authenticates as the given user. */
  addUser(login: string, token: string): this {
    this.users.set(token, login);
    return this;
  }

  /**
   * The next request matching method and path gets this response instead (one per call). With
   * `landed`, the request is carried out first, as when a write succeeds but its answer is lost.
   */
  inject(
    method: string,
    path: RegExp,
    response: ScriptedResponse,
    options: { landed?: boolean; when?: (request: RecordedRequest) => boolean } = {},
  ): this {
    this.injected.push({
      method: method.toUpperCase(),
      path,
      response,
      landed: options.landed ?? false,
      when: options.when,
    });
    return this;
  }

  /** The next request matching method and path meets a secondary rate limit, as GitHub words it. */
  secondaryRateLimit(method: string, path: RegExp, retryAfterSeconds: number, status: 403 | 429 = 403): this {
    return this.inject(method, path, {
      status,
      headers: { 'retry-after': String(retryAfterSeconds) },
      body: {
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
      },
    });
  }

  /** Creates deployments directly, as if made earlier (the real API allows one write a second). */
  seed(owner: string, name: string, environment: string, count: number): void {
    for (let i = 0; i < count; i++) {
      this.createDeployment(owner, name, { body: JSON.stringify({ ref: 'main', environment }) } as RecordedRequest);
    }
  }

  /** A team and its members (logins), as the org's settings hold them. */
  setTeam(org: string, slug: string, members: string[]): this {
    this.teams.set(`${org}/${slug}`, [...members]);
    return this;
  }

  /** The files changed between two commits (the compare API answers 404 for any other pair). */
  setComparison(
    owner: string,
    name: string,
    base: string,
    head: string,
    files: { filename: string; additions: number; deletions: number }[],
  ): this {
    this.comparisons.set(`${owner}/${name}/${base}...${head}`, files);
    return this;
  }

  /**
   * A commit's author and committer (GitHub accounts, or null when the e-mail matches none) and its
   * pull requests' authors; with `date`, the commit's committer date (ISO), as GitHub gives it.
   */
  setCommit(
    owner: string,
    name: string,
    sha: string,
    input: { author: string | null; committer?: string | null; pulls?: string[]; date?: string },
  ): this {
    this.commits.set(`${owner}/${name}/${sha}`, {
      author: input.author,
      committer: input.committer ?? 'web-flow',
      pulls: input.pulls ?? [],
      ...(input.date === undefined ? {} : { date: input.date }),
    });
    return this;
  }

  /** A collaborator's role on a repository; `undefined` removes it. */
  setRole(owner: string, name: string, login: string, role: RoleName | undefined): this {
    if (role === undefined) this.roles.delete(`${owner}/${name}/${login}`);
    else this.roles.set(`${owner}/${name}/${login}`, role);
    return this;
  }

  /** An issue made directly, as if by the given user. */
  addIssue(
    owner: string,
    name: string,
    input: { title: string; body?: string; labels?: string[]; login?: string },
  ): FakeIssue {
    const list = this.issues.get(`${owner}/${name}`) ?? [];
    const id = this.nextId++;
    const number = list.length + 1;
    const now = this.now().toISOString();
    const base = `${this.url}/repos/${owner}/${name}/issues/${number}`;
    const issue = {
      id,
      node_id: `I_${id}`,
      url: base,
      repository_url: `${this.url}/repos/${owner}/${name}`,
      labels_url: `${base}/labels{/name}`,
      comments_url: `${base}/comments`,
      events_url: `${base}/events`,
      html_url: `https://github.test/${owner}/${name}/issues/${number}`,
      number,
      state: 'open',
      title: input.title,
      body: input.body ?? null,
      user: this.user(input.login ?? 'deploy-bot[bot]'),
      labels: (input.labels ?? []).map((label) => this.label(owner, name, label)),
      assignee: null,
      milestone: null,
      locked: false,
      comments: 0,
      closed_at: null,
      created_at: now,
      updated_at: now,
    } satisfies FakeIssue;
    list.push(issue);
    this.issues.set(`${owner}/${name}`, list);
    return issue;
  }

  issue(owner: string, name: string, number: number): FakeIssue | undefined {
    return this.issues.get(`${owner}/${name}`)?.find((issue) => issue.number === number);
  }

  /** A comment made directly, as if by the given user (type "Bot" for a login ending in [bot]). */
  addComment(owner: string, name: string, number: number, input: { login: string; body: string }): FakeComment {
    const issue = this.issue(owner, name, number);
    if (!issue) throw new Error(`no issue ${owner}/${name}#${number}`);
    const id = this.nextId++;
    const now = this.now().toISOString();
    const comment = {
      id,
      node_id: `IC_${id}`,
      url: `${this.url}/repos/${owner}/${name}/issues/comments/${id}`,
      html_url: `${issue.html_url}#issuecomment-${id}`,
      issue_url: issue.url,
      body: input.body,
      user: this.user(input.login),
      created_at: now,
      updated_at: now,
      author_association: this.roles.has(`${owner}/${name}/${input.login}`) ? 'COLLABORATOR' : 'NONE',
    } satisfies FakeComment;
    const list = this.comments.get(Number(issue.id)) ?? [];
    list.push(comment);
    this.comments.set(Number(issue.id), list);
    issue.comments = list.length;
    issue.updated_at = now;
    return comment;
  }

  /** Edits a comment's body, whoever does it: the author stays, updated_at moves. */
  editComment(id: number, body: string): FakeComment {
    const comment = this.findComment(id);
    if (!comment) throw new Error(`no comment ${id}`);
    comment.body = body;
    comment.updated_at = this.now().toISOString();
    return comment;
  }

  deleteComment(id: number): void {
    for (const [issueId, list] of this.comments) {
      const at = list.findIndex((comment) => Number(comment.id) === id);
      if (at >= 0) {
        list.splice(at, 1);
        this.comments.set(issueId, list);
        for (const issues of this.issues.values()) {
          const issue = issues.find((i) => Number(i.id) === issueId);
          if (issue) issue.comments = list.length;
        }
      }
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
    const injectedAt = this.injected.findIndex(
      (i) => i.method === request.method && i.path.test(request.path) && (i.when?.(request) ?? true),
    );
    if (injectedAt >= 0) {
      const [{ response, landed }] = this.injected.splice(injectedAt, 1) as [Injected];
      if (landed) this.serve(request, rate);
      return { ...response, headers: { ...rate, ...response.headers } };
    }
    return this.serve(request, rate);
  }

  private serve(request: RecordedRequest, rate: Record<string, string>): ScriptedResponse {
    const auth = request.headers.authorization;
    const token = /^(?:token|Bearer) (.+)$/.exec(auth ?? '')?.[1];
    if (token === undefined || !this.users.has(token)) {
      return {
        status: 401,
        headers: rate,
        body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' },
      };
    }
    for (const [method, pattern, handler] of [...this.extraRoutes, ...this.routes]) {
      const match = pattern.exec(request.path);
      if (match && method === request.method) return handler(request, match.slice(1), rate);
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

  notFound(rate: Record<string, string>): ScriptedResponse {
    return {
      status: 404,
      headers: rate,
      body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
    };
  }

  userOf(request: RecordedRequest): string {
    const token = /^(?:token|Bearer) (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    return this.users.get(token) ?? 'ghost';
  }

  user(login: string): SimpleUser {
    const id = smallId(login);
    const url = `${this.url}/users/${encodeURIComponent(login)}`;
    return {
      login,
      id,
      node_id: `U_${id}`,
      avatar_url: '',
      gravatar_id: null,
      url,
      html_url: `https://github.test/${login}`,
      followers_url: `${url}/followers`,
      following_url: `${url}/following{/other_user}`,
      gists_url: `${url}/gists{/gist_id}`,
      starred_url: `${url}/starred{/owner}{/repo}`,
      subscriptions_url: `${url}/subscriptions`,
      organizations_url: `${url}/orgs`,
      repos_url: `${url}/repos`,
      events_url: `${url}/events{/privacy}`,
      received_events_url: `${url}/received_events`,
      type: login.endsWith('[bot]') ? 'Bot' : 'User',
      site_admin: false,
    };
  }

  private label(owner: string, name: string, label: string): Label {
    const id = smallId(`label:${label}`);
    return {
      id,
      node_id: `LA_${id}`,
      url: `${this.url}/repos/${owner}/${name}/labels/${encodeURIComponent(label)}`,
      name: label,
      description: null,
      color: 'ededed',
      default: false,
    };
  }

  private labelNames(issue: FakeIssue): string[] {
    return issue.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? '')));
  }

  private findComment(id: number): FakeComment | undefined {
    for (const list of this.comments.values()) {
      const comment = list.find((c) => Number(c.id) === id);
      if (comment) return comment;
    }
    return undefined;
  }

  private withIssue(
    owner: string,
    name: string,
    number: string,
    rate: Record<string, string>,
    then: (issue: FakeIssue) => ScriptedResponse,
  ): ScriptedResponse {
    const issue = this.issue(owner, name, Number(number));
    return issue ? then(issue) : this.notFound(rate);
  }

  private withComment(
    id: string,
    rate: Record<string, string>,
    then: (comment: FakeComment) => ScriptedResponse,
  ): ScriptedResponse {
    const comment = this.findComment(Number(id));
    return comment ? then(comment) : this.notFound(rate);
  }

  /** state (open by default, closed, all) and labels (every one named must be on the issue). */
  private listIssues(request: RecordedRequest, owner: string, name: string, rate: Record<string, string>) {
    const state = request.url.searchParams.get('state') ?? 'open';
    const labels = (request.url.searchParams.get('labels') ?? '')
      .split(',')
      .map((label) => label.trim())
      .filter((label) => label !== '');
    const issues = (this.issues.get(`${owner}/${name}`) ?? []).filter(
      (issue) =>
        (state === 'all' || issue.state === state) &&
        labels.every((label) => this.labelNames(issue).some((name) => name.toLowerCase() === label.toLowerCase())),
    );
    return this.list(request, rate, issues);
  }

  private createIssue(request: RecordedRequest, owner: string, name: string, rate: Record<string, string>) {
    const input = JSON.parse(request.body || '{}') as { title?: string; body?: string; labels?: string[] };
    if (!input.title) return { status: 422, headers: rate, body: { message: 'Validation Failed' } };
    const issue = this.addIssue(owner, name, {
      title: input.title,
      ...(input.body === undefined ? {} : { body: input.body }),
      ...(input.labels === undefined ? {} : { labels: input.labels }),
      login: this.userOf(request),
    });
    return { status: 201, headers: rate, body: issue };
  }

  private updateIssue(request: RecordedRequest, issue: FakeIssue, rate: Record<string, string>): ScriptedResponse {
    const input = JSON.parse(request.body || '{}') as {
      title?: string;
      body?: string;
      state?: 'open' | 'closed';
      labels?: string[];
    };
    const [owner, name] = new URL(issue.repository_url).pathname.split('/').slice(2) as [string, string];
    if (input.title !== undefined) issue.title = input.title;
    if (input.body !== undefined) issue.body = input.body;
    if (input.labels !== undefined) issue.labels = input.labels.map((label) => this.label(owner, name, label));
    if (input.state !== undefined && input.state !== issue.state) {
      issue.state = input.state;
      issue.closed_at = input.state === 'closed' ? this.now().toISOString() : null;
    }
    issue.updated_at = this.now().toISOString();
    return { headers: rate, body: issue };
  }

  private addLabels(request: RecordedRequest, issue: FakeIssue, rate: Record<string, string>): ScriptedResponse {
    const input = JSON.parse(request.body || '{}') as { labels?: string[] };
    const [owner, name] = new URL(issue.repository_url).pathname.split('/').slice(2) as [string, string];
    for (const label of input.labels ?? []) {
      if (!this.labelNames(issue).includes(label)) issue.labels.push(this.label(owner, name, label));
    }
    issue.updated_at = this.now().toISOString();
    return { headers: rate, body: issue.labels };
  }

  private listMembers(request: RecordedRequest, org: string, slug: string, rate: Record<string, string>) {
    const members = this.teams.get(`${org}/${slug}`);
    if (!members) return this.notFound(rate);
    return this.list(
      request,
      rate,
      members.map((login) => this.user(login)),
      'oldest-first',
    );
  }

  private permission(owner: string, name: string, login: string, rate: Record<string, string>): ScriptedResponse {
    const role = this.roles.get(`${owner}/${name}/${decodeURIComponent(login)}`);
    if (!role) return this.notFound(rate);
    const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
    const levels: RoleName[] = ['read', 'triage', 'write', 'maintain', 'admin'];
    const at = levels.indexOf(role);
    const user = {
      ...this.user(decodeURIComponent(login)),
      permissions: { pull: true, triage: at >= 1, push: at >= 2, maintain: at >= 3, admin: at >= 4 },
      role_name: role,
    } satisfies Collaborator;
    return { headers: rate, body: { permission, role_name: role, user } satisfies Permission };
  }

  private dispatch(
    request: RecordedRequest,
    owner: string,
    name: string,
    workflow: string,
    rate: Record<string, string>,
  ): ScriptedResponse {
    const input = JSON.parse(request.body || '{}') as { ref?: string; inputs?: Record<string, unknown> };
    if (!input.ref) return { status: 422, headers: rate, body: { message: 'Invalid request: ref is required' } };
    if (Object.keys(input.inputs ?? {}).length > 25)
      return { status: 422, headers: rate, body: { message: 'Too many inputs (at most 25)' } };
    this.dispatches.push({
      owner,
      repo: name,
      workflow: decodeURIComponent(workflow),
      ref: input.ref,
      inputs: input.inputs ?? {},
      by: this.userOf(request),
      at: this.now().toISOString(),
    });
    return { status: 204, headers: rate };
  }

  /** One resource with an ETag honoured by If-None-Match (a 304 is free of rate limit). */
  conditional(request: RecordedRequest, rate: Record<string, string>, body: object): ScriptedResponse {
    const etag = `"${createHash('sha1').update(JSON.stringify(body)).digest('hex')}"`;
    if (request.headers['if-none-match'] === etag) {
      this.rateLimitRemaining++;
      return { status: 304, headers: { ...rate, etag } };
    }
    return { headers: { ...rate, etag }, body };
  }

  /** GET /user: a person's token reads its account; an installation token (a bot) is refused, as on GitHub. */
  private authenticatedUser(request: RecordedRequest, rate: Record<string, string>): ScriptedResponse {
    const login = this.userOf(request);
    if (login.endsWith('[bot]')) {
      return {
        status: 403,
        headers: rate,
        body: {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
        },
      };
    }
    return { headers: rate, body: this.user(login) };
  }

  private commit(owner: string, name: string, sha: string, rate: Record<string, string>): ScriptedResponse {
    const commit = this.commits.get(`${owner}/${name}/${sha}`);
    if (!commit) {
      return { status: 422, headers: rate, body: { message: `No commit found for SHA: ${sha}` } };
    }
    return {
      headers: rate,
      body: {
        sha,
        html_url: `https://github.test/${owner}/${name}/commit/${sha}`,
        author: commit.author === null ? null : this.user(commit.author),
        committer: commit.committer === null ? null : this.user(commit.committer),
        commit: {
          message: 'change',
          author: { name: 'x', email: 'x@example.com' },
          // Only for a commit given a date: the shape the other callers have always seen stays.
          ...(commit.date === undefined ? {} : { committer: { name: 'x', email: 'x@example.com', date: commit.date } }),
        },
      },
    };
  }

  private compare(owner: string, name: string, basehead: string, rate: Record<string, string>): ScriptedResponse {
    const files = this.comparisons.get(`${owner}/${name}/${basehead}`);
    if (!files) return this.notFound(rate);
    const [base, head] = basehead.split('...') as [string, string];
    return {
      headers: rate,
      body: {
        url: `${this.url}/repos/${owner}/${name}/compare/${basehead}`,
        html_url: `https://github.test/${owner}/${name}/compare/${base}...${head}`,
        status: 'ahead',
        ahead_by: 1,
        behind_by: 0,
        total_commits: 1,
        commits: [],
        files: files.slice(0, 300).map((file, index) => ({
          sha: createHash('sha1').update(`${basehead}:${index}`).digest('hex'),
          filename: file.filename,
          status: 'modified',
          additions: file.additions,
          deletions: file.deletions,
          changes: file.additions + file.deletions,
        })),
      },
    };
  }

  private matches(deployment: Deployment, request: RecordedRequest): boolean {
    const environment = request.url.searchParams.get('environment');
    return environment === null || deployment.environment === environment;
  }

  /**
   * Newest first (or oldest first, as comments and team members come), per_page (max 100) and
   * page, a Link header, and an ETag honoured by If-None-Match.
   */
  list(
    request: RecordedRequest,
    rate: Record<string, string>,
    items: unknown[],
    order: 'newest-first' | 'oldest-first' = 'newest-first',
  ): ScriptedResponse {
    const perPage = Math.min(100, Number(request.url.searchParams.get('per_page') ?? 30));
    const page = Number(request.url.searchParams.get('page') ?? 1);
    const ordered = order === 'newest-first' ? [...items].reverse() : [...items];
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

  /**
   * The records that outlive a process (deployments with their statuses, issues with their
   * comments), as JSON: the local demo keeps them between runs, as GitHub would.
   */
  snapshot(): string {
    return JSON.stringify({
      url: this.url,
      nextId: this.nextId,
      deployments: this.deployments,
      statuses: [...this.statuses],
      issues: [...this.issues],
      comments: [...this.comments],
    });
  }

  /** Takes back what `snapshot` saved, its links moved to this server's address. */
  restore(saved: string): void {
    const { url } = JSON.parse(saved) as { url: string };
    const state = JSON.parse(saved.split(url).join(this.url)) as {
      nextId: number;
      deployments: Deployment[];
      statuses: [number, DeploymentStatus[]][];
      issues: [string, FakeIssue[]][];
      comments: [number, FakeComment[]][];
    };
    this.nextId = Math.max(this.nextId, state.nextId);
    this.deployments.push(...state.deployments);
    for (const [key, value] of state.statuses) this.statuses.set(key, value);
    for (const [key, value] of state.issues) this.issues.set(key, value);
    for (const [key, value] of state.comments) this.comments.set(key, value);
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
      creator: request.headers?.authorization ? this.user(this.userOf(request)) : null,
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
      creator: this.user(this.userOf(request)),
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
