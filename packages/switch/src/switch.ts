import { attemptHttpCheck, runHttpCheckUntilReady, type HttpCheck } from '@deploy-suite/checks';
import type { GitHubClient, Repo } from '@deploy-suite/github';
import { ConfigurationError, GateClosedError, errorMessage, onCancel, type Clock } from '@deploy-suite/kit';
import {
  commitLastServing,
  contractMigrationsRan,
  createDeploymentRecord,
  currentDeployment,
  lastSwitch,
  readDeploymentRecord,
  setDeploymentStatus,
  type DeploymentRecord,
} from '@deploy-suite/record';
import {
  describeWeights,
  isWholeState,
  liveOf,
  RouterError,
  type Colour,
  type RouterProvider,
  type RouterState,
  type Weights,
} from '@deploy-suite/router';

export interface SwitchContext {
  provider: RouterProvider;
  octokit: GitHubClient;
  repo: Repo;
  environment: string;
  /** The account the token acts as: only its deployment records are read. */
  recordAuthor: string;
  /** A health check per colour (the pre-switch gate, and the previous colour before a rollback). */
  health: Record<Colour, HttpCheck | undefined>;
  healthTimeoutMs: number;
  /** Checks through the live URL that a colour serves; built per colour (header or body marker). */
  verify: (colour: Colour) => HttpCheck;
  verifyTimeoutMs: number;
  /** Consecutive answers from the colour that count as verified. */
  verifyConsecutive: number;
  clock: Clock;
  runUrl: string | undefined;
  liveUrl: string;
  log: (message: string) => void;
}

export interface SwitchRequest {
  to: Colour;
  /** Percent steps ending in 100, e.g. [10, 50, 100]. */
  steps: number[];
  stepPauseMs: number;
  autoRollback: boolean;
  sha: string;
  artifactDigest: string | null;
  service: string | null;
  changeRequest: number | null;
  /** An in_progress record older than this is a crashed run, not a switch in progress. */
  lockStaleMs: number;
}

export interface SwitchResult {
  switched: boolean;
  live: Colour | undefined;
  previous: Colour | undefined;
  deploymentId: number | undefined;
  before: RouterState;
  after: RouterState;
  /** Each step's time from the start of the switch to its verification, for the summary. */
  timings: { step: string; ms: number }[];
  notes: string[];
}

/** The switch failed; `result` holds what is known, the router state read back included. */
export class SwitchFailedError extends GateClosedError {
  override name = 'SwitchFailedError';
  readonly result: Partial<SwitchResult>;
  constructor(message: string, result: Partial<SwitchResult>) {
    super(message);
    this.result = result;
  }
}

const other = (provider: RouterProvider, colour: Colour) => provider.colours.find((c) => c !== colour)!;

function sameWeights(a: Weights, b: Weights, colours: readonly Colour[]): boolean {
  return colours.every((colour) => Math.abs((a[colour] ?? 0) - (b[colour] ?? 0)) <= 1);
}

/** The target's health, from the router (where it knows) and from its health URL. Throws when unhealthy. */
async function healthGate(context: SwitchContext, colour: Colour, doing: string): Promise<string[]> {
  const notes: string[] = [];
  const readiness = await context.provider.readiness(colour);
  if (readiness !== undefined) {
    if (!readiness.ready) throw new GateClosedError(`${colour} is not ready, so ${doing}: ${readiness.detail}`);
    notes.push(`${colour} ready (router): ${readiness.detail}`);
  }
  const check = context.health[colour];
  if (check !== undefined) {
    const result = await runHttpCheckUntilReady(check, {
      readyTimeoutMs: context.healthTimeoutMs,
      retryIntervalMs: 500,
      clock: context.clock,
    });
    if (result.verdict !== 'pass')
      throw new GateClosedError(`${colour}'s health check failed, so ${doing}: ${result.reason}`);
    notes.push(`${colour} healthy: ${check.url.href} answered ${result.status} in ${result.latencyMs} ms`);
  }
  return notes;
}

/** Waits until the live URL answers from `colour` several times in a row, or the time is up. */
export async function verifyLive(context: SwitchContext, colour: Colour): Promise<{ ok: boolean; detail: string }> {
  const check = context.verify(colour);
  const deadline = context.clock.now() + context.verifyTimeoutMs;
  let streak = 0;
  let last = '';
  while (context.clock.now() < deadline) {
    const attempt = await attemptHttpCheck(check);
    if (attempt.ok) {
      streak++;
      if (streak >= context.verifyConsecutive) {
        return { ok: true, detail: `${context.liveUrl} answered from ${colour} ${streak} times in a row` };
      }
    } else {
      streak = 0;
      last = attempt.reason;
    }
    await context.clock.sleep(100);
  }
  return {
    ok: false,
    detail: `${context.liveUrl} did not answer from ${colour} within ${context.verifyTimeoutMs / 1000}s: ${last}`,
  };
}

