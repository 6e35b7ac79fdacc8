import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Repo } from '@deploy-suite/github';
import {
  InputError,
  Inputs,
  isLoopbackHost,
  parseDuration,
  parseHttpUrl,
  readRunContext,
  registerHeaderSecret,
  registerUrlSecret,
} from '@deploy-suite/kit';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A year and a day: every deployment of the window is read with its statuses, one request each. */
const MAX_WINDOW_MS = 366 * DAY;

export interface PushgatewaySettings {
  /** The Pushgateway's root, without credentials. */
  url: URL;
  job: string;
  /** The Authorization header (Bearer token, or Basic from the URL's user info), masked. */
  authorization: string | undefined;
}

/** Every input, read and checked once. */
export interface Settings {
  token: string;
  repo: Repo;
  /** Only these environments (trimmed, each once); undefined for every environment. */
  environments: string[] | undefined;
  windowMs: number;
  /** Whose records count; undefined for the token's own login, found at run time. */
  author: string | undefined;
  jsonFile: string | undefined;
  prometheusFile: string | undefined;
  pushgateway: PushgatewaySettings | undefined;
  /** Risky but allowed choices, for the entry point to show as warnings. */
  warnings: string[];
}

const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(\[bot\])?$/;

export function readSettings(inputs: Inputs, workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()): Settings {
  const token = inputs.secret('github-token', { required: true, example: 'github-token: ${{ github.token }}' })!;
  const pushgatewayToken = inputs.secret('pushgateway-token');
  const context = readRunContext();

  const repository = inputs.string('repository', context.repository);
  if (!REPOSITORY.test(repository)) {
    throw new InputError(
      'repository',
      repository === ''
        ? 'is required outside a workflow run (GITHUB_REPOSITORY is not set)'
        : `must be owner/name, got "${repository.slice(0, 120)}"`,
      'repository: acme/checkout',
    );
  }
  const [owner, name] = repository.split('/') as [string, string];

  const listed = inputs.list('environments');
  for (const environment of listed) {
    if (environment.length > 255) {
      throw new InputError(
        'environments',
        `names an environment longer than 255 characters ("${environment.slice(0, 40)}…")`,
        'environments: staging, production',
      );
    }
  }
  const environments = listed.length === 0 ? undefined : [...new Set(listed)];

  const windowMs = readWindow(inputs);

  const authorText = inputs.optional('author');
  if (authorText !== undefined && !LOGIN.test(authorText)) {
    throw new InputError(
      'author',
      `must be a GitHub login (a user, or an app's bot such as deploy-app[bot]), got "${authorText.slice(0, 80)}"`,
      'author: github-actions[bot]',
    );
  }

  const jsonFile = outputFile(inputs, 'json-file', workspace, 'json-file: dora.json');
  const prometheusFile = outputFile(
    inputs,
    'prometheus-file',
    workspace,
    'prometheus-file: /var/lib/node_exporter/textfile_collector/dora.prom',
  );
  const job = inputs.string('pushgateway-job', 'deploy-suite');
  const warnings: string[] = [];
  const pushgateway = readPushgateway(inputs, job, pushgatewayToken, warnings);
  if (pushgateway === undefined && pushgatewayToken !== undefined) {
    throw new InputError(
      'pushgateway-token',
      'was given without pushgateway-url; give both, or neither',
      'pushgateway-url: https://pushgateway.example.com',
    );
  }
  if (prometheusFile !== undefined && !prometheusFile.endsWith('.prom')) {
    warnings.push(
      `prometheus-file "${prometheusFile}" does not end in .prom: node-exporter's textfile collector reads only *.prom files`,
    );
  }
  return {
    token,
    repo: { owner, repo: name },
    environments,
    windowMs,
    author: authorText,
    jsonFile,
    prometheusFile,
    pushgateway,
    warnings,
  };
}

