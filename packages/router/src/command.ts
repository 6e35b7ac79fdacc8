import { Inputs, quoteUntrusted } from '@deploy-suite/kit';
import {
  liveOf,
  RouterError,
  type Colour,
  type Readiness,
  type RouteContext,
  type RouterProvider,
  type RouterState,
  type Weights,
} from './provider.ts';
import { runCommandLine } from './run.ts';

export interface CommandConfig {
  colours: readonly [Colour, Colour];
  /** Prints the live colour, or the weights as JSON ({"blue":90,"green":10}), on its standard output. */
  status: string;
  /** Moves traffic; DEPLOY_TARGET_COLOUR and DEPLOY_WEIGHTS say where. */
  switch: string;
  /** Moves traffic back, when it differs from switch; the same variables. */
  rollback: string | undefined;
  /** Exits 0 when DEPLOY_COLOUR can take traffic; its output is the detail. */
  readiness: string | undefined;
  supportsWeights: boolean;
  commandTimeoutMs: number;
}

const EXAMPLE = 'switch-command: ./deploy/switch.sh';

export function readCommandConfig(inputs: Inputs, colours: readonly [Colour, Colour]): CommandConfig {
  return {
    colours,
    status: inputs.required('status-command', { example: 'status-command: ./deploy/live-colour.sh' }),
    switch: inputs.required('switch-command', { example: EXAMPLE }),
    rollback: inputs.optional('rollback-command'),
    readiness: inputs.optional('readiness-command'),
    supportsWeights: inputs.boolean('command-supports-weights', false),
    commandTimeoutMs: inputs.duration('command-timeout', '30s', { minMs: 1000 }),
  };
}

/**
 * The team's own commands, run with @actions/exec: the command line is split into arguments by
 * @actions/exec (no shell), and every value reaches the command as an environment variable, so
 * nothing the action knows is ever interpolated into a command string.
 */
export function createCommandProvider(config: CommandConfig): RouterProvider {
  const run = (name: string, commandLine: string, variables: Record<string, string>) => {
    // The runner's environment without the step's inputs (a token among them) and with the values.
    const env = Object.fromEntries(
      Object.entries({ ...process.env, ...variables }).filter(
        (entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('INPUT_'),
      ),
    );
    return runCommandLine(commandLine, { what: `the ${name} command`, timeoutMs: config.commandTimeoutMs, env });
  };
  const colourVars = { DEPLOY_COLOURS: config.colours.join(',') };

  return {
    name: 'command',
    colours: config.colours,
    supportsWeights: config.supportsWeights,

    async read(): Promise<RouterState> {
      const result = await run('status', config.status, colourVars);
      if (result.exitCode !== 0) {
        throw new RouterError(
          `The status command exited ${result.exitCode}: ${quoteUntrusted(result.stderr.trim(), 300)}`,
        );
      }
      const said = result.stdout.trim();
      const weights = parseStatus(said, config.colours);
      if (weights === undefined) {
        throw new RouterError(
          `The status command printed ${quoteUntrusted(said, 200)}: expected one of ${config.colours.join(', ')} or weights as JSON such as {"${config.colours[0]}":90,"${config.colours[1]}":10}`,
        );
      }
      return { live: liveOf(weights), weights, detail: `status command: ${quoteUntrusted(said, 200)}` };
    },

    async readiness(colour: Colour): Promise<Readiness | undefined> {
      if (config.readiness === undefined) return undefined;
      const result = await run('readiness', config.readiness, { ...colourVars, DEPLOY_COLOUR: colour });
      const detail = quoteUntrusted((result.stdout || result.stderr).trim() || `exit ${result.exitCode}`, 300);
      return { ready: result.exitCode === 0, detail };
    },

    async route(weights: Weights, context?: RouteContext): Promise<void> {
      const rollback = context?.reason === 'rollback' && config.rollback !== undefined;
      const name = rollback ? 'rollback' : 'switch';
      const target = liveOf(weights);
      const result = await run(name, rollback ? config.rollback! : config.switch, {
        ...colourVars,
        DEPLOY_TARGET_COLOUR: target ?? '',
        DEPLOY_WEIGHTS: JSON.stringify(weights),
        DEPLOY_REASON: context?.reason ?? 'switch',
      });
      if (result.exitCode !== 0) {
        throw new RouterError(
          `The ${name} command exited ${result.exitCode}: ${quoteUntrusted(result.stderr.trim(), 600)}`,
        );
      }
    },
  };
}

/** "green", or {"blue":90,"green":10}: anything else is not a state. */
function parseStatus(text: string, colours: readonly [Colour, Colour]): Weights | undefined {
  const name = text.toLowerCase();
  if (colours.includes(name)) return Object.fromEntries(colours.map((c) => [c, c === name ? 100 : 0]));
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const entries = Object.entries(parsed as Record<string, unknown>);
    if (
      !entries.every(([colour, share]) => colours.includes(colour) && Number.isInteger(share) && (share as number) >= 0)
    ) {
      return undefined;
    }
    const total = entries.reduce((sum, [, share]) => sum + (share as number), 0);
    if (total !== 100) return undefined;
    return Object.fromEntries(colours.map((c) => [c, (parsed as Record<string, number>)[c] ?? 0]));
  } catch {
    return undefined;
  }
}
