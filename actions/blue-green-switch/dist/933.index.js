export const id = 933;
export const ids = [933];
export const modules = {

/***/ 933:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   createCommandProvider: () => (/* binding */ createCommandProvider),
/* harmony export */   readCommandConfig: () => (/* binding */ readCommandConfig)
/* harmony export */ });
/* harmony import */ var _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(2592);
/* harmony import */ var _provider_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(4831);
/* harmony import */ var _run_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(1505);



const EXAMPLE = 'switch-command: ./deploy/switch.sh';
function readCommandConfig(inputs, colours) {
    return {
        colours,
        status: inputs.required('status-command', { example: 'status-command: ./deploy/live-colour.sh' }),
        switch: inputs.required('switch-command', { example: EXAMPLE }),
        rollback: inputs.optional('rollback-command'),
        readiness: inputs.optional('readiness-command'),
        supportsWeights: inputs.boolean('command-supports-weights', false),
        commandTimeoutMs: inputs.duration('command-timeout', '30s', { minMs: 1000 }),
    };
}
/**
 * The team's own commands, run with @actions/exec: the command line is split into arguments by
 * @actions/exec (no shell), and every value reaches the command as an environment variable, so
 * nothing the action knows is ever interpolated into a command string.
 */
function createCommandProvider(config) {
    const run = (name, commandLine, variables) => {
        // The runner's environment without the step's inputs (a token among them) and with the values.
        const env = Object.fromEntries(Object.entries({ ...process.env, ...variables }).filter((entry) => entry[1] !== undefined && !entry[0].startsWith('INPUT_')));
        return (0,_run_js__WEBPACK_IMPORTED_MODULE_2__/* .runCommandLine */ .r)(commandLine, { what: `the ${name} command`, timeoutMs: config.commandTimeoutMs, env });
    };
    const colourVars = { DEPLOY_COLOURS: config.colours.join(',') };
    return {
        name: 'command',
        colours: config.colours,
        supportsWeights: config.supportsWeights,
        async read() {
            const result = await run('status', config.status, colourVars);
            if (result.exitCode !== 0) {
                throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`The status command exited ${result.exitCode}: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)(result.stderr.trim(), 300)}`);
            }
            const said = result.stdout.trim();
            const weights = parseStatus(said, config.colours);
            if (weights === undefined) {
                throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`The status command printed ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)(said, 200)}: expected one of ${config.colours.join(', ')} or weights as JSON such as {"${config.colours[0]}":90,"${config.colours[1]}":10}`);
            }
            return { live: (0,_provider_js__WEBPACK_IMPORTED_MODULE_1__/* .liveOf */ .QA)(weights), weights, detail: `status command: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)(said, 200)}` };
        },
        async readiness(colour) {
            if (config.readiness === undefined)
                return undefined;
            const result = await run('readiness', config.readiness, { ...colourVars, DEPLOY_COLOUR: colour });
            const detail = (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)((result.stdout || result.stderr).trim() || `exit ${result.exitCode}`, 300);
            return { ready: result.exitCode === 0, detail };
        },
        async route(weights, context) {
            const rollback = context?.reason === 'rollback' && config.rollback !== undefined;
            const name = rollback ? 'rollback' : 'switch';
            const target = (0,_provider_js__WEBPACK_IMPORTED_MODULE_1__/* .liveOf */ .QA)(weights);
            const result = await run(name, rollback ? config.rollback : config.switch, {
                ...colourVars,
                DEPLOY_TARGET_COLOUR: target ?? '',
                DEPLOY_WEIGHTS: JSON.stringify(weights),
                DEPLOY_REASON: context?.reason ?? 'switch',
            });
            if (result.exitCode !== 0) {
                throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`The ${name} command exited ${result.exitCode}: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .quoteUntrusted */ .X0)(result.stderr.trim(), 600)}`);
            }
        },
    };
}
/** "green", or {"blue":90,"green":10}: anything else is not a state. */
function parseStatus(text, colours) {
    const name = text.toLowerCase();
    if (colours.includes(name))
        return Object.fromEntries(colours.map((c) => [c, c === name ? 100 : 0]));
    try {
        const parsed = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
            return undefined;
        const entries = Object.entries(parsed);
        if (!entries.every(([colour, share]) => colours.includes(colour) && Number.isInteger(share) && share >= 0)) {
            return undefined;
        }
        const total = entries.reduce((sum, [, share]) => sum + share, 0);
        if (total !== 100)
            return undefined;
        return Object.fromEntries(colours.map((c) => [c, parsed[c] ?? 0]));
    }
    catch {
        return undefined;
    }
}


/***/ }),

/***/ 1505:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   d: () => (/* binding */ runCommand),
/* harmony export */   r: () => (/* binding */ runCommandLine)
/* harmony export */ });
/* harmony import */ var _actions_exec__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(9846);
/* harmony import */ var _provider_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(4831);


/**
 * Runs a program with an argument array through @actions/exec (no shell), under coreutils'
 * `timeout`: at the limit the program is sent TERM, then KILL five seconds later, so a command
 * that hangs is stopped rather than left running behind a step that has moved on.
 */
function runCommand(command, args, options) {
    return run((seconds) => ['timeout', ['--kill-after=5', String(seconds), command, ...args]], command, options);
}
/**
 * The same for a command line a person wrote ("./switch.sh --fast"): @actions/exec splits it
 * into arguments by its quoting rules, with no shell, after the `timeout` prefix.
 */
function runCommandLine(commandLine, options) {
    if (commandLine.trim() === '')
        return Promise.reject(new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`${options.what} is empty`));
    return run((seconds) => [`timeout --kill-after=5 ${seconds} ${commandLine.trim()}`, []], commandLine, options);
}
async function run(build, command, options) {
    const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
    const [tool, args] = build(seconds);
    let result;
    try {
        result = await (0,_actions_exec__WEBPACK_IMPORTED_MODULE_0__/* .getExecOutput */ .H)(tool, args, {
            silent: true,
            ignoreReturnCode: true,
            ...(options.input === undefined ? {} : { input: Buffer.from(options.input) }),
            // Always the environment this code sees (a child could otherwise get another process's).
            env: options.env ?? definedEntries(process.env),
        });
    }
    catch (error) {
        throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`Could not run ${options.what}: ${error.message}`);
    }
    // timeout exits 124 when it stopped the program, 137 when it had to kill it.
    if (result.exitCode === 124 || result.exitCode === 137) {
        throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`${options.what} did not finish within ${seconds}s and was stopped`);
    }
    if (result.exitCode === 127 && /No such file|not found/i.test(result.stderr)) {
        throw new _provider_js__WEBPACK_IMPORTED_MODULE_1__/* .RouterError */ .KJ(`Could not run ${options.what}: ${command.split(/\s/, 1)[0]} was not found`);
    }
    return result;
}
function definedEntries(env) {
    return Object.fromEntries(Object.entries(env).filter((entry) => entry[1] !== undefined));
}


/***/ })

};
