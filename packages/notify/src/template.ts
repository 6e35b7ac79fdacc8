import { InputError } from '@deploy-suite/kit';
import { statusWord, type DeploymentMessage } from './message.ts';

/** The fields a template may name, and how each reads from a message. */
const FIELDS: Record<string, (m: DeploymentMessage) => string | undefined> = {
  service: (m) => m.service,
  environment: (m) => m.environment,
  version: (m) => m.version,
  sha: (m) => m.sha,
  'short-sha': (m) => m.sha?.slice(0, 7),
  status: (m) => statusWord(m.status),
  severity: (m) => m.severity,
  'change-type': (m) => m.changeType,
  title: (m) => m.title,
  impact: (m) => m.impact,
  approvers: (m) => (m.approvers.length > 0 ? m.approvers.join(', ') : undefined),
  'backup-id': (m) => m.backupId,
  'plan-hash': (m) => m.planHash,
  'smoke-verdict': (m) => m.smokeVerdict,
  'run-url': (m) => m.runUrl,
  repository: (m) => m.repository,
  'window-start': (m) => m.window?.start,
  'window-end': (m) => m.window?.end,
};

export const TEMPLATE_FIELDS = Object.keys(FIELDS);
export const TEMPLATE_EXAMPLE = 'template: "{{service}} {{version}} to {{environment}}: {{status}}"';

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/**
 * A headline template: text with {{field}} placeholders, checked when read so that a misspelt
 * field fails the step at once instead of sending "{{sevrity}}" to every channel. Values are
 * inserted as plain text; each channel escapes the result as it escapes any user text.
 */
export class Template {
  private readonly text: string;
  constructor(text: string, input = 'template') {
    for (const match of text.matchAll(PLACEHOLDER)) {
      const name = match[1]!;
      // Own fields only: {{constructor}} or {{__proto__}} name no field.
      if (!Object.hasOwn(FIELDS, name)) {
        throw new InputError(
          input,
          `names an unknown field {{${name}}}; the fields are ${TEMPLATE_FIELDS.join(', ')}`,
          TEMPLATE_EXAMPLE,
        );
      }
    }
    if (text.length > 2000)
      throw new InputError(input, `is ${text.length} characters long; at most 2000`, TEMPLATE_EXAMPLE);
    this.text = text;
  }

  render(message: DeploymentMessage): string {
    return this.text.replace(PLACEHOLDER, (_, name: string) => FIELDS[name]!(message) ?? '—');
  }
}
