import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { Inputs } from '@deploy-suite/kit';
import { FakeKubernetes } from '../../../test/fakes/kubernetes.ts';
import { expectSettingsInputError } from '../../../test/helpers/expect-input-error.ts';
import { createKubernetesProvider, readKubernetesConfig, type KubernetesConfig } from '../src/kubernetes.ts';
import { RouterError, type Readiness, type RouterProvider } from '../src/provider.ts';

const NS = 'shop-prod';
let fake: FakeKubernetes;
let folder: string;
let kubeconfig: string;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'router-kubernetes-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

beforeEach(async () => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  fake = await FakeKubernetes.start();
  kubeconfig = join(folder, `kubeconfig-${fake.url.split(':').at(-1)}`);
  writeFileSync(kubeconfig, fake.kubeconfig());
  fake.addService(NS, 'shop', { app: 'shop', colour: 'blue' });
  fake.addDeployment(NS, 'shop-blue', { app: 'shop', colour: 'blue' }, 3);
  fake.addDeployment(NS, 'shop-green', { app: 'shop', colour: 'green' }, 3);
});
afterEach(async () => {
  await fake.close();
  jest.restoreAllMocks();
});

/** The kubernetes router always has a readiness of its own (the interface allows none). */
type KubernetesRouter = Omit<RouterProvider, 'readiness'> & { readiness(colour: string): Promise<Readiness> };

function provider(overrides: Partial<KubernetesConfig> = {}): KubernetesRouter {
  return createKubernetesProvider(
    {
      namespace: NS,
      service: 'shop',
      selectorKey: 'colour',
      deployments: { blue: 'shop-blue', green: 'shop-green' },
      colours: ['blue', 'green'],
      kubeconfig,
      requestTimeoutMs: 1_000,
      endpointsWaitMs: 300,
      ...overrides,
    },
    { retry: { baseDelayMs: 5, maxDelayMs: 20 } },
  ) as KubernetesRouter;
}

/** The kubeconfig of a user holding only some permissions. */
function limitedKubeconfig(permissions: Parameters<FakeKubernetes['addToken']>[2]): string {
  const token = `limited-token-${permissions.length}-${Math.random().toString(36).slice(2)}`;
  fake.addToken(token, 'system:serviceaccount:ci:limited', permissions);
  const path = join(folder, `${token}.yaml`);
  writeFileSync(path, fake.kubeconfig(token));
  return path;
}

async function routerError(promise: Promise<unknown>): Promise<RouterError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RouterError) return error;
    throw error;
  }
  throw new Error('expected a RouterError, and the call succeeded');
}

const patches = () => fake.calls('PATCH', /\/services\/shop$/);

describe('kubernetes router: reading', () => {
  it('reads the live colour from the Service selector, with the bearer token', async () => {
    const state = await provider().read();
    expect(state.live).toBe('blue');
    expect(state.weights).toEqual({ blue: 100, green: 0 });
    expect(state.detail).toMatch(/^Service shop-prod\/shop selects colour=blue \(resourceVersion \d+\)$/);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', path: `/api/v1/namespaces/${NS}/services/shop` });
    expect(fake.requests.at(-1)?.user).toBe(fake.user);
    expect(provider().supportsWeights).toBe(false);
  });

  it('reports no live colour when the selector names neither, and says what it holds', async () => {
    fake.setSelector(NS, 'shop', { app: 'shop', colour: 'purple' });
    const state = await provider().read();
    expect(state.live).toBeUndefined();
    expect(state.weights).toEqual({ blue: 0, green: 0 });
    expect(state.detail).toMatch(/selects colour="purple", neither of blue, green/);

    fake.setSelector(NS, 'shop', { app: 'shop' });
    expect((await provider().read()).detail).toMatch(/has no colour in its selector \("app=shop"\)/);
  });

  it('takes the selector key from the config', async () => {
    fake.setSelector(NS, 'shop', { app: 'shop', 'example.com/slot': 'green' });
    expect((await provider({ selectorKey: 'example.com/slot' }).read()).live).toBe('green');
  });
});

