import { z } from 'zod';
import { STATUSES, SEVERITIES, type Status } from './message.ts';

export const CHANNELS = [
  'slack',
  'slack-webhook',
  'teams',
  'email',
  'webhook',
  'pagerduty',
  'github',
  'grafana',
] as const;
export type ChannelName = (typeof CHANNELS)[number];

export const THREAD_VERSION = 1;

const status = z.enum(STATUSES);
const isoTime = z.iso.datetime({ offset: true });
/** sha256 hex of what was last rendered, so the same stage sent again changes nothing. */
const digest = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * What a channel has delivered in this thread: which stages it sent, the digest of what it
 * last showed, and the ids a later stage needs to edit the same message instead of posting again.
 */
const channelState = z.strictObject({
  sent: z.array(status).max(STATUSES.length),
  digest: digest.nullable(),
});

/**
 * One deployment's notification thread, version 1. Read back from GitHub (a check run on the
 * commit) or from an earlier step's `thread` output, so it is untrusted input: strict, bounded,
 * ids in the shapes the services issue them.
 */
export const threadStateV1 = z.strictObject({
  version: z.literal(1),
  key: z.string().min(1).max(200),
  startedAt: isoTime,
  stages: z.array(z.strictObject({ status, at: isoTime, severity: z.enum(SEVERITIES) })).max(50),
  slack: channelState
    .extend({
      /** The channel ID chat.postMessage answered with (chat.update needs the ID, not a name). */
      channel: z.string().regex(/^[A-Z0-9]{2,40}$/),
      /** The parent message's ts: the message updated in place, and the thread's root. */
      ts: z.string().regex(/^\d{1,12}\.\d{1,8}$/),
      /** Stages already replied to in the thread. */
      replied: z.array(status).max(STATUSES.length),
      /** sealOf(token, channel/ts): ids this thread did not get from Slack itself are not used. */
      seal: z.string().regex(/^[0-9a-f]{32}$/),
    })
    .optional(),
  'slack-webhook': channelState.optional(),
  teams: channelState.optional(),
  email: channelState.extend({ messageId: z.string().max(300).nullable() }).optional(),
  webhook: channelState.optional(),
  pagerduty: channelState
    .extend({
      dedupKey: z.string().min(1).max(255),
      /** Whether an incident was triggered and is not yet resolved. */
      open: z.boolean(),
    })
    .optional(),
  github: channelState
    .extend({
      /** Where the comment lives: a PR or issue comment, or a commit comment. */
      kind: z.enum(['issue', 'commit']),
      commentId: z.number().int().positive(),
      target: z.string().min(1).max(100),
    })
    .optional(),
  grafana: channelState
    .extend({
      annotationId: z.number().int().positive(),
      closed: z.boolean(),
      /** sealOf(token, id): an annotation id this thread did not get from Grafana is not used. */
      seal: z.string().regex(/^[0-9a-f]{32}$/),
    })
    .optional(),
  /**
   * The incident issue this thread opened (a failed or rolled-back production deployment). Read
   * back, it names an issue only to be checked: it is edited only when it is on this repository,
   * by the token's own login, with this thread's marker.
   */
  incident: z
    .strictObject({
      number: z.number().int().positive(),
      /** owner/repo the issue is on. */
      repository: z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/),
      severity: z.enum(['P1', 'P2', 'P3', 'P4']),
    })
    .optional(),
});

export type ThreadState = z.infer<typeof threadStateV1>;

export function newThread(key: string, startedAt: string): ThreadState {
  return { version: 1, key, startedAt, stages: [] };
}

/** Whether a channel already sent this stage. */
export function alreadySent(thread: ThreadState, channel: ChannelName, stage: Status): boolean {
  return thread[channel]?.sent.includes(stage) ?? false;
}
