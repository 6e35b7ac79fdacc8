import { describe, expect, it } from '@jest/globals';
import { inputErrorOf } from '../../../test/helpers/expect-input-error.ts';
import type { DeploymentMessage, Status } from '../src/message.ts';
import { DEFAULT_ROUTING, parseRouting, routeMessage } from '../src/routing.ts';
import { Template } from '../src/template.ts';
import { messageFactory } from './support.ts';

const base = messageFactory({
  service: 'shop',
  version: 'v1.2.3',
  sha: 'a'.repeat(40),
  changeType: 'normal',
  at: '2026-11-27T10:00:00.000Z',
  startedAt: '2026-11-27T09:50:00.000Z',
  repository: 'acme/shop',
});

function message(
  status: Status,
  environment = 'production',
  extra: Partial<DeploymentMessage> = {},
): DeploymentMessage {
  return base(status, { environment, ...extra });
}

const routed = (m: DeploymentMessage) => [...routeMessage(DEFAULT_ROUTING, m).keys()].sort();

describe('the default routing follows the operations policy', () => {
  it('pages PagerDuty and posts to Slack when production fails, but does not page for staging', () => {
    expect(routed(message('failed'))).toEqual(
      ['email', 'github', 'grafana', 'pagerduty', 'slack', 'slack-webhook', 'teams', 'webhook'].sort(),
    );
    expect(routed(message('failed', 'staging'))).not.toContain('pagerduty');
    expect(message('failed').severity).toBe('critical');
    expect(message('failed', 'staging').severity).toBe('error');
  });

  it('sends a warning (error rate above 1%) to chat and email', () => {
    const warning = message('verified', 'production', { smokeVerdict: 'warn' });
    expect(warning.severity).toBe('warning');
    expect(routed(warning)).toEqual(expect.arrayContaining(['slack', 'email', 'teams', 'slack-webhook']));
    expect(routed(warning)).not.toContain('pagerduty');
  });

  it("keeps stakeholders' channels to the start, the finish and notices; every stage goes to the thread", () => {
    expect(routed(message('migrated'))).toEqual(['github', 'grafana', 'slack', 'webhook']);
    expect(routed(message('started'))).toEqual(expect.arrayContaining(['email', 'teams', 'slack-webhook']));
    expect(routed(message('scheduled'))).toEqual(expect.arrayContaining(['email', 'teams']));
    expect(routed(message('succeeded'))).toContain('pagerduty');
  });

  it("gives the engineers' version to a channel when any matching route asks for it", () => {
    const routing = parseRouting(`routes:
  - to: [email]
  - when: { status: [failed] }
    to: [email]
    audience: engineers`);
    expect(routeMessage(routing, message('started')).get('email')).toBe('stakeholders');
    expect(routeMessage(routing, message('failed')).get('email')).toBe('engineers');
  });
});

describe('a routing policy', () => {
  it('matches environments exactly (any case) or by prefix, and change types', () => {
    const routing = parseRouting(`routes:
  - when: { environment: [prod*], change-type: [emergency] }
    to: [pagerduty]
  - when: { environment: [Staging] }
    to: [teams]`);
    expect(routed2(routing, message('started', 'production', { changeType: 'emergency' }))).toEqual(['pagerduty']);
    expect(routed2(routing, message('started', 'production'))).toEqual([]);
    expect(routed2(routing, message('started', 'staging'))).toEqual(['teams']);
    expect(routed2(routing, message('started', 'staging-eu'))).toEqual([]);
  });

  it.each([
    [
      'an unknown severity',
      'routes: [{ when: { severity: [urgent] }, to: [slack] }]',
      /unknown severity "urgent".*info, warning, error, critical/,
    ],
    ['an unknown channel', 'routes: [{ to: [sms] }]', /unknown channel "sms"/],
    ['an unknown status', 'routes: [{ when: { status: [done] }, to: [slack] }]', /unknown status "done"/],
    ['an unknown key', 'routes: [{ when: { region: [eu] }, to: [slack] }]', /region/],
    ['no routes', 'routes: []', /routes/],
    ['not YAML', 'routes: [', /not valid YAML/],
  ])('refuses %s, naming the input and showing an example', (_, text, pattern) => {
    const error = inputErrorOf(() => parseRouting(text, 'routing-file'));
    expect(error.input).toBe('routing-file');
    expect(error.message).toMatch(pattern);
    expect(error.message).toContain('Example:');
  });
});

function routed2(routing: ReturnType<typeof parseRouting>, m: DeploymentMessage): string[] {
  return [...routeMessage(routing, m).keys()].sort();
}

describe('a headline template', () => {
  it('fills known fields as plain text and shows a dash for an empty one', () => {
    const template = new Template(
      '{{service}} {{ version }} → {{environment}}: {{status}} ({{backup-id}}) by {{approvers}}',
    );
    expect(template.render(message('rolled-back', 'production', { approvers: ['ana', 'bo'] }))).toBe(
      'shop v1.2.3 → production: rolled back (—) by ana, bo',
    );
  });

  it('refuses an unknown field when read, listing the fields', () => {
    const error = inputErrorOf(() => new Template('{{service}} {{sevrity}}'));
    expect(error.input).toBe('template');
    expect(error.message).toMatch(/unknown field \{\{sevrity\}\}.*severity/);
  });

  it('does not expand a placeholder that a value brings in', () => {
    const template = new Template('{{title}} / {{service}}');
    expect(template.render(message('started', 'production', { title: '{{environment}}' }))).toBe(
      '{{environment}} / shop',
    );
  });
});
