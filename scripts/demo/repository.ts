// The demo's service repository at one release: what a service team keeps in its repository for
// the pipeline (migrations, the checklist rules, the change policy, the smoke checks), written
// into the demo's checkout folder, which is every action's GITHUB_WORKSPACE.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Release n's migrations: the first creates the schema; each later one adds a column (expand)
 * and drops the column the release before added, which the old colour still read (contract). */
function migrations(release: number): Record<string, string> {
  const files: Record<string, string> = {
    'V1__orders.sql': [
      '-- migrate: phase=expand',
      'CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);',
      'CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), total_cents int NOT NULL);',
      "INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 200) AS g;",
      'INSERT INTO orders SELECT g, 1 + g % 200, 100 * g FROM generate_series(1, 1200) AS g;',
      '',
    ].join('\n'),
  };
  for (let n = 2; n <= release; n++) {
    files[`V${2 * n - 2}__gift_note_${n}.sql`] =
      `-- migrate: phase=expand\nALTER TABLE orders ADD COLUMN gift_note_${n} text;\n`;
    if (n > 2) {
      files[`V${2 * n - 1}__drop_gift_note_${n - 1}.sql`] =
        `-- migrate: phase=contract\nALTER TABLE orders DROP COLUMN gift_note_${n - 1};\n`;
    }
  }
  return files;
}

/** A change policy for a demo that may run at any hour: one monthly window for normal changes
 * placed around now, a daily one for standard changes, and no notice period. */
export function demoPolicy(now: Date): string {
  const start = new Date(now.getTime() - 60 * 60_000);
  const day = start.getUTCDate();
  const ordinal = day > 28 ? 'last' : (['first', 'second', 'third', 'fourth'] as const)[Math.ceil(day / 7) - 1];
  const weekday = start.toLocaleDateString('en-GB', { weekday: 'long', timeZone: 'UTC' }).toLowerCase();
  const hour = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
  const from = start.getUTCHours();
  return [
    'time-zone: UTC',
    'windows:',
    `  - { on: "${ordinal} ${weekday}", time: "${hour(from)}-${hour(from + 4)}" }`,
    `  - { on: daily, time: "${hour(from)}-${hour(from + 4)}", for: [standard] }`,
    'notice: 0s',
    'approvals: { low: 1, medium: 1, high: 2 }',
    '',
  ].join('\n');
}

export const CHECKLIST_RULES = `items:
  tests-passing:
    required-checks: [{ name: build, app: github-actions }]
  review-approved: { approvals: 1 }
  task-list: true
environments:
  development:
    items:
      review-approved: false
  production:
    items:
      staging-passed: { environment: staging, max-age: 1d }
      no-incidents: { severities: [P1, P2] }
`;

export const SMOKE_CHECKS = `- name: health
  url: /health
  expect: { status: 200, json: { status: ok }, max-latency: 1s }
- name: home page
  url: /
  expect: { status: 200, body-contains: Shop, headers: { content-type: text/html } }
`;

/** Writes the repository at release n into `dir` (replacing what was there). */
export function writeRepository(dir: string, release: number, now: Date): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'db', 'migrations'), { recursive: true });
  mkdirSync(join(dir, '.github'), { recursive: true });
  for (const [name, text] of Object.entries(migrations(release)))
    writeFileSync(join(dir, 'db', 'migrations', name), text);
  writeFileSync(join(dir, '.github', 'deploy-checklist.yml'), CHECKLIST_RULES);
  writeFileSync(join(dir, '.github', 'change-policy.yml'), demoPolicy(now));
  writeFileSync(join(dir, '.github', 'smoke-checks.yml'), SMOKE_CHECKS);
}
