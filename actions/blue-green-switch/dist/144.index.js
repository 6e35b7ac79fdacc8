export const id = 144;
export const ids = [144];
export const modules = {

/***/ 2144:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   cleanUpSsh: () => (/* binding */ cleanUpSsh),
/* harmony export */   createNginxProvider: () => (/* binding */ createNginxProvider),
/* harmony export */   readNginxConfig: () => (/* binding */ readNginxConfig)
/* harmony export */ });
/* unused harmony exports shellQuote, renderUpstream, parseUpstream */
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8161);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_os__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(6760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(2592);
/* harmony import */ var zod__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(7219);
/* harmony import */ var _provider_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(4831);
/* harmony import */ var _run_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(1505);







const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const ADDRESS = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$|^unix:\/[\w./-]+$/;
const SERVERS_EXAMPLE = 'nginx-servers: |\n  blue: 10.0.1.10:8080\n  green: [10.0.2.10:8080, 10.0.2.11:8080]';
/** Reads the nginx provider's inputs; every bad value is an InputError naming its input. */
function readNginxConfig(inputs, colours) {
    const include = inputs.required('nginx-include', { example: 'nginx-include: /etc/nginx/conf.d/shop-live.conf' });
    if (!include.startsWith('/') || /[\s;{}'"$\\]/.test(include)) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz('nginx-include', `must be an absolute path without spaces or quotes, got "${include}"`, 'nginx-include: /etc/nginx/conf.d/shop-live.conf');
    }
    const upstream = inputs.string('nginx-upstream', 'live');
    if (!NAME.test(upstream)) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz('nginx-upstream', `must be an nginx upstream name (letters, digits, _ and -), got "${upstream}"`, 'nginx-upstream: shop_live');
    }
    const schema = zod__WEBPACK_IMPORTED_MODULE_6__/* .record */ .g1P(zod__WEBPACK_IMPORTED_MODULE_6__/* .string */ .YjP(), zod__WEBPACK_IMPORTED_MODULE_6__/* .union */ .KCZ([zod__WEBPACK_IMPORTED_MODULE_6__/* .string */ .YjP(), zod__WEBPACK_IMPORTED_MODULE_6__/* .array */ .YOg(zod__WEBPACK_IMPORTED_MODULE_6__/* .string */ .YjP()).min(1)]));
    const raw = inputs.structured('nginx-servers', schema, { required: true, example: SERVERS_EXAMPLE });
    const servers = {};
    for (const [colour, value] of Object.entries(raw)) {
        if (!colours.includes(colour)) {
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz('nginx-servers', `names "${colour}", which is not one of the colours ${colours.join(', ')}`, SERVERS_EXAMPLE);
        }
        const addresses = (Array.isArray(value) ? value : value.split(/[\s,]+/))
            .map((a) => a.trim())
            .filter((a) => a !== '');
        const bad = addresses.find((address) => !ADDRESS.test(address));
        if (bad !== undefined || addresses.length === 0) {
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz('nginx-servers', `has "${bad ?? ''}" for ${colour}: each server is host:port`, SERVERS_EXAMPLE);
        }
        servers[colour] = addresses;
    }
    const missing = colours.find((colour) => servers[colour] === undefined);
    if (missing !== undefined)
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz('nginx-servers', `has no servers for ${missing}`, SERVERS_EXAMPLE);
    const shared = servers[colours[0]].find((address) => servers[colours[1]].includes(address));
    if (shared !== undefined) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz('nginx-servers', `lists ${shared} for both colours: a switch would change nothing`, SERVERS_EXAMPLE);
    }
    return {
        colours,
        include,
        upstream,
        servers,
        conf: inputs.optional('nginx-conf'),
        binary: inputs.string('nginx-binary', 'nginx'),
        ssh: readSsh(inputs),
        commandTimeoutMs: inputs.duration('command-timeout', '30s', { minMs: 1000 }),
    };
}
function readSsh(inputs) {
    const key = inputs.secret('ssh-key');
    const host = inputs.optional('ssh-host');
    const knownHosts = inputs.optional('ssh-known-hosts');
    const port = inputs.optional('ssh-port') === undefined ? undefined : inputs.integer('ssh-port', 22, { min: 1, max: 65535 });
    if (host === undefined) {
        if (key !== undefined || knownHosts !== undefined || port !== undefined) {
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz('ssh-host', 'is required when ssh-key, ssh-known-hosts or ssh-port is given', 'ssh-host: deploy@lb1.example.com');
        }
        return undefined;
    }
    if (!/^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+$/.test(host) || host.startsWith('-')) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz('ssh-host', `must be host or user@host, got "${host}"`, 'ssh-host: deploy@lb1.example.com');
    }
    let dir;
    const file = (name, content) => {
        dir ??= (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.mkdtempSync)((0,node_path__WEBPACK_IMPORTED_MODULE_2__.join)(process.env.RUNNER_TEMP || (0,node_os__WEBPACK_IMPORTED_MODULE_1__.tmpdir)(), 'deploy-suite-ssh-'));
        const path = (0,node_path__WEBPACK_IMPORTED_MODULE_2__.join)(dir, name);
        (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.writeFileSync)(path, content.endsWith('\n') ? content : `${content}\n`, { mode: 0o600 });
        return path;
    };
    if (key !== undefined)
        (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .registerSecret */ .cl)(key);
    return {
        host,
        port,
        identityFile: key === undefined ? undefined : file('id', key),
        knownHostsFile: knownHosts === undefined ? undefined : file('known_hosts', knownHosts),
    };
}
/** POSIX shell quoting of one argument: ssh hands the remote side one command line. */
function shellQuote(argument) {
    return `'${argument.replace(/'/g, `'\\''`)}'`;
}
const MARK = '# deploy-suite-weights: ';
/** The include file for these weights: one upstream block, every server of a colour with its share. */
function renderUpstream(config, weights) {
    const lines = [
        '# Managed by deploy-suite blue-green-switch; every switch rewrites this file.',
        `${MARK}${JSON.stringify(weights)}`,
        `upstream ${config.upstream} {`,
    ];
    for (const colour of config.colours) {
        const share = weights[colour] ?? 0;
        if (share <= 0)
            continue;
        for (const address of config.servers[colour])
            lines.push(`    server ${address} weight=${share};`);
    }
    lines.push('    keepalive 16;', '}', '');
    return lines.join('\n');
}
/**
 * Weights from the include file, read as untrusted text: taken from its server lines (what
 * nginx will use), each address matched to the configured colours; a server of neither colour
 * or a file this provider did not write leaves the state unknown rather than guessed.
 */
function parseUpstream(config, text) {
    const weights = Object.fromEntries(config.colours.map((colour) => [colour, 0]));
    // Comments dropped first; a server directive may follow a brace or another directive on one line.
    const directives = text.replace(/#[^\n]*/g, '');
    const servers = [...directives.matchAll(/(?:^|[{;\s])server\s+([^\s;]+)(?:\s+weight=(\d+))?[^;]*;/g)];
    if (servers.length === 0)
        return { weights, problem: `no server lines in ${config.include}` };
    const seen = new Map();
    for (const [, address, weight] of servers) {
        const colour = config.colours.find((c) => config.servers[c].includes(address));
        if (colour === undefined) {
            return {
                weights,
                problem: `${config.include} sends traffic to ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .quoteUntrusted */ .X0)(address)}, a server of neither colour`,
            };
        }
        seen.set(colour, (seen.get(colour) ?? new Set()).add(Number(weight ?? 1)));
    }
    const total = [...seen.values()].reduce((sum, shares) => sum + Math.max(...shares), 0);
    for (const [colour, shares] of seen)
        weights[colour] = Math.round((Math.max(...shares) / total) * 100);
    return { weights };
}
/**
 * nginx: the live colour is the upstream block in an include file this provider owns. A route
 * writes the new file beside the old one and renames it over (atomic), checks the whole
 * configuration with `nginx -t`, and reloads; when the check or the reload fails, the previous
 * file is put back before anything else happens. A reload returns 0 even when the master
 * rejects the new configuration, so the caller must verify through the live URL.
 */
function createNginxProvider(config) {
    const where = config.ssh === undefined ? 'locally' : `on ${config.ssh.host}`;
    /** Runs a command locally or through ssh, with arguments as an array (quoted for the remote shell). */
    /** Runs a command locally or through ssh, with arguments as an array (quoted for the remote shell). */
    const run = (argv, stdin) => {
        const [command, args] = config.ssh === undefined
            ? [argv[0], argv.slice(1)]
            : ['ssh', [...sshOptions(config.ssh), '--', argv.map(shellQuote).join(' ')]];
        return (0,_run_js__WEBPACK_IMPORTED_MODULE_5__/* .runCommand */ .d)(command, args, {
            what: `${argv.join(' ')} ${where}`,
            timeoutMs: config.commandTimeoutMs,
            ...(stdin === undefined ? {} : { input: stdin }),
        });
    };
    const nginx = (...args) => [
        config.binary,
        ...(config.conf === undefined ? [] : ['-c', config.conf]),
        ...args,
    ];
    const readInclude = async () => {
        const result = await run(['cat', '--', config.include]);
        if (result.exitCode === 0)
            return result.stdout;
        if (/No such file/i.test(result.stderr))
            return undefined;
        throw new _provider_js__WEBPACK_IMPORTED_MODULE_4__/* .RouterError */ .KJ(`Could not read ${config.include} ${where}: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .quoteUntrusted */ .X0)(result.stderr.trim(), 300)}`);
    };
    /** Writes the file atomically: a temporary file beside it, then a rename over it. */
    const writeInclude = async (text) => {
        const temporary = `${config.include}.deploy-suite.tmp`;
        const result = await run(['sh', '-c', 'cat > "$1" && mv -f "$1" "$2"', 'sh', temporary, config.include], text);
        if (result.exitCode !== 0) {
            throw new _provider_js__WEBPACK_IMPORTED_MODULE_4__/* .RouterError */ .KJ(`Could not write ${config.include} ${where}: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .quoteUntrusted */ .X0)(result.stderr.trim(), 300)}`);
        }
    };
    const putBack = async (previous) => {
        if (previous === undefined)
            await run(['rm', '-f', '--', config.include]);
        else
            await writeInclude(previous);
    };
    return {
        name: 'nginx',
        colours: config.colours,
        supportsWeights: true,
        async read() {
            const text = await readInclude();
            if (text === undefined) {
                return {
                    live: undefined,
                    weights: Object.fromEntries(config.colours.map((c) => [c, 0])),
                    detail: `${config.include} does not exist yet ${where}`,
                };
            }
            const { weights, problem } = parseUpstream(config, text);
            if (problem !== undefined)
                return { live: undefined, weights, detail: problem };
            return {
                live: (0,_provider_js__WEBPACK_IMPORTED_MODULE_4__/* .liveOf */ .QA)(weights),
                weights,
                detail: `upstream ${config.upstream} in ${config.include} ${where}: ${(0,_provider_js__WEBPACK_IMPORTED_MODULE_4__/* .describeWeights */ .Jq)(weights)}`,
            };
        },
        readiness() {
            // nginx knows nothing of a colour's health: the switch's health URLs decide.
            return Promise.resolve(undefined);
        },
        async route(weights) {
            const previous = await readInclude();
            await writeInclude(renderUpstream(config, weights));
            // From here on any failure (a rejected test, a failed or stopped reload) puts the file back.
            try {
                const test = await run(nginx('-t'));
                if (test.exitCode !== 0) {
                    throw new _provider_js__WEBPACK_IMPORTED_MODULE_4__/* .RouterError */ .KJ(`nginx -t rejected the configuration with the new upstream, so ${config.include} was put back and nginx was not reloaded: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .quoteUntrusted */ .X0)(test.stderr.trim(), 600)}`);
                }
                const reload = await run(nginx('-s', 'reload'));
                if (reload.exitCode !== 0) {
                    throw new _provider_js__WEBPACK_IMPORTED_MODULE_4__/* .RouterError */ .KJ(`nginx -s reload failed ${where}, so ${config.include} was put back: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .quoteUntrusted */ .X0)(reload.stderr.trim(), 600)}`);
                }
            }
            catch (error) {
                await putBack(previous);
                throw error;
            }
        },
    };
}
function sshOptions(ssh) {
    return [
        // Never ask for a password or a host key: a host not in known_hosts fails.
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        ...(ssh.knownHostsFile === undefined ? [] : ['-o', `UserKnownHostsFile=${ssh.knownHostsFile}`]),
        ...(ssh.identityFile === undefined ? [] : ['-i', ssh.identityFile, '-o', 'IdentitiesOnly=yes']),
        ...(ssh.port === undefined ? [] : ['-p', String(ssh.port)]),
        ssh.host,
    ];
}
/** Removes the ssh files written for a run (a key never outlives the step). */
function cleanUpSsh(ssh) {
    for (const file of [ssh?.identityFile, ssh?.knownHostsFile]) {
        if (file !== undefined)
            (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.rmSync)((0,node_path__WEBPACK_IMPORTED_MODULE_2__.join)(file, '..'), { recursive: true, force: true });
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
