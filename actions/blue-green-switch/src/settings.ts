import { prepareHttpCheck, type HttpCheck } from '@deploy-suite/checks';
import type { Repo } from '@deploy-suite/github';
import { InputError, Inputs, parseHttpUrl, readRunContext } from '@deploy-suite/kit';
import { parseColours, type Colour } from '@deploy-suite/router';
import { z } from 'zod';

export const COMMANDS = ['status', 'switch', 'rollback'] as const;
export const PROVIDERS = ['nginx', 'kubernetes', 'aws-alb', 'command'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface Settings {
  command: (typeof COMMANDS)[number];
  provider: Provider;
  colours: [Colour, Colour];
  environment: string;
  token: string;
  recordAuthor: string;
  repo: Repo;
  runUrl: string | undefined;
  to: Colour | undefined;
  steps: number[];
  stepPauseMs: number;
  autoRollback: boolean;
  health: Record<Colour, HttpCheck | undefined>;
  healthTimeoutMs: number;
  liveUrl: URL;
  verify: (colour: Colour) => HttpCheck;
  verifyTimeoutMs: number;
  deploymentId: number | undefined;
  force: boolean;
  rollbackWindowMs: number;
  sha: string;
  artifactDigest: string | null;
  service: string | null;
  changeRequest: number | null;
  /** The inputs, for the chosen provider to read its own. */
  inputs: Inputs;
}

const HEALTH_EXAMPLE = 'health-urls: |\n  blue: http://10.0.1.10:8080/health\n  green: http://10.0.2.10:8080/health';
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Reads and validates the common inputs; the provider's own are read by its module. */
export function readSettings(inputs: Inputs): Settings {
  const token = inputs.secret('github-token', { required: true, example: 'github-token: ${{ github.token }}' })!;
  const command = inputs.oneOf('command', COMMANDS, 'switch');
  const provider = inputs.oneOf('provider', PROVIDERS, 'nginx');
  if (inputs.optional('provider') === undefined) {
    throw new InputError('provider', `is required: one of ${PROVIDERS.join(', ')}`, 'provider: nginx');
  }
  const colours = parseColours(inputs.string('colours', 'blue, green'));
  const environment = inputs.required('environment', { example: 'environment: production' });
  const context = readRunContext();
  const [owner, name] = context.repository.split('/');
  if (!owner || !name) throw new Error('GITHUB_REPOSITORY is not set: run this action in a GitHub Actions job');

  const toText = inputs.optional('to');
  const to = toText?.toLowerCase();
  if (to !== undefined && !colours.includes(to)) {
    throw new InputError(
      'to',
      `must be one of the colours ${colours.join(', ')}, got "${toText}"`,
      `to: ${colours[1]}`,
    );
  }
  if (command === 'switch' && to === undefined) {
    throw new InputError(
      'to',
      `is required for switch: the colour to make live (${colours.join(' or ')})`,
      `to: ${colours[1]}`,
    );
  }
  const steps = readSteps(inputs.string('weights', '100'));
  const timeoutMs = inputs.duration('check-timeout', '5s', { minMs: 100 });
  const health = readHealth(inputs, colours, timeoutMs, command !== 'status');
  const liveUrl = inputs.url('live-url', {
    required: command !== 'status',
    example: 'live-url: https://shop.example.com/version',
  });
  const header = inputs.string('verify-header', 'x-colour').toLowerCase();
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(header)) {
    throw new InputError('verify-header', `must be an HTTP header name, got "${header}"`, 'verify-header: x-colour');
  }
  const body = inputs.optional('verify-body');
  if (body !== undefined && !body.includes('{colour}')) {
    throw new InputError(
      'verify-body',
      'must contain {colour}, replaced by the colour expected to answer',
      'verify-body: "colour={colour}"',
    );
  }
  const verifyUrl = liveUrl ?? new URL('http://127.0.0.1/');
  const verify = (colour: Colour): HttpCheck =>
    prepareHttpCheck(
      {
        name: `live answers from ${colour}`,
        url: verifyUrl.href,
        method: 'GET',
        headers: {},
        expect:
          body === undefined
            ? { headers: { [header]: colour } }
            : { 'body-contains': body.replaceAll('{colour}', colour) },
        'follow-redirects': false,
        insecure: false,
      },
      0,
      undefined,
      timeoutMs,
    );

  const idText = inputs.optional('deployment-id');
  if (idText !== undefined && !/^[1-9]\d{0,15}$/.test(idText)) {
    throw new InputError(
      'deployment-id',
      `must be a deployment id (a number), got "${idText}"`,
      'deployment-id: ${{ steps.switch.outputs.deployment-id }}',
    );
  }
  const sha = (inputs.optional('sha') ?? context.sha).toLowerCase();
  if (command !== 'status' && !SHA.test(sha)) {
    throw new InputError('sha', `must be a full commit SHA, got "${sha}"`, 'sha: ${{ github.sha }}');
  }
  const changeRequest = inputs.optional('change-request');
  if (changeRequest !== undefined && !/^[1-9]\d{0,9}$/.test(changeRequest)) {
    throw new InputError('change-request', `must be an issue number, got "${changeRequest}"`, 'change-request: 42');
  }
  return {
    command,
    provider,
    colours,
    environment,
    token,
    recordAuthor: inputs.string('token-login', 'github-actions[bot]'),
    repo: { owner, repo: name },
    runUrl: context.runUrl || undefined,
    to,
    steps,
    stepPauseMs: inputs.duration('step-pause', '30s', { minMs: 0 }),
    autoRollback: inputs.boolean('auto-rollback', true),
    health,
    healthTimeoutMs: inputs.duration('health-timeout', '60s', { minMs: 0 }),
    liveUrl: verifyUrl,
    verify,
    verifyTimeoutMs: inputs.duration('verify-timeout', '15s', { minMs: 1000 }),
    deploymentId: idText === undefined ? undefined : Number(idText),
    force: inputs.boolean('force', false),
    rollbackWindowMs: inputs.duration('rollback-window', '24h', { minMs: 60_000 }),
    sha,
    artifactDigest: inputs.optional('artifact-digest') ?? null,
    service: inputs.optional('service') ?? null,
    changeRequest: changeRequest === undefined ? null : Number(changeRequest),
    inputs,
  };
}

