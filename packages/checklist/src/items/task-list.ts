import { quoteUntrusted } from '@deploy-suite/kit';
import { z } from 'zod';
import type { ItemKind } from '../item.ts';
import { bodyLines, fail, pass, requiredSchema, shortList } from './rule-support.ts';

export const taskListSchema = z.strictObject({
  required: requiredSchema,
  /** A pull request without a task list (a bot's, with an empty body) passes as "no-task-list"; false fails it. */
  'allow-empty': z.boolean().default(true),
});
export type TaskListRule = z.infer<typeof taskListSchema>;

export interface TaskItem {
  text: string;
  checked: boolean;
  /** Struck through or marked N/A, with the reason given; undefined when it is neither. */
  excused?: { reason: string };
  /** Struck through or marked N/A without a reason: does not count as done. */
  excuseWithoutReason?: boolean;
}

// A task line, also inside a blockquote ("> - [ ] …"), which GitHub renders as a checkbox too.
const TASK = /^\s*(?:>\s*)*(?:[-*+]|\d+[.)])\s+\[([ xX])\]\s*(.*)$/;
/** "N/A: reason", "N/A - reason", "n/a (reason)", "N/A because reason" (a bare "NA" is a word, not a mark). */
// A mark followed by its reason: "N/A: …", "N/A - …" (a dash between spaces), "N/A (…)" or "N/A because
// …". "N/A-values" is a word that mentions N/A, not a mark.
const NOT_APPLICABLE =
  /(?:^|[\s(])N\/A(?:\s*:\s*|\s+[-–—]\s+|\s*\(\s*|\s+because\s+)([^)]*[^)\s])|(?:^|[\s(])N\/A(?=$|[\s).,;])/i;
/** The whole item struck through ("~~Update the docs~~ not user-facing"), the reason after it. */
const STRUCK = /^~~(.+?)~~\s*(?:[:\-–—(]\s*)?(.*?)\)?$/;

/**
 * The task items of a PR body, outside fenced and indented code blocks and HTML comments. An item
 * struck through or marked N/A is excused only with a reason after it.
 */
export function taskItems(body: string): TaskItem[] {
  const items: TaskItem[] = [];
  for (const line of bodyLines(body)) {
    if (line.code) continue;
    const match = TASK.exec(line.text);
    if (!match) continue;
    const text = match[2]!.trim();
    const item: TaskItem = { text, checked: match[1] !== ' ' };
    const struck = STRUCK.exec(text);
    const notApplicable = NOT_APPLICABLE.exec(struck ? struck[2]! || struck[1]! : text);
    if (notApplicable) {
      const reason = (notApplicable[1] ?? '').trim();
      if (reason.length >= 2) item.excused = { reason };
      else item.excuseWithoutReason = true;
    } else if (struck) {
      const reason = struck[2]!.trim();
      if (reason.length >= 2) item.excused = { reason };
      else item.excuseWithoutReason = true;
    }
    items.push(item);
  }
  return items;
}

/**
 * The PR body's task list: every item checked, or struck through / marked N/A with a reason.
 * Items in code blocks are examples, not tasks. No pull request is a fail ("no-pull-request").
 */
export const taskList: ItemKind<TaskListRule> = {
  id: 'task-list',
  schema: taskListSchema,
  evaluate(rule, context) {
    const base = { id: 'task-list', name: 'Task list complete', required: rule.required };
    const pull = context.pull;
    if (pull === undefined)
      return Promise.resolve(
        fail(base, 'no-pull-request', 'No pull request holds this SHA, so it has no task list to read.', {
          pull: null,
        }),
      );
    const link = { url: pull.url };
    const items = taskItems(pull.body);
    if (items.length === 0) {
      const why = pull.body.trim() === '' ? 'has no body' : 'has no task list';
      const evidence = { pull: pull.number, items: 0 };
      return Promise.resolve(
        rule['allow-empty']
          ? pass(base, 'no-task-list', `Pull request #${pull.number} ${why}; the rules allow that.`, evidence, link)
          : fail(
              base,
              'no-task-list',
              `Pull request #${pull.number} ${why}, and the rules require one.`,
              evidence,
              link,
            ),
      );
    }
    const open = items.filter((item) => !item.checked && item.excused === undefined);
    const excused = items.filter((item) => !item.checked && item.excused !== undefined);
    const evidence = {
      pull: pull.number,
      items: items.length,
      checked: items.filter((item) => item.checked).length,
      excused: excused.map((item) => ({ text: item.text.slice(0, 200), reason: item.excused!.reason.slice(0, 200) })),
      unchecked: open.slice(0, 20).map((item) => item.text.slice(0, 200)),
    };
    if (open.length > 0) {
      const shown = open.map(
        (item) =>
          `${quoteUntrusted(item.text, 80)}${item.excuseWithoutReason ? ' (struck through or N/A without a reason)' : ''}`,
      );
      return Promise.resolve(
        fail(
          base,
          'unchecked',
          `${open.length} of ${items.length} task(s) not done: ${shortList(shown, 5)}.`,
          evidence,
          link,
        ),
      );
    }
    return Promise.resolve(
      pass(
        base,
        'ok',
        `All ${items.length} task(s) done${excused.length ? ` (${excused.length} not applicable, with reasons)` : ''}.`,
        evidence,
        link,
      ),
    );
  },
};
