import type { components } from '@octokit/openapi-types';
import type { RecordedRequest } from '../helpers/http-server.ts';
import type { FakeGitHub } from './github.ts';

type CheckRun = components['schemas']['check-run'];
type Status = components['schemas']['status'];

export interface CheckRunInput {
  name: string;
  /** The app that made it, by slug (github-actions, a CI app…). */
  app?: string;
  status?: 'queued' | 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required' | null;
  completedAt?: string;
  /** The check's output: a title, a summary and text (migrate's test evidence travels here). */
  output?: { title?: string; summary?: string; text?: string };
  detailsUrl?: string;
}

export interface StatusInput {
  context: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  description?: string;
  creator?: string;
  targetUrl?: string;
}

/**
 * Check runs and commit statuses on a commit, as GitHub serves them: check runs wrapped in
 * { total_count, check_runs } and paged (per_page up to 100, Link headers, ETags), statuses
 * newest first and paged, each made by an app or a user.
 */
export class FakeChecks {
  readonly runs = new Map<string, CheckRun[]>();
  readonly statuses = new Map<string, Status[]>();
  private nextId = 50_000;
  /** Check runs edited in place (PATCH), counted. */
  updates = 0;
  private readonly github: FakeGitHub;

  constructor(github: FakeGitHub) {
    this.github = github;
    const repo = '^/repos/([^/]+)/([^/]+)';
    github.addRoute('GET', new RegExp(`${repo}/commits/([^/]+)/check-runs$`), (request, [o, n, ref], rate) => {
      const all = this.runs.get(`${o}/${n}/${decodeURIComponent(ref!)}`) ?? [];
      const name = request.url.searchParams.get('check_name');
      const status = request.url.searchParams.get('status');
      const filtered = all.filter(
        (run) => (name === null || run.name === name) && (status === null || run.status === status),
      );
      const page = github.list(request, rate, filtered, 'oldest-first');
      if (page.status === 304) return page;
      return { ...page, body: { total_count: filtered.length, check_runs: page.body as CheckRun[] } };
    });
    github.addRoute('GET', new RegExp(`${repo}/commits/([^/]+)/statuses$`), (request, [o, n, ref], rate) =>
      github.list(request, rate, this.statuses.get(`${o}/${n}/${decodeURIComponent(ref!)}`) ?? [], 'oldest-first'),
    );
    // Writes as GitHub's checks API takes them from GITHUB_TOKEN: the run is the github-actions app's.
    github.addRoute('POST', new RegExp(`${repo}/check-runs$`), (request, [o, n], rate) => {
      const body = JSON.parse(request.body || '{}') as {
        name?: string;
        head_sha?: string;
        external_id?: string;
        status?: CheckRunInput['status'];
        conclusion?: CheckRunInput['conclusion'];
        output?: CheckRunInput['output'];
      };
      if (!body.name || !body.head_sha) return { status: 422, headers: rate, body: { message: 'Validation Failed' } };
      const run = this.addCheckRun(o!, n!, body.head_sha, {
        name: body.name,
        ...(body.status ? { status: body.status } : {}),
        ...(body.conclusion ? { conclusion: body.conclusion } : {}),
        ...(body.output ? { output: body.output } : {}),
      });
      (run as { external_id: string | null }).external_id = body.external_id ?? null;
      return { status: 201, headers: rate, body: run };
    });
    github.addRoute('PATCH', new RegExp(`${repo}/check-runs/(\\d+)$`), (request, [, , id], rate) => {
      const run = [...this.runs.values()].flat().find((r) => r.id === Number(id));
      if (!run) return github.notFound(rate);
      const body = JSON.parse(request.body || '{}') as { output?: CheckRunInput['output'] };
      if (body.output) {
        run.output = {
          ...run.output,
          title: body.output.title ?? null,
          summary: body.output.summary ?? null,
          text: body.output.text ?? null,
        };
      }
      this.updates++;
      return { headers: rate, body: run };
    });
    github.addRoute('GET', new RegExp(`${repo}/check-runs/(\\d+)$`), (_request: RecordedRequest, [, , id], rate) => {
      for (const list of this.runs.values()) {
        const run = list.find((r) => r.id === Number(id));
        if (run) return { headers: rate, body: run };
      }
      return github.notFound(rate);
    });
  }

  /** A check run on a commit (newest last, as they were made). */
  addCheckRun(owner: string, name: string, sha: string, input: CheckRunInput): CheckRun {
    const id = this.nextId++;
    const app = input.app ?? 'github-actions';
    const status = input.status ?? 'completed';
    const completedAt = status === 'completed' ? (input.completedAt ?? this.github.now().toISOString()) : null;
    const run = {
      id,
      head_sha: sha,
      node_id: `CR_${id}`,
      external_id: null,
      url: `${this.github.url}/repos/${owner}/${name}/check-runs/${id}`,
      html_url: `https://github.test/${owner}/${name}/runs/${id}`,
      details_url: input.detailsUrl ?? null,
      status,
      conclusion: status === 'completed' ? (input.conclusion ?? 'success') : null,
      started_at: completedAt ?? this.github.now().toISOString(),
      completed_at: completedAt,
      output: {
        title: input.output?.title ?? null,
        summary: input.output?.summary ?? null,
        text: input.output?.text ?? null,
        annotations_count: 0,
        annotations_url: `${this.github.url}/repos/${owner}/${name}/check-runs/${id}/annotations`,
      },
      name: input.name,
      check_suite: { id: id + 1 },
      app: {
        id: app.length * 1000 + 7,
        slug: app,
        node_id: `A_${app}`,
        owner: null,
        name: app,
        description: null,
        external_url: `https://github.test/apps/${app}`,
        html_url: `https://github.test/apps/${app}`,
        created_at: '2020-01-01T00:00:00Z',
        updated_at: '2020-01-01T00:00:00Z',
        permissions: {},
        events: [],
      },
      pull_requests: [],
    } as unknown as CheckRun;
    const key = `${owner}/${name}/${sha}`;
    this.runs.set(key, [...(this.runs.get(key) ?? []), run]);
    return run;
  }

  /** A commit status (the older API some CI systems still use). */
  addStatus(owner: string, name: string, sha: string, input: StatusInput): Status {
    const id = this.nextId++;
    const now = this.github.now().toISOString();
    const status = {
      url: `${this.github.url}/repos/${owner}/${name}/statuses/${sha}`,
      avatar_url: null,
      id,
      node_id: `ST_${id}`,
      state: input.state,
      description: input.description ?? null,
      target_url: input.targetUrl ?? null,
      context: input.context,
      created_at: now,
      updated_at: now,
      creator: this.github.user(input.creator ?? 'ci-bot[bot]'),
    } as unknown as Status;
    const key = `${owner}/${name}/${sha}`;
    this.statuses.set(key, [status, ...(this.statuses.get(key) ?? [])]);
    return status;
  }
}
