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

/**
 * One undo step, run on the session given (a fresh one: the swap's own may be the one that died).
 * Each looks at what is there before acting, since a statement whose session died may or may not
 * have run; it resolves to whether it changed anything.
 */
type Undo = (session: mysql.Connection) => Promise<boolean>;

/** Runs undo steps newest first: whether every one worked (else the first failure), and whether any changed something. */
async function runUndo(steps: Undo[], session: mysql.Connection): Promise<{ acted: boolean; failure?: unknown }> {
  let acted = false;
  let failure: unknown;
  for (const step of [...steps].reverse()) {
    try {
      acted = (await step(session)) || acted;
    } catch (error) {
      failure ??= error;
    }
  }
  return failure === undefined ? { acted } : { acted, failure };
}

/** Whether `object` exists in `database`. */
async function objectExists(session: mysql.Connection, database: string, object: SchemaObject): Promise<boolean> {
  const where: Record<Kind, [string, unknown[]]> = {
    view: ['information_schema.VIEWS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', []],
    trigger: ['information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?', []],
    procedure: [
      'information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = ?',
      ['PROCEDURE'],
    ],
    function: [
      'information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = ?',
      ['FUNCTION'],
    ],
    event: ['information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = ?', []],
  };
  const [from, extra] = where[object.kind];
  const [rows] = await session.query<mysql.RowDataPacket[]>(`SELECT 1 FROM ${from}`, [database, object.name, ...extra]);
  return rows.length > 0;
}

const tableCount = async (session: mysql.Connection, database: string): Promise<number> => {
  const [rows] = await session.query<mysql.RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
    [database],
  );
  return Number(rows[0]?.n);
};

const isRoutine = (object: SchemaObject): boolean => object.kind === 'procedure' || object.kind === 'function';

/** A GRANT on one routine, as the statement that gives it again. */
interface RoutineGrant {
  kind: 'procedure' | 'function';
  name: string;
  statement: string;
}

/**
 * The grants held on the database's routines (mysql.procs_priv). MariaDB and MySQL revoke them
 * when a routine is dropped, so the swap gives them again to each routine it recreates.
 */
async function readRoutineGrants(db: mysql.Connection, database: string): Promise<RoutineGrant[]> {
  let rows: mysql.RowDataPacket[];
  try {
    [rows] = await db.query<mysql.RowDataPacket[]>(
      `SELECT p.User AS user, p.Host AS host, p.Routine_name AS name, p.Routine_type AS type, p.Proc_priv AS privs,
              u.is_role AS role
         FROM mysql.procs_priv p LEFT JOIN mysql.user u ON u.User = p.User AND u.Host = p.Host
        WHERE p.Db = ?`,
      [database],
    );
  } catch (error) {
    if (!isDatabaseError(error)) throw error;
    throw new ConfigurationError(
      `Cannot read the grants on the routines of ${database} (mysql.procs_priv: ${errorMessage(error)}); replacing them would lose those grants. Grant this user SELECT on mysql.procs_priv and mysql.user, or restore as a user who has it. ${database} was left as it was.`,
    );
  }
  const grants: RoutineGrant[] = [];
  for (const row of rows) {
    const set = String(row.privs ?? '')
      .split(',')
      .filter((p) => p !== '');
    const privileges = set.filter((p) => p !== 'Grant').map((p) => p.toUpperCase());
    if (privileges.length === 0) continue;
    const kind = String(row.type).toLowerCase() === 'function' ? 'function' : 'procedure';
    const user = String(row.user);
    const host = String(row.host);
    // A role is named alone; a user is user@host.
    const grantee = String(row.role) === 'Y' ? q(user) : `${db.escape(user)}@${db.escape(host)}`;
    grants.push({
      kind,
      name: String(row.name),
      statement: `GRANT ${privileges.join(', ')} ON ${kind.toUpperCase()} ${q(database)}.${q(String(row.name))} TO ${grantee}${set.includes('Grant') ? ' WITH GRANT OPTION' : ''}`,
    });
  }
  return grants;
}

/** Routine names compare without case on MySQL and MariaDB. */
const grantsOf = (grants: RoutineGrant[], object: SchemaObject): RoutineGrant[] =>
  grants.filter((g) => g.kind === object.kind && g.name.toLowerCase() === object.name.toLowerCase());

/** How long the swap waits for a lock, and for its own dead session to be gone from the server. */
const WAIT_SECONDS = 30;

