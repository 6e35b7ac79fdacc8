import { quoteUntrusted } from '@deploy-suite/kit';
import { z } from 'zod';
import type { ChecklistContext, ItemKind, ItemResult } from '../item.ts';
import {
  checkAppSchema,
  checkoutProblem,
  existsInside,
  fail,
  latestCheckRun,
  pass,
  repoPathSchema,
  requiredSchema,
  unavailable,
} from './rule-support.ts';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;
const label = z.string().trim().min(1, 'names no label').max(100);

const customEntrySchema = z
  .strictObject({
    /** The result's id is "custom:<name>". */
    name: z.string().trim().regex(NAME, 'must be a short name of letters, digits, . _ or - (e.g. security-review)'),
    required: requiredSchema,
    /** A check run that must have succeeded on the SHA. */
    check: z.string().trim().min(1, 'names no check run').optional(),
    /** With check: the app that must have made the run. */
    app: checkAppSchema,
    /** A path that must exist in the repository at the SHA (relative to its root). */
    file: repoPathSchema.optional(),
    /** A label the pull request must carry. */
    label: label.optional(),
    /** A label the pull request must not carry. */
    'absent-label': label.optional(),
  })
  .superRefine((entry, ctx) => {
    const kinds = (['check', 'file', 'label', 'absent-label'] as const).filter((kind) => entry[kind] !== undefined);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `needs exactly one of check, file, label or absent-label${kinds.length ? `, got ${kinds.join(' and ')}` : ''}`,
      });
  });
export const customSchema = z.array(customEntrySchema).superRefine((entries, ctx) => {
  const seen = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    if (seen.has(entry.name.toLowerCase()))
      ctx.addIssue({ code: 'custom', message: `names ${entry.name} twice`, path: [index, 'name'] });
    seen.add(entry.name.toLowerCase());
  }
});
export type CustomRule = z.infer<typeof customSchema>;
type CustomEntry = CustomRule[number];

async function judge(entry: CustomEntry, context: ChecklistContext): Promise<ItemResult> {
  const base = { id: `custom:${entry.name}`, name: entry.name, required: entry.required };
  if (entry.check !== undefined) {
    const name = entry.check;
    const facts = { kind: 'check', check: name };
    let run;
    try {
      run = await latestCheckRun(context, name, entry.app);
    } catch (error) {
      return unavailable(base, `read the check run ${quoteUntrusted(name)}`, error, facts);
    }
    if (run === undefined)
      return fail(base, 'check-missing', `No check run named ${quoteUntrusted(name)} is on this SHA.`, facts);
    const evidence = {
      ...facts,
      checkRun: { id: run.id, app: run.app ?? null, status: run.status, conclusion: run.conclusion },
    };
    if (run.status !== 'completed')
      return fail(
        base,
        'check-pending',
        `The check run ${quoteUntrusted(name)} is ${quoteUntrusted(run.status, 40)}.`,
        evidence,
        {
          url: run.url,
        },
      );
    const link = { url: run.url, observedAt: run.completedAt };
    return run.conclusion === 'success'
      ? pass(base, 'ok', `The check run ${quoteUntrusted(name)} succeeded.`, evidence, link)
      : fail(
          base,
          'check-failed',
          `The check run ${quoteUntrusted(name)} concluded ${quoteUntrusted(String(run.conclusion), 40)}.`,
          evidence,
          link,
        );
  }
  if (entry.file !== undefined) {
    const facts = { kind: 'file', file: entry.file };
    const elsewhere = checkoutProblem(context);
    if (elsewhere !== undefined)
      return fail(base, 'workspace-not-at-sha', `Cannot look for ${entry.file}: ${elsewhere}.`, facts);
    return existsInside(context.workspace, entry.file)
      ? pass(base, 'ok', `${entry.file} exists at this SHA.`, { ...facts, exists: true })
      : fail(base, 'not-found', `${entry.file} does not exist at this SHA.`, { ...facts, exists: false });
  }
  const wanted = entry.label ?? entry['absent-label']!;
  const present = entry.label !== undefined;
  const facts = { kind: present ? 'label' : 'absent-label', label: wanted };
  const pull = context.pull;
  if (pull === undefined)
    return fail(base, 'no-pull-request', 'No pull request holds this SHA, so it has no labels to read.', {
      ...facts,
      pull: null,
    });
  // GitHub's label names match whatever their case.
  const carries = pull.labels.some((label) => label.toLowerCase() === wanted.toLowerCase());
  const evidence = { ...facts, pull: pull.number, carried: carries };
  const link = { url: pull.url };
  if (present)
    return carries
      ? pass(
          base,
          'ok',
          `Pull request #${pull.number} carries the label ${quoteUntrusted(wanted, 100)}.`,
          evidence,
          link,
        )
      : fail(
          base,
          'label-missing',
          `Pull request #${pull.number} lacks the label ${quoteUntrusted(wanted, 100)}.`,
          evidence,
          link,
        );
  return carries
    ? fail(
        base,
        'label-present',
        `Pull request #${pull.number} carries the label ${quoteUntrusted(wanted, 100)}.`,
        evidence,
        link,
      )
    : pass(
        base,
        'ok',
        `Pull request #${pull.number} does not carry the label ${quoteUntrusted(wanted, 100)}.`,
        evidence,
        link,
      );
}

/**
 * Custom items, one result each ("custom:<name>"): a check run that succeeded on the SHA, a file
 * that exists at the SHA, or a label the pull request must or must not carry.
 */
export const custom: ItemKind<CustomRule> = {
  id: 'custom',
  schema: customSchema,
  async evaluate(entries, context) {
    const results: ItemResult[] = [];
    for (const entry of entries) results.push(await judge(entry, context));
    return results;
  },
};
