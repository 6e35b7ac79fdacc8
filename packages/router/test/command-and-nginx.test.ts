import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ColourServer, NginxRouter } from '../../../test/helpers/nginx.ts';
import { createCommandProvider, type CommandConfig } from '../src/command.ts';
import { createNginxProvider, parseUpstream, renderUpstream, type NginxConfig } from '../src/nginx.ts';
import { RouterError } from '../src/provider.ts';

const folder = mkdtempSync(join(tmpdir(), 'router-command-'));
const script = (name: string, body: string) => {
  const path = join(folder, name);
  writeFileSync(path, body);
  return path;
};

describe('the command provider', () => {
  const state = join(folder, 'state');
  const seen = join(folder, 'seen.json');
  // The team's own scripts: status prints what a file holds; switch records what it was given.
  const status = script(
    'status.mjs',
    `import { readFileSync } from 'node:fs';\nprocess.stdout.write(readFileSync(process.argv[2], 'utf8'));\n`,
  );
  const switcher = script(
    'switch.mjs',
    `import { writeFileSync } from 'node:fs';\nconst [state, seen] = process.argv.slice(2);\nwriteFileSync(seen, JSON.stringify({ argv: process.argv.slice(2), env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('DEPLOY_'))) }));\nwriteFileSync(state, process.env.DEPLOY_TARGET_COLOUR || process.env.DEPLOY_WEIGHTS);\n`,
  );
  const config = (extra: Partial<CommandConfig> = {}): CommandConfig => ({
    colours: ['blue', 'green'],
    status: `node ${status} ${state}`,
    // A quoted argument with spaces and shell characters reaches the script as one argument, untouched.
    switch: `node ${switcher} ${state} ${seen} "a b; echo $HOME \`id\`"`,
    rollback: undefined,
    readiness: undefined,
    supportsWeights: true,
    commandTimeoutMs: 10_000,
    ...extra,
  });

  it('reads the live colour, or weights as JSON, from the status command', async () => {
    writeFileSync(state, 'green\n');
    expect(await createCommandProvider(config()).read()).toMatchObject({
      live: 'green',
      weights: { blue: 0, green: 100 },
    });
    writeFileSync(state, '{"blue":90,"green":10}');
    expect(await createCommandProvider(config()).read()).toMatchObject({
      live: undefined,
      weights: { blue: 90, green: 10 },
    });
  });

  it('refuses a status it cannot read rather than guessing', async () => {
    writeFileSync(state, 'purple');
    await expect(createCommandProvider(config()).read()).rejects.toThrow(RouterError);
    writeFileSync(state, '{"blue":90,"green":20}');
    await expect(createCommandProvider(config()).read()).rejects.toThrow(
      /expected one of blue, green or weights as JSON/,
    );
  });

  it('gives the switch command its values as environment variables and its arguments unparsed by any shell', async () => {
    await createCommandProvider(config()).route({ blue: 0, green: 100 });
    const recorded = JSON.parse(readFileSync(seen, 'utf8')) as { argv: string[]; env: Record<string, string> };
    expect(recorded.argv).toEqual([state, seen, 'a b; echo $HOME `id`']);
    expect(recorded.env).toEqual({
      DEPLOY_TARGET_COLOUR: 'green',
      DEPLOY_WEIGHTS: '{"blue":0,"green":100}',
      DEPLOY_REASON: 'switch',
      DEPLOY_COLOURS: 'blue,green',
    });
    expect(readFileSync(state, 'utf8')).toBe('green');
  });

  it('runs the rollback command for a rollback when one is given', async () => {
    const rollback = script(
      'rollback.mjs',
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(process.argv[2], 'rolled-back:' + process.env.DEPLOY_TARGET_COLOUR);\n`,
    );
    await createCommandProvider(config({ rollback: `node ${rollback} ${state}` })).route(
      { blue: 100, green: 0 },
      { reason: 'rollback' },
    );
    expect(readFileSync(state, 'utf8')).toBe('rolled-back:blue');
  });

  it('fails a command that exits non-zero with its error output, and one that hangs at the time limit', async () => {
    const failing = script(
      'fail.mjs',
      `process.stderr.write('listener locked by another change');\nprocess.exit(3);\n`,
    );
    await expect(
      createCommandProvider(config({ switch: `node ${failing}` })).route({ blue: 0, green: 100 }),
    ).rejects.toThrow(/The switch command exited 3: .*listener locked by another change/);
    const hanging = script('hang.mjs', 'setTimeout(() => {}, 60_000);\n');
    const started = performance.now();
    await expect(
      createCommandProvider(config({ switch: `node ${hanging}`, commandTimeoutMs: 1000 })).route({
        blue: 0,
        green: 100,
      }),
    ).rejects.toThrow(/did not finish within 1s/);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('asks the readiness command about a colour', async () => {
    const ready = script(
      'ready.mjs',
      `const ok = process.env.DEPLOY_COLOUR === 'green';\nprocess.stdout.write(ok ? '3/3 pods ready' : '0/3 pods ready');\nprocess.exit(ok ? 0 : 1);\n`,
    );
    const provider = createCommandProvider(config({ readiness: `node ${ready}` }));
    expect(await provider.readiness('green')).toEqual({ ready: true, detail: '"3/3 pods ready"' });
    expect(await provider.readiness('blue')).toEqual({ ready: false, detail: '"0/3 pods ready"' });
  });
});

describe('the nginx provider', () => {
  let blue: ColourServer;
  let green: ColourServer;
  let nginx: NginxRouter;
  let base: NginxConfig;
  let savedPath: string | undefined;
  const sshLog = join(folder, 'ssh.log');

  beforeAll(async () => {
    blue = await ColourServer.start('blue');
    green = await ColourServer.start('green');
    nginx = await NginxRouter.start(blue.address);
    base = {
      colours: ['blue', 'green'],
      include: nginx.include,
      upstream: 'live',
      servers: { blue: [blue.address], green: [green.address] },
      conf: nginx.conf,
      binary: 'nginx',
      ssh: undefined,
      commandTimeoutMs: 10_000,
    };
    // An ssh stand-in: records its arguments and runs the remote command line with sh, as sshd would.
    const bin = mkdtempSync(join(tmpdir(), 'ssh-stub-'));
    writeFileSync(
      join(bin, 'ssh'),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> ${sshLog}\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec sh -c "$1"\n`,
    );
    chmodSync(join(bin, 'ssh'), 0o755);
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${process.env.PATH}`;
  });
  afterAll(async () => {
    process.env.PATH = savedPath;
    nginx.stop();
    await Promise.all([blue.close(), green.close()]);
  });

  it('reads weights back from the server lines of the file, never from its comment', () => {
    const text = renderUpstream(base, { blue: 90, green: 10 }).replace(
      /deploy-suite-weights: .*/,
      'deploy-suite-weights: {"blue":0,"green":100}',
    );
    expect(parseUpstream(base, text)).toEqual({ weights: { blue: 90, green: 10 } });
  });

  it('reports a file that sends traffic elsewhere as unknown, not as a colour', () => {
    const parsed = parseUpstream(base, 'upstream live { server 10.9.9.9:80; }');
    expect(parsed.problem).toMatch(/sends traffic to "10\.9\.9\.9:80", a server of neither colour/);
  });

  it('drives nginx on another host through ssh, checking host keys, with every argument quoted for the remote shell', async () => {
    const provider = createNginxProvider({
      ...base,
      ssh: { host: 'deploy@127.0.0.1', port: 2222, identityFile: undefined, knownHostsFile: '/tmp/known_hosts' },
    });
    await provider.route({ blue: 0, green: 100 });
    expect((await provider.read()).live).toBe('green');
    // A reload is asynchronous: the new workers take over within moments.
    let colour: string | null = null;
    for (let i = 0; i < 60 && colour !== 'green'; i++) {
      colour = (await fetch(`${nginx.url}/`)).headers.get('x-colour');
      if (colour !== 'green') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(colour).toBe('green');
    const calls = readFileSync(sshLog, 'utf8').trim().split('\n');
    expect(calls.length).toBeGreaterThanOrEqual(4);
    for (const call of calls) {
      expect(call).toContain('-o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/tmp/known_hosts');
      expect(call).toContain('-p 2222 deploy@127.0.0.1 --');
    }
    expect(calls.some((call) => call.includes(`'nginx' '-c' '${nginx.conf}' '-t'`))).toBe(true);
  });
});
