import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  ColumnTypes,
  executionOf,
  lintMigration,
  normalizeSql,
  splitMysql,
  splitPostgres,
  type MigrationFile,
  type Statement,
} from '../src/migrate/index.ts';

/*
 * Planning a big migration must cost what its bytes cost: splitting, normalising, deciding how it
 * runs and linting grow linearly with the number of statements. Measured without a clock: while
 * the work runs, the string, array, buffer and regular-expression built-ins it calls are counted
 * by the characters, bytes or elements each one has to go through (a slice by what it copies, a
 * split or trim by the string it scans, an indexOf by how far it looked, a regex by how far it
 * searched). A linear pass over 4× the statements counts about 4× the work; a pass that goes back
 * to the start of the file for each statement (a line count from the top, a slice of the rest, a
 * search of every earlier statement) counts about 16×.
 */

type Cost = (self: unknown, args: unknown[], result: unknown, before: number) => number;

const length = (value: unknown): number =>
  typeof value === 'string' || ArrayBuffer.isView(value) || Array.isArray(value)
    ? (value as { length: number }).length
    : 0;
const whole: Cost = (self) => length(self);
const produced: Cost = (_self, _args, result) => length(result);
const one: Cost = () => 1;
/** indexOf-like: from the start position to the hit, or to the end when nothing was found. */
const searched: Cost = (self, args, result) => {
  const from = typeof args[1] === 'number' ? Math.max(0, args[1]) : 0;
  return (typeof result === 'number' && result >= 0 ? result + 1 : length(self)) - from;
};

const METERED: [object, Record<string, Cost>][] = [
  [
    String.prototype,
    {
      slice: produced,
      substring: produced,
      substr: produced,
      split: whole,
      match: whole,
      matchAll: whole,
      replace: whole,
      replaceAll: whole,
      trim: whole,
      trimStart: whole,
      trimEnd: whole,
      toLowerCase: whole,
      toUpperCase: whole,
      normalize: whole,
      includes: whole,
      search: whole,
      concat: produced,
      repeat: produced,
      indexOf: searched,
      lastIndexOf: whole,
      startsWith: (_self, args) => length(args[0]),
      endsWith: (_self, args) => length(args[0]),
      charAt: one,
      charCodeAt: one,
      codePointAt: one,
      at: one,
    },
  ],
  [
    Array.prototype,
    {
      slice: produced,
      concat: produced,
      join: whole,
      indexOf: whole,
      lastIndexOf: whole,
      includes: whole,
      find: whole,
      findIndex: whole,
      findLast: whole,
      some: whole,
      every: whole,
      filter: whole,
      map: whole,
      forEach: whole,
      reduce: whole,
      flatMap: whole,
      splice: whole,
      toSorted: whole,
      sort: whole,
      reverse: whole,
    },
  ],
  [Buffer.prototype, { indexOf: searched, lastIndexOf: whole, toString: whole, includes: whole, slice: produced }],
  [Object.getPrototypeOf(Uint8Array.prototype) as object, { subarray: produced, slice: produced }],
  [Buffer, { from: (_self, args) => length(args[0]) }],
  [TextDecoder.prototype, { decode: (_self, args) => length(args[0]) }],
  [TextEncoder.prototype, { encode: (_self, args) => length(args[0]), encodeInto: (_self, args) => length(args[0]) }],
  [JSON, { parse: (_self, args) => length(args[0]) }],
  [
    RegExp.prototype,
    {
      // A sticky match tries one place; any other search runs from lastIndex to its hit or the end.
      exec: (self, args, result, before) => {
        const regex = self as RegExp;
        const start = regex.global || regex.sticky ? before : 0;
        if (result === null) return regex.sticky ? 1 : length(args[0]) - start;
        const match = result as RegExpExecArray;
        return match.index + match[0].length - start + 1;
      },
    },
  ],
];

/**
 * Runs `work` with the built-ins counted; returns the units of work they did. Calls a built-in
 * makes itself (a replace running its regex, a callback passed to filter) count too: the same
 * share at any size, so the ratio holds.
 */
async function workOf(work: () => unknown): Promise<number> {
  let units = 0;
  const restore: (() => void)[] = [];
  for (const [owner, costs] of METERED) {
    for (const [name, cost] of Object.entries(costs)) {
      const descriptor = Object.getOwnPropertyDescriptor(owner, name);
      const original = descriptor?.value as ((...args: unknown[]) => unknown) | undefined;
      if (typeof original !== 'function') continue;
      const metered = function (this: unknown, ...args: unknown[]): unknown {
        const before = this instanceof RegExp ? this.lastIndex : 0;
        const result = original.apply(this, args);
        units += cost(this, args, result, before);
        return result;
      };
      Object.defineProperty(owner, name, { ...descriptor, value: metered });
      restore.push(() => Object.defineProperty(owner, name, descriptor!));
    }
  }
  try {
    await work();
  } finally {
    for (const undo of restore) undo();
  }
  return units;
}

