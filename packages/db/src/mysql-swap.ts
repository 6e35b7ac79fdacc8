import { ConfigurationError, errorMessage } from '@deploy-suite/kit';
import type mysql from 'mysql2/promise';
import type { Connection } from './connection.ts';
import type { ReplaceOptions } from './engine.ts';
import { connectMySql, quoteMySqlIdent as q } from './mysql-client.ts';
import { isDatabaseError } from './process.ts';

type Kind = 'view' | 'trigger' | 'procedure' | 'function' | 'event';

/** A schema object that does not travel with RENAME TABLE, as SHOW CREATE gives it. */
interface SchemaObject {
  kind: Kind;
  name: string;
  create: string;
  sqlMode: string;
}

const SHOW: Record<Kind, { statement: string; column: string }> = {
  view: { statement: 'SHOW CREATE VIEW', column: 'Create View' },
  trigger: { statement: 'SHOW CREATE TRIGGER', column: 'SQL Original Statement' },
  procedure: { statement: 'SHOW CREATE PROCEDURE', column: 'Create Procedure' },
  function: { statement: 'SHOW CREATE FUNCTION', column: 'Create Function' },
  event: { statement: 'SHOW CREATE EVENT', column: 'Create Event' },
};

async function readObjects(db: mysql.Connection, database: string): Promise<SchemaObject[]> {
  const [rows] = await db.query<mysql.RowDataPacket[]>(
    `SELECT 'view' AS kind, TABLE_NAME AS name FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
     UNION ALL SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
     UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
     UNION ALL SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
    [database, database, database, database],
  );
  const objects: SchemaObject[] = [];
  for (const row of rows) {
    const kind = String(row.kind) as Kind;
    const name = String(row.name);
    const [shown] = await db.query<mysql.RowDataPacket[]>(`${SHOW[kind].statement} ${q(database)}.${q(name)}`);
    const create = shown[0]?.[SHOW[kind].column] as unknown;
    if (typeof create !== 'string')
      throw new ConfigurationError(`Cannot read the definition of ${kind} ${name} in ${database}.`);
    objects.push({ kind, name, create, sqlMode: String(shown[0]?.sql_mode ?? '') });
  }
  return objects;
}

/** The same definition for another database: qualified references move with it. */
const moved = (object: SchemaObject, from: string, to: string): SchemaObject => ({
  ...object,
  create: object.create.split(`${q(from)}.`).join(`${q(to)}.`),
});

const dropStatement = (database: string, object: SchemaObject): string =>
  `DROP ${object.kind.toUpperCase()} IF EXISTS ${q(database)}.${q(object.name)}`;

/** Runs undo steps newest first; true when every one of them worked. */
async function runUndo(steps: (() => Promise<void>)[]): Promise<boolean> {
  let ok = true;
  for (const step of [...steps].reverse()) {
    await step().catch(() => {
      ok = false;
    });
  }
  return ok;
}

/**
 * MySQL cannot rename a database. One RENAME TABLE statement moving every table is atomic, so
 * the data changes places all at once: the old tables go to `kept`, the restored ones take their
 * place. Views and triggers cannot move between databases, and routines and events belong to one,
 * so they are recreated from their definitions on either side; every step before the end has an
 * undo, and a failure puts the target back as it was. GRANTs are by name and stay with the target.
 */
export async function replaceMySqlDatabase(
  connection: Connection,
  target: string,
  replacement: string,
  kept: string,
  options: ReplaceOptions,
): Promise<void> {
  const db = await connectMySql(connection, undefined);
  // Definitions run in a session of their own database, with the SQL mode they were made under.
  const createIn = async (database: string, object: SchemaObject): Promise<void> => {
    const session = await connectMySql(connection, database);
    try {
      await session.query('SET SESSION sql_mode = ?', [object.sqlMode]);
      await session.query(object.create);
    } finally {
      await session.end().catch(() => undefined);
    }
  };
  /** Views may select from views: create them in rounds until none is left or none succeeds. */
  const createAll = async (database: string, objects: SchemaObject[], undo?: (() => Promise<void>)[]) => {
    let left = [...objects];
    while (left.length > 0) {
      const failed: [SchemaObject, unknown][] = [];
      for (const object of left) {
        try {
          await createIn(database, object);
          undo?.push(() => db.query(dropStatement(database, object)).then(() => undefined));
        } catch (error) {
          failed.push([object, error]);
        }
      }
      if (failed.length === left.length) {
        const [object, error] = failed[0]!;
        throw new ConfigurationError(
          `Could not create ${object.kind} ${object.name} in ${database}: ${errorMessage(error)}`,
        );
      }
      left = failed.map(([object]) => object);
    }
  };
  try {
    const old = await readObjects(db, target);
    const fresh = (await readObjects(db, replacement)).map((o) => moved(o, replacement, target));
    const tablesOf = async (database: string): Promise<string[]> => {
      const [rows] = await db.query<mysql.RowDataPacket[]>(
        // Every kind that is not a view moves: MariaDB also has SYSTEM VERSIONED tables and SEQUENCEs.
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE <> 'VIEW'",
        [database],
      );
      return rows.map((r) => String(r.name));
    };
    const [oldTables, newTables] = [await tablesOf(target), await tablesOf(replacement)];
    const [charset] = await db.query<mysql.RowDataPacket[]>(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [target],
    );
    await db.query(
      `CREATE DATABASE ${q(kept)} CHARACTER SET ${q(String(charset[0]?.cs ?? 'utf8mb4'))} COLLATE ${q(String(charset[0]?.co ?? 'utf8mb4_general_ci'))}`,
    );
    const undo: (() => Promise<void>)[] = [];
    try {
      await db.query('SET SESSION lock_wait_timeout = 30');
      if (options.terminateSessions) {
        const [sessions] = await db.query<mysql.RowDataPacket[]>(
          'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
          [target],
        );
        for (const { id } of sessions) await db.query(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
      }
      // Triggers and views cannot move with their tables: set the target's aside (undoable).
      for (const object of old.filter((o) => o.kind === 'trigger' || o.kind === 'view')) {
        await db.query(dropStatement(target, object));
        undo.push(() => createIn(target, object));
      }
      for (const object of fresh.filter((o) => o.kind === 'trigger' || o.kind === 'view'))
        await db.query(dropStatement(replacement, object));
      const moves = [
        ...oldTables.map((t) => `${q(target)}.${q(t)} TO ${q(kept)}.${q(t)}`),
        ...newTables.map((t) => `${q(replacement)}.${q(t)} TO ${q(target)}.${q(t)}`),
      ];
      if (moves.length > 0) {
        await db.query(`RENAME TABLE ${moves.join(', ')}`);
        const back = [
          ...newTables.map((t) => `${q(target)}.${q(t)} TO ${q(replacement)}.${q(t)}`),
          ...oldTables.map((t) => `${q(kept)}.${q(t)} TO ${q(target)}.${q(t)}`),
        ];
        undo.push(() => db.query(`RENAME TABLE ${back.join(', ')}`).then(() => undefined));
      }
      // The target's own routines and events make way for the backup's.
      for (const object of old.filter((o) => o.kind !== 'trigger' && o.kind !== 'view')) {
        await db.query(dropStatement(target, object));
        undo.push(() => createIn(target, object));
      }
      await createAll(target, fresh, undo);
    } catch (error) {
      const undone = await runUndo(undo);
      // The kept database may hold the only copy of the old tables: dropped only when every undo
      // step worked and it is empty again.
      const [left] = await db
        .query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [
          kept,
        ])
        .catch(() => [[{ n: -1 }] as mysql.RowDataPacket[]]);
      if (undone && Number(left[0]?.n) === 0) {
        await db.query(`DROP DATABASE IF EXISTS ${q(kept)}`).catch(() => undefined);
        // Put back as it was: a bug keeps its class and stack; what the server did is said plainly.
        if (!(error instanceof ConfigurationError) && !isDatabaseError(error)) throw error;
        throw new ConfigurationError(
          `Could not swap ${target} with the restored copy: ${errorMessage(error)}. ${target} was put back as it was.`,
        );
      }
      throw new ConfigurationError(
        `Could not swap ${target} with the restored copy (${errorMessage(error)}), and putting it back did not finish: the old tables may be in ${kept}. Check ${target} and ${kept} by hand before anything else runs.`,
      );
    }
    // The kept copy gets the old definitions too, so it is the whole database that was replaced.
    try {
      // Events in the kept copy must not run (a purge would change what it keeps): disabled.
      const keptObjects = old.map((o) => moved(o, target, kept));
      await createAll(kept, keptObjects);
      for (const event of keptObjects.filter((o) => o.kind === 'event'))
        await db.query(`ALTER EVENT ${q(kept)}.${q(event.name)} DISABLE`);
    } catch (error) {
      throw new ConfigurationError(
        `${target} was replaced and its tables are kept in ${kept}, but not every view, trigger, routine or event could be recreated there: ${errorMessage(error)}`,
      );
    }
  } finally {
    await db.end().catch(() => undefined);
  }
}
