import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, Inputs, quoteUntrusted, registerSecret } from '@deploy-suite/kit';
import { z } from 'zod';
import {
  describeWeights,
  liveOf,
  RouterError,
  type Colour,
  type Readiness,
  type RouterProvider,
  type RouterState,
  type Weights,
} from './provider.ts';
import { runCommand } from './run.ts';

export interface SshTarget {
  /** user@host or host. */
  host: string;
  port: number | undefined;
  /** A private key file, when one is given (written by readNginxConfig to a 0600 temp file). */
  identityFile: string | undefined;
  /** A known_hosts file; without one, ssh uses the runner's own known_hosts. Host keys are always checked. */
  knownHostsFile: string | undefined;
}

export interface NginxConfig {
  colours: readonly [Colour, Colour];
  /** The include file this provider owns: it holds the upstream block and nothing else. */
  include: string;
  upstream: string;
  /** host:port addresses per colour. */
  servers: Record<Colour, string[]>;
  /** nginx's main configuration (passed as -c), when not the default one. */
  conf: string | undefined;
  binary: string;
  ssh: SshTarget | undefined;
  /** Time limit for one command (nginx -t, a reload, an ssh call). */
  commandTimeoutMs: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const ADDRESS = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$|^unix:\/[\w./-]+$/;
const SERVERS_EXAMPLE = 'nginx-servers: |\n  blue: 10.0.1.10:8080\n  green: [10.0.2.10:8080, 10.0.2.11:8080]';

/** Reads the nginx provider's inputs; every bad value is an InputError naming its input. */
export function readNginxConfig(inputs: Inputs, colours: readonly [Colour, Colour]): NginxConfig {
  const include = inputs.required('nginx-include', { example: 'nginx-include: /etc/nginx/conf.d/shop-live.conf' });
  if (!include.startsWith('/') || /[\s;{}'"$\\]/.test(include)) {
    throw new InputError(
      'nginx-include',
      `must be an absolute path without spaces or quotes, got "${include}"`,
      'nginx-include: /etc/nginx/conf.d/shop-live.conf',
    );
  }
  const upstream = inputs.string('nginx-upstream', 'live');
  if (!NAME.test(upstream)) {
    throw new InputError(
      'nginx-upstream',
      `must be an nginx upstream name (letters, digits, _ and -), got "${upstream}"`,
      'nginx-upstream: shop_live',
    );
  }
  const schema = z.record(z.string(), z.union([z.string(), z.array(z.string()).min(1)]));
  const raw = inputs.structured('nginx-servers', schema, { required: true, example: SERVERS_EXAMPLE })!;
  const servers: Record<Colour, string[]> = {};
  for (const [colour, value] of Object.entries(raw)) {
    if (!colours.includes(colour)) {
      throw new InputError(
        'nginx-servers',
        `names "${colour}", which is not one of the colours ${colours.join(', ')}`,
        SERVERS_EXAMPLE,
      );
    }
    const addresses = (Array.isArray(value) ? value : value.split(/[\s,]+/))
      .map((a) => a.trim())
      .filter((a) => a !== '');
    const bad = addresses.find((address) => !ADDRESS.test(address));
    if (bad !== undefined || addresses.length === 0) {
      throw new InputError(
        'nginx-servers',
        `has "${bad ?? ''}" for ${colour}: each server is host:port`,
        SERVERS_EXAMPLE,
      );
    }
    servers[colour] = addresses;
  }
  const missing = colours.find((colour) => servers[colour] === undefined);
  if (missing !== undefined) throw new InputError('nginx-servers', `has no servers for ${missing}`, SERVERS_EXAMPLE);
  const shared = servers[colours[0]]!.find((address) => servers[colours[1]]!.includes(address));
  if (shared !== undefined) {
    throw new InputError(
      'nginx-servers',
      `lists ${shared} for both colours: a switch would change nothing`,
      SERVERS_EXAMPLE,
    );
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

function readSsh(inputs: Inputs): SshTarget | undefined {
  const key = inputs.secret('ssh-key');
  const host = inputs.optional('ssh-host');
  const knownHosts = inputs.optional('ssh-known-hosts');
  const port =
    inputs.optional('ssh-port') === undefined ? undefined : inputs.integer('ssh-port', 22, { min: 1, max: 65535 });
  if (host === undefined) {
    if (key !== undefined || knownHosts !== undefined || port !== undefined) {
      throw new InputError(
        'ssh-host',
        'is required when ssh-key, ssh-known-hosts or ssh-port is given',
        'ssh-host: deploy@lb1.example.com',
      );
    }
    return undefined;
  }
  if (!/^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+$/.test(host) || host.startsWith('-')) {
    throw new InputError('ssh-host', `must be host or user@host, got "${host}"`, 'ssh-host: deploy@lb1.example.com');
  }
  let dir: string | undefined;
  const file = (name: string, content: string) => {
    dir ??= mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'deploy-suite-ssh-'));
    const path = join(dir, name);
    writeFileSync(path, content.endsWith('\n') ? content : `${content}\n`, { mode: 0o600 });
    return path;
  };
  if (key !== undefined) registerSecret(key);
  return {
    host,
    port,
    identityFile: key === undefined ? undefined : file('id', key),
    knownHostsFile: knownHosts === undefined ? undefined : file('known_hosts', knownHosts),
  };
}

/** POSIX shell quoting of one argument: ssh hands the remote side one command line. */
export function shellQuote(argument: string): string {
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}

const MARK = '# deploy-suite-weights: ';

/** The include file for these weights: one upstream block, every server of a colour with its share. */
export function renderUpstream(config: NginxConfig, weights: Weights): string {
  const lines = [
    '# Managed by deploy-suite blue-green-switch; every switch rewrites this file.',
    `${MARK}${JSON.stringify(weights)}`,
    `upstream ${config.upstream} {`,
  ];
  for (const colour of config.colours) {
    const share = weights[colour] ?? 0;
    if (share <= 0) continue;
    for (const address of config.servers[colour]!) lines.push(`    server ${address} weight=${share};`);
  }
  lines.push('    keepalive 16;', '}', '');
  return lines.join('\n');
}

/**
 * Weights from the include file, read as untrusted text: taken from its server lines (what
 * nginx will use), each address matched to the configured colours; a server of neither colour
 * or a file this provider did not write leaves the state unknown rather than guessed.
 */
export function parseUpstream(config: NginxConfig, text: string): { weights: Weights; problem?: string } {
  const weights: Weights = Object.fromEntries(config.colours.map((colour) => [colour, 0]));
  // Comments dropped first; a server directive may follow a brace or another directive on one line.
  const directives = text.replace(/#[^\n]*/g, '');
  const servers = [...directives.matchAll(/(?:^|[{;\s])server\s+([^\s;]+)(?:\s+weight=(\d+))?[^;]*;/g)];
  if (servers.length === 0) return { weights, problem: `no server lines in ${config.include}` };
  const seen = new Map<Colour, Set<number>>();
  for (const [, address, weight] of servers) {
    const colour = config.colours.find((c) => config.servers[c]!.includes(address!));
    if (colour === undefined) {
      return {
        weights,
        problem: `${config.include} sends traffic to ${quoteUntrusted(address!)}, a server of neither colour`,
      };
    }
    seen.set(colour, (seen.get(colour) ?? new Set()).add(Number(weight ?? 1)));
  }
  const total = [...seen.values()].reduce((sum, shares) => sum + Math.max(...shares), 0);
  for (const [colour, shares] of seen) weights[colour] = Math.round((Math.max(...shares) / total) * 100);
  return { weights };
}

/**
 * nginx: the live colour is the upstream block in an include file this provider owns. A route
 * writes the new file beside the old one and renames it over (atomic), checks the whole
 * configuration with `nginx -t`, and reloads; when the check or the reload fails, the previous
 * file is put back before anything else happens. A reload returns 0 even when the master
 * rejects the new configuration, so the caller must verify through the live URL.
 */
export function createNginxProvider(config: NginxConfig): RouterProvider {
  const where = config.ssh === undefined ? 'locally' : `on ${config.ssh.host}`;

  /** Runs a command locally or through ssh, with arguments as an array (quoted for the remote shell). */
  /** Runs a command locally or through ssh, with arguments as an array (quoted for the remote shell). */
  const run = (argv: string[], stdin?: string) => {
    const [command, args] =
      config.ssh === undefined
        ? [argv[0]!, argv.slice(1)]
        : ['ssh', [...sshOptions(config.ssh), '--', argv.map(shellQuote).join(' ')]];
    return runCommand(command, args, {
      what: `${argv.join(' ')} ${where}`,
      timeoutMs: config.commandTimeoutMs,
      ...(stdin === undefined ? {} : { input: stdin }),
    });
  };
  const nginx = (...args: string[]) => [
    config.binary,
    ...(config.conf === undefined ? [] : ['-c', config.conf]),
    ...args,
  ];

  const readInclude = async (): Promise<string | undefined> => {
    const result = await run(['cat', '--', config.include]);
    if (result.exitCode === 0) return result.stdout;
    if (/No such file/i.test(result.stderr)) return undefined;
    throw new RouterError(`Could not read ${config.include} ${where}: ${quoteUntrusted(result.stderr.trim(), 300)}`);
  };

  /** Writes the file atomically: a temporary file beside it, then a rename over it. */
  const writeInclude = async (text: string): Promise<void> => {
    const temporary = `${config.include}.deploy-suite.tmp`;
    const result = await run(['sh', '-c', 'cat > "$1" && mv -f "$1" "$2"', 'sh', temporary, config.include], text);
    if (result.exitCode !== 0) {
      throw new RouterError(`Could not write ${config.include} ${where}: ${quoteUntrusted(result.stderr.trim(), 300)}`);
    }
  };

  const putBack = async (previous: string | undefined): Promise<void> => {
    if (previous === undefined) await run(['rm', '-f', '--', config.include]);
    else await writeInclude(previous);
  };

  return {
    name: 'nginx',
    colours: config.colours,
    supportsWeights: true,

    async read(): Promise<RouterState> {
      const text = await readInclude();
      if (text === undefined) {
        return {
          live: undefined,
          weights: Object.fromEntries(config.colours.map((c) => [c, 0])),
          detail: `${config.include} does not exist yet ${where}`,
        };
      }
      const { weights, problem } = parseUpstream(config, text);
      if (problem !== undefined) return { live: undefined, weights, detail: problem };
      return {
        live: liveOf(weights),
        weights,
        detail: `upstream ${config.upstream} in ${config.include} ${where}: ${describeWeights(weights)}`,
      };
    },

    readiness(): Promise<Readiness | undefined> {
      // nginx knows nothing of a colour's health: the switch's health URLs decide.
      return Promise.resolve(undefined);
    },

    async route(weights: Weights): Promise<void> {
      const previous = await readInclude();
      await writeInclude(renderUpstream(config, weights));
      // From here on any failure (a rejected test, a failed or stopped reload) puts the file back.
      try {
        const test = await run(nginx('-t'));
        if (test.exitCode !== 0) {
          throw new RouterError(
            `nginx -t rejected the configuration with the new upstream, so ${config.include} was put back and nginx was not reloaded: ${quoteUntrusted(test.stderr.trim(), 600)}`,
          );
        }
        const reload = await run(nginx('-s', 'reload'));
        if (reload.exitCode !== 0) {
          throw new RouterError(
            `nginx -s reload failed ${where}, so ${config.include} was put back: ${quoteUntrusted(reload.stderr.trim(), 600)}`,
          );
        }
      } catch (error) {
        await putBack(previous);
        throw error;
      }
    },
  };
}

function sshOptions(ssh: SshTarget): string[] {
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
export function cleanUpSsh(ssh: SshTarget | undefined): void {
  for (const file of [ssh?.identityFile, ssh?.knownHostsFile]) {
    if (file !== undefined) rmSync(join(file, '..'), { recursive: true, force: true });
  }
}
