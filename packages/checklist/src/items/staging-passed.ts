import { onGitHub } from '@deploy-suite/github';
import { quoteUntrusted } from '@deploy-suite/kit';
import { z } from 'zod';
import type { ChecklistContext, ItemKind } from '../item.ts';
import {
  checkAppSchema,
  ageOf,
  durationSchema,
  fail,
  formatAge,
  latestCheckRun,
  pass,
  requiredSchema,
  unavailable,
} from './rule-support.ts';

export const stagingPassedSchema = z.strictObject({
  required: requiredSchema,
  environment: z.string().trim().min(1, 'names no environment').default('staging'),
  /** How long ago the successful deployment may have been made. */
  'max-age': durationSchema.default(7 * 86_400_000),
  /** A check run (the smoke test) that must have succeeded on the SHA too. */
  'smoke-check': z.string().trim().min(1, 'names no check run').optional(),
  /** The app that must have made the smoke check's run. */
  'smoke-check-app': checkAppSchema,
});
export type StagingPassedRule = z.infer<typeof stagingPassedSchema>;

interface Candidate {
  id: number;
  sha: string;
  artifactDigest: string | undefined;
  createdAt: string;
  url: string;
  matchedBy: 'sha' | 'artifact-digest';
}

/** The deployment's payload as an object (GitHub gives it as an object, or as the text it was sent as). */
function payloadOf(payload: unknown): Record<string, unknown> {
  if (typeof payload === 'string') {
    try {
      const parsed: unknown = JSON.parse(payload);
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
}

/**
 * The deployments to the environment that carry this change: when the context has an artifact
 * digest and a deployment's payload names one, the digests must be equal; otherwise the SHA must.
 * A deployment of another SHA never counts. Newest first.
 */
async function candidates(context: ChecklistContext, environment: string): Promise<{ all: number; mine: Candidate[] }> {
  const { octokit, repo, sha, artifactDigest } = context;
  const deployments = await onGitHub({ doing: `listing the deployments to ${environment}` }, () =>
    octokit.paginate(octokit.rest.repos.listDeployments, {
      ...repo,
      environment,
      // With a digest, a deployment of the same artifact built from another commit would count too.
      ...(artifactDigest === undefined ? { sha } : {}),
      per_page: 100,
    }),
  );
  const mine: Candidate[] = [];
  for (const deployment of deployments) {
    if (deployment.environment !== environment) continue;
    const digest = payloadOf(deployment.payload).artifactDigest;
    const payloadDigest = typeof digest === 'string' && digest !== '' ? digest : undefined;
    const byDigest = artifactDigest !== undefined && payloadDigest !== undefined;
    const matches = byDigest ? payloadDigest === artifactDigest : deployment.sha === sha;
    if (!matches) continue;
    mine.push({
      id: deployment.id,
      sha: deployment.sha,
      artifactDigest: payloadDigest,
      createdAt: deployment.created_at,
      url: deployment.url,
      matchedBy: byDigest ? 'artifact-digest' : 'sha',
    });
  }
  mine.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id - a.id);
  return { all: deployments.length, mine };
}

/**
 * The deployment's state: its newest status other than "inactive" (GitHub marks a deployment
 * inactive when a newer one replaces it in the environment; it passed all the same).
 */
async function stateOf(
  context: ChecklistContext,
  deployment: Candidate,
): Promise<{ state: string; at: string | undefined; url: string | undefined }> {
  const { octokit, repo } = context;
  const statuses = await onGitHub({ doing: `listing the statuses of deployment ${deployment.id}` }, () =>
    octokit.paginate(octokit.rest.repos.listDeploymentStatuses, {
      ...repo,
      deployment_id: deployment.id,
      per_page: 100,
    }),
  );
  const newestFirst = [...statuses].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id);
  // A deployment replaced by a newer one turns inactive and still stood; one rolled back did not.
  if (newestFirst[0]?.state === 'inactive' && /rolled back/i.test(newestFirst[0].description ?? '')) {
    return { state: 'rolled-back', at: newestFirst[0].created_at, url: newestFirst[0].log_url || undefined };
  }
  const latest = newestFirst.find((status) => status.state !== 'inactive') ?? newestFirst[0];
  if (latest === undefined) return { state: 'none', at: undefined, url: undefined };
  return {
    state: latest.state,
    at: latest.created_at,
    url: latest.log_url || latest.target_url || latest.environment_url || undefined,
  };
}

