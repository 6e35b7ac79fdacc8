import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Inputs } from '@deploy-suite/kit';
import { apply, baseline, plan, repair, testMigrations, undo, validate } from '@deploy-suite/db/migrate';
import { dropPgDatabase, pgQuery, uniqueName } from '../../../test/helpers/databases.ts';
import { expectInputError, expectSettingsInputError } from '../../../test/helpers/expect-input-error.ts';
import { readSettings } from '../src/settings.ts';
import { migrate, migrationsFolder } from './helpers.ts';

/*
 * Bad input, in process and in milliseconds: the settings read as the entry point reads them,
 * then the command's domain call, which refuses what only the folder shows (names, versions,
 * directives, SQL). A few cases also run the built action the runner's way.
 */

// Its own database: a command refused part-way must not leave a history table anywhere else.
const database = uniqueName('migbad');
beforeAll(async () => {
  await pgQuery('postgres', `CREATE DATABASE ${database}`);
});
afterAll(async () => {
  await dropPgDatabase(database);
});

describe('migrate bad input', () => {
  const secret = 'mig-Secret-pw9';
  const cases: [string, Record<string, string>, string, RegExp][] = [
    ['a missing folder', { folder: '/nonexistent/migrations' }, 'folder', /names a folder that does not exist/],
    [
      'a file named with one underscore',
      { folder: migrationsFolder({ 'V1_x.sql': 'SELECT 1;' }) },
      'folder',
      /V1_x\.sql/,
    ],
    [
      'two files with the same version',
      { folder: migrationsFolder({ 'V1__a.sql': 'SELECT 1;', 'V1.0__b.sql': 'SELECT 2;', 'V01__c.sql': 'SELECT 3;' }) },
      'folder',
      /has two files for version 1/,
    ],
    [
      'an unknown command',
      { command: 'migrate' },
      'command',
      /must be one of plan, apply, validate, undo, test, repair/,
    ],
    [
      'a target version that does not exist',
      { command: 'apply', 'target-version': '7' },
      'target-version',
      /names version 7, which no V file/,
    ],
    [
      'a directive with a typo',
      { folder: migrationsFolder({ 'V1__a.sql': '-- migrate: no-transction\nSELECT 1;' }) },
      'folder',
      /unknown directive "no-transction" in V1__a\.sql/,
    ],
    [
      'SQL that does not parse',
      { folder: migrationsFolder({ 'V1__a.sql': 'SELECT 1;\nCREAT TABLE x (id int);' }) },
      'folder',
      /does not parse in V1__a\.sql: syntax error at or near "CREAT" at line 2/,
    ],
    ['repair without a version', { command: 'repair' }, 'repair-version', /is required for repair/],
    [
      'repair of something that is no version',
      { command: 'repair', 'repair-version': 'R__views.sql' },
      'repair-version',
      /must be a version such as 3 or 1\.10, got "R__views\.sql"/,
    ],
    [
      'transaction control in a migration',
      { folder: migrationsFolder({ 'V1__a.sql': 'CREATE TABLE a (id int);\nCOMMIT;' }) },
      'folder',
      /has transaction control in V1__a\.sql: COMMIT at line 2/,
    ],
  ];
  const valuesOf = (inputs: Record<string, string>): Record<string, string> => ({
    command: 'plan',
    folder: migrationsFolder({ 'V1__a.sql': 'SELECT 1;' }),
    'database-url': `postgres://postgres:${secret}@127.0.0.1:5432/${database}`,
    ...inputs,
  });

  /** What the entry point does, in process: read the settings, then run the command's domain call. */
  const runInProcess = async (values: Record<string, string>): Promise<unknown> => {
    const settings = readSettings(new Inputs((name) => values[name]));
    const { command, options } = settings;
    if (command === 'test') return testMigrations(options);
    if (command === 'repair') return repair({ ...options, repairVersion: settings.repairVersion! });
    return { plan, apply, validate, undo, baseline }[command](options);
  };

  it.each(cases)('%s: names the input and shows an example', async (_label, inputs, input, pattern) => {
    const values = valuesOf(inputs);
    // Whatever came back, an InputError or anything else, is judged as reading the settings would be.
    const refusal = await runInProcess(values).then(
      () => new Error('nothing was refused'),
      (error: unknown) => error as Error,
    );
    expectSettingsInputError(
      () => {
        throw refusal;
      },
      input,
      pattern,
      [secret],
    );
  });

  // A few the runner's way: the same errors reach the step as one annotation, with nothing leaked.
  it.each(
    cases.filter(([label]) =>
      ['an unknown command', 'SQL that does not parse', 'a target version that does not exist'].includes(label),
    ),
  )('%s, run as the runner runs it', async (_label, inputs, input, pattern) => {
    expectInputError(await migrate(valuesOf(inputs)), input, pattern, [secret]);
  });
});
