import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InputError, registerSecret, warning, type Inputs } from '@deploy-suite/kit';
import {
  defaultPort,
  defaultTls,
  isLoopbackHost,
  isPort,
  isVerified,
  parseConnectionUrl,
  parseEngine,
  SSL_MODES,
  type Connection,
  type ConnectionTls,
} from './connection.ts';

/**
 * The connection inputs every database action shares: database-url, or engine, host, port, user,
 * password and database. Mask secrets (database-url, password) before calling.
 */
export function readConnectionInputs(inputs: Inputs): Connection {
  const connection = readPlainConnection(inputs);
  return { ...connection, tls: readTlsInputs(inputs, connection.host) };
}

function readPlainConnection(inputs: Inputs): Connection {
  const url = inputs.optional('database-url');
  const password = inputs.optional('password');
  if (url !== undefined) {
    const connection = parseConnectionUrl('database-url', url);
    const database = inputs.optional('database');
    return {
      ...connection,
      ...(password === undefined ? {} : { password }),
      ...(database === undefined ? {} : { database }),
    };
  }
  const engineText = inputs.optional('engine');
  if (engineText === undefined) {
    throw new InputError(
      'database-url',
      'is required (or engine, host, user and database)',
      'database-url: ${{ secrets.DATABASE_URL }}',
    );
  }
  const engine = parseEngine('engine', engineText);
  const portText = inputs.optional('port');
  if (portText !== undefined && !isPort(portText)) {
    throw new InputError('port', `must be a number from 1 to 65535, got "${portText}"`, `port: ${defaultPort(engine)}`);
  }
  return {
    engine,
    host: inputs.string('host', 'localhost'),
    port: portText === undefined ? defaultPort(engine) : Number(portText),
    user: inputs.required('user', { example: 'user: deployer' }),
    password,
    database: inputs.required('database', { example: 'database: shop' }),
  };
}

/** The names of the inputs one connection's TLS is read from; cert and key only where declared. */
export interface TlsInputNames {
  mode: string;
  ca: string;
  cert?: string;
  key?: string;
}

export const TLS_INPUTS: TlsInputNames = { mode: 'ssl-mode', ca: 'ssl-ca', cert: 'ssl-cert', key: 'ssl-key' };

/**
 * ssl-mode, ssl-ca, ssl-cert and ssl-key (or the inputs `names` gives, for a second server such as
 * verify's scratch server, whose TLS is decided from its own host). Default: verify-full off
 * loopback (or whenever a CA or client certificate is given), no TLS on loopback. Warns when a
 * remote connection is not verified.
 */
export function readTlsInputs(inputs: Inputs, host: string, names: TlsInputNames = TLS_INPUTS): ConnectionTls {
  // Masked before anything reads it; its file contents are masked once read.
  if (names.key !== undefined) inputs.secret(names.key);
  const modeText = inputs.optional(names.mode);
  const mode = modeText === undefined ? undefined : inputs.oneOf(names.mode, SSL_MODES, 'verify-full');
  const ca = readPem(inputs, names.ca, 'CERTIFICATE', `${names.ca}: \${{ github.workspace }}/certs/db-ca.pem`);
  const cert =
    names.cert === undefined
      ? undefined
      : readPem(inputs, names.cert, 'CERTIFICATE', `${names.cert}: \${{ github.workspace }}/certs/client.pem`);
  const key =
    names.key === undefined
      ? undefined
      : readPem(inputs, names.key, 'PRIVATE KEY', `${names.key}: \${{ secrets.DB_CLIENT_KEY }}`, true);
  if (cert !== undefined && key === undefined)
    throw new InputError(
      names.key!,
      `is required with ${names.cert!}: the client certificate needs its key`,
      `${names.key!}: \${{ secrets.DB_CLIENT_KEY }}`,
    );
  if (key !== undefined && cert === undefined)
    throw new InputError(
      names.cert!,
      `is required with ${names.key!}: the key needs its client certificate`,
      `${names.cert!}: certs/client.pem`,
    );
  const effective = mode ?? (ca !== undefined || cert !== undefined ? 'verify-full' : defaultTls(host).mode);
  if (effective === 'disable' && (ca !== undefined || cert !== undefined)) {
    throw new InputError(
      names.mode,
      `is disable, but ${names.ca}${names.cert === undefined ? '' : ` or ${names.cert}`} was given: they need TLS`,
      `${names.mode}: verify-full`,
    );
  }
  if (effective === 'require' && ca !== undefined) {
    // libpq would quietly verify the chain then; say it instead of guessing.
    throw new InputError(
      names.mode,
      `is require, which does not verify the server, but ${names.ca} was given: use verify-ca or verify-full to check the server against it`,
      `${names.mode}: verify-full`,
    );
  }
  if (!isLoopbackHost(host) && !isVerified(effective)) {
    warning(
      effective === 'disable'
        ? `${names.mode} is disable: the connection to ${host} is not encrypted; the password and data cross the network in clear. Use verify-full with ${names.ca}.`
        : `${names.mode} is require: the connection to ${host} is encrypted but the server is not verified, so anyone on the path can pose as it. Use verify-full with ${names.ca}.`,
    );
  }
  return {
    mode: effective,
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
}

/** A PEM given inline or as the path of a file holding one. */
function readPem(inputs: Inputs, name: string, label: string, example: string, secret = false): string | undefined {
  const value = inputs.optional(name);
  if (value === undefined) return undefined;
  let pem = value;
  if (!value.includes('-----BEGIN')) {
    const path = isAbsolute(value) ? value : resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), value);
    try {
      pem = readFileSync(path, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new InputError(name, `names a file that cannot be read (${reason}): ${path}`, example);
    }
    if (secret) registerSecret(pem.trim());
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(pem)) {
    throw new InputError(
      name,
      `must be a PEM ${label.toLowerCase()} (-----BEGIN …${label}-----) or the path of a file holding one`,
      example,
    );
  }
  return pem.trim() + '\n';
}