const pgFile = (n: number): string =>
  Array.from(
    { length: n },
    (_, i) => `-- change ${i}
CREATE TABLE t${i} (id int PRIMARY KEY, name varchar(20));
ALTER TABLE t${i} ADD COLUMN note text DEFAULT 'a -- b; c';
CREATE INDEX t${i}_name ON t${i} (name);
INSERT INTO t${i} VALUES (${i}, $$row ${i}; not the end$$, E'it''s\\n');
`,
  ).join('\n');

const mysqlFile = (n: number): string =>
  Array.from(
    { length: n },
    (_, i) => `# change ${i}
CREATE TABLE t${i} (id INT PRIMARY KEY, name VARCHAR(20));
ALTER TABLE t${i} ADD COLUMN note TEXT; /* a comment; with a semicolon */
INSERT INTO t${i} VALUES (${i}, 'row ${i} -- not a comment; x', "it\\"s");
DELIMITER //
CREATE TRIGGER tr${i} BEFORE INSERT ON t${i} FOR EACH ROW BEGIN SET NEW.name = 'x;y'; END //
DELIMITER ;
`,
  ).join('\n');

const migration = (sql: string): MigrationFile =>
  ({ fileName: 'V1__big.sql', sql, phase: 'expand', directives: new Set() }) as unknown as MigrationFile;

/** Work for 4n statements over work for n. */
async function growth(make: (n: number) => string, run: (sql: string) => unknown, units = UNITS): Promise<number> {
  const small = make(units);
  const large = make(4 * units);
  await run(small); // anything loaded once is loaded before counting
  return (await workOf(() => run(large))) / (await workOf(() => run(small)));
}

const UNITS = 400; // 1,600 statements, and 6,400

/** What lint and execution planning get: the file split once, outside the count. */
const splitOnce = new Map<string, Statement[]>();
const statementsOf = async (engine: 'postgres' | 'mysql', sql: string): Promise<Statement[]> => {
  let statements = splitOnce.get(sql);
  if (statements === undefined) {
    statements = engine === 'postgres' ? await splitPostgres(sql) : splitMysql(sql);
    splitOnce.set(sql, statements);
  }
  return statements;
};

describe('planning work grows linearly with the statements in a file', () => {
  beforeAll(async () => {
    for (const n of [UNITS, 4 * UNITS]) {
      await statementsOf('postgres', pgFile(n));
      await statementsOf('mysql', mysqlFile(n));
    }
  });

  it('splits every statement of both files, so the counts below measure real work', async () => {
    expect(await statementsOf('postgres', pgFile(4 * UNITS))).toHaveLength(16 * UNITS);
    const mysql = await statementsOf('mysql', mysqlFile(4 * UNITS));
    expect(mysql).toHaveLength(16 * UNITS);
    expect(mysql.at(-1)!.sql).toMatch(/^CREATE TRIGGER tr1599 .* END$/s);
  });

  it.each<[string, (n: number) => string, (sql: string) => unknown]>([
    ['PostgreSQL splitting', pgFile, (sql) => splitPostgres(sql)],
    ['MySQL splitting', mysqlFile, (sql) => splitMysql(sql)],
    ['PostgreSQL normalising', pgFile, (sql) => normalizeSql(sql, 'postgres')],
    ['MySQL normalising', mysqlFile, (sql) => normalizeSql(sql, 'mysql')],
    [
      'PostgreSQL execution planning',
      pgFile,
      async (sql) => executionOf('postgres', migration(sql), await statementsOf('postgres', sql), 17),
    ],
    [
      'MySQL execution planning',
      mysqlFile,
      async (sql) => executionOf('mysql', migration(sql), await statementsOf('mysql', sql), 11),
    ],
    [
      'PostgreSQL lint',
      pgFile,
      async (sql) => lintMigration('postgres', migration(sql), await statementsOf('postgres', sql), new ColumnTypes()),
    ],
    [
      'MySQL lint',
      mysqlFile,
      async (sql) => lintMigration('mysql', migration(sql), await statementsOf('mysql', sql), new ColumnTypes()),
    ],
  ])('%s: 4× the statements, at most 6× the work', async (_name, make, run) => {
    const ratio = await growth(make, run);
    expect(ratio).toBeGreaterThan(2); // the count saw the work at all
    expect(ratio).toBeLessThan(6);
  });

  it('counts about 16× for a pass that starts again from the top for each statement', async () => {
    // The shape of the line counting PostgreSQL splitting once did.
    const linesFromTheTop = (sql: string): number[] => {
      const bytes = Buffer.from(sql);
      let offset = 0;
      const lines: number[] = [];
      while ((offset = bytes.indexOf(59, offset + 1)) >= 0)
        lines.push(bytes.subarray(0, offset).toString().split('\n').length);
      return lines;
    };
    // And a lint that looks back over every earlier statement.
    const lookingBack = async (sql: string): Promise<number> => {
      const statements = await statementsOf('postgres', sql);
      return statements.filter((s, i) => statements.slice(0, i).some((earlier) => earlier.sql === s.sql)).length;
    };
    // Smaller files: the point is the count, not waiting for a quadratic pass.
    expect(await growth(pgFile, linesFromTheTop, 100)).toBeGreaterThan(10);
    expect(await growth(pgFile, lookingBack, 100)).toBeGreaterThan(10);
  });
});
