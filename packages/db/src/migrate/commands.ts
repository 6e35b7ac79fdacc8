import { ConfigurationError, InputError } from '@deploy-suite/kit';
import type { Connection, Engine } from '../connection.ts';
import { createScratchDatabase } from '../scratch.ts';
import {
  compareVersions,
  folderHash,
  parseVersion,
  planHash,
  readMigrations,
  versionKey,
  type MigrationSet,
  type MigrationFile,
  type Phase,
} from './files.ts';
import type { DriverOptions, Execution, HistoryRow, MigrationDriver } from './driver.ts';
import { openDriver } from './open-driver.ts';
import { lintMigration, ColumnTypes, type LintFinding } from './lint.ts';
import { splitMysql, splitPostgres, SqlSyntaxError, type Statement } from './split.ts';
import { executionOf } from './transactions.ts';

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
  /** Null for a repeatable migration. */
  version: string | null;
  description: string;
  executionMs: number;
}

export interface Pending {
  /** Null for a repeatable migration. */
  version: string | null;
  description: string;
  phase: Phase | null;
  /** An R file: runs after the versioned ones, again whenever its checksum changes. */
  repeatable?: true;
}

export interface MigrateResult {
  applied: Applied[];
  pending: Pending[];
  currentVersion: string | null;
  /**
   * SHA-256 over every V and R file (version or description, and contents): a changed or new file
   * changes it, while applying part of the plan (the expand phase, then contract) does not.
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
  files: MigrationSet;
  history: HistoryRow[];
  /** Versioned files to apply, in order (after target-version and phase). */
  pending: MigrationFile[];
  /** Repeatable files new or changed since their last successful run, in description order. */
  pendingRepeatable: MigrationFile[];
  notes: string[];
  /** Applied files edited in comments or whitespace only, accepted: apply records their new checksums. */
  cosmetic: { file: MigrationFile; recorded: string }[];
}

const isVersioned = (row: HistoryRow): row is HistoryRow & { version: string } => row.version !== null;

/**
 * Compares the folder with the history: every applied file must still match its checksum (a
 * comment or whitespace change is named as such and may be accepted); a failed migration blocks;
 * a pending version below the newest applied one is out of order and refused. Versions match as
 * numbers (3 is 3.0), never as text. A repeatable file is pending when its checksum differs from
 * its last successful run.
 */
async function inspect(
  driver: MigrationDriver,
  options: MigrateOptions,
  files: MigrationSet,
  prefetched?: Promise<HistoryRow[]>,
): Promise<State> {
  const { versioned, repeatable } = files;
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
  const cosmetic: State['cosmetic'] = [];
  const failed = history.filter((row) => !row.success && isVersioned(row));
  if (failed.length > 0) {
    const row = failed[0]!;
    throw new ConfigurationError(
      `Migration ${row.version} (${row.description}) failed at ${row.appliedAt} in ${row.appliedBy}. Nothing more runs until it is repaired: fix the schema, then run command: repair with repair-version: ${row.version}.`,
    );
  }
  const versionedRows = history.filter(isVersioned);
  const applied = new Set(versionedRows.map((row) => versionKey(row.version)));
  const byVersion = new Map(versioned.map((m) => [versionKey(m.parts), m]));
  for (const row of versionedRows) {
    const file = byVersion.get(versionKey(row.version));
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
      cosmetic.push({ file, recorded: row.version });
      continue;
    }
    throw new ConfigurationError(
      `${file.fileName} was changed after it was applied (checksum ${row.checksum.slice(0, 12)}… recorded, ${file.checksum.slice(0, 12)}… now). Applied migrations are immutable: restore the file and put the change in a new version.`,
    );
  }
  const newest = versionedRows.reduce<number[] | undefined>((max, r) => {
    const parts = parseVersion(r.version) ?? [0];
    return max === undefined || compareVersions(parts, max) > 0 ? parts : max;
  }, undefined);
  let pending = versioned.filter((m) => !applied.has(versionKey(m.parts)));
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
  // The last successful run of each repeatable, by description (rows are in installed order).
  const lastRun = new Map<string, string>();
  for (const row of history) if (row.version === null && row.success) lastRun.set(row.description, row.checksum);
  for (const row of history)
    if (row.version === null && !row.success && lastRun.get(row.description) !== undefined)
      notes.push(
        `Repeatable migration "${row.description}" failed at ${row.appliedAt}; it runs again while it differs.`,
      );
  const pendingRepeatable = repeatable.filter((m) => lastRun.get(m.description) !== m.checksum);
  return { files, history, pending, pendingRepeatable, notes, cosmetic };
}

/**
 * Splits every file about to run and decides how it runs (transaction or not, see executionOf),
 * so plan refuses exactly what apply would.
 */
