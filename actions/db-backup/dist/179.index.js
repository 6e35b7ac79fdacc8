export const id = 179;
export const ids = [179,761];
export const modules = {

/***/ 2761:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   connectMySql: () => (/* binding */ connectMySql),
/* harmony export */   quoteMySqlIdent: () => (/* binding */ quoteMySqlIdent)
/* harmony export */ });
/* unused harmony export mySqlTlsOptions */
/* harmony import */ var node_net__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7030);
/* harmony import */ var node_net__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_net__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var mysql2_promise__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(171);
/* harmony import */ var _connection_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(1767);



const quoteMySqlIdent = (name) => `\`${name.replace(/`/g, '``')}\``;
/** One session to MySQL/MariaDB, for the backup engine and the migration driver alike. */
async function connectMySql(connection, database) {
    let db;
    try {
        db = await mysql2_promise__WEBPACK_IMPORTED_MODULE_1__.createConnection({
            host: connection.host,
            port: connection.port,
            user: connection.user,
            password: connection.password,
            ...(database === undefined ? {} : { database }),
            connectTimeout: 15_000,
            multipleStatements: false,
            ...mySqlTlsOptions(connection),
        });
    }
    catch (error) {
        throw (0,_connection_js__WEBPACK_IMPORTED_MODULE_2__/* .connectionFailure */ .Dx)(connection, database, error);
    }
    // A killed connection also emits 'error'; the pending query rejects with it anyway.
    db.on('error', () => undefined);
    return db;
}
/**
 * mysql2 TLS options for the connection's ssl-mode. With ssl set, mysql2 refuses a server that
 * does not offer TLS, so an encrypted mode never falls back to plaintext (and never hands the
 * password to a server's RSA key).
 */
function mySqlTlsOptions(connection) {
    const tls = (0,_connection_js__WEBPACK_IMPORTED_MODULE_2__/* .tlsOf */ .Vt)(connection);
    if (tls.mode === 'disable' || tls.mode === 'prefer')
        return {};
    return {
        ...(tls.mode === 'verify-full' && (0,node_net__WEBPACK_IMPORTED_MODULE_0__.isIP)(connection.host) !== 0 ? { stream: () => dial(connection) } : {}),
        ssl: {
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            ...(tls.cert === undefined ? {} : { cert: tls.cert }),
            ...(tls.key === undefined ? {} : { key: tls.key }),
            // require: encrypted, nothing verified.
            rejectUnauthorized: tls.mode !== 'require',
            // mysql2 checks the name only with verifyIdentity; otherwise its checkServerIdentity accepts any (verify-ca).
            verifyIdentity: tls.mode === 'verify-full',
        },
    };
}
/**
 * The socket mysql2 would open, named for the address dialled. mysql2 sets no TLS servername for
 * an IP host, and Node then checks the certificate against the socket's _host, which net sets only
 * for names, else "localhost": without this, verify-full to 10.0.0.5 accepts a localhost certificate.
 */
function dial(connection) {
    const socket = (0,node_net__WEBPACK_IMPORTED_MODULE_0__.connect)(connection.port, connection.host);
    socket.setNoDelay(true);
    Object.assign(socket, { _host: connection.host });
    return socket;
}


/***/ }),

/***/ 6179:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  MySqlEngine: () => (/* binding */ MySqlEngine)
});

// EXTERNAL MODULE: external "node:tls"
var external_node_tls_ = __webpack_require__(1692);
// EXTERNAL MODULE: ../../packages/kit/src/index.ts + 11 modules
var src = __webpack_require__(2592);
// EXTERNAL MODULE: ../../packages/db/src/connection.ts
var src_connection = __webpack_require__(1767);
// EXTERNAL MODULE: ../../packages/db/src/mysql-client.ts
var mysql_client = __webpack_require__(2761);
// EXTERNAL MODULE: ../../packages/db/src/process.ts
var src_process = __webpack_require__(3870);
;// CONCATENATED MODULE: ../../packages/db/src/mysql-swap.ts



