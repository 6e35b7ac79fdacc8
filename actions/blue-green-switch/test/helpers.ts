import { FakeGitHub } from '../../../test/fakes/github.ts';
import { ColourServer, NginxRouter } from '../../../test/helpers/nginx.ts';
import { runBuiltAction, type ActionRun, type RunOptions } from '../../../test/helpers/run-action.ts';

export const OWNER = 'acme';
export const REPO = 'service';
export const SWITCH_TOKEN = 'ghs_switchtoken0000000000000000000000000';
export const SWITCH_LOGIN = 'github-actions[bot]';

/** nginx in front of a blue and a green server, with blue live, and the fake GitHub API for the record. */
export interface NginxStage {
  github: FakeGitHub;
  blue: ColourServer;
  green: ColourServer;
  nginx: NginxRouter;
  close(): Promise<void>;
}

export async function startNginxStage(): Promise<NginxStage> {
  const github = await FakeGitHub.start();
  github.addUser(SWITCH_LOGIN, SWITCH_TOKEN);
  const blue = await ColourServer.start('blue');
  const green = await ColourServer.start('green');
  const nginx = await NginxRouter.start(blue.address);
  return {
    github,
    blue,
    green,
    nginx,
    async close() {
      nginx.stop();
      await Promise.all([blue.close(), green.close(), github.close()]);
    },
  };
}

/** The inputs every nginx switch in these tests shares. */
export function nginxInputs(stage: NginxStage, environment: string): Record<string, string> {
  return {
    provider: 'nginx',
    environment,
    'github-token': SWITCH_TOKEN,
    'token-login': SWITCH_LOGIN,
    'nginx-include': stage.nginx.include,
    'nginx-conf': stage.nginx.conf,
    'nginx-servers': `blue: ${stage.blue.address}\ngreen: ${stage.green.address}`,
    'health-urls': `blue: ${stage.blue.healthUrl}\ngreen: ${stage.green.healthUrl}`,
    'live-url': `${stage.nginx.url}/`,
    'health-timeout': '2s',
    'verify-timeout': '5s',
    'step-pause': '1s',
  };
}

export function runSwitch(
  github: FakeGitHub,
  inputs: Record<string, string>,
  options: RunOptions = {},
): Promise<ActionRun> {
  return runBuiltAction('blue-green-switch', inputs, {
    timeoutMs: 60_000,
    ...options,
    env: { GITHUB_API_URL: github.url, ...options.env },
  });
}
