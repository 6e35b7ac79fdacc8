// The pipeline's check job is shell and jq inside pipeline.yml: these tests run that very script,
// taken from the workflow, with bash and jq as a GitHub runner would, so its validation and its
// merging of targets per region are tested as they ship.
import { describe, expect, it } from '@jest/globals';
import { runWorkflowStep, stepScript, type StepRun } from './helpers/workflow-step.ts';

const script = stepScript('.github/workflows/pipeline.yml', 'check', 'check');

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const SHA = 'c'.repeat(40);
const target = {
  'live-url': 'https://shop.example.com',
  'idle-url-template': 'http://{colour}.shop.internal:8080',
  'prometheus-url': 'https://prometheus.example.com',
  'backup-store': 's3://backups/shop',
};

function check(env: Record<string, string>): Promise<StepRun> {
  return runWorkflowStep(script, {
    PROMOTE_TO: 'production',
    DIGEST,
    SHA,
    TARGETS: JSON.stringify({ defaults: { 'nginx-upstream': 'shop' }, production: target }),
    REGIONS: '',
    CHANGE_TYPE: 'normal',
    APPROVAL_MODE: 'wait',
    DEVELOPMENT_DATABASE_URL_SET: 'true',
    STAGING_DATABASE_URL_SET: 'true',
    PRODUCTION_DATABASE_URL_SET: 'true',
    ...env,
  });
}

describe("the pipeline's check job", () => {
  it('passes a valid production promotion and merges defaults under the environment', async () => {
    const run = await check({});
    expect(run.log).toBe('');
    expect(run.status).toBe(0);
    expect(run.outputs).toMatchObject({
      environment: 'production',
      'change-type': 'normal',
      'artifact-digest': DIGEST,
    });
    const first = JSON.parse(run.outputs['first-target']!) as Record<string, string>;
    expect(first).toMatchObject({ ...target, 'nginx-upstream': 'shop', weights: '100' });
    expect(run.outputs['first-region']).toBe('');
    expect(run.outputs['other-regions']).toBe('[]');
  });

  it('splits regions into the first and the rest, each with its own settings', async () => {
    const run = await check({
      REGIONS: '["eu-west-1", "us-east-1", "ap-south-1"]',
      TARGETS: JSON.stringify({
        production: { ...target, regions: { 'us-east-1': { 'live-url': 'https://us.shop.example.com' } } },
      }),
    });
    expect(run.status).toBe(0);
    expect(run.outputs['first-region']).toBe('eu-west-1');
    expect(JSON.parse(run.outputs['other-regions']!)).toEqual(['us-east-1', 'ap-south-1']);
    const targets = JSON.parse(run.outputs.targets!) as Record<string, Record<string, string>>;
    expect(targets['us-east-1']!['live-url']).toBe('https://us.shop.example.com');
    expect(targets['eu-west-1']!['live-url']).toBe(target['live-url']);
  });

  it.each([
    ['a digest that is not sha256:<64 hex>', { DIGEST: 'latest' }, /artifact-digest must be the build's digest/],
    ['an unknown environment', { PROMOTE_TO: 'prod' }, /promote-to must be development, staging or production/],
    ['decide mode', { APPROVAL_MODE: 'decide' }, /approval-mode must be wait or environment/],
    ['an unset database secret', { PRODUCTION_DATABASE_URL_SET: 'false' }, /production-database-url is not set/],
    [
      'regions that are not a list of names',
      { REGIONS: '["EU West"]' },
      /regions must be a JSON list of distinct names/,
    ],
    [
      'an unknown setting',
      { TARGETS: JSON.stringify({ production: { ...target, 'live-ulr': 'x' } }) },
      /unknown setting live-ulr/,
    ],
    [
      'a missing required setting',
      { TARGETS: JSON.stringify({ production: { ...target, 'backup-store': '' } }) },
      /targets.production needs backup-store/,
    ],
    [
      'regions of the wrong shape',
      { TARGETS: JSON.stringify({ production: { ...target, regions: 'eu-west-1' } }) },
      /targets.production must be an object of settings, and its regions an object/,
    ],
    [
      'a region the regions input does not name',
      {
        REGIONS: '["eu-west-1"]',
        TARGETS: JSON.stringify({ production: { ...target, regions: { 'us-east-1': {} } } }),
      },
      /targets.production.regions.us-east-1 is not in regions/,
    ],
  ])('refuses %s, naming it', async (_what, env, message) => {
    const run = await check(env);
    expect(run.status).not.toBe(0);
    expect(run.log).toMatch(/::error title=/);
    expect(run.log).toMatch(message);
    expect(run.outputs.environment).toBeUndefined();
  });
});
