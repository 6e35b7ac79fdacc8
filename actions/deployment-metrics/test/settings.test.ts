// readSettings in process: what each input reads as, the warnings, and that action.yml declares
// exactly the inputs read, with the defaults the code falls back to (the check the root
// test/inputs-declared.test.ts makes for the other actions).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { inputErrorOf } from '../../../test/helpers/expect-input-error.ts';
import { repoRoot } from '../../../test/helpers/run-action.ts';
import { Inputs, redact } from '../../../packages/kit/src/index.ts';
import { readActionMetadata } from '../../../scripts/actions.ts';
import { readSettings } from '../src/settings.ts';

let workspace: string;
beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'deployment-metrics-settings-'));
  process.env.GITHUB_REPOSITORY = 'acme/service';
});

const read = (values: Record<string, string>) =>
  readSettings(new Inputs((name) => ({ 'github-token': 'ghs_settingsToken', ...values })[name]), workspace);

describe('readSettings', () => {
  it('reads the defaults: the current repository, every environment, 30 days, the token’s own login', () => {
    const settings = read({});
    expect(settings).toMatchObject({
      repo: { owner: 'acme', repo: 'service' },
      environments: undefined,
      windowMs: 30 * 86_400_000,
      author: undefined,
      jsonFile: undefined,
      prometheusFile: undefined,
      pushgateway: undefined,
      warnings: [],
    });
  });

  it('reads a list of environments once each, a window in weeks, files from the workspace', () => {
    const settings = read({
      repository: 'other/repo.name',
      environments: 'staging, production\nstaging',
      window: '2w12h',
      author: 'deploy-app[bot]',
      'json-file': 'dora.json',
      'prometheus-file': join(workspace, 'dora.txt'),
    });
    expect(settings.repo).toEqual({ owner: 'other', repo: 'repo.name' });
    expect(settings.environments).toEqual(['staging', 'production']);
    expect(settings.windowMs).toBe((14 * 24 + 12) * 3_600_000);
    expect(settings.author).toBe('deploy-app[bot]');
    expect(settings.jsonFile).toBe(join(workspace, 'dora.json'));
    expect(settings.warnings).toEqual([expect.stringContaining('does not end in .prom')]);
  });

  it('sends a bearer token, or the URL’s user and password as Basic auth, masked either way', () => {
    const bearer = read({ 'pushgateway-url': 'https://pgw.example.com/', 'pushgateway-token': 'tok-en_123' });
    expect(bearer.pushgateway).toMatchObject({ job: 'deploy-suite', authorization: 'Bearer tok-en_123' });
    expect(redact('tok-en_123')).toBe('***');
    const basic = read({ 'pushgateway-url': 'https://pusher:p%40ss-word@pgw.example.com', 'pushgateway-job': 'dora' });
    expect(basic.pushgateway!.url.href).toBe('https://pgw.example.com/');
    expect(basic.pushgateway!.authorization).toBe(`Basic ${Buffer.from('pusher:p@ss-word').toString('base64')}`);
    expect(basic.pushgateway!.job).toBe('dora');
    expect(redact('p@ss-word p%40ss-word')).toBe('*** ***');
  });

  it('allows plain http on loopback, and warns about it anywhere else', () => {
    expect(read({ 'pushgateway-url': 'http://127.0.0.1:9091' }).warnings).toEqual([]);
    expect(read({ 'pushgateway-url': 'http://localhost:9091' }).warnings).toEqual([]);
    expect(read({ 'pushgateway-url': 'http://pgw.internal:9091' }).warnings).toEqual([
      expect.stringMatching(/plain http: the figures cross the network in clear/),
    ]);
    expect(read({ 'pushgateway-url': 'http://pgw.internal:9091', 'pushgateway-token': 'tok-en' }).warnings).toEqual([
      expect.stringMatching(/plain http: the credential crosses the network in clear/),
    ]);
  });

  it.each([
    [{ window: '30m' }, 'window', /at least 1h/],
    [{ window: '5' }, 'window', /must be a duration/],
    [{ repository: 'acme/shop/extra' }, 'repository', /owner\/name/],
    [{ environments: 'x'.repeat(256) }, 'environments', /longer than 255/],
    [{ author: 'alice bob' }, 'author', /GitHub login/],
    [{ 'json-file': '.' }, 'json-file', /a folder, not a file/],
    [{ 'pushgateway-url': 'https://pgw.example.com/?x=1' }, 'pushgateway-url', /without a query/],
    [{ 'pushgateway-url': 'https://pgw.example.com', 'pushgateway-token': 'a b' }, 'pushgateway-token', /cannot have/],
    [
      { 'pushgateway-url': 'https://u:p@pgw.example.com', 'pushgateway-token': 'tok-en' },
      'pushgateway-token',
      /both given/,
    ],
    [{ 'pushgateway-url': 'https://pgw.example.com', 'pushgateway-job': 'j'.repeat(201) }, 'pushgateway-job', /200/],
  ])('%j is refused', (values, input, problem) => {
    const error = inputErrorOf(() => read(values));
    expect(error.input).toBe(input);
    expect(error.problem).toMatch(problem);
    expect(error.example).toBeDefined();
  });
});

it('action.yml declares exactly the inputs readSettings reads, with the defaults the code falls back to', () => {
  const meta = readActionMetadata(join(repoRoot, 'actions', 'deployment-metrics'));
  const asked = new Set<string>();
  const values: Record<string, string> = {
    'github-token': 'ghs_settingsToken',
    'pushgateway-url': 'https://pgw.example.com',
    'pushgateway-token': 'tok-en',
    'json-file': 'dora.json',
    'prometheus-file': 'dora.prom',
    environments: 'production',
    author: 'github-actions[bot]',
  };
  readSettings(
    new Inputs((name) => {
      asked.add(name);
      return values[name];
    }),
    workspace,
  );
  expect([...asked].sort()).toEqual(Object.keys(meta.inputs ?? {}).sort());
  // Each default, given as the value, reads as the code's own fallback.
  const fallback = read({});
  for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
    if (spec.default === undefined || spec.default.startsWith('${{')) continue;
    const given = read({ [name]: spec.default });
    expect([name, given]).toEqual([name, fallback]);
  }
  expect(meta.inputs?.window?.default).toBe('30d');
  expect(meta.inputs?.['pushgateway-job']?.default).toBe('deploy-suite');
  // pushgateway-job reads as its default when a Pushgateway is given.
  expect(read({ 'pushgateway-url': 'https://pgw.example.com' }).pushgateway!.job).toBe('deploy-suite');
  // The expression defaults are what the code falls back to outside the runner.
  expect(meta.inputs?.repository?.default).toBe('${{ github.repository }}');
  expect(meta.inputs?.['github-token']?.default).toBe('${{ github.token }}');
});
