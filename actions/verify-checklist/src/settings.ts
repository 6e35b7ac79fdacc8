import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseRules, RULES_EXAMPLE, type ConfiguredItem } from '@deploy-suite/checklist';
import type { Repo } from '@deploy-suite/github';
import { InputError, Inputs, readInputFile, readRunContext } from '@deploy-suite/kit';
import { readPolicyInput } from '@deploy-suite/policy';

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
  const policy = readPolicyInput(inputs, workspace);
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

/** The rules: the rules input, else rules-file, else .github/deploy-checklist.yml in the checkout. */
function readRulesText(inputs: Inputs, workspace: string): { text: string; input: string; path?: string } {
  const fileExample = `rules-file: ${DEFAULT_RULES_FILE}`;
  const given = inputs.textOrFile('rules', 'rules-file', { example: RULES_EXAMPLE, fileExample, base: workspace });
  if (given !== undefined) return given;
  if (existsSync(resolve(workspace, DEFAULT_RULES_FILE))) {
    return {
      text: readInputFile('rules-file', DEFAULT_RULES_FILE, fileExample, workspace),
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