async function prepare(driver: MigrationDriver, files: MigrationFile[]): Promise<Map<MigrationFile, Execution>> {
  const split = await Promise.all(files.map((file) => splitFor(driver.engine, file)));
  // Only ALTER TYPE … ADD VALUE depends on the server's version: ask only when one is there.
  const needsMajor = split.some((statements) => statements.some((s) => s.tree && 'AlterEnumStmt' in s.tree));
  const major = needsMajor ? await driver.serverMajor() : Number.MAX_SAFE_INTEGER;
  return new Map(files.map((file, i) => [file, executionOf(driver.engine, file, split[i]!, major)]));
}

/**
 * Lints the files about to run. A column type change is judged against the column's type as the
 * folder defines it (applied files first, then the pending ones in order), so a widening
 * (varchar(20) to varchar(50) or text) is not reported; those files are read only when needed.
 */
async function lintAll(
  engine: Engine,
  state: State,
  executions: Map<MigrationFile, Execution>,
): Promise<LintFinding[]> {
  const running = [...executions.keys()];
  const types = new ColumnTypes();
  if (engine === 'postgres' && [...executions.values()].some((e) => ColumnTypes.changesTypes(e.statements))) {
    const pending = new Set(running);
    for (const file of state.files.versioned) if (!pending.has(file)) types.learn(await splitFor(engine, file));
  }
  const findings: LintFinding[] = [];
  for (const file of running) findings.push(...lintMigration(engine, file, executions.get(file)!.statements, types));
  return findings;
}

