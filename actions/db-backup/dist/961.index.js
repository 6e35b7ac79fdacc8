export const id = 961;
export const ids = [961,761];
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

/***/ 2961:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   MySqlEngine: () => (/* binding */ MySqlEngine)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_tls__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1692);
/* harmony import */ var node_tls__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_tls__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(4379);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(2592);
/* harmony import */ var _connection_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(1767);
/* harmony import */ var _mysql_client_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(2761);
/* harmony import */ var _engine_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(1041);
/* harmony import */ var _process_js__WEBPACK_IMPORTED_MODULE_7__ = __webpack_require__(3870);








/** Option-file value in double quotes; backslash escapes are interpreted by the client. */
function optionValue(value) {
    return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
/**
 * A private (0600) client option file under RUNNER_TEMP carrying the credentials and TLS settings,
 * so the password is never in argv or the environment; removed when the tool is done.
 */
function writeDefaultsFile(connection) {
    const folder = (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .makeTempDir */ .mk)('db-client');
    try {
        const file = (name, content) => {
            const path = (0,node_path__WEBPACK_IMPORTED_MODULE_2__.join)(folder.path, name);
            (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.writeFileSync)(path, content, { mode: 0o600 });
            return path;
        };
        const path = (0,node_path__WEBPACK_IMPORTED_MODULE_2__.join)(folder.path, 'client.cnf');
        const lines = [
            '[client]',
            `host=${optionValue(connection.host)}`,
            `port=${connection.port}`,
            `user=${optionValue(connection.user)}`,
        ];
        if (connection.password !== undefined)
            lines.push(`password=${optionValue(connection.password)}`);
        const tls = (0,_connection_js__WEBPACK_IMPORTED_MODULE_4__/* .tlsOf */ .Vt)(connection);
        if (tls.mode === 'disable')
            lines.push('skip-ssl');
        if (tls.mode === 'require')
            lines.push('ssl', 'skip-ssl-verify-server-cert');
        if ((0,_connection_js__WEBPACK_IMPORTED_MODULE_4__/* .isVerified */ .p4)(tls.mode)) {
            // The client only refuses a server without TLS when it verifies the name too, so verify-ca
            // is verify-full for the tools: stricter, never a silent fall back to plaintext.
            lines.push('ssl', `ssl-ca=${optionValue(file('ca.pem', tls.ca ?? node_tls__WEBPACK_IMPORTED_MODULE_1__.rootCertificates.join('\n') + '\n'))}`, 'ssl-verify-server-cert');
        }
        if (tls.cert !== undefined && tls.key !== undefined) {
            lines.push(`ssl-cert=${optionValue(file('client.pem', tls.cert))}`);
            lines.push(`ssl-key=${optionValue(file('client.key', tls.key))}`);
        }
        (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.writeFileSync)(path, lines.join('\n') + '\n', { mode: 0o600 });
        return { path, remove: () => folder.remove() };
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
        const db = await (0,_mysql_client_js__WEBPACK_IMPORTED_MODULE_5__.connectMySql)(this.connection, database);
        try {
            return await fn(db);
        }
        catch (error) {
            // A server error or a lost session is the database's doing; anything else stays a bug.
            throw (0,_process_js__WEBPACK_IMPORTED_MODULE_7__/* .databaseFailure */ .cA)(error, doing ??
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
            const { code, stdout } = await (0,_process_js__WEBPACK_IMPORTED_MODULE_7__/* .runTool */ .qI)(name, ['--version'], { PATH: process.env.PATH });
            if (code === 0)
                return { path: name, version: stdout.trim() };
        }
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .ConfigurationError */ .j1(`None of ${names.join(', ')} is installed; install the mariadb-client or mysql-client package.`);
    }
    async startDump() {
        const serverVersion = await this.serverVersion();
        const tool = await this.findTool('dump');
        // Counted just before the dump's own consistent snapshot; exact when nothing writes meanwhile.
        // A failure stops the backup here, before anything is dumped or uploaded.
        const counts = await this.rowCounts(this.connection.database).catch((error) => {
            throw (0,_process_js__WEBPACK_IMPORTED_MODULE_7__/* .databaseFailure */ .cA)(error, `Counting rows of ${this.connection.database}`);
        });
        const rowCounts = Promise.resolve(counts);
        const defaults = writeDefaultsFile(this.connection);
        const spawned = (0,_process_js__WEBPACK_IMPORTED_MODULE_7__/* .spawnTool */ .My)(tool.path, [
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
                throw new _engine_js__WEBPACK_IMPORTED_MODULE_6__/* .DumpFailedError */ ._(`${tool.path} exited with code ${code}: ${spawned.stderr.toString() || 'no message'}`);
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
        const spawned = (0,_process_js__WEBPACK_IMPORTED_MODULE_7__/* .spawnTool */ .My)(tool.path, 
        // No LOAD DATA LOCAL INFILE: a planted dump must not read the runner's files.
        [`--defaults-extra-file=${defaults.path}`, '--local-infile=0', '--binary-mode', '--database', database], {
            env: { PATH: process.env.PATH, LANG: 'C.UTF-8' },
            stdin: 'pipe',
        });
        const stdin = spawned.child.stdin;
        // A damaged backup found late is the real cause, not the client's view of its cut-off input.
        (0,_process_js__WEBPACK_IMPORTED_MODULE_7__/* .feedTool */ .dR)(input, stdin, () => spawned.child.kill('SIGTERM'));
        const code = await spawned.exited;
        defaults.remove();
        if (input.errored)
            throw input.errored;
        if (code !== 0)
            throw new _engine_js__WEBPACK_IMPORTED_MODULE_6__/* .RestoreFailedError */ .U(`${tool.path} exited with code ${code}: ${spawned.stderr.toString() || 'no message'}`);
        return tool;
    }
    /**
     * MySQL cannot rename a database, but one RENAME TABLE statement moving every table is atomic:
     * the old tables go to `kept`, the replacement's take their place, all or nothing. Views,
     * triggers, routines and events cannot move between databases that way, so a database holding
     * any is refused before anything changes. GRANTs are by name and stay with the target.
     */
    async replaceDatabase(target, replacement, kept, options) {
        await this.withConnection(undefined, async (db) => {
            const [objects] = await db.query(`SELECT 'view' AS kind, TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN (?, ?)
         UNION ALL SELECT 'trigger', TRIGGER_SCHEMA, TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (?, ?)
         UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_SCHEMA, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (?, ?)
         UNION ALL SELECT 'event', EVENT_SCHEMA, EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (?, ?)
         LIMIT 5`, [target, replacement, target, replacement, target, replacement, target, replacement]);
            if (objects.length > 0) {
                const some = objects.map((o) => `${String(o.kind)} ${String(o.name)}`).join(', ');
                throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .ConfigurationError */ .j1(`Cannot replace ${target} in place on MySQL: it or the backup holds objects that cannot move between databases atomically (${some}). ${target} was left as it was; restore into a new target-database and point the application at it.`);
            }
            const tablesOf = async (database) => {
                const [rows] = await db.query("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [database]);
                return rows.map((r) => String(r.name));
            };
            const [oldTables, newTables] = [await tablesOf(target), await tablesOf(replacement)];
            const [charset] = await db.query('SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [target]);
            const q = _mysql_client_js__WEBPACK_IMPORTED_MODULE_5__.quoteMySqlIdent;
            await db.query(`CREATE DATABASE ${q(kept)} CHARACTER SET ${q(String(charset[0]?.cs ?? 'utf8mb4'))} COLLATE ${q(String(charset[0]?.co ?? 'utf8mb4_general_ci'))}`);
            try {
                await db.query('SET SESSION lock_wait_timeout = 30');
                if (options.terminateSessions) {
                    const [sessions] = await db.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [target]);
                    for (const { id } of sessions)
                        await db.query(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
                }
                const moves = [
                    ...oldTables.map((t) => `${q(target)}.${q(t)} TO ${q(kept)}.${q(t)}`),
                    ...newTables.map((t) => `${q(replacement)}.${q(t)} TO ${q(target)}.${q(t)}`),
                ];
                if (moves.length > 0)
                    await db.query(`RENAME TABLE ${moves.join(', ')}`);
            }
            catch (error) {
                await db.query(`DROP DATABASE IF EXISTS ${q(kept)}`).catch(() => undefined);
                throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .ConfigurationError */ .j1(`Could not swap ${target} with the restored copy: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .errorMessage */ .gJ)(error)}. ${target} was left as it was.`);
            }
        });
    }
    rowCounts(database) {
        return this.withConnection(database, async (db) => {
            const [tables] = await db.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY 1", [database]);
            const counts = {};
            for (const table of tables) {
                const [rows] = await db.query(`SELECT COUNT(*) AS n FROM ${(0,_mysql_client_js__WEBPACK_IMPORTED_MODULE_5__.quoteMySqlIdent)(String(table.name))}`);
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
        await this.withConnection(undefined, (db) => db.query(`CREATE DATABASE ${(0,_mysql_client_js__WEBPACK_IMPORTED_MODULE_5__.quoteMySqlIdent)(database)} CHARACTER SET utf8mb4`));
    }
    async dropDatabase(database) {
        await this.withConnection(undefined, (db) => db.query(`DROP DATABASE IF EXISTS ${(0,_mysql_client_js__WEBPACK_IMPORTED_MODULE_5__.quoteMySqlIdent)(database)}`));
    }
}


/***/ })

};
