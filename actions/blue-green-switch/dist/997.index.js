export const id = 997;
export const ids = [997];
export const modules = {

/***/ 9997:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   createAlbProvider: () => (/* binding */ createAlbProvider),
/* harmony export */   readAlbConfig: () => (/* binding */ readAlbConfig)
/* harmony export */ });
/* harmony import */ var _aws_sdk_client_elastic_load_balancing_v2__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(3518);
/* harmony import */ var _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(2592);
/* harmony import */ var zod__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(7219);
/* harmony import */ var _provider_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(4831);




const PARTITION = 'aws[a-z-]*';
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d+';
const NAME = '[A-Za-z0-9-]{1,32}';
const ID = '[0-9a-f]{6,32}';
const ELB_ARN = new RegExp(`^arn:${PARTITION}:elasticloadbalancing:(${REGION}):(\\d{12}):([a-z-]+)/`);
const LISTENER_ARN = new RegExp(`^arn:${PARTITION}:elasticloadbalancing:${REGION}:\\d{12}:listener/(?:app|net)/${NAME}/${ID}/${ID}$`);
const RULE_ARN = new RegExp(`^arn:${PARTITION}:elasticloadbalancing:${REGION}:\\d{12}:listener-rule/(?:app|net)/${NAME}/${ID}/${ID}/${ID}$`);
const TARGET_GROUP_ARN = new RegExp(`^arn:${PARTITION}:elasticloadbalancing:${REGION}:\\d{12}:targetgroup/${NAME}/${ID}$`);
const EXAMPLE_LISTENER = 'alb-listener-arn: arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2';
const EXAMPLE_RULE = 'alb-rule-arn: arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
const exampleGroups = (colours) => `alb-target-groups: "${colours
    .map((colour) => `${colour}: arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-${colour}/73e2d6bc24d8a067`)
    .join(', ')}"`;
/** The kind of ELB resource an ARN names ("listener", "targetgroup"…), with its region and account. */
function arnParts(arn) {
    const match = ELB_ARN.exec(arn);
    return match === null ? undefined : { region: match[1], account: match[2], kind: match[3] };
}
function checkArn(input, value, pattern, wanted, example) {
    if (pattern.test(value))
        return;
    const kind = arnParts(value)?.kind;
    const shown = (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)(value, 160);
    if (kind !== undefined && kind !== wanted) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(input, `must be an elasticloadbalancing ${wanted} ARN, got a ${kind} ARN: ${shown}`, example);
    }
    throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(input, `must be an elasticloadbalancing ${wanted} ARN, got ${shown}`, example);
}
/**
 * The aws-alb settings from the action's inputs: which listener (or rule) to switch, the target
 * group of each colour, and where the API is. Credentials are not inputs: the SDK's standard
 * chain finds them (aws-actions/configure-aws-credentials with GitHub OIDC sets them up).
 */
