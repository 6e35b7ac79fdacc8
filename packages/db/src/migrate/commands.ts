import { randomBytes } from 'node:crypto';
import { ConfigurationError, InputError } from '@deploy-suite/kit';
import type { Connection, Engine } from '../connection.ts';
import {
  compareVersions,
  folderHash,
  parseVersion,
  planHash,
  readMigrations,
  type MigrationSet,
  type MigrationFile,
  type Phase,
} from './files.ts';
import { openEngine } from '../index.ts';
import { openDriver, type DriverOptions, type HistoryRow, type MigrationDriver } from './driver.ts';
import { lintMigration, type LintFinding } from './lint.ts';
import { splitMysql, splitPostgres, SqlSyntaxError, type Statement } from './split.ts';

export interface MigrateOptions extends DriverOptions {
  connection: Connection;
  folder: string;
  /** Apply up to and including this version; undo down to (keeping) this version. */
  target?: string;
  phase?: Phase;
  expectedPlanHash?: string;
  acceptCosmeticChanges?: boolean;
  /** Apply pending versions older than the newest applied one (refused unless asked). */
  allowOutOfOrder?: boolean;
  lockWaitMs: number;
  /** Who applies: run URL and actor, recorded in the history and shown to lock waiters. */
  appliedBy: string;
  log?: (message: string) => void;
}

export interface Applied {
  version: string;
  description: string;
  executionMs: number;
}

export interface MigrateResult {
  applied: Applied[];
  pending: { version: string; description: string; phase: Phase | null }[];
  currentVersion: string | null;
  /**
   * SHA-256 over every V file (version and contents): a changed or new pending file changes it,
   * while applying part of the plan (the expand phase, then contract) does not.
   */
  planHash: string;
  lint: LintFinding[];
  validation: string[];
}

/** Split once per file and engine: lint and apply need the same statements. */
const splitCache = new Map<string, Promise<Statement[]>>();

export function splitFor(engine: Engine, file: MigrationFile): Promise<Statement[]> {
  const key = `${engine}:${file.checksum}`;
  let statements = splitCache.get(key);
  if (statements === undefined) {
    statements = splitUncached(engine, file);
    splitCache.set(key, statements);
  }
  return statements;
}

async function splitUncached(engine: Engine, file: MigrationFile): Promise<Statement[]> {
  try {
    return engine === 'postgres' ? await splitPostgres(file.sql) : splitMysql(file.sql);
  } catch (error) {
    if (error instanceof SqlSyntaxError)
      throw new InputError(
        'folder',
        `has SQL that does not parse in ${file.fileName}: ${error.message}`,
        'folder: db/migrations',
      );
    throw error;
  }
}

interface State {
  versioned: MigrationFile[];
  undo: Map<string, MigrationFile>;
  history: HistoryRow[];
  pending: MigrationFile[];
  notes: string[];
  /** Applied files edited in comments or whitespace only, accepted: apply records their new checksums. */
  cosmetic: MigrationFile[];
}

/**
 * Compares the folder with the history: every applied file must still match its checksum (a
 * comment or whitespace change is named as such and may be accepted); a failed migration blocks;
 * a pending version below the newest applied one is out of order and refused.
 */
