import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { drillFigures } from '../../../packages/backup/src/index.ts';
import { createPgDatabase, dropPgDatabase } from '../../../test/helpers/databases.ts';
import { repoRoot } from '../../../test/helpers/run-action.ts';
import { ageKeyPair, backupAction, errorOf, tempDir } from './helpers.ts';

/** The freshness gate (check) and the DR drill's figures (verify), run the runner's way. */

const fakeNow = join(repoRoot, 'test', 'helpers', 'fake-now.ts');
/** Runs the action with its clock moved `hours` ahead. */
const later = (hours: number) => ({
  NODE_OPTIONS: `--import ${fakeNow}`,
  FAKE_NOW: new Date(Date.now() + hours * 3_600_000).toISOString(),
});

let source: string;
let keys: { identity: string; recipient: string };
const store = tempDir('freshness-');
const url = () => `postgres://postgres@127.0.0.1:5432/${source}`;
const inputs = () => ({ 'database-url': url(), store, identity: keys.identity });

beforeAll(async () => {
  source = await createPgDatabase('bkfresh');
  keys = await ageKeyPair();
});
afterAll(() => dropPgDatabase(source));

describe('check: the freshness gate counts only verified backups', () => {
  let id: string;

  it('fails while the only backup is not verified, saying so', async () => {
    const backup = await backupAction({ ...inputs(), recipients: keys.recipient });
    expect(errorOf(backup)).toBe('');
    id = backup.outputs['backup-id']!;
    const check = await backupAction({ ...inputs(), command: 'check' });
    expect(check.exitCode).toBe(1);
    expect(errorOf(check)).toMatch(
      /No verified backup of .* \(1 not verified yet\): nothing proves the data can be recovered/,
    );
    expect(check.outputs['newest-id']).toBe('');
  });

  it('passes once a restore verified it, with its age and the time it recovers to', async () => {
    const verify = await backupAction({ ...inputs(), command: 'verify' });
    expect(errorOf(verify)).toBe('');
    expect(Number(verify.outputs['restore-duration-seconds'])).toBeGreaterThan(0);
    expect(Number(verify.outputs['age-seconds'])).toBeLessThan(600);
    expect(verify.summary).toMatch(/DR drill/);
    expect(verify.summary).toMatch(/RTO \(restore and verify\)/);

    const check = await backupAction({ ...inputs(), command: 'check' });
    expect(errorOf(check)).toBe('');
    expect(check.outputs['newest-id']).toBe(id);
    expect(Number(check.outputs['age-seconds'])).toBeLessThan(600);
    expect(Date.parse(check.outputs['recoverable-until']!)).toBeLessThanOrEqual(Date.now());
    expect(check.summary).toMatch(/Backup freshness/);
  });

  it('fails when the newest verified data is older than max-age (1 h by default), and passes with a wider one', async () => {
    const stale = await backupAction({ ...inputs(), command: 'check' }, later(2));
    expect(stale.exitCode).toBe(1);
    expect(errorOf(stale)).toMatch(
      new RegExp(`newest verified backup of ${source} \\(${id}\\) holds data .* old, over max-age 1`),
    );
    expect(Number(stale.outputs['age-seconds'])).toBeGreaterThan(7000);
    const wider = await backupAction({ ...inputs(), command: 'check', 'max-age': '3h' }, later(2));
    expect(errorOf(wider)).toBe('');
  });

  it('fails a drill of the latest backup whose data misses the RPO, but does not judge a backup chosen by id', async () => {
    const drill = await backupAction({ ...inputs(), command: 'verify' }, later(2));
    expect(drill.exitCode).toBe(1);
    expect(errorOf(drill)).toMatch(
      /The drill missed its objectives: the newest backup's data is .* old, over the RPO of 1/,
    );
    // The restore itself worked: the backup stays verified and its figures are out.
    expect(drill.outputs.verified).toBe('true');
    expect(Number(drill.outputs['age-seconds'])).toBeGreaterThan(7000);

    const chosen = await backupAction({ ...inputs(), command: 'verify', 'backup-id': id }, later(2));
    expect(errorOf(chosen)).toBe('');
    expect(chosen.summary).toMatch(/not judged: a backup chosen by id/);
  });
});

describe('drill figures', () => {
  it('name a restore slower than the RTO, and data older than the RPO', () => {
    const figures = drillFigures({
      restoreMs: 5 * 3_600_000,
      maxRtoMs: 4 * 3_600_000,
      dataAgeMs: 2 * 3_600_000,
      maxAgeMs: 3_600_000,
      what: "the newest backup's data",
    });
    expect(figures.missed).toEqual([
      expect.stringMatching(/^the restore took 5 ?h.*over the RTO of 4 ?h/),
      expect.stringMatching(/^the newest backup's data is 2 ?h.*old, over the RPO of 1 ?h/),
    ]);
    expect(figures).toMatchObject({
      restoreSeconds: 18000,
      dataAgeSeconds: 7200,
      maxRtoSeconds: 14400,
      maxAgeSeconds: 3600,
    });
  });

  it('pass a drill inside both objectives', () => {
    const figures = drillFigures({
      restoreMs: 90_000,
      maxRtoMs: 4 * 3_600_000,
      dataAgeMs: 30 * 60_000,
      maxAgeMs: 3_600_000,
      what: "the newest backup's data",
    });
    expect(figures.missed).toEqual([]);
  });

  it('fail closed on an age that is not known', () => {
    const figures = drillFigures({
      restoreMs: 1000,
      maxRtoMs: 60_000,
      dataAgeMs: Number.NaN,
      maxAgeMs: 3_600_000,
      what: 'the newest recoverable point',
    });
    expect(figures.missed).toEqual(['the age of the newest recoverable point is unknown']);
  });
});
