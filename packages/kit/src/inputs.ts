import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { InputError } from './errors.ts';
import { durationTooLong, parseDuration } from './duration.ts';
import { registerSecret } from './secrets.ts';

/** Where raw input strings come from: the runner's INPUT_* variables, or a map in tests. */
export type InputSource = (name: string) => string | undefined;

/** Reads inputs exactly as the runner passes them (see @actions/core getInput). */
export const environmentInputs: InputSource = (name) => process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];

interface Common {
  /** Shown in the error when the value is missing or wrong. */
  example?: string;
}

/**
 * Typed, strict access to action inputs. Every parse failure is an InputError that names the
 * input, says what was wrong and shows a valid example; nothing is coerced silently.
 */
export class Inputs {
  private readonly source: InputSource;
  constructor(source: InputSource = environmentInputs) {
    this.source = source;
  }

  /** The trimmed value, or undefined when empty or unset. */
  optional(name: string): string | undefined {
    const value = this.source(name)?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  required(name: string, options: Common = {}): string {
    const value = this.optional(name);
    if (value === undefined) throw new InputError(name, 'is required but was empty', options.example);
    return value;
  }

  /** A secret input: masked (with its derived forms) before anything else sees it. */
  secret(name: string, options: Common & { required?: boolean } = {}): string | undefined {
    const raw = this.source(name);
    if (raw !== undefined && raw.trim() !== '') registerSecret(raw.trim());
    return options.required ? this.required(name, options) : this.optional(name);
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  /** Only true/false (any case) — "ture" or "yes" is an error, never a silent false. */
  boolean(name: string, fallback: boolean): boolean {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    if (/^true$/i.test(value)) return true;
    if (/^false$/i.test(value)) return false;
    throw new InputError(name, `must be true or false, got "${value}"`, `${name}: ${String(fallback)}`);
  }

  integer(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const example = `${name}: ${fallback}`;
    if (!/^-?\d+$/.test(value)) throw new InputError(name, `must be a whole number, got "${value}"`, example);
    const number = Number(value);
    checkBounds(name, number, bounds, example);
    return number;
  }

  number(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const example = `${name}: ${fallback}`;
    const number = Number(value);
    if (!/^-?\d+(\.\d+)?$/.test(value) || !Number.isFinite(number)) {
      throw new InputError(name, `must be a number, got "${value}"`, example);
    }
    checkBounds(name, number, bounds, example);
    return number;
  }

  /** Milliseconds from "90s", "5m", "2h", "1h30m", "500ms" or a bare number of seconds. */
  duration(name: string, fallback: string, bounds: { minMs?: number; maxMs?: number } = {}): number {
    const text = this.optional(name) ?? fallback;
    const ms = parseDuration(text);
    const example = `${name}: ${fallback}`;
    if (ms === undefined) {
      throw new InputError(name, `must be a duration such as 90s, 5m or 2h, got "${text}"`, example);
    }
    // The input's own limit first: where it is tighter than a timer's, it is the one to name.
    if (bounds.maxMs !== undefined && ms > bounds.maxMs) {
      throw new InputError(name, `must be at most ${bounds.maxMs / 1000}s, got "${text}"`, example);
    }
    const tooLong = durationTooLong(ms);
    if (tooLong !== undefined) throw new InputError(name, `${tooLong}, got "${text}"`, example);
    if (bounds.minMs !== undefined && ms < bounds.minMs) {
      throw new InputError(name, `must be at least ${bounds.minMs / 1000}s, got "${text}"`, example);
    }
    return ms;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw new InputError(name, `must be one of ${allowed.join(', ')}, got "${value}"`, `${name}: ${fallback}`);
  }

  /** Items separated by newlines or commas, trimmed, empty ones dropped. */
  list(name: string): string[] {
    const value = this.optional(name);
    if (value === undefined) return [];
    return value
      .split(/[\n,]/)
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /** An absolute http(s) URL. */
  url(name: string, options: Common & { required?: boolean } = {}): URL | undefined {
    const value = options.required ? this.required(name, options) : this.optional(name);
    if (value === undefined) return undefined;
    return parseHttpUrl(name, value, options.example ?? 'https://service.example.com/health');
  }

  /**
   * Text given inline (`name`) or in a file (`fileInput`), never both: the text, the input it
   * came from and, for a file, its path as given; undefined when neither was given. A relative
   * path is read from `base` (the workspace) when given, else from the working directory.
   */
  textOrFile(
    name: string,
    fileInput: string,
    options: { example?: string; fileExample: string; base?: string },
  ): { text: string; input: string; path?: string } | undefined {
    const inline = this.optional(name);
    const path = this.optional(fileInput);
    if (inline !== undefined && path !== undefined) {
      throw new InputError(name, `and '${fileInput}' were both given; use one of them`, options.example);
    }
    if (inline !== undefined) return { text: inline, input: name };
    if (path === undefined) return undefined;
    return { text: readInputFile(fileInput, path, options.fileExample, options.base), input: fileInput, path };
  }

  /**
   * A YAML or JSON document (JSON is YAML) validated against a zod schema. With `fileInput`,
   * the document may come from a file named by that input instead.
   */
  structured<S extends z.ZodType>(
    name: string,
    schema: S,
    options: Common & { fileInput?: string; required?: boolean } = {},
  ): z.infer<S> | undefined {
    const given =
      options.fileInput === undefined
        ? { text: this.optional(name), input: name }
        : this.textOrFile(name, options.fileInput, {
            ...(options.example === undefined ? {} : { example: options.example }),
            fileExample: `${options.fileInput}: .github/smoke.yml`,
          });
    const text = given?.text;
    const source = given?.input ?? name;
    if (text === undefined) {
      if (options.required) {
        const either = options.fileInput === undefined ? '' : ` (or '${options.fileInput}')`;
        throw new InputError(name, `is required${either} but was empty`, options.example);
      }
      return undefined;
    }
    return parseStructured(source, text, schema, options.example);
  }
}

export function parseStructured<S extends z.ZodType>(
  name: string,
  text: string,
  schema: S,
  example?: string,
): z.infer<S> {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    const detail = error instanceof YAMLParseError ? error.message.split('\n')[0] : String(error);
    throw new InputError(name, `is not valid YAML: ${detail}`, example);
  }
  const result = schema.safeParse(document);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((issue) => {
      const at = issue.path.length === 0 ? '' : `at ${issue.path.map(String).join('.')}: `;
      return `${at}${issue.message}`;
    });
    throw new InputError(name, `is not valid: ${issues.join('; ')}`, example);
  }
  return result.data;
}

export function parseHttpUrl(name: string, value: string, example: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(name, `must be an absolute URL with http:// or https://, got "${redactUrl(value)}"`, example);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(name, `must use http:// or https://, got "${url.protocol}"`, example);
  }
  return url;
}

/** A URL as text with any password replaced, for messages. */
export function redactUrl(value: string): string {
  return value.replace(/(\/\/[^/:@\s]*:)[^@/\s]*@/, '$1***@');
}

function checkBounds(name: string, value: number, bounds: { min?: number; max?: number }, example: string): void {
  if (bounds.min !== undefined && value < bounds.min) {
    throw new InputError(name, `must be at least ${bounds.min}, got ${value}`, example);
  }
  if (bounds.max !== undefined && value > bounds.max) {
    throw new InputError(name, `must be at most ${bounds.max}, got ${value}`, example);
  }
}

/** A file an input names, read whole; one that cannot be read is an InputError naming the input. */
export function readInputFile(input: string, path: string, example: string, base?: string): string {
  const full = base === undefined || isAbsolute(path) ? path : resolve(base, path);
  try {
    return readFileSync(full, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InputError(input, `names a file that cannot be read (${reason}): ${path}`, example);
  }
}
