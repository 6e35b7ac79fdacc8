import { isAbsolute, resolve } from 'node:path';
import { InputError, Inputs, registerSecret } from '@deploy-suite/kit';
import {
  MARIADB_PHYSICAL_REFUSES,
  PG_PHYSICAL_REFUSES,
  PHYSICAL_ONLY,
  readMariaDbPhysical,
  readPgPhysicalSettings,
  refuseOutsideMethod,
  type PhysicalSettings,
} from './physical-settings.ts';
import { parseConnectionUrl, readConnectionInputs, readTlsInputs, type Connection } from '@deploy-suite/db';
import {
  checkIdentity,
  checkRecipient,
  COMPRESSION_LEVELS,
  LocalStore,
  parseSigningKey,
  parseVerifyKey,
  SIGNING_KEY_EXAMPLE,
  type BackupStore,
  type ManifestSigner,
  type ManifestVerifier,
  type Compression,
  type DecryptionSettings,
  type EncryptionSettings,
  type RetentionPolicy,
} from '@deploy-suite/storage';

export const COMMANDS = ['backup', 'restore', 'verify', 'prune', 'list', 'check'] as const;
export type Command = (typeof COMMANDS)[number];
export const METHODS = ['logical', 'physical'] as const;
export type Method = (typeof METHODS)[number];

export interface Settings {
  command: Command;
  /** logical (verified dumps) or physical (pgBackRest / mariadb-backup with point-in-time recovery). */
  method: Method;
  /** method physical: the engine's own settings; undefined for logical. */
  physical: PhysicalSettings | undefined;
  connection: Connection;
  /** Opens the store; S3 and Azure SDKs load only when used. */
  openStore: () => Promise<BackupStore>;
  compression: Compression;
  level: number | undefined;
  encryption: EncryptionSettings;
  decryption: DecryptionSettings;
  /** Restore and verify refuse an unencrypted backup unless this is set. */
  allowUnencrypted: boolean;
  /** Signs manifests (backup, verify); absent for commands that only read the catalog. */
  signer: ManifestSigner | undefined;
  /** Authenticates every manifest before any of its fields is used. */
  verifier: ManifestVerifier;
  /** verify: the server the scratch database is made on; default the backup's own server. */
  scratchServer: Connection | undefined;
  labels: string[];
  backupId: string;
  target: string;
  confirm: string | undefined;
  /** restore over a database in use: end its sessions so it can be set aside. */
  terminateSessions: boolean;
  /** restore over a database: drop the replaced one instead of keeping it. */
  dropReplaced: boolean;
  /** Restore ownership and GRANTs as dumped. */
  privileges: boolean;
  verifyAfterBackup: boolean;
  policy: RetentionPolicy;
  dryRun: boolean;
  pgBinDir: string | undefined;
  dump: { format: 'custom' | 'directory'; jobs: number };
  /** check, and verify of the latest backup: how old the newest good data may be (the RPO). */
  maxAgeMs: number;
  /** verify (a DR drill): how long the restore may take (the RTO). */
  maxRtoMs: number;
}

