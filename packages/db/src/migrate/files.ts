import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@deploy-suite/kit';
import type { Engine } from '../connection.ts';
import { normalizeSql } from './normalize.ts';

export { normalizeSql } from './normalize.ts';

export type Phase = 'expand' | 'contract';

export interface MigrationFile {
  /** V (versioned), U (undo) or R (repeatable: no version, applied again whenever it changes). */
  kind: 'versioned' | 'undo' | 'repeatable';
  /** As written in the name, with _ read as . ("1_10" is "1.10"); empty for a repeatable file. */
  version: string;
  /** The version's numbers; compare them with compareVersions or versionKey, never the text. */
  parts: number[];
  description: string;
  fileName: string;
  path: string;
  sql: string;
  /** SHA-256 of the file's bytes. */
  checksum: string;
  /**
   * SHA-256 with comments removed and whitespace collapsed outside literals and quoted names,
   * read as the engine reads SQL: equal means a cosmetic change.
   */
  readonly normalizedChecksum: string;
  transaction: boolean;
  phase: Phase | undefined;
}

const NAME = /^(?:([VU])(\d+(?:[._]\d+)*)|(R))__([^\s].*)\.sql$/;
const DIRECTIVE_LINE = /^--\s*migrate:\s*(.*)$/i;
const DIRECTIVES = ['no-transaction', 'phase=expand', 'phase=contract'] as const;

export const FOLDER_EXAMPLE =
  'folder: db/migrations (files such as V1__create_orders.sql, V1.1__add_index.sql, U1.1__drop_index.sql)';

export function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export function parseVersion(text: string): number[] | undefined {
  if (!/^\d+(?:[._]\d+)*$/.test(text)) return undefined;
  return text.split(/[._]/).map(Number);
}

/**
 * One spelling per version, as Flyway compares them: 3, 3.0 and 03.0.0 are all "3", so a file
 * renamed from V3 to V3.0 is still the applied version 3. Undefined for text that is no version.
 */
