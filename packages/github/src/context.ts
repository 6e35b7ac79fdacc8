import { context } from '@actions/github';

/** The part of @actions/github's context the suite reads. */
export interface ContextSource {
  eventName: string;
  actor: string;
  payload: Record<string, unknown>;
}

/** Who started this run and on which event: what a gate must never count as an approver. */
export interface EventContext {
  eventName: string;
  /** github.actor: whose action started the run (or the re-run's original actor). */
  actor: string;
  /** github.triggering_actor: who triggered this attempt (differs from actor on a re-run). */
  triggeringActor: string;
  /** The webhook payload (untrusted input: validate before steering a decision on it). */
  payload: Record<string, unknown>;
}

/**
 * Reads the event, the actor and the triggering actor from @actions/github's context. The
 * context has no triggering actor, so it comes from the runner's GITHUB_TRIGGERING_ACTOR (or the
 * workflow_run payload's), falling back to the actor.
 */
export function readEventContext(source: ContextSource = context, env: NodeJS.ProcessEnv = process.env): EventContext {
  const workflowRun = source.payload.workflow_run as { triggering_actor?: { login?: unknown } } | undefined;
  const fromPayload = workflowRun?.triggering_actor?.login;
  const actor = source.actor ?? '';
  return {
    eventName: source.eventName ?? '',
    actor,
    triggeringActor:
      env.GITHUB_TRIGGERING_ACTOR || (typeof fromPayload === 'string' && fromPayload !== '' ? fromPayload : actor),
    payload: source.payload ?? {},
  };
}
