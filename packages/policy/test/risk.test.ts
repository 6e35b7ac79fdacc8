import { describe, expect, it } from '@jest/globals';
import { approvalsFor, assessRisk, globToRegExp, parsePolicy, riskyFiles, type RiskFacts } from '../src/index.ts';

const policy = parsePolicy(`
time-zone: UTC
approvals: { low: 1, medium: 2, high: 3 }
risk:
  risky-paths: [infra/**, "**/*.tf", .github/workflows/, db/schema.sql]
  diff: { medium: { files: 20, lines: 300 }, high: { files: 100, lines: 2000 } }
`);

const quiet: RiskFacts = {
  changeType: 'standard',
  environment: 'staging',
  diff: { files: 3, lines: 40 },
  changedFiles: ['src/app.ts', 'README.md'],
};

describe('risk from facts', () => {
  it('is low when no fact raises it, and says so', () => {
    expect(assessRisk(quiet, policy)).toEqual({ level: 'low', reasons: ['no fact raised the risk'] });
  });

  it.each<[string, Partial<RiskFacts>, 'low' | 'medium' | 'high', string]>([
    ['production', { environment: 'production' }, 'medium', 'medium: environment production serves users'],
    ['an emergency', { changeType: 'emergency' }, 'high', 'high: emergency change'],
    ['clean migrations', { migrations: { errors: 0, warnings: 0 } }, 'medium', 'medium: database migrations present'],
    [
      'migration warnings',
      { migrations: { errors: 0, warnings: 2 } },
      'medium',
      'medium: migrations with 2 lint warning(s)',
    ],
    ['migration errors', { migrations: { errors: 1, warnings: 2 } }, 'high', 'high: migrations with 1 lint error(s)'],
    ['uncountable lint findings', { migrations: { errors: Number.NaN, warnings: 0 } }, 'high', 'could not be counted'],
    ['a medium diff', { diff: { files: 21, lines: 10 } }, 'medium', 'medium: diff of 21 files, 10 lines'],
    ['a diff at the medium limit', { diff: { files: 20, lines: 300 } }, 'low', 'no fact raised the risk'],
    ['a large diff', { diff: { files: 5, lines: 2001 } }, 'high', 'high: large diff: 5 files, 2001 lines'],
    ['an unknown diff size', { diff: { files: -1, lines: 10 } }, 'high', 'high: diff size unknown'],
    [
      'a Terraform file',
      { changedFiles: ['modules/net/main.tf'] },
      'high',
      'high: 1 file(s) under risky paths: modules/net/main.tf',
    ],
    [
      'a workflow',
      { changedFiles: ['.github/workflows/deploy.yml', 'src/a.ts'] },
      'high',
      '.github/workflows/deploy.yml',
    ],
  ])('%s', (_case, facts, level, reason) => {
    const assessment = assessRisk({ ...quiet, ...facts }, policy);
    expect(assessment.level).toBe(level);
    expect(assessment.reasons.join('\n')).toContain(reason);
  });

  it('keeps every reason and takes the highest level', () => {
    const assessment = assessRisk(
      { ...quiet, environment: 'prod', migrations: { errors: 0, warnings: 1 }, changedFiles: ['infra/dns.yaml'] },
      policy,
    );
    expect(assessment.level).toBe('high');
    expect(assessment.reasons).toEqual([
      'medium: environment prod serves users',
      'medium: migrations with 1 lint warning(s)',
      'high: 1 file(s) under risky paths: infra/dns.yaml',
    ]);
  });

  it('asks the approvals the policy sets for each level', () => {
    expect([approvalsFor('low', policy), approvalsFor('medium', policy), approvalsFor('high', policy)]).toEqual([
      1, 2, 3,
    ]);
  });
});

describe('risky path globs', () => {
  it.each([
    ['infra/**', 'infra/a/b.yaml', true],
    ['infra/**', 'infrastructure/a.yaml', false],
    ['*.tf', 'main.tf', true],
    ['*.tf', 'modules/main.tf', false],
    ['**/*.tf', 'main.tf', true],
    ['**/*.tf', 'modules/net/main.tf', true],
    ['.github/workflows/', '.github/workflows/ci.yml', true],
    ['db/schema.sql', 'db/schema_sql', false],
    ['src/?.ts', 'src/a.ts', true],
    ['src/?.ts', 'src/ab.ts', false],
  ])('%s matches %s: %p', (glob, file, matches) => expect(globToRegExp(glob).test(file)).toBe(matches));

  it('lists only the files under a risky path, ignoring a leading ./', () => {
    expect(riskyFiles(['./infra/x', 'src/y', 'infra'], ['infra/**'])).toEqual(['./infra/x']);
  });
});
