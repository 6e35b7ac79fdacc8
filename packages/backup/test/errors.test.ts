import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { ConfigurationError } from '@deploy-suite/kit';
import { RestoreFailedError } from '@deploy-suite/db';
import { DIRECTORY_FORMAT, PostgresEngine } from '@deploy-suite/db/postgres';
import { LocalStore, parseSigningKey, StoreError } from '@deploy-suite/storage';
import { createPgDatabase, dropPgDatabase, LOCAL_PG } from '../../../test/helpers/databases.ts';
import { tempDir, TEST_KEYS } from '../../../actions/db-backup/test/helpers.ts';
import { takeBackup } from '../src/index.ts';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

let database: string;
beforeAll(async () => {
  database = await createPgDatabase('bkerr');
});
afterAll(() => dropPgDatabase(database));

const engine = () => new PostgresEngine({ engine: 'postgres', ...LOCAL_PG, password: undefined, database });
const backup = (store: LocalStore) =>
  takeBackup({
    engine: engine(),
    store,
    compression: 'none',
    level: undefined,
    encryption: { kind: 'none' },
    signer: parseSigningKey('signing-key', TEST_KEYS.signing),
    labels: [],
    provenance: { sha: '', runUrl: '' },
  });

describe('errors tell the truth', () => {
  it('a bug while uploading keeps its class and stack; it is not dressed up as a user error', async () => {
    const store = new LocalStore(tempDir('bug-'));
    store.upload = () => Promise.reject(new TypeError('cannot read properties of undefined (a bug)'));
    const error = await backup(store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(ConfigurationError);
    expect((error as Error).stack).toContain('errors.test.ts');
  });

  it('a store that fails is a StoreError naming the store, without being a bug', async () => {
    const store = new LocalStore(tempDir('eacces-'));
    store.upload = () =>
      Promise.reject(Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES', syscall: 'open' }));
    const error = await backup(store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(
      /Backup of bkerr_\w+ failed; nothing was recorded: file:\/\/.* failed: EACCES/,
    );
  });

  it('a directory archive holding a link or a path outside dump/ stops the restore with a clear error', async () => {
    const folder = tempDir('evil-tar-');
    mkdirSync(join(folder, 'dump'));
    writeFileSync(join(folder, 'dump', 'toc.dat'), 'x');
    symlinkSync('/etc/passwd', join(folder, 'dump', '1234.dat'));
    // GNU tar writes the archive as any tool could, link included.
    const archive = Readable.from([execFileSync('tar', ['-c', '-C', folder, 'dump'])]);
    const error = await engine()
      .restore(database, archive, { format: DIRECTORY_FORMAT })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestoreFailedError);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/holds entries a directory dump never has \(dump\/1234\.dat\)/);
  });
});
