export const id = 690;
export const ids = [690];
export const modules = {

/***/ 4690:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   createKubernetesProvider: () => (/* binding */ createKubernetesProvider),
/* harmony export */   readKubernetesConfig: () => (/* binding */ readKubernetesConfig)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1278);
/* harmony import */ var _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(2592);
/* harmony import */ var _provider_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(4831);




const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** The kubernetes router's settings from the action's inputs; every bad value is an InputError. */
function readKubernetesConfig(inputs, colours) {
    const namespace = inputs.string('kubernetes-namespace', 'default');
    if (namespace.length > 63 || !DNS_LABEL.test(namespace)) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz('kubernetes-namespace', `must be a namespace name (lowercase letters, digits and -, at most 63), got ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .quoteUntrusted */ .X0)(namespace, 80)}`, 'kubernetes-namespace: shop-production');
    }
    const service = inputs.required('kubernetes-service', { example: 'kubernetes-service: shop' });
    if (service.length > 63 || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(service)) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz('kubernetes-service', `must be a Service name (lowercase letters, digits and -, starting with a letter, at most 63), got ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .quoteUntrusted */ .X0)(service, 80)}`, 'kubernetes-service: shop');
    }
    const selectorKey = inputs.string('kubernetes-selector-key', 'colour');
    if (!isLabelKey(selectorKey)) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz('kubernetes-selector-key', `must be a label key such as colour or example.com/colour, got ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .quoteUntrusted */ .X0)(selectorKey, 80)}`, 'kubernetes-selector-key: colour');
    }
    const deployments = parseDeployments(inputs.optional('kubernetes-deployments'), service, colours);
    const kubeconfig = inputs.secret('kubeconfig');
    if (kubeconfig !== undefined)
        loadKubeConfig(kubeconfig);
    return {
        namespace,
        service,
        selectorKey,
        deployments,
        colours,
        ...(kubeconfig === undefined ? {} : { kubeconfig }),
    };
}
function isLabelKey(key) {
    const slash = key.lastIndexOf('/');
    const prefix = slash < 0 ? undefined : key.slice(0, slash);
    const name = slash < 0 ? key : key.slice(slash + 1);
    if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
        return false;
    return name.length <= 63 && LABEL_NAME.test(name);
}
/** "blue: shop-blue, green: shop-green" (or one per line, or {…}), or "shop-blue, shop-green" in colour order. */
function parseDeployments(text, service, colours) {
    if (text === undefined)
        return Object.fromEntries(colours.map((c) => [c, `${service}-${c}`]));
    const input = 'kubernetes-deployments';
    const example = `${input}: "${colours[0]}: ${service}-${colours[0]}, ${colours[1]}: ${service}-${colours[1]}"`;
    const items = text
        .replace(/^\s*\{([^]*)\}\s*$/, '$1')
        .split(/[\n,]/)
        .map((item) => item.trim())
        .filter((item) => item !== '');
    const pairs = items.map((item) => /^([^:=\s]+)\s*[:=]\s*(.*)$/.exec(item));
    let entries;
    if (pairs.every((pair) => pair !== null)) {
        entries = pairs.map(([, colour, name]) => [colour.trim().toLowerCase(), unquote(name.trim())]);
        const unknown = entries.find(([colour]) => !colours.includes(colour));
        if (unknown) {
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz(input, `names colour ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .quoteUntrusted */ .X0)(unknown[0], 40)}, which is not one of ${colours.join(', ')}`, example);
        }
        const seen = new Set(entries.map(([colour]) => colour));
        if (seen.size !== entries.length)
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz(input, 'names a colour twice', example);
        const missing = colours.find((colour) => !seen.has(colour));
        if (missing !== undefined)
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz(input, `has no Deployment for ${missing}`, example);
    }
    else if (pairs.every((pair) => pair === null)) {
        if (items.length !== 2) {
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz(input, `must name two Deployments (one per colour), got ${items.length}`, example);
        }
        entries = colours.map((colour, i) => [colour, unquote(items[i])]);
    }
    else {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz(input, 'mixes "colour: name" pairs with bare names; use one form', example);
    }
    for (const [colour, name] of entries) {
        if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz(input, `has ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .quoteUntrusted */ .X0)(name, 80)} for ${colour}: a Deployment name is lowercase letters, digits, - and .`, example);
        }
    }
    if (entries[0][1] === entries[1][1]) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz(input, `names Deployment ${entries[0][1]} for both colours`, example);
    }
    return Object.fromEntries(entries);
}
const unquote = (text) => text.replace(/^(["'])(.*)\1$/, '$2');
/** A path never holds a line break; inline YAML (or JSON) does, or opens with "{". */
const isInline = (source) => /\n/.test(source) || /^\s*\{/.test(source);
function loadKubeConfig(source) {
    const kc = new _kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__/* .KubeConfig */ .ypW();
    const example = 'kubeconfig: ${{ runner.temp }}/kubeconfig (a path), or the file itself from a secret';
    try {
        if (source === undefined)
            kc.loadFromDefault();
        else if (isInline(source))
            kc.loadFromString(source);
        else {
            try {
                (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.readFileSync)(source);
            }
            catch (error) {
                const reason = error.code ?? 'unreadable';
                throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz('kubeconfig', `names a file that cannot be read (${reason}): ${source}`, example);
            }
            kc.loadFromFile(source);
        }
    }
    catch (error) {
        if (error instanceof _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz)
            throw error;
        // The YAML parser quotes the text around a mistake, and that text may hold a token: say only why.
        const reason = error.reason;
        const why = typeof reason === 'string' ? reason : ((0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .errorMessage */ .gJ)(error).split('\n')[0] ?? '');
        const where = source === undefined ? 'the kubeconfig found (KUBECONFIG or ~/.kube/config)' : 'it';
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz('kubeconfig', `cannot be loaded: ${where} is not a valid kubeconfig (${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .redact */ .E$)(why).slice(0, 200)})`, example);
    }
    // With nothing to load, the client falls back to http://localhost:8080: say so instead of dialling it.
    if (source === undefined &&
        kc.getCurrentContext() === 'loaded-context' &&
        kc.getCurrentCluster()?.name === 'cluster') {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz('kubeconfig', 'was not given and no kubeconfig was found (KUBECONFIG, ~/.kube/config or an in-cluster service account)', example);
    }
    const cluster = kc.getCurrentCluster();
    if (cluster === null) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .InputError */ .dz('kubeconfig', `has no cluster for its current context ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .quoteUntrusted */ .X0)(kc.getCurrentContext(), 80)}: set current-context to a context that names a cluster`, example);
    }
    return kc;
}
/** Statuses worth another attempt on a read: throttling and the API server's own trouble. */
const TRANSIENT = new Set([429, 500, 502, 503, 504]);
/**
 * The kubernetes router: a Service whose selector names the live colour (colour=blue), switched
 * by patching that one key. A selector cannot split traffic, so only 0/100 is routed.
 */
function createKubernetesProvider(config, options = {}) {
    return new KubernetesRouter(config, options);
}
class KubernetesRouter {
    name = 'kubernetes';
    supportsWeights = false;
    colours;
    config;
    options;
    core;
    apps;
    discovery;
    server;
    timeoutMs;
    where;
    constructor(config, options) {
        this.config = config;
        this.options = options;
        this.colours = config.colours;
        const kc = loadKubeConfig(config.kubeconfig);
        this.server = kc.getCurrentCluster()?.server ?? 'the API server';
        this.core = kc.makeApiClient(_kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__/* .CoreV1Api */ .f5Y);
        this.apps = kc.makeApiClient(_kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__/* .AppsV1Api */ .eY6);
        this.discovery = kc.makeApiClient(_kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__/* .DiscoveryV1Api */ .oNq);
        this.timeoutMs = config.requestTimeoutMs ?? 15_000;
        this.where = `Service ${config.namespace}/${config.service}`;
    }
    async read() {
        return this.stateOf(await this.getService('reading'));
    }
    /**
     * Before the switch the colour's Deployment must have finished rolling out; its available
     * replicas are the readiness the cluster itself vouches for. The Service's EndpointSlices only
     * list the pods it selects, so they can speak for a colour only once the Service points at it:
     * then (and after every switch, in route) at least one endpoint must be ready as well.
     */
    async readiness(colour) {
        const deployment = Object.hasOwn(this.config.deployments, colour) ? this.config.deployments[colour] : undefined;
        if (deployment === undefined)
            throw new _provider_js__WEBPACK_IMPORTED_MODULE_3__/* .RouterError */ .KJ(`Kubernetes: ${colour} is not one of ${this.colours.join(', ')}.`);
        const rollout = rolloutOf(await this.getDeployment(colour));
        if (!rollout.done)
            return { ready: false, detail: `Deployment ${deployment}: ${rollout.detail}` };
        const service = await this.getService('reading');
        if (service.spec?.selector?.[this.config.selectorKey] !== colour) {
            return { ready: true, detail: `Deployment ${deployment}: ${rollout.detail}` };
        }
        const endpoints = await this.endpoints(colour);
        return {
            ready: endpoints.ready > 0,
            detail: `Deployment ${deployment}: ${rollout.detail}, ${endpoints.ready} ready endpoint${endpoints.ready === 1 ? '' : 's'}`,
        };
    }
    async route(weights) {
        const target = this.targetOf(weights);
        const key = this.config.selectorKey;
        const before = await this.getService('reading before the switch');
        const previous = before.spec?.selector?.[key];
        let changed = false;
        if (previous !== target) {
            if (Object.keys(before.spec?.selector ?? {}).length === 0) {
                throw new _provider_js__WEBPACK_IMPORTED_MODULE_3__/* .RouterError */ .KJ(`Kubernetes: ${this.where} has no selector (its endpoints are managed by hand), so it cannot be switched by ${key}=${target}. Give it a selector that includes ${key}.`);
            }
            // A Service pointed at a half-rolled-out Deployment sends traffic to old or missing pods.
            const rollout = rolloutOf(await this.getDeployment(target));
            if (!rollout.done) {
                throw new _provider_js__WEBPACK_IMPORTED_MODULE_3__/* .RouterError */ .KJ(`Kubernetes: not switching ${this.where} to ${target}: Deployment ${this.config.namespace}/${this.config.deployments[target]} ${rollout.detail}. Wait for it (kubectl rollout status deployment/${this.config.deployments[target]} -n ${this.config.namespace}), then run the switch again.`);
            }
            await this.patchSelector(before, target, previous);
            changed = true;
        }
        const endpoints = await this.waitForEndpoints(target);
        if (endpoints.ready > 0)
            return;
        const listed = `its EndpointSlices list ${endpoints.total} endpoint${endpoints.total === 1 ? '' : 's'}, none of them a ready pod of Deployment ${this.config.deployments[target]}`;
        if (!changed) {
            throw new _provider_js__WEBPACK_IMPORTED_MODULE_3__/* .RouterError */ .KJ(`Kubernetes: ${this.where} selects ${key}=${target} but ${listed}. Check the pods (kubectl get pods -n ${this.config.namespace}).`);
        }
        throw new _provider_js__WEBPACK_IMPORTED_MODULE_3__/* .RouterError */ .KJ(`Kubernetes: ${this.where} was switched to ${key}=${target}, but ${listed} after ${(this.config.endpointsWaitMs ?? 10_000) / 1000}s; ${await this.putBack(target, previous)}`);
    }
    /** The one colour that takes all traffic; a split is refused, a selector cannot do it. */
    targetOf(weights) {
        const entries = Object.entries(weights);
        const valid = entries.length === 2 &&
            this.colours.every((colour) => Object.hasOwn(weights, colour)) &&
            entries.every(([, share]) => Number.isInteger(share) && share >= 0 && share <= 100) &&
            entries.reduce((sum, [, share]) => sum + share, 0) === 100;
        if (!valid) {
            throw new _provider_js__WEBPACK_IMPORTED_MODULE_3__/* .RouterError */ .KJ(`Kubernetes: weights must give each of ${this.colours.join(', ')} a whole percent, summing to 100; got ${(0,_provider_js__WEBPACK_IMPORTED_MODULE_3__/* .describeWeights */ .Jq)(weights)}.`);
        }
        const target = (0,_provider_js__WEBPACK_IMPORTED_MODULE_3__/* .liveOf */ .QA)(weights);
        if (target === undefined) {
            throw new _provider_js__WEBPACK_IMPORTED_MODULE_3__/* .RouterError */ .KJ(`Kubernetes: a Service selector sends all traffic to one colour and cannot split it (${(0,_provider_js__WEBPACK_IMPORTED_MODULE_3__/* .describeWeights */ .Jq)(weights)}). Switch in one step (0/100) with the kubernetes router, or use a router with weights (nginx, aws-alb).`);
        }
        return target;
    }
    stateOf(service) {
        const selector = service.spec?.selector ?? {};
        const key = this.config.selectorKey;
        const value = selector[key];
        const version = service.metadata?.resourceVersion ?? '?';
        if (value !== undefined && this.colours.includes(value)) {
            return {
                live: value,
                weights: (0,_provider_js__WEBPACK_IMPORTED_MODULE_3__/* .allOn */ .PT)(this.colours, value),
                detail: `${this.where} selects ${key}=${value} (resourceVersion ${version})`,
            };
        }
        const holds = Object.entries(selector)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ');
        const said = value === undefined
            ? `has no ${key} in its selector (${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .quoteUntrusted */ .X0)(holds === '' ? 'empty' : holds)})`
            : `selects ${key}=${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .quoteUntrusted */ .X0)(value, 64)}, neither of ${this.colours.join(', ')}`;
        // Neither colour is selected: no share of the traffic is ours to report.
        return {
            live: undefined,
            weights: Object.fromEntries(this.colours.map((colour) => [colour, 0])),
            detail: `${this.where} ${said} (resourceVersion ${version})`,
        };
    }
    async patchSelector(before, target, previous) {
        const key = this.config.selectorKey;
        const version = before.metadata?.resourceVersion;
        // A merge patch of the one key keeps the other selector keys; the resourceVersion makes it
        // conditional, so a change made since our read is a 409, never overwritten.
        const body = { metadata: { resourceVersion: version }, spec: { selector: { [key]: target } } };
        const call = {
            doing: `patching ${this.where} to select ${key}=${target}`,
            verb: 'patch',
            resource: 'services',
            group: '',
        };
        try {
            await this.core.patchNamespacedService({ name: this.config.service, namespace: this.config.namespace, body, fieldManager: 'deploy-suite' }, this.requestOptions(_kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__/* .PatchStrategy */ .Qve.MergePatch));
            return;
        }
        catch (error) {
            const code = statusOf(error);
            if (code === 409) {
                const now = await this.describeNow();
                throw new _provider_js__WEBPACK_IMPORTED_MODULE_3__/* .RouterError */ .KJ(`Kubernetes: someone else changed ${this.where} while it was being switched (409 Conflict: it is no longer at resourceVersion ${version ?? '?'}), so it was not patched; ${now}. Find out who changed it (kubectl get service ${this.config.service} -n ${this.config.namespace} -o yaml), then run the switch again.`, { cause: error });
            }
            if (code !== undefined && !TRANSIENT.has(code))
                throw await this.failure(call, error, 1);
            // No answer, or the API server's own failure: the patch may have landed. Read it back,
            // never guess (and never repeat the patch blind).
            const failed = this.describeError(error);
            let after;
            try {
                after = await this.getService('reading back after a failed patch');
            }
            catch (readError) {
                throw new _provider_js__WEBPACK_IMPORTED_MODULE_3__/* .RouterError */ .KJ(`Kubernetes: ${call.doing} failed (${failed}), and reading it back failed too (${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .errorMessage */ .gJ)(readError)}). The Service's selector is unknown: check it (kubectl get service ${this.config.service} -n ${this.config.namespace} -o jsonpath='{.spec.selector}') before anything else.`, { cause: error });
            }
            if (after.spec?.selector?.[key] === target)
                return; // it landed; the answer was lost
            throw new _provider_js__WEBPACK_IMPORTED_MODULE_3__/* .RouterError */ .KJ(`Kubernetes: ${call.doing} failed (${failed}); read back, it ${this.stateOf(after).detail.slice(this.where.length + 1)}${previous === after.spec?.selector?.[key] ? ' — unchanged' : ''}. Run the switch again once the API server answers.`, { cause: error });
        }
    }
    /** After a switch that left no ready endpoint: the old selector goes back, if nobody moved it. */
    async putBack(target, previous) {
        const key = this.config.selectorKey;
        try {
            const now = await this.getService('reading before putting the selector back');
            if (now.spec?.selector?.[key] !== target)
                return `it was changed since; ${await this.describeNow()}.`;
            await this.core.patchNamespacedService({
                name: this.config.service,
                namespace: this.config.namespace,
                body: {
                    metadata: { resourceVersion: now.metadata?.resourceVersion },
                    spec: { selector: { [key]: previous ?? null } },
                },
                fieldManager: 'deploy-suite',
            }, this.requestOptions(_kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__/* .PatchStrategy */ .Qve.MergePatch));
            return `it was put back (${await this.describeNow()}). Check the pods of Deployment ${this.config.deployments[target]} (kubectl get pods -n ${this.config.namespace}).`;
        }
        catch (error) {
            return `putting ${key}=${previous ?? '(none)'} back failed (${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .errorMessage */ .gJ)(error)}); ${await this.describeNow()}.`;
        }
    }
    /** What the Service holds now, for a message; a failed read says so rather than guess. */
    async describeNow() {
        try {
            const state = this.stateOf(await this.getService('reading back'));
            return `read back, it ${state.detail.slice(this.where.length + 1)}`;
        }
        catch (error) {
            return `reading it back failed (${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .errorMessage */ .gJ)(error)}), so its selector is unknown`;
        }
    }
    async waitForEndpoints(colour) {
        const clock = this.options.clock ?? _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .systemClock */ .ml;
        const deadline = clock.now() + (this.config.endpointsWaitMs ?? 10_000);
        // The EndpointSlice controller follows a selector change within a moment, not at once.
        for (;;) {
            const endpoints = await this.endpoints(colour);
            if (endpoints.ready > 0 || clock.now() >= deadline)
                return endpoints;
            await clock.sleep(Math.min(500, Math.max(0, deadline - clock.now())));
        }
    }
    async endpoints(colour) {
        const selector = `kubernetes.io/service-name=${this.config.service}`;
        const list = await this.get({
            doing: `listing EndpointSlices of ${this.where} (${selector})`,
            verb: 'list',
            resource: 'endpointslices',
            group: 'discovery.k8s.io',
        }, (options) => this.discovery.listNamespacedEndpointSlice({ namespace: this.config.namespace, labelSelector: selector }, options));
        return countEndpoints(list.items, this.config.deployments[colour]);
    }
    getService(purpose) {
        return this.get({ doing: `${purpose} ${this.where}`, verb: 'get', resource: 'services', group: '' }, (options) => this.core.readNamespacedService({ name: this.config.service, namespace: this.config.namespace }, options));
    }
    getDeployment(colour) {
        const name = this.config.deployments[colour];
        return this.get({
            doing: `reading Deployment ${this.config.namespace}/${name} (${colour})`,
            verb: 'get',
            resource: 'deployments',
            group: 'apps',
        }, (options) => this.apps.readNamespacedDeployment({ name, namespace: this.config.namespace }, options));
    }
    /** A read, retried on throttling and server errors (Retry-After honoured), bounded in time. */
    async get(call, send) {
        try {
            const { value } = await (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .retry */ .L5)(() => send(this.requestOptions()), {
                attempts: 4,
                baseDelayMs: 500,
                maxDelayMs: 4_000,
                deadlineMs: 30_000,
                ...this.options.retry,
                retryable: (error) => {
                    const code = statusOf(error);
                    // A timeout is not retried: one wait of requestTimeoutMs is the most a call may cost.
                    return code === undefined ? isNetworkError(error) : TRANSIENT.has(code);
                },
                retryAfterMs: (error) => error instanceof _kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__/* .ApiException */ .UJ4 ? (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .parseRetryAfter */ .mu)(headerOf(error, 'retry-after')) : undefined,
            });
            return value;
        }
        catch (error) {
            const last = error instanceof _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .RetryExhaustedError */ .aB ? error.lastError : error;
            throw await this.failure(call, last, error instanceof _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .RetryExhaustedError */ .aB ? error.attempts : 1);
        }
    }
    /** Per request: the timeout (an AbortSignal, so a silent server cannot hold the step) and a patch's media type. */
    requestOptions(contentType) {
        const timeoutMs = this.timeoutMs;
        const middleware = {
            pre: (context) => {
                context.setSignal(AbortSignal.timeout(timeoutMs));
                if (contentType !== undefined)
                    context.setHeaderParam('Content-Type', contentType);
                return new _kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__/* .Observable */ .cPK(Promise.resolve(context));
            },
            post: (response) => new _kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__/* .Observable */ .cPK(Promise.resolve(response)),
        };
        return { middleware: [middleware], middlewareMergeStrategy: 'append' };
    }
    /** The failure of a call as a RouterError that says what was done, what the API said, and what next. */
    async failure(call, error, attempts) {
        const code = statusOf(error);
        if (code === undefined && !isTimeout(error) && !isNetworkError(error))
            return error; // a bug: keep its stack
        const head = `Kubernetes: ${call.doing} failed`;
        const said = this.describeError(error);
        const namespace = this.config.namespace;
        let next;
        if (code === 401) {
            next = `the API server at ${this.server} refused the credentials: check the kubeconfig input (an expired or wrong token, or another cluster's).`;
        }
        else if (code === 403) {
            const qualified = call.group === '' ? call.resource : `${call.resource}.${call.group}`;
            next = `the kubeconfig's identity may not ${call.verb} ${qualified} in namespace ${namespace}. Grant it with a Role (and a RoleBinding) in ${namespace} holding the rule {apiGroups: ["${call.group}"], resources: ["${call.resource}"], verbs: ["${call.verb}"]}; the kubernetes router needs get and patch on services, get on deployments (apps) and list on endpointslices (discovery.k8s.io).`;
        }
        else if (code === 404 && call.resource === 'services') {
            next = await this.whichIsMissing();
        }
        else if (code === 404 && call.resource === 'deployments') {
            next = `there is no such Deployment in namespace ${namespace}: check the kubernetes-deployments input (default <service>-<colour>).`;
        }
        else if (code !== undefined && TRANSIENT.has(code)) {
            next = `the API server kept failing (${attempts} attempt${attempts === 1 ? '' : 's'}); it may be overloaded or restarting: run the job again later.`;
        }
        else if (isTimeout(error)) {
            next = `check that ${this.server} is reachable from the runner and the API server is healthy.`;
        }
        else if (code === undefined) {
            next = `could not reach the API server at ${this.server}: check the kubeconfig's cluster address and the runner's network.`;
        }
        else {
            next = 'the API server rejected the request.';
        }
        return new _provider_js__WEBPACK_IMPORTED_MODULE_3__/* .RouterError */ .KJ(`${head} (${said}): ${next}`, { cause: error });
    }
    /** A GET of a Service in a missing namespace is a 404 for the Service; the namespace tells which. */
    async whichIsMissing() {
        const { namespace, service } = this.config;
        try {
            await this.core.readNamespace({ name: namespace }, this.requestOptions());
            return `namespace ${namespace} has no Service ${service}: check the kubernetes-service input (kubectl get services -n ${namespace}).`;
        }
        catch (error) {
            if (statusOf(error) === 404) {
                return `namespace ${namespace} does not exist: check the kubernetes-namespace input (kubectl get namespaces).`;
            }
            return `either namespace ${namespace} or Service ${service} in it does not exist: check the kubernetes-namespace and kubernetes-service inputs.`;
        }
    }
    /** The API's own words (bounded, quoted), or what kept it from answering. */
    describeError(error) {
        if (error instanceof _kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__/* .ApiException */ .UJ4) {
            const status = statusBody(error);
            const reason = typeof status?.reason === 'string' ? ` ${status.reason}` : error.code === 401 ? ' Unauthorized' : '';
            const message = typeof status?.message === 'string' ? `: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .quoteUntrusted */ .X0)((0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .redact */ .E$)(status.message), 300)}` : '';
            return `${error.code}${reason}${message}`;
        }
        if (isTimeout(error))
            return `no answer within ${this.timeoutMs / 1000}s`;
        const cause = error.cause;
        const code = cause?.code;
        return typeof code === 'string' ? `connection failed: ${code}` : (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .quoteUntrusted */ .X0)((0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .errorMessage */ .gJ)(error), 200);
    }
}
/** Rollout done as `kubectl rollout status` decides it, and a zero-replica Deployment is never ready. */
function rolloutOf(deployment) {
    const desired = deployment.spec?.replicas ?? 1;
    const status = deployment.status ?? {};
    const generation = deployment.metadata?.generation ?? 0;
    const observed = status.observedGeneration ?? 0;
    const updated = status.updatedReplicas ?? 0;
    const total = status.replicas ?? 0;
    const available = status.availableReplicas ?? 0;
    const stuck = status.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
    const not = (detail) => ({ done: false, detail });
    if (observed < generation) {
        return not(`has not finished rolling out: the controller has not seen generation ${generation} yet (observed ${observed})`);
    }
    if (stuck)
        return not(`rollout is stuck (ProgressDeadlineExceeded: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .quoteUntrusted */ .X0)(stuck.message ?? '', 200)})`);
    if (desired === 0)
        return not('is scaled to 0 replicas');
    if (updated < desired)
        return not(`has not finished rolling out: ${updated}/${desired} replicas updated`);
    if (total > updated)
        return not(`has not finished rolling out: ${total - updated} old replicas still running`);
    if (available < desired)
        return not(`has not finished rolling out: ${available}/${desired} replicas available`);
    return { done: true, detail: `${desired}/${desired} replicas updated and available` };
}
/**
 * Ready endpoints of the colour's pods. Endpoints name their pod (targetRef); a pod of Deployment
 * d is named d-<template hash>-<5 chars>, which tells its colour while the controller catches up.
 * Dual-stack slices list a pod twice, so pods are counted once. An unset `ready` means ready (API doc).
 */
function countEndpoints(slices, deployment) {
    const ofDeployment = new RegExp(`^${deployment.replace(/[.]/g, '\\.')}-[a-z0-9]+-[a-z0-9]{5}$`);
    const ready = new Set();
    const all = new Set();
    for (const slice of slices) {
        for (const endpoint of slice.endpoints ?? []) {
            const pod = endpoint.targetRef?.kind === 'Pod' ? endpoint.targetRef.name : undefined;
            const id = pod ?? endpoint.addresses.join(',');
            all.add(id);
            if (endpoint.conditions?.ready === false)
                continue;
            if (pod === undefined || ofDeployment.test(pod))
                ready.add(id);
        }
    }
    return { ready: ready.size, total: all.size };
}
function statusOf(error) {
    return error instanceof _kubernetes_client_node__WEBPACK_IMPORTED_MODULE_1__/* .ApiException */ .UJ4 ? error.code : undefined;
}
function headerOf(error, name) {
    return error.headers[name];
}
/** The Status object the API server sends with an error (the client hands it over as text). */
function statusBody(error) {
    const body = error.body;
    if (typeof body === 'object' && body !== null)
        return body;
    if (typeof body !== 'string')
        return undefined;
    try {
        const parsed = JSON.parse(body);
        return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
    }
    catch {
        return undefined;
    }
}
/** The AbortSignal's DOMException (not always `instanceof Error`: it may come from another realm). */
function isTimeout(error) {
    const name = error?.name;
    return name === 'TimeoutError' || name === 'AbortError';
}
/** undici's fetch reports a refused or reset connection as "fetch failed" with the system error as cause. */
function isNetworkError(error) {
    if ((0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .isSystemError */ .Or)(error))
        return true;
    const cause = error?.cause;
    return cause !== undefined && (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_2__/* .isSystemError */ .Or)(cause);
}


/***/ })

};
