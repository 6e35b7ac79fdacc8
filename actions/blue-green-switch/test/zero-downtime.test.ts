import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { steadyLoad } from '../../../test/helpers/load.ts';
import { ColourProbe } from '../../../test/helpers/nginx.ts';
import { failureOf } from '../../../test/helpers/run-action.ts';
import { nginxInputs, runSwitch, startNginxStage, type NginxStage } from './helpers.ts';

let stage: NginxStage;
beforeAll(async () => {
  stage = await startNginxStage();
});
afterAll(() => stage.close());

/**
 * The real thing: nginx in front of a blue and a green server under a steady, bounded load
 * (200 requests/s for 24 s over 10 kept-alive connections), switched blue → green, rolled back,
 * switched gradually (10, 50, 100) and rolled back again. No request may fail, and after each
 * switch the live URL must serve only the new colour within a second of nginx getting the file.
 */
it('switches and rolls back under load without one failed request', async () => {
  const url = `${stage.nginx.url}/`;
  const load = steadyLoad(url, { rate: 200, connections: 10, durationMs: 24_000 });
  const probe = new ColourProbe(url, stage.nginx.include);
  const inputs = nginxInputs(stage, 'production');
  const step = async (extra: Record<string, string>) => {
    const run = await runSwitch(stage.github, { ...inputs, ...extra });
    expect(failureOf(run)).toBe('');
    return run;
  };
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const first = await step({ to: 'green' });
  expect(first.outputs.live).toBe('green');
  await step({ command: 'rollback', 'deployment-id': first.outputs['deployment-id']! });
  const gradual = await step({ to: 'green', weights: '10, 50, 100', 'step-pause': '1s' });
  expect(gradual.outputs.live).toBe('green');
  const back = await step({ command: 'rollback' });
  expect(back.outputs.live).toBe('blue');

  const result = await load;
  await probe.stop();
  expect(result.requests).toBeGreaterThan(4000);
  expect({ failed: result.failed, non2xx: result.non2xx, errors: result.errors }).toEqual({
    failed: 0,
    non2xx: 0,
    errors: [],
  });
  expect(probe.seen.filter((sample) => sample.colour === 'error' || sample.colour === 'none')).toEqual([]);
  // Each full switch: the live URL serves only the new colour within a second of the file change.
  const toGreen = probe.switchesTo(stage.green.address, stage.blue.address);
  const toBlue = probe.switchesTo(stage.blue.address, stage.green.address).slice(1);
  expect(toGreen).toHaveLength(2);
  expect(toBlue).toHaveLength(2);
  for (const [colour, moments] of [
    ['green', toGreen],
    ['blue', toBlue],
  ] as const) {
    for (const at of moments) {
      const settled = probe.settledOn(colour, at);
      expect(settled).toBeDefined();
      expect(settled!).toBeLessThan(1000);
    }
  }
}, 90_000);
