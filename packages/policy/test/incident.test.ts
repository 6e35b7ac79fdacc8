import { describe, expect, it } from '@jest/globals';
import { incidentSeverity, parseIncidentSeverity, type IncidentFacts } from '../src/index.ts';

const none: IncidentFacts = {
  status: 'failed',
  trafficMoved: false,
  rolledBack: false,
  rollbackFailed: false,
  databaseRestored: false,
  migrated: false,
  backedUp: false,
};

describe('incident severity', () => {
  it.each<[string, Partial<IncidentFacts>, string, RegExp]>([
    ['a failure before anything changed', {}, 'P4', /before it changed anything/],
    ['a failure after the backup', { backedUp: true }, 'P3', /backup was taken/],
    ['a failure after migrations ran', { migrated: true, backedUp: true }, 'P3', /migrations ran/],
    ['a failure after traffic moved, not rolled back', { trafficMoved: true, migrated: true }, 'P1', /left broken/],
    [
      'a failure after traffic moved that a rollback undid',
      { trafficMoved: true, rolledBack: true },
      'P2',
      /rolled back/,
    ],
    [
      'a rollback',
      { status: 'rolled-back', trafficMoved: true, rolledBack: true },
      'P2',
      /served by the failed release/,
    ],
    ['a rollback with no switched stage seen', { status: 'rolled-back' }, 'P2', /rolled back/],
    ['a failed rollback', { status: 'rolled-back', rollbackFailed: true }, 'P1', /rollback failed/],
    ['a failed rollback of a failure', { trafficMoved: true, rollbackFailed: true }, 'P1', /rollback failed/],
    [
      'a restored database after a rollback',
      { status: 'rolled-back', databaseRestored: true },
      'P1',
      /data .* is lost/,
    ],
    ['a restored database before traffic moved', { migrated: true, databaseRestored: true }, 'P1', /data .* is lost/],
  ])('%s is %s', (_, facts, severity, reason) => {
    const assessed = incidentSeverity({ ...none, ...facts });
    expect(assessed.severity).toBe(severity);
    expect(assessed.reason).toMatch(reason);
  });

  it('reads P1..P4 in any case and nothing else', () => {
    expect(parseIncidentSeverity('p2')).toBe('P2');
    expect(parseIncidentSeverity(' P4 ')).toBe('P4');
    expect(parseIncidentSeverity('P5')).toBeUndefined();
    expect(parseIncidentSeverity('critical')).toBeUndefined();
  });
});
