import { quoteUntrusted } from '@deploy-suite/kit';
import { freezeAt, parsePolicy, type Freeze, type Policy } from '@deploy-suite/policy';
import { z } from 'zod';
import type { ItemKind } from '../item.ts';
import { fail, pass, requiredSchema } from './rule-support.ts';

/** The rule may carry the policy itself (YAML or JSON text, as approval-gate reads it). */
export const noFreezeSchema = z.strictObject({
  required: requiredSchema,
  policy: z
    .string()
    .transform((text, ctx): Policy => {
      try {
        return parsePolicy(text, 'policy');
      } catch (error) {
        ctx.issues.push({
          code: 'custom',
          message: error instanceof Error ? error.message : String(error),
          input: text,
        });
        return z.NEVER;
      }
    })
    .optional(),
});
export type NoFreezeRule = z.infer<typeof noFreezeSchema>;

const describeFreeze = (freeze: Freeze) => {
  const day = (d: { month: number; day: number }) =>
    `${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
  const from = freeze.kind === 'dates' ? `${freeze.from.year}-${day(freeze.from)}` : day(freeze.from);
  const to = freeze.kind === 'dates' ? `${freeze.to.year}-${day(freeze.to)}` : day(freeze.to);
  return { kind: freeze.kind, from, to, reason: freeze.reason };
};

/**
 * Not inside a freeze: the policy (approval-gate's, the same package) has no freeze covering
 * today in its time zone. The policy is the rule's own `policy` text or, without one, the policy
 * given to the factory; with neither, freezes cannot be checked ("no-policy", a fail: closed).
 */
export function noFreeze(policy?: Policy): ItemKind<NoFreezeRule> {
  return {
    id: 'no-freeze',
    schema: noFreezeSchema,
    evaluate(rule, context) {
      const base = { id: 'no-freeze', name: 'Not in a freeze', required: rule.required };
      const used = rule.policy ?? policy;
      if (used === undefined)
        return Promise.resolve(
          fail(
            base,
            'no-policy',
            'No policy was given, so freezes cannot be checked: give policy or policy-file, or turn no-freeze off.',
            {
              policy: false,
            },
          ),
        );
      const freeze = freezeAt(used, new Date(context.clock.now()));
      const facts = { policy: true, timeZone: used.timeZone, freezes: used.freezes.length };
      if (freeze === undefined)
        return Promise.resolve(
          pass(base, 'ok', `No freeze covers today in ${used.timeZone}.`, { ...facts, freeze: null }),
        );
      const described = describeFreeze(freeze);
      return Promise.resolve(
        fail(
          base,
          'frozen',
          `Inside the freeze ${described.from} to ${described.to} (${used.timeZone}): ${quoteUntrusted(freeze.reason, 200)}.`,
          { ...facts, freeze: described },
        ),
      );
    },
  };
}
