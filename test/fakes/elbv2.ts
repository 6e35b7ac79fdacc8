import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';

// Shapes as the ELBv2 API names them (API reference, 2015-12-01), so the state reads like a
// DescribeListeners answer and is written to XML member by member.

export type TargetHealthState =
  'initial' | 'healthy' | 'unhealthy' | 'unhealthy.draining' | 'unused' | 'draining' | 'unavailable';

export interface FakeTargetGroupTuple {
  TargetGroupArn: string;
  Weight?: number;
}

export interface FakeAction {
  Type: string;
  Order?: number;
  TargetGroupArn?: string;
  ForwardConfig?: {
    TargetGroups?: FakeTargetGroupTuple[];
    TargetGroupStickinessConfig?: { Enabled?: boolean; DurationSeconds?: number };
  };
  /** Any other action config (FixedResponseConfig, RedirectConfig, AuthenticateOidcConfig…), kept as given. */
  [config: string]: unknown;
}

export interface FakeListener {
  ListenerArn: string;
  LoadBalancerArn: string;
  Port: number;
  Protocol: string;
  DefaultActions: FakeAction[];
}

export interface FakeRule {
  RuleArn: string;
  /** The listener it belongs to (not part of the Rule shape; DescribeRules filters by it). */
  listenerArn: string;
  Priority: string;
  Conditions: Record<string, unknown>[];
  Actions: FakeAction[];
  IsDefault: boolean;
}

export interface FakeTarget {
  Id: string;
  Port: number;
  State: TargetHealthState;
  Reason?: string;
  Description?: string;
}

export interface FakeTargetGroup {
  TargetGroupArn: string;
  TargetGroupName: string;
  targets: FakeTarget[];
}

export interface Elbv2Request {
  action: string;
  /** The form parameters as sent (Action, Version and the flattened members). */
  params: Record<string, string>;
  authorization: string | undefined;
  at: number;
}

/** An injected failure: an error answer, or no answer at all. */
export type Elbv2Fault =
  | 'AccessDenied'
  | 'Throttling'
  | 'PriorRequestNotComplete'
  | 'InternalFailure'
  | 'hang'
  | { status: number; code: string; message: string; type?: 'Sender' | 'Receiver' };

interface Injected {
  action: string;
  fault: Elbv2Fault;
  remaining: number;
  /** The request is carried out first, then answered with the fault (a write that landed). */
  landed: boolean;
}

class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly type: 'Sender' | 'Receiver';
  constructor(status: number, code: string, message: string, type: 'Sender' | 'Receiver' = 'Sender') {
    super(message);
    this.status = status;
    this.code = code;
    this.type = type;
  }
}

const NAMESPACE = 'https://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
const NUMBERS = new Set(['Weight', 'Order', 'DurationSeconds', 'Port', 'Priority', 'PageSize']);
const BOOLEANS = new Set(['Enabled', 'UseExistingClientSecret', 'IsDefault']);
const hex = (): string => randomBytes(8).toString('hex');

/**
 * A stateful fake of the ELBv2 API on loopback, speaking the AWS Query protocol the SDK uses:
 * form-encoded POSTs (`Action=...&Version=2015-12-01`, lists as `Name.member.N`), XML answers in
 * the API's namespace with its element names, and its error documents and status codes.
 * Listeners with default actions, rules, target groups whose targets' health the test sets;
 * ModifyListener/ModifyRule check what the real API checks (target groups exist, weights 0–999,
 * stickiness duration, an OIDC action keeps its secret only with UseExistingClientSecret).
 * Faults (AccessDenied 403, Throttling 400, a 500, a hang, landed or not) are injected per action;
 * every request is logged. SigV4 is checked for presence, not verified.
 */