/** Reads every input once. Secrets are masked first, before anything can echo them. */
export function readSettings(inputs: Inputs): Settings {
  for (const name of [
    'database-url',
    'password',
    'passphrase',
    'identity',
    'aws-secret-access-key',
    'azure-connection-string',
    'signing-key',
    'scratch-server-url',
    'repo-passphrase',
  ])
    inputs.secret(name);
  const command = inputs.oneOf('command', COMMANDS, 'backup');
  const method = inputs.oneOf('method', METHODS, 'logical');
  const connection = readConnectionInputs(inputs);
  if (method === 'logical') refuseOutsideMethod(inputs, 'logical', PHYSICAL_ONLY);
  else if (connection.engine === 'postgres') {
    refuseOutsideMethod(inputs, 'physical', PG_PHYSICAL_REFUSES);
    return readPgPhysical(inputs, command, connection);
  } else refuseOutsideMethod(inputs, 'physical', MARIADB_PHYSICAL_REFUSES);
  const compression = inputs.oneOf('compression', ['zstd', 'gzip', 'none'] as const, 'zstd');
  // The effective level, default included, so the manifest records what was used.
  const level =
    compression === 'none'
      ? undefined
      : inputs.integer('compression-level', COMPRESSION_LEVELS[compression].default, COMPRESSION_LEVELS[compression]);
  const target = inputs.string('target-database', connection.database);
  // libpq reads a database name holding "=" or "://" as a connection string (another host, say).
  if (/=|:\/\//.test(target)) {
    throw new InputError(
      'target-database',
      'must be a database name, not a connection string',
      'target-database: shop_restored',
    );
  }
  const { signer, verifier } = readKeys(inputs, command);
  const scratchUrl = inputs.optional('scratch-server-url');
  const confirm = inputs.optional('confirm');
  if (method === 'logical' && command === 'restore' && target === connection.database && confirm !== target) {
    throw new InputError(
      'confirm',
      `must repeat "${target}" to restore over the source database itself (or set target-database to another database)`,
      `confirm: ${target}`,
    );
  }
  const physical = method === 'physical' ? readMariaDbPhysical(inputs, command, connection) : undefined;
  return {
    command,
    method,
    physical,
    connection,
    openStore: readStore(inputs),
    compression,
    level,
    encryption: command === 'backup' ? readEncryption(inputs) : { kind: 'none' },
    decryption: readDecryption(inputs),
    allowUnencrypted: inputs.boolean('allow-unencrypted', false),
    signer,
    verifier,
    scratchServer: readScratchServer(inputs, scratchUrl),
    labels: inputs.list('labels'),
    backupId: inputs.string('backup-id', 'latest'),
    target,
    confirm,
    terminateSessions: inputs.boolean('terminate-sessions', false),
    dropReplaced: inputs.boolean('drop-replaced', false),
    privileges: inputs.boolean('restore-privileges', true),
    verifyAfterBackup: inputs.boolean('verify', false),
    policy: readPolicy(inputs),
    dryRun: inputs.boolean('dry-run', false),
    pgBinDir: inputs.optional('pg-bin-dir'),
    dump: {
      format: inputs.oneOf('pg-format', ['custom', 'directory'] as const, 'custom'),
      jobs: inputs.integer('jobs', 2, { min: 1, max: 32 }),
    },
    maxAgeMs: inputs.duration('max-age', '1h', { minMs: 60_000 }),
    maxRtoMs: inputs.duration('max-rto', '4h', { minMs: 1000 }),
  };
}

/**
 * PostgreSQL's physical path: pgBackRest holds the repository, its encryption and retention, so
 * the store, the age keys and the manifest keys do not apply (they are refused, see
 * PG_PHYSICAL_REFUSES); the logical fields are left inert.
 */
function readPgPhysical(inputs: Inputs, command: Command, connection: Connection): Settings {
  const physical = readPgPhysicalSettings(inputs, command, connection);
  const policy = readPolicy(inputs);
  physical.backrest.retentionFull = Math.max(1, policy.keepDaily);
  return {
    command,
    method: 'physical',
    physical,
    connection,
    openStore: () => Promise.reject(new Error('method physical on PostgreSQL uses the pgBackRest repository')),
    compression: 'none',
    level: undefined,
    encryption: { kind: 'none' },
    decryption: { identities: [] },
    allowUnencrypted: false,
    signer: undefined,
    verifier: { keyId: 'none', verify: () => false },
    scratchServer: undefined,
    labels: [],
    backupId: 'latest',
    target: connection.database,
    confirm: inputs.optional('confirm'),
    terminateSessions: false,
    dropReplaced: false,
    privileges: true,
    verifyAfterBackup: false,
    policy,
    dryRun: false,
    pgBinDir: inputs.optional('pg-bin-dir'),
    dump: { format: 'custom', jobs: 1 },
    maxAgeMs: inputs.duration('max-age', '1h', { minMs: 60_000 }),
    maxRtoMs: inputs.duration('max-rto', '4h', { minMs: 1000 }),
  };
}

