import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { leakedSecrets } from '../../../test/helpers/run-action.ts';
import { startTlsMariaDb, startTlsPostgres, type TlsServer } from '../../../test/helpers/tls-databases.ts';
import { errorOf, migrate, migrationsFolder } from './helpers.ts';

/** migrate run the runner's way against servers that accept only TLS. */

const servers: Record<'postgres' | 'mysql', TlsServer | undefined> = { postgres: undefined, mysql: undefined };

beforeAll(async () => {
  servers.postgres = await startTlsPostgres();
  servers.mysql = await startTlsMariaDb();
}, 60_000);

afterAll(async () => {
  await servers.postgres?.stop();
  await servers.mysql?.stop();
}, 30_000);

const inputs = (engine: 'postgres' | 'mysql', ca: 'ca' | 'wrongCa') => {
  const server = servers[engine]!;
  return {
    engine,
    host: '127.0.0.1',
    port: String(server.port),
    user: server.user,
    password: server.password,
    database: engine === 'postgres' ? 'postgres' : 'mysql',
    'ssl-mode': 'verify-full',
    'ssl-ca': server.certs[ca],
  };
};

describe.each(['postgres', 'mysql'] as const)('migrate over TLS on %s', (engine) => {
  it('applies through verify-full', async () => {
    const folder = migrationsFolder({
      'V1__orders.sql': 'CREATE TABLE tls_orders (id INT PRIMARY KEY);',
      'V2__seed.sql': 'INSERT INTO tls_orders VALUES (1), (2);',
    });
    const run = await migrate({ command: 'apply', folder, ...inputs(engine, 'ca') });
    expect(errorOf(run)).toBe('');
    expect(run.outputs['current-version']).toBe('2');
    expect(leakedSecrets(run, [servers[engine]!.password])).toEqual([]);
  });

  it('refuses a certificate the given CA did not sign: one clear error, no stack, no password', async () => {
    const folder = migrationsFolder({ 'V1__x.sql': 'CREATE TABLE tls_never (id INT);' });
    const run = await migrate({ command: 'apply', folder, ...inputs(engine, 'wrongCa') });
    expect(run.exitCode).toBe(1);
    expect(errorOf(run)).toMatch(
      /^Could not connect to (PostgreSQL|MySQL) at 127\.0\.0\.1:\d+ as .*certificate.*check ssl-mode and ssl-ca\)$/,
    );
    expect(run.log).not.toMatch(/\n\s+at /);
    expect(leakedSecrets(run, [servers[engine]!.password])).toEqual([]);
  });
});
