import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { LOCAL_PG, mariaQuery, pgQuery, uniqueName } from '../../../test/helpers/databases.ts';
import { ageKeyPair, backupAction, errorOf, tempDir } from './helpers.ts';

// A schema pg_restore --clean could not drop (a range-partitioned table with a primary key),
// with a domain, a trigger function, a sequence and an application role's grants on all of it.
const schema = (role: string, database: string) => `
  CREATE DOMAIN positive_amount AS numeric CHECK (VALUE > 0);
  CREATE TABLE events (id bigint, at date NOT NULL, amount positive_amount, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
  CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  CREATE TABLE audit (id serial PRIMARY KEY, note text);
  CREATE FUNCTION log_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit (note) VALUES ('event ' || NEW.id); RETURN NEW; END $$;
  CREATE TRIGGER events_audit AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION log_event();
  INSERT INTO events SELECT g, DATE '2025-06-01' + (g % 400), g FROM generate_series(1, 2000) g;
  CREATE SCHEMA app;
  CREATE TABLE app.settings (k text PRIMARY KEY, v text);
  INSERT INTO app.settings VALUES ('mode', 'live');
  GRANT USAGE ON SCHEMA app TO ${role};
  GRANT SELECT, INSERT ON events, audit TO ${role};
  GRANT SELECT ON app.settings TO ${role};
  GRANT USAGE ON SEQUENCE audit_id_seq TO ${role};
  GRANT EXECUTE ON FUNCTION log_event() TO ${role};
  GRANT CONNECT ON DATABASE ${database} TO ${role};`;

const shape = async (database: string, role: string) =>
  (
    await pgQuery(
      database,
      `SELECT (SELECT count(*) FROM events)::int AS events,
              (SELECT count(*) FROM audit)::int AS audit,
              (SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass)::int AS partitions,
              (SELECT count(*) FROM pg_trigger WHERE tgname = 'events_audit' AND tgrelid = 'events'::regclass)::int AS triggers,
              (SELECT count(*) FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'p')::int AS pk,
              has_table_privilege($1, 'events', 'SELECT') AS events_select,
              has_table_privilege($1, 'app.settings', 'SELECT') AS settings_select,
              has_sequence_privilege($1, 'audit_id_seq', 'USAGE') AS sequence_usage,
              has_function_privilege($1, 'log_event()', 'EXECUTE') AS function_execute,
              has_schema_privilege($1, 'app', 'USAGE') AS schema_usage,
              has_database_privilege($1, current_database(), 'CONNECT') AS database_connect,
              current_setting('statement_timeout') AS statement_timeout,
              (SELECT pg_encoding_to_char(encoding) || ' ' || datcollate FROM pg_database WHERE datname = current_database()) AS encoding,
              shobj_description((SELECT oid FROM pg_database WHERE datname = current_database()), 'pg_database') AS comment`,
      [role],
    )
  ).rows[0] as Record<string, unknown>;

