import { join } from 'node:path';
import { folderHash, readMigrations } from '@deploy-suite/db/migrate/files';
import { quoteUntrusted } from '@deploy-suite/kit';
import { z } from 'zod';
import type { ItemKind } from '../item.ts';
import {
  checkAppSchema,
  checkoutProblem,
  ageOf,
  durationSchema,
  fail,
  formatAge,
  isUnder,
  latestCheckRun,
  pass,
  repoPathSchema,
  requiredSchema,
  unavailable,
} from './rule-support.ts';

export const migrationsTestedSchema = z.strictObject({
  required: requiredSchema,
  /** The migrations folder, relative to the repository root. */
  folder: repoPathSchema.default('db/migrations'),
  /** The check run whose output carries migrate's `test` evidence (its `test-result` JSON). */
  check: z.string().trim().min(1, 'names no check run').default('migrate test'),
  /** The app that must have made that check run (its slug). */
  app: checkAppSchema,
  /** How old the test may be; no limit when absent. */
  'max-age': durationSchema.optional(),
});
export type MigrationsTestedRule = z.infer<typeof migrationsTestedSchema>;

/** The fields of migrate's TestEvidence the item relies on; the rest is carried along. */
const testEvidenceSchema = z.looseObject({
  folderHash: z.string().regex(/^[0-9a-f]{64}$/),
  passed: z.boolean(),
  migrations: z.number().int().nonnegative().optional(),
  schemaMatches: z.boolean().optional(),
});
type FoundEvidence = z.infer<typeof testEvidenceSchema>;

/**
 * migrate's test evidence inside a check run's text: the whole text as JSON, a fenced block of
 * JSON, or the outermost {…} in it. Only JSON of the evidence's shape counts.
 */
export function findTestEvidence(text: string | null | undefined): FoundEvidence | undefined {
  if (!text) return undefined;
  const candidates = [text];
  for (const match of text.matchAll(/```(?:json)?\s*\n([\s\S]*?)```/g)) candidates.push(match[1]!);
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  if (first !== -1 && last > first) candidates.push(text.slice(first, last + 1));
  for (const candidate of candidates) {
    try {
      const parsed = testEvidenceSchema.safeParse(JSON.parse(candidate));
      if (parsed.success) return parsed.data;
    } catch {
      // Not JSON: try the next candidate.
    }
  }
  return undefined;
}

/**
 * Migrations tested: when files under the migrations folder changed, the check run carrying
 * migrate's `test` evidence for this SHA concluded success, its evidence passed, and the folder
 * hash it recorded is the hash of the folder checked out at this SHA (the same function migrate uses).
 */
export const migrationsTested: ItemKind<MigrationsTestedRule> = {
  id: 'migrations-tested',
  schema: migrationsTestedSchema,
  async evaluate(rule, context) {
    const base = { id: 'migrations-tested', name: 'Migrations tested', required: rule.required };
    const facts = { folder: rule.folder, check: rule.check, maxAgeMs: rule['max-age'] ?? null };
    let changed: string[];
    try {
      changed = (await context.changedFiles()).filter((file) => isUnder(file, rule.folder)).sort();
    } catch (error) {
      return unavailable(base, 'read the changed files', error, facts);
    }
    if (changed.length === 0)
      return pass(base, 'no-migrations', `No file under ${rule.folder} changed.`, { ...facts, changedMigrations: 0 });
    const evidence = { ...facts, changedMigrations: changed.length, changed: changed.slice(0, 20) };

    const elsewhere = checkoutProblem(context);
    if (elsewhere !== undefined)
      return fail(base, 'workspace-not-at-sha', `Cannot hash ${rule.folder}: ${elsewhere}.`, evidence);
    let localHash: string;
    try {
      localHash = folderHash(await readMigrations(join(context.workspace, rule.folder), 'folder'));
    } catch (error) {
      return unavailable(base, `read the migrations in ${rule.folder} at this SHA`, error, evidence);
    }
    const withHash = { ...evidence, folderHash: localHash };

    let run;
    try {
      run = await latestCheckRun(context, rule.check, rule.app);
    } catch (error) {
      return unavailable(base, `read the check run ${quoteUntrusted(rule.check)}`, error, withHash);
    }
    if (run === undefined)
      return fail(
        base,
        'no-evidence',
        `${changed.length} migration file(s) changed but no check run named ${quoteUntrusted(rule.check)} is on this SHA: run migrate's test command and publish its test-result there.`,
        withHash,
      );
    const runFacts = { ...withHash, checkRun: { id: run.id, app: run.app ?? null, conclusion: run.conclusion } };
    const link = { url: run.url, observedAt: run.completedAt };
    if (run.status !== 'completed')
      return fail(
        base,
        'no-evidence',
        `The check run ${quoteUntrusted(rule.check)} has not completed (${run.status}).`,
        runFacts,
        {
          url: run.url,
        },
      );
    if (run.conclusion !== 'success')
      return fail(
        base,
        'evidence-failed',
        `The check run ${quoteUntrusted(rule.check)} concluded ${quoteUntrusted(String(run.conclusion), 40)}.`,
        runFacts,
        link,
      );
    const found = findTestEvidence(run.output.text) ?? findTestEvidence(run.output.summary);
    if (found === undefined)
      return fail(
        base,
        'no-evidence',
        `The check run ${quoteUntrusted(rule.check)} holds no migrate test evidence (JSON with folderHash and passed) in its output.`,
        runFacts,
        link,
      );
    const full = {
      ...runFacts,
      tested: {
        folderHash: found.folderHash,
        passed: found.passed,
        migrations: found.migrations ?? null,
        schemaMatches: found.schemaMatches ?? null,
      },
    };
    if (!found.passed)
      return fail(
        base,
        'evidence-failed',
        'migrate test ran and did not pass (the schema differed after undo and re-apply).',
        full,
        link,
      );
    if (found.folderHash !== localHash)
      return fail(
        base,
        'hash-mismatch',
        `The migrations tested (folder hash ${found.folderHash.slice(0, 12)}…) are not those at this SHA (${localHash.slice(0, 12)}…): test these migrations again.`,
        full,
        link,
      );
    if (rule['max-age'] !== undefined) {
      const age = ageOf(context, run.completedAt);
      if (age === undefined || age > rule['max-age'])
        return fail(
          base,
          'too-old',
          age === undefined
            ? 'The test has no completion time, so its age is unknown.'
            : `The test ran longer ago than the ${formatAge(rule['max-age'])} allowed.`,
          full,
          link,
        );
    }
    return pass(
      base,
      'ok',
      `migrate test passed on these exact migrations (${changed.length} changed, folder hash ${localHash.slice(0, 12)}…).`,
      full,
      link,
    );
  },
};
