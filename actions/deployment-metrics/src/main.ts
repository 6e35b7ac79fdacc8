import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as core from '@actions/core';
import { createGitHubClient, tokenLogin } from '@deploy-suite/github';
import { ConfigurationError, errorMessage, Inputs, JobSummary, redact, runAction, setOutput } from '@deploy-suite/kit';
import {
  commitDates,
  deploymentSeries,
  doraFigures,
  pushMetrics,
  readDeployments,
  renderPrometheus,
  type EnvironmentFigures,
} from '@deploy-suite/metrics';
import { readSettings } from './settings.ts';
import { renderSummary, type Delivery } from './summary.ts';

/** Records this long before the window are read too: a SHA deployed then is not new in the window. */
const LOOK_BACK_MS = 7 * 86_400_000;

const summary = new JobSummary();
const log = (message: string) => core.info(redact(message));
const warn = (message: string) => core.warning(redact(message));

await runAction(async () => {
  const settings = readSettings(new Inputs());
  for (const warning of settings.warnings) warn(warning);
  const repository = `${settings.repo.owner}/${settings.repo.repo}`;
  const octokit = createGitHubClient({ token: settings.token, log: { warn } });
  let requests = 0;
  octokit.hook.before('request', () => {
    requests++;
  });

  const author = settings.author ?? (await tokenLogin(octokit, 'github-actions[bot]'));
  const to = new Date();
  const from = new Date(to.getTime() - settings.windowMs);
  const since = new Date(from.getTime() - LOOK_BACK_MS);
  log(
    `Reading the deployment records of ${author} in ${repository}${settings.environments ? ` (${settings.environments.join(', ')})` : ''} since ${since.toISOString()}`,
  );
  const read = await readDeployments(octokit, settings.repo, {
    since,
    author,
    ...(settings.environments === undefined ? {} : { environments: settings.environments }),
  });
  const named = settings.environments === undefined ? {} : { environments: settings.environments };
  const report = await doraFigures(read.records, {
    window: { from, to },
    commits: commitDates(octokit, settings.repo),
    ...named,
  });
  const series = deploymentSeries(read.records, { from, to }, named);
  const inWindow = read.records.filter((r) => {
    const created = Date.parse(r.createdAt);
    return created >= from.getTime() && created < to.getTime();
  }).length;
  const facts = {
    repository,
    author,
    since: since.toISOString(),
    records: read.records.length,
    deployments: inWindow,
    requests,
    notModified: read.notModified,
    skipped: read.skipped,
  };
  const document = {
    repository,
    author,
    window: report.window,
    environments: report.environments,
    series,
    read: {
      since: facts.since,
      records: facts.records,
      deployments: facts.deployments,
      requests: facts.requests,
      notModified: facts.notModified,
      skipped: facts.skipped,
    },
  };
  for (const f of report.environments) log(describe(f));
  if (read.records.length === 0 && read.skipped > 0) {
    warn(
      `${read.skipped} deployments were listed, but none is a deployment record made by ${author} since ${since.toISOString()}: if the records were made by another account (github-actions[bot] for the workflow's GITHUB_TOKEN, <app>[bot] for an app), name it in author`,
    );
  }
  log(`${read.records.length} records read in ${requests} API requests (${read.notModified} answered 304)`);

  // The figures are published before any file or push, so a failing sink never hides them.
  setOutput('json', document);
  setOutput('deployments', inWindow);
  setOutput('requests', requests);
  // One output per figure, each keyed by environment.
  const figures = {
    'deployment-frequency': (f: EnvironmentFigures) => f.deploymentFrequencyPerDay,
    'lead-time-hours': (f: EnvironmentFigures) => f.leadTimeHours,
    'change-failure-rate': (f: EnvironmentFigures) => f.changeFailureRate,
    'time-to-restore-hours': (f: EnvironmentFigures) => f.timeToRestoreHours,
  };
  for (const [name, figure] of Object.entries(figures)) setOutput(name, perEnvironment(report.environments, figure));

  const deliveries: Delivery[] = [];
  const problems: string[] = [];
  // The textfile's samples carry the repository; the Pushgateway's get it from the group, as
  // pushed metrics must not hold a grouping label of their own.
  const exposition = renderPrometheus(report, { labels: { repository } });
  if (settings.jsonFile !== undefined) {
    const path = settings.jsonFile;
    deliveries.push(
      writeSink('json-file', path, `${JSON.stringify(document, null, 2)}\n`, problems, 'json-file: dora.json'),
    );
  }
  if (settings.prometheusFile !== undefined) {
    deliveries.push(
      writeSink(
        'prometheus-file',
        settings.prometheusFile,
        exposition,
        problems,
        'prometheus-file: /var/lib/node_exporter/textfile_collector/dora.prom',
      ),
    );
  }
  if (settings.pushgateway !== undefined) {
    const gateway = settings.pushgateway;
    try {
      const pushed = await pushMetrics({
        url: gateway.url,
        job: gateway.job,
        grouping: { repository },
        body: renderPrometheus(report),
        ...(gateway.authorization === undefined ? {} : { authorization: gateway.authorization }),
      });
      const detail = `PUT ${pushed.url.href}: ${pushed.status}`;
      log(`Pushed the figures to the Pushgateway: ${detail}`);
      deliveries.push({ sink: 'pushgateway-url', ok: true, detail });
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      problems.push(error.message);
      deliveries.push({ sink: 'pushgateway-url', ok: false, detail: error.message });
    }
  }
  renderSummary(summary, report, series, facts, deliveries);
  if (problems.length > 0) {
    throw new ConfigurationError(
      `The figures were computed (see the outputs and the job summary) but ${problems.length === 1 ? 'one place' : `${problems.length} places`} did not get them: ${problems.join(' ')}`,
    );
  }
}, summary);

/** A figure per environment, as one JSON object: fromJSON(steps.dora.outputs.lead-time-hours).production. */
function perEnvironment(
  environments: EnvironmentFigures[],
  figure: (f: EnvironmentFigures) => number | null,
): Record<string, number | null> {
  return Object.fromEntries(environments.map((f) => [f.environment, figure(f)]));
}

function describe(f: EnvironmentFigures): string {
  const show = (value: number | null, unit = '') =>
    value === null ? 'none' : `${Math.round(value * 100) / 100}${unit}`;
  return `${JSON.stringify(f.environment)}: ${show(f.deploymentFrequencyPerDay)} deployments/day (${f.successful}), lead time ${show(f.leadTimeHours, ' h')}, change failure rate ${f.changeFailureRate === null ? 'none' : `${Math.round(f.changeFailureRate * 1000) / 10}% (${f.failed}/${f.finished})`}, time to restore ${show(f.timeToRestoreHours, ' h')}${f.unrestored > 0 ? ` (${f.unrestored} unrestored)` : ''}`;
}

/**
 * Writes a file whole or not at all: a temporary file beside it, renamed over it, so a textfile
 * collector scraping mid-write never reads half an exposition.
 */
function writeSink(input: string, path: string, text: string, problems: string[], example: string): Delivery {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, text, { mode: 0o644 });
    renameSync(temporary, path);
    log(`Wrote ${path}`);
    return { sink: input, ok: true, detail: path };
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? errorMessage(error);
    const problem = `Could not write ${input} "${path}" (${code}): point ${input} at a writable file, e.g. ${example}.`;
    problems.push(problem);
    return { sink: input, ok: false, detail: problem };
  }
}
