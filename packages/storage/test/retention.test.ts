import { describe, expect, it } from '@jest/globals';
import { planRetention, type BackupManifest, type RetentionPolicy } from '../src/index.ts';

const manifest = (completedAt: string, extra: Partial<BackupManifest> = {}): BackupManifest =>
  ({ id: completedAt, completedAt, labels: [], verified: null, ...extra }) as BackupManifest;

const policy = (overrides: Partial<RetentionPolicy> = {}): RetentionPolicy => ({
  keepDaily: 0,
  keepWeekly: 0,
  keepMonthly: 0,
  keepYearly: 0,
  keepPreDeployDays: 0,
  ...overrides,
});

/** A backup every 6 hours for 400 days before 2026-11-27. */
const history = Array.from({ length: 400 * 4 }, (_, i) =>
  manifest(new Date(Date.parse('2026-11-27T00:00:00Z') - i * 6 * 3_600_000).toISOString()),
);
const now = new Date('2026-11-27T06:00:00Z');

describe('retention', () => {
  it('keeps the newest backup of each of the last 30 days and 12 months (the operations policy)', () => {
    const plan = planRetention(history, policy({ keepDaily: 30, keepMonthly: 12 }), now);
    const kept = plan.keep.map((k) => k.manifest.completedAt);
    const days = new Set(kept.map((t) => t.slice(0, 10)));
    expect(plan.keep.filter((k) => k.reasons.some((r) => r.startsWith('daily'))).length).toBe(30);
    expect(plan.keep.filter((k) => k.reasons.some((r) => r.startsWith('monthly'))).length).toBe(12);
    expect(kept).toContain('2026-11-27T00:00:00.000Z');
    // Each kept daily is the newest of its day (18:00 is the last of the 6-hour slots).
    expect(kept).toContain('2026-11-26T18:00:00.000Z');
    expect(kept).not.toContain('2026-11-26T12:00:00.000Z');
    expect(days.size).toBeLessThanOrEqual(30 + 12);
    expect(plan.keep.length + plan.remove.length).toBe(history.length);
  });

  it('keeps weekly and yearly buckets', () => {
    const plan = planRetention(history, policy({ keepWeekly: 8, keepYearly: 2 }), now);
    expect(plan.keep.filter((k) => k.reasons.some((r) => r.startsWith('weekly'))).length).toBe(8);
    expect(
      plan.keep
        .filter((k) => k.reasons.some((r) => r.startsWith('yearly')))
        .map((k) => k.manifest.completedAt.slice(0, 4)),
    ).toEqual(['2026', '2025']);
  });

  it('keeps pre-deploy backups for their window only', () => {
    const backups = [
      manifest('2026-11-26T10:00:00.000Z', { labels: ['pre-deploy'] }),
      manifest('2026-11-20T10:00:00.000Z', { labels: ['pre-deploy'] }),
      manifest('2026-11-27T01:00:00.000Z'),
    ];
    const plan = planRetention(backups, policy({ keepPreDeployDays: 3 }), now);
    expect(plan.keep.map((k) => k.manifest.completedAt)).toEqual([
      '2026-11-27T01:00:00.000Z',
      '2026-11-26T10:00:00.000Z',
    ]);
    expect(plan.remove.map((m) => m.completedAt)).toEqual(['2026-11-20T10:00:00.000Z']);
  });

  it('never deletes the newest verified backup or the newest backup, whatever the policy', () => {
    const verified = manifest('2026-01-01T00:00:00.000Z', {
      verified: { at: 'x', tables: 1, runUrl: '' },
    });
    const plan = planRetention([...history.slice(0, 50), verified], policy(), now);
    expect(plan.keep.map((k) => [k.manifest.completedAt, k.reasons])).toEqual([
      ['2026-11-27T00:00:00.000Z', ['newest backup']],
      ['2026-01-01T00:00:00.000Z', ['newest verified backup']],
    ]);
    expect(plan.remove).toHaveLength(49);
  });

  it('orders by recorded completion time, not by input order or id', () => {
    const shuffled = [
      manifest('2026-11-25T00:00:00.000Z', { id: 'z' }),
      manifest('2026-11-26T00:00:00.000Z', { id: 'a' }),
    ];
    expect(planRetention(shuffled, policy(), now).keep[0]!.manifest.id).toBe('a');
  });
});
