// Writes each action README's input and output tables from its action.yml; --check fails on drift.
// It also checks what every action.yml must declare (node24, dist/index.js, descriptions, branding).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { actionDirs, readActionMetadata, type ActionMetadata } from './actions.ts';

const START = '<!-- action-docs:start -->';
const END = '<!-- action-docs:end -->';
const check = process.argv.includes('--check');

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ').trim();

export function renderTables(meta: ActionMetadata): string {
  const lines = ['### Inputs', '', '| Input | Required | Default | Description |', '| --- | --- | --- | --- |'];
  for (const [name, input] of Object.entries(meta.inputs ?? {})) {
    const fallback = input.default === undefined || input.default === '' ? '' : `\`${cell(input.default)}\``;
    lines.push(`| \`${name}\` | ${input.required ? 'yes' : 'no'} | ${fallback} | ${cell(input.description ?? '')} |`);
  }
  lines.push('', '### Outputs', '', '| Output | Description |', '| --- | --- |');
  for (const [name, output] of Object.entries(meta.outputs ?? {}))
    lines.push(`| \`${name}\` | ${cell(output.description ?? '')} |`);
  return lines.join('\n');
}

function problemsOf(name: string, meta: ActionMetadata): string[] {
  const problems: string[] = [];
  if (meta.runs?.using !== 'node24') problems.push(`${name}: runs.using must be node24`);
  if (meta.runs?.main !== 'dist/index.js') problems.push(`${name}: runs.main must be dist/index.js`);
  if (!meta.description) problems.push(`${name}: description is missing`);
  if (!meta.branding?.icon || !meta.branding.color) problems.push(`${name}: branding needs icon and color`);
  for (const [input, spec] of Object.entries(meta.inputs ?? {}))
    if (!spec.description) problems.push(`${name}: input ${input} has no description`);
  for (const [output, spec] of Object.entries(meta.outputs ?? {}))
    if (!spec.description) problems.push(`${name}: output ${output} has no description`);
  return problems;
}

const problems: string[] = [];
for (const { name, dir } of actionDirs()) {
  const meta = readActionMetadata(dir);
  problems.push(...problemsOf(name, meta));
  const readmePath = join(dir, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) {
    problems.push(`${name}: README.md lacks the ${START} … ${END} markers`);
    continue;
  }
  const updated = `${readme.slice(0, start + START.length)}\n${renderTables(meta)}\n${readme.slice(end)}`;
  if (updated === readme) continue;
  if (check) problems.push(`${name}: README.md tables differ from action.yml; run \`pnpm docs\``);
  else {
    writeFileSync(readmePath, updated);
    console.log(`updated actions/${name}/README.md`);
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(check ? 'docs: every README matches its action.yml' : 'docs: up to date');