/** Reads the router back; a read that fails is reported as unknown, never guessed. */
async function readBack(provider: RouterProvider): Promise<RouterState> {
  try {
    return await provider.read();
  } catch (error) {
    return { live: undefined, weights: {}, detail: `the router could not be read back: ${errorMessage(error)}` };
  }
}

/**
 * A switch of live traffic to `to`: the target's health first (nothing changes when it fails),
 * a deployment record, then each weight step read back from the router, and at the end the
 * live URL must answer from the target. A failure after traffic moved puts the exact prior
 * state back (autoRollback) and fails the step with the reason.
 */
export async function switchTo(context: SwitchContext, request: SwitchRequest): Promise<SwitchResult> {
  const { provider, log, clock } = context;
  const started = clock.now();
  const read = await provider.read();
  log(`Router now: ${read.detail}`);
  // The router's word is not enough for "nothing to do": a file written but never reloaded says the
  // target while the old colour still serves. Only the live URL answering from it settles that.
  let before = read;
  const alreadyLive = read.live === request.to && (await verifyLive(context, request.to)).ok;
  if (read.live === request.to && !alreadyLive) {
    // What serves is unknown, so there is no prior state to go back to.
    before = {
      live: undefined,
      weights: {},
      detail: `${read.detail}, yet ${context.liveUrl} does not answer from ${request.to}`,
    };
    log(`The router says ${request.to} is live, but ${context.liveUrl} does not answer from it: switching again`);
  }
  if (alreadyLive) {
    log(`${request.to} is already live: nothing to do`);
    return {
      switched: false,
      live: request.to,
      previous: undefined,
      deploymentId: undefined,
      before,
      after: before,
      timings: [],
      notes: [`${request.to} was already live; nothing changed`],
    };
  }
  if (!provider.supportsWeights && request.steps.some((step) => step !== 100)) {
    throw new ConfigurationError(`The ${provider.name} router cannot split traffic: use weights: 100 (one step)`);
  }
  const notes = await healthGate(context, request.to, 'the router was not touched');
  if (!isWholeState(before.weights)) {
    // A first switch (nothing routed yet) or a router holding something else: nothing to go back to.
    notes.push(
      `the router's prior state is unknown (${before.detail}): no automatic rollback is possible for this switch`,
    );
    log(notes.at(-1)!);
  }

  const current = await currentDeployment(context.octokit, context.repo, context.environment, context.recordAuthor);
  const id = await createDeploymentRecord(context.octokit, context.repo, {
    environment: context.environment,
    description: `switch to ${request.to}`,
    logUrl: context.runUrl,
    payload: {
      deploySuiteRecord: 1,
      service: request.service,
      sha: request.sha,
      artifactDigest: request.artifactDigest,
      router: provider.name,
      colour: request.to,
      previousWeights: before.weights,
      previousColour: before.live ?? null,
      previousSha: current?.payload.colour === before.live ? (current?.payload.sha ?? null) : null,
      rolledBack: null,
      changeRequest: request.changeRequest,
    },
  });
  await claimEnvironment(context, id, request.lockStaleMs);
  log(`Deployment record ${id} opened for ${context.environment}`);

  const result: Partial<SwitchResult> = { before, deploymentId: id, previous: before.live, timings: [], notes };
  const fail = async (reason: string): Promise<never> => {
    const after = await readBack(provider);
    let message = `Switch to ${request.to} failed: ${reason}. The router reports: ${after.detail}.`;
    let finalState = after;
    let undone = sameWeights(after.weights, before.weights, provider.colours);
    if (
      request.autoRollback &&
      isWholeState(before.weights) &&
      !sameWeights(after.weights, before.weights, provider.colours)
    ) {
      log(`Rolling back to ${describeWeights(before.weights)}`);
      try {
        await provider.route(before.weights, { reason: 'rollback' });
        finalState = await readBack(provider);
        // A split cannot be verified by colour through the live URL: the read-back is the check then.
        const verified =
          before.live === undefined
            ? {
                ok: sameWeights(finalState.weights, before.weights, provider.colours),
                detail: `the router reports ${describeWeights(finalState.weights)}`,
              }
            : await verifyLive(context, before.live);
        undone = verified.ok;
        message += verified.ok
          ? ` Rolled back automatically: ${finalState.detail}; ${verified.detail}.`
          : ` The automatic rollback did not verify: ${verified.detail}. Check the router now.`;
      } catch (error) {
        finalState = await readBack(provider);
        message += ` The automatic rollback failed too (${errorMessage(error)}); the router reports: ${finalState.detail}. Check it now.`;
      }
    } else if (!request.autoRollback) {
      message += ' auto-rollback is off: traffic stays where the router reports it.';
    }
    await setDeploymentStatus(
      context.octokit,
      context.repo,
      id,
      'failure',
      `switch to ${request.to} failed`,
      context.runUrl,
    ).catch(() => undefined);
    // Traffic is back where it was: nothing of this switch is left for a later rollback to undo.
    if (undone) {
      await setDeploymentStatus(
        context.octokit,
        context.repo,
        id,
        'inactive',
        'rolled back automatically',
        context.runUrl,
      ).catch(() => undefined);
    }
    throw new SwitchFailedError(message, { ...result, after: finalState, live: finalState.live });
  };

  // A run cancelled while traffic moves (the runner's SIGINT) must not leave it split: the switch
  // stops at its next step boundary (a pause ends at once) and goes back as on a failure; the exit
  // waits for that, within the runner's grace period.
  let cancelled = false;
  let wake = (): void => undefined;
  const woken = new Promise<void>((resolve) => (wake = resolve));
  let settled = (): void => undefined;
  const done = new Promise<void>((resolve) => (settled = resolve));
  const unregister = onCancel(async () => {
    cancelled = true;
    log('The run was cancelled: stopping the switch and putting the prior state back');
    wake();
    await done;
    // A moment for the step to report why it stopped before the process exits.
    await new Promise((resolve) => setTimeout(resolve, 200));
  });
  const stopIfCancelled = async (): Promise<void> => {
    if (cancelled) await fail('the run was cancelled while traffic moved');
  };
  try {
    for (const [index, step] of request.steps.entries()) {
      const weights: Weights = { [request.to]: step, [other(provider, request.to)]: 100 - step };
      const label = `${request.to} ${step}%`;
      try {
        await provider.route(weights, { reason: 'switch' });
      } catch (error) {
        if (!(error instanceof RouterError)) throw error;
        return await fail(error.message);
      }
      const read = await readBack(provider);
      if (!sameWeights(read.weights, weights, provider.colours)) {
        return await fail(`asked for ${describeWeights(weights)}, the router reports ${read.detail}`);
      }
      log(`Step ${label}: ${read.detail}`);
      await stopIfCancelled();
      if (index < request.steps.length - 1) {
        result.timings!.push({ step: label, ms: clock.now() - started });
        if (request.stepPauseMs > 0) await Promise.race([clock.sleep(request.stepPauseMs), woken]);
        await stopIfCancelled();
        try {
          notes.push(...(await healthGate(context, request.to, 'the switch stopped')));
        } catch (error) {
          return await fail(errorMessage(error));
        }
      }
    }
    await stopIfCancelled();
  } finally {
    unregister();
    settled();
  }
  const verified = await verifyLive(context, request.to);
  if (!verified.ok) return fail(verified.detail);
  result.timings!.push({ step: `${request.to} verified`, ms: clock.now() - started });
  log(verified.detail);
  notes.push(verified.detail);

  const after = await readBack(provider);
  await recordSuccess(
    context,
    id,
    `${request.to} live`,
    current === undefined ? undefined : { id: current.id, why: `replaced by deployment ${id}` },
    { ...result, switched: true, live: after.live, after },
  );
  return {
    switched: true,
    live: after.live,
    previous: before.live,
    deploymentId: id,
    before,
    after,
    timings: result.timings!,
    notes,
  };
}

