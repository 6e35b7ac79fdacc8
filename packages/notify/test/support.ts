import { expect } from '@jest/globals';
import { fakeClock } from '../../../test/helpers/fake-clock.ts';
import { DeliveryError, type Channel, type SendContext, type SendResult } from '../src/channel.ts';
import { headline, severityOf, type Audience, type DeploymentMessage, type Status } from '../src/message.ts';
import { newThread, type ThreadState } from '../src/thread.ts';

/** The step clock the tests give a channel: it moves only when the channel sleeps. */
export type FakeClock = ReturnType<typeof fakeClock>;

/** What a test gives of a message: fixed fields, or fields that depend on the stage. */
export type MessageBase = Partial<DeploymentMessage> | ((status: Status) => Partial<DeploymentMessage>);

/**
 * Builds a test's messages from the fields it cares about. Every field neither the base nor the
 * call gives is left empty (undefined, or [] for approvers and links); the severity is the one the
 * policy gives the status in the message's environment with its smoke verdict, unless given.
 * A message needs a service, an environment, an `at` and a `startedAt`, from the base or the call.
 */
export function messageFactory(
  base: MessageBase,
): (status: Status, extra?: Partial<DeploymentMessage>) => DeploymentMessage {
  return (status, extra = {}) => {
    const fields: { [K in keyof DeploymentMessage]: DeploymentMessage[K] | undefined } = {
      service: undefined,
      environment: undefined,
      version: undefined,
      sha: undefined,
      status,
      severity: undefined,
      changeType: undefined,
      title: undefined,
      impact: undefined,
      details: undefined,
      approvers: [],
      backupId: undefined,
      planHash: undefined,
      smokeVerdict: undefined,
      links: [],
      at: undefined,
      startedAt: undefined,
      window: undefined,
      repository: undefined,
      runUrl: undefined,
      ...(typeof base === 'function' ? base(status) : base),
      ...extra,
    };
    const { service, environment, at, startedAt } = fields;
    if (service === undefined || environment === undefined || at === undefined || startedAt === undefined) {
      throw new Error('a test message needs a service, an environment, at and startedAt');
    }
    return {
      ...fields,
      service,
      environment,
      status: fields.status ?? status,
      severity: fields.severity ?? severityOf(fields.status ?? status, environment, fields.smokeVerdict),
      approvers: fields.approvers ?? [],
      links: fields.links ?? [],
      at,
      startedAt,
    };
  };
}

/** The deployment the chat and email tests announce: shop v1.4.2 to production, the gift card checkout. */
export function giftCardDeployment(status: Status): Partial<DeploymentMessage> {
  return {
    service: 'shop',
    environment: 'production',
    version: 'v1.4.2',
    sha: '0123456789abcdef0123456789abcdef01234567',
    changeType: 'normal',
    title: 'Add the gift card checkout',
    impact: 'Checkout restarts once',
    details: `details of ${status}`,
    approvers: ['alice'],
    links: [{ label: 'Change request', url: 'https://github.com/acme/shop/issues/7' }],
    at: '2026-01-05T10:05:00.000Z',
    startedAt: '2026-01-05T10:00:00.000Z',
    repository: 'acme/shop',
    runUrl: 'https://github.com/acme/shop/actions/runs/1',
  };
}

/** When the checkout deployment began. */
export const CHECKOUT_STARTED = '2026-11-27T10:00:00Z';

/** The deployment the PagerDuty, Grafana, webhook and GitHub comment tests report: checkout 1.4.2 to production. */
export const CHECKOUT_DEPLOYMENT: Partial<DeploymentMessage> = {
  service: 'checkout',
  environment: 'production',
  version: '1.4.2',
  sha: 'a'.repeat(40),
  changeType: 'normal',
  approvers: ['alice'],
  backupId: 'bk-20261127',
  links: [{ label: 'Change request', url: 'https://github.test/acme/service/issues/12' }],
  startedAt: CHECKOUT_STARTED,
  repository: 'acme/service',
  runUrl: 'https://github.test/acme/service/actions/runs/7',
};

export interface SendContextOptions {
  /** A fresh fake clock unless given. */
  clock?: FakeClock;
  /** 'stakeholders' unless given. */
  audience?: Audience;
  /** How long after the clock's now the deadline falls: a minute unless given. */
  deadlineIn?: number;
  /** Drops every line unless given. */
  log?: (line: string) => void;
}

/** The context a channel is sent with, its text the message's default headline. */
export function sendContext(
  message: DeploymentMessage,
  thread: ThreadState,
  options: SendContextOptions = {},
): SendContext {
  const clock = options.clock ?? fakeClock();
  return {
    message,
    audience: options.audience ?? 'stakeholders',
    thread,
    text: headline(message),
    clock,
    log: options.log ?? (() => {}),
    deadline: clock.now() + (options.deadlineIn ?? 60_000),
  };
}

export interface ThreadRunnerOptions {
  /** The thread's key and start: the gift card deployment's unless given. */
  key?: string;
  startedAt?: string;
  /** How long after the clock's now each send's deadline falls: ten minutes unless given. */
  deadlineIn?: number;
  /**
   * A stage already in the thread is not added again when sent again (as the action does when a
   * step is re-run); otherwise every send adds its stage.
   */
  stageOnce?: boolean;
}

/** Sends a stage the way the action does: the stage joins the thread, the channel's state is kept. */
export class ThreadRunner {
  state: ThreadState;
  readonly clock = fakeClock();
  readonly logs: string[] = [];
  audience: Audience = 'stakeholders';
  deadlineIn: number;
  private readonly stageOnce: boolean;

  constructor(options: ThreadRunnerOptions = {}) {
    this.state = newThread(
      options.key ?? 'acme/shop/production/0123456',
      options.startedAt ?? '2026-01-05T10:00:00.000Z',
    );
    this.deadlineIn = options.deadlineIn ?? 600_000;
    this.stageOnce = options.stageOnce ?? false;
  }

  async send(channel: Channel, msg: DeploymentMessage): Promise<SendResult> {
    const thread: ThreadState =
      this.stageOnce && this.state.stages.some((s) => s.status === msg.status)
        ? this.state
        : { ...this.state, stages: [...this.state.stages, { status: msg.status, at: msg.at, severity: msg.severity }] };
    const result = await channel.send(
      sendContext(msg, thread, {
        clock: this.clock,
        audience: this.audience,
        deadlineIn: this.deadlineIn,
        log: (line) => this.logs.push(line),
      }),
    );
    this.state = { ...thread, [channel.name]: result.state };
    return result;
  }
}

/** The DeliveryError a send failed with; the test fails if it did not fail with one. */
export async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}