describe('kubernetes router: readiness', () => {
  it('is ready when the Deployment has rolled out (before the switch, endpoints cannot speak for it)', async () => {
    const readiness = await provider().readiness('green');
    expect(readiness).toEqual({ ready: true, detail: 'Deployment shop-green: 3/3 replicas updated and available' });
    expect(fake.calls('GET', /endpointslices$/)).toHaveLength(0);
  });

  it('is not ready while the rollout is unfinished', async () => {
    fake.setRollout(NS, 'shop-green', { updatedReplicas: 1, availableReplicas: 1 });
    expect(await provider().readiness('green')).toEqual({
      ready: false,
      detail: 'Deployment shop-green: has not finished rolling out: 1/3 replicas updated',
    });
    fake.setRollout(NS, 'shop-green', { generation: 2, observedGeneration: 1, updatedReplicas: 3 });
    expect((await provider().readiness('green')).detail).toMatch(/has not seen generation 2 yet/);
    fake.setRollout(NS, 'shop-green', { generation: 2, observedGeneration: 2, replicas: 4 });
    expect((await provider().readiness('green')).detail).toMatch(/1 old replicas still running/);
    fake.setRollout(NS, 'shop-green', { replicas: 3, progressDeadlineExceeded: true });
    expect((await provider().readiness('green')).detail).toMatch(/stuck \(ProgressDeadlineExceeded/);
  });

  it('is not ready with 0 available replicas, nor when scaled to 0', async () => {
    fake.setRollout(NS, 'shop-green', { availableReplicas: 0, readyReplicas: 0 });
    const readiness = await provider().readiness('green');
    expect(readiness.ready).toBe(false);
    expect(readiness.detail).toMatch(/0\/3 replicas available/);
    fake.setRollout(NS, 'shop-green', { desired: 0, replicas: 0, updatedReplicas: 0, availableReplicas: 0 });
    expect((await provider().readiness('green')).detail).toMatch(/scaled to 0 replicas/);
  });

  it('for the live colour, also counts the ready endpoints of the Service', async () => {
    expect(await provider().readiness('blue')).toEqual({
      ready: true,
      detail: 'Deployment shop-blue: 3/3 replicas updated and available, 3 ready endpoints',
    });
    const list = fake.calls('GET', /endpointslices$/).at(-1)!;
    expect(list.path).toBe(`/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`);
    expect(list.query.get('labelSelector')).toBe('kubernetes.io/service-name=shop');

    fake.setPods(NS, 'shop-blue', 0, 3);
    const readiness = await provider().readiness('blue');
    expect(readiness).toEqual({ ready: false, detail: expect.stringMatching(/, 0 ready endpoints$/) });
  });

  it('names a Deployment that does not exist', async () => {
    const error = await routerError(
      provider({ deployments: { blue: 'shop-blue', green: 'shop-gren' } }).readiness('green'),
    );
    expect(error.message).toMatch(/reading Deployment shop-prod\/shop-gren \(green\) failed \(404 NotFound/);
    expect(error.message).toMatch(/kubernetes-deployments/);
  });
});

describe('kubernetes router: switching', () => {
  it('patches only the selector key, conditionally, and reads back ready endpoints', async () => {
    const router = provider();
    await router.route({ blue: 0, green: 100 });
    expect(fake.selectorOf(NS, 'shop')).toEqual({ app: 'shop', colour: 'green' });
    const [patch] = patches();
    expect(patches()).toHaveLength(1);
    expect(patch!.contentType).toBe('application/merge-patch+json');
    const body = JSON.parse(patch!.body);
    expect(body).toEqual({
      metadata: { resourceVersion: expect.any(String) },
      spec: { selector: { colour: 'green' } },
    });
    expect(patch!.query.get('fieldManager')).toBe('deploy-suite');
    const lists = fake.calls('GET', /endpointslices$/);
    expect(lists.length).toBeGreaterThan(0);
    expect(fake.requests.indexOf(lists.at(-1)!)).toBeGreaterThan(fake.requests.indexOf(patch!));
    expect((await router.read()).live).toBe('green');
    expect((await router.readiness('green')).detail).toMatch(/3 ready endpoints/);
  });

  it('does not patch when the Service already selects the colour, but still checks endpoints', async () => {
    await provider().route({ blue: 100, green: 0 });
    expect(patches()).toHaveLength(0);
    expect(fake.calls('GET', /endpointslices$/).length).toBeGreaterThan(0);
  });

  it('refuses to switch to a Deployment that has not finished rolling out', async () => {
    fake.setRollout(NS, 'shop-green', { availableReplicas: 2 });
    const error = await routerError(provider().route({ blue: 0, green: 100 }));
    expect(error.message).toMatch(/not switching Service shop-prod\/shop to green: Deployment shop-prod\/shop-green/);
    expect(error.message).toMatch(/kubectl rollout status deployment\/shop-green -n shop-prod/);
    expect(patches()).toHaveLength(0);
  });

  it('with 0 ready endpoints after the patch: a RouterError, and the old selector put back', async () => {
    fake.setPods(NS, 'shop-green', 0, 3); // rolled out, yet every pod fails its readiness probe now
    const error = await routerError(provider().route({ blue: 0, green: 100 }));
    expect(error.message).toMatch(
      /was switched to colour=green, but its EndpointSlices list 3 endpoints, none of them a ready pod of Deployment shop-green/,
    );
    expect(error.message).toMatch(/it was put back \(read back, it selects colour=blue/);
    expect(fake.selectorOf(NS, 'shop')).toEqual({ app: 'shop', colour: 'blue' });
    expect(patches()).toHaveLength(2);
  });

  it('a change made by someone else between read and patch is a 409, reported with what the Service holds', async () => {
    fake.onRequest = (request) => {
      if (request.method !== 'PATCH') return;
      fake.onRequest = undefined;
      fake.setSelector(NS, 'shop', { app: 'shop', colour: 'blue', release: 'hotfix' });
    };
    const error = await routerError(provider().route({ blue: 0, green: 100 }));
    expect(error.message).toMatch(
      /someone else changed Service shop-prod\/shop while it was being switched \(409 Conflict/,
    );
    expect(error.message).toMatch(/read back, it selects colour=blue/);
    expect(fake.requests.find((r) => r.method === 'PATCH')?.status).toBe(409);
    expect(fake.selectorOf(NS, 'shop')).toEqual({ app: 'shop', colour: 'blue', release: 'hotfix' });
  });

  it('refuses split weights (a selector cannot split), without a request', async () => {
    const error = await routerError(provider().route({ blue: 90, green: 10 }));
    expect(error.message).toMatch(/cannot split it \(blue 90%, green 10%\)/);
    expect(fake.requests).toHaveLength(0);
    await expect(provider().route({ blue: 50, green: 60 })).rejects.toThrow(/summing to 100/);
    await expect(provider().route({ blue: 100, red: 0 })).rejects.toThrow(/whole percent/);
  });
});

describe('kubernetes router: API errors', () => {
  it('403 on the patch names the verb, the resource and the Role rule to grant', async () => {
    const limited = limitedKubeconfig(['get services', 'get deployments', 'list endpointslices']);
    const error = await routerError(provider({ kubeconfig: limited }).route({ blue: 0, green: 100 }));
    expect(error.message).toMatch(/patching Service shop-prod\/shop to select colour=green failed \(403 Forbidden/);
    expect(error.message).toMatch(/cannot patch resource \\"services\\"/);
    expect(error.message).toMatch(/may not patch services in namespace shop-prod/);
    expect(error.message).toMatch(/\{apiGroups: \[""\], resources: \["services"\], verbs: \["patch"\]\}/);
    expect(fake.selectorOf(NS, 'shop').colour).toBe('blue');
  });

  it('403 on the EndpointSlice list names its API group', async () => {
    const limited = limitedKubeconfig(['get services', 'get deployments']);
    const error = await routerError(provider({ kubeconfig: limited }).readiness('blue'));
    expect(error.message).toMatch(/may not list endpointslices\.discovery\.k8s\.io/);
    expect(error.message).toMatch(
      /apiGroups: \["discovery\.k8s\.io"\], resources: \["endpointslices"\], verbs: \["list"\]/,
    );
  });

  it('401: a refused token points at the kubeconfig', async () => {
    const path = join(folder, 'bad-token.yaml');
    writeFileSync(path, fake.kubeconfig('not-a-token'));
    const error = await routerError(provider({ kubeconfig: path }).read());
    expect(error.message).toMatch(
      /failed \(401 Unauthorized\): the API server at http:\/\/127\.0\.0\.1:\d+ refused the credentials/,
    );
  });

  it('404: says whether the namespace or the Service is missing', async () => {
    const noNamespace = await routerError(provider({ namespace: 'shop-staging' }).read());
    expect(noNamespace.message).toMatch(
      /reading Service shop-staging\/shop failed \(404 NotFound: "services \\"shop\\" not found"\)/,
    );
    expect(noNamespace.message).toMatch(/namespace shop-staging does not exist: check the kubernetes-namespace input/);

    const noService = await routerError(provider({ service: 'shopp' }).read());
    expect(noService.message).toMatch(/namespace shop-prod has no Service shopp: check the kubernetes-service input/);

    // Without the right to read namespaces, both are named.
    const limited = limitedKubeconfig(['get services']);
    const either = await routerError(provider({ kubeconfig: limited, service: 'shopp' }).read());
    expect(either.message).toMatch(/either namespace shop-prod or Service shopp in it does not exist/);
  });

  it('retries a GET on 429 (honouring Retry-After) and on 500', async () => {
    fake.inject('GET', /\/services\/shop$/, { kind: 'throttle', retryAfterSeconds: 0 });
    fake.inject('GET', /\/services\/shop$/, { kind: 'error', status: 500 });
    const state = await provider().read();
    expect(state.live).toBe('blue');
    expect(fake.calls('GET', /\/services\/shop$/).map((r) => r.status)).toEqual([429, 500, 200]);
  });

  it('gives up on a GET after a bounded number of attempts', async () => {
    for (let i = 0; i < 4; i++) fake.inject('GET', /\/services\/shop$/, { kind: 'throttle', retryAfterSeconds: 0 });
    const error = await routerError(provider().read());
    expect(error.message).toMatch(/failed \(429 TooManyRequests: "Too many requests, please try again later\."\)/);
    expect(error.message).toMatch(/kept failing \(4 attempts\)/);
    expect(fake.calls('GET', /\/services\/shop$/)).toHaveLength(4);
  });

  it('a GET that hangs times out instead of holding the step', async () => {
    fake.inject('GET', /\/services\/shop$/, { kind: 'hang' });
    const started = Date.now();
    const error = await routerError(provider().read());
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.message).toMatch(
      /reading Service shop-prod\/shop failed \(no answer within 1s\): check that http:\/\/127\.0\.0\.1:\d+ is reachable/,
    );
    expect(fake.calls('GET', /\/services\/shop$/)).toHaveLength(1);
  });
});

describe('kubernetes router: the API fails mid-switch', () => {
  it('a patch that hangs and did not land: read back, reported unchanged, never repeated', async () => {
    fake.inject('PATCH', /\/services\/shop$/, { kind: 'hang' });
    const error = await routerError(provider().route({ blue: 0, green: 100 }));
    expect(error.message).toMatch(
      /patching Service shop-prod\/shop to select colour=green failed \(no answer within 1s\); read back, it selects colour=blue \(resourceVersion \d+\) — unchanged/,
    );
    expect(patches()).toHaveLength(1);
    expect(fake.selectorOf(NS, 'shop').colour).toBe('blue');
  });

  it('a patch that landed but whose answer was lost: read back, found switched, endpoints checked', async () => {
    fake.inject('PATCH', /\/services\/shop$/, { kind: 'hang' }, { landed: true });
    const router = provider();
    await router.route({ blue: 0, green: 100 });
    expect(patches()).toHaveLength(1);
    expect((await router.read()).live).toBe('green');
    const after = fake.requests.slice(fake.requests.indexOf(patches()[0]!));
    expect(after.some((r) => r.method === 'GET' && r.path.endsWith('/services/shop'))).toBe(true);
    expect(after.some((r) => r.path.endsWith('/endpointslices'))).toBe(true);
  });

  it('a patch answered 500: read back and reported, not retried', async () => {
    fake.inject('PATCH', /\/services\/shop$/, { kind: 'error', status: 503 });
    const error = await routerError(provider().route({ blue: 0, green: 100 }));
    expect(error.message).toMatch(/failed \(503 ServiceUnavailable: .*\); read back, it selects colour=blue/);
    expect(patches()).toHaveLength(1);
  });

  it('when the read-back fails too, the state is called unknown', async () => {
    fake.inject('PATCH', /\/services\/shop$/, { kind: 'reset' });
    // Only the read-back hangs: its fault is set as the patch arrives.
    fake.onRequest = (request) => {
      if (request.method !== 'PATCH') return;
      fake.onRequest = undefined;
      fake.inject('GET', /\/services\/shop$/, { kind: 'hang' });
    };
    const error = await routerError(provider().route({ blue: 0, green: 100 }));
    expect(error.message).toMatch(/failed \(connection failed: (ECONNRESET|UND_ERR_SOCKET)\)/);
    expect(error.message).toMatch(
      /reading it back failed too .*no answer within 1s.*The Service's selector is unknown/,
    );
  });
});

describe('the fake API server', () => {
  it('takes the other patch types the client can send: JSON patch (with a test) and strategic merge', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const rv = fake.resourceVersionOf(NS, 'shop');
    const patched = await core.patchNamespacedService(
      {
        name: 'shop',
        namespace: NS,
        body: [
          { op: 'test', path: '/metadata/resourceVersion', value: rv },
          { op: 'replace', path: '/spec/selector/colour', value: 'green' },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(patched.spec?.selector).toEqual({ app: 'shop', colour: 'green' });
    expect(patched.metadata?.creationTimestamp).toBeInstanceOf(Date);
    await expect(
      core.patchNamespacedService(
        { name: 'shop', namespace: NS, body: [{ op: 'test', path: '/metadata/resourceVersion', value: rv }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    ).rejects.toMatchObject({ code: 422 });
    const strategic = await core.patchNamespacedService(
      { name: 'shop', namespace: NS, body: { spec: { selector: { colour: 'blue', tier: null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.spec?.selector).toEqual({ app: 'shop', colour: 'blue' });
    const slices = await kc
      .makeApiClient(DiscoveryV1Api)
      .listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=shop' });
    expect(slices.items).toHaveLength(1);
    expect(slices.items[0]!.endpoints).toHaveLength(3);
    expect((slices.items[0]!.endpoints ?? []).every((e) => e.targetRef?.name?.startsWith('shop-blue-'))).toBe(true);
    const deployment = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: 'shop-green', namespace: NS });
    expect(deployment.status?.conditions?.[0]?.lastUpdateTime).toBeInstanceOf(Date);
  });
});

describe('kubernetes router: inputs', () => {
  const inputs = (values: Record<string, string>) => new Inputs((name) => values[name]);
  const colours: ['blue', 'green'] = ['blue', 'green'];

  it('reads the defaults', () => {
    expect(readKubernetesConfig(inputs({ 'kubernetes-service': 'shop' }), colours)).toEqual({
      namespace: 'default',
      service: 'shop',
      selectorKey: 'colour',
      deployments: { blue: 'shop-blue', green: 'shop-green' },
      colours,
    });
  });

  it('reads Deployments as a map, one per line, or a list in colour order; and the kubeconfig', () => {
    const read = (deployments: string) =>
      readKubernetesConfig(inputs({ 'kubernetes-service': 'shop', 'kubernetes-deployments': deployments }), colours)
        .deployments;
    const expected = { blue: 'web-b', green: 'web-g' };
    expect(read('blue: web-b, green: web-g')).toEqual(expected);
    expect(read('green: web-g\nblue: web-b\n')).toEqual(expected);
    expect(read('{blue: "web-b", green: web-g}')).toEqual(expected);
    expect(read('web-b, web-g')).toEqual(expected);
    const config = readKubernetesConfig(
      inputs({ 'kubernetes-service': 'shop', kubeconfig: fake.kubeconfig(), 'kubernetes-namespace': NS }),
      colours,
    );
    expect(config.kubeconfig).toBe(fake.kubeconfig().trim());
    expect(config.namespace).toBe(NS);
  });

  it('an inline kubeconfig drives the client', async () => {
    expect((await provider({ kubeconfig: fake.kubeconfig() }).read()).live).toBe('blue');
  });

  it('each bad value is an InputError naming the input', () => {
    const bad = (values: Record<string, string>, input: string, pattern: RegExp, secrets: string[] = []) =>
      expectSettingsInputError(
        () => readKubernetesConfig(inputs({ 'kubernetes-service': 'shop', ...values }), colours),
        input,
        pattern,
        secrets,
      );
    expectSettingsInputError(
      () => readKubernetesConfig(inputs({}), colours),
      'kubernetes-service',
      /is required but was empty/,
      [],
    );
    bad({ 'kubernetes-service': 'Shop_Service' }, 'kubernetes-service', /must be a Service name/);
    bad({ 'kubernetes-namespace': 'Prod!' }, 'kubernetes-namespace', /must be a namespace name.*"Prod!"/);
    bad({ 'kubernetes-selector-key': 'colour!' }, 'kubernetes-selector-key', /must be a label key/);
    bad(
      { 'kubernetes-deployments': 'blue: a, red: b' },
      'kubernetes-deployments',
      /names colour "red", which is not one of blue, green/,
    );
    bad({ 'kubernetes-deployments': 'blue: a' }, 'kubernetes-deployments', /has no Deployment for green/);
    bad({ 'kubernetes-deployments': 'blue: a, blue: b, green: c' }, 'kubernetes-deployments', /names a colour twice/);
    bad({ 'kubernetes-deployments': 'a, b, c' }, 'kubernetes-deployments', /must name two Deployments/);
    bad({ 'kubernetes-deployments': 'blue: a, b' }, 'kubernetes-deployments', /mixes/);
    bad({ 'kubernetes-deployments': 'blue: Web_B, green: b' }, 'kubernetes-deployments', /"Web_B" for blue/);
    bad({ 'kubernetes-deployments': 'a, a' }, 'kubernetes-deployments', /names Deployment a for both colours/);
    bad({ kubeconfig: join(folder, 'missing.yaml') }, 'kubeconfig', /names a file that cannot be read \(ENOENT\)/);
    const secret = 'sekrit-token-value-123456';
    bad(
      { kubeconfig: `apiVersion: v1\nusers:\n  - name: x\n    user: {token: ${secret}\n  bad: [` },
      'kubeconfig',
      /cannot be loaded: it is not a valid kubeconfig/,
      [secret],
    );
    bad(
      { kubeconfig: 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\ncurrent-context: nowhere\n' },
      'kubeconfig',
      /has no cluster for its current context "nowhere"/,
    );
  });
});
