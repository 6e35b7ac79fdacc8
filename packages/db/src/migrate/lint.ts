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

/** PostgreSQL: precise findings from the parse tree. */
function postgresFindings(statement: Statement, createdHere: Set<string>): string[] {
  const tree = statement.tree!;
  const type = kind(tree)!;
  const body = tree[type] as Node;
  const rules: string[] = [];
  if (type === 'CreateStmt') createdHere.add(String((body.relation as Node | undefined)?.relname));
  if (type === 'DropStmt') {
    if (body.removeType === 'OBJECT_TABLE') rules.push('drop-table');
    if (body.removeType === 'OBJECT_SCHEMA') rules.push('drop-schema');
  }
  if (type === 'RenameStmt' && ['OBJECT_TABLE', 'OBJECT_COLUMN'].includes(String(body.renameType)))
    rules.push('rename');
  if (type === 'TruncateStmt') rules.push('truncate');
  if ((type === 'DeleteStmt' || type === 'UpdateStmt') && body.whereClause === undefined) rules.push('unbounded-write');
  if (
    type === 'IndexStmt' &&
    !body.concurrent &&
    !createdHere.has(String((body.relation as Node | undefined)?.relname))
  ) {
    rules.push('index-not-concurrent');
  }
  if (type === 'AlterTableStmt') {
    const table = String((body.relation as Node | undefined)?.relname);
    for (const wrapper of (body.cmds as Node[] | undefined) ?? []) {
      const cmd = wrapper.AlterTableCmd as Node;
      if (cmd.subtype === 'AT_DropColumn') rules.push('drop-column');
      if (cmd.subtype === 'AT_AlterColumnType') rules.push('type-change');
      if (cmd.subtype === 'AT_AddColumn') {
        const constraints = (((cmd.def as Node).ColumnDef as Node).constraints as Node[] | undefined) ?? [];
        const types = constraints.map((c) => (c.Constraint as Node).contype);
        if (types.includes('CONSTR_NOTNULL') && !types.includes('CONSTR_DEFAULT') && !createdHere.has(table))
          rules.push('not-null-without-default');
      }
      if (cmd.subtype === 'AT_AddConstraint') {
        const constraint = (cmd.def as Node).Constraint as Node;
        if (
          ['CONSTR_FOREIGN', 'CONSTR_CHECK'].includes(String(constraint.contype)) &&
          !constraint.skip_validation &&
          !createdHere.has(table)
        ) {
          rules.push('constraint-validated');
        }
      }
    }
  }
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
 * colour still running the old code is an error; elsewhere every finding is a warning.
 */
export function lintMigration(
  engine: Engine,
  file: { fileName: string; phase: Phase | undefined },
  statements: Statement[],
): LintFinding[] {
  const createdHere = new Set<string>();
  const findings: LintFinding[] = [];
  for (const statement of statements) {
    const rules =
      engine === 'postgres' && statement.tree ? postgresFindings(statement, createdHere) : mysqlFindings(statement);
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