const exists = async (database: string) =>
  (await pgQuery('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;

/** The scratch database a restore run made, named in its log. */
const scratchOf = (run: { log: string }): string => {
  const name = /Restoring into (deploy_suite_scratch_restore_[0-9a-f]{16})/.exec(run.log)?.[1];
  expect(name).toBeDefined();
  return name!;
};

let keys: { identity: string; recipient: string };
const role = uniqueName('app_role');
const dropLater: string[] = [];
beforeAll(async () => {
  keys = await ageKeyPair();
  await pgQuery('postgres', `CREATE ROLE ${role} LOGIN`);
});
afterAll(async () => {
  for (const name of dropLater) await pgQuery('postgres', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await pgQuery('postgres', `DROP ROLE IF EXISTS ${role}`);
});

describe.each(['custom', 'directory'])('PostgreSQL rollback over a live database (%s format)', (format) => {
  const live = uniqueName(`bkroll_${format.slice(0, 3)}`);
  const store = tempDir('rollback-');
  const url = `postgres://postgres@127.0.0.1:5432/${live}`;
  let original: Record<string, unknown>;

  beforeAll(async () => {
    dropLater.push(live);
    // Not the server's default encoding and locale: the restored copy must have the same.
    await pgQuery(
      'postgres',
      `CREATE DATABASE ${live} TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'`,
    );
    await pgQuery(live, schema(role, live));
    // What lives outside any dump, and must survive the swap all the same.
    await pgQuery(
      'postgres',
      `ALTER DATABASE ${live} SET statement_timeout = '42s'; COMMENT ON DATABASE ${live} IS 'the shop'`,
    );
    original = await shape(live, role);
    const backup = await backupAction({ 'database-url': url, store, recipients: keys.recipient, 'pg-format': format });
    expect(errorOf(backup)).toBe('');
    // The deployment that goes wrong: a partition dropped, rows lost, a grant revoked.
    await pgQuery(live, `DROP TABLE events_2026; DELETE FROM audit; REVOKE SELECT ON app.settings FROM ${role}`);
  });

  it('puts the exact prior state back, grants included, and keeps the replaced database', async () => {
    const broken = await shape(live, role);
    const run = await backupAction({
      command: 'restore',
      'database-url': url,
      store,
      identity: keys.identity,
      'target-database': live,
      confirm: live,
    });
    expect(errorOf(run)).toBe('');
    const kept = run.outputs['replaced-database']!;
    dropLater.push(kept);
    expect(await shape(live, role)).toEqual(original);
    expect(original).toMatchObject({
      partitions: 2,
      triggers: 1,
      pk: 1,
      events_select: true,
      database_connect: true,
      statement_timeout: '42s',
      comment: 'the shop',
      encoding: 'LATIN1 C',
    });
    expect(kept).toMatch(new RegExp(`^${live}_before_\\d{8}T\\d{6}$`));
    expect(await shape(kept, role)).toEqual(broken);
    expect(run.summary).toContain(`the old one kept as ${kept}`);
  });

  it('leaves the live database untouched when the restore fails part-way', async () => {
    const before = await shape(live, role);
    // The backup's grants name a role the server no longer has: pg_restore stops in the copy.
    const gone = uniqueName('gone_role');
    await pgQuery('postgres', `CREATE ROLE ${gone}`);
    await pgQuery(live, `GRANT SELECT ON events TO ${gone}`);
    const failingStore = tempDir('failing-');
    const failing = await backupAction({
      'database-url': url,
      store: failingStore,
      recipients: keys.recipient,
      'pg-format': format,
    });
    expect(errorOf(failing)).toBe('');
    await pgQuery(live, `REVOKE SELECT ON events FROM ${gone}; DROP ROLE ${gone}`);
    const run = await backupAction({
      command: 'restore',
      'database-url': url,
      store: failingStore,
      identity: keys.identity,
      'target-database': live,
      confirm: live,
    });
    expect(run.exitCode).toBe(1);
    expect(errorOf(run)).toMatch(/pg_restore (\([a-z-]+\) )?exited with code 1: .*role .* does not exist/s);
    expect(errorOf(run)).not.toMatch(/a bug in this action/);
    expect(await shape(live, role)).toEqual(before);
    // The scratch copy this run made (other tests may be making theirs meanwhile) is gone.
    const made = scratchOf(run);
    const left = await pgQuery('postgres', 'SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2', [
      made,
      `${live}_before_%`,
    ]);
    expect(left.rows.map((r: { datname: string }) => r.datname).filter((n: string) => !dropLater.includes(n))).toEqual(
      [],
    );
  });

  // The opt-out, once (the flags are the same for both formats).
  if (format === 'custom')
    it('restore-privileges: false restores without the dumped owners and GRANTs; the role then lacks them', async () => {
      await pgQuery(live, `ALTER TABLE app.settings OWNER TO ${role}`);
      const before = await shape(live, role);
      // The backup also grants to a role the server no longer has when it is restored: with the
      // GRANTs kept this restore stops (see above); without them it goes through.
      const gone = uniqueName('gone_role');
      await pgQuery('postgres', `CREATE ROLE ${gone}`);
      await pgQuery(live, `GRANT SELECT ON events TO ${gone}`);
      const optStore = tempDir('noprivs-');
      expect(
        errorOf(
          await backupAction({ 'database-url': url, store: optStore, recipients: keys.recipient, 'pg-format': format }),
        ),
      ).toBe('');
      await pgQuery(live, `REVOKE SELECT ON events FROM ${gone}; DROP ROLE ${gone}`);
      const run = await backupAction({
        command: 'restore',
        'database-url': url,
        store: optStore,
        identity: keys.identity,
        'target-database': live,
        confirm: live,
        'restore-privileges': 'false',
      });
      expect(errorOf(run)).toBe('');
      dropLater.push(run.outputs['replaced-database']!);
      expect(before).toMatchObject({ events_select: true, settings_select: true, schema_usage: true });
      // Rows and structure as dumped; the object GRANTs gone. EXECUTE stays (PUBLIC has it by
      // default), and CONNECT, a database-level GRANT no dump holds, is carried over by the swap.
      expect(await shape(live, role)).toEqual({
        ...before,
        events_select: false,
        settings_select: false,
        sequence_usage: false,
        schema_usage: false,
      });
      const owner = await pgQuery(
        live,
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'app' AND tablename = 'settings'",
      );
      expect(owner.rows).toEqual([{ tableowner: 'postgres' }]);
    });
});

describe('PostgreSQL rollback over a database in use', () => {
  const live = uniqueName('bkbusy_live');
  const store = tempDir('busy-');
  const url = `postgres://postgres@127.0.0.1:5432/${live}`;
  let client: pg.Client;
  beforeAll(async () => {
    dropLater.push(live);
    await pgQuery('postgres', `CREATE DATABASE ${live}`);
    await pgQuery(live, 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 50)');
    expect(errorOf(await backupAction({ 'database-url': url, store, recipients: keys.recipient }))).toBe('');
    await pgQuery(live, 'DELETE FROM t WHERE id > 10');
    client = new pg.Client({ ...LOCAL_PG, database: live });
    client.on('error', () => undefined);
    await client.connect();
  });
  afterAll(() => client.end().catch(() => undefined));

  it('refuses while the application is connected, and ends its sessions only when asked', async () => {
    const common = {
      command: 'restore',
      'database-url': url,
      store,
      identity: keys.identity,
      'target-database': live,
      confirm: live,
    };
    const refused = await backupAction(common);
    expect(errorOf(refused)).toMatch(
      /Could not swap the restored copy in for .*: .* It is in use: stop its clients, or set terminate-sessions: true/,
    );
    expect(Number((await pgQuery(live, 'SELECT count(*) AS n FROM t')).rows[0].n)).toBe(10);
    const replaced = await backupAction({ ...common, 'terminate-sessions': 'true', 'drop-replaced': 'true' });
    expect(errorOf(replaced)).toBe('');
    expect(Number((await pgQuery(live, 'SELECT count(*) AS n FROM t')).rows[0].n)).toBe(50);
    expect(replaced.outputs['replaced-database']).toBeUndefined();
    expect(await exists(`${live}_before_x`)).toBe(false);
  });
});

describe('MariaDB rollback that fails after the tables moved', () => {
  // A user that may do everything on scratch and kept copies but may not create routines in the
  // live database: the swap's last step fails, after the atomic RENAME TABLE.
  const live = uniqueName('bkundo_my');
  const user = uniqueName('swapper');
  const password = 'Swap-pw-42';
  const store = tempDir('myundo-');
  const url = `mysql://${user}:${password}@127.0.0.1:3306/${live}`;
  const count = async (db: string, table: string) =>
    Number(((await mariaQuery(`SELECT count(*) AS n FROM \`${db}\`.\`${table}\``)) as { n: string | number }[])[0]!.n);
  const schemas = async () =>
    (
      (await mariaQuery('SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [
        `${live}%`,
      ])) as {
        n: string;
      }[]
    ).map((r) => r.n);
  afterAll(async () => {
    for (const n of await schemas()) await mariaQuery(`DROP DATABASE \`${n}\``);
    await mariaQuery(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
  });

  it('puts every table back and drops nothing that holds data when a step after the swap fails', async () => {
    await mariaQuery(`CREATE DATABASE ${live}`);
    await mariaQuery(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY ?`, [password]);
    await mariaQuery(`GRANT ALL PRIVILEGES ON \`deploy\\_suite\\_scratch\\_%\`.* TO '${user}'@'127.0.0.1'`);
    await mariaQuery(
      `GRANT ALL PRIVILEGES ON \`${live.replace(/_/g, '\\_')}\\_before\\_%\`.* TO '${user}'@'127.0.0.1'`,
    );
    await mariaQuery(`GRANT ALL PRIVILEGES ON \`${live}\`.* TO '${user}'@'127.0.0.1'`);
    // The backup holds a procedure its own user made (so the dump restores into a scratch copy).
    const asUser = async (sql: string) => {
      const { default: mysql } = await import('mysql2/promise');
      const db = await mysql.createConnection({
        host: '127.0.0.1',
        port: 3306,
        user,
        password,
        database: live,
        multipleStatements: true,
      });
      try {
        await db.query(sql);
      } finally {
        await db.end();
      }
    };
    await asUser(
      'CREATE TABLE a (id INT PRIMARY KEY); INSERT INTO a VALUES (1), (2), (3); CREATE PROCEDURE a_total() SELECT COUNT(*) FROM a',
    );
    expect(errorOf(await backupAction({ 'database-url': url, store, recipients: keys.recipient }))).toBe('');
    // The release drops the procedure and most rows; then the user loses CREATE ROUTINE on the live database.
    await asUser('DROP PROCEDURE a_total; DELETE FROM a WHERE id > 1; CREATE TABLE added (x INT)');
    await mariaQuery(`REVOKE CREATE ROUTINE ON \`${live}\`.* FROM '${user}'@'127.0.0.1'`);

    const run = await backupAction({
      command: 'restore',
      'database-url': url,
      store,
      identity: keys.identity,
      'target-database': live,
      confirm: live,
    });
    expect(errorOf(run)).toMatch(
      /Could not swap .* with the restored copy: Could not create procedure a_total .* was put back as it was/s,
    );
    expect(errorOf(run)).not.toMatch(/a bug in this action/);
    // The live database is exactly as it was, and no kept or scratch copy is left over.
    expect(await count(live, 'a')).toBe(1);
    expect(await count(live, 'added')).toBe(0);
    expect(await schemas()).toEqual([live]);
    const scratch = (await mariaQuery('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [
      scratchOf(run),
    ])) as unknown[];
    expect(scratch).toEqual([]);
  });
});

describe('MariaDB rollback over a live database', () => {
  const live = uniqueName('bkroll_my');
  const store = tempDir('myroll-');
  const url = `mysql://root@127.0.0.1:3306/${live}`;
  afterAll(async () => {
    const [rows] = [
      (await mariaQuery('SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [
        `${live}%`,
      ])) as { n: string }[],
    ];
    for (const { n } of rows) await mariaQuery(`DROP DATABASE \`${n}\``);
  });

  it('swaps every table at once, brings back views, triggers, routines and events, and keeps the old database whole', async () => {
    await mariaQuery(`CREATE DATABASE ${live}`);
    await mariaQuery(
      `CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE b (id INT PRIMARY KEY AUTO_INCREMENT, note VARCHAR(50));
       INSERT INTO a SELECT seq FROM seq_1_to_70; INSERT INTO b (note) SELECT 'x' FROM seq_1_to_30;
       CREATE VIEW big_a AS SELECT id FROM a WHERE id > 60;
       CREATE VIEW big_a_count AS SELECT COUNT(*) AS n FROM big_a;
       CREATE TRIGGER a_audit AFTER INSERT ON a FOR EACH ROW INSERT INTO b (note) VALUES (CONCAT('a ', NEW.id));
       CREATE PROCEDURE a_total() SELECT COUNT(*) FROM a;
       CREATE FUNCTION double_it(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
       CREATE EVENT tidy ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM b WHERE note = 'old';`,
      [],
      live,
    );
    expect(errorOf(await backupAction({ 'database-url': url, store, recipients: keys.recipient }))).toBe('');
    // The release that goes wrong: rows lost, a view and a routine dropped, a new routine added.
    await mariaQuery(
      'DELETE FROM a WHERE id > 5; DROP VIEW big_a_count; DROP PROCEDURE a_total; CREATE PROCEDURE newer() SELECT 1',
      [],
      live,
    );
    const run = await backupAction({
      command: 'restore',
      'database-url': url,
      store,
      identity: keys.identity,
      'target-database': live,
      confirm: live,
    });
    expect(errorOf(run)).toBe('');
    const one = async (sql: string, db = live) =>
      Object.values(((await mariaQuery(sql, [], db)) as Record<string, unknown>[])[0]!)[0];
    expect(Number(await one('SELECT COUNT(*) FROM a'))).toBe(70);
    expect(Number(await one('SELECT n FROM big_a_count'))).toBe(10);
    expect(Number(await one('SELECT double_it(21)'))).toBe(42);
    const objects = async (db: string) =>
      (
        (await mariaQuery(
          `SELECT CONCAT('routine ', ROUTINE_NAME) AS o FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
         UNION ALL SELECT CONCAT('view ', TABLE_NAME) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
         UNION ALL SELECT CONCAT('trigger ', TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
         UNION ALL SELECT CONCAT('event ', EVENT_NAME) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY 1`,
          [db, db, db, db],
        )) as { o: string }[]
      ).map((r) => r.o);
    expect(await objects(live)).toEqual([
      'event tidy',
      'routine a_total',
      'routine double_it',
      'trigger a_audit',
      'view big_a',
      'view big_a_count',
    ]);
    await mariaQuery('INSERT INTO a VALUES (1000)', [], live);
    expect(Number(await one("SELECT COUNT(*) FROM b WHERE note = 'a 1000'"))).toBe(1);
    const kept = run.outputs['replaced-database']!;
    expect(Number(await one('SELECT COUNT(*) FROM a', kept))).toBe(5);
    expect(await objects(kept)).toEqual([
      'event tidy',
      'routine double_it',
      'routine newer',
      'trigger a_audit',
      'view big_a',
    ]);
    // The kept view reads the kept tables, not the live ones.
    expect(Number(await one('SELECT COUNT(*) FROM big_a', kept))).toBe(0);
  });
});

describe('MariaDB rollback of a partitioned table, with an application role granted on it', () => {
  const live = uniqueName('bkroll_myp');
  const app = uniqueName('app_role');
  const store = tempDir('myrollp-');
  const url = `mysql://root@127.0.0.1:3306/${live}`;
  const one = async (sql: string, db = live) =>
    Object.values(((await mariaQuery(sql, [], db)) as Record<string, unknown>[])[0]!)[0];
  const partitions = async (db: string) =>
    (
      (await mariaQuery(
        'SELECT PARTITION_NAME AS p FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY 1',
        [db, 'ledger'],
      )) as { p: string }[]
    ).map((r) => r.p);
  let granted: string[];
  const routineGrant = (grant: string) => / ON (FUNCTION|PROCEDURE) /.test(grant);
  /** Every grant the role holds, database, table, column and routine level. */
  const grants = async () =>
    ((await mariaQuery(`SHOW GRANTS FOR ${app}`)) as Record<string, string>[]).map((r) => Object.values(r)[0]!).sort();

  beforeAll(async () => {
    await mariaQuery(`CREATE ROLE ${app}`);
    await mariaQuery(`CREATE DATABASE ${live}`);
    await mariaQuery(
      `CREATE TABLE ledger (id INT NOT NULL, at DATE NOT NULL, amount DECIMAL(10, 2), PRIMARY KEY (id, at))
         PARTITION BY RANGE (YEAR(at)) (PARTITION p2025 VALUES LESS THAN (2026), PARTITION p2026 VALUES LESS THAN (2027));
       INSERT INTO ledger SELECT seq, DATE '2025-06-01' + INTERVAL (seq % 400) DAY, seq FROM seq_1_to_2000;
       CREATE TABLE notes (id INT PRIMARY KEY, note VARCHAR(50));
       INSERT INTO notes SELECT seq, 'n' FROM seq_1_to_10;
       CREATE FUNCTION double_it(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
       CREATE PROCEDURE ledger_total() SELECT SUM(amount) FROM ledger;
       CREATE VIEW recent AS SELECT id FROM ledger WHERE at >= '2026-01-01';`,
      [],
      live,
    );
    await mariaQuery(
      `GRANT SELECT ON ${live}.* TO ${app};
       GRANT INSERT, UPDATE ON ${live}.ledger TO ${app};
       GRANT UPDATE (note) ON ${live}.notes TO ${app};
       GRANT EXECUTE ON FUNCTION ${live}.double_it TO ${app};
       GRANT EXECUTE ON PROCEDURE ${live}.ledger_total TO ${app};`,
    );
    granted = await grants();
  });
  afterAll(async () => {
    const rows = (await mariaQuery(
      'SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
      [`${live}%`],
    )) as { n: string }[];
    for (const { n } of rows) await mariaQuery(`DROP DATABASE \`${n}\``);
    await mariaQuery(`DROP ROLE IF EXISTS ${app}`);
  });

  it("puts every partition and row back, and the role's grants on the database and its tables still hold", async () => {
    expect(granted).toHaveLength(6);
    const rows = Number(await one('SELECT COUNT(*) FROM ledger'));
    expect(errorOf(await backupAction({ 'database-url': url, store, recipients: keys.recipient }))).toBe('');
    // The release that goes wrong: a partition dropped with its rows, others deleted.
    await mariaQuery('ALTER TABLE ledger DROP PARTITION p2026; DELETE FROM ledger WHERE id < 100', [], live);
    const run = await backupAction({
      command: 'restore',
      'database-url': url,
      store,
      identity: keys.identity,
      'target-database': live,
      confirm: live,
    });
    expect(errorOf(run)).toBe('');
    expect(await partitions(live)).toEqual(['p2025', 'p2026']);
    expect(Number(await one('SELECT COUNT(*) FROM ledger'))).toBe(rows);
    expect(Number(await one('SELECT COUNT(*) FROM recent'))).toBeGreaterThan(0);
    // Grants are the server's, by name: the swapped-in tables keep them.
    expect((await grants()).filter((g) => !routineGrant(g))).toEqual(granted.filter((g) => !routineGrant(g)));
    const kept = run.outputs['replaced-database']!;
    expect(await partitions(kept)).toEqual(['p2025']);
    await mariaQuery(`DROP DATABASE \`${kept}\``);
  });

  // The swap drops the live database's routines and creates the backup's, and MariaDB revokes
  // every grant on a routine it drops: the swap gives them back.
  it('keeps the EXECUTE grants on the routines it recreates', async () => {
    expect(await grants()).toEqual(granted);
  });

  it('restore-privileges: false changes nothing on MariaDB: grants live outside the dump and stay', async () => {
    const held = (await grants()).filter((g) => !routineGrant(g));
    const before = Number(await one('SELECT COUNT(*) FROM ledger'));
    await mariaQuery('DELETE FROM ledger WHERE id < 500', [], live);
    const run = await backupAction({
      command: 'restore',
      'database-url': url,
      store,
      identity: keys.identity,
      'target-database': live,
      confirm: live,
      'restore-privileges': 'false',
    });
    expect(errorOf(run)).toBe('');
    expect(Number(await one('SELECT COUNT(*) FROM ledger'))).toBe(before);
    expect((await grants()).filter((g) => !routineGrant(g))).toEqual(held);
  });
});
