import { RE2JS } from 're2js';
import { z } from 'zod';
import { durationTooLong, parseDuration } from '@deploy-suite/kit';

/** A status expectation: 200, "200-299", "2xx", or a list of those. */
const STATUS_TEXT = /^([1-5]\d\d)(?:-([1-5]\d\d))?$|^([1-5])xx$/;

const statusItem = z.union([
  z.number().int().min(100).max(599),
  z
    .string()
    .regex(STATUS_TEXT, { error: 'status must be a code (200), a range ("200-299") or a class ("2xx")' })
    .refine((text) => {
      const range = /^(\d+)-(\d+)$/.exec(text);
      return range === null || Number(range[1]) <= Number(range[2]);
    }, 'a status range must go from low to high, as in "200-299"'),
]);

const duration = (what: string) =>
  z.union([z.string(), z.number()]).transform((value, context) => {
    const ms = parseDuration(String(value));
    if (ms === undefined || ms <= 0) {
      context.addIssue({
        code: 'custom',
        message: `${what} must be a positive duration such as 5s, 500ms or 2m, got "${value}"`,
      });
      return z.NEVER;
    }
    const tooLong = durationTooLong(ms);
    if (tooLong !== undefined) {
      context.addIssue({ code: 'custom', message: `${what} ${tooLong}, got "${value}"` });
      return z.NEVER;
    }
    return ms;
  });

const headerMap = z.record(
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a header name may hold only letters, digits and - _ . etc.'),
  z
    .union([z.string(), z.number(), z.boolean()])
    .transform(String)
    .refine((value) => !/[\r\n]/.test(value), 'a header value must not contain a line break')
    // What node:http accepts in a field value (RFC 9110: visible ASCII, space, tab, obs-text).
    .refine(
      (value) => !/[^\t\x20-\x7e\x80-\xff]/.test(value),
      'a header value may hold only printable characters (no control characters, no characters beyond Latin-1; percent-encode them)',
    ),
);

const expectSchema = z.strictObject({
  status: z.union([statusItem, z.array(statusItem).nonempty()]).optional(),
  'body-contains': z.union([z.string(), z.array(z.string())]).optional(),
  'body-matches': z
    .string()
    .superRefine((source, context) => {
      try {
        RE2JS.compile(source);
      } catch (error) {
        const detail = (error as Error).message.replace(/^error parsing regexp: /, '');
        context.addIssue({
          code: 'custom',
          message: `body-matches ${JSON.stringify(source)} is not a pattern RE2 can run (${detail}); RE2 matches in linear time and so has no backreferences or lookaround. A valid example: body-matches: 'build \\d+'`,
        });
      }
    })
    .optional(),
  json: z.record(z.string(), z.unknown()).optional(),
  headers: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).optional(),
  'max-latency': duration('max-latency').optional(),
});

export const httpCheckSchema = z.strictObject({
  name: z.string().min(1).optional(),
  url: z.string().min(1),
  method: z
    .string()
    .transform((method) => method.toUpperCase())
    .pipe(z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']))
    .default('GET'),
  headers: headerMap.default({}),
  body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
  timeout: duration('timeout').optional(),
  expect: expectSchema.default({}),
  'follow-redirects': z.boolean().default(false),
  insecure: z.boolean().default(false),
  'ca-file': z.string().optional(),
});

const noDataPolicy = z.enum(['fail', 'warn', 'pass']);

export const metricCheckSchema = z
  .strictObject({
    name: z.string().min(1),
    query: z.string().min(1),
    'warn-above': z.number().optional(),
    'fail-above': z.number().optional(),
    'warn-below': z.number().optional(),
    'fail-below': z.number().optional(),
    'min-samples': z.number().int().min(1).optional(),
    'samples-query': z.string().min(1).optional(),
    'on-no-data': noDataPolicy.optional(),
  })
  .refine((check) => check['min-samples'] === undefined || check['samples-query'] !== undefined, {
    error: 'min-samples needs a samples-query that counts the requests in the window',
  });

export const httpChecksSchema = z.array(httpCheckSchema).min(1, 'give at least one check');
export const metricChecksSchema = z.array(metricCheckSchema).min(1, 'give at least one metric check');

export type HttpCheckSpec = z.infer<typeof httpCheckSchema>;
export type MetricCheckSpec = z.infer<typeof metricCheckSchema>;
export type NoDataPolicy = z.infer<typeof noDataPolicy>;

/** What a check, and the whole smoke test, counts as. One name and one set of values everywhere. */
export type Verdict = 'pass' | 'warn' | 'fail';

/** A status expectation as inclusive ranges. */
export function statusRanges(expect: HttpCheckSpec['expect']['status']): [number, number][] {
  if (expect === undefined) return [[200, 299]];
  const items = Array.isArray(expect) ? expect : [expect];
  return items.map((item) => {
    if (typeof item === 'number') return [item, item];
    const match = STATUS_TEXT.exec(item) as RegExpExecArray;
    if (match[3] !== undefined) return [Number(match[3]) * 100, Number(match[3]) * 100 + 99];
    return [Number(match[1]), Number(match[2] ?? match[1])];
  });
}

export function describeStatus(ranges: [number, number][]): string {
  return ranges.map(([low, high]) => (low === high ? String(low) : `${low}-${high}`)).join(', ');
}