/**
 * A verified switch or rollback: its record succeeds (with the live URL), and the deployment it
 * replaced turns inactive — best effort, since traffic has already moved and says so itself.
 */
async function recordSuccess(
  context: SwitchContext,
  id: number,
  description: string,
  replaced: { id: number; why: string } | undefined,
  done: Partial<SwitchResult>,
): Promise<void> {
  const { octokit, repo, runUrl } = context;
  try {
    await setDeploymentStatus(octokit, repo, id, 'success', description, runUrl, context.liveUrl);
  } catch (error) {
    // Traffic moved and was verified: say so, rather than let a GitHub error read as a failed switch.
    throw new SwitchFailedError(
      `${description} (verified), but deployment record ${id} could not be marked a success: ${errorMessage(error)}. Traffic stays where it is; the record still reads in_progress, so a rollback would undo this change.`,
      done,
    );
  }
  if (replaced !== undefined) {
    await setDeploymentStatus(octokit, repo, replaced.id, 'inactive', replaced.why, runUrl).catch(() => undefined);
  }
}

/**
 * Two switches of one environment at once: the older open record wins, the newer one marks
 * itself errored and fails, naming the other run. (A workflow `concurrency` group per
 * environment keeps this from happening at all.)
 */
async function claimEnvironment(context: SwitchContext, id: number, staleMs: number, except?: number): Promise<void> {
  const { data } = await context.octokit.rest.repos.listDeployments({
    ...context.repo,
    environment: context.environment,
    per_page: 30,
  });
  const now = context.clock.now();
  for (const deployment of data) {
    if (deployment.id >= id || deployment.id === except || deployment.creator?.login !== context.recordAuthor) continue;
    if (now - Date.parse(deployment.created_at) > staleMs) continue;
    const { data: statuses } = await context.octokit.rest.repos.listDeploymentStatuses({
      ...context.repo,
      deployment_id: deployment.id,
      per_page: 1,
    });
    if (statuses[0]?.state === 'in_progress') {
      const message = `Another switch of ${context.environment} is in progress (deployment ${deployment.id}${statuses[0].log_url ? `, ${statuses[0].log_url}` : ''}): this one stops without touching the router. Give the deploying job \`concurrency: deploy-${context.environment}\` so switches of one environment queue instead.`;
      await setDeploymentStatus(
        context.octokit,
        context.repo,
        id,
        'error',
        'another switch was in progress',
        context.runUrl,
      ).catch(() => undefined);
      throw new GateClosedError(message);
    }
  }
}

