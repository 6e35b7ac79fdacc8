import { parseStructured } from '@deploy-suite/kit';
import { z } from 'zod';
import { AUDIENCES, SEVERITIES, STATUSES, type Audience, type DeploymentMessage } from './message.ts';
import { CHANNELS, type ChannelName } from './thread.ts';

/**
 * Which channels hear about a stage, and for whom the message is written. Every route whose
 * `when` matches adds its channels (routes add up; none stops another); a channel that two
 * routes name gets the engineers' version when either asks for it.
 */
export interface Route {
  name: string | undefined;
  when: {
    status: string[] | undefined;
    environment: string[] | undefined;
    changeType: string[] | undefined;
    severity: string[] | undefined;
  };
  to: ChannelName[];
  audience: Audience;
}

export interface Routing {
  routes: Route[];
}

export const ROUTING_EXAMPLE = `routes:
  - when: { status: [failed], environment: [production] }
    to: [pagerduty, slack]
  - when: { severity: [warning] }
    to: [slack, email]
  - to: [github, grafana]`;

/**
 * The operations policy as routes: every stage goes where it is edited in place or threaded
 * (Slack's one message, the GitHub comment, the Grafana region, the machine webhook);
 * stakeholders' channels hear of the start, the finish and planned maintenance; warnings (error
 * rate above 1%) go to chat and email; a critical failure (production) pages PagerDuty, and a
 * success resolves what it paged and records a change event.
 */
export const DEFAULT_ROUTING: Routing = {
  routes: [
    route(['slack', 'github', 'grafana', 'webhook'], {}, 'engineers'),
    route(['teams', 'email', 'slack-webhook'], {
      status: ['scheduled', 'started', 'succeeded', 'failed', 'rolled-back'],
    }),
    route(['slack', 'slack-webhook', 'teams', 'email'], { severity: ['warning'] }),
    route(['pagerduty'], { severity: ['critical'] }, 'engineers'),
    route(['pagerduty'], { status: ['succeeded'] }, 'engineers'),
  ],
};

function route(to: ChannelName[], when: Partial<Route['when']>, audience: Audience = 'stakeholders'): Route {
  return {
    name: undefined,
    when: { status: undefined, environment: undefined, changeType: undefined, severity: undefined, ...when },
    to,
    audience,
  };
}

const names = <T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z
    .array(
      z.enum(values, {
        error: (issue) => `unknown ${what} ${JSON.stringify(issue.input)}: one of ${values.join(', ')}`,
      }),
    )
    .min(1);

const routingSchema = z.strictObject({
  routes: z
    .array(
      z.strictObject({
        name: z.string().max(100).optional(),
        when: z
          .strictObject({
            status: names(STATUSES, 'status').optional(),
            environment: z.array(z.string().min(1).max(100)).min(1).optional(),
            'change-type': z.array(z.string().min(1).max(50)).min(1).optional(),
            severity: names(SEVERITIES, 'severity').optional(),
          })
          .optional(),
        to: names(CHANNELS, 'channel'),
        audience: z.enum(AUDIENCES).optional(),
      }),
    )
    .min(1)
    .max(100),
});

/** Parses a routing policy (YAML or JSON); every problem is an InputError naming the input. */
export function parseRouting(text: string, input = 'routing'): Routing {
  const raw = parseStructured(input, text, routingSchema, ROUTING_EXAMPLE);
  return {
    routes: raw.routes.map((r) => ({
      name: r.name,
      when: {
        status: r.when?.status,
        environment: r.when?.environment,
        changeType: r.when?.['change-type'],
        severity: r.when?.severity,
      },
      to: r.to,
      audience: r.audience ?? 'stakeholders',
    })),
  };
}

/** Environment patterns: exact (any case), or ending in `*` for a prefix (`prod*`, `staging-*`). */
function environmentMatches(pattern: string, environment: string): boolean {
  const p = pattern.toLowerCase();
  const e = environment.toLowerCase();
  return p.endsWith('*') ? e.startsWith(p.slice(0, -1)) : p === e;
}

/** The channels a message goes to, each with the audience it is written for. */
export function routeMessage(routing: Routing, message: DeploymentMessage): Map<ChannelName, Audience> {
  const chosen = new Map<ChannelName, Audience>();
  for (const r of routing.routes) {
    const { when } = r;
    if (when.status && !when.status.includes(message.status)) continue;
    if (when.severity && !when.severity.includes(message.severity)) continue;
    if (when.environment && !when.environment.some((p) => environmentMatches(p, message.environment))) continue;
    if (when.changeType && (message.changeType === undefined || !when.changeType.includes(message.changeType)))
      continue;
    for (const channel of r.to) {
      chosen.set(channel, chosen.get(channel) === 'engineers' ? 'engineers' : r.audience);
    }
  }
  return chosen;
}

/** Channels a routing names that are not configured: said once as a warning, never an error. */
export function unconfiguredChannels(routing: Routing, configured: Set<ChannelName>): ChannelName[] {
  const named = new Set(routing.routes.flatMap((r) => r.to));
  return [...named].filter((channel) => !configured.has(channel));
}
