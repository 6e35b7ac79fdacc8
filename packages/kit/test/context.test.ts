import { describe, expect, it } from '@jest/globals';
import { readRunContext } from '../src/index.ts';

describe('run context', () => {
  it('reads the runner environment, with the run URL and GHES API root', () => {
    const context = readRunContext({
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_RUN_ID: '99',
      GITHUB_RUN_ATTEMPT: '2',
      GITHUB_SERVER_URL: 'https://ghe.acme.internal',
      GITHUB_API_URL: 'https://ghe.acme.internal/api/v3',
      GITHUB_SHA: 'abc',
      GITHUB_ACTOR: 'alice',
      GITHUB_TRIGGERING_ACTOR: 'bob',
    });
    expect(context).toMatchObject({
      repository: 'acme/shop',
      runAttempt: 2,
      runUrl: 'https://ghe.acme.internal/acme/shop/actions/runs/99',
      apiUrl: 'https://ghe.acme.internal/api/v3',
      actor: 'alice',
      triggeringActor: 'bob',
    });
  });

  it('falls back to github.com and the actor when the variables are absent', () => {
    const context = readRunContext({ GITHUB_ACTOR: 'carol' });
    expect(context.apiUrl).toBe('https://api.github.com');
    expect(context.triggeringActor).toBe('carol');
    expect(context.runUrl).toBe('');
  });
});