export interface RollbackRequest {
  /** The switch's deployment id (same job); undefined: the environment's current record. */
  deploymentId: number | undefined;
  force: boolean;
  lockStaleMs: number;
}

/** The record a rollback would undo, and why it may not. */
export async function rollbackTarget(
  context: SwitchContext,
  deploymentId: number | undefined,
): Promise<{ record: DeploymentRecord; weights: Weights; colour: Colour; blockers: string[] }> {
  const record =
    deploymentId === undefined
      ? await lastSwitch(context.octokit, context.repo, context.environment, context.recordAuthor)
      : await readDeploymentRecord(context.octokit, context.repo, deploymentId);
  if (record === undefined) {
    throw new ConfigurationError(
      `No deployment record to roll back to: ${context.environment} has no switch recorded by ${context.recordAuthor} among its 30 newest deployments. Give deployment-id, or switch with command: switch.`,
    );
  }
  if (record.creator !== undefined && record.creator !== context.recordAuthor) {
    throw new ConfigurationError(
      `Deployment ${record.id} was made by ${record.creator}, not ${context.recordAuthor}: only the suite's own records are rolled back from`,
    );
  }
  const weights = record.payload.previousWeights;
  const colours = context.provider.colours;
  const foreign = Object.keys(weights).find((colour) => !colours.includes(colour));
  if (foreign !== undefined || !isWholeState(weights)) {
    throw new ConfigurationError(
      `Deployment ${record.id}'s prior state (${describeWeights(weights)}) is not a state of the colours ${colours.join(', ')}: nothing to roll back to`,
    );
  }
  const colour = liveOf(weights) ?? Object.entries(weights).sort((a, b) => b[1] - a[1])[0]![0];
  const blockers: string[] = [];
  if (record.payload.rolledBack !== null) {
    blockers.push(
      `deployment ${record.id} is itself the rollback of deployment ${record.payload.rolledBack}: undoing it would bring back the release that was rolled back; go forward with command: switch instead`,
    );
  }
  if (contractMigrationsRan(record)) {
    blockers.push(
      `the contract-phase migrations of deployment ${record.id} have run: the schema no longer fits ${colour}'s code`,
    );
  }
  return { record, weights, colour, blockers };
}