function readPolicy(inputs: Inputs): RetentionPolicy {
  return {
    keepDaily: inputs.integer('keep-daily', 30, { min: 0, max: 100_000 }),
    keepWeekly: inputs.integer('keep-weekly', 0, { min: 0, max: 10_000 }),
    keepMonthly: inputs.integer('keep-monthly', 12, { min: 0, max: 10_000 }),
    keepYearly: inputs.integer('keep-yearly', 0, { min: 0, max: 1_000 }),
    keepPreDeployDays: inputs.integer('keep-pre-deploy-days', 14, { min: 0, max: 100_000 }),
  };
}

/**
 * verify's separate scratch server: its own TLS, decided from its own host (verify-full off
 * loopback, a warning when a remote connection is not verified) and trusting its own CA — never
 * the main connection's settings, which were chosen for another host.
 */
function readScratchServer(inputs: Inputs, url: string | undefined): Connection | undefined {
  if (url === undefined) {
    // Settings for a server that is not there are a mistake, not something to ignore.
    for (const name of [SCRATCH_TLS_INPUTS.mode, SCRATCH_TLS_INPUTS.ca]) {
      if (inputs.optional(name) !== undefined)
        throw new InputError(
          name,
          'applies only to scratch-server-url, which is not set (the main connection uses ssl-mode and ssl-ca)',
          'scratch-server-url: postgres://verifier@scratch-db.internal:5432/postgres',
        );
    }
    return undefined;
  }
  const server = parseConnectionUrl('scratch-server-url', url);
  return { ...server, tls: readTlsInputs(inputs, server.host, SCRATCH_TLS_INPUTS) };
}

const SCRATCH_TLS_INPUTS = { mode: 'scratch-ssl-mode', ca: 'scratch-ssl-ca' };

function readStore(inputs: Inputs): () => Promise<BackupStore> {
  const text = inputs.required('store', { example: 'store: s3://backups/shop' });
  const match = /^(s3|azure):\/\/([^/]+)\/?(.*)$/.exec(text);
  if (match?.[1] === 's3') {
    const accessKeyId = inputs.optional('aws-access-key-id');
    const secretAccessKey = inputs.optional('aws-secret-access-key');
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      throw new InputError(
        'aws-secret-access-key',
        'and aws-access-key-id go together: give both or neither',
        'aws-secret-access-key: ${{ secrets.BACKUP_S3_SECRET }}',
      );
    }
    const sse = inputs.optional('s3-server-side-encryption');
    if (sse !== undefined && sse !== 'AES256' && sse !== 'aws:kms') {
      throw new InputError(
        's3-server-side-encryption',
        `must be AES256 or aws:kms, got "${sse}"`,
        's3-server-side-encryption: aws:kms',
      );
    }
    const endpoint = inputs.url('s3-endpoint', { example: 'http://minio.internal:9000' });
    const kmsKeyId = inputs.optional('s3-kms-key-id');
    const region = inputs.optional('s3-region') ?? process.env.AWS_REGION ?? 'us-east-1';
    return async () =>
      new (await import('@deploy-suite/storage/s3')).S3Store({
        bucket: match[2]!,
        prefix: match[3] ?? '',
        region,
        ...(endpoint === undefined ? {} : { endpoint: endpoint.href.replace(/\/$/, '') }),
        ...(accessKeyId !== undefined && secretAccessKey !== undefined
          ? { credentials: { accessKeyId, secretAccessKey } }
          : {}),
        ...(sse === undefined ? {} : { serverSideEncryption: sse }),
        ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
      });
  }
  if (match?.[1] === 'azure') {
    const connectionString = inputs.required('azure-connection-string', {
      example: 'azure-connection-string: ${{ secrets.AZURE_STORAGE_CONNECTION_STRING }}',
    });
    const accountKey = /AccountKey=([^;]+)/.exec(connectionString)?.[1];
    if (accountKey !== undefined) registerSecret(accountKey);
    // A SAS carries its signature in a query string: mask the whole SAS and its sig alone.
    const sas = /SharedAccessSignature=([^;]+)/.exec(connectionString)?.[1];
    if (sas !== undefined) {
      registerSecret(sas);
      const sig = new URLSearchParams(sas.replace(/^\?/, '')).get('sig');
      if (sig !== null) registerSecret(sig);
      const rawSig = /(?:^|[?&])sig=([^&]+)/.exec(sas)?.[1];
      if (rawSig !== undefined) registerSecret(rawSig);
    }
    const [container, prefix] = [match[2]!, match[3] ?? ''];
    return async () =>
      new (await import('@deploy-suite/storage/azure')).AzureBlobStore({ connectionString, container, prefix });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !text.startsWith('file://')) {
    throw new InputError(
      'store',
      `must be a folder, s3://bucket/prefix or azure://container/prefix, got "${text}"`,
      'store: s3://backups/shop',
    );
  }
  const folder = text.replace(/^file:\/\//, '');
  const root = isAbsolute(folder) ? folder : resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), folder);
  return () => Promise.resolve(new LocalStore(root));
}

