import { errorMessage, redact, type Clock } from '@deploy-suite/kit';
import { DeliveryError, type Channel, type Delivery } from './channel.ts';
import type { DeploymentMessage } from './message.ts';
import { routeMessage, type Routing } from './routing.ts';
import type { ChannelName, ThreadState } from './thread.ts';

export interface NotifyOptions {
  message: DeploymentMessage;
  channels: Map<ChannelName, Channel>;
  routing: Routing;
  thread: ThreadState;
  /** The headline text (a template's rendering or the default), plain text. */
  text: (message: DeploymentMessage) => string;
  clock: Clock;
  deadline: number;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface NotifyResult {
  thread: ThreadState;
  /** The message as sent: its times are the thread's (a repeated stage keeps its first time). */
  message: DeploymentMessage;
  deliveries: Delivery[];
}

/**
 * The thread with this stage added once, and the message with the thread's times: a stage sent
 * again (a re-run) keeps the time it first had.
 */
export function withStage(
  thread: ThreadState,
  given: DeploymentMessage,
): { thread: ThreadState; message: DeploymentMessage } {
  const earlier = thread.stages.find((stage) => stage.status === given.status);
  const message: DeploymentMessage = { ...given, startedAt: thread.startedAt, at: earlier?.at ?? given.at };
  const stages = earlier
    ? thread.stages
    : [...thread.stages, { status: message.status, at: message.at, severity: message.severity }].slice(-50);
  return { thread: { ...thread, stages }, message };
}

/**
 * Sends one stage to every channel the routing picks, at once. A stage is added to the thread
 * once: sent again (a re-run), it keeps the time it first had, so every channel renders exactly
 * what it rendered then and has nothing to change. A channel's failure is its own delivery
 * result; it never stops another channel, and the caller decides whether it fails the step.
 */
export async function notify(options: NotifyOptions): Promise<NotifyResult> {
  const staged = withStage(options.thread, options.message);
  const { message } = staged;
  let next: ThreadState = staged.thread;

  const routed = routeMessage(options.routing, message);
  const text = options.text(message);
  const deliveries = await Promise.all(
    [...routed]
      .filter(([name]) => options.channels.has(name))
      .map(async ([name, audience]): Promise<Delivery> => {
        const channel = options.channels.get(name)!;
        try {
          const result = await channel.send({
            message,
            audience,
            thread: next,
            text,
            clock: options.clock,
            deadline: options.deadline,
            log: options.log,
            ...(options.signal === undefined ? {} : { signal: options.signal }),
          });
          next = { ...next, [name]: result.state };
          return { channel: name, outcome: result.outcome, detail: result.detail, attempts: result.attempts };
        } catch (error) {
          const known = error instanceof DeliveryError;
          if (known && error.state !== undefined) next = { ...next, [name]: error.state };
          return {
            channel: name,
            outcome: 'failed',
            // A DeliveryError is written to be shown; anything else may be a bug and carries its class.
            detail: redact(
              known ? error.message : `${error instanceof Error ? error.name : 'Error'}: ${errorMessage(error)}`,
            ),
            attempts: known ? error.attempts : 1,
          };
        }
      }),
  );
  return { thread: next, message, deliveries: deliveries.sort((a, b) => a.channel.localeCompare(b.channel)) };
}
