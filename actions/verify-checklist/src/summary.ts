import type { ChecklistOutcome } from '@deploy-suite/checklist';
import { md, type JobSummary } from '@deploy-suite/kit';

const ICON = { pass: '✅', fail: '❌', waived: '⚠️' } as const;

function age(iso: string | undefined, now: number): string {
  const at = iso === undefined ? Number.NaN : Date.parse(iso);
  if (!Number.isFinite(at)) return '—';
  const minutes = Math.max(0, Math.floor((now - at) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.floor(hours / 24)} d`;
}

/** One row per item: outcome, code, age of its evidence, reason, link, and any waiver. */
export function renderSummary(summary: JobSummary, outcome: ChecklistOutcome, now: number): void {
  const { evidence } = outcome;
  summary.heading(`${evidence.verdict === 'pass' ? '✅' : '❌'} Pre-deployment checklist: ${evidence.verdict}`);
  summary.paragraph(
    md(
      `${evidence.sha} for ${evidence.environment}${evidence.pullRequest === null ? '' : `, pull request #${evidence.pullRequest}`}. Evidence hash ${outcome.evidenceHash}.`,
    ),
  );
  summary.table(
    ['', 'Item', 'Required', 'Code', 'Age', 'Reason', 'Evidence'],
    evidence.items.map((item) => [
      ICON[item.outcome],
      item.name,
      item.required ? 'yes' : 'no',
      item.code,
      age(item.observedAt, now),
      item.waiver
        ? `${item.reason} — waived by ${item.waiver.grantedBy} until ${item.waiver.expires}: ${item.waiver.reason}`
        : item.reason,
      item.url ?? item.waiver?.url ?? '—',
    ]),
  );
  if (outcome.refusedWaivers.length > 0) {
    summary.paragraph(
      [
        'Waivers that do not count:',
        ...outcome.refusedWaivers.map((w) => `- ${md(w.by)}: ${md(w.why)} (${md(w.url)})`),
      ].join('\n'),
    );
  }
}
