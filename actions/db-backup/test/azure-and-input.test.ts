import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPgDatabase, dropPgDatabase, pgQuery, uniqueName } from '../../../test/helpers/databases.ts';
import { startAzurite, type RunningAzurite } from '../../../test/helpers/object-stores.ts';
import { generateKeyPairSync } from 'node:crypto';
import { Inputs } from '@deploy-suite/kit';
import { expectInputError, expectSettingsInputError } from '../../../test/helpers/expect-input-error.ts';
import { readSettings } from '../src/settings.ts';
import { leakedSecrets } from '../../../test/helpers/run-action.ts';
import { backupAction, errorOf, outputsOf, tempDir, TEST_KEYS } from './helpers.ts';

const OTHER_VERIFY_KEY = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();

let azurite: RunningAzurite;
let source: string;
const dropLater: string[] = [];
const url = (database: string) => `postgres://postgres@127.0.0.1:5432/${database}`;

beforeAll(async () => {
  [azurite, source] = await Promise.all([startAzurite(), createPgDatabase('bkaz')]);
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
  for (const name of [source, ...dropLater]) await dropPgDatabase(name);
});

describe('db-backup on Azure Blob (azurite) with a passphrase', () => {
  const passphrase = 'correct horse battery staple 42';

  it('backs up, verifies and restores, keeping the account key and passphrase out of sight', async () => {
    const common = {
      'database-url': url(source),
      store: 'azure://backups/prod',
      'azure-connection-string': azurite.connectionString,
      passphrase,
    };
    const backup = await backupAction({
      ...common,
      compression: 'gzip',
      'compression-level': '9',
      labels: 'pre-deploy',
    });
    expect(errorOf(backup)).toBe('');
    const out = outputsOf(backup);
    expect(out.location).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:\\d+/devstoreaccount1/backups/prod/${source}/${out.id}\\.dump\\.gz\\.age$`),
    );
    const verify = await backupAction({ ...common, command: 'verify', labels: 'pre-deploy' });
    expect(errorOf(verify)).toBe('');
    expect(verify.outputs.verified).toBe('true');
    const target = uniqueName('bkazcopy');
    dropLater.push(target);
    const restore = await backupAction({
      ...common,
      command: 'restore',
      'target-database': target,
      'backup-id': out.id,
    });
    expect(errorOf(restore)).toBe('');
    const rows = await pgQuery(target, 'SELECT count(*)::int AS n FROM orders');
    expect(rows.rows[0].n).toBe(1200);
    for (const run of [backup, verify, restore])
      expect(leakedSecrets(run, [passphrase, azurite.accountKey])).toEqual([]);
  });

  it('keeps a SAS connection string out of the location, logs, outputs and summary', async () => {
    const {
      AccountSASPermissions,
      AccountSASResourceTypes,
      AccountSASServices,
      generateAccountSASQueryParameters,
      StorageSharedKeyCredential,
    } = await import('@azure/storage-blob');
    const sas = generateAccountSASQueryParameters(
      {
        expiresOn: new Date(Date.now() + 3_600_000),
        permissions: AccountSASPermissions.parse('rwdlac'),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        services: AccountSASServices.parse('b').toString(),
      },
      new StorageSharedKeyCredential('devstoreaccount1', azurite.accountKey),
    ).toString();
    const blobEndpoint = /BlobEndpoint=([^;]+)/.exec(azurite.connectionString)![1]!;
    const sig = new URLSearchParams(sas).get('sig')!;
    const run = await backupAction({
      'database-url': url(source),
      store: 'azure://backups/sas',
      'azure-connection-string': `BlobEndpoint=${blobEndpoint};SharedAccessSignature=${sas}`,
      passphrase,
    });
    expect(errorOf(run)).toBe('');
    const out = outputsOf(run);
    expect(out.location).toMatch(new RegExp(`^${blobEndpoint}/backups/sas/${source}/${out.id}\\.dump\\.zst\\.age$`));
    expect(leakedSecrets(run, [sas, sig, encodeURIComponent(sig)])).toEqual([]);
  });

  it('refuses a passphrase that does not open the backup, before touching anything', async () => {
    const target = uniqueName('bkaznever');
    const run = await backupAction({
      'database-url': url(source),
      store: 'azure://backups/prod',
      'azure-connection-string': azurite.connectionString,
      passphrase: 'not the passphrase',
      command: 'restore',
      'target-database': target,
    });
    expect(run.exitCode).toBe(1);
    expect(errorOf(run)).toMatch(/cannot be decrypted with the key given/);
    expect((await pgQuery('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [target])).rowCount).toBe(0);
  });
});

describe('db-backup refuses to store plaintext by accident', () => {
  it('needs recipients or a passphrase unless allow-unencrypted is true', async () => {
    const refused = await backupAction({ 'database-url': url(source), store: tempDir() });
    expect(errorOf(refused)).toMatch(/^Input 'recipients' is required: backups are encrypted/);
    const allowed = await backupAction({ 'database-url': url(source), store: tempDir(), 'allow-unencrypted': 'true' });
    expect(errorOf(allowed)).toBe('');
    expect(allowed.annotations.map((a) => a.message)).toContain(
      'This backup is not encrypted (allow-unencrypted is true).',
    );
  });
});

describe('bad input', () => {
  const { recipient } = { recipient: 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p' };
  const secret = 'Sup3r-S3cret-pw';
  const cases: [string, Record<string, string>, string, RegExp][] = [
    [
      'an unknown engine',
      { engine: 'oracle', host: 'db', user: 'u', database: 'd' },
      'engine',
      /must be postgres or mysql/,
    ],
    [
      'an unknown URL scheme',
      { 'database-url': `oracle://u:${secret}@db/d` },
      'database-url',
      /must be postgres or mysql/,
    ],
    [
      'a URL with a bad port',
      { 'database-url': `postgres://u:${secret}@db:99999/shop` },
      'database-url',
      /has a bad port "99999"/,
    ],
    [
      'a URL with a port that is not a number',
      { 'database-url': `postgres://u:${secret}@db:54x2/shop` },
      'database-url',
      /has a bad port "54x2"/,
    ],
    [
      'a discrete bad port',
      { engine: 'postgres', host: 'db', port: '0', user: 'u', database: 'd', password: secret },
      'port',
      /from 1 to 65535/,
    ],
    [
      'a recipient that is not an age key',
      { recipients: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI' },
      'recipients',
      /not an age X25519 recipient/,
    ],
    [
      'an identity that is not an age key',
      { command: 'restore', 'target-database': 'other', identity: secret },
      'identity',
      /not an age X25519 identity/,
    ],
    ['retention "30x"', { command: 'prune', 'keep-daily': '30x' }, 'keep-daily', /must be a whole number, got "30x"/],
    [
      'a restore over the source without confirm',
      { command: 'restore' },
      'confirm',
      /must repeat "shop" to restore over the source database itself/,
    ],
    ['an unknown command', { command: 'backupp' }, 'command', /must be one of backup, restore, verify, prune, list/],
    [
      'an unknown store scheme',
      { store: 'gs://bucket/x' },
      'store',
      /must be a folder, s3:\/\/bucket\/prefix or azure:\/\/container\/prefix/,
    ],
    ['a compression level out of range', { 'compression-level': '25' }, 'compression-level', /at most 19/],
    [
      'a target that libpq would read as a connection string',
      { command: 'restore', 'target-database': 'host=203.0.113.9 dbname=shop', identity: '' },
      'target-database',
      /must be a database name, not a connection string/,
    ],
    ['a signing key that is not PEM', { 'signing-key': secret }, 'signing-key', /is not a PEM private key/],
    [
      'a private key where the public verify key goes',
      { command: 'list', 'signing-key': '', 'verify-key': TEST_KEYS.signing },
      'verify-key',
      /must be the public key, not the private one/,
    ],
    [
      'a verify key of another pair than the signing key',
      { 'verify-key': OTHER_VERIFY_KEY },
      'verify-key',
      /is the public half of another key/,
    ],
    ['no signing key for a backup', { 'signing-key': '' }, 'signing-key', /is required for backup/],
    ['an unknown ssl-mode', { 'ssl-mode': 'verify-all' }, 'ssl-mode', /verify-full/],
  ];

  const valuesOf = (inputs: Record<string, string>): Record<string, string> => ({
    ...('engine' in inputs ? {} : { 'database-url': `postgres://u:${secret}@db.invalid:5432/shop` }),
    store: tempDir(),
    recipients: recipient,
    'signing-key': TEST_KEYS.signing,
    ...inputs,
  });

  it.each(cases)('%s: names the input, shows an example, prints no secret', (_label, inputs, input, pattern) => {
    const values = valuesOf(inputs);
    expectSettingsInputError(() => readSettings(new Inputs((name) => values[name])), input, pattern, [secret]);
  });

  // A few the runner's way: the same errors reach the step as one annotation, with nothing leaked.
  it.each(cases.filter(([label]) => ['a URL with a bad port', 'a signing key that is not PEM'].includes(label)))(
    '%s, run as the runner runs it',
    async (_label, inputs, input, pattern) => {
      expectInputError(await backupAction(valuesOf(inputs)), input, pattern, [secret]);
    },
  );
});