/**
 * backup and verify write manifests and need the private signing key; restore, list and prune
 * only read them and need just the public verify key (the signing key also serves).
 */
function readKeys(
  inputs: Inputs,
  command: Command,
): { signer: ManifestSigner | undefined; verifier: ManifestVerifier } {
  const signingPem = inputs.optional('signing-key');
  const verifyPem = inputs.optional('verify-key');
  const signer = signingPem === undefined ? undefined : parseSigningKey('signing-key', signingPem);
  const pinned = verifyPem === undefined ? undefined : parseVerifyKey('verify-key', verifyPem);
  if (signer === undefined && (command === 'backup' || command === 'verify')) {
    throw new InputError('signing-key', `is required for ${command}: every manifest is signed`, SIGNING_KEY_EXAMPLE);
  }
  if (signer !== undefined && pinned !== undefined && signer.keyId !== pinned.keyId) {
    throw new InputError(
      'verify-key',
      `is the public half of another key (${pinned.keyId}) than signing-key (${signer.keyId})`,
      'verify-key: the output of openssl pkey -in signing.pem -pubout',
    );
  }
  const verifier = pinned ?? signer?.verifier;
  if (verifier === undefined) {
    throw new InputError(
      'verify-key',
      `is required for ${command}: manifests are trusted only when their signature verifies with the pinned key`,
      'verify-key: ${{ vars.BACKUP_VERIFY_KEY }}',
    );
  }
  return { signer, verifier };
}

function readEncryption(inputs: Inputs): EncryptionSettings {
  const recipients = inputs.list('recipients');
  const passphrase = inputs.optional('passphrase');
  if (recipients.length > 0 && passphrase !== undefined) {
    throw new InputError(
      'passphrase',
      'and recipients were both given; age encrypts to one or the other',
      'recipients: age1…',
    );
  }
  for (const recipient of recipients) checkRecipient('recipients', recipient);
  if (recipients.length > 0) return { kind: 'age-recipients', recipients };
  if (passphrase !== undefined) return { kind: 'age-passphrase', passphrase };
  if (inputs.boolean('allow-unencrypted', false)) return { kind: 'none' };
  throw new InputError(
    'recipients',
    'is required: backups are encrypted (give age recipients or a passphrase), unless allow-unencrypted is true',
    'recipients: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p',
  );
}

function readDecryption(inputs: Inputs): DecryptionSettings {
  const identities = inputs.list('identity');
  for (const identity of identities) checkIdentity('identity', identity);
  const passphrase = inputs.optional('passphrase');
  return { identities, ...(passphrase === undefined ? {} : { passphrase }) };
}
