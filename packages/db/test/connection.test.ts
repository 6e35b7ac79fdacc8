import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { InputError } from '@deploy-suite/kit';
import { describeConnection, parseConnectionUrl } from '../src/index.ts';

beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

describe('connection URLs', () => {
  it('reads every part, percent-decoding user and password', () => {
    const password = `p@ss:w/rd#%'" x`;
    const connection = parseConnectionUrl(
      'database-url',
      `postgresql://dep%40loyer:${encodeURIComponent(password)}@db.internal:6543/shop`,
    );
    expect(connection).toEqual({
      engine: 'postgres',
      host: 'db.internal',
      port: 6543,
      user: 'dep@loyer',
      password,
      database: 'shop',
    });
    expect(describeConnection(connection)).toBe('postgres://dep@loyer@db.internal:6543/shop');
  });

  it('defaults the port and user per engine, and takes mariadb:// as mysql', () => {
    expect(parseConnectionUrl('u', 'mariadb://db/shop')).toMatchObject({
      engine: 'mysql',
      port: 3306,
      user: 'root',
      password: undefined,
    });
    expect(parseConnectionUrl('u', 'postgres://db/shop')).toMatchObject({
      engine: 'postgres',
      port: 5432,
      user: 'postgres',
    });
    expect(parseConnectionUrl('u', 'postgres://u@[::1]:5433/shop')).toMatchObject({ host: '::1', port: 5433 });
  });

  it.each([
    ['postgres://u:pw@db:0/shop', /bad port "0"/],
    ['postgres://u:pw@db:65536/shop', /bad port "65536"/],
    ['postgres://u:pw@db:/shop', /bad port ""/],
    ['postgres://u:pw@db:5432', /must name one database/],
    ['sqlite://file/x', /must be postgres or mysql/],
    ['db.internal:5432/shop', /must be a URL/],
  ])('rejects %s', (url, message) => {
    let error: unknown;
    try {
      parseConnectionUrl('database-url', url);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('pw@');
  });
});