async function inspect(
  driver: MigrationDriver,
  options: MigrateOptions,
  files: MigrationSet,
  prefetched?: Promise<HistoryRow[]>,
): Promise<State> {
  const { versioned, undo } = files;
  const historyRead = prefetched ?? driver.readHistory();
  if (
    options.target !== undefined &&
    options.target !== '0' &&
    !versioned.some((m) => compareVersions(m.parts, parseVersion(options.target!) ?? [-1]) === 0)
  ) {
    throw new InputError(
      'target-version',
      `names version ${options.target}, which no V file in ${options.folder} has`,
      `target-version: ${versioned.at(-1)?.version ?? '1'}`,
    );
  }
  const history = await historyRead;
  const notes: string[] = [];
  const cosmetic: MigrationFile[] = [];
  const failed = history.filter((row) => !row.success);
  if (failed.length > 0) {
    const row = failed[0]!;
    throw new ConfigurationError(
      `Migration ${row.version} (${row.description}) failed at ${row.appliedAt} in ${row.appliedBy}. Nothing more runs until it is repaired: fix the schema, then run command: repair with repair-version: ${row.version}.`,
    );
  }
  const applied = new Map(history.map((row) => [row.version, row]));
  const byVersion = new Map(versioned.map((m) => [m.version, m]));
  for (const row of history) {
    const file = byVersion.get(row.version);
    if (file === undefined) {
      notes.push(`Applied version ${row.version} (${row.description}) has no file in the folder.`);
      continue;
    }
    if (file.checksum === row.checksum) continue;
    if (file.normalizedChecksum === row.normalizedChecksum) {
      if (!options.acceptCosmeticChanges) {
        throw new ConfigurationError(
          `${file.fileName} was edited after it was applied, in comments or whitespace only. Restore it, or set accept-cosmetic-changes: true to accept the edit.`,
        );
      }
      notes.push(`${file.fileName}: comment or whitespace change accepted.`);
      cosmetic.push(file);
      continue;
    }
    throw new ConfigurationError(
      `${file.fileName} was changed after it was applied (checksum ${row.checksum.slice(0, 12)}… recorded, ${file.checksum.slice(0, 12)}… now). Applied migrations are immutable: restore the file and put the change in a new version.`,
    );
  }
  const newest = history
    .filter((r) => r.success)
    .reduce<number[] | undefined>((max, r) => {
      const parts = parseVersion(r.version) ?? [0];
      return max === undefined || compareVersions(parts, max) > 0 ? parts : max;
    }, undefined);
  let pending = versioned.filter((m) => !applied.has(m.version));
  const outOfOrder = newest === undefined ? [] : pending.filter((m) => compareVersions(m.parts, newest) < 0);
  if (outOfOrder.length > 0 && !options.allowOutOfOrder) {
    throw new ConfigurationError(
      `${outOfOrder.map((m) => m.fileName).join(', ')} ${outOfOrder.length === 1 ? 'is' : 'are'} older than the newest applied version ${newest!.join('.')}; out-of-order migrations are not applied. Give it a new, higher version, or set allow-out-of-order: true.`,
    );
  }
  if (options.target !== undefined)
    pending = pending.filter((m) => compareVersions(m.parts, parseVersion(options.target!)!) <= 0);
  if (options.phase !== undefined) {
    const firstOther = pending.findIndex((m) => m.phase !== options.phase);
    pending = firstOther < 0 ? pending : pending.slice(0, firstOther);
  }
  return { versioned, undo, history, pending, notes, cosmetic };
}

async function lintAll(engine: Engine, files: MigrationFile[]): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  for (const file of files) findings.push(...lintMigration(engine, file, await splitFor(engine, file)));
  return findings;
}

function result(
  state: State,
  applied: Applied[],
  lint: LintFinding[],
  history: HistoryRow[],
  appliedNow = true,
): MigrateResult {
  const done = new Set([
    ...history.filter((r) => r.success).map((r) => r.version),
    ...(appliedNow ? applied.map((a) => a.version) : []),
  ]);
  const remaining = state.versioned.filter((m) => !done.has(m.version));
  const current = [...done]
    .map((v) => parseVersion(v)!)
    .sort(compareVersions)
    .at(-1);
  return {
    applied,
    pending: remaining.map((m) => ({ version: m.version, description: m.description, phase: m.phase ?? null })),
    currentVersion: current === undefined ? null : current.join('.'),
    planHash: planHash(state.versioned),
    lint,
    validation: state.notes,
  };
}

/**
 * Starts connecting (and, for read-only commands, reading the history) while the folder is read;
 * a folder problem wins over a connection problem.
 */
