import { InputError, parseStructured } from '@deploy-suite/kit';
import type { Policy } from '@deploy-suite/policy';
import { z } from 'zod';
import type { ItemKind } from './item.ts';
import { backupReady } from './items/backup-ready.ts';
import { custom } from './items/custom.ts';
import { migrationsTested } from './items/migrations-tested.ts';
import { noFreeze } from './items/no-freeze.ts';
import { noIncidents } from './items/no-incidents.ts';
import { paths } from './items/paths.ts';
import { reviewApproved } from './items/review-approved.ts';
import { stagingPassed } from './items/staging-passed.ts';
import { taskList } from './items/task-list.ts';
import { testsPassing } from './items/tests-passing.ts';

export const RULES_EXAMPLE = `items:
  tests-passing: { required-checks: [{ name: build, app: github-actions }] }
  review-approved: { approvals: 1 }
  migrations-tested: { folder: db/migrations }
  paths:
    - { name: documentation, when: "src/**", require: ["docs/**", CHANGELOG.md] }
  task-list: true
environments:
  production:
    items:
      backup-ready: { max-age: 24h }
      staging-passed: { environment: staging, max-age: 7d }
      no-incidents: true
      no-freeze: true`;

/** An item of the checklist with its rule, ready to evaluate. */
export interface ConfiguredItem {
  kind: ItemKind<unknown>;
  rule: unknown;
}

// Each entry: true (the defaults), false (off, e.g. for one environment), or the rule's options.
const entry = z.union([z.boolean(), z.record(z.string(), z.unknown()), z.array(z.unknown())]);
const itemsSchema = z.record(z.string(), entry);
const rulesSchema = z.strictObject({
  items: itemsSchema.default({}),
  environments: z.record(z.string(), z.strictObject({ items: itemsSchema.default({}) })).default({}),
});

function kinds(policy: Policy | undefined): ItemKind<unknown>[] {
  return [
    testsPassing,
    reviewApproved,
    migrationsTested,
    backupReady,
    stagingPassed,
    noIncidents,
    noFreeze(policy),
    paths,
    taskList,
    custom,
  ] as ItemKind<unknown>[];
}

/**
 * The items for one environment from a rules document (YAML or JSON): the base items, then the
 * environment's section on top (an item there replaces the base's; false turns it off). Every
 * item's options are checked by its own schema; an unknown item or a bad option is an InputError
 * naming the input and the item, with a valid example.
 */
export function parseRules(
  text: string,
  input: string,
  environment: string,
  policy: Policy | undefined,
  overrides: Record<string, unknown> = {},
): ConfiguredItem[] {
  const document = parseStructured(input, text, rulesSchema, RULES_EXAMPLE);
  const merged: Record<string, unknown> = { ...document.items, ...(document.environments[environment]?.items ?? {}) };
  const known = kinds(policy);
  const items: ConfiguredItem[] = [];
  for (const [id, raw] of Object.entries(merged)) {
    const kind = known.find((k) => k.id === id);
    if (kind === undefined) {
      throw new InputError(
        input,
        `names the unknown item "${id}"; the items are ${known.map((k) => k.id).join(', ')}`,
        RULES_EXAMPLE,
      );
    }
    if (raw === false) continue;
    let value: unknown = raw === true ? (id === 'paths' || id === 'custom' ? [] : {}) : raw;
    // Values the workflow passes as inputs (db-backup's list output) fill a rule that lacks them.
    if (overrides[id] !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      value = { ...(overrides[id] as object), ...value };
    }
    const parsed = kind.schema.safeParse(value);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 3)
        .map((issue) => `${[id, ...issue.path.map(String)].join('.')}: ${issue.message}`)
        .join('; ');
      throw new InputError(input, `is not valid: ${issues}`, RULES_EXAMPLE);
    }
    items.push({ kind, rule: parsed.data });
  }
  if (items.length === 0) {
    throw new InputError(
      input,
      `gives no item for ${environment}: a checklist checks at least one thing`,
      RULES_EXAMPLE,
    );
  }
  return items;
}
