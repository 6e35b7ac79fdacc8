import { InputError } from '@deploy-suite/kit';
import type { Engine } from '../connection.ts';
import type { Execution } from './driver.ts';
import { FOLDER_EXAMPLE, type MigrationFile } from './files.ts';
import type { Statement } from './split.ts';

type Node = Record<string, unknown>;

const CONTROL: Record<string, string> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE SAVEPOINT',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK TO SAVEPOINT',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

const MYSQL_CONTROL =
  /^(START\s+TRANSACTION|BEGIN(?:\s+WORK)?\s*$|COMMIT|ROLLBACK|SAVEPOINT|RELEASE\s+SAVEPOINT|XA\s|SET\s+(?:@@(?:SESSION\.)?|SESSION\s+)?autocommit\b)/i;

const top = (tree: Node): [string, Node] => {
  const type = Object.keys(tree)[0]!;
  return [type, tree[type] as Node];
};

const options = (list: unknown): Node[] => ((list as Node[] | undefined) ?? []).map((d) => d.DefElem as Node);

/** The transaction control a statement is (BEGIN, COMMIT, SAVEPOINT…), or undefined. */
export function transactionControl(engine: Engine, statement: Statement): string | undefined {
  if (engine === 'postgres' && statement.tree) {
    const [type, body] = top(statement.tree);
    return type === 'TransactionStmt' ? (CONTROL[String(body.kind)] ?? 'transaction control') : undefined;
  }
  return MYSQL_CONTROL.exec(statement.sql)?.[1]?.replace(/\s+/g, ' ').toUpperCase();
}

/**
 * What makes a PostgreSQL statement refuse to run inside a transaction block, read from its parse
 * tree, or undefined when it can run in one. `serverMajor` matters for ALTER TYPE … ADD VALUE,
 * allowed in a transaction from PostgreSQL 12.
 */
export function nonTransactional(statement: Statement, serverMajor: number): string | undefined {
  if (!statement.tree) return undefined;
  const [type, body] = top(statement.tree);
  switch (type) {
    case 'IndexStmt':
      return body.concurrent ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt':
      return body.concurrent ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'ReindexStmt':
      if (options(body.params).some((d) => d.defname === 'concurrently')) return 'REINDEX CONCURRENTLY';
      return ['REINDEX_OBJECT_SYSTEM', 'REINDEX_OBJECT_DATABASE'].includes(String(body.kind))
        ? 'REINDEX SYSTEM/DATABASE'
        : undefined;
    case 'VacuumStmt':
      return body.is_vacuumcmd ? 'VACUUM' : undefined;
    case 'CreatedbStmt':
      return 'CREATE DATABASE';
    case 'DropdbStmt':
      return 'DROP DATABASE';
    case 'AlterDatabaseStmt':
      return options(body.options).some((d) => d.defname === 'tablespace')
        ? 'ALTER DATABASE … SET TABLESPACE'
        : undefined;
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM';
    case 'CreateTableSpaceStmt':
      return 'CREATE TABLESPACE';
    case 'DropTableSpaceStmt':
      return 'DROP TABLESPACE';
    case 'AlterEnumStmt':
      return body.newVal !== undefined && serverMajor < 12
        ? 'ALTER TYPE … ADD VALUE (before PostgreSQL 12)'
        : undefined;
    case 'ClusterStmt':
      return body.relation === undefined ? 'CLUSTER without a table' : undefined;
    case 'CreateSubscriptionStmt':
      // Only creating its replication slot (the default) needs to be outside a transaction.
      return options(body.options).some((d) => d.defname === 'create_slot' && isFalse(d.arg))
        ? undefined
        : 'CREATE SUBSCRIPTION';
    case 'DropSubscriptionStmt':
      return 'DROP SUBSCRIPTION';
    case 'AlterSubscriptionStmt':
      return String(body.kind).includes('REFRESH') ? 'ALTER SUBSCRIPTION … REFRESH PUBLICATION' : undefined;
    case 'AlterTableStmt':
      return ((body.cmds as Node[] | undefined) ?? []).some((wrapper) => {
        const cmd = wrapper.AlterTableCmd as Node;
        return cmd.subtype === 'AT_DetachPartition' && ((cmd.def as Node).PartitionCmd as Node).concurrent === true;
      })
        ? 'DETACH PARTITION CONCURRENTLY'
        : undefined;
    default:
      return undefined;
  }
}

function isFalse(arg: unknown): boolean {
  const node = arg as Node | undefined;
  if (node === undefined) return false; // WITH (create_slot) alone means true
  const text = (node.String as Node | undefined)?.sval;
  if (typeof text === 'string') return ['false', 'off', '0'].includes(text.toLowerCase());
  // A Boolean node omits boolval when it is false.
  return node.Boolean !== undefined && (node.Boolean as Node).boolval !== true;
}

/** Statements that change only the session and may sit beside a non-transactional one. */
const SESSION_ONLY = new Set(['VariableSetStmt']);

/**
 * How a migration must run, decided before anything runs so plan refuses what apply would:
 *
 * - transaction control (BEGIN, COMMIT, SAVEPOINT…) is refused: migrate opens and commits each
 *   migration's transaction itself, and a COMMIT inside would leave it half applied and unrecorded;
 * - a file whose statements cannot run in a transaction (CREATE INDEX CONCURRENTLY…) runs outside
 *   one, statement by statement, as Flyway does; SET statements may sit beside them;
 * - a file mixing such statements with transactional ones is refused, naming both lines, unless
 *   its `-- migrate: no-transaction` directive accepts running it all statement by statement;
 * - `-- migrate: no-transaction` alone also runs a file outside a transaction.
 */
export function executionOf(
  engine: Engine,
  file: MigrationFile,
  statements: Statement[],
  serverMajor: number,
  input = 'folder',
): Execution {
  for (const statement of statements) {
    const control = transactionControl(engine, statement);
    if (control !== undefined) {
      throw new InputError(
        input,
        `has transaction control in ${file.fileName}: ${control} at line ${statement.line}. Each migration runs in a transaction that migrate opens and commits with its history row; remove it (a statement that cannot run in a transaction, such as CREATE INDEX CONCURRENTLY, is run outside one when its file holds only such statements)`,
        FOLDER_EXAMPLE,
      );
    }
  }
  if (engine !== 'postgres') return { statements, transaction: file.transaction };
  let outside: { what: string; line: number } | undefined;
  let inside: Statement | undefined;
  for (const statement of statements) {
    const what = nonTransactional(statement, serverMajor);
    if (what !== undefined) outside ??= { what, line: statement.line };
    else if (!(statement.tree && SESSION_ONLY.has(Object.keys(statement.tree)[0]!))) inside ??= statement;
  }
  if (outside === undefined) return { statements, transaction: file.transaction };
  if (inside !== undefined && file.transaction) {
    throw new InputError(
      input,
      `mixes, in ${file.fileName}, ${outside.what} (line ${outside.line}), which cannot run in a transaction, with statements that can (line ${inside.line}). Run apart, a failure halfway would leave part of it applied: move ${outside.what} to a migration of its own, or accept running the file statement by statement with "-- migrate: no-transaction" as its first line`,
      '-- migrate: no-transaction (first line of the file)',
    );
  }
  return { statements, transaction: false };
}