async function withDriver<T>(
  options: MigrateOptions,
  fn: (driver: MigrationDriver, files: MigrationSet, history?: Promise<HistoryRow[]>) => Promise<T>,
  prefetchHistory = false,
): Promise<T> {
  const opening = openDriver(options.connection, options);
  const history = prefetchHistory ? opening.then((driver) => driver.readHistory()) : undefined;
  history?.catch(() => undefined);
  let files: MigrationSet;
  try {
    files = await readMigrations(options.folder);
  } catch (error) {
    void opening.then((driver) => driver.close()).catch(() => undefined);
    throw error;
  }
  const driver = await opening;
  try {
    return await fn(driver, files, history);
  } finally {
    await driver.close();
  }
}

async function withLock<T>(driver: MigrationDriver, options: MigrateOptions, fn: () => Promise<T>): Promise<T> {
  options.log?.(`Waiting up to ${Math.round(options.lockWaitMs / 1000)} s for the migration lock`);
  await driver.lock(options.lockWaitMs);
  try {
    // Created under the lock: two first runs creating the tables at once would collide.
    await driver.ensureHistory();
    await driver.recordHolder(options.appliedBy);
    return await fn();
  } finally {
    await driver.unlock().catch(() => undefined);
  }
}

/** Lists pending migrations, validates and lints them; changes nothing. */
export function plan(options: MigrateOptions): Promise<MigrateResult> {
  return withDriver(
    options,
    async (driver, files, history) => {
      const state = await inspect(driver, { ...options, acceptCosmeticChanges: true }, files, history);
      return result(state, [], await lintAll(driver.engine, state.pending), state.history);
    },
    true,
  );
}

export function validate(options: MigrateOptions): Promise<MigrateResult> {
  return withDriver(options, async (driver, files) => {
    const state = await inspect(driver, options, files);
    return result(state, [], [], state.history);
  });
}

/** Applies pending migrations in order, each in its own transaction where the engine allows. */
export function apply(options: MigrateOptions): Promise<MigrateResult> {
  return withDriver(options, (driver, files) =>
    withLock(driver, options, async () => {
      // The history is read under the lock: another run may have applied some while we waited.
      const state = await inspect(driver, options, files);
      const lint = await lintAll(driver.engine, state.pending);
      const blocking = lint.filter((f) => f.severity === 'error');
      if (blocking.length > 0) {
        throw new ConfigurationError(
          `Lint errors stop the apply: ${blocking.map((f) => `${f.file}:${f.line} ${f.id} ${f.message}`).join('; ')}`,
        );
      }
      const hash = planHash(state.versioned);
      if (options.expectedPlanHash !== undefined && options.expectedPlanHash !== hash) {
        throw new ConfigurationError(
          `The pending migrations changed since the plan was approved (expected plan hash ${options.expectedPlanHash.slice(0, 12)}…, now ${hash.slice(0, 12)}…). Plan and approve again.`,
        );
      }
      // Under the lock, and only here: plan and validate change nothing.
      for (const file of state.cosmetic)
        await driver.updateChecksum(file.version, file.checksum, file.normalizedChecksum);
      const applied: Applied[] = [];
      for (const file of state.pending) {
        options.log?.(`Applying ${file.fileName}`);
        const executionMs = await driver.apply(file, await splitFor(driver.engine, file), options.appliedBy);
        applied.push({ version: file.version, description: file.description, executionMs });
      }
      return result(state, applied, lint, state.history);
    }),
  );
}

