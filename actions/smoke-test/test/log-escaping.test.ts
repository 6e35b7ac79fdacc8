import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestServer } from '../../../test/helpers/http-server.ts';
import { runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';

/**
 * Text from the checked service — a JSON value in its body, a header value — reaches the log and
 * the annotations escaped: a line break in it cannot start a workflow command, so it can neither
 * mask, stop the runner reading commands, nor forge an annotation.
 */

const HOSTILE =
  'v1\n::add-mask::hijacked\n::stop-commands::tok\n::error::forged by the service\r\n::warning::also forged';
let app: TestServer;
beforeAll(async () => {
  app = await TestServer.start();
  app.route('GET', '/status', {
    status: 200,
    headers: { 'content-type': 'application/json', 'x-release': '::add-mask::header-hijack ::error::header-forged' },
    body: { version: HOSTILE, note: '\u2028::error::separator-forged' },
  });
});
afterAll(() => app.close());

/** Every line a runner would read as a command, with the ones this action legitimately writes left out. */
const commandLines = (run: ActionRun): string[] =>
  run.log
    .split(/\r\n|\n|\r|\u2028|\u2029|\u0085/)
    .filter((line) => /^::/.test(line))
    .filter((line) => !/^::(group|endgroup|debug)::/.test(line) && !/^::error title=Smoke check failed/.test(line));

describe('smoke-test escapes what the service answered', () => {
  it('in a JSON value and a header value a check reports, keeping every line break visible', async () => {
    const run = await runBuiltAction('smoke-test', {
      'ready-timeout': '0s',
      checks: [
        `- url: ${app.url.href}status`,
        '  name: status',
        '  expect:',
        '    json: { version: "v2", note: "n" }',
        '    headers: { x-release: "2.0" }',
      ].join('\n'),
    });
    expect(run.exitCode).toBe(1);
    // What the runner would obey: the step failure alone, nothing the service wrote.
    expect(commandLines(run)).toEqual([expect.stringMatching(/^::error::Smoke test failed: 1 of 1 checks failed/)]);
    expect(run.masks.join('\n')).not.toMatch(/hijack/);
    expect(run.annotations.map((a) => a.message).join('\n')).not.toMatch(/^(forged|header-forged|also forged)/m);
    // Still readable: the escaped text is there, on one line.
    expect(run.log).toContain('\\n::add-mask::hijacked\\n::stop-commands::tok\\n::error::forged by the service');
    expect(run.log).toContain('\\u2028::error::separator-forged');
    expect(run.log).toMatch(/header x-release is "::add-mask::header-hijack ::error::header-forged"/);
  });
});
