import { quoteUntrusted } from '@deploy-suite/kit';
import { globToRegExp } from '@deploy-suite/policy';
import { z } from 'zod';
import type { ItemKind, ItemResult } from '../item.ts';
import { bodyLines, fail, globsSchema, pass, requiredSchema, shortList, unavailable } from './rule-support.ts';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

const regexSchema = z.string().transform((text, ctx) => {
  try {
    return new RegExp(text, 'im');
  } catch (error) {
    ctx.issues.push({
      code: 'custom',
      message: `is not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`,
      input: text,
    });
    return z.NEVER;
  }
});

const pathRuleSchema = z.strictObject({
  /** What the change must carry, e.g. documentation or configuration; the result's id is "paths:<name>". */
  name: z.string().trim().regex(NAME, 'must be a short name of letters, digits, . _ or - (e.g. documentation)'),
  required: requiredSchema,
  /** The rule applies when a changed file matches one of these globs. */
  when: globsSchema,
  /** Then at least one changed file must match one of these. */
  require: globsSchema,
  /**
   * A regular expression (multi-line, any case) that, found in the PR body outside code blocks,
   * excuses the change. Without it, the excuse is a line of its own of the form
   * `<name>: not needed because <reason>` (e.g. `documentation: not needed because nothing user-facing changed`).
   */
  'unless-body': regexSchema.optional(),
});
export const pathsSchema = z.array(pathRuleSchema).superRefine((rules, ctx) => {
  const seen = new Set<string>();
  for (const [index, rule] of rules.entries()) {
    if (seen.has(rule.name.toLowerCase()))
      ctx.addIssue({ code: 'custom', message: `names ${rule.name} twice`, path: [index, 'name'] });
    seen.add(rule.name.toLowerCase());
  }
});
export type PathsRule = z.infer<typeof pathsSchema>;
type PathRule = PathsRule[number];

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The PR body's excuse for a path rule, outside code blocks and comments: a match of
 * `unless-body`, or a line `<name>: not needed because <reason>` (a list marker before it is allowed;
 * the reason must say something).
 */
export function excuseFor(rule: Pick<PathRule, 'name' | 'unless-body'>, body: string): string | undefined {
  const prose = bodyLines(body)
    .filter((line) => !line.code)
    .map((line) => line.text)
    .join('\n');
  if (rule['unless-body'] !== undefined) {
    const match = rule['unless-body'].exec(prose);
    return match ? match[0].trim() || undefined : undefined;
  }
  const line = new RegExp(
    `^\\s*(?:[-*+]\\s+)?${escapeRegExp(rule.name)}\\s*:\\s*not needed\\s*(?:because|[:,—–-])\\s*(\\S.{2,})$`,
    'im',
  ).exec(prose);
  return line?.[1]?.trim();
}

const matching = (files: string[], globs: string[]) => {
  const patterns = globs.map(globToRegExp);
  return files.filter((file) => patterns.some((pattern) => pattern.test(file.replace(/^\.\//, ''))));
};

/**
 * Path rules: when files matching `when` changed, a file matching `require` must have changed
 * too (src/** → docs/** or CHANGELOG.md), unless the PR body says why not. One result per rule.
 */
export const paths: ItemKind<PathsRule> = {
  id: 'paths',
  schema: pathsSchema,
  async evaluate(rules, context) {
    let files: string[];
    try {
      files = [...new Set(await context.changedFiles())].sort();
    } catch (error) {
      return rules.map((rule) =>
        unavailable(
          { id: `paths:${rule.name}`, name: `Paths: ${rule.name}`, required: rule.required },
          'read the changed files',
          error,
        ),
      );
    }
    return rules.map((rule): ItemResult => {
      const base = { id: `paths:${rule.name}`, name: `Paths: ${rule.name}`, required: rule.required };
      const facts = { when: rule.when, require: rule.require };
      const triggered = matching(files, rule.when);
      if (triggered.length === 0)
        return pass(base, 'not-applicable', `No changed file matches ${shortList(rule.when)}.`, {
          ...facts,
          matched: 0,
        });
      const evidence = { ...facts, matched: triggered.length, matchedFiles: triggered.slice(0, 20) };
      const satisfied = matching(files, rule.require);
      if (satisfied.length > 0)
        return pass(
          base,
          'ok',
          `${triggered.length} file(s) matching ${shortList(rule.when)} changed, and so did ${shortList(
            satisfied.map((file) => quoteUntrusted(file, 120)),
            3,
          )}.`,
          { ...evidence, satisfiedBy: satisfied.slice(0, 20) },
        );
      const excuse = context.pull === undefined ? undefined : excuseFor(rule, context.pull.body);
      if (excuse !== undefined)
        return pass(
          base,
          'excused',
          `Excused by the pull request: ${quoteUntrusted(excuse, 200)}.`,
          {
            ...evidence,
            satisfiedBy: [],
            excuse: excuse.slice(0, 200),
            pull: context.pull?.number ?? null,
          },
          context.pull ? { url: context.pull.url } : {},
        );
      return fail(
        base,
        'missing-change',
        `${triggered.length} file(s) matching ${shortList(rule.when)} changed (${shortList(
          triggered.map((file) => quoteUntrusted(file, 120)),
          3,
        )}) but none matching ${shortList(rule.require)}; change one, or ${rule['unless-body'] === undefined ? `write "${rule.name}: not needed because …" in the pull request` : `say why not in the pull request (matching /${rule['unless-body'].source}/)`}.`,
        { ...evidence, satisfiedBy: [] },
      );
    });
  },
};
