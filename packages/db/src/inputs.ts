import { InputError, type Inputs } from '@deploy-suite/kit';
import { defaultPort, isPort, parseConnectionUrl, parseEngine, type Connection } from './connection.ts';

/**
 * The connection inputs every database action shares: database-url, or engine, host, port, user,
 * password and database. Mask secrets (database-url, password) before calling.
 */
export function readConnectionInputs(inputs: Inputs): Connection {
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
