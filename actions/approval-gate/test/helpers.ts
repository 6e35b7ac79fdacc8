import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { repoRoot, runBuiltAction, type ActionRun, type RunOptions } from '../../../test/helpers/run-action.ts';

export const OWNER = 'acme';
export const REPO = 'service';
/** The workflow token: an installation token, so GET /user is refused and token-login says who it is. */
export const GATE_TOKEN = 'ghs_gatetoken00000000000000000000000000';
export const GATE_LOGIN = 'github-actions[bot]';
export const SHA_A = 'a'.repeat(40);
export const SHA_B = 'b'.repeat(40);
export const BASE = 'c'.repeat(40);
/** The first Sunday of December 2026, inside the default window 02:00-04:00 UTC. */
export const IN_WINDOW = '2026-12-06T02:30:00Z';
/** A Wednesday afternoon: outside every window. */
export const OUTSIDE_WINDOW = '2026-12-09T15:00:00Z';
export const POLICY = 'time-zone: UTC\nnotice: 7d';
export const PEOPLE = ['alice', 'bob', 'carol', 'dev', 'releaser', 'retrier'];

const fakeNow = join(repoRoot, 'test', 'helpers', 'fake-now.ts');

/** The fake GitHub with the repository's people, the gate's bot, and a clock that ticks a second a call. */
export async function startGitHub(): Promise<{ github: FakeGitHub; setClock: (iso: string) => void }> {
  const github = await FakeGitHub.start();
  github.addUser(GATE_LOGIN, GATE_TOKEN);
  for (const login of PEOPLE) github.setRole(OWNER, REPO, login, 'write');
  github.setComparison(OWNER, REPO, BASE, SHA_A, [{ filename: 'src/app.ts', additions: 10, deletions: 2 }]);
  github.setComparison(OWNER, REPO, BASE, SHA_B, [{ filename: 'src/app.ts', additions: 12, deletions: 2 }]);
  github.setCommit(OWNER, REPO, SHA_A, { author: 'dev', pulls: ['dev'] });
  github.setCommit(OWNER, REPO, SHA_B, { author: 'dev', pulls: ['dev'] });
  let clock = Date.parse('2026-11-27T09:00:00Z');
  github.now = () => new Date((clock += 1000));
  return { github, setClock: (iso) => (clock = Date.parse(iso)) };
}

export interface GateRun {
  inputs?: Record<string, string>;
  /** The action's own time (its Date), e.g. IN_WINDOW. */
  now?: string;
  event?: { name: string; payload: Record<string, unknown> };
  env?: Record<string, string>;
  options?: RunOptions;
}

/** Runs the built action as the runner does, against the fake, at the given time. */
export function runGate(github: FakeGitHub, run: GateRun = {}): Promise<ActionRun> {
  const folder = mkdtempSync(join(tmpdir(), 'gate-event-'));
  const eventPath = join(folder, 'event.json');
  const event = run.event ?? { name: 'push', payload: { head_commit: { author: { username: 'dev' } } } };
  writeFileSync(eventPath, JSON.stringify(event.payload));
  return runBuiltAction(
    'approval-gate',
    {
      'github-token': GATE_TOKEN,
      'token-login': GATE_LOGIN,
      environment: 'production',
      approvers: 'alice, bob, carol, dev, releaser, retrier',
      policy: POLICY,
      sha: SHA_A,
      'base-sha': BASE,
      ...run.inputs,
    },
    {
      timeoutMs: 60_000,
      ...run.options,
      env: {
        GITHUB_API_URL: github.url,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_EVENT_NAME: event.name,
        GITHUB_ACTOR: 'releaser',
        GITHUB_TRIGGERING_ACTOR: 'releaser',
        NODE_OPTIONS: `--import ${fakeNow}`,
        FAKE_NOW: run.now ?? IN_WINDOW,
        ...run.env,
        ...run.options?.env,
      },
    },
  );
}

/** The issue_comment event GitHub sends the decision listener. */
export function commentEvent(
  number: number,
  commenter: string,
  labels = ['change-request'],
): { name: string; payload: Record<string, unknown> } {
  return {
    name: 'issue_comment',
    payload: {
      action: 'created',
      issue: { number, labels: labels.map((name) => ({ name })) },
      comment: { user: { login: commenter, type: commenter.endsWith('[bot]') ? 'Bot' : 'User' } },
      repository: { default_branch: 'main' },
    },
  };
}
