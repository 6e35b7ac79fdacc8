import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseRules, RULES_EXAMPLE, type ConfiguredItem } from '@deploy-suite/checklist';
import type { Repo } from '@deploy-suite/github';
import { InputError, Inputs, readRunContext } from '@deploy-suite/kit';
import { parsePolicy, POLICY_EXAMPLE, type Policy } from '@deploy-suite/policy';

export const DEFAULT_RULES_FILE = '.github/deploy-checklist.yml';

export interface Settings {
  token: string;
  repo: Repo;
  environment: string;
  items: ConfiguredItem[];
  ref: string | undefined;
  artifactDigest: string | undefined;
  waiverRoles: string[];
  workspace: string;
  /** Files in the checkout the rules came from (rules-file, policy-file): a change must not edit its own checklist. */
  ruleFiles: string[];
}

/** Reads and validates every input; any problem is an InputError naming the input. */
export function readSettings(inputs: Inputs): Settings {
  const token = inputs.secret('github-token', { required: true, example: 'github-token: ${{ github.token }}' })!;
  const environment = inputs.required('environment', { example: 'environment: production' });
  const context = readRunContext();
  const [owner, name] = context.repository.split('/');
  if (!owner || !name) throw new Error('GITHUB_REPOSITORY is not set: run this action in a GitHub Actions job');
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const policy = readPolicy(inputs, workspace);
  const backups = inputs.optional('backups');
  const overrides = backups === undefined ? {} : { 'backup-ready': { backups } };
  const { text, input, path: rulesPath } = readRulesText(inputs, workspace);
  const policyPath = inputs.optional('policy-file');
  const roles = inputs.list('waiver-roles').map((role) => role.toLowerCase());
  return {
    token,
    repo: { owner, repo: name },
    environment,
    items: parseRules(text, input, environment, policy, overrides),
    ref: inputs.optional('ref'),
    artifactDigest: inputs.optional('artifact-digest'),
    waiverRoles: roles.length > 0 ? roles : ['admin', 'maintain'],
    workspace,
    ruleFiles: [rulesPath, policyPath]
      .filter((path): path is string => path !== undefined && !isAbsolute(path))
      .map((path) => path.replace(/^\.\//, '')),
  };
}

function readFile(input: string, path: string, workspace: string, example: string): string {
  const full = isAbsolute(path) ? path : resolve(workspace, path);
  try {
    return readFileSync(full, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InputError(input, `names a file that cannot be read (${reason}): ${path}`, example);
  }
}

/** The rules: the rules input, else rules-file, else .github/deploy-checklist.yml in the checkout. */
function readRulesText(inputs: Inputs, workspace: string): { text: string; input: string; path?: string } {
  const inline = inputs.optional('rules');
  const path = inputs.optional('rules-file');
  if (inline !== undefined && path !== undefined) {
    throw new InputError('rules', "and 'rules-file' were both given; use one of them", RULES_EXAMPLE);
  }
  if (inline !== undefined) return { text: inline, input: 'rules' };
  if (path !== undefined)
    return {
      text: readFile('rules-file', path, workspace, `rules-file: ${DEFAULT_RULES_FILE}`),
      input: 'rules-file',
      path,
    };
  if (existsSync(resolve(workspace, DEFAULT_RULES_FILE))) {
    return {
      text: readFile('rules-file', DEFAULT_RULES_FILE, workspace, `rules-file: ${DEFAULT_RULES_FILE}`),
      input: 'rules-file',
      path: DEFAULT_RULES_FILE,
    };
  }
  throw new InputError(
    'rules',
    `is required: give rules, rules-file, or commit ${DEFAULT_RULES_FILE} (and check the repository out first)`,
    RULES_EXAMPLE,
  );
}

function readPolicy(inputs: Inputs, workspace: string): Policy | undefined {
  const inline = inputs.optional('policy');
  const path = inputs.optional('policy-file');
  if (inline !== undefined && path !== undefined) {
    throw new InputError('policy', "and 'policy-file' were both given; use one of them", POLICY_EXAMPLE);
  }
  if (inline !== undefined) return parsePolicy(inline, 'policy');
  if (path !== undefined)
    return parsePolicy(
      readFile('policy-file', path, workspace, 'policy-file: .github/change-policy.yml'),
      'policy-file',
    );
  return undefined;
}
