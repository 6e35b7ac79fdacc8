import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A verb on a resource, as an RBAC rule grants it: "get services", "list endpointslices". */
export type Permission = `${'get' | 'list' | 'patch'} ${'namespaces' | 'services' | 'deployments' | 'endpointslices'}`;

export const ALL_PERMISSIONS: Permission[] = [
  'get namespaces',
  'get services',
  'patch services',
  'get deployments',
  'list endpointslices',
];

export interface FakePod {
  name: string;
  ip: string;
  ready: boolean;
  labels: Record<string, string>;
}

export interface RolloutStatus {
  generation: number;
  observedGeneration: number;
  /** Pods of any revision (old ones still terminating count here). */
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  /** The Progressing condition says ProgressDeadlineExceeded, as after a stuck rollout. */
  progressDeadlineExceeded: boolean;
}

interface FakeDeployment extends RolloutStatus {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  created: string;
  /** spec.replicas */
  desired: number;
  /** The pod template's labels: what a Service selector matches. */
  labels: Record<string, string>;
  pods: FakePod[];
}

/** What an injected fault does to the next matching request. */
export type Fault =
  | { kind: 'throttle'; retryAfterSeconds?: number }
  | { kind: 'error'; status?: 500 | 502 | 503 | 504 }
  /** The server takes the request and never answers (until close). */
  | { kind: 'hang' }
  /** The connection is dropped without an answer. */
  | { kind: 'reset' };

interface Injected {
  method: string;
  path: RegExp;
  fault: Fault;
  /** The request is carried out first, then answered with the fault (a write that landed). */
  landed: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  body: string;
  /** The user the bearer token belongs to, or undefined when unauthenticated. */
  user: string | undefined;
  /** The status answered; undefined for a hang or a reset. */
  status?: number;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Json = Record<string, unknown>;

const PATCH_TYPES = [
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
] as const;

const clone = <T>(value: T): T => structuredClone(value);
const shortHash = (text: string, length = 5): string => createHash('sha1').update(text).digest('hex').slice(0, length);
const uid = (text: string): string => {
  const h = createHash('sha1').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/**
 * A stateful fake of the Kubernetes API server on loopback, close enough for the real
 * @kubernetes/client-node to talk to it: namespaces, Services (GET, PATCH as merge, strategic
 * merge or JSON patch, with resourceVersion preconditions and 409 Conflict), Deployments with
 * rollout status, and EndpointSlices (discovery.k8s.io/v1) that the "endpointslice controller"
 * derives from each Service's selector and the pods of the Deployments it matches. Bearer-token
 * auth (401), per-token RBAC (403 worded as the API server words it), Status objects for every
 * error, injected faults (429 with Retry-After, 5xx, hangs, resets) and a request log.
 */
export class FakeKubernetes {
  readonly requests: LoggedRequest[] = [];
  readonly namespaces = new Set<string>();
  /** Services as the API stores them (full v1 objects), by "namespace/name". */
  readonly services = new Map<string, Json>();
  private readonly deployments = new Map<string, FakeDeployment>();
  private readonly tokens = new Map<string, { user: string; permissions: Set<Permission> }>();
  private readonly injected: Injected[] = [];
  private readonly sockets = new Set<Socket>();
  /** Runs as each authenticated request arrives, before it is served: another actor's move. */
  onRequest: ((request: LoggedRequest) => void) | undefined;
  private revision = 1000;
  private nextIp = 10;
  readonly token = 'fake-kubernetes-admin-token-0123456789';
  readonly user = 'system:serviceaccount:ci:deployer';
  url!: string;
  private readonly server: http.Server;

  private constructor() {
    // A fault in the fake itself must not hang the client: answer 500 and say so.
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status(500, 'InternalError', `fake: ${String(error)}`).body));
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.tokens.set(this.token, { user: this.user, permissions: new Set(ALL_PERMISSIONS) });
  }

