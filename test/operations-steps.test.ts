// The shell steps of the rollback and scheduled-operations workflows, run as they ship.
import { describe, expect, it } from '@jest/globals';
import { runWorkflowStep, stepScript } from './helpers/workflow-step.ts';

const rollbackScope = stepScript('.github/workflows/rollback.yml', 'rollback', 'scope');
const rollbackTarget = stepScript('.github/workflows/rollback.yml', 'rollback', 'target');
const deployScope = stepScript('.github/workflows/deploy-environment.yml', 'prepare', 'scope');
const plan = stepScript('.github/workflows/scheduled-operations.yml', 'operate', 'plan');
const report = stepScript('.github/workflows/scheduled-operations.yml', 'operate', 'report');

describe('the rollback workflow', () => {
  it.each(['', 'eu-west-1'])('reads the record deploy-environment wrote (region %p)', async (region) => {
    const env = { ENVIRONMENT: 'production', REGION: region, SERVICE: 'shop', SHA: 'a'.repeat(40) };
    const deployed = await runWorkflowStep(deployScope, { ...env, REPOSITORY: 'acme/shop', RUN_ID: '7' });
    const rolledBack = await runWorkflowStep(rollbackScope, { ...env, RESTORE: 'false', CONFIRM: '' });
    expect(rolledBack.status).toBe(0);
    expect(rolledBack.outputs['record-environment']).toBe(deployed.outputs['record-environment']);
    expect(rolledBack.outputs['record-environment']).toBe(region ? `production-${region}` : 'production');
  });

  it.each([
    [{ REGION: 'EU West' }, 'The region must be lower-case letters'],
    [{ RESTORE: 'true', CONFIRM: '' }, 'restore-database needs confirm-database'],
  ])('refuses %p', async (env, message) => {
    const run = await runWorkflowStep(rollbackScope, {
      ENVIRONMENT: 'production',
      REGION: '',
      SERVICE: 'shop',
      RESTORE: 'false',
      CONFIRM: '',
      ...env,
    });
    expect(run.status).not.toBe(0);
    expect(run.log).toContain(message);
  });

  const targets = JSON.stringify({
    defaults: { 'backup-store': 's3://backups/shop' },
    production: {
      'live-url': 'https://shop.example.com',
      regions: { 'us-east-1': { 'live-url': 'https://us.shop.example.com' } },
    },
  });
  const target = (env: Record<string, string>) =>
    runWorkflowStep(rollbackTarget, {
      TARGETS: targets,
      ENVIRONMENT: 'production',
      REGION: '',
      LIVE_URL: '',
      RESTORE: 'false',
      STORE: '',
      ...env,
    });

  it("takes the environment's and the region's settings from the pipeline's targets", async () => {
    expect((await target({})).outputs['live-url']).toBe('https://shop.example.com');
    const us = await target({ REGION: 'us-east-1', RESTORE: 'true' });
    expect(us.status).toBe(0);
    expect(us.outputs['live-url']).toBe('https://us.shop.example.com');
    expect(JSON.parse(us.outputs.settings!)).toMatchObject({ 'backup-store': 's3://backups/shop' });
  });

  it.each([
    [{ ENVIRONMENT: 'qa' }, 'targets must be the pipeline'],
    [{ TARGETS: '', LIVE_URL: '' }, 'live-url is needed'],
    [{ TARGETS: '', LIVE_URL: 'https://shop.example.com', RESTORE: 'true' }, 'restore-database needs backup-store'],
  ])('refuses %p', async (env, message) => {
    const run = await target(env);
    expect(run.status).not.toBe(0);
    expect(run.log).toContain(message);
  });
});

describe('the scheduled operations', () => {
  it.each([
    ['backup-full', 'postgres', 'full'],
    ['backup-incremental', 'postgres', 'incr'],
    ['backup-incremental', 'mariadb', 'incremental'],
  ])('%s on %s takes a %s backup', async (operation, engine, type) => {
    const run = await runWorkflowStep(plan, { OPERATION: operation, ENGINE: engine });
    expect(run.status).toBe(0);
    expect(run.outputs.type).toBe(type);
  });

  it.each([
    [{ OPERATION: 'backup-daily', ENGINE: 'postgres' }, 'operation must be backup-full'],
    [{ OPERATION: 'drill', ENGINE: 'oracle' }, 'engine must be postgres or mariadb'],
  ])('refuses %p', async (env, message) => {
    const run = await runWorkflowStep(plan, env);
    expect(run.status).not.toBe(0);
    expect(run.log).toContain(message);
  });

  it("reports the drill's restore time against RTO and the backup's age against RPO", async () => {
    const run = await runWorkflowStep(report, {
      OUTCOME: 'success',
      BACKUP_ID: 'shop-2026-11-27T02-00-00Z-abc123',
      RESTORE_SECONDS: '754',
      AGE_SECONDS: '1260',
      MAX_RTO: '4h',
      MAX_AGE: '1h',
      ROW_COUNTS: '{"orders":1200,"customers":200}',
    });
    expect(run.status).toBe(0);
    expect(run.outputs.line).toBe(
      'DR drill success: restore 12.6 min (RTO 4h), data age 21.0 min (RPO 1h), 2 tables, 1400 rows',
    );
    expect(run.summary).toContain('| restore time (RTO) | 12.6 min | 4h |');
    // Values a failed drill leaves empty or a hostile one makes up are "unknown", never a shell error.
    const odd = await runWorkflowStep(report, {
      OUTCOME: 'failure',
      BACKUP_ID: '',
      RESTORE_SECONDS: '$(id)',
      AGE_SECONDS: '',
      MAX_RTO: '4h',
      MAX_AGE: '1h',
      ROW_COUNTS: 'not json',
    });
    expect(odd.status).toBe(0);
    expect(odd.outputs.line).toBe('DR drill failure: restore unknown (RTO 4h), data age unknown (RPO 1h), unknown');
  });
});
