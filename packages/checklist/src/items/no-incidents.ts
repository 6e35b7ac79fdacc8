import { onGitHub } from '@deploy-suite/github';
import { quoteUntrusted } from '@deploy-suite/kit';
import { z } from 'zod';
import type { ItemKind } from '../item.ts';
import { fail, pass, requiredSchema, shortList, unavailable } from './rule-support.ts';

export const noIncidentsSchema = z.strictObject({
  required: requiredSchema,
  /** The label every incident issue carries. */
  label: z.string().trim().min(1, 'names no label').default('incident'),
  /** The severities that block a deployment, as labels: "P1", or with a prefix such as "severity:P1". */
  severities: z
    .array(z.string().trim().min(1, 'a severity cannot be empty'))
    .min(1, 'needs at least one severity')
    .default(['P1', 'P2']),
  /** Only incidents also labelled with the service's label count. */
  'service-label': z.string().trim().min(1, 'names no label').optional(),
});
export type NoIncidentsRule = z.infer<typeof noIncidentsSchema>;

/**
 * The severity a label names, if it is one of them: the label itself ("P1") or what follows a
 * prefix ending in ":" or "/" ("severity:P1", "sev/p1"), compared without case.
 */
export function severityOf(label: string, severities: readonly string[]): string | undefined {
  const lower = label.trim().toLowerCase();
  const tail = lower.replace(/^.*[:/]\s*/, '');
  return severities.find((severity) => {
    const wanted = severity.toLowerCase();
    return lower === wanted || tail === wanted;
  });
}

/** No incidents: no open issue with the incident label (and the service's) carries a blocking severity. */
export const noIncidents: ItemKind<NoIncidentsRule> = {
  id: 'no-incidents',
  schema: noIncidentsSchema,
  async evaluate(rule, context) {
    const base = { id: 'no-incidents', name: 'No open incident', required: rule.required };
    const service = rule['service-label'];
    const facts = { label: rule.label, severities: rule.severities, serviceLabel: service ?? null };
    const { octokit, repo } = context;
    let issues;
    try {
      const labels = service === undefined ? rule.label : `${rule.label},${service}`;
      issues = await onGitHub({ doing: `listing the open issues labelled ${labels}` }, () =>
        octokit.paginate(octokit.rest.issues.listForRepo, { ...repo, state: 'open', labels, per_page: 100 }),
      );
    } catch (error) {
      return unavailable(base, 'list the open incidents', error, facts);
    }
    const incidents = issues
      .filter((issue) => issue.pull_request === undefined && issue.state === 'open')
      .map((issue) => {
        const names = issue.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? '')));
        // The API filters by label already; a listing that did not is read again here (fail closed).
        // GitHub's label names match whatever their case, so these do too.
        const lower = names.map((name) => name.toLowerCase());
        if (
          !lower.includes(rule.label.toLowerCase()) ||
          (service !== undefined && !lower.includes(service.toLowerCase()))
        )
          return undefined;
        const severity = names.map((name) => severityOf(name, rule.severities)).find((found) => found !== undefined);
        return severity === undefined
          ? undefined
          : { number: issue.number, severity, title: issue.title, url: issue.html_url };
      })
      .filter((incident) => incident !== undefined)
      .sort((a, b) => a.number - b.number);
    if (incidents.length === 0)
      return pass(
        base,
        'ok',
        `No open issue labelled ${quoteUntrusted(rule.label, 60)}${service === undefined ? '' : ` and ${quoteUntrusted(service, 60)}`} carries ${rule.severities.join(' or ')}.`,
        { ...facts, incidents: [] },
      );
    const shown = incidents.map(
      (incident) => `#${incident.number} (${incident.severity}: ${quoteUntrusted(incident.title, 80)})`,
    );
    return fail(
      base,
      'open-incident',
      `${incidents.length} open incident(s): ${shortList(shown)}.`,
      { ...facts, incidents: incidents.map(({ number, severity }) => ({ number, severity })) },
      { url: incidents[0]!.url },
    );
  },
};
