import type { Engine } from '../connection.ts';
import type { Phase } from './files.ts';
import type { Statement } from './split.ts';

export interface LintRule {
  id: string;
  title: string;
  why: string;
  /** Breaks the colour still running the old code, so an expand-phase migration may not do it. */
  breaksOldCode: boolean;
}

export const RULES: Record<string, LintRule> = {
  'drop-table': {
    id: 'DS001',
    title: 'DROP TABLE',
    why: 'Data is gone for good, and the old colour still reads the table.',
    breaksOldCode: true,
  },
  'drop-column': {
    id: 'DS002',
    title: 'DROP COLUMN',
    why: 'The old colour still selects and writes the column.',
    breaksOldCode: true,
  },
  'drop-schema': { id: 'DS003', title: 'DROP SCHEMA', why: 'Removes every object in the schema.', breaksOldCode: true },
  rename: {
    id: 'DS004',
    title: 'RENAME of a table or column',
    why: 'The old colour still uses the old name; add the new one, copy, and drop later.',
    breaksOldCode: true,
  },
  'type-change': {
    id: 'DS005',
    title: 'Column type change',
    why: 'Can narrow values and rewrite the whole table under an exclusive lock.',
    breaksOldCode: true,
  },
  'not-null-without-default': {
    id: 'DS006',
    title: 'ADD COLUMN NOT NULL without DEFAULT',
    why: 'Fails on a table with rows, and the old colour inserts rows without the column.',
    breaksOldCode: true,
  },
  'index-not-concurrent': {
    id: 'DS007',
    title: 'CREATE INDEX without CONCURRENTLY',
    why: 'Blocks writes to the table while the index builds; use CONCURRENTLY in a no-transaction migration.',
    breaksOldCode: false,
  },
  'constraint-validated': {
    id: 'DS008',
    title: 'FOREIGN KEY or CHECK without NOT VALID',
    why: 'Scans the table under a lock; add it NOT VALID, then VALIDATE CONSTRAINT separately.',
    breaksOldCode: false,
  },
  truncate: { id: 'DS009', title: 'TRUNCATE', why: 'Removes every row.', breaksOldCode: true },
  'unbounded-write': {
    id: 'DS010',
    title: 'DELETE or UPDATE without WHERE',
    why: 'Touches every row of the table.',
    breaksOldCode: false,
  },
};

export interface LintFinding {
  rule: string;
  id: string;
  severity: 'error' | 'warning';
  file: string;
  line: number;
  message: string;
  why: string;
}

type Node = Record<string, unknown>;
const kind = (tree: Node | undefined): string | undefined => (tree ? Object.keys(tree)[0] : undefined);

/** A column type as the parse tree gives it: its name (varchar, text, int4…) and modifiers. */
interface ColumnType {
  name: string;
  mods: number[];
}

function columnType(typeName: Node | undefined): ColumnType | undefined {
  const names = (typeName?.names as Node[] | undefined) ?? [];
  const name = (names.at(-1)?.String as Node | undefined)?.sval;
  if (typeName === undefined || typeof name !== 'string' || typeName.arrayBounds !== undefined) return undefined;
  const mods = ((typeName.typmods as Node[] | undefined) ?? []).map((m) =>
    Number(((m.A_Const as Node | undefined)?.ival as Node | undefined)?.ival),
  );
  return { name, mods };
}

/**
 * A change PostgreSQL makes without rewriting the table and that loses no value: a longer
 * varchar, an unbounded varchar, or text in place of a varchar (all binary-coercible).
 */
function isWidening(from: ColumnType | undefined, to: ColumnType | undefined): boolean {
  if (from === undefined || to === undefined || from.name !== 'varchar') return false;
  if (to.name === 'text') return true;
  if (to.name !== 'varchar') return false;
  if (to.mods.length === 0) return true;
  return from.mods.length === 1 && to.mods.length === 1 && to.mods[0]! >= from.mods[0]!;
}

/** Tracks what the folder declares each column's type to be, statement by statement. */
export class ColumnTypes {
  private readonly types = new Map<string, ColumnType | undefined>();

