import {
  ConfigurationError,
  decodeUrlPart,
  errorMessage,
  InputError,
  isLoopbackHost,
  registerSecret,
} from '@deploy-suite/kit';

export { isLoopbackHost };

export type Engine = 'postgres' | 'mysql';

/** Where a database is and who connects; the password is masked as soon as it is read. */
export interface Connection {
  engine: Engine;
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
  /** How TLS is used; when absent, the default for the host (see defaultTls). */
  tls?: ConnectionTls;
}

/** The ssl-mode input's values, named as libpq names them. */
export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** TLS settings for every client of one connection: drivers and dump tools alike. */
export interface ConnectionTls {
  /**
   * 'prefer' is only ever the default on loopback: no TLS for the drivers, TLS if offered for
   * libpq. require encrypts without verifying; verify-ca checks the chain; verify-full also the name.
   */
  mode: SslMode | 'prefer';
  /** PEM contents, not paths. Without a CA, verification uses Node's bundled root certificates. */
  ca?: string;
  cert?: string;
  /** Secret; masked when read. */
  key?: string;
}

/** Verified TLS for any host that is not loopback; on loopback TLS only when asked. */
export function defaultTls(host: string): ConnectionTls {
  return { mode: isLoopbackHost(host) ? 'prefer' : 'verify-full' };
}

export function tlsOf(connection: Connection): ConnectionTls {
  return connection.tls ?? defaultTls(connection.host);
}

export function isVerified(mode: ConnectionTls['mode']): mode is 'verify-ca' | 'verify-full' {
  return mode === 'verify-ca' || mode === 'verify-full';
}

const DEFAULT_PORT: Record<Engine, number> = { postgres: 5432, mysql: 3306 };
const SCHEMES: Record<string, Engine> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
};

export const URL_EXAMPLE = 'postgres://deployer@db.internal:5432/shop (password in its own input, or percent-encoded)';

export function parseEngine(name: string, value: string): Engine {
  const engine = SCHEMES[value.toLowerCase()];
  if (engine === undefined) {
    throw new InputError(name, `must be postgres or mysql (mariadb is mysql), got "${value}"`, `${name}: postgres`);
  }
  return engine;
}

/**
 * Reads postgres://, postgresql://, mysql:// or mariadb:// URLs. User and password are
 * percent-decoded, so any character works when encoded; the password is masked before use.
 */
export function parseConnectionUrl(name: string, text: string): Connection {
  const scheme = /^([a-z]+):\/\//i.exec(text)?.[1];
  if (scheme === undefined)
    throw new InputError(name, 'must be a URL such as postgres://user@host:5432/db', URL_EXAMPLE);
  const engine = parseEngine(name, scheme);
  // Mask before anything can echo it: the raw password, encoded or not.
  const rawUserInfo = /^[a-z]+:\/\/([^@/?]*)@/i.exec(text)?.[1];
  if (rawUserInfo?.includes(':')) {
    const rawPassword = rawUserInfo.slice(rawUserInfo.indexOf(':') + 1);
    registerSecret(rawPassword);
    registerSecret(safeDecode(rawPassword));
  }
  const portText = /^[a-z]+:\/\/(?:[^@/?]*@)?(?:\[[^\]]*\]|[^:/?]*)(?::([^/?]*))?/i.exec(text)?.[1];
  if (portText !== undefined && !isPort(portText)) {
    throw new InputError(name, `has a bad port "${portText}": it must be a number from 1 to 65535`, URL_EXAMPLE);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(
      name,
      'is not a valid URL; percent-encode special characters in the user and password (# as %23, @ as %40, / as %2F) or use the password input',
      URL_EXAMPLE,
    );
  }
  const database = safeDecode(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/'))
    throw new InputError(name, 'must name one database in its path', URL_EXAMPLE);
  return {
    engine,
    host: url.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    port: url.port === '' ? DEFAULT_PORT[engine] : Number(url.port),
    user: safeDecode(url.username) || (engine === 'postgres' ? 'postgres' : 'root'),
    password: url.password === '' ? undefined : safeDecode(url.password),
    database,
  };
}

export function defaultPort(engine: Engine): number {
  return DEFAULT_PORT[engine];
}

export function isPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

/**
 * The error for a server that wants a password none was given for: it names the input to set.
 * Returns undefined when the failure was something else.
 */
export function missingPasswordError(connection: Connection, message: string): InputError | undefined {
  if (connection.password !== undefined || !/password|SASL|SCRAM|Access denied/i.test(message)) return undefined;
  return new InputError(
    'password',
    `is needed: ${connection.engine} at ${connection.host}:${connection.port} asked for a password for user ${connection.user} (${message})`,
    'password: ${{ secrets.DB_PASSWORD }}',
  );
}

const TLS_FAILURE = /certificate|SSL|TLS|altnames|self[- _]signed|_CERT|secure connection|issuer/i;

/** The error for a connection that failed: the missing password named, else the remote and the reason. */
export function connectionFailure(
  connection: Connection,
  database: string | undefined,
  error: unknown,
): InputError | ConfigurationError {
  // Duck-typed: an Error from another realm (a VM context) still has its message.
  const message =
    typeof (error as { message?: unknown } | null)?.message === 'string'
      ? (error as { message: string }).message
      : errorMessage(error);
  const name = connection.engine === 'postgres' ? 'PostgreSQL' : 'MySQL';
  // A TLS failure names the setting to look at: the mode in force and where trust comes from.
  const tls = tlsOf(connection);
  const hint = TLS_FAILURE.test(message)
    ? ` (TLS with ssl-mode ${tls.mode}${isVerified(tls.mode) ? `, trusting ${tls.ca === undefined ? "Node's root certificates" : 'the ssl-ca certificate'}` : ''}: check ssl-mode and ssl-ca)`
    : '';
  return (
    missingPasswordError(connection, message) ??
    new ConfigurationError(
      `Could not connect to ${name} at ${connection.host}:${connection.port} as ${connection.user}${database ? ` (database ${database})` : ''}: ${message}${hint}`,
    )
  );
}

/** A description safe for logs and manifests: no password. */
export function describeConnection(connection: Connection): string {
  return `${connection.engine}://${connection.user}@${connection.host}:${connection.port}/${connection.database}`;
}

/** Decoded where it can be; a part that cannot be is used as written. */
const safeDecode = (text: string): string => decodeUrlPart(text) ?? text;
