import { InputError, RemoteError } from '@deploy-suite/kit';

/** A colour of the configured pair, e.g. "blue" or "green". */
export type Colour = string;

/** Share of live traffic per colour of the pair, in whole percent summing to 100. */
export type Weights = Record<Colour, number>;

/** What the router itself reports, read back after every change: never what we asked for. */
export interface RouterState {
  /** The colour taking all live traffic; undefined while traffic is split or the router names neither colour. */
  live: Colour | undefined;
  weights: Weights;
  /** The router's own words for the log and the summary, e.g. `Service shop selects colour=green`. */
  detail: string;
}

export interface Readiness {
  ready: boolean;
  /** Why, in the router's terms: "3/3 replicas updated and available, 3 ready endpoints". */
  detail: string;
}

/**
 * A router that sends live traffic to one colour of a pair (or splits it by weight). Every
 * provider reads its state from the router itself, checks a colour's readiness where the router
 * knows it, and routes by weights; the switch logic (health gates, steps, verification, rollback,
 * the deployment record) lives above it and is the same for all.
 */
export interface RouterProvider {
  readonly name: 'nginx' | 'kubernetes' | 'aws-alb' | 'command';
  readonly colours: readonly [Colour, Colour];
  /** Whether route() accepts a split (10/90); a provider without weights takes only 0 or 100. */
  readonly supportsWeights: boolean;
  /** The live state as the router reports it. */
  read(): Promise<RouterState>;
  /**
   * The router's own view of whether a colour can take traffic (a finished rollout with ready
   * endpoints, healthy targets), or undefined when the router has none (nginx: use health URLs).
   */
  readiness(colour: Colour): Promise<Readiness | undefined>;
  /**
   * Sends traffic by weights. Either the router ends up as asked, or it throws a RouterError; a
   * provider that changed part of the state before failing puts back what it changed where it
   * can, and the caller reads the state back either way.
   */
  route(weights: Weights, context?: RouteContext): Promise<void>;
}

/** Why traffic moves: a provider with a separate rollback command (the command provider) uses it. */
export interface RouteContext {
  reason: 'switch' | 'rollback';
}

/** The router refused, failed or did not answer; `message` says which router call and what next. */
export class RouterError extends RemoteError {
  override name = 'RouterError';
}

/** All traffic on one colour of the pair. */
export function allOn(colours: readonly [Colour, Colour], live: Colour): Weights {
  return Object.fromEntries(colours.map((colour) => [colour, colour === live ? 100 : 0]));
}

/** Whether weights describe a whole routing (they add up to 100), not an unknown or empty one. */
export function isWholeState(weights: Weights): boolean {
  return Object.values(weights).reduce((sum, share) => sum + share, 0) === 100;
}

/** The colour with all traffic, or undefined while split. */
export function liveOf(weights: Weights): Colour | undefined {
  const entries = Object.entries(weights);
  const full = entries.filter(([, share]) => share === 100);
  return full.length === 1 && entries.every(([, share]) => share === 0 || share === 100) ? full[0]![0] : undefined;
}

/** "blue 90%, green 10%". */
export function describeWeights(weights: Weights): string {
  return Object.entries(weights)
    .map(([colour, share]) => `${colour} ${share}%`)
    .join(', ');
}

const COLOUR = /^[a-z][a-z0-9-]{0,30}$/;

/** The pair of colours from an input ("blue,green"): two distinct lowercase names. */
export function parseColours(text: string, input = 'colours'): [Colour, Colour] {
  const names = text
    .split(/[\s,]+/)
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const example = `${input}: blue, green`;
  if (names.length !== 2) throw new InputError(input, `must name exactly two colours, got "${text}"`, example);
  const bad = names.find((name) => !COLOUR.test(name));
  if (bad !== undefined) {
    throw new InputError(input, `has "${bad}": a colour is a lowercase name (letters, digits, -)`, example);
  }
  if (names[0] === names[1]) throw new InputError(input, `names ${names[0]} twice`, example);
  return [names[0]!, names[1]!];
}