  /** Whether any statement changes a column's type (only then are earlier files read). */
  static changesTypes(statements: Statement[]): boolean {
    return statements.some((s) => {
      const body = s.tree?.AlterTableStmt as Node | undefined;
      return ((body?.cmds as Node[] | undefined) ?? []).some(
        (c) => (c.AlterTableCmd as Node).subtype === 'AT_AlterColumnType',
      );
    });
  }

  get(table: string, column: string): ColumnType | undefined {
    return this.types.get(`${table}.${column}`);
  }

  learn(statements: Statement[]): void {
    for (const statement of statements) if (statement.tree) this.learnOne(statement.tree);
  }

  learnOne(tree: Node): void {
    const type = kind(tree)!;
    const body = tree[type] as Node;
    if (type === 'CreateStmt') {
      const table = String((body.relation as Node).relname);
      for (const element of (body.tableElts as Node[] | undefined) ?? []) {
        const column = element.ColumnDef as Node | undefined;
        if (column) this.types.set(`${table}.${String(column.colname)}`, columnType(column.typeName as Node));
      }
    }
    if (type === 'AlterTableStmt') {
      const table = String((body.relation as Node | undefined)?.relname);
      for (const wrapper of (body.cmds as Node[] | undefined) ?? []) {
        const cmd = wrapper.AlterTableCmd as Node;
        const def = (cmd.def as Node | undefined)?.ColumnDef as Node | undefined;
        if (cmd.subtype === 'AT_AddColumn' && def)
          this.types.set(`${table}.${String(def.colname)}`, columnType(def.typeName as Node));
        if (cmd.subtype === 'AT_AlterColumnType' && def)
          this.types.set(`${table}.${String(cmd.name)}`, columnType(def.typeName as Node));
      }
    }
  }
}

/** Schema-qualified where the statement qualifies it; a bare name matches either way. */
const relationName = (relation: unknown): { schema?: string; name: string } => {
  const node = relation as Node | undefined;
  return {
    ...(typeof node?.schemaname === 'string' ? { schema: node.schemaname } : {}),
    name: String(node?.relname),
  };
};

/** Relations created in this file: name → the schemas it was created in ('' when unqualified). */
type Created = Map<string, Set<string>>;

const noteCreated = (createdHere: Created, relation: unknown): void => {
  const { schema, name } = relationName(relation);
  const schemas = createdHere.get(name) ?? new Set<string>();
  schemas.add(schema ?? '');
  createdHere.set(name, schemas);
};

const createdIn = (createdHere: Created, relation: unknown): boolean => {
  const { schema, name } = relationName(relation);
  const schemas = createdHere.get(name);
  if (schemas === undefined) return false;
  return schema === undefined || schemas.has('') || schemas.has(schema);
};

/** PostgreSQL: precise findings from the parse tree. */
function postgresFindings(statement: Statement, createdHere: Created, types: ColumnTypes): string[] {
  const tree = statement.tree!;
  const type = kind(tree)!;
  const body = tree[type] as Node;
  const rules: string[] = [];
  if (type === 'CreateStmt') noteCreated(createdHere, body.relation);
  // CREATE TABLE … AS and CREATE MATERIALIZED VIEW make a relation an index can be built on.
  if (type === 'CreateTableAsStmt') noteCreated(createdHere, (body.into as Node | undefined)?.rel);
  if (type === 'DropStmt') {
    if (body.removeType === 'OBJECT_TABLE') rules.push('drop-table');
    if (body.removeType === 'OBJECT_SCHEMA') rules.push('drop-schema');
  }
  if (type === 'RenameStmt' && ['OBJECT_TABLE', 'OBJECT_COLUMN'].includes(String(body.renameType)))
    rules.push('rename');
  if (type === 'TruncateStmt') rules.push('truncate');
  if ((type === 'DeleteStmt' || type === 'UpdateStmt') && body.whereClause === undefined) rules.push('unbounded-write');
  if (type === 'IndexStmt' && !body.concurrent && !createdIn(createdHere, body.relation)) {
    rules.push('index-not-concurrent');
  }
  if (type === 'AlterTableStmt') {
    const table = String((body.relation as Node | undefined)?.relname);
    const createdHereToo = createdIn(createdHere, body.relation);
    for (const wrapper of (body.cmds as Node[] | undefined) ?? []) {
      const cmd = wrapper.AlterTableCmd as Node;
      if (cmd.subtype === 'AT_DropColumn') rules.push('drop-column');
      if (cmd.subtype === 'AT_AlterColumnType') {
        const def = (cmd.def as Node).ColumnDef as Node;
        // A USING clause (raw_default) means a rewrite, whatever the types.
        const widening =
          def.raw_default === undefined &&
          isWidening(types.get(table, String(cmd.name)), columnType(def.typeName as Node));
        if (!widening) rules.push('type-change');
      }
      if (cmd.subtype === 'AT_AddColumn') {
        const constraints = (((cmd.def as Node).ColumnDef as Node).constraints as Node[] | undefined) ?? [];
        const contypes = constraints.map((c) => (c.Constraint as Node).contype);
        if (contypes.includes('CONSTR_NOTNULL') && !contypes.includes('CONSTR_DEFAULT') && !createdHereToo)
          rules.push('not-null-without-default');
      }
      if (cmd.subtype === 'AT_AddConstraint') {
        const constraint = (cmd.def as Node).Constraint as Node;
        if (
          ['CONSTR_FOREIGN', 'CONSTR_CHECK'].includes(String(constraint.contype)) &&
          !constraint.skip_validation &&
          !createdHereToo
        ) {
          rules.push('constraint-validated');
        }
      }
    }
  }
  types.learnOne(tree);
  return rules;
}