/** Puts back the exact prior state a switch recorded, from the record (never from the caller's memory). */
export async function rollBack(context: SwitchContext, request: RollbackRequest, sha: string): Promise<SwitchResult> {
  const { provider, log, clock } = context;
  const started = clock.now();
  const target = await rollbackTarget(context, request.deploymentId);
  if (target.blockers.length > 0 && !request.force) {
    throw new GateClosedError(
      `Rollback refused: ${target.blockers.join('; ')}. Restore the database first, or give force: true to roll back anyway.`,
    );
  }
  const before = await provider.read();
  log(
    `Router now: ${before.detail}; rolling back deployment ${target.record.id} to ${describeWeights(target.weights)}`,
  );
  if (sameWeights(before.weights, target.weights, provider.colours)) {
    return {
      switched: false,
      live: before.live,
      previous: undefined,
      deploymentId: undefined,
      before,
      after: before,
      timings: [],
      notes: [`the router already holds ${describeWeights(target.weights)}; nothing changed`],
    };
  }
  const notes = await healthGate(context, target.colour, 'the rollback did not touch the router');
  const id = await createDeploymentRecord(context.octokit, context.repo, {
    environment: context.environment,
    description: `roll back to ${target.colour}`,
    logUrl: context.runUrl,
    payload: {
      ...target.record.payload,
      sha:
        target.record.payload.previousSha ??
        (await commitLastServing(
          context.octokit,
          context.repo,
          context.environment,
          context.recordAuthor,
          target.colour,
          target.record.id,
        )) ??
        sha,
      colour: target.colour,
      previousWeights: before.weights,
      previousColour: before.live ?? null,
      previousSha: target.record.payload.sha,
      rolledBack: target.record.id,
    },
  });
  // A switch cut off mid-way stays in_progress: rolling it back must not wait for it.
  await claimEnvironment(context, id, request.lockStaleMs, target.record.id);
  try {
    await provider.route(target.weights, { reason: 'rollback' });
  } catch (error) {
    const after = await readBack(provider);
    await setDeploymentStatus(context.octokit, context.repo, id, 'failure', 'rollback failed', context.runUrl).catch(
      () => undefined,
    );
    throw new SwitchFailedError(
      `Rollback to ${target.colour} failed: ${errorMessage(error)}. The router reports: ${after.detail}.`,
      { before, after, deploymentId: id },
    );
  }
  const after = await readBack(provider);
  const verified = await verifyLive(context, target.colour);
  if (!sameWeights(after.weights, target.weights, provider.colours) || !verified.ok) {
    await setDeploymentStatus(
      context.octokit,
      context.repo,
      id,
      'failure',
      'rollback did not verify',
      context.runUrl,
    ).catch(() => undefined);
    throw new SwitchFailedError(
      `Rollback to ${target.colour} did not verify: the router reports ${after.detail}; ${verified.detail}`,
      { before, after, deploymentId: id },
    );
  }
  await recordSuccess(
    context,
    id,
    `rolled back to ${target.colour}`,
    { id: target.record.id, why: `rolled back by deployment ${id}` },
    { switched: true, live: after.live, previous: before.live, deploymentId: id, before, after },
  );
  notes.push(verified.detail);
  return {
    switched: true,
    live: after.live,
    previous: before.live,
    deploymentId: id,
    before,
    after,
    timings: [{ step: `${target.colour} verified`, ms: clock.now() - started }],
    notes,
  };
}

export interface StatusResult {
  state: RouterState;
  record: DeploymentRecord | undefined;
  rollbackWindow: 'open' | 'closed';
  why: string;
}

/**
 * What is live, as the router reports it, and whether an instant rollback is possible now: a
 * record to roll back from, no contract migrations since, within the window's age, and the
 * previous colour still healthy.
 */
export async function status(context: SwitchContext, windowMs: number): Promise<StatusResult> {
  const state = await context.provider.read();
  let target: Awaited<ReturnType<typeof rollbackTarget>> | undefined;
  try {
    target = await rollbackTarget(context, undefined);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    return { state, record: undefined, rollbackWindow: 'closed', why: errorMessage(error) };
  }
  const closed = (why: string): StatusResult => ({ state, record: target.record, rollbackWindow: 'closed', why });
  if (target.blockers.length > 0) return closed(target.blockers.join('; '));
  const age = context.clock.now() - Date.parse(target.record.createdAt);
  if (age > windowMs)
    return closed(
      `deployment ${target.record.id} is older than the rollback window (${Math.round(windowMs / 3_600_000)}h)`,
    );
  if (sameWeights(state.weights, target.weights, context.provider.colours))
    return closed('the router already holds the prior state');
  try {
    await healthGate(context, target.colour, 'a rollback would not be instant');
  } catch (error) {
    return closed(errorMessage(error));
  }
  return {
    state,
    record: target.record,
    rollbackWindow: 'open',
    why: `${target.colour} is healthy; rollback puts back ${describeWeights(target.weights)}`,
  };
}