  static async start(): Promise<FakeKubernetes> {
    const fake = new FakeKubernetes();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** A kubeconfig for this server, with a token user (the default token unless given). */
  kubeconfig(token = this.token, namespace = 'default'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: fake',
      '    cluster:',
      `      server: ${this.url}`,
      // The client refuses plain http unless told TLS is not verified (there is no TLS here).
      '      insecure-skip-tls-verify: true',
      'users:',
      '  - name: deployer',
      '    user:',
      `      token: ${token}`,
      'contexts:',
      '  - name: fake',
      '    context:',
      '      cluster: fake',
      '      user: deployer',
      `      namespace: ${namespace}`,
      'current-context: fake',
      '',
    ].join('\n');
  }

  /** Another token, for a user holding only the given permissions. */
  addToken(token: string, user: string, permissions: Permission[]): this {
    this.tokens.set(token, { user, permissions: new Set(permissions) });
    return this;
  }

  addNamespace(namespace: string): this {
    this.namespaces.add(namespace);
    return this;
  }

  addService(namespace: string, name: string, selector: Record<string, string>): Json {
    this.addNamespace(namespace);
    const service: Json = {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: {
        name,
        namespace,
        uid: uid(`service/${namespace}/${name}`),
        resourceVersion: this.bump(),
        creationTimestamp: '2026-01-05T10:00:00Z',
        labels: { app: name },
      },
      spec: {
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
        selector: { ...selector },
        clusterIP: `10.96.0.${this.nextIp}`,
        clusterIPs: [`10.96.0.${this.nextIp++}`],
        type: 'ClusterIP',
        sessionAffinity: 'None',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: {} },
    };
    this.services.set(`${namespace}/${name}`, service);
    return service;
  }

  /** The Service's selector now (a copy). */
  selectorOf(namespace: string, name: string): Record<string, string> {
    const service = this.services.get(`${namespace}/${name}`);
    if (!service) throw new Error(`no Service ${namespace}/${name}`);
    return { ...(service.spec as { selector?: Record<string, string> }).selector };
  }

  /** Someone else (kubectl, another pipeline) changes the Service: its resourceVersion moves. */
  setSelector(namespace: string, name: string, selector: Record<string, string>): void {
    const service = this.services.get(`${namespace}/${name}`);
    if (!service) throw new Error(`no Service ${namespace}/${name}`);
    (service.spec as Json).selector = { ...selector };
    (service.metadata as Json).resourceVersion = this.bump();
  }

  resourceVersionOf(namespace: string, name: string): string {
    const service = this.services.get(`${namespace}/${name}`);
    return String((service?.metadata as Json | undefined)?.resourceVersion);
  }

  /** A Deployment whose rollout has finished: `replicas` pods, all ready, carrying `labels`. */
  addDeployment(namespace: string, name: string, labels: Record<string, string>, replicas = 3): this {
    this.addNamespace(namespace);
    const deployment: FakeDeployment = {
      namespace,
      name,
      uid: uid(`deployment/${namespace}/${name}`),
      resourceVersion: this.bump(),
      created: '2026-01-05T10:00:00Z',
      desired: replicas,
      labels: { ...labels },
      generation: 1,
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      progressDeadlineExceeded: false,
      pods: [],
    };
    this.deployments.set(`${namespace}/${name}`, deployment);
    this.setPods(namespace, name, replicas, 0);
    return this;
  }

  /** Rollout status fields, as the Deployment controller would report them mid-rollout. */
  setRollout(namespace: string, name: string, status: Partial<RolloutStatus> & { desired?: number }): this {
    const deployment = this.deployment(namespace, name);
    Object.assign(deployment, status);
    deployment.resourceVersion = this.bump();
    return this;
  }