/**
 * MySQL cannot rename a database. One RENAME TABLE statement moving every table is atomic, so
 * the data changes places all at once: the old tables go to `kept`, the restored ones take their
 * place. Views and triggers cannot move between databases, and routines and events belong to one,
 * so they are recreated from their definitions on either side, with the grants their routines
 * held (dropping a routine revokes them). Every step before the end has an undo; a failure puts
 * the target back as it was, on a new session (the swap's own may be the one that died), and
 * says what state each database is in. Other GRANTs are by name and stay with the target.
 */
export async function replaceMySqlDatabase(
  connection: Connection,
  target: string,
  replacement: string,
  kept: string,
  options: ReplaceOptions,
): Promise<void> {
  const db = await connectMySql(connection, undefined);
  let dbGone = false;
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
  const createAll = async (database: string, objects: SchemaObject[], undo?: Undo[]) => {
    let left = [...objects];
    while (left.length > 0) {
      const failed: [SchemaObject, unknown][] = [];
      for (const object of left) {
        // Before the statement: if its session dies, it may have run.
        undo?.push(async (s) => {
          if (!(await objectExists(s, database, object))) return false;
          await s.query(dropStatement(database, object));
          return true;
        });
        try {
          await createIn(database, object);
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
    const grants = old.some(isRoutine) ? await readRoutineGrants(db, target) : [];
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
    // Never dropped or written to here: it is not this run's.
    const keptTaken = new ConfigurationError(
      `Cannot keep ${target} as ${kept}: a database named ${kept} already exists (another rollback in the same second, or someone else's). ${target} was left as it was; run the restore again.`,
    );
    const [taken] = await db.query<mysql.RowDataPacket[]>(
      'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [kept],
    );
    if (taken.length > 0) throw keptTaken;
    const undo: Undo[] = [];
    /** Whether `kept` is this run's: absent just before, so made by its CREATE DATABASE (which may have run if its session died). */
    let keptMade = false;
    try {
      try {
        keptMade = true;
        await db.query(
          `CREATE DATABASE ${q(kept)} CHARACTER SET ${q(String(charset[0]?.cs ?? 'utf8mb4'))} COLLATE ${q(String(charset[0]?.co ?? 'utf8mb4_general_ci'))}`,
        );
      } catch (error) {
        // Refused by the server, it made nothing; only a session that died leaves it unknown.
        if ((error as { fatal?: unknown }).fatal !== true) keptMade = false;
        // ER_DB_CREATE_EXISTS: taken since the check above.
        if ((error as { errno?: unknown }).errno === 1007) throw keptTaken;
        throw error;
      }
      await db.query(`SET SESSION lock_wait_timeout = ${WAIT_SECONDS}`);
      if (options.terminateSessions) {
        const [sessions] = await db.query<mysql.RowDataPacket[]>(
          'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
          [target],
        );
        for (const { id } of sessions) await db.query(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
      }
      /** The target's own object set aside, with its grants: made again if it is gone. */
      const putBack =
        (object: SchemaObject): Undo =>
        async (s) => {
          if (await objectExists(s, target, object)) return false;
          await createIn(target, object);
          for (const grant of grantsOf(grants, object)) await s.query(grant.statement);
          return true;
        };
      // Triggers and views cannot move with their tables: set the target's aside (undoable).
      for (const object of old.filter((o) => o.kind === 'trigger' || o.kind === 'view')) {
        undo.push(putBack(object));
        await db.query(dropStatement(target, object));
      }
      for (const object of fresh.filter((o) => o.kind === 'trigger' || o.kind === 'view'))
        await db.query(dropStatement(replacement, object));
      const moves = [
        ...oldTables.map((t) => `${q(target)}.${q(t)} TO ${q(kept)}.${q(t)}`),
        ...newTables.map((t) => `${q(replacement)}.${q(t)} TO ${q(target)}.${q(t)}`),
      ];
      if (moves.length > 0) {
        const back = [
          ...newTables.map((t) => `${q(target)}.${q(t)} TO ${q(replacement)}.${q(t)}`),
          ...oldTables.map((t) => `${q(kept)}.${q(t)} TO ${q(target)}.${q(t)}`),
        ];
        // RENAME TABLE is all or nothing: where the tables are says whether it ran.
        undo.push(async (s) => {
          const ran =
            oldTables.length > 0
              ? (await tableCount(s, kept)) > 0
              : (await tableCount(s, replacement)) < newTables.length;
          if (!ran) return false;
          await s.query(`RENAME TABLE ${back.join(', ')}`);
          return true;
        });
        await db.query(`RENAME TABLE ${moves.join(', ')}`);
      }
      // The target's own routines and events make way for the backup's.
      for (const object of old.filter((o) => o.kind !== 'trigger' && o.kind !== 'view')) {
        undo.push(putBack(object));
        await db.query(dropStatement(target, object));
      }
      await createAll(target, fresh, undo);
      // Dropping a routine revoked its grants: each recreated routine gets them again.
      for (const object of fresh.filter(isRoutine))
        for (const grant of grantsOf(grants, object)) await db.query(grant.statement);
    } catch (error) {
      // The swap's session may be the one that died: the rest runs on a new one, once the old
      // one is gone from the server (so nothing it still runs can race with the undo).
      const cause = errorMessage(error);
      const bug = !(error instanceof ConfigurationError) && !isDatabaseError(error);
      if (error === keptTaken) throw error;
      if (undo.length === 0 && !keptMade) {
        if (bug) throw error;
        throw new ConfigurationError(
          `Could not swap ${target} with the restored copy: ${cause}. ${target} was left as it was.`,
        );
      }
      const threadId = db.threadId;
      db.destroy();
      dbGone = true;
      const handBack = (what: string): ConfigurationError =>
        new ConfigurationError(
          `Could not swap ${target} with the restored copy (${cause}), and ${what} Check ${target} and ${kept} by hand before anything else runs.`,
        );
      let admin: mysql.Connection;
      try {
        admin = await connectMySql(connection, undefined);
      } catch (reconnect) {
        throw handBack(
          `no new session could be opened to put it back (${errorMessage(reconnect)}): ${target} may be missing tables, triggers, views or routines, and its old tables may be in ${kept}.`,
        );
      }
      try {
        await admin.query(`SET SESSION lock_wait_timeout = ${WAIT_SECONDS}`);
        await admin.query('KILL CONNECTION ?', [threadId]).catch(() => undefined);
        const deadline = Date.now() + WAIT_SECONDS * 1000;
        for (;;) {
          const [still] = await admin.query<mysql.RowDataPacket[]>(
            'SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ?',
            [threadId],
          );
          if (still.length === 0) break;
          if (Date.now() > deadline)
            throw handBack(
              `its session (${threadId}) was still running on the server after ${WAIT_SECONDS} s, so nothing was put back: ${target}'s old tables may be in ${kept}.`,
            );
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const { acted, failure } = await runUndo(undo, admin);
        // Where each database stands now, for the message.
        const state = async (): Promise<string> => {
          const inTarget = await tableCount(admin, target);
          const inKept = keptMade ? await tableCount(admin, kept) : 0;
          return `${target} now holds ${inTarget} table(s) (it had ${oldTables.length})${keptMade ? `, ${kept} holds ${inKept}` : ''}.`;
        };
        if (failure !== undefined) {
          const now = await state().catch((e: unknown) => `their state could not be read (${errorMessage(e)}).`);
          throw handBack(`putting it back did not finish (${errorMessage(failure)}): ${now}`);
        }
        // The kept database may hold the only copy of the old tables: dropped only when every
        // undo step worked, it is this run's, and it is empty again.
        let leftBehind = '';
        if (keptMade) {
          const inKept = await tableCount(admin, kept);
          if (inKept > 0) throw handBack(`putting it back left ${inKept} table(s) in ${kept}: ${await state()}`);
          await admin.query(`DROP DATABASE IF EXISTS ${q(kept)}`).catch((e: unknown) => {
            leftBehind = ` The empty database ${kept} made for the swap could not be dropped (${errorMessage(e)}): drop it by hand.`;
          });
        }
        // Put back as it was: a bug keeps its class and stack; what the server did is said plainly.
        if (bug) throw error;
        throw new ConfigurationError(
          `Could not swap ${target} with the restored copy: ${cause}. ${target} was ${acted ? 'put back' : 'left'} as it was.${leftBehind}`,
        );
      } catch (failure) {
        if (failure === error || failure instanceof ConfigurationError) throw failure;
        // The new session failed too, somewhere between the steps above.
        throw handBack(
          `putting it back could not finish (${errorMessage(failure)}): the old tables may be in ${kept}.`,
        );
      } finally {
        await admin.end().catch(() => undefined);
      }
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
    if (!dbGone) await db.end().catch(() => undefined);
  }
}
