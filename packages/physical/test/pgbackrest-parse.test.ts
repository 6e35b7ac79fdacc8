import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { InputError } from '@deploy-suite/kit';
import {
  PgBackRestError,
  archiveCommand,
  computeFreshness,
  findGap,
  formatTarget,
  freshnessVerdict,
  openPgBackRest,
  parseArchiveListing,
  parseInfo,
  parseSegment,
  parseVerifyReport,
  renderConfig,
  segmentName,
  type PgBackRestSettings,
  type StanzaInfo,
} from '../src/index.ts';
import { runBounded } from '../src/pgbackrest/run.ts';

// The parts that need no cluster: what is read back from pgBackRest, the config it is given, the
// WAL arithmetic, and how a tool's failure becomes one escaped line.

const work = mkdtempSync(join(tmpdir(), 'pgbr-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const settings: PgBackRestSettings = {
  stanza: 'main',
  repoPath: '/var/lib/pgbackrest',
  cipherPass: 'correct horse battery staple',
  pgPath: '/var/lib/postgresql/15/main',
  pgPort: 5432,
  pgSocketPath: '/var/run/postgresql',
  tempRoot: work,
};

const backup = (
  label: string,
  type: string,
  prior: string | null,
  start: number,
  walStart: string,
  walStop: string,
) => ({
  archive: { start: walStart, stop: walStop },
  backrest: { format: 5, version: '2.45' },
  database: { id: 1, 'repo-key': 1 },
  error: false,
  info: { delta: 100, repository: { delta: 10, size: 20 }, size: 100 },
  label,
  lsn: { start: '0/2000028', stop: '0/3000050' },
  prior,
  reference: prior === null ? null : [prior],
  timestamp: { start, stop: start + 4 },
  type,
});

const infoJson = (backups: unknown[]) =>
  JSON.stringify([
    {
      archive: [
        {
          database: { id: 1, 'repo-key': 1 },
          id: '15-1',
          max: '000000010000000000000006',
          min: '000000010000000000000001',
        },
      ],
      backup: backups,
      cipher: 'aes-256-cbc',
      db: [{ id: 1, 'repo-key': 1, 'system-id': 7712881855787487000, version: '15' }],
      name: 'main',
      repo: [{ cipher: 'aes-256-cbc', key: 1, status: { code: 0, message: 'ok' } }],
      status: { code: 0, lock: { backup: { held: false } }, message: 'ok' },
    },
  ]);

const FULL = backup(
  '20261127-160050F',
  'full',
  null,
  1795795250,
  '000000010000000000000002',
  '000000010000000000000003',
);
const INCR = backup(
  '20261127-160050F_20261127-160055I',
  'incr',
  '20261127-160050F',
  1795795255,
  '000000010000000000000006',
  '000000010000000000000006',
);

describe('pgbackrest info', () => {
  it('reads backups, their WAL range and the archive range', () => {
    const { info } = parseInfo(infoJson([INCR, FULL]), 'main');
    expect(info.archiveId).toBe('15-1');
    expect(info.pgVersion).toBe('15');
    expect(info.archive).toEqual({ min: '000000010000000000000001', max: '000000010000000000000006' });
    expect(info.backups.map((b) => b.label)).toEqual([FULL.label, INCR.label]);
    expect(info.backups[1]).toMatchObject({
      type: 'incr',
      prior: FULL.label,
      walStart: '000000010000000000000006',
      size: 100,
      repoSize: 20,
      start: new Date(1795795255 * 1000),
      stop: new Date(1795795259 * 1000),
    });
  });

  it.each([
    ['a label that is not pgBackRest’s', { ...FULL, label: '../../etc' }],
    ['an unknown backup type', { ...FULL, type: 'snapshot' }],
    ['a WAL name that is not a segment', { ...FULL, archive: { start: '0000000100000000000000zz', stop: null } }],
    ['a size as text', { ...FULL, info: { ...FULL.info, size: '100' } }],
    ['a negative time', { ...FULL, timestamp: { start: -1, stop: 2 } }],
  ])('refuses %s', (_, bad) => {
    expect(() => parseInfo(infoJson([bad]), 'main')).toThrow(/unexpected shape/);
  });

  it('refuses text that is not JSON and an answer without the stanza', () => {
    expect(() => parseInfo('::error::forged\n', 'main')).toThrow(/did not answer JSON: "::error::forged\\n"/);
    expect(() => parseInfo(infoJson([FULL]), 'other')).toThrow(/0 entries for stanza "other"/);
  });
});

describe('WAL segments', () => {
  it('counts across the boundary of a log id', () => {
    const last = parseSegment('0000000100000000000000FF');
    expect(segmentName(1, last.number + 1n)).toBe('000000010000000100000000');
    expect(parseSegment('000000020000000A0000003C')).toEqual({ timeline: 2, number: 10n * 256n + 60n });
  });

  it('finds the first missing segment from a starting one', () => {
    const names = [
      '000000010000000000000002',
      '000000010000000000000003',
      '000000010000000000000005',
      '000000010000000000000007',
    ];
    expect(findGap(names, 1, '000000010000000000000002')).toEqual({
      missing: '000000010000000000000004',
      after: '000000010000000000000003',
      before: '000000010000000000000005',
    });
    expect(findGap(names.slice(0, 2), 1, '000000010000000000000002')).toBeUndefined();
    expect(findGap(names, 1, '000000010000000000000001')?.missing).toBe('000000010000000000000001');
    expect(findGap(['0000000100000000000000FF', '000000010000000100000000'], 1, undefined)).toBeUndefined();
  });

  it('lists archived segments, leaving out backup history, timeline history and partial files', () => {
    const listing = {
      '.': { type: 'path' },
      '0000000100000000': { type: 'path' },
      '0000000100000000/000000010000000000000002-2067379e4b5efbbdfbff47d073198978c07cd733.gz': {
        type: 'file',
        size: 10,
        time: 1795795250,
      },
      '0000000100000000/000000010000000000000002.00000028.backup': { type: 'file', size: 400, time: 1795795254 },
      '0000000100000000/000000010000000000000003.partial-e255dc09177e7e7a393c3ca9dfd8e78ab516992b.gz': {
        type: 'file',
        size: 1,
        time: 1,
      },
      '00000002.history': { type: 'file', size: 40, time: 1795795260 },
    };
    expect(parseArchiveListing(JSON.stringify(listing))).toEqual([
      { name: '000000010000000000000002', storedAt: new Date(1795795250 * 1000) },
    ]);
    expect(() => parseArchiveListing('{"x": {"type": "file", "time": "soon"}}')).toThrow(/unexpected shape/);
  });

  it('freshness: the newest archived segment’s stored time, the segment before a gap when there is one', () => {
    const { info } = parseInfo(infoJson([FULL, INCR]), 'main');
    const seg = (n: number, time: number) => ({ name: segmentName(1, BigInt(n)), storedAt: new Date(time * 1000) });
    const all = [seg(2, 1795795250), seg(3, 1795795254), seg(4, 1795795255), seg(5, 1795795256), seg(6, 1795795300)];
    const now = new Date(1795795400 * 1000);
    const fresh = computeFreshness(info, all, now);
    expect(fresh).toMatchObject({ source: 'wal', ageSeconds: 100, newestLabel: INCR.label, gap: null });
    expect(fresh.recoverableUntil).toEqual(new Date(1795795300 * 1000));
    const gapped = computeFreshness(
      info,
      all.filter((s) => s.name !== segmentName(1, 4n)),
      now,
    );
    expect(gapped.gap?.missing).toBe('000000010000000000000004');
    // Past the gap nothing is recoverable from WAL: the newest backup's end is what is left.
    expect(gapped.source).toBe('backup');
    expect(gapped.recoverableUntil).toEqual(new Date(1795795259 * 1000));
    const empty: StanzaInfo = { ...info, backups: [] };
    expect(computeFreshness(empty, all, now)).toMatchObject({ recoverableUntil: null, ageSeconds: Infinity });

    // The gate fails closed.
    expect(freshnessVerdict(fresh, 3600)).toEqual({ ok: true, reasons: [] });
    expect(freshnessVerdict(fresh, 60).reasons).toEqual([
      'the newest recoverable point (2026-11-27T16:01:40.000Z) is 100 s old, over the 60 s allowed',
    ]);
    expect(freshnessVerdict(gapped, 3600).reasons).toEqual([
      'the WAL archive has a gap: segment 000000010000000000000004 is missing',
    ]);
    expect(freshnessVerdict(computeFreshness(empty, all, now), 3600).ok).toBe(false);
    expect(freshnessVerdict({ ...fresh, ageSeconds: NaN }, 3600).ok).toBe(false);
    expect(freshnessVerdict(fresh, NaN).ok).toBe(false);
  });
});

describe('the config', () => {
  it('holds every option the stanza needs, the passphrase in the file only', () => {
    const text = renderConfig(settings, '/tmp/x');
    for (const line of [
      'repo1-path=/var/lib/pgbackrest',
      'repo1-cipher-type=aes-256-cbc',
      'repo1-cipher-pass=correct horse battery staple',
      'repo1-retention-full=2',
      'lock-path=/tmp/x/lock',
      'log-path=/tmp/x/log',
      'archive-async=n',
      'start-fast=y',
      '[main]',
      'pg1-path=/var/lib/postgresql/15/main',
      'pg1-port=5432',
      'pg1-socket-path=/var/run/postgresql',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
  });

  it.each([
    ['a newline in a path (a second option)', { repoPath: '/repo\nrepo1-type=s3' }, /repoPath/],
    ['a relative path', { pgPath: 'data' }, /absolute/],
    ['a stanza that closes a section', { stanza: 'main]\n[global' }, /stanza/],
    ['a short passphrase', { cipherPass: 'short' }, /at least 8/],
    ['a passphrase on two lines', { cipherPass: 'long enough\nrepo1-path=/x' }, /one line/],
    ['a port out of range', { pgPort: 70000 }, /port/],
    ['an unknown compression', { compressType: 'xz' as 'gz' }, /compressType/],
  ])('refuses %s', (_, change, message) => {
    expect(() => renderConfig({ ...settings, ...change }, '/tmp/x')).toThrow(message);
  });

  it('writes archive_command only from plain names (it goes through a shell)', () => {
    expect(archiveCommand('/etc/pgbackrest/main.conf', 'main')).toBe(
      'pgbackrest --config=/etc/pgbackrest/main.conf --stanza=main archive-push %p',
    );
    expect(() => archiveCommand('/etc/pg backrest.conf', 'main')).toThrow(/plain names/);
    expect(() => archiveCommand("/x';rm -rf /'", 'main')).toThrow(/plain names/);
  });

  it('formats a target time for PostgreSQL in UTC with milliseconds', () => {
    expect(formatTarget(new Date('2026-11-27T16:00:50.123Z'))).toBe('2026-11-27 16:00:50.123+00');
  });
});

describe('pgbackrest verify report', () => {
  it('reports non-zero counts and statuses other than ok and valid', () => {
    const report = [
      'stanza: main',
      'status: error',
      '  archiveId: 15-1, total WAL checked: 5, total valid WAL: 4',
      '    missing: 0, checksum invalid: 1, size invalid: 0, other: 0',
      '  backup: 20261127-160050F, status: valid, total files checked: 964, total valid files: 964',
      '    missing: 0, checksum invalid: 0, size invalid: 0, other: 0',
    ].join('\n');
    expect(parseVerifyReport(report)).toEqual([
      'verify status: error',
      'archiveId: 15-1: missing: 0, checksum invalid: 1, size invalid: 0, other: 0',
    ]);
  });
});

describe('running pgbackrest', () => {
  const fakeBin = join(work, 'bin');
  const seen = join(work, 'seen');
  const fake = (body: string) => {
    rmSync(fakeBin, { recursive: true, force: true });
    mkdirSync(fakeBin, { recursive: true });
    writeFileSync(join(fakeBin, 'pgbackrest'), `#!/bin/sh\n{ echo "ARGS $*"; env; } > ${seen}\n${body}\n`);
    chmodSync(join(fakeBin, 'pgbackrest'), 0o755);
  };

  it('passes no passphrase in argv or the environment, and no variable of the runner', async () => {
    fake('echo "[]"');
    const backrest = openPgBackRest({
      ...settings,
      env: { PATH: `${fakeBin}:/usr/bin:/bin`, PGBACKREST_REPO1_PATH: '/elsewhere' },
    });
    try {
      await expect(backrest.info()).rejects.toThrow(/0 entries for stanza/);
      const text = readFileSync(seen, 'utf8');
      expect(text).toMatch(/^ARGS --config=\S+pgbackrest.conf --stanza=main --output=json info$/m);
      expect(text).not.toContain('battery');
      expect(text).not.toContain('PGBACKREST');
      expect(readFileSync(backrest.config.path, 'utf8')).toContain('repo1-cipher-pass=correct horse battery staple');
    } finally {
      backrest.close();
    }
  });

  it('turns a failure into one escaped line naming the command and pgBackRest’s error code', async () => {
    fake('printf "ERROR: [055]: unable to find stanza\\n::error::forged annotation\\n" >&2; exit 55');
    const backrest = openPgBackRest({ ...settings, env: { PATH: `${fakeBin}:/usr/bin:/bin` } });
    try {
      const error = await backrest.stanzaCreate().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PgBackRestError);
      expect((error as PgBackRestError).code).toBe(55);
      expect((error as Error).message).toBe(
        'pgbackrest stanza-create failed (exit 55, pgBackRest error 055): ERROR: [055]: unable to find stanza\\n::error::forged annotation',
      );
      expect((error as Error).message).not.toContain('\n');
    } finally {
      backrest.close();
    }
  });

  // info and repo-ls answered from the fixtures above; restore recorded, then failed (nothing to start).
  const fakeRepository = (restoreBody = 'exit 1') => {
    const listing: Record<string, unknown> = { '.': { type: 'path' } };
    for (let n = 1; n <= 6; n++) {
      listing[`0000000100000000/${segmentName(1, BigInt(n))}-${'a'.repeat(40)}.gz`] = {
        type: 'file',
        size: 10,
        time: 1795795300,
      };
    }
    writeFileSync(join(work, 'info.json'), infoJson([FULL, INCR]));
    writeFileSync(join(work, 'ls.json'), JSON.stringify(listing));
    rmSync(fakeBin, { recursive: true, force: true });
    mkdirSync(fakeBin, { recursive: true });
    writeFileSync(
      join(fakeBin, 'pgbackrest'),
      [
        '#!/bin/sh',
        'case "$*" in',
        `  *" info") cat ${join(work, 'info.json')} ;;`,
        `  *" repo-ls "*) cat ${join(work, 'ls.json')} ;;`,
        `  *" restore") echo "ARGS $*" > ${seen}; ${restoreBody} ;;`,
        '  *) exit 99 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(join(fakeBin, 'pgbackrest'), 0o755);
  };

  it('restores every tablespace into a folder of its own next to the data folder, removed with it', async () => {
    fakeRepository();
    const backrest = openPgBackRest({ ...settings, env: { PATH: `${fakeBin}:/usr/bin:/bin` } });
    const into = join(work, 'restore-ts');
    try {
      const error = await backrest.restore({ target: { backup: INCR.label }, into }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PgBackRestError);
      const args = readFileSync(seen, 'utf8').trim().split(' ');
      expect(args).toContain(`--tablespace-map-all=${into}.tablespaces`);
      expect(args).toContain(`--pg1-path=${into}`);
      expect(existsSync(into)).toBe(false);
      expect(existsSync(`${into}.tablespaces`)).toBe(false);
    } finally {
      backrest.close();
    }
  });

  it('refuses a folder inside (or holding) the repository, or whose tablespace folder exists', async () => {
    fakeRepository();
    const backrest = openPgBackRest({ ...settings, env: { PATH: `${fakeBin}:/usr/bin:/bin` } });
    try {
      for (const into of ['/var/lib/pgbackrest/restore', '/var/lib/pgbackrest']) {
        const error = await backrest.restore({ target: 'latest', into }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InputError);
        expect((error as Error).message).toMatch(/overlaps the pgBackRest repository/);
      }
      mkdirSync(join(work, 'taken.tablespaces'));
      const taken = await backrest.restore({ target: 'latest', into: join(work, 'taken') }).catch((e: unknown) => e);
      expect((taken as Error).message).toMatch(/taken.tablespaces" exists/);
      expect(existsSync(join(work, 'taken'))).toBe(false);
    } finally {
      backrest.close();
    }
  });

  it("caps every time bound by the caller's deadline, and starts nothing once it has passed", async () => {
    fake('sleep 30');
    const env = { PATH: `${fakeBin}:/usr/bin:/bin` };
    const soon = openPgBackRest({ ...settings, env }, { deadline: new Date(Date.now() + 2500) });
    const late = openPgBackRest({ ...settings, env }, { deadline: new Date(Date.now() - 1000) });
    try {
      const started = Date.now();
      await expect(soon.info()).rejects.toThrow(/did not finish within [12] s/);
      expect(Date.now() - started).toBeLessThan(10_000);
      rmSync(seen, { force: true });
      await expect(late.info()).rejects.toThrow(/deadline \(.*\) has passed; pgbackrest info was not started/);
      expect(existsSync(seen)).toBe(false);
    } finally {
      soon.close();
      late.close();
    }
  });

  it('stops a tool that overruns its time bound', async () => {
    const result = await runBounded('/bin/sleep', ['30'], { timeoutSeconds: 1, env: { PATH: '/usr/bin:/bin' } });
    expect(result.timedOut).toBe(true);
    expect(result.code).toBe(124);
  });
});
