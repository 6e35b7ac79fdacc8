import type { ChangeType, Policy, RiskLevel } from './policy.ts';

/** What is known about a change; facts come from the diff, the migrate plan and the inputs. */
export interface RiskFacts {
  changeType: ChangeType;
  environment: string;
  /** Lint findings of the migrations, by severity; undefined when the change has no migrations. */
  migrations?: { errors: number; warnings: number };
  diff: { files: number; lines: number };
  /** Paths of the changed files, matched against the policy's risky paths. */
  changedFiles: readonly string[];
}

export interface RiskAssessment {
  level: RiskLevel;
  /** Why, one line a fact that raised the level (or why it stayed low). */
  reasons: string[];
}

const ORDER: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2 };
const PRODUCTION = /^prod(uction)?$/i;

/**
 * A risk level from facts. Every fact that raises the level gives a reason; a fact that
 * cannot be read (a negative or non-finite count) counts as high, so an unknown never lowers risk.
 */
export function assessRisk(facts: RiskFacts, policy: Policy): RiskAssessment {
  const found: { level: RiskLevel; reason: string }[] = [];
  const raise = (level: RiskLevel, reason: string) => found.push({ level, reason });

  if (facts.changeType === 'emergency') raise('high', 'emergency change: deployed before approval');
  if (PRODUCTION.test(facts.environment.trim())) raise('medium', `environment ${facts.environment} serves users`);

  if (facts.migrations !== undefined) {
    const { errors, warnings } = facts.migrations;
    if (!isCount(errors) || !isCount(warnings)) raise('high', 'migration lint findings could not be counted');
    else if (errors > 0) raise('high', `migrations with ${errors} lint error(s)`);
    else if (warnings > 0) raise('medium', `migrations with ${warnings} lint warning(s)`);
    else raise('medium', 'database migrations present');
  }

  const { files, lines } = facts.diff;
  const { medium, high } = policy.risk.diff;
  if (!isCount(files) || !isCount(lines)) raise('high', 'diff size unknown');
  else if (files > high.files || lines > high.lines) {
    raise('high', `large diff: ${files} files, ${lines} lines (high above ${high.files} files or ${high.lines} lines)`);
  } else if (files > medium.files || lines > medium.lines) {
    raise(
      'medium',
      `diff of ${files} files, ${lines} lines (medium above ${medium.files} files or ${medium.lines} lines)`,
    );
  }

  const risky = riskyFiles(facts.changedFiles, policy.risk.riskyPaths);
  if (risky.length > 0) {
    const shown = risky.slice(0, 5).join(', ') + (risky.length > 5 ? ` and ${risky.length - 5} more` : '');
    raise('high', `${risky.length} file(s) under risky paths: ${shown}`);
  }

  if (found.length === 0) return { level: 'low', reasons: ['no fact raised the risk'] };
  const level = found.reduce<RiskLevel>((top, { level }) => (ORDER[level] > ORDER[top] ? level : top), 'low');
  return { level, reasons: found.map(({ level, reason }) => `${level}: ${reason}`) };
}

/** How many approvals a normal change at this risk needs. */
export function approvalsFor(risk: RiskLevel, policy: Policy): number {
  return policy.approvals[risk];
}

function isCount(value: number): boolean {
  return Number.isInteger(value) && value >= 0;
}

/** The changed files that fall under any of the globs. */
export function riskyFiles(files: readonly string[], globs: readonly string[]): string[] {
  const patterns = globs.map(globToRegExp);
  return files.filter((file) => patterns.some((pattern) => pattern.test(file.replace(/^\.\//, ''))));
}

/**
 * A path glob as a regular expression: `**` crosses folders, `*` and `?` do not; a pattern
 * ending in `/` covers everything below that folder.
 */
export function globToRegExp(glob: string): RegExp {
  const pattern = glob.trim().replace(/^\.\//, '').replace(/\/$/, '/**');
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