/**
 * Staging passed: a deployment of this SHA (or artifact digest) to the environment, made within
 * max-age, whose latest status is success (read from the Deployments API); with smoke-check, that
 * check run succeeded on the SHA too.
 */
export const stagingPassed: ItemKind<StagingPassedRule> = {
  id: 'staging-passed',
  schema: stagingPassedSchema,
  async evaluate(rule, context) {
    const base = { id: 'staging-passed', name: `Passed ${rule.environment}`, required: rule.required };
    const facts = {
      environment: rule.environment,
      maxAgeMs: rule['max-age'],
      sha: context.sha,
      artifactDigest: context.artifactDigest ?? null,
    };
    let found: Awaited<ReturnType<typeof candidates>>;
    try {
      found = await candidates(context, rule.environment);
    } catch (error) {
      return unavailable(base, `read the deployments to ${rule.environment}`, error, facts);
    }
    if (found.mine.length === 0)
      return fail(
        base,
        'no-deployment',
        `No deployment of this ${context.artifactDigest === undefined ? 'SHA' : 'SHA or artifact'} to ${quoteUntrusted(rule.environment, 80)} was found.`,
        facts,
      );

    let success: { deployment: Candidate; state: Awaited<ReturnType<typeof stateOf>> } | undefined;
    let newestState: string | undefined;
    try {
      for (const deployment of found.mine) {
        const state = await stateOf(context, deployment);
        newestState ??= state.state;
        if (state.state === 'success') {
          success = { deployment, state };
          break;
        }
      }
    } catch (error) {
      return unavailable(base, `read the statuses of the deployments to ${rule.environment}`, error, facts);
    }
    if (success === undefined) {
      const newest = found.mine[0]!;
      return fail(
        base,
        'failed',
        `No deployment of this change to ${quoteUntrusted(rule.environment, 80)} succeeded (${found.mine.length} found; the newest is ${quoteUntrusted(newestState ?? 'unknown', 40)}).`,
        { ...facts, deployments: found.mine.length, newest: { id: newest.id, state: newestState ?? null } },
        { url: newest.url },
      );
    }
    const { deployment, state } = success;
    const evidence = {
      ...facts,
      deployment: {
        id: deployment.id,
        sha: deployment.sha,
        artifactDigest: deployment.artifactDigest ?? null,
        matchedBy: deployment.matchedBy,
        state: state.state,
        createdAt: deployment.createdAt,
        succeededAt: state.at ?? null,
      },
    };
    const link = { url: state.url ?? deployment.url, observedAt: deployment.createdAt };
    const age = ageOf(context, deployment.createdAt);
    if (age === undefined || age > rule['max-age'])
      return fail(
        base,
        'too-old',
        age === undefined
          ? `The deployment to ${quoteUntrusted(rule.environment, 80)} has no readable time.`
          : `The successful deployment to ${quoteUntrusted(rule.environment, 80)} is older than the ${formatAge(rule['max-age'])} allowed.`,
        evidence,
        link,
      );

    const smokeName = rule['smoke-check'];
    if (smokeName !== undefined) {
      let run;
      try {
        run = await latestCheckRun(context, smokeName, rule['smoke-check-app']);
      } catch (error) {
        return unavailable(base, `read the check run ${quoteUntrusted(smokeName)}`, error, evidence);
      }
      const smoke = run ? { name: smokeName, id: run.id, status: run.status, conclusion: run.conclusion } : null;
      const withSmoke = { ...evidence, smoke };
      if (run === undefined || run.status !== 'completed' || run.conclusion !== 'success')
        return fail(
          base,
          'smoke-failed',
          run === undefined
            ? `The smoke test ${quoteUntrusted(smokeName)} has no check run on this SHA.`
            : `The smoke test ${quoteUntrusted(smokeName)} ${run.status === 'completed' ? `concluded ${quoteUntrusted(String(run.conclusion), 40)}` : `is ${quoteUntrusted(run.status, 40)}`}.`,
          withSmoke,
          run ? { url: run.url, observedAt: run.completedAt } : link,
        );
      return pass(
        base,
        'ok',
        `Deployed to ${quoteUntrusted(rule.environment, 80)} and the smoke test ${quoteUntrusted(smokeName)} passed.`,
        withSmoke,
        link,
      );
    }
    return pass(base, 'ok', `Deployed to ${quoteUntrusted(rule.environment, 80)} successfully.`, evidence, link);
  },
};
