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

/**
 * ssl-mode, ssl-ca, ssl-cert and ssl-key. Default: verify-full off loopback (or whenever a CA or
 * client certificate is given), no TLS on loopback. Warns when a remote connection is not verified.
 */
export function readTlsInputs(inputs: Inputs, host: string): ConnectionTls {
  // Masked before anything reads it; its file contents are masked once read.
  inputs.secret('ssl-key');
  const modeText = inputs.optional('ssl-mode');
  const mode = modeText === undefined ? undefined : inputs.oneOf('ssl-mode', SSL_MODES, 'verify-full');
  const ca = readPem(inputs, 'ssl-ca', 'CERTIFICATE', 'ssl-ca: ${{ github.workspace }}/certs/db-ca.pem');
  const cert = readPem(inputs, 'ssl-cert', 'CERTIFICATE', 'ssl-cert: ${{ github.workspace }}/certs/client.pem');
  const key = readPem(inputs, 'ssl-key', 'PRIVATE KEY', 'ssl-key: ${{ secrets.DB_CLIENT_KEY }}');
  if (cert !== undefined && key === undefined)
    throw new InputError(
      'ssl-key',
      'is required with ssl-cert: the client certificate needs its key',
      'ssl-key: ${{ secrets.DB_CLIENT_KEY }}',
    );
  if (key !== undefined && cert === undefined)
    throw new InputError(
      'ssl-cert',
      'is required with ssl-key: the key needs its client certificate',
      'ssl-cert: certs/client.pem',
    );
  const effective = mode ?? (ca !== undefined || cert !== undefined ? 'verify-full' : defaultTls(host).mode);
  if (effective === 'disable' && (ca !== undefined || cert !== undefined)) {
    throw new InputError(
      'ssl-mode',
      'is disable, but ssl-ca or ssl-cert was given: they need TLS',
      'ssl-mode: verify-full',
    );
  }
  if (effective === 'require' && ca !== undefined) {
    // libpq would quietly verify the chain then; say it instead of guessing.
    throw new InputError(
      'ssl-mode',
      'is require, which does not verify the server, but ssl-ca was given: use verify-ca or verify-full to check the server against it',
      'ssl-mode: verify-full',
    );
  }
  if (!isLoopbackHost(host) && !isVerified(effective)) {
    warning(
      effective === 'disable'
        ? `ssl-mode is disable: the connection to ${host} is not encrypted; the password and data cross the network in clear. Use verify-full with ssl-ca.`
        : `ssl-mode is require: the connection to ${host} is encrypted but the server is not verified, so anyone on the path can pose as it. Use verify-full with ssl-ca.`,
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
function readPem(inputs: Inputs, name: string, label: string, example: string): string | undefined {
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
    if (name === 'ssl-key') registerSecret(pem.trim());
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
