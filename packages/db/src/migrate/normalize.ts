import type { Engine } from '../connection.ts';

/**
 * The file with comments removed and whitespace collapsed, read the way the engine reads SQL:
 * string literals, quoted identifiers and dollar-quoted bodies are copied byte for byte, so a
 * space or a `--` inside them is content, never a cosmetic edit. One pass, linear in the file.
 */
export function normalizeSql(sql: string, engine: Engine = 'postgres'): string {
  const out: string[] = [];
  let pendingSpace = false;
  let plainStart = -1;
  const n = sql.length;
  const flushPlain = (end: number): void => {
    if (plainStart >= 0) {
      if (pendingSpace && out.length > 0) out.push(' ');
      pendingSpace = false;
      out.push(sql.slice(plainStart, end));
    }
    plainStart = -1;
  };
  // Runs of ordinary characters are skipped in one regex step, not character by character.
  const special = engine === 'postgres' ? /[\s'"$/-]/g : /[\s'"`#/-]/g;
  let i = 0;
  while (i < n) {
    special.lastIndex = i;
    const next = special.exec(sql)?.index ?? n;
    if (next > i) {
      if (plainStart < 0) plainStart = i;
      i = next;
      continue;
    }
    const c = sql[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      flushPlain(i);
      pendingSpace = true;
      i++;
      continue;
    }
    const lineComment =
      (c === '-' &&
        sql[i + 1] === '-' &&
        // MySQL needs a space (or control character) after --; PostgreSQL does not.
        (engine === 'postgres' || i + 2 >= n || sql.charCodeAt(i + 2) <= 32)) ||
      (engine === 'mysql' && c === '#');
    if (lineComment) {
      flushPlain(i);
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end;
      pendingSpace = true;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*' && !(engine === 'mysql' && sql[i + 2] === '!')) {
      flushPlain(i);
      i = blockCommentEnd(sql, i, engine === 'postgres');
      pendingSpace = true;
      continue;
    }
    const end = quotedEnd(sql, i, engine);
    if (end > i) {
      // A literal glued to the text before it (E'…', x'…') stays glued.
      if (plainStart < 0) plainStart = i;
      i = end;
      continue;
    }
    if (plainStart < 0) plainStart = i;
    i++;
  }
  flushPlain(n);
  return out.join('');
}

/** Index after the block comment starting at i; PostgreSQL nests them, MySQL does not. */
function blockCommentEnd(sql: string, i: number, nested: boolean): number {
  let depth = 0;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*' && (nested || depth === 0)) {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

/**
 * If a quoted token (string, quoted identifier, dollar-quoted body) starts at i, the index after
 * it; otherwise i. An unterminated one runs to the end, as the server would read it.
 */
function quotedEnd(sql: string, i: number, engine: Engine): number {
  const c = sql[i]!;
  if (engine === 'postgres') {
    if (c === "'") {
      // E'…' (and e'…') takes backslash escapes; plain '' strings do not.
      const escapes = (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !IDENT_CHAR.test(sql[i - 2] ?? ' ');
      return closeQuote(sql, i, "'", escapes);
    }
    if (c === '"') return closeQuote(sql, i, '"', false);
    if (c === '$' && !IDENT_CHAR.test(sql[i - 1] ?? ' ')) {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
      if (tag === undefined) return i;
      const close = sql.indexOf(tag, i + tag.length);
      return close < 0 ? sql.length : close + tag.length;
    }
    return i;
  }
  if (c === "'" || c === '"') return closeQuote(sql, i, c, true);
  if (c === '`') return closeQuote(sql, i, '`', false);
  return i;
}

function closeQuote(sql: string, i: number, quote: string, backslashEscapes: boolean): number {
  let j = i + 1;
  while (j < sql.length) {
    const c = sql[j];
    if (backslashEscapes && c === '\\') j += 2;
    else if (c === quote && sql[j + 1] === quote) j += 2;
    else if (c === quote) return j + 1;
    else j++;
  }
  return sql.length;
}