/** Runs U files, newest first, down to (and keeping) the target version; 0 undoes everything. */
export function undo(options: MigrateOptions): Promise<MigrateResult> {
  return withDriver(options, (driver, files) =>
    withLock(driver, options, async () => {
      const state = await inspect(driver, { ...options, target: undefined, phase: undefined }, files);
      const target = parseVersion(options.target ?? '') ?? undefined;
      if (target === undefined)
        throw new InputError('target-version', 'is required for undo (0 undoes everything)', 'target-version: 1.2');
      const toUndo = state.history
        .filter((r) => r.success && compareVersions(parseVersion(r.version)!, target) > 0)
        .sort((a, b) => compareVersions(parseVersion(b.version)!, parseVersion(a.version)!));
      const missing = toUndo.filter((r) => !state.undo.has(r.version));
      if (missing.length > 0) {
        throw new ConfigurationError(
          `No undo file for ${missing.map((r) => `U${r.version}__…sql`).join(', ')}; nothing was undone.`,
        );
      }
      const undone: Applied[] = [];
      for (const row of toUndo) {
        const file = state.undo.get(row.version)!;
        options.log?.(`Undoing ${row.version} with ${file.fileName}`);
        const executionMs = await driver.undo(file, await splitFor(driver.engine, file), row.version);
        undone.push({ version: row.version, description: row.description, executionMs });
      }
      const history = await driver.readHistory();
      return result({ ...state, pending: [] }, undone, [], history, false);
    }),
  );
}

/**
 * Adopts an existing database: records every V file up to the target version as applied, without
 * running it. Only on a database with no history, and only when asked.
 */
export function baseline(options: MigrateOptions): Promise<MigrateResult> {
  return withDriver(options, (driver, files) =>
    withLock(driver, options, async () => {
      const target = parseVersion(options.target ?? '');
      if (target === undefined)
        throw new InputError(
          'target-version',
          'is required for baseline: the version the database is already at',
          'target-version: 12',
        );
      if ((await driver.readHistory()).length > 0) {
        throw new ConfigurationError(
          'The database already has a migration history; baseline is only for a database that has none.',
        );
      }
      const state = await inspect(driver, { ...options, target: options.target, phase: undefined }, files);
      for (const file of state.pending) await driver.record(file, 0, `baseline ${options.appliedBy}`);
      return result(
        state,
        state.pending.map((m) => ({ version: m.version, description: m.description, executionMs: 0 })),
        [],
        state.history,
      );
    }),
  );
}

/** Clears the failed record of a version so applies can go on (after the schema was fixed by hand). */
export function repair(options: MigrateOptions & { repairVersion: string }): Promise<number> {
  return withDriver(options, (driver) =>
    withLock(driver, options, async () => {
      const removed = await driver.deleteFailed(options.repairVersion);
      if (removed === 0)
        throw new InputError(
          'repair-version',
          `names version ${options.repairVersion}, which has no failed record`,
          'repair-version: 3',
        );
      return removed;
    }),
  );
}

export interface TestEvidence {
  folderHash: string;
  database: string;
  migrations: number;
  undoFiles: number;
  appliedTwice: boolean;
  undoneAll: boolean;
  schemaMatches: boolean;
  passed: boolean;
}

/**
 * On a scratch database: apply all, undo all (when every migration has a U file), apply all
 * again, and compare the schema after the first and the second apply. The evidence carries a hash
 * of the whole folder, so a checklist can tell these exact migrations were tested.
 */
export async function testMigrations(options: MigrateOptions): Promise<TestEvidence> {
  const { versioned, undo: undoFiles } = await readMigrations(options.folder);
  const database = `${options.connection.database}_migtest_${randomBytes(3).toString('hex')}`.slice(0, 63);
  const scratch = await openEngine(options.connection);
  await scratch.createDatabase(database);
  const on = {
    ...options,
    connection: { ...options.connection, database },
    target: undefined,
    phase: undefined,
    expectedPlanHash: undefined,
  };
  try {
    await apply(on);
    const first = await withDriver(on, (d) => d.schemaSnapshot());
    const reversible = versioned.every((m) => undoFiles.has(m.version));
    let second = first;
    if (reversible) {
      await undo({ ...on, target: '0' });
      await apply(on);
      second = await withDriver(on, (d) => d.schemaSnapshot());
    }
    const schemaMatches = first === second;
    return {
      folderHash: folderHash(versioned, undoFiles),
      database,
      migrations: versioned.length,
      undoFiles: undoFiles.size,
      appliedTwice: reversible,
      undoneAll: reversible,
      schemaMatches,
      passed: schemaMatches,
    };
  } finally {
    await scratch.dropDatabase(database).catch(() => undefined);
  }
}
