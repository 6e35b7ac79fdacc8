import { quoteUntrusted } from '@deploy-suite/kit';
import { z } from 'zod';
import type { ItemKind } from '../item.ts';
import { ageOf, durationSchema, fail, formatAge, pass, requiredSchema, shortList } from './rule-support.ts';

/** One backup as db-backup's `list` command prints it in its `backups` output. */
const listedBackupSchema = z.looseObject({
  id: z.string().min(1).max(200),
  completedAt: z.iso.datetime({ offset: true }),
  verified: z.boolean({ error: 'verified (true or false) is missing: give the output of db-backup list' }),
  labels: z.array(z.string()).default([]),
  sizeBytes: z.number().int().nonnegative().optional(),
});
export type ListedBackup = z.infer<typeof listedBackupSchema>;

/** db-backup's `backups` output: the JSON text as the step printed it, or the list itself. */
const backupsSchema = z.union([z.string(), z.array(z.unknown())]).transform((raw, ctx): ListedBackup[] | undefined => {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    // An output that is not set comes through as ''.
    if (raw.trim() === '') return undefined;
    try {
      value = JSON.parse(raw);
    } catch {
      ctx.issues.push({ code: 'custom', message: "is not JSON: give db-backup list's backups output", input: raw });
      return z.NEVER;
    }
  }
  const parsed = z.array(listedBackupSchema).safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      ctx.issues.push({ code: 'custom', message: issue.message, path: issue.path, input: raw });
    return z.NEVER;
  }
  return parsed.data;
});

export const backupReadySchema = z.strictObject({
  required: requiredSchema,
  /** How old the newest verified backup may be. */
  'max-age': durationSchema.default(24 * 3_600_000),
  /** db-backup list's `backups` output (JSON text or a list); absent or '' is unavailable evidence. */
  backups: backupsSchema.optional(),
  /** Only backups carrying every one of these labels count (e.g. the target database's). */
  labels: z.array(z.string().min(1)).default([]),
});
export type BackupReadyRule = z.infer<typeof backupReadySchema>;

/**
 * Backup ready: a backup verified by a restore, completed within max-age, is in db-backup's
 * catalog as its `list` command printed it. No list given is a fail ("unavailable"), not a pass.
 */
export const backupReady: ItemKind<BackupReadyRule> = {
  id: 'backup-ready',
  schema: backupReadySchema,
  evaluate(rule, context) {
    const base = { id: 'backup-ready', name: 'Backup ready', required: rule.required };
    const facts = { maxAgeMs: rule['max-age'], labels: rule.labels };
    if (rule.backups === undefined)
      return Promise.resolve(
        fail(
          base,
          'unavailable',
          "No backup catalog was given: pass db-backup list's backups output as this item's backups.",
          facts,
        ),
      );
    const carrying = rule.backups
      .filter((backup) => rule.labels.every((label) => backup.labels.includes(label)))
      .sort((a, b) => Date.parse(b.completedAt) - Date.parse(a.completedAt) || (a.id < b.id ? -1 : 1));
    const counted = { ...facts, listed: rule.backups.length, matching: carrying.length };
    if (carrying.length === 0)
      return Promise.resolve(
        fail(
          base,
          'no-backups',
          rule.labels.length
            ? `No backup carries the labels ${shortList(rule.labels.map((label) => quoteUntrusted(label, 60)))}.`
            : 'The catalog lists no backup.',
          counted,
        ),
      );
    const describe = (backup: ListedBackup) => ({
      id: backup.id,
      completedAt: backup.completedAt,
      verified: backup.verified,
      labels: [...backup.labels].sort(),
      sizeBytes: backup.sizeBytes ?? null,
    });
    const verified = carrying.filter((backup) => backup.verified);
    const newest = verified[0];
    if (newest === undefined)
      return Promise.resolve(
        fail(
          base,
          'not-verified',
          `None of the ${carrying.length} backup(s) was verified by a restore (newest: ${quoteUntrusted(carrying[0]!.id, 80)}): run db-backup verify.`,
          { ...counted, newest: describe(carrying[0]!) },
          { observedAt: carrying[0]!.completedAt },
        ),
      );
    const evidence = { ...counted, backup: describe(newest) };
    const age = ageOf(context, newest.completedAt)!;
    if (age < -5 * 60_000)
      return Promise.resolve(
        fail(
          base,
          'unavailable',
          `The newest verified backup ${quoteUntrusted(newest.id, 80)} is dated in the future (${newest.completedAt}): check the clocks and who writes to the store.`,
          evidence,
          { observedAt: newest.completedAt },
        ),
      );
    if (age > rule['max-age'])
      return Promise.resolve(
        fail(
          base,
          'too-old',
          `The newest verified backup ${quoteUntrusted(newest.id, 80)} completed ${quoteUntrusted(newest.completedAt, 40)}, longer ago than the ${formatAge(rule['max-age'])} allowed: take a backup and verify it.`,
          evidence,
          { observedAt: newest.completedAt },
        ),
      );
    return Promise.resolve(
      pass(
        base,
        'ok',
        `Verified backup ${quoteUntrusted(newest.id, 80)}, completed ${quoteUntrusted(newest.completedAt, 40)}.`,
        evidence,
        { observedAt: newest.completedAt },
      ),
    );
  },
};