function readAlbConfig(inputs, colours) {
    const listenerArn = inputs.optional('alb-listener-arn');
    const ruleArn = inputs.optional('alb-rule-arn');
    if (listenerArn !== undefined && ruleArn !== undefined) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('alb-listener-arn', "and 'alb-rule-arn' were both given; give the listener to switch its default action, or the rule, not both", EXAMPLE_LISTENER);
    }
    if (listenerArn === undefined && ruleArn === undefined) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('alb-listener-arn', "is required for router: aws-alb (or 'alb-rule-arn' to switch one listener rule) but both were empty", EXAMPLE_LISTENER);
    }
    if (listenerArn !== undefined) {
        if (arnParts(listenerArn)?.kind === 'listener-rule') {
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('alb-listener-arn', "names a listener rule: give it as 'alb-rule-arn' instead", EXAMPLE_RULE);
        }
        checkArn('alb-listener-arn', listenerArn, LISTENER_ARN, 'listener', EXAMPLE_LISTENER);
    }
    else {
        checkArn('alb-rule-arn', ruleArn, RULE_ARN, 'listener-rule', EXAMPLE_RULE);
    }
    const routerInput = listenerArn === undefined ? 'alb-rule-arn' : 'alb-listener-arn';
    const routerArn = arnParts((listenerArn ?? ruleArn));
    const targetGroups = readTargetGroups(inputs, colours, routerArn, routerInput);
    const region = inputs.optional('aws-region');
    if (region !== undefined && region !== routerArn.region) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('aws-region', `is ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)(region, 40)} but the ${routerInput} is in ${routerArn.region}; leave it empty to use the ARN's region`, `aws-region: ${routerArn.region}`);
    }
    const endpoint = inputs.url('aws-endpoint', {
        example: 'aws-endpoint: https://elasticloadbalancing.eu-west-1.amazonaws.com',
    });
    return {
        ...(listenerArn === undefined ? { ruleArn: ruleArn } : { listenerArn }),
        targetGroups,
        colours: [colours[0], colours[1]],
        region: routerArn.region,
        ...(endpoint === undefined ? {} : { endpoint: endpoint.href }),
    };
}
function readTargetGroups(inputs, colours, routerArn, routerInput) {
    const input = 'alb-target-groups';
    const example = exampleGroups(colours);
    let text = inputs.optional(input);
    if (text === undefined)
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(input, 'is required for router: aws-alb but was empty', example);
    // One line "blue: arn…, green: arn…" is read as the flow map it stands for.
    if (!text.includes('\n') && !text.startsWith('{'))
        text = `{${text}}`;
    const map = (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .parseStructured */ .jE)(input, text, zod__WEBPACK_IMPORTED_MODULE_2__/* .record */ .g1P(zod__WEBPACK_IMPORTED_MODULE_2__/* .string */ .YjP(), zod__WEBPACK_IMPORTED_MODULE_2__/* .string */ .YjP()), example);
    const groups = {};
    for (const [colour, arn] of Object.entries(map)) {
        if (!colours.includes(colour)) {
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(input, `names ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)(colour, 40)}, which is not one of the colours (${colours.join(', ')})`, example);
        }
        checkArn(input, arn.trim(), TARGET_GROUP_ARN, 'targetgroup', example);
        const parts = arnParts(arn.trim());
        if (parts.region !== routerArn.region || parts.account !== routerArn.account) {
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(input, `gives ${colour} a target group in ${parts.region}/${parts.account}, but the ${routerInput} is in ` +
                `${routerArn.region}/${routerArn.account}: a listener forwards only to target groups of its own region and account`, example);
        }
        groups[colour] = arn.trim();
    }
    for (const colour of colours) {
        if (groups[colour] === undefined)
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(input, `has no target group for ${colour}`, example);
    }
    if (groups[colours[0]] === groups[colours[1]]) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(input, `gives ${colours[0]} and ${colours[1]} the same target group`, example);
    }
    return groups;
}
const THROTTLING = new Set([
    'Throttling',
    'ThrottlingException',
    'ThrottledException',
    'RequestLimitExceeded',
    'PriorRequestNotComplete',
    'TooManyRequestsException',
]);
function faultOf(error) {
    const e = (typeof error === 'object' && error !== null ? error : {});
    const raw = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : 'Error';
    // The SDK names modelled errors "ListenerNotFoundException"; the wire code is "ListenerNotFound".
    const code = raw.replace(/(NotFound|NotPermitted)Exception$/, '$1');
    const timedOut = code === 'TimeoutError' || e.code === 'ETIMEDOUT' || code === 'RequestTimeout';
    return {
        code,
        status: e.$metadata?.httpStatusCode,
        said: (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)((0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(error).replace(/\s+/g, ' '), 300),
        timedOut,
        throttled: THROTTLING.has(code),
    };
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * An Application (or Network) Load Balancer through the AWS SDK v3: the listener's default
 * forward action (or one rule's) holds both colours' target groups, and a switch is one
 * ModifyListener (ModifyRule) call that changes only their weights, then reads them back.
 *
 * Weights: the percent is written as the ELB weight itself (0–100 of ELB's 0–999), so the console
 * shows the split as it is; the idle colour stays in the action at weight 0, which keeps its
 * target group in use, so the load balancer keeps health-checking it. Reading converts whatever
 * weights the action holds (written by anyone, 0–999) to whole percent.
 */
class AlbProvider {
    name = 'aws-alb';
    supportsWeights = true;
    colours;
    config;
    kind;
    arn;
    timeoutMs;
    /** Reads: the SDK's standard retry strategy retries throttling and timeouts with backoff. */
    reader;
    /** Writes: one attempt. A write that failed may have landed; only a read-back can tell. */
    writer;
    constructor(config) {
        if ((config.listenerArn === undefined) === (config.ruleArn === undefined)) {
            throw new Error('aws-alb: exactly one of listenerArn and ruleArn must be set');
        }
        this.config = config;
        this.colours = config.colours;
        this.kind = config.listenerArn === undefined ? 'rule' : 'listener';
        this.arn = (config.listenerArn ?? config.ruleArn);
        this.timeoutMs = config.requestTimeoutMs ?? 15_000;
        const common = {
            region: config.region ?? arnParts(this.arn)?.region,
            ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
            // requestTimeout alone only logs a warning; throwOnRequestTimeout makes a silent API fail
            // the call instead of holding the step.
            requestHandler: {
                connectionTimeout: this.timeoutMs,
                requestTimeout: this.timeoutMs,
                throwOnRequestTimeout: true,
            },
        };
        this.reader = new _aws_sdk_client_elastic_load_balancing_v2__WEBPACK_IMPORTED_MODULE_3__/* .ElasticLoadBalancingV2Client */ .MlD({ ...common, maxAttempts: 4 });
        // Same credentials (one web-identity exchange under OIDC, not two).
        this.writer = new _aws_sdk_client_elastic_load_balancing_v2__WEBPACK_IMPORTED_MODULE_3__/* .ElasticLoadBalancingV2Client */ .MlD({
            ...common,
            maxAttempts: 1,
            credentials: this.reader.config.credentials,
        });
    }
    get what() {
        return `${this.kind} ${shortArn(this.arn)}`;
    }
    get describeAction() {
        return this.kind === 'listener' ? 'DescribeListeners' : 'DescribeRules';
    }
    get modifyAction() {
        return this.kind === 'listener' ? 'ModifyListener' : 'ModifyRule';
    }
    async read() {
        return this.stateOf(await this.actions());
    }
    async readiness(colour) {
        const arn = this.config.targetGroups[colour];
        if (arn === undefined)
            throw new Error(`aws-alb: ${colour} is not one of ${this.colours.join(', ')}`);
        let descriptions;
        try {
            const answer = await this.reader.send(new _aws_sdk_client_elastic_load_balancing_v2__WEBPACK_IMPORTED_MODULE_3__/* .DescribeTargetHealthCommand */ .qyg({ TargetGroupArn: arn }));
            descriptions = answer.TargetHealthDescriptions ?? [];
        }
        catch (error) {
            throw this.failure('DescribeTargetHealth', arn, error);
        }
        const counts = new Map();
        const reasons = new Set();
        for (const description of descriptions) {
            const state = safeWord(description.TargetHealth?.State ?? 'unknown');
            counts.set(state, (counts.get(state) ?? 0) + 1);
            if (state !== 'healthy' && description.TargetHealth?.Reason !== undefined) {
                reasons.add(safeWord(description.TargetHealth.Reason));
            }
        }
        const healthy = counts.get('healthy') ?? 0;
        const group = `target group ${shortArn(arn)}`;
        if (descriptions.length === 0) {
            return { ready: false, detail: `${group} has no registered targets` };
        }
        const others = [...counts].filter(([state]) => state !== 'healthy').map(([state, n]) => `${n} ${state}`);
        let detail = `${group}: ${healthy}/${descriptions.length} targets healthy`;
        if (others.length > 0)
            detail += ` (${others.join(', ')}${reasons.size > 0 ? `: ${[...reasons].join(', ')}` : ''})`;
        if (healthy === 0 && counts.get('unused') === descriptions.length) {
            detail +=
                '; the load balancer does not health-check a target group that no listener forwards to: add it to the forward action at weight 0 (every switch made here keeps both colours in it)';
        }
        // Ready as soon as one target is healthy: the load balancer sends traffic only to healthy
        // targets; the counts are reported so the health gate above can ask for more.
        return { ready: healthy > 0, detail };
    }
    async route(weights) {
        this.checkWeights(weights);
        const before = await this.actions();
        const current = this.forwardOf(before);
        const now = this.stateOf(before).weights;
        if (this.colours.every((colour) => now[colour] === weights[colour]) && this.exact(current, weights))
            return;
        const actions = this.replaceForward(before, current, weights);
        for (let attempt = 1;; attempt += 1) {
            try {
                await this.modify(actions);
                break;
            }
            catch (error) {
                const fault = faultOf(error);
                const failure = this.failure(this.modifyAction, this.arn, error);
                let after;
                let readError;
                try {
                    after = await this.actions();
                    this.forwardOf(after);
                }
                catch (e) {
                    after = undefined;
                    readError = e;
                }
                if (after !== undefined && this.exact(this.forwardOf(after), weights)) {
                    (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .warning */ .$e)(`${failure.message} Read back, the ${this.what} holds the weights asked for: the change landed.`);
                    return;
                }
                // A throttled write was refused before it was carried out; it is sent again only when the
                // read-back shows the action exactly as it was, and never after a timeout (it may still land).
                const unchanged = after !== undefined && sameTuples(this.forwardOf(after), current);
                if (fault.throttled && unchanged && attempt < 3) {
                    await sleep(1000 * attempt);
                    continue;
                }
                const holds = after === undefined
                    ? `could not be read back, so what it holds now is unknown (${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(readError)})`
                    : `reads back: ${this.describe(after)}${unchanged ? ' (unchanged)' : ''}`;
                const timeoutNote = fault.timedOut
                    ? ` The call was not sent again: it may still land. Check the ${this.kind} in the EC2 console before re-running.`
                    : '';
                throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`${failure.message} The ${this.what} ${holds}.${timeoutNote}`, { cause: error });
            }
        }
        const after = this.stateOf(await this.actions());
        if (!this.colours.every((colour) => after.weights[colour] === weights[colour])) {
            throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`AWS ELBv2 ${this.modifyAction} on ${this.what} was accepted, but it reads back as ${(0,_provider_js__WEBPACK_IMPORTED_MODULE_1__/* .describeWeights */ .Jq)(after.weights)} ` +
                `instead of ${(0,_provider_js__WEBPACK_IMPORTED_MODULE_1__/* .describeWeights */ .Jq)(weights)} (${after.detail}); another change may have raced this one: check the ${this.kind} before re-running.`);
        }
    }
    checkWeights(weights) {
        const keys = Object.keys(weights).sort();
        const ok = keys.length === 2 &&
            this.colours.every((colour) => Number.isInteger(weights[colour]) && weights[colour] >= 0 && weights[colour] <= 100) &&
            this.colours.reduce((sum, colour) => sum + weights[colour], 0) === 100;
        if (!ok) {
            throw new Error(`aws-alb: weights must give ${this.colours.join(' and ')} whole percent summing to 100, got ${JSON.stringify(weights)}`);
        }
    }
    /** The resource's actions, as the API reports them now. */
    async actions() {
        try {
            if (this.kind === 'listener') {
                const answer = await this.reader.send(new _aws_sdk_client_elastic_load_balancing_v2__WEBPACK_IMPORTED_MODULE_3__/* .DescribeListenersCommand */ .AKE({ ListenerArns: [this.arn] }));
                const listener = answer.Listeners?.find((l) => l.ListenerArn === this.arn);
                if (listener === undefined)
                    throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`AWS ELBv2 DescribeListeners did not return ${this.what}.`);
                return listener.DefaultActions ?? [];
            }
            const answer = await this.reader.send(new _aws_sdk_client_elastic_load_balancing_v2__WEBPACK_IMPORTED_MODULE_3__/* .DescribeRulesCommand */ .Ggo({ RuleArns: [this.arn] }));
            const rule = answer.Rules?.find((r) => r.RuleArn === this.arn);
            if (rule === undefined)
                throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`AWS ELBv2 DescribeRules did not return ${this.what}.`);
            return rule.Actions ?? [];
        }
        catch (error) {
            if (error instanceof _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ)
                throw error;
            throw this.failure(this.describeAction, this.arn, error);
        }
    }
    async modify(actions) {
        if (this.kind === 'listener') {
            await this.writer.send(new _aws_sdk_client_elastic_load_balancing_v2__WEBPACK_IMPORTED_MODULE_3__/* .ModifyListenerCommand */ .ugc({ ListenerArn: this.arn, DefaultActions: actions }));
        }
        else {
            await this.writer.send(new _aws_sdk_client_elastic_load_balancing_v2__WEBPACK_IMPORTED_MODULE_3__/* .ModifyRuleCommand */ .y5P({ RuleArn: this.arn, Actions: actions }));
        }
    }
    forwardOf(actions) {
        const indexes = actions.flatMap((action, index) => (action.Type === 'forward' ? [index] : []));
        if (indexes.length !== 1) {
            const types = actions.map((action) => safeWord(action.Type ?? 'unknown')).join(', ') || 'none';
            throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`The ${this.what} has ${indexes.length === 0 ? 'no' : 'more than one'} forward action (its actions: ${types}); ` +
                `the switch changes the weights of one forward action: point ${this.kind === 'listener' ? 'alb-listener-arn' : 'alb-rule-arn'} ` +
                `at the ${this.kind} that forwards to the colours' target groups.`);
        }
        const index = indexes[0];
        const action = actions[index];
        const listed = action.ForwardConfig?.TargetGroups ?? [];
        let tuples;
        if (listed.length > 0) {
            tuples = listed.map((tuple) => {
                const arn = tuple.TargetGroupArn ?? '';
                if (tuple.Weight === undefined && listed.length > 1) {
                    throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`The ${this.what} forwards to ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)(arn, 160)} without a weight; the split cannot be read.`);
                }
                return { arn, weight: tuple.Weight ?? 1 };
            });
        }
        else if (action.TargetGroupArn !== undefined) {
            // The single-target-group form (before weighted forwarding): all traffic to it.
            tuples = [{ arn: action.TargetGroupArn, weight: 1 }];
        }
        else {
            throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`The ${this.what}'s forward action names no target group.`);
        }
        const known = new Set(Object.values(this.config.targetGroups));
        const foreign = tuples.filter((tuple) => !known.has(tuple.arn));
        if (foreign.length > 0) {
            throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`The ${this.what} forwards to ${foreign.map((t) => `${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)(t.arn, 160)} (weight ${t.weight})`).join(', ')}, ` +
                `which is not the target group of ${this.colours.join(' or ')} (alb-target-groups); ` +
                'the switch will not guess what that traffic is: fix alb-target-groups, or move the traffic off it first.');
        }
        return { index, tuples, stickiness: action.ForwardConfig?.TargetGroupStickinessConfig };
    }
    stateOf(actions) {
        const forward = this.forwardOf(actions);
        const raw = this.colours.map((colour) => forward.tuples.find((t) => t.arn === this.config.targetGroups[colour])?.weight ?? 0);
        const total = raw.reduce((sum, weight) => sum + weight, 0);
        if (total === 0) {
            throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`The ${this.what} gives every target group weight 0: it forwards no traffic to either colour.`);
        }
        const weights = toPercent(this.colours, raw, total);
        return { live: (0,_provider_js__WEBPACK_IMPORTED_MODULE_1__/* .liveOf */ .QA)(weights), weights, detail: `${this.what} ${this.describe(actions)}` };
    }
    /** "forwards to blue (shop-blue) weight 90, green (shop-green) weight 10; stickiness 300s". */
    describe(actions) {
        const forward = this.forwardOf(actions);
        const parts = this.colours.map((colour) => {
            const arn = this.config.targetGroups[colour];
            const weight = forward.tuples.find((t) => t.arn === arn)?.weight;
            return `${colour} (${targetGroupName(arn)}) ${weight === undefined ? 'not listed' : `weight ${weight}`}`;
        });
        const sticky = forward.stickiness?.Enabled ? `; stickiness ${forward.stickiness.DurationSeconds ?? '?'} s` : '';
        return `forwards to ${parts.join(', ')}${sticky}`;
    }
    /** Whether the action's weights are exactly the percentages (both colours listed, nothing else). */
    exact(forward, weights) {
        return (forward.tuples.length === 2 &&
            this.colours.every((colour) => forward.tuples.find((t) => t.arn === this.config.targetGroups[colour])?.weight === weights[colour]));
    }
    /**
     * The action list to send: every action as it was, the forward action with only its target
     * groups and weights replaced (stickiness kept). An OIDC action is read back without its
     * client secret, so it is sent with UseExistingClientSecret, which keeps the stored one.
     */
    replaceForward(actions, forward, weights) {
        return actions.map((action, index) => {
            if (index === forward.index) {
                // The single-target-group field goes: the API rejects it beside two target groups.
                const rest = { ...action };
                delete rest.TargetGroupArn;
                return {
                    ...rest,
                    ForwardConfig: {
                        ...action.ForwardConfig,
                        TargetGroups: this.colours.map((colour) => ({
                            TargetGroupArn: this.config.targetGroups[colour],
                            Weight: weights[colour],
                        })),
                    },
                };
            }
            if (action.Type === 'authenticate-oidc' && action.AuthenticateOidcConfig?.ClientSecret === undefined) {
                return {
                    ...action,
                    AuthenticateOidcConfig: { ...action.AuthenticateOidcConfig, UseExistingClientSecret: true },
                };
            }
            return action;
        });
    }
    /** A RouterError that names the API call, the resource, what AWS said, and the next step. */
    failure(action, arn, error) {
        if (error instanceof _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ)
            return error;
        const fault = faultOf(error);
        const head = `AWS ELBv2 ${action} on ${shortArn(arn)} failed`;
        let next;
        if (fault.code === 'CredentialsProviderError' || /could not load credentials/i.test(fault.said)) {
            next =
                'no AWS credentials were found: configure them before this step, e.g. aws-actions/configure-aws-credentials ' +
                    'with role-to-assume (GitHub OIDC; the job needs permissions: id-token: write).';
        }
        else if (/^(AccessDenied|AccessDeniedException|UnauthorizedOperation|OperationNotPermitted)$/.test(fault.code)) {
            next =
                `the role was refused: grant it elasticloadbalancing:${action} on ${arn} ` +
                    '(the switch needs elasticloadbalancing:DescribeListeners, DescribeRules, DescribeTargetHealth, ModifyListener or ModifyRule).';
        }
        else if (fault.status === 403) {
            next = 'the credentials were refused (expired or invalid): check the step that configures AWS credentials.';
        }
        else if (/^(ListenerNotFound|RuleNotFound|TargetGroupNotFound)$/.test(fault.code)) {
            const thing = {
                ListenerNotFound: 'listener',
                RuleNotFound: 'listener rule',
                TargetGroupNotFound: 'target group',
            }[fault.code];
            const named = fault.code === 'TargetGroupNotFound' && action.startsWith('Modify')
                ? Object.values(this.config.targetGroups).join(' or ')
                : arn;
            next = `no such ${thing}: ${named} (in ${arnParts(arn)?.region ?? 'its region'}); check alb-listener-arn, alb-rule-arn and alb-target-groups.`;
        }
        else if (fault.timedOut) {
            next = `no answer within ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .formatDuration */ .a3)(this.timeoutMs)}.`;
        }
        else if (fault.throttled) {
            next = 'AWS kept throttling the call: too many ELB API calls in this account; re-run the job later.';
        }
        else if (fault.status !== undefined && fault.status >= 500) {
            next = 'AWS had an internal error; see https://health.aws.amazon.com and re-run the job later.';
        }
        else {
            next = 'AWS refused the request; its message says why.';
        }
        return new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`${head} (${fault.status ?? 'no answer'} ${fault.code}: ${fault.said}): ${next}`, {
            cause: error,
        });
    }
}
/** ELB weights (any scale) as whole percent summing to 100: largest remainders round up. */
function toPercent(colours, raw, total) {
    const exact = raw.map((weight) => (weight * 100) / total);
    const floors = exact.map(Math.floor);
    let left = 100 - floors.reduce((sum, n) => sum + n, 0);
    const order = exact.map((value, i) => ({ i, rest: value - floors[i] })).sort((a, b) => b.rest - a.rest || a.i - b.i);
    for (const { i } of order) {
        if (left <= 0)
            break;
        floors[i] += 1;
        left -= 1;
    }
    return Object.fromEntries(colours.map((colour, i) => [colour, floors[i]]));
}
function sameTuples(a, b) {
    const key = (f) => f.tuples
        .map((t) => `${t.arn}=${t.weight}`)
        .sort()
        .join(',');
    return key(a) === key(b);
}
/** "app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2" from a listener ARN: enough to find it in the console. */
function shortArn(arn) {
    return arn.replace(/^arn:[^:]*:elasticloadbalancing:[^:]*:\d*:(?:listener-rule|listener|targetgroup)\//, '');
}
function targetGroupName(arn) {
    return /targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? shortArn(arn);
}
/** A remote enum value or reason code for the log: as it is when it is one plain word, else quoted. */
function safeWord(text) {
    return /^[A-Za-z0-9._-]{1,64}$/.test(text) ? text : (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)(text, 64);
}
/** The aws-alb router (see AlbProvider). */
function createAlbProvider(config) {
    return new AlbProvider(config);
}


/***/ })

};
