import type { DeploymentPayload } from '../../packages/record/src/deployment-record.ts';

/**
 * The payload blue-green-switch writes for a switch of `shop` from blue to green with nginx: the
 * deployment record tests read back (metrics, incidents), with what a test cares about given.
 */
export function switchRecordPayload(overrides: Partial<DeploymentPayload> & { sha: string }): DeploymentPayload {
  return {
    deploySuiteRecord: 1,
    service: 'shop',
    artifactDigest: null,
    router: 'nginx',
    colour: 'green',
    previousWeights: { blue: 100, green: 0 },
    previousColour: 'blue',
    previousSha: null,
    rolledBack: null,
    changeRequest: null,
    ...overrides,
  };
}