/** "10,50,100": increasing whole percents ending at 100. */
export function readSteps(text: string): number[] {
  const example = 'weights: 10, 50, 100';
  const parts = text.split(/[\s,]+/).filter((part) => part !== '');
  if (parts.length === 0 || parts.some((part) => !/^\d{1,3}$/.test(part))) {
    throw new InputError('weights', `must be whole percents such as 10, 50, 100, got "${text}"`, example);
  }
  const steps = parts.map(Number);
  if (steps.some((step) => step < 1 || step > 100)) {
    throw new InputError('weights', `must each be between 1 and 100, got "${text}"`, example);
  }
  if (steps.some((step, i) => i > 0 && step <= steps[i - 1]!)) {
    throw new InputError('weights', `must increase, got "${text}"`, example);
  }
  if (steps.at(-1) !== 100)
    throw new InputError('weights', `must end at 100 (all traffic on the new colour), got "${text}"`, example);
  return steps;
}

function readHealth(
  inputs: Inputs,
  colours: [Colour, Colour],
  timeoutMs: number,
  required: boolean,
): Record<Colour, HttpCheck | undefined> {
  const raw = inputs.structured('health-urls', z.record(z.string(), z.string()), { example: HEALTH_EXAMPLE });
  if (raw === undefined) {
    if (required && inputs.optional('provider') === 'nginx') {
      throw new InputError(
        'health-urls',
        'is required with provider nginx: nginx cannot tell whether a colour is healthy',
        HEALTH_EXAMPLE,
      );
    }
    // The command router has a health gate only when the team gives one: a switch never goes ungated.
    if (required && inputs.optional('provider') === 'command' && inputs.optional('readiness-command') === undefined) {
      throw new InputError(
        'health-urls',
        'is required with provider command unless readiness-command is given: nothing else can tell whether a colour is healthy',
        HEALTH_EXAMPLE,
      );
    }
    return Object.fromEntries(colours.map((colour) => [colour, undefined]));
  }
  const health: Record<Colour, HttpCheck | undefined> = {};
  for (const [colour, url] of Object.entries(raw)) {
    if (!colours.includes(colour)) {
      throw new InputError(
        'health-urls',
        `names "${colour}", which is not one of the colours ${colours.join(', ')}`,
        HEALTH_EXAMPLE,
      );
    }
    const parsed = parseHttpUrl('health-urls', url, HEALTH_EXAMPLE);
    health[colour] = prepareHttpCheck(
      {
        name: `${colour} health`,
        url: parsed.href,
        method: 'GET',
        headers: {},
        expect: {},
        'follow-redirects': false,
        insecure: false,
      },
      0,
      undefined,
      timeoutMs,
    );
  }
  const missing = colours.find((colour) => health[colour] === undefined);
  if (missing !== undefined) throw new InputError('health-urls', `has no URL for ${missing}`, HEALTH_EXAMPLE);
  return health;
}