const SHOW = {
    view: { statement: 'SHOW CREATE VIEW', column: 'Create View' },
    trigger: { statement: 'SHOW CREATE TRIGGER', column: 'SQL Original Statement' },
    procedure: { statement: 'SHOW CREATE PROCEDURE', column: 'Create Procedure' },
    function: { statement: 'SHOW CREATE FUNCTION', column: 'Create Function' },
    event: { statement: 'SHOW CREATE EVENT', column: 'Create Event' },
};
async function readObjects(db, database) {
    const [rows] = await db.query(`SELECT 'view' AS kind, TABLE_NAME AS name FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
     UNION ALL SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
     UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
     UNION ALL SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`, [database, database, database, database]);
    const objects = [];
    for (const row of rows) {
        const kind = String(row.kind);
        const name = String(row.name);
        const [shown] = await db.query(`${SHOW[kind].statement} ${(0,mysql_client.quoteMySqlIdent)(database)}.${(0,mysql_client.quoteMySqlIdent)(name)}`);
        const create = shown[0]?.[SHOW[kind].column];
        if (typeof create !== 'string')
            throw new src/* ConfigurationError */.j1(`Cannot read the definition of ${kind} ${name} in ${database}.`);
        objects.push({ kind, name, create, sqlMode: String(shown[0]?.sql_mode ?? '') });
    }
    return objects;
}
/** The same definition for another database: qualified references move with it. */
const moved = (object, from, to) => ({
    ...object,
    create: object.create.split(`${(0,mysql_client.quoteMySqlIdent)(from)}.`).join(`${(0,mysql_client.quoteMySqlIdent)(to)}.`),
});
const dropStatement = (database, object) => `DROP ${object.kind.toUpperCase()} IF EXISTS ${(0,mysql_client.quoteMySqlIdent)(database)}.${(0,mysql_client.quoteMySqlIdent)(object.name)}`;
/** Runs undo steps newest first: whether every one worked (else the first failure), and whether any changed something. */
async function runUndo(steps, session) {
    let acted = false;
    let failure;
    for (const step of [...steps].reverse()) {
        try {
            acted = (await step(session)) || acted;
        }
        catch (error) {
            failure ??= error;
        }
    }
    return failure === undefined ? { acted } : { acted, failure };
}
/** Whether `object` exists in `database`. */
async function objectExists(session, database, object) {
    const where = {
        view: ['information_schema.VIEWS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', []],
        trigger: ['information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?', []],
        procedure: [
            'information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = ?',
            ['PROCEDURE'],
        ],
        function: [
            'information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = ?',
            ['FUNCTION'],
        ],
        event: ['information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = ?', []],
    };
    const [from, extra] = where[object.kind];
    const [rows] = await session.query(`SELECT 1 FROM ${from}`, [database, object.name, ...extra]);
    return rows.length > 0;
}
const tableCount = async (session, database) => {
    const [rows] = await session.query('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [database]);
    return Number(rows[0]?.n);
};
const isRoutine = (object) => object.kind === 'procedure' || object.kind === 'function';
/**
 * The grants held on the database's routines (mysql.procs_priv). MariaDB and MySQL revoke them
 * when a routine is dropped, so the swap gives them again to each routine it recreates.
 */
async function readRoutineGrants(db, database) {
    let rows;
    try {
        [rows] = await db.query(`SELECT p.User AS user, p.Host AS host, p.Routine_name AS name, p.Routine_type AS type, p.Proc_priv AS privs,
              u.is_role AS role
         FROM mysql.procs_priv p LEFT JOIN mysql.user u ON u.User = p.User AND u.Host = p.Host
        WHERE p.Db = ?`, [database]);
    }
    catch (error) {
        if (!(0,src_process/* isDatabaseError */.sS)(error))
            throw error;
        throw new src/* ConfigurationError */.j1(`Cannot read the grants on the routines of ${database} (mysql.procs_priv: ${(0,src/* errorMessage */.gJ)(error)}); replacing them would lose those grants. Grant this user SELECT on mysql.procs_priv and mysql.user, or restore as a user who has it. ${database} was left as it was.`);
    }
    const grants = [];
    for (const row of rows) {
        const set = String(row.privs ?? '')
            .split(',')
            .filter((p) => p !== '');
        const privileges = set.filter((p) => p !== 'Grant').map((p) => p.toUpperCase());
        if (privileges.length === 0)
            continue;
        const kind = String(row.type).toLowerCase() === 'function' ? 'function' : 'procedure';
        const user = String(row.user);
        const host = String(row.host);
        // A role is named alone; a user is user@host.
        const grantee = String(row.role) === 'Y' ? (0,mysql_client.quoteMySqlIdent)(user) : `${db.escape(user)}@${db.escape(host)}`;
        grants.push({
            kind,
            name: String(row.name),
            statement: `GRANT ${privileges.join(', ')} ON ${kind.toUpperCase()} ${(0,mysql_client.quoteMySqlIdent)(database)}.${(0,mysql_client.quoteMySqlIdent)(String(row.name))} TO ${grantee}${set.includes('Grant') ? ' WITH GRANT OPTION' : ''}`,
        });
    }
    return grants;
}
/** Routine names compare without case on MySQL and MariaDB. */
const grantsOf = (grants, object) => grants.filter((g) => g.kind === object.kind && g.name.toLowerCase() === object.name.toLowerCase());
/** How long the swap waits for a lock, and for its own dead session to be gone from the server. */
const WAIT_SECONDS = 30;
/**
 * MySQL cannot rename a database. One RENAME TABLE statement moving every table is atomic, so
 * the data changes places all at once: the old tables go to `kept`, the restored ones take their
 * place. Views and triggers cannot move between databases, and routines and events belong to one,
 * so they are recreated from their definitions on either side, with the grants their routines
 * held (dropping a routine revokes them). Every step before the end has an undo; a failure puts
 * the target back as it was, on a new session (the swap's own may be the one that died), and
 * says what state each database is in. Other GRANTs are by name and stay with the target.
 */
async function replaceMySqlDatabase(connection, target, replacement, kept, options) {
    const db = await (0,mysql_client.connectMySql)(connection, undefined);
    let dbGone = false;
    // Definitions run in a session of their own database, with the SQL mode they were made under.
    const createIn = async (database, object) => {
        const session = await (0,mysql_client.connectMySql)(connection, database);
        try {
            await session.query('SET SESSION sql_mode = ?', [object.sqlMode]);
            await session.query(object.create);
        }
        finally {
            await session.end().catch(() => undefined);
        }
    };
    /** Views may select from views: create them in rounds until none is left or none succeeds. */
    const createAll = async (database, objects, undo) => {
        let left = [...objects];
        while (left.length > 0) {
            const failed = [];
            for (const object of left) {
                // Before the statement: if its session dies, it may have run.
                undo?.push(async (s) => {
                    if (!(await objectExists(s, database, object)))
                        return false;
                    await s.query(dropStatement(database, object));
                    return true;
                });
                try {
                    await createIn(database, object);
                }
                catch (error) {
                    failed.push([object, error]);
                }
            }
            if (failed.length === left.length) {
                const [object, error] = failed[0];
                throw new src/* ConfigurationError */.j1(`Could not create ${object.kind} ${object.name} in ${database}: ${(0,src/* errorMessage */.gJ)(error)}`);
            }
            left = failed.map(([object]) => object);
        }
    };
    try {
        const old = await readObjects(db, target);
        const fresh = (await readObjects(db, replacement)).map((o) => moved(o, replacement, target));
        const grants = old.some(isRoutine) ? await readRoutineGrants(db, target) : [];
        const tablesOf = async (database) => {
            const [rows] = await db.query(
            // Every kind that is not a view moves: MariaDB also has SYSTEM VERSIONED tables and SEQUENCEs.
            "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE <> 'VIEW'", [database]);
            return rows.map((r) => String(r.name));
        };
        const [oldTables, newTables] = [await tablesOf(target), await tablesOf(replacement)];
        const [charset] = await db.query('SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [target]);
        // Never dropped or written to here: it is not this run's.
        const keptTaken = new src/* ConfigurationError */.j1(`Cannot keep ${target} as ${kept}: a database named ${kept} already exists (another rollback in the same second, or someone else's). ${target} was left as it was; run the restore again.`);
        const [taken] = await db.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [kept]);
        if (taken.length > 0)
            throw keptTaken;
        const undo = [];
        /** Whether `kept` is this run's: absent just before, so made by its CREATE DATABASE (which may have run if its session died). */
        let keptMade = false;
        try {
            try {
                keptMade = true;
                await db.query(`CREATE DATABASE ${(0,mysql_client.quoteMySqlIdent)(kept)} CHARACTER SET ${(0,mysql_client.quoteMySqlIdent)(String(charset[0]?.cs ?? 'utf8mb4'))} COLLATE ${(0,mysql_client.quoteMySqlIdent)(String(charset[0]?.co ?? 'utf8mb4_general_ci'))}`);
            }
            catch (error) {
                // Refused by the server, it made nothing; only a session that died leaves it unknown.
                if (error.fatal !== true)
                    keptMade = false;
                // ER_DB_CREATE_EXISTS: taken since the check above.
                if (error.errno === 1007)
                    throw keptTaken;
                throw error;
            }
            await db.query(`SET SESSION lock_wait_timeout = ${WAIT_SECONDS}`);
            if (options.terminateSessions) {
                const [sessions] = await db.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [target]);
                for (const { id } of sessions)
                    await db.query(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
            }
            /** The target's own object set aside, with its grants: made again if it is gone. */
            const putBack = (object) => async (s) => {
                if (await objectExists(s, target, object))
                    return false;
                await createIn(target, object);
                for (const grant of grantsOf(grants, object))
                    await s.query(grant.statement);
                return true;
            };
            // Triggers and views cannot move with their tables: set the target's aside (undoable).
            for (const object of old.filter((o) => o.kind === 'trigger' || o.kind === 'view')) {
                undo.push(putBack(object));
                await db.query(dropStatement(target, object));
            }
            for (const object of fresh.filter((o) => o.kind === 'trigger' || o.kind === 'view'))
                await db.query(dropStatement(replacement, object));
            const moves = [
                ...oldTables.map((t) => `${(0,mysql_client.quoteMySqlIdent)(target)}.${(0,mysql_client.quoteMySqlIdent)(t)} TO ${(0,mysql_client.quoteMySqlIdent)(kept)}.${(0,mysql_client.quoteMySqlIdent)(t)}`),
                ...newTables.map((t) => `${(0,mysql_client.quoteMySqlIdent)(replacement)}.${(0,mysql_client.quoteMySqlIdent)(t)} TO ${(0,mysql_client.quoteMySqlIdent)(target)}.${(0,mysql_client.quoteMySqlIdent)(t)}`),
            ];
            if (moves.length > 0) {
                const back = [
                    ...newTables.map((t) => `${(0,mysql_client.quoteMySqlIdent)(target)}.${(0,mysql_client.quoteMySqlIdent)(t)} TO ${(0,mysql_client.quoteMySqlIdent)(replacement)}.${(0,mysql_client.quoteMySqlIdent)(t)}`),
                    ...oldTables.map((t) => `${(0,mysql_client.quoteMySqlIdent)(kept)}.${(0,mysql_client.quoteMySqlIdent)(t)} TO ${(0,mysql_client.quoteMySqlIdent)(target)}.${(0,mysql_client.quoteMySqlIdent)(t)}`),
                ];
                // RENAME TABLE is all or nothing: where the tables are says whether it ran.
                undo.push(async (s) => {
                    const ran = oldTables.length > 0
                        ? (await tableCount(s, kept)) > 0
                        : (await tableCount(s, replacement)) < newTables.length;
                    if (!ran)
                        return false;
                    await s.query(`RENAME TABLE ${back.join(', ')}`);
                    return true;
                });
                await db.query(`RENAME TABLE ${moves.join(', ')}`);
            }
            // The target's own routines and events make way for the backup's.
            for (const object of old.filter((o) => o.kind !== 'trigger' && o.kind !== 'view')) {
                undo.push(putBack(object));
                await db.query(dropStatement(target, object));
            }
            await createAll(target, fresh, undo);
            // Dropping a routine revoked its grants: each recreated routine gets them again.
            for (const object of fresh.filter(isRoutine))
                for (const grant of grantsOf(grants, object))
                    await db.query(grant.statement);
        }
        catch (error) {
            // The swap's session may be the one that died: the rest runs on a new one, once the old
            // one is gone from the server (so nothing it still runs can race with the undo).
            const cause = (0,src/* errorMessage */.gJ)(error);
            const bug = !(error instanceof src/* ConfigurationError */.j1) && !(0,src_process/* isDatabaseError */.sS)(error);
            if (error === keptTaken)
                throw error;
            if (undo.length === 0 && !keptMade) {
                if (bug)
                    throw error;
                throw new src/* ConfigurationError */.j1(`Could not swap ${target} with the restored copy: ${cause}. ${target} was left as it was.`);
            }
            const threadId = db.threadId;
            db.destroy();
            dbGone = true;
            const handBack = (what) => new src/* ConfigurationError */.j1(`Could not swap ${target} with the restored copy (${cause}), and ${what} Check ${target} and ${kept} by hand before anything else runs.`);
            let admin;
            try {
                admin = await (0,mysql_client.connectMySql)(connection, undefined);
            }
            catch (reconnect) {
                throw handBack(`no new session could be opened to put it back (${(0,src/* errorMessage */.gJ)(reconnect)}): ${target} may be missing tables, triggers, views or routines, and its old tables may be in ${kept}.`);
            }
            try {
                await admin.query(`SET SESSION lock_wait_timeout = ${WAIT_SECONDS}`);
                await admin.query('KILL CONNECTION ?', [threadId]).catch(() => undefined);
                const deadline = Date.now() + WAIT_SECONDS * 1000;
                for (;;) {
                    const [still] = await admin.query('SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ?', [threadId]);
                    if (still.length === 0)
                        break;
                    if (Date.now() > deadline)
                        throw handBack(`its session (${threadId}) was still running on the server after ${WAIT_SECONDS} s, so nothing was put back: ${target}'s old tables may be in ${kept}.`);
                    await new Promise((resolve) => setTimeout(resolve, 100));
                }
                const { acted, failure } = await runUndo(undo, admin);
                // Where each database stands now, for the message.
                const state = async () => {
                    const inTarget = await tableCount(admin, target);
                    const inKept = keptMade ? await tableCount(admin, kept) : 0;
                    return `${target} now holds ${inTarget} table(s) (it had ${oldTables.length})${keptMade ? `, ${kept} holds ${inKept}` : ''}.`;
                };
                if (failure !== undefined) {
                    const now = await state().catch((e) => `their state could not be read (${(0,src/* errorMessage */.gJ)(e)}).`);
                    throw handBack(`putting it back did not finish (${(0,src/* errorMessage */.gJ)(failure)}): ${now}`);
                }
                // The kept database may hold the only copy of the old tables: dropped only when every
                // undo step worked, it is this run's, and it is empty again.
                let leftBehind = '';
                if (keptMade) {
                    const inKept = await tableCount(admin, kept);
                    if (inKept > 0)
                        throw handBack(`putting it back left ${inKept} table(s) in ${kept}: ${await state()}`);
                    await admin.query(`DROP DATABASE IF EXISTS ${(0,mysql_client.quoteMySqlIdent)(kept)}`).catch((e) => {
                        leftBehind = ` The empty database ${kept} made for the swap could not be dropped (${(0,src/* errorMessage */.gJ)(e)}): drop it by hand.`;
                    });
                }
                // Put back as it was: a bug keeps its class and stack; what the server did is said plainly.
                if (bug)
                    throw error;
                throw new src/* ConfigurationError */.j1(`Could not swap ${target} with the restored copy: ${cause}. ${target} was ${acted ? 'put back' : 'left'} as it was.${leftBehind}`);
            }
            catch (failure) {
                if (failure === error || failure instanceof src/* ConfigurationError */.j1)
                    throw failure;
                // The new session failed too, somewhere between the steps above.
                throw handBack(`putting it back could not finish (${(0,src/* errorMessage */.gJ)(failure)}): the old tables may be in ${kept}.`);
            }
            finally {
                await admin.end().catch(() => undefined);
            }
        }
        // The kept copy gets the old definitions too, so it is the whole database that was replaced.
        try {
            // Events in the kept copy must not run (a purge would change what it keeps): disabled.
            const keptObjects = old.map((o) => moved(o, target, kept));
            await createAll(kept, keptObjects);
            for (const event of keptObjects.filter((o) => o.kind === 'event'))
                await db.query(`ALTER EVENT ${(0,mysql_client.quoteMySqlIdent)(kept)}.${(0,mysql_client.quoteMySqlIdent)(event.name)} DISABLE`);
        }
        catch (error) {
            throw new src/* ConfigurationError */.j1(`${target} was replaced and its tables are kept in ${kept}, but not every view, trigger, routine or event could be recreated there: ${(0,src/* errorMessage */.gJ)(error)}`);
        }
    }
    finally {
        if (!dbGone)
            await db.end().catch(() => undefined);
    }
}

// EXTERNAL MODULE: ../../packages/db/src/engine.ts
var engine = __webpack_require__(1041);
;// CONCATENATED MODULE: ../../packages/db/src/mysql.ts







/** Option-file value in double quotes; backslash escapes are interpreted by the client. */
function optionValue(value) {
    return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
/**
 * A private (0600) client option file under RUNNER_TEMP carrying the credentials and TLS settings,
 * so the password is never in argv or the environment; removed when the tool is done.
 */
function writeDefaultsFile(connection) {
    const folder = (0,src/* makeTempDir */.mk)('db-client');
    try {
        const file = folder.file;
        const lines = [
            '[client]',
            `host=${optionValue(connection.host)}`,
            `port=${connection.port}`,
            `user=${optionValue(connection.user)}`,
        ];
        if (connection.password !== undefined)
            lines.push(`password=${optionValue(connection.password)}`);
        const tls = (0,src_connection/* tlsOf */.Vt)(connection);
        if (tls.mode === 'disable')
            lines.push('skip-ssl');
        if (tls.mode === 'require')
            lines.push('ssl', 'skip-ssl-verify-server-cert');
        if ((0,src_connection/* isVerified */.p4)(tls.mode)) {
            // The client only refuses a server without TLS when it verifies the name too, so verify-ca
            // is verify-full for the tools: stricter, never a silent fall back to plaintext.
            lines.push('ssl', `ssl-ca=${optionValue(file('ca.pem', tls.ca ?? external_node_tls_.rootCertificates.join('\n') + '\n'))}`, 'ssl-verify-server-cert');
        }
        if (tls.cert !== undefined && tls.key !== undefined) {
            lines.push(`ssl-cert=${optionValue(file('client.pem', tls.cert))}`);
            lines.push(`ssl-key=${optionValue(file('client.key', tls.key))}`);
        }
        return { path: file('client.cnf', lines.join('\n') + '\n'), remove: () => folder.remove() };
    }
    catch (error) {
        folder.remove();
        throw error;
    }
}
class MySqlEngine {
    connection;
    flavour;
    constructor(connection) {
        this.connection = connection;
    }
    async withConnection(database, fn, doing) {
        const db = await (0,mysql_client.connectMySql)(this.connection, database);
        try {
            return await fn(db);
        }
        catch (error) {
            // A server error or a lost session is the database's doing; anything else stays a bug.
            throw (0,src_process/* databaseFailure */.cA)(error, doing ??
                `MySQL at ${this.connection.host}:${this.connection.port}${database === undefined ? '' : ` (database ${database})`}`);
        }
        finally {
            await db.end().catch(() => undefined);
        }
    }
    async serverVersion() {
        return this.withConnection(this.connection.database, async (db) => {
            const [rows] = await db.query('SELECT VERSION() AS version');
            const version = String(rows[0].version);
            this.flavour = /mariadb/i.test(version) ? 'mariadb' : 'mysql';
            return version;
        });
    }
    async findTool(kind) {
        if (this.flavour === undefined)
            await this.serverVersion();
        const names = kind === 'dump'
            ? this.flavour === 'mariadb'
                ? ['mariadb-dump', 'mysqldump']
                : ['mysqldump', 'mariadb-dump']
            : this.flavour === 'mariadb'
                ? ['mariadb', 'mysql']
                : ['mysql', 'mariadb'];
        for (const name of names) {
            const { code, stdout } = await (0,src_process/* runTool */.qI)(name, ['--version'], { PATH: process.env.PATH });
            if (code === 0)
                return { path: name, version: stdout.trim() };
        }
        throw new src/* ConfigurationError */.j1(`None of ${names.join(', ')} is installed; install the mariadb-client or mysql-client package.`);
    }
    async startDump() {
        const serverVersion = await this.serverVersion();
        const tool = await this.findTool('dump');
        // Counted just before the dump's own consistent snapshot; exact when nothing writes meanwhile.
        // A failure stops the backup here, before anything is dumped or uploaded.
        const rowCounts = Promise.resolve(await this.rowCounts(this.connection.database));
        const defaults = writeDefaultsFile(this.connection);
        const spawned = (0,src_process/* spawnTool */.My)(tool.path, [
            `--defaults-extra-file=${defaults.path}`,
            '--single-transaction',
            '--routines',
            '--triggers',
            '--events',
            '--hex-blob',
            '--default-character-set=utf8mb4',
            // The bare name, not --databases: no CREATE DATABASE/USE in the dump, so a restore
            // goes only where it is sent (a scratch database when verifying).
            this.connection.database,
        ], { env: { PATH: process.env.PATH, LANG: 'C.UTF-8' } });
        const finished = spawned.exited.then((code) => {
            defaults.remove();
            if (code !== 0)
                throw new engine/* DumpFailedError */._(`${tool.path} exited with code ${code}: ${spawned.stderr.toString() || 'no message'}`);
        });
        // Handled from the start: the tool can die while the upload is held, long before anyone awaits it.
        finished.catch(() => undefined);
        return {
            stream: spawned.child.stdout,
            finished,
            tool,
            serverVersion,
            format: 'SQL',
            rowCounts,
            abort: () => spawned.child.kill('SIGTERM'),
        };
    }
    async restore(database, input) {
        const tool = await this.findTool('client');
        const defaults = writeDefaultsFile(this.connection);
        // The client stops at the first error (no --force).
        const spawned = (0,src_process/* spawnTool */.My)(tool.path, 
        // No LOAD DATA LOCAL INFILE: a planted dump must not read the runner's files.
        [`--defaults-extra-file=${defaults.path}`, '--local-infile=0', '--binary-mode', '--database', database], {
            env: { PATH: process.env.PATH, LANG: 'C.UTF-8' },
            stdin: 'pipe',
        });
        const stdin = spawned.child.stdin;
        // A damaged backup found late is the real cause, not the client's view of its cut-off input.
        (0,src_process/* feedTool */.dR)(input, stdin, () => spawned.child.kill('SIGTERM'));
        const code = await spawned.exited;
        defaults.remove();
        if (input.errored)
            throw input.errored;
        if (code !== 0)
            throw new engine/* RestoreFailedError */.U(`${tool.path} exited with code ${code}: ${spawned.stderr.toString() || 'no message'}`);
        return tool;
    }
    /** See replaceMySqlDatabase: one atomic RENAME TABLE, the other objects recreated, undone on failure. */
    async replaceDatabase(target, replacement, kept, options) {
        await replaceMySqlDatabase(this.connection, target, replacement, kept, options);
    }
    rowCounts(database) {
        return this.withConnection(database, async (db) => {
            const [tables] = await db.query(
            // MariaDB's system-versioned tables hold rows too (their current ones are counted).
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY 1", [database]);
            const counts = {};
            for (const table of tables) {
                const [rows] = await db.query(`SELECT COUNT(*) AS n FROM ${(0,mysql_client.quoteMySqlIdent)(String(table.name))}`);
                counts[String(table.name)] = Number(rows[0].n);
            }
            return counts;
        }, `Counting rows of ${database}`);
    }
    tableCount(database) {
        return this.withConnection(undefined, async (db) => {
            const [rows] = await db.query('SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ?) + (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = ?) AS n', [database, database]);
            return Number(rows[0].n);
        });
    }
    databaseExists(database) {
        return this.withConnection(undefined, async (db) => {
            const [rows] = await db.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [database]);
            return rows.length > 0;
        });
    }
    async createDatabase(database) {
        await this.withConnection(undefined, (db) => db.query(`CREATE DATABASE ${(0,mysql_client.quoteMySqlIdent)(database)} CHARACTER SET utf8mb4`));
    }
    async dropDatabase(database) {
        await this.withConnection(undefined, (db) => db.query(`DROP DATABASE IF EXISTS ${(0,mysql_client.quoteMySqlIdent)(database)}`));
    }
}


/***/ })

};
