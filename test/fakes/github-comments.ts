import type { components } from '@octokit/openapi-types';
import type { RecordedRequest, ScriptedResponse } from '../helpers/http-server.ts';
import type { FakeGitHub } from './github.ts';

export type FakeCommitComment = components['schemas']['commit-comment'];

/**
 * Commit comments, as GitHub serves them: listed per commit (oldest first, paged, with ETags),
 * created on a commit, read, edited (the author stays, updated_at moves) and deleted by id under
 * /repos/{owner}/{repo}/comments/{id}. Bodies up to 65,536 characters, as on GitHub.
 */
export class FakeCommitComments {
  /** Comments by "owner/repo/sha", oldest first. */
  readonly comments = new Map<string, FakeCommitComment[]>();
  private nextId = 700_000;
  private readonly github: FakeGitHub;

  constructor(github: FakeGitHub) {
    this.github = github;
    const repo = '^/repos/([^/]+)/([^/]+)';
    github.addRoute('GET', new RegExp(`${repo}/commits/([0-9a-f]{7,40})/comments$`), (request, [o, n, sha], rate) =>
      github.list(request, rate, this.comments.get(`${o}/${n}/${sha}`) ?? [], 'oldest-first'),
    );
    github.addRoute('POST', new RegExp(`${repo}/commits/([0-9a-f]{40})/comments$`), (request, [o, n, sha], rate) => {
      const body = bodyOf(request);
      if (body === undefined) return invalid(rate);
      return { status: 201, headers: rate, body: this.add(o!, n!, sha!, { login: github.userOf(request), body }) };
    });
    github.addRoute('GET', new RegExp(`${repo}/comments/(\\d+)$`), (_request, [o, n, id], rate) => {
      const comment = this.find(o!, n!, Number(id));
      return comment ? { headers: rate, body: comment } : github.notFound(rate);
    });
    github.addRoute('PATCH', new RegExp(`${repo}/comments/(\\d+)$`), (request, [o, n, id], rate) => {
      const comment = this.find(o!, n!, Number(id));
      if (!comment) return github.notFound(rate);
      const body = bodyOf(request);
      if (body === undefined) return invalid(rate);
      comment.body = body;
      comment.updated_at = github.now().toISOString();
      return { headers: rate, body: comment };
    });
    github.addRoute('DELETE', new RegExp(`${repo}/comments/(\\d+)$`), (_request, [o, n, id], rate) => {
      if (!this.find(o!, n!, Number(id))) return github.notFound(rate);
      this.delete(Number(id));
      return { status: 204, headers: rate };
    });
  }

  /** A comment made directly on a commit, as if by the given user. */
  add(owner: string, name: string, sha: string, input: { login: string; body: string }): FakeCommitComment {
    const id = this.nextId++;
    const now = this.github.now().toISOString();
    const comment = {
      id,
      node_id: `CC_${id}`,
      url: `${this.github.url}/repos/${owner}/${name}/comments/${id}`,
      html_url: `https://github.test/${owner}/${name}/commit/${sha}#commitcomment-${id}`,
      body: input.body,
      path: null,
      position: null,
      line: null,
      commit_id: sha,
      user: this.github.user(input.login),
      created_at: now,
      updated_at: now,
      author_association: 'NONE',
    } satisfies FakeCommitComment;
    const key = `${owner}/${name}/${sha}`;
    this.comments.set(key, [...(this.comments.get(key) ?? []), comment]);
    return comment;
  }

  find(owner: string, name: string, id: number): FakeCommitComment | undefined {
    for (const [key, list] of this.comments) {
      if (!key.startsWith(`${owner}/${name}/`)) continue;
      const comment = list.find((c) => c.id === id);
      if (comment) return comment;
    }
    return undefined;
  }

  delete(id: number): void {
    for (const [key, list] of this.comments) {
      this.comments.set(
        key,
        list.filter((c) => c.id !== id),
      );
    }
  }
}

function bodyOf(request: RecordedRequest): string | undefined {
  try {
    const { body } = JSON.parse(request.body || '{}') as { body?: unknown };
    return typeof body === 'string' && body.length <= 65_536 ? body : undefined;
  } catch {
    return undefined;
  }
}

function invalid(rate: Record<string, string>): ScriptedResponse {
  return {
    status: 422,
    headers: rate,
    body: {
      message: 'Validation Failed',
      errors: [
        {
          resource: 'CommitComment',
          code: 'custom',
          field: 'body',
          message: 'body is too long (maximum is 65536 characters)',
        },
      ],
      documentation_url: 'https://docs.github.com/rest/commits/comments#create-a-commit-comment',
    },
  };
}