/** MySQL/MariaDB: findings from the statement text (no parser of theirs runs here). */
function mysqlFindings(statement: Statement): string[] {
  const sql = statement.sql.replace(/\s+/g, ' ');
  const rules: string[] = [];
  if (/^DROP\s+TABLE\b/i.test(sql)) rules.push('drop-table');
  if (/^DROP\s+(SCHEMA|DATABASE)\b/i.test(sql)) rules.push('drop-schema');
  if (/^ALTER\s+TABLE\b.*\bDROP\s+(COLUMN\s+)?(?!INDEX|KEY|PRIMARY|FOREIGN|CONSTRAINT|CHECK)`?\w/i.test(sql))
    rules.push('drop-column');
  if (
    /^RENAME\s+TABLE\b/i.test(sql) ||
    /^ALTER\s+TABLE\b.*\bRENAME\b/i.test(sql) ||
    /\bCHANGE\s+(COLUMN\s+)?`?\w+`?\s+`?\w+/i.test(sql)
  )
    rules.push('rename');
  if (/^ALTER\s+TABLE\b.*\bMODIFY\b/i.test(sql)) rules.push('type-change');
  if (/^ALTER\s+TABLE\b.*\bADD\s+(COLUMN\s+)?.*\bNOT\s+NULL\b/i.test(sql) && !/\bDEFAULT\b/i.test(sql))
    rules.push('not-null-without-default');
  if (/^TRUNCATE\b/i.test(sql)) rules.push('truncate');
  if (/^(DELETE\s+FROM|UPDATE)\b/i.test(sql) && !/\bWHERE\b/i.test(sql)) rules.push('unbounded-write');
  return rules;
}

/**
 * Lints the statements of one migration. In an expand-phase migration a change that breaks the
 * colour still running the old code is an error; elsewhere every finding is a warning. `types`
 * holds the column types the earlier migrations declared, and learns this one's.
 */
export function lintMigration(
  engine: Engine,
  file: { fileName: string; phase: Phase | undefined },
  statements: Statement[],
  types = new ColumnTypes(),
): LintFinding[] {
  const createdHere: Created = new Map();
  const findings: LintFinding[] = [];
  for (const statement of statements) {
    const rules =
      engine === 'postgres' && statement.tree
        ? postgresFindings(statement, createdHere, types)
        : mysqlFindings(statement);
    for (const name of rules) {
      const rule = RULES[name]!;
      const blocking = rule.breaksOldCode && file.phase === 'expand';
      findings.push({
        rule: name,
        id: rule.id,
        severity: blocking ? 'error' : 'warning',
        file: file.fileName,
        line: statement.line,
        message: blocking
          ? `${rule.title} in an expand-phase migration: the old colour still runs against this schema`
          : rule.title,
        why: rule.why,
      });
    }
  }
  return findings;
}
