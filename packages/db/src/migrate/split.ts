import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

type Parser = typeof import('libpg-query');

export interface Statement {
  sql: string;
  /** 1-based line where the statement starts in its file. */
  line: number;
  /** PostgreSQL parse tree of the statement (libpg-query), when the engine is PostgreSQL. */
  tree?: Record<string, unknown>;
}

export class SqlSyntaxError extends Error {
  override name = 'SqlSyntaxError';
}

let parser: Promise<Parser> | undefined;

/**
 * Loads PostgreSQL's parser (WebAssembly) on first use. Its Emscripten loader looks for the .wasm
 * beside itself through `__dirname`, which a bundled ES module lacks: point it at this file's folder,
 * where the build puts libpg-query.wasm.
 */
function loadParser(): Promise<Parser> {
  const scope = globalThis as { __dirname?: string };
  scope.__dirname ??= dirname(fileURLToPath(import.meta.url));
  parser ??= import('libpg-query').then(async (module) => {
    await module.loadModule();
    return module;
  });
  return parser;
}

/**
 * Splits PostgreSQL with PostgreSQL's own parser (libpg-query), so dollar-quoted bodies, strings,
 * comments and E'' escapes are never cut. A syntax error names the line.
 */
export async function splitPostgres(sql: string): Promise<Statement[]> {
  const { parseSync } = await loadParser();
  if (sql === '') return []; // the parser refuses an empty query; an empty file has no statements
  let result;
  try {
    result = parseSync(sql);
  } catch (error) {
    const position = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition;
    const where =
      position === undefined ? '' : ` at line ${Buffer.from(sql).subarray(0, position).toString().split('\n').length}`;
    throw new SqlSyntaxError(`${(error as Error).message}${where}`);
  }
  // Offsets are in bytes. Lines are counted from one statement to the next, never from the start
  // of the file again, so a file of 50,000 statements costs what its bytes cost.
  const bytes = Buffer.from(sql);
  let cursor = 0;
  let line = 1;
  const linesUpTo = (offset: number): number => {
    for (let at = bytes.indexOf(10, cursor); at >= 0 && at < offset; at = bytes.indexOf(10, at + 1)) line++;
    cursor = Math.max(cursor, offset);
    return line;
  };
  return (result.stmts ?? []).map((entry) => {
    const start = entry.stmt_location ?? 0;
    const end = entry.stmt_len ? start + entry.stmt_len : bytes.length;
    const text = bytes.subarray(start, end).toString();
    const leading = text.length - text.trimStart().length;
    const startLine = linesUpTo(start) + countNewlines(text, leading);
    return { sql: text.trim(), line: startLine, tree: entry.stmt as unknown as Record<string, unknown> };
  });
}

function countNewlines(text: string, end: number): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at >= 0 && at < end; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/**
 * Splits MySQL/MariaDB scripts on the current delimiter, honouring DELIMITER lines (for
 * procedures and triggers), quotes ('', "", ``), and -- , # and block comments.
 */
export function splitMysql(sql: string): Statement[] {
  const statements: Statement[] = [];
  let delimiter = ';';
  let current = '';
  // Whether `current` holds more than whitespace: tracked, not recomputed per character.
  let started = false;
  let startLine = 1;
  let line = 1;
  let i = 0;
  const delimiterLine = /[ \t]*DELIMITER[ \t]+(\S+)[ \t]*(?:\r?\n|$)/iy;
  const push = (): void => {
    const text = current.trim();
    if (text !== '') statements.push({ sql: text, line: startLine });
    current = '';
    started = false;
  };
  while (i < sql.length) {
    const atLineStart = i === 0 || sql[i - 1] === '\n';
    if (atLineStart && !started) {
      // Sticky: matched in place, without copying the rest of the file.
      delimiterLine.lastIndex = i;
      const found = delimiterLine.exec(sql);
      if (found) {
        delimiter = found[1]!;
        i += found[0].length;
        line += found[0].includes('\n') ? 1 : 0;
        current = '';
        continue;
      }
    }
    const char = sql[i]!;
    if (!started && !/\s/.test(char)) {
      startLine = line;
      // A comment alone does not start a statement.
      const comment =
        (char === '-' && sql[i + 1] === '-' && /\s/.test(sql[i + 2] ?? ' ')) ||
        char === '#' ||
        (char === '/' && sql[i + 1] === '*' && sql[i + 2] !== '!');
      if (!comment) started = true;
    }
    if (char === "'" || char === '"' || char === '`') {
      // A literal runs to its closing quote; a doubled quote or a backslash escape stays inside.
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === '\\' && char !== '`') j += 2;
        else if (sql[j] === char && sql[j + 1] === char) j += 2;
        else if (sql[j] === char) break;
        else j++;
      }
      const literal = sql.slice(i, j + 1);
      current += literal;
      line += (literal.match(/\n/g) ?? []).length;
      i = j + 1;
      continue;
    }
    if ((char === '-' && sql[i + 1] === '-' && /\s/.test(sql[i + 2] ?? ' ')) || char === '#') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
      continue;
    }
    if (char === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      const comment = sql.slice(i, stop);
      // MySQL-specific /*! … */ comments are executable: keep them.
      if (comment.startsWith('/*!')) current += comment;
      line += (comment.match(/\n/g) ?? []).length;
      i = stop;
      continue;
    }
    if (sql.startsWith(delimiter, i)) {
      push();
      i += delimiter.length;
      continue;
    }
    if (char === '\n') line++;
    current += char;
    i++;
  }
  push();
  return statements;
}