export class FakeElbv2 {
  readonly region = 'eu-west-1';
  readonly account = '123456789012';
  readonly listeners = new Map<string, FakeListener>();
  readonly rules = new Map<string, FakeRule>();
  readonly targetGroups = new Map<string, FakeTargetGroup>();
  readonly requests: Elbv2Request[] = [];
  readonly url: string;
  private readonly injected: Injected[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: http.Server;
  private readonly loadBalancerArn: string;

  private constructor(server: http.Server, url: string) {
    this.server = server;
    this.url = url;
    this.loadBalancerArn = `${this.arnPrefix()}loadbalancer/app/shop/${hex()}`;
  }

  static async start(): Promise<FakeElbv2> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeElbv2(server, `http://127.0.0.1:${port}`);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => void fake.handle(req, res));
    server.on('connection', (socket: Socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    return fake;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private arnPrefix(): string {
    return `arn:aws:elasticloadbalancing:${this.region}:${this.account}:`;
  }

  addTargetGroup(name: string, targets: FakeTarget[] = []): string {
    const arn = `${this.arnPrefix()}targetgroup/${name}/${hex()}`;
    this.targetGroups.set(arn, { TargetGroupArn: arn, TargetGroupName: name, targets });
    return arn;
  }

  addListener(defaultActions: FakeAction[], port = 443): string {
    const lb = this.loadBalancerArn.split(':loadbalancer/')[1]!;
    const arn = `${this.arnPrefix()}listener/${lb}/${hex()}`;
    this.listeners.set(arn, {
      ListenerArn: arn,
      LoadBalancerArn: this.loadBalancerArn,
      Port: port,
      Protocol: port === 443 ? 'HTTPS' : 'HTTP',
      DefaultActions: structuredClone(defaultActions),
    });
    return arn;
  }

  addRule(listenerArn: string, priority: number, conditions: Record<string, unknown>[], actions: FakeAction[]): string {
    const arn = `${listenerArn.replace(':listener/', ':listener-rule/')}/${hex()}`;
    this.rules.set(arn, {
      RuleArn: arn,
      listenerArn,
      Priority: String(priority),
      Conditions: structuredClone(conditions),
      Actions: structuredClone(actions),
      IsDefault: false,
    });
    return arn;
  }

  setHealth(targetGroupArn: string, id: string, state: TargetHealthState, reason?: string): void {
    const target = this.targetGroups.get(targetGroupArn)?.targets.find((t) => t.Id === id);
    if (target === undefined) throw new Error(`no target ${id} in ${targetGroupArn}`);
    target.State = state;
    if (reason === undefined) delete target.Reason;
    else target.Reason = reason;
  }

  /** The next `times` requests for `action` fail with `fault` (after being carried out, when landed). */
  inject(action: string, fault: Elbv2Fault, options: { times?: number; landed?: boolean } = {}): void {
    this.injected.push({ action, fault, remaining: options.times ?? 1, landed: options.landed ?? false });
  }

  clearFaults(): void {
    this.injected.length = 0;
  }

  calls(action: string): Elbv2Request[] {
    return this.requests.filter((request) => request.action === action);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const action = params.Action ?? '';
    const authorization = req.headers.authorization;
    this.requests.push({ action, params, authorization, at: Date.now() });
    const requestId = randomUUID();

    const fault = this.takeFault(action);
    try {
      if (req.method !== 'POST' || (req.url ?? '/') !== '/') {
        throw new ApiError(400, 'InvalidAction', `${req.method ?? ''} ${req.url ?? ''} is not a Query API request`);
      }
      if (
        !/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/elasticloadbalancing\/aws4_request/.test(
          authorization ?? '',
        )
      ) {
        throw new ApiError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
      }
      if (params.Version !== '2015-12-01') {
        throw new ApiError(400, 'InvalidParameterValue', `Version ${params.Version ?? '(none)'} is not 2015-12-01`);
      }
      if (fault !== undefined && !fault.landed) {
        await this.answerFault(fault.fault, action, params, res, requestId);
        return;
      }
      const result = this.dispatch(action, parseQuery(params));
      if (fault !== undefined) {
        await this.answerFault(fault.fault, action, params, res, requestId);
        return;
      }
      const body =
        `<${action}Response xmlns="${NAMESPACE}">` +
        `<${action}Result>${toXml(result)}</${action}Result>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
        `</${action}Response>`;
      res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(body);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      sendError(res, error, requestId);
    }
  }

  private takeFault(action: string): Injected | undefined {
    const found = this.injected.find((fault) => fault.action === action && fault.remaining > 0);
    if (found !== undefined) found.remaining -= 1;
    return found;
  }

  private async answerFault(
    fault: Elbv2Fault,
    action: string,
    params: Record<string, string>,
    res: http.ServerResponse,
    requestId: string,
  ): Promise<void> {
    if (fault === 'hang') {
      // Never answers; the client's timeout (or close()) ends the connection.
      await new Promise<void>((resolve) => res.on('close', resolve));
      return;
    }
    const resource = params.ListenerArn ?? params.RuleArn ?? params.TargetGroupArn ?? params['ListenerArns.member.1'];
    const error =
      fault === 'AccessDenied'
        ? new ApiError(
            403,
            'AccessDenied',
            `User: arn:aws:sts::${this.account}:assumed-role/deploy/GitHubActions is not authorized to perform: ` +
              `elasticloadbalancing:${action} on resource: ${resource ?? '*'} because no identity-based policy ` +
              `allows the elasticloadbalancing:${action} action`,
          )
        : fault === 'Throttling'
          ? new ApiError(400, 'Throttling', 'Rate exceeded')
          : fault === 'PriorRequestNotComplete'
            ? new ApiError(429, 'PriorRequestNotComplete', 'A prior request is still being processed')
            : fault === 'InternalFailure'
              ? new ApiError(500, 'InternalFailure', 'An internal error has occurred', 'Receiver')
              : new ApiError(fault.status, fault.code, fault.message, fault.type);
    sendError(res, error, requestId);
  }

  private dispatch(action: string, input: Record<string, unknown>): Record<string, unknown> {
    switch (action) {
      case 'DescribeListeners':
        return { Listeners: this.describeListeners(input) };
      case 'DescribeRules':
        return { Rules: this.describeRules(input) };
      case 'DescribeTargetHealth':
        return { TargetHealthDescriptions: this.describeTargetHealth(input) };
      case 'ModifyListener': {
        const listener = this.listeners.get(String(input.ListenerArn));
        if (listener === undefined) throw new ApiError(400, 'ListenerNotFound', 'One or more listeners not found');
        if (input.DefaultActions !== undefined) {
          listener.DefaultActions = this.checkActions(listOf(input.DefaultActions), listener.DefaultActions);
        }
        return { Listeners: [listenerShape(listener)] };
      }
      case 'ModifyRule': {
        const rule = this.rules.get(String(input.RuleArn));
        if (rule === undefined) throw new ApiError(400, 'RuleNotFound', 'One or more rules not found');
        if (input.Actions !== undefined) rule.Actions = this.checkActions(listOf(input.Actions), rule.Actions);
        if (input.Conditions !== undefined) rule.Conditions = listOf(input.Conditions) as Record<string, unknown>[];
        return { Rules: [ruleShape(rule)] };
      }
      default:
        throw new ApiError(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  private describeListeners(input: Record<string, unknown>): FakeListener[] {
    const arns = listOf(input.ListenerArns).map(String);
    if (arns.length === 0) return [...this.listeners.values()].map(listenerShape);
    return arns.map((arn) => {
      const listener = this.listeners.get(arn);
      if (listener === undefined) throw new ApiError(400, 'ListenerNotFound', 'One or more listeners not found');
      return listenerShape(listener);
    });
  }

  private describeRules(input: Record<string, unknown>): Record<string, unknown>[] {
    const arns = listOf(input.RuleArns).map(String);
    if (arns.length > 0) {
      return arns.map((arn) => {
        const rule = this.rules.get(arn);
        if (rule === undefined) throw new ApiError(400, 'RuleNotFound', 'One or more rules not found');
        return ruleShape(rule);
      });
    }
    const listenerArn = typeof input.ListenerArn === 'string' ? input.ListenerArn : '';
    const listener = this.listeners.get(listenerArn);
    if (listener === undefined) throw new ApiError(400, 'ListenerNotFound', 'One or more listeners not found');
    const rules = [...this.rules.values()].filter((rule) => rule.listenerArn === listenerArn).map(ruleShape);
    const defaultRule = {
      RuleArn: `${listenerArn.replace(':listener/', ':listener-rule/')}/${'0'.repeat(16)}`,
      Priority: 'default',
      Conditions: [],
      Actions: writeOnlyDropped(listener.DefaultActions),
      IsDefault: true,
    };
    return [...rules, defaultRule];
  }

  private describeTargetHealth(input: Record<string, unknown>): Record<string, unknown>[] {
    const group = this.targetGroups.get(String(input.TargetGroupArn));
    if (group === undefined) throw new ApiError(400, 'TargetGroupNotFound', 'One or more target groups not found');
    return group.targets.map((target) => ({
      Target: { Id: target.Id, Port: target.Port },
      HealthCheckPort: String(target.Port),
      TargetHealth: {
        State: target.State,
        ...(target.Reason === undefined ? {} : { Reason: target.Reason }),
        ...(target.Description === undefined ? {} : { Description: target.Description }),
      },
    }));
  }

  /** What the real API checks of a new action list, and how it stores it. */
  private checkActions(given: unknown[], previous: FakeAction[]): FakeAction[] {
    if (given.length === 0) throw new ApiError(400, 'ValidationError', 'Actions must not be empty');
    return given.map((raw, index) => {
      const action = raw as FakeAction;
      const at = `actions.${index + 1}.member`;
      if (action.Type === 'forward') return this.checkForward(action, at);
      if (action.Type === 'authenticate-oidc') {
        const config = (action.AuthenticateOidcConfig ?? {}) as Record<string, unknown>;
        if (config.ClientSecret === undefined) {
          if (config.UseExistingClientSecret !== true) {
            throw new ApiError(400, 'ValidationError', `${at}: a client secret must be specified`);
          }
          // The secret is write-only: keep the one stored before.
          const before = previous.find((p) => p.Type === 'authenticate-oidc')?.AuthenticateOidcConfig as
            Record<string, unknown> | undefined;
          const stored = { ...config };
          delete stored.UseExistingClientSecret;
          return { ...action, AuthenticateOidcConfig: { ...stored, ClientSecret: before?.ClientSecret } };
        }
      }
      return action;
    });
  }

  private checkForward(action: FakeAction, at: string): FakeAction {
    const tuples = listOf(action.ForwardConfig?.TargetGroups) as FakeTargetGroupTuple[];
    if (action.TargetGroupArn === undefined && tuples.length === 0) {
      throw new ApiError(400, 'ValidationError', `${at}: a forward action needs TargetGroupArn or ForwardConfig`);
    }
    if (action.TargetGroupArn !== undefined && tuples.length > 0) {
      if (tuples.length !== 1 || tuples[0]!.TargetGroupArn !== action.TargetGroupArn) {
        throw new ApiError(
          400,
          'ValidationError',
          `${at}: with both TargetGroupArn and ForwardConfig, ForwardConfig must name only that target group`,
        );
      }
    }
    const all = tuples.length > 0 ? tuples : [{ TargetGroupArn: action.TargetGroupArn!, Weight: 1 }];
    const seen = new Set<string>();
    for (const [i, tuple] of all.entries()) {
      if (!this.targetGroups.has(tuple.TargetGroupArn)) {
        throw new ApiError(400, 'TargetGroupNotFound', 'One or more target groups not found');
      }
      if (seen.has(tuple.TargetGroupArn)) {
        throw new ApiError(400, 'ValidationError', `${at}: target group ${tuple.TargetGroupArn} is listed twice`);
      }
      seen.add(tuple.TargetGroupArn);
      const weight = tuple.Weight;
      if (weight !== undefined && (!Number.isInteger(weight) || weight < 0 || weight > 999)) {
        throw new ApiError(
          400,
          'ValidationError',
          `1 validation error detected: Value '${String(weight)}' at '${at}.forwardConfig.targetGroups.${i + 1}.member.weight' ` +
            'failed to satisfy constraint: Member must have value less than or equal to 999',
        );
      }
    }
    const stickiness = action.ForwardConfig?.TargetGroupStickinessConfig ?? { Enabled: false };
    if (stickiness.Enabled === true) {
      const duration = stickiness.DurationSeconds;
      if (duration === undefined || duration < 1 || duration > 604800) {
        throw new ApiError(400, 'ValidationError', `${at}: stickiness needs DurationSeconds from 1 to 604800`);
      }
    }
    // Stored as the API reports it: TargetGroupArn only for a single target group, a weight for each.
    const stored: FakeTargetGroupTuple[] = all.map((t) => ({
      TargetGroupArn: t.TargetGroupArn,
      Weight: t.Weight ?? 1,
    }));
    return {
      ...action,
      ...(stored.length === 1 ? { TargetGroupArn: stored[0]!.TargetGroupArn } : { TargetGroupArn: undefined }),
      ForwardConfig: { TargetGroups: stored, TargetGroupStickinessConfig: stickiness },
    };
  }
}

const ruleShape = (rule: FakeRule): Record<string, unknown> => ({
  RuleArn: rule.RuleArn,
  Priority: rule.Priority,
  Conditions: rule.Conditions,
  Actions: writeOnlyDropped(rule.Actions),
  IsDefault: rule.IsDefault,
});

const listenerShape = (listener: FakeListener): FakeListener => ({
  ...listener,
  DefaultActions: writeOnlyDropped(listener.DefaultActions),
});

/** An OIDC action's client secret is write-only: the API never returns it. */
function writeOnlyDropped(actions: FakeAction[]): FakeAction[] {
  return actions.map((action) => {
    const config = action.AuthenticateOidcConfig as Record<string, unknown> | undefined;
    if (config === undefined) return action;
    const rest = { ...config };
    delete rest.ClientSecret;
    return { ...action, AuthenticateOidcConfig: rest };
  });
}

function sendError(res: http.ServerResponse, error: ApiError, requestId: string): void {
  res.writeHead(error.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(
    `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${error.type}</Type><Code>${escapeXml(error.code)}</Code>` +
      `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

/** `DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight=10` → nested objects and lists. */
export function parseQuery(params: Record<string, string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(params)) {
    if (key === 'Action' || key === 'Version') continue;
    const path = key.split('.');
    let node: Record<string, unknown> = root;
    for (const segment of path.slice(0, -1)) {
      node = (node[segment] ??= {}) as Record<string, unknown>;
    }
    const leaf = path[path.length - 1]!;
    node[leaf] = NUMBERS.has(leaf) ? Number(text) : BOOLEANS.has(leaf) ? text === 'true' : text;
  }
  return unflatten(root) as Record<string, unknown>;
}

/** `{ member: { 1: a, 2: b } }` → [a, b]; an empty list arrives as `Name=` (""). */
function unflatten(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1 && keys[0] === 'member') {
    const members = object.member as Record<string, unknown>;
    return Object.keys(members)
      .sort((a, b) => Number(a) - Number(b))
      .map((index) => unflatten(members[index]));
  }
  return Object.fromEntries(keys.map((key) => [key, unflatten(object[key])]));
}

function listOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return [];
}

/** An object as Query-protocol XML: lists as <member> elements, undefined members left out. */
function toXml(value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => `<${key}>${toXml(member)}</${key}>`)
      .join('');
  }
  return escapeXml(String(value));
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
