// deploy-environment's own shell steps, run as they ship: which colour is idle (and when no
// deployment may start), and what the finish job reports (and when it is an incident).
import { describe, expect, it } from '@jest/globals';
import { runWorkflowStep, stepScript } from './helpers/workflow-step.ts';

const FILE = '.github/workflows/deploy-environment.yml';
const idle = stepScript(FILE, 'deploy', 'idle');
const outcome = stepScript(FILE, 'finish', 'outcome');

const idleEnv = (live: string, weights: string, approvedLive = live) => ({
  COLOURS: 'blue, green',
  LIVE: live,
  WEIGHTS: weights,
  APPROVED_LIVE: approvedLive,
  URL_TEMPLATE: 'http://{colour}.shop.internal:8080',
});

describe("deploy-environment's idle colour", () => {
  it.each([
    ['blue', '{"blue":100,"green":0}', 'green'],
    ['green', '{"blue":0,"green":100}', 'blue'],
    ['', '', 'blue'],
  ])('with %s live deploys to the other colour', async (live, weights, expected) => {
    const run = await runWorkflowStep(idle, idleEnv(live, weights));
    expect(run.status).toBe(0);
    expect(run.outputs).toEqual({ live, colour: expected, 'base-url': `http://${expected}.shop.internal:8080` });
  });

  it('refuses while traffic is split between the colours', async () => {
    const run = await runWorkflowStep(idle, idleEnv('', '{"blue":75,"green":25}'));
    expect(run.status).not.toBe(0);
    expect(run.log).toContain('Traffic is split between the colours');
    expect(run.outputs.colour).toBeUndefined();
  });

  it('refuses when the live colour changed since the approval', async () => {
    const run = await runWorkflowStep(idle, idleEnv('green', '{"blue":0,"green":100}', 'blue'));
    expect(run.status).not.toBe(0);
    expect(run.log).toContain('The live colour changed since approval');
  });
});

describe("deploy-environment's outcome", () => {
  it.each([
    ['success', 'succeeded', 'succeeded', 'never'],
    ['failure', 'rolled-back', 'rolled-back', 'auto'],
    ['failure', 'failed', 'failed', 'auto'],
    // Never started: the checklist or the approval said no, or the job was cancelled waiting.
    ['skipped', '', 'failed', 'never'],
    ['cancelled', '', 'failed', 'never'],
  ])('deploy job %s (%s) is told as %s, incident %s', async (result, deployOutcome, status, incident) => {
    const run = await runWorkflowStep(outcome, { DEPLOY_RESULT: result, DEPLOY_OUTCOME: deployOutcome });
    expect(run.status).toBe(0);
    expect(run.outputs).toEqual({ status, incident });
  });
});