export function versionKey(version: string | number[]): string | undefined {
  const parts = typeof version === 'string' ? parseVersion(version) : version;
  if (parts === undefined) return undefined;
  let end = parts.length;
  while (end > 1 && parts[end - 1] === 0) end--;
  return parts.slice(0, end).join('.');
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export interface MigrationSet {
  versioned: MigrationFile[];
  /** Keyed by versionKey. */
  undo: Map<string, MigrationFile>;
  /** R files, in description order (Flyway's order). */
  repeatable: MigrationFile[];
}

function listFolder(folder: string, input: string): string[] {
  try {
    if (!statSync(folder).isDirectory()) throw new Error('not a folder');
    return readdirSync(folder)
      .filter((name) => name.toLowerCase().endsWith('.sql'))
      .sort();
  } catch {
    throw new InputError(input, `names a folder that does not exist or cannot be read: ${folder}`, FOLDER_EXAMPLE);
  }
}

/**
 * Reads a migrations folder: Flyway-style names, numeric version order (1.10 after 1.9), one
 * file per version and kind, and directives in leading `-- migrate:` comments. Every problem is an
 * input error naming the file. Reads are synchronous (fastest for many small files) but yield to the
 * event loop every few files, so a connection being opened meanwhile makes progress.
 */
export async function readMigrations(
  folder: string,
  input = 'folder',
  engine: Engine = 'postgres',
): Promise<MigrationSet> {
  const names = listFolder(folder, input);
  const contents: Buffer[] = [];
  for (const [index, name] of names.entries()) {
    contents.push(readFileSync(join(folder, name)));
    if (index % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
  }
  return buildMigrations(folder, names, (_name, index) => contents[index]!, input, engine);
}

function buildMigrations(
  folder: string,
  entries: string[],
  contentOf: (name: string, index: number) => Buffer,
  input: string,
  engine: Engine,
): MigrationSet {
  const versioned: MigrationFile[] = [];
  const undo = new Map<string, MigrationFile>();
  const repeatable: MigrationFile[] = [];
  const seen = new Map<string, string>();
  for (const [index, fileName] of entries.entries()) {
    const match = NAME.exec(fileName);
    if (!match) {
      throw new InputError(
        input,
        `has a file whose name is not V<version>__<description>.sql, U<version>__<description>.sql or R__<description>.sql (two underscores): ${fileName}`,
        FOLDER_EXAMPLE,
      );
    }
    const [, versionedPrefix, versionText, repeatablePrefix, rawDescription] = match as unknown as [
      string,
      'V' | 'U' | undefined,
      string | undefined,
      'R' | undefined,
      string,
    ];
    const prefix = versionedPrefix ?? repeatablePrefix!;
    const description = rawDescription.replace(/_/g, ' ');
    const parts = versionText === undefined ? [] : parseVersion(versionText)!;
    const version = parts.join('.');
    // Versions are numbers: V3 and V3.0 are one version, and two files for it are refused.
    const key = prefix === 'R' ? `R:${description}` : `${prefix}${versionKey(parts)!}`;
    if (seen.has(key)) {
      throw new InputError(
        input,
        prefix === 'R'
          ? `has two repeatable files described "${description}": ${seen.get(key)} and ${fileName}`
          : `has two files for version ${versionKey(parts)!}: ${seen.get(key)} and ${fileName}`,
        FOLDER_EXAMPLE,
      );
    }
    seen.set(key, fileName);
    const path = join(folder, fileName);
    // The checksum is over the file's bytes, hashed as read (no decode and re-encode).
    const bytes = contentOf(fileName, index);
    const sql = bytes.toString('utf8');
    const directives = readDirectives(sql, fileName, input);
    if (prefix === 'R' && (directives.has('phase=expand') || directives.has('phase=contract'))) {
      throw new InputError(
        input,
        `gives the repeatable ${fileName} a phase; repeatable files run after the versioned ones of every apply`,
        '-- migrate: no-transaction',
      );
    }
    let normalized: string | undefined;
    const file: MigrationFile = {
      kind: prefix === 'V' ? 'versioned' : prefix === 'U' ? 'undo' : 'repeatable',
      version,
      parts,
      description,
      fileName,
      path,
      sql,
      checksum: sha256(bytes),
      // Only needed when a checksum differs or a migration is recorded: computed on first use.
      get normalizedChecksum() {
        normalized ??= sha256(normalizeSql(sql, engine));
        return normalized;
      },
      transaction: !directives.has('no-transaction'),
      phase: directives.has('phase=expand') ? 'expand' : directives.has('phase=contract') ? 'contract' : undefined,
    };
    if (file.kind === 'versioned') versioned.push(file);
    else if (file.kind === 'undo') undo.set(versionKey(parts)!, file);
    else repeatable.push(file);
  }
  versioned.sort((a, b) => compareVersions(a.parts, b.parts));
  repeatable.sort((a, b) => (a.description < b.description ? -1 : a.description > b.description ? 1 : 0));
  const versions = new Set(versioned.map((v) => versionKey(v.parts)));
  for (const [key, file] of undo) {
    if (!versions.has(key)) {
      throw new InputError(input, `has an undo file with no matching V file: ${file.fileName}`, FOLDER_EXAMPLE);
    }
  }
  return { versioned, undo, repeatable };
}

function readDirectives(sql: string, fileName: string, input: string): Set<string> {
  const found = new Set<string>();
  // Only the leading block of comment lines can hold directives.
  const leading = /^(?:[ \t]*(?:--[^\n]*)?\r?\n)*/.exec(sql)?.[0] ?? '';
  for (const line of leading.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('--')) break; // directives live in the leading comment block only
    const directive = DIRECTIVE_LINE.exec(trimmed);
    if (!directive) continue;
    for (const word of directive[1]!.split(/[\s,]+/).filter(Boolean)) {
      const normalized = word.toLowerCase().replace(/\s/g, '');
      if (!(DIRECTIVES as readonly string[]).includes(normalized)) {
        throw new InputError(
          input,
          `has an unknown directive "${word}" in ${fileName}; known: ${DIRECTIVES.join(', ')}`,
          '-- migrate: no-transaction, phase=expand',
        );
      }
      found.add(normalized);
    }
  }
  if (found.has('phase=expand') && found.has('phase=contract')) {
    throw new InputError(
      input,
      `gives ${fileName} both phases; a migration is expand or contract`,
      '-- migrate: phase=expand',
    );
  }
  return found;
}

/**
 * A hash of migrations (versions or, for repeatable files, descriptions, and exact contents), for
 * approval and expected-plan-hash.
 */
export function planHash(files: MigrationFile[]): string {
  return sha256(
    files
      .map((m) => `${m.kind}:${m.kind === 'repeatable' ? m.description : versionKey(m.parts)}:${m.checksum}`)
      .join('\n'),
  );
}

/** A hash of the whole folder, for the evidence that these exact migrations were tested. */
export function folderHash(files: MigrationSet): string {
  return planHash([
    ...files.versioned,
    ...[...files.undo.values()].sort((a, b) => compareVersions(a.parts, b.parts)),
    ...files.repeatable,
  ]);
}
