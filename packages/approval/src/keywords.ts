import { InputError } from '@deploy-suite/kit';

export interface Keywords {
  approve: readonly string[];
  deny: readonly string[];
}

export const DEFAULT_KEYWORDS: Keywords = {
  approve: ['approve', 'approved', 'lgtm'],
  deny: ['deny', 'denied', 'reject'],
};

const KEYWORD = /^[\p{L}\p{N}][\p{L}\p{N}_-]*$/u;

/**
 * Keywords from an input (comma or whitespace separated), lowercased. A keyword is one word
 * (letters, digits, _ and -), and no word may both approve and deny.
 */
export function parseKeywords(
  text: { approve?: string | undefined; deny?: string | undefined },
  inputs = { approve: 'approve-keywords', deny: 'deny-keywords' },
): Keywords {
  const read = (value: string | undefined, input: string, fallback: readonly string[], example: string) => {
    if (value === undefined || value.trim() === '') return fallback;
    const words = value
      .split(/[\s,]+/)
      .filter((word) => word !== '')
      .map((word) => word.toLowerCase());
    const bad = words.find((word) => !KEYWORD.test(word));
    if (bad !== undefined) {
      throw new InputError(input, `has "${bad}", which is not one word (letters, digits, _ and -)`, example);
    }
    return [...new Set(words)];
  };
  const approve = read(text.approve, inputs.approve, DEFAULT_KEYWORDS.approve, 'approve, approved, lgtm');
  const deny = read(text.deny, inputs.deny, DEFAULT_KEYWORDS.deny, 'deny, denied, reject');
  const both = approve.filter((word) => deny.includes(word));
  if (both.length > 0) {
    throw new InputError(
      inputs.deny,
      `repeats ${both.join(', ')} from ${inputs.approve}: a word cannot both approve and deny`,
      'deny, denied, reject',
    );
  }
  return { approve, deny };
}

const escape = (word: string) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A whole-word, case-insensitive match of any of the words: "approved" is not "approve", "preapprove" is neither. */
export function wordMatcher(words: readonly string[]): RegExp {
  if (words.length === 0) return /(?!)/;
  return new RegExp(`(?<![\\p{L}\\p{N}_-])(?:${words.map(escape).join('|')})(?![\\p{L}\\p{N}_-])`, 'iu');
}