function result(
  state: State,
  applied: { file?: MigrationFile; entry: Applied }[],
  lint: LintFinding[],
  history: HistoryRow[],
  appliedNow = true,
): MigrateResult {
  const ran = new Set(appliedNow ? applied.map((a) => a.file) : []);
  const done = new Set([
    ...history.filter((r) => r.success && isVersioned(r)).map((r) => versionKey(r.version!)!),
    ...[...ran].filter((f) => f?.kind === 'versioned').map((f) => versionKey(f!.parts)!),
  ]);
  const remaining = state.files.versioned.filter((m) => !done.has(versionKey(m.parts)!));
  const current = [...done]
    .map((v) => parseVersion(v)!)
    .sort(compareVersions)
    .at(-1);
  const pendingRepeatable = state.pendingRepeatable.filter((m) => !ran.has(m));
  return {
    applied: applied.map((a) => a.entry),
    pending: [
      ...remaining.map((m) => ({ version: m.version, description: m.description, phase: m.phase ?? null })),
      ...pendingRepeatable.map((m) => ({
        version: null,
        description: m.description,
        phase: null,
        repeatable: true as const,
      })),
    ],
    currentVersion: current === undefined ? null : current.join('.'),
    planHash: planHash([...state.files.versioned, ...state.files.repeatable]),
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
    files = await readMigrations(options.folder, 'folder', options.connection.engine);
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

/** Lists pending migrations, validates and lints them, and decides how each runs; changes nothing. */
export function plan(options: MigrateOptions): Promise<MigrateResult> {
  return withDriver(
    options,
    async (driver, files, history) => {
      const state = await inspect(driver, { ...options, acceptCosmeticChanges: true }, files, history);
      const executions = await prepare(driver, [...state.pending, ...state.pendingRepeatable]);
      return result(state, [], await lintAll(driver.engine, state, executions), state.history);
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

/**
 * Applies pending migrations in order, each in its own transaction where the engine and its
 * statements allow, then the new or changed repeatable ones in description order.
 */
export function apply(options: MigrateOptions): Promise<MigrateResult> {
  return withDriver(options, (driver, files) =>
    withLock(driver, options, async () => {
      // The history is read under the lock: another run may have applied some while we waited.
      const state = await inspect(driver, options, files);
      const executions = await prepare(driver, [...state.pending, ...state.pendingRepeatable]);
      const lint = await lintAll(driver.engine, state, executions);
      const blocking = lint.filter((f) => f.severity === 'error');
      if (blocking.length > 0) {
        throw new ConfigurationError(
          `Lint errors stop the apply: ${blocking.map((f) => `${f.file}:${f.line} ${f.id} ${f.message}`).join('; ')}`,
        );
      }
      const hash = planHash([...files.versioned, ...files.repeatable]);
      if (options.expectedPlanHash !== undefined && options.expectedPlanHash !== hash) {
        throw new ConfigurationError(
          `The pending migrations changed since the plan was approved (expected plan hash ${options.expectedPlanHash.slice(0, 12)}…, now ${hash.slice(0, 12)}…). Plan and approve again.`,
        );
      }
      // Under the lock, and only here: plan and validate change nothing.
      for (const { file, recorded } of state.cosmetic)
        await driver.updateChecksum(recorded, file.checksum, file.normalizedChecksum);
      const applied: { file: MigrationFile; entry: Applied }[] = [];
      for (const [file, execution] of executions) {
        options.log?.(`Applying ${file.fileName}${execution.transaction ? '' : ' (outside a transaction)'}`);
        const executionMs = await driver.apply(file, execution, options.appliedBy);
        applied.push({
          file,
          entry: {
            version: file.kind === 'repeatable' ? null : file.version,
            description: file.description,
            executionMs,
          },
        });
      }
      return result(state, applied, lint, state.history);
    }),
  );
}

/**
 * Runs U files, newest first, down to (and keeping) the target version. 0 undoes everything and
 * also forgets the repeatable migrations' runs, so the next apply runs them again.
 */
export function undo(options: MigrateOptions): Promise<MigrateResult> {
  return withDriver(options, (driver, files) =>
    withLock(driver, options, async () => {
      const state = await inspect(driver, { ...options, target: undefined, phase: undefined }, files);
      const target = parseVersion(options.target ?? '') ?? undefined;
      if (target === undefined)
        throw new InputError('target-version', 'is required for undo (0 undoes everything)', 'target-version: 1.2');
      const toUndo = state.history
        .filter(isVersioned)
        .filter((r) => r.success && compareVersions(parseVersion(r.version)!, target) > 0)
        .sort((a, b) => compareVersions(parseVersion(b.version)!, parseVersion(a.version)!));
      const missing = toUndo.filter((r) => !files.undo.has(versionKey(r.version)!));
      if (missing.length > 0) {
        throw new ConfigurationError(
          `No undo file for ${missing.map((r) => `U${r.version}__…sql`).join(', ')}; nothing was undone.`,
        );
      }
      const undoFiles = toUndo.map((row) => files.undo.get(versionKey(row.version)!)!);
      const executions = await prepare(driver, undoFiles);
      const undone: { entry: Applied }[] = [];
      for (const [i, row] of toUndo.entries()) {
        const file = undoFiles[i]!;
        options.log?.(`Undoing ${row.version} with ${file.fileName}`);
        const executionMs = await driver.undo(file, executions.get(file)!, row.version);
        undone.push({ entry: { version: row.version, description: row.description, executionMs } });
      }
      if (target.every((part) => part === 0)) await driver.forgetRepeatables();
      const history = await driver.readHistory();
      const after = target.every((part) => part === 0) ? [...files.repeatable] : state.pendingRepeatable;
      return result({ ...state, pending: [], pendingRepeatable: after }, undone, [], history, false);
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
        state.pending.map((file) => ({
          file,
          entry: { version: file.version, description: file.description, executionMs: 0 },
        })),
        [],
        state.history,
      );
    }),
  );
}

/**
 * Clears the failed record of a version so applies can go on (after the schema was fixed by hand).
 * The version matches as a number: repair-version 3 clears a failure recorded as 3.0.
 */
export function repair(options: MigrateOptions & { repairVersion: string }): Promise<number> {
  return withDriver(options, (driver) =>
    withLock(driver, options, async () => {
      const key = versionKey(options.repairVersion);
      const recorded = new Set(
        (await driver.readHistory())
          .filter((row) => isVersioned(row) && !row.success && versionKey(row.version) === key)
          .map((row) => row.version!),
      );
      let removed = 0;
      for (const version of recorded) removed += await driver.deleteFailed(version);
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
 * of the whole folder, so a checklist can tell these exact migrations were tested. The scratch
 * database has a name of its own (never derived from the target's, so never the target's) and
 * only it is dropped.
 */
export async function testMigrations(options: MigrateOptions): Promise<TestEvidence> {
  const files = await readMigrations(options.folder, 'folder', options.connection.engine);
  const scratch = await createScratchDatabase(options.connection, 'migtest');
  const on = {
    ...options,
    connection: scratch.connection,
    target: undefined,
    phase: undefined,
    expectedPlanHash: undefined,
  };
  try {
    await apply(on);
    const first = await withDriver(on, (d) => d.schemaSnapshot());
    const reversible = files.versioned.every((m) => files.undo.has(versionKey(m.parts)!));
    let second = first;
    if (reversible) {
      await undo({ ...on, target: '0' });
      await apply(on);
      second = await withDriver(on, (d) => d.schemaSnapshot());
    }
    const schemaMatches = first === second;
    return {
      folderHash: folderHash(files),
      database: scratch.name,
      migrations: files.versioned.length,
      undoFiles: files.undo.size,
      appliedTwice: reversible,
      undoneAll: reversible,
      schemaMatches,
      passed: schemaMatches,
    };
  } finally {
    await scratch.drop().catch(() => undefined);
  }
}