  /** The Deployment's pods: `ready` of them ready, `notReady` not (they still get endpoints). */
  setPods(namespace: string, name: string, ready: number, notReady = 0): this {
    const deployment = this.deployment(namespace, name);
    const template = shortHash(`${namespace}/${name}/${deployment.generation}`, 10);
    deployment.pods = Array.from({ length: ready + notReady }, (_, i) => ({
      name: `${name}-${template}-${shortHash(`${template}/${i}`)}`,
      ip: `10.244.${this.nextIp % 250}.${i + 2}`,
      ready: i < ready,
      labels: { ...deployment.labels, 'pod-template-hash': template },
    }));
    this.nextIp++;
    return this;
  }

  /**
   * The next request matching method and path meets the fault (one per call). With `landed`,
   * the request is carried out first, as when a write succeeds but its answer is lost.
   */
  inject(method: string, path: RegExp, fault: Fault, options: { landed?: boolean } = {}): this {
    this.injected.push({ method: method.toUpperCase(), path, fault, landed: options.landed ?? false });
    return this;
  }

  /** Requests by method and a path pattern. */
  calls(method: string, path: RegExp): LoggedRequest[] {
    return this.requests.filter((request) => request.method === method && path.test(request.path));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private bump(): string {
    return String(++this.revision);
  }

  private deployment(namespace: string, name: string): FakeDeployment {
    const deployment = this.deployments.get(`${namespace}/${name}`);
    if (!deployment) throw new Error(`no Deployment ${namespace}/${name}`);
    return deployment;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', this.url);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const identity = token === undefined ? undefined : this.tokens.get(token);
    const logged: LoggedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers['content-type'],
      body: Buffer.concat(chunks).toString('utf8'),
      user: identity?.user,
    };
    this.requests.push(logged);
    if (identity !== undefined) this.onRequest?.(logged);

    const at = this.injected.findIndex((i) => i.method === logged.method && i.path.test(logged.path));
    let answer: Answer | undefined;
    if (at >= 0) {
      const [{ fault, landed }] = this.injected.splice(at, 1) as [Injected];
      if (landed) this.serve(logged, identity);
      if (fault.kind === 'hang') return; // the socket is destroyed at close()
      if (fault.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      answer = fault.kind === 'throttle' ? throttled(fault.retryAfterSeconds ?? 1) : internalError(fault.status ?? 500);
    }
    answer ??= this.serve(logged, identity);
    logged.status = answer.status;
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      'audit-id': uid(String(Math.random())),
      ...answer.headers,
    });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  private serve(request: LoggedRequest, identity: { user: string; permissions: Set<Permission> } | undefined): Answer {
    if (identity === undefined) return status(401, 'Unauthorized', 'Unauthorized');
    const routes: [string, RegExp, Permission, string, (match: string[]) => Answer][] = [
      ['GET', /^\/api\/v1\/namespaces\/([^/]+)$/, 'get namespaces', '', ([ns]) => this.getNamespace(ns!)],
      [
        'GET',
        /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)$/,
        'get services',
        '',
        ([ns, name]) => this.getService(ns!, name!),
      ],
      [
        'PATCH',
        /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)$/,
        'patch services',
        '',
        ([ns, name]) => this.patchService(ns!, name!, request),
      ],
      [
        'GET',
        /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/,
        'get deployments',
        'apps',
        ([ns, name]) => this.getDeployment(ns!, name!),
      ],
      [
        'GET',
        /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/,
        'list endpointslices',
        'discovery.k8s.io',
        ([ns]) => this.listEndpointSlices(ns!, request.query.get('labelSelector') ?? ''),
      ],
    ];
    for (const [method, pattern, permission, group, handler] of routes) {
      const match = pattern.exec(request.path);
      if (!match || method !== request.method) continue;
      const parts = match.slice(1).map(decodeURIComponent);
      // Authorization comes before anything else, as in the API server: a 403 tells nothing.
      if (!identity.permissions.has(permission)) return forbidden(identity.user, permission, group, parts);
      return handler(parts);
    }
    return status(404, 'NotFound', 'the server could not find the requested resource', {});
  }

  private getNamespace(namespace: string): Answer {
    if (!this.namespaces.has(namespace)) return notFound('namespaces', namespace);
    return {
      status: 200,
      body: {
        kind: 'Namespace',
        apiVersion: 'v1',
        metadata: {
          name: namespace,
          uid: uid(`namespace/${namespace}`),
          resourceVersion: '1',
          creationTimestamp: '2026-01-01T00:00:00Z',
          labels: { 'kubernetes.io/metadata.name': namespace },
        },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      },
    };
  }

  private getService(namespace: string, name: string): Answer {
    // A Service in a namespace that does not exist is simply not found, as the real API says.
    const service = this.services.get(`${namespace}/${name}`);
    return service ? { status: 200, body: clone(service) } : notFound('services', name);
  }

  private patchService(namespace: string, name: string, request: LoggedRequest): Answer {
    const stored = this.services.get(`${namespace}/${name}`);
    if (!stored) return notFound('services', name);
    const type = (request.contentType ?? '').split(';')[0]!.trim();
    if (!(PATCH_TYPES as readonly string[]).includes(type)) {
      return status(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}, application/apply-patch+yaml`,
      );
    }
    let patch: unknown;
    try {
      patch = JSON.parse(request.body);
    } catch (error) {
      return status(400, 'BadRequest', `error decoding patch: ${(error as Error).message}`);
    }
    let patched: Json;
    if (type === 'application/json-patch+json') {
      const result = applyJsonPatch(clone(stored), patch);
      if (typeof result === 'string') return status(422, 'Invalid', result, { name, kind: 'Service' });
      patched = result;
    } else {
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        return status(400, 'BadRequest', 'error decoding patch: the patch is not a JSON object');
      }
      // Strategic merge treats lists by their merge keys; for the maps a selector patch touches
      // (spec.selector, metadata.labels) it is the same as a JSON merge patch.
      patched = mergePatch(clone(stored), patch) as Json;
    }
    const meta = stored.metadata as Json;
    const newMeta = patched.metadata as Json | undefined;
    if (newMeta?.resourceVersion !== undefined && newMeta.resourceVersion !== meta.resourceVersion) {
      return status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on services "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, kind: 'services' },
      );
    }
    if (newMeta?.name !== name || newMeta.namespace !== namespace) {
      return status(400, 'BadRequest', 'the name of the object and the name in the URL do not match');
    }
    const selector = (patched.spec as Json | undefined)?.selector;
    const bad =
      selector === undefined || selector === null
        ? undefined
        : Object.entries(selector as Json).find(
            ([, value]) => typeof value !== 'string' || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value),
          );
    if (bad) {
      return status(
        422,
        'Invalid',
        `Service "${name}" is invalid: spec.selector: Invalid value: ${JSON.stringify(bad[1])}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'`,
        { name, kind: 'Service' },
      );
    }
    (patched.metadata as Json).resourceVersion = this.bump();
    this.services.set(`${namespace}/${name}`, patched);
    return { status: 200, body: clone(patched) };
  }

  private getDeployment(namespace: string, name: string): Answer {
    const d = this.deployments.get(`${namespace}/${name}`);
    if (!d) return notFound('deployments.apps', name, 'apps', 'deployments');
    const time = '2026-01-05T10:05:00Z';
    const conditions: Json[] = [
      {
        type: 'Available',
        status: d.availableReplicas >= d.desired ? 'True' : 'False',
        lastUpdateTime: time,
        lastTransitionTime: time,
        reason: d.availableReplicas >= d.desired ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        message:
          d.availableReplicas >= d.desired
            ? 'Deployment has minimum availability.'
            : 'Deployment does not have minimum availability.',
      },
      d.progressDeadlineExceeded
        ? {
            type: 'Progressing',
            status: 'False',
            lastUpdateTime: time,
            lastTransitionTime: time,
            reason: 'ProgressDeadlineExceeded',
            message: `ReplicaSet "${d.name}-${shortHash(d.name, 10)}" has timed out progressing.`,
          }
        : {
            type: 'Progressing',
            status: 'True',
            lastUpdateTime: time,
            lastTransitionTime: time,
            reason: d.updatedReplicas >= d.desired ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
            message: `ReplicaSet "${d.name}-${shortHash(d.name, 10)}" is progressing.`,
          },
    ];
    return {
      status: 200,
      body: {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: {
          name: d.name,
          namespace: d.namespace,
          uid: d.uid,
          resourceVersion: d.resourceVersion,
          generation: d.generation,
          creationTimestamp: d.created,
          labels: { ...d.labels },
          annotations: { 'deployment.kubernetes.io/revision': String(d.generation) },
        },
        spec: {
          replicas: d.desired,
          selector: { matchLabels: { ...d.labels } },
          template: {
            metadata: { labels: { ...d.labels } },
            spec: { containers: [{ name: 'app', image: `registry.example/${d.name}:1` }] },
          },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
          revisionHistoryLimit: 10,
          progressDeadlineSeconds: 600,
        },
        status: {
          observedGeneration: d.observedGeneration,
          replicas: d.replicas,
          updatedReplicas: d.updatedReplicas,
          readyReplicas: d.readyReplicas,
          availableReplicas: d.availableReplicas,
          ...(d.replicas > d.availableReplicas ? { unavailableReplicas: d.replicas - d.availableReplicas } : {}),
          conditions,
        },
      },
    };
  }

  /** EndpointSlices as the controller keeps them: one per Service with a selector, its matching pods. */
  private listEndpointSlices(namespace: string, labelSelector: string): Answer {
    const requirements = parseLabelSelector(labelSelector);
    if (typeof requirements === 'string') return status(400, 'BadRequest', requirements);
    const items: Json[] = [];
    for (const service of this.services.values()) {
      const meta = service.metadata as { name: string; namespace: string; uid: string };
      const selector = (service.spec as { selector?: Record<string, string> | null }).selector;
      if (meta.namespace !== namespace || selector === undefined || selector === null) continue;
      if (Object.keys(selector).length === 0) continue;
      const labels = {
        'kubernetes.io/service-name': meta.name,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        app: meta.name,
      };
      if (!matches(labels, requirements)) continue;
      const pods = [...this.deployments.values()]
        .filter((d) => d.namespace === namespace)
        .flatMap((d) => d.pods)
        .filter((pod) => Object.entries(selector).every(([key, value]) => pod.labels[key] === value));
      items.push({
        metadata: {
          name: `${meta.name}-${shortHash(meta.uid)}`,
          generateName: `${meta.name}-`,
          namespace,
          uid: uid(`slice/${meta.uid}`),
          resourceVersion: String(this.revision),
          generation: 1,
          creationTimestamp: '2026-01-05T10:00:01Z',
          labels,
          annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-05T10:05:00Z' },
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'Service',
              name: meta.name,
              uid: meta.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        addressType: 'IPv4',
        // The controller writes null, not [], for a slice without endpoints.
        endpoints:
          pods.length === 0
            ? null
            : pods.map((pod) => ({
                addresses: [pod.ip],
                conditions: { ready: pod.ready, serving: pod.ready, terminating: false },
                targetRef: { kind: 'Pod', namespace, name: pod.name, uid: uid(`pod/${namespace}/${pod.name}`) },
                nodeName: 'node-1',
                zone: 'zone-a',
              })),
        ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      });
    }
    return {
      status: 200,
      body: {
        kind: 'EndpointSliceList',
        apiVersion: 'discovery.k8s.io/v1',
        metadata: { resourceVersion: String(this.revision) },
        items,
      },
    };
  }
}