/** The window, e.g. 30d, 2w or 12h: a whole number of units, from an hour to 366 days. */
function readWindow(inputs: Inputs): number {
  const text = inputs.string('window', '30d');
  const example = 'window: 30d';
  const ms = /^(\d+(ms|[smhdw]))+$/.test(text)
    ? parseDuration(text.replace(/(\d+)w/g, (_, n: string) => `${Number(n) * 7}d`))
    : undefined;
  if (ms === undefined) {
    throw new InputError('window', `must be a duration such as 30d, 2w or 12h, got "${text.slice(0, 80)}"`, example);
  }
  if (ms < HOUR) throw new InputError('window', `must be at least 1h, got "${text}"`, example);
  if (ms > MAX_WINDOW_MS) throw new InputError('window', `must be at most 366d, got "${text}"`, example);
  return ms;
}

/** A file to write: its folder must exist now, so a typo fails before any API request. */
function outputFile(inputs: Inputs, name: string, workspace: string, example: string): string | undefined {
  const given = inputs.optional(name);
  if (given === undefined) return undefined;
  const path = isAbsolute(given) ? given : resolve(workspace, given);
  const folder = dirname(path);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new InputError(name, `names a file in a folder that does not exist: ${folder}`, example);
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new InputError(name, `names a folder, not a file: ${path}`, example);
  }
  return path;
}

function readPushgateway(
  inputs: Inputs,
  job: string,
  token: string | undefined,
  warnings: string[],
): PushgatewaySettings | undefined {
  const example = 'pushgateway-url: https://pushgateway.example.com';
  const text = inputs.optional('pushgateway-url');
  if (text === undefined) return undefined;
  const given = parseHttpUrl('pushgateway-url', text, example);
  registerUrlSecret(given);
  if (given.search !== '' || given.hash !== '') {
    throw new InputError('pushgateway-url', 'must be the Pushgateway root, without a query or a fragment', example);
  }
  if (/\/metrics(\/|$)/.test(given.pathname)) {
    throw new InputError(
      'pushgateway-url',
      'must be the Pushgateway root: the action adds /metrics/job/<pushgateway-job> itself',
      example,
    );
  }
  if (job.length > 200) {
    throw new InputError('pushgateway-job', 'must be at most 200 characters', 'pushgateway-job: deploy-suite');
  }
  let authorization: string | undefined;
  const hasUserInfo = given.username !== '' || given.password !== '';
  if (token !== undefined && hasUserInfo) {
    throw new InputError(
      'pushgateway-token',
      'and a user and password in pushgateway-url were both given; use one of them',
      'pushgateway-token: ${{ secrets.PUSHGATEWAY_TOKEN }}',
    );
  }
  if (token !== undefined) {
    // Checked after masking, and never echoed: node:http would throw on it at the push.
    if (/[^\x21-\x7e]/.test(token)) {
      throw new InputError(
        'pushgateway-token',
        'holds a character a token cannot have (a space, a control character or a non-ASCII letter)',
        'pushgateway-token: ${{ secrets.PUSHGATEWAY_TOKEN }}',
      );
    }
    authorization = `Bearer ${token}`;
  } else if (hasUserInfo) {
    const user = decodeURIComponentSafe(given.username);
    const password = decodeURIComponentSafe(given.password);
    if (user === undefined || password === undefined) {
      throw new InputError(
        'pushgateway-url',
        'has a user or password with a % not followed by two hex digits',
        'pushgateway-url: https://pusher:p%25ss@pushgateway.example.com',
      );
    }
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  if (authorization !== undefined) registerHeaderSecret(authorization);
  const url = new URL(given.href);
  url.username = '';
  url.password = '';
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    warnings.push(
      authorization === undefined
        ? `pushgateway-url ${url.origin} is plain http: the figures cross the network in clear and anyone on the path could change them; use https`
        : `pushgateway-url ${url.origin} is plain http: the credential crosses the network in clear, where anyone on the path can read it; use https`,
    );
  }
  return { url, job, authorization };
}

function decodeURIComponentSafe(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
