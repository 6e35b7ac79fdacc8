import { describe, expect, it } from '@jest/globals';
import {
  assessIncident,
  incidentBody,
  incidentTimeline,
  incidentTitle,
  newThread,
  POST_MORTEM_MARK,
  postMortemTemplate,
  recordFacts,
  type IncidentInputs,
  type IncidentRecord,
  type ThreadState,
} from '../src/index.ts';
import { switchRecordPayload } from '../../../test/helpers/deployment-records.ts';
import { messageFactory } from './support.ts';

const SHA = 'a'.repeat(40);

function record(statuses: [string, string, string, boolean?][], rolledBack: number | null = null): IncidentRecord {
  return {
    id: 7,
    environment: 'production',
    createdAt: '2026-11-27T10:00:00Z',
    creator: 'github-actions[bot]',
    payload: switchRecordPayload({ sha: SHA, rolledBack }),
    statuses: statuses.map(([state, description, createdAt, own = true]) => ({
      state: state as IncidentRecord['statuses'][number]['state'],
      description,
      createdAt,
      creator: own ? 'github-actions[bot]' : 'mallory',
      own,
    })),
  };
}

function inputs(status: 'failed' | 'rolled-back', stages: string[], rec?: IncidentRecord): IncidentInputs {
  const thread: ThreadState = {
    ...newThread('k', '2026-11-27T10:00:00Z'),
    stages: stages.map((s, i) => ({
      status: s as ThreadState['stages'][number]['status'],
      at: `2026-11-27T10:0${i + 1}:00Z`,
      severity: 'info',
    })),
  };
  const message = {
    ...messageFactory({
      service: 'shop',
      environment: 'production',
      version: 'v1',
      sha: SHA,
      severity: 'error',
      at: '2026-11-27T10:09:00Z',
      startedAt: thread.startedAt,
      repository: 'acme/shop',
    })(status),
    status,
  };
  return {
    message,
    thread,
    record: rec,
    deploymentId: rec?.id,
    databaseRestored: false,
    severityOverride: undefined,
    changeRequest: undefined,
  };
}

describe('facts from the deployment record', () => {
  it("a rollback's own record that failed is a failed rollback: P1", () => {
    const rollback = record(
      [
        ['in_progress', 'roll back to blue', '2026-11-27T10:05:00Z'],
        ['failure', 'rollback failed', '2026-11-27T10:06:00Z'],
      ],
      6,
    );
    expect(recordFacts(rollback)).toMatchObject({ rollbackFailed: true, rolledBack: false });
    expect(assessIncident(inputs('rolled-back', ['switched', 'rolled-back'], rollback)).severity).toBe('P1');
  });

  it('a switch that failed and was rolled back automatically is P2; one left failing is P1', () => {
    const undone = record([
      ['in_progress', 'switch to green', '2026-11-27T10:01:00Z'],
      ['failure', 'switch to green failed', '2026-11-27T10:02:00Z'],
      ['inactive', 'rolled back automatically', '2026-11-27T10:03:00Z'],
    ]);
    expect(assessIncident(inputs('failed', [], undone)).severity).toBe('P2');
    const broken = record([
      ['in_progress', 'switch to green', '2026-11-27T10:01:00Z'],
      ['failure', 'switch to green failed', '2026-11-27T10:02:00Z'],
    ]);
    expect(assessIncident(inputs('failed', [], broken)).severity).toBe('P1');
  });

  it("counts only the token's own statuses as facts, and shows the others as someone else's", () => {
    const forged = record([
      ['in_progress', 'switch to green', '2026-11-27T10:01:00Z'],
      ['inactive', 'rolled back automatically', '2026-11-27T10:02:00Z', false],
    ]);
    expect(recordFacts(forged).rolledBack).toBe(false);
    const timeline = incidentTimeline(inputs('failed', []).thread, forged);
    expect(timeline.at(-1)!.detail).toBe('rolled back automatically (posted by mallory, not the suite)');
  });
});

describe('the timeline', () => {
  it("merges the record's statuses and the thread's stages in time order", () => {
    const rec = record([
      ['success', 'green live', '2026-11-27T10:02:30Z'],
      ['in_progress', 'switch to green', '2026-11-27T10:00:30Z'],
    ]);
    const timeline = incidentTimeline(inputs('failed', ['started', 'switched', 'failed']).thread, rec);
    expect(timeline.map((entry) => entry.event)).toEqual([
      'deployment 7 recorded',
      'deployment in progress',
      'started',
      'switched',
      'deployment success',
      'failed',
    ]);
  });
});

describe('the issue', () => {
  it('keeps the post-mortem people wrote, and writes the template only when there is none', () => {
    expect(incidentBody('head', undefined)).toContain(postMortemTemplate());
    const theirs = `old head\n\n---\n\n${POST_MORTEM_MARK}\n\n## Post-mortem\n\nThe cache was cold.`;
    const body = incidentBody('new head', theirs);
    expect(body.startsWith('new head')).toBe(true);
    expect(body).toContain('The cache was cold.');
    expect(body).not.toContain('old head');
  });

  it('titles hold no mention or reference and stay on one line', () => {
    const message = { ...inputs('failed', []).message, service: '@acme/team\n#12', version: 'v1 @here' };
    const title = incidentTitle(message, 'P3');
    expect(title).toBe('[P3] production: @\u200bacme/team #\u200b12 v1 @\u200bhere failed');
  });
});