function status(code: number, reason: string, message: string, details?: Json): Answer {
  return {
    status: code,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details === undefined ? {} : { details }),
      code,
    },
  };
}

function notFound(resource: string, name: string, group?: string, kind = resource): Answer {
  return status(404, 'NotFound', `${resource} "${name}" not found`, {
    name,
    ...(group === undefined ? {} : { group }),
    kind,
  });
}

function forbidden(user: string, permission: Permission, group: string, parts: string[]): Answer {
  const [verb, resource] = permission.split(' ') as [string, string];
  const qualified = group === '' ? resource : `${resource}.${group}`;
  const named = resource === 'namespaces' ? parts[0] : parts[1];
  const namespace = resource === 'namespaces' ? undefined : parts[0];
  const subject = named === undefined ? qualified : `${qualified} "${named}"`;
  const scope = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
  return status(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}`,
    { ...(named === undefined ? {} : { name: named }), ...(group === '' ? {} : { group }), kind: resource },
  );
}

function throttled(retryAfterSeconds: number): Answer {
  return {
    ...status(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds }),
    headers: { 'retry-after': String(retryAfterSeconds) },
  };
}

function internalError(code: number): Answer {
  const reason = code === 503 ? 'ServiceUnavailable' : code === 504 ? 'Timeout' : 'InternalError';
  return status(code, reason, `Internal error occurred: etcdserver: request timed out`, {
    causes: [{ message: 'etcdserver: request timed out' }],
  });
}

/** RFC 7386: objects merge, null deletes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Json =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === null) Reflect.deleteProperty(result, key);
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** RFC 6902, the operations a selector change uses (test, add, replace, remove); a string is the error. */
function applyJsonPatch(document: Json, patch: unknown): Json | string {
  if (!Array.isArray(patch)) return 'the JSON patch is not an array of operations';
  for (const operation of patch as { op?: string; path?: string; value?: unknown }[]) {
    const tokens = (operation.path ?? '')
      .split('/')
      .slice(1)
      .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = tokens.pop();
    if (last === undefined) return `invalid path "${operation.path}"`;
    let parent: unknown = document;
    for (const token of tokens) parent = (parent as Json | undefined)?.[token];
    if (typeof parent !== 'object' || parent === null) return `doc is missing path: "${operation.path}"`;
    const holder = parent as Json;
    switch (operation.op) {
      case 'test':
        if (JSON.stringify(holder[last]) !== JSON.stringify(operation.value))
          return `the server rejected our request due to an error in our request: testing value ${operation.path} failed`;
        break;
      case 'add':
        holder[last] = operation.value;
        break;
      case 'replace':
        if (!(last in holder)) return `replace operation does not apply: doc is missing key: ${operation.path}`;
        holder[last] = operation.value;
        break;
      case 'remove':
        if (!(last in holder)) return `remove operation does not apply: doc is missing key: ${operation.path}`;
        Reflect.deleteProperty(holder, last);
        break;
      default:
        return `unsupported JSON patch operation "${operation.op}"`;
    }
  }
  return document;
}

type Requirement = { key: string; op: '=' | '!=' | 'exists' | '!exists'; value?: string };

/** The equality-based label selector syntax: a=b, a==b, a!=b, a, !a (comma-separated, all must hold). */
function parseLabelSelector(text: string): Requirement[] | string {
  const requirements: Requirement[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const match = /^(!?)([A-Za-z0-9./_-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*))?$/.exec(part);
    if (!match) return `unable to parse requirement: ${part}`;
    const [, not, key, op, value] = match as unknown as [
      string,
      string,
      string,
      string | undefined,
      string | undefined,
    ];
    if (op === undefined) requirements.push({ key, op: not === '!' ? '!exists' : 'exists' });
    else if (not === '!') return `unable to parse requirement: ${part}`;
    else requirements.push({ key, op: op === '!=' ? '!=' : '=', value: value ?? '' });
  }
  return requirements;
}

function matches(labels: Record<string, string>, requirements: Requirement[]): boolean {
  return requirements.every(({ key, op, value }) => {
    const has = Object.hasOwn(labels, key);
    if (op === 'exists') return has;
    if (op === '!exists') return !has;
    if (op === '=') return has && labels[key] === value;
    return !has || labels[key] !== value;
  });
}
