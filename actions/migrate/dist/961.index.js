export const id = 961;
export const ids = [961];
export const modules = {

/***/ 2761:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   B: () => (/* binding */ quoteMySqlIdent),
/* harmony export */   F: () => (/* binding */ connectMySql)
/* harmony export */ });
/* harmony import */ var mysql2_promise__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(171);
/* harmony import */ var _connection_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1767);


const quoteMySqlIdent = (name) => `\`${name.replace(/`/g, '``')}\``;
/** One session to MySQL/MariaDB, for the backup engine and the migration driver alike. */
async function connectMySql(connection, database) {
    let db;
    try {
        db = await mysql2_promise__WEBPACK_IMPORTED_MODULE_0__.createConnection({
            host: connection.host,
            port: connection.port,
            user: connection.user,
            password: connection.password,
            ...(database === undefined ? {} : { database }),
            connectTimeout: 15_000,
            multipleStatements: false,
        });
    }
    catch (error) {
        throw (0,_connection_js__WEBPACK_IMPORTED_MODULE_1__/* .connectionFailure */ .Dx)(connection, database, error);
    }
    // A killed connection also emits 'error'; the pending query rejects with it anyway.
    db.on('error', () => undefined);
    return db;
}


/***/ }),

/***/ 2961:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   MySqlEngine: () => (/* binding */ MySqlEngine)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8161);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_os__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(4379);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(741);
/* harmony import */ var _mysql_client_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(2761);
/* harmony import */ var _engine_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(1041);
/* harmony import */ var _process_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(6151);







/** Option-file value in double quotes; backslash escapes are interpreted by the client. */
function optionValue(value) {
    return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
/**
 * A private (0600) client option file carrying the credentials, so the password is never in
 * argv or the environment; removed when the tool is done.
 */
function writeDefaultsFile(connection) {
    const dir = (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.mkdtempSync)((0,node_path__WEBPACK_IMPORTED_MODULE_2__.join)((0,node_os__WEBPACK_IMPORTED_MODULE_1__.tmpdir)(), 'db-client-'));
    const path = (0,node_path__WEBPACK_IMPORTED_MODULE_2__.join)(dir, 'client.cnf');
    const lines = [
        '[client]',
        `host=${optionValue(connection.host)}`,
        `port=${connection.port}`,
        `user=${optionValue(connection.user)}`,
    ];
    if (connection.password !== undefined)
        lines.push(`password=${optionValue(connection.password)}`);
    (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.writeFileSync)(path, lines.join('\n') + '\n', { mode: 0o600 });
    return { path, remove: () => (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.rmSync)(dir, { recursive: true, force: true }) };
}
class MySqlEngine {
    connection;
    flavour;
    constructor(connection) {
        this.connection = connection;
    }
    async withConnection(database, fn) {
        const db = await (0,_mysql_client_js__WEBPACK_IMPORTED_MODULE_4__/* .connectMySql */ .F)(this.connection, database);
        try {
            return await fn(db);
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
            const { code, stdout } = await (0,_process_js__WEBPACK_IMPORTED_MODULE_5__/* .runTool */ .qI)(name, ['--version'], { PATH: process.env.PATH });
            if (code === 0)
                return { path: name, version: stdout.trim() };
        }
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_3__/* .ConfigurationError */ .j1(`None of ${names.join(', ')} is installed; install the mariadb-client or mysql-client package.`);
    }
    async startDump() {
        const serverVersion = await this.serverVersion();
        const tool = await this.findTool('dump');
        // Counted just before the dump's own consistent snapshot; exact when nothing writes meanwhile.
        const rowCounts = this.rowCounts(this.connection.database);
        await rowCounts.catch(() => undefined);
        const defaults = writeDefaultsFile(this.connection);
        const spawned = (0,_process_js__WEBPACK_IMPORTED_MODULE_5__/* .spawnTool */ .My)(tool.path, [
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
        const spawned = (0,_process_js__WEBPACK_IMPORTED_MODULE_5__/* .spawnTool */ .My)(tool.path, [`--defaults-extra-file=${defaults.path}`, '--binary-mode', '--database', database], {
            env: { PATH: process.env.PATH, LANG: 'C.UTF-8' },
            stdin: 'pipe',
        });
        const stdin = spawned.child.stdin;
        stdin.on('error', () => undefined);
        input.on('error', () => spawned.child.kill('SIGTERM'));
        input.pipe(stdin);
        const code = await spawned.exited;
        defaults.remove();
        if (code !== 0)
            throw new _engine_js__WEBPACK_IMPORTED_MODULE_6__/* .RestoreFailedError */ .U(`${tool.path} exited with code ${code}: ${spawned.stderr.toString() || 'no message'}`);
        return tool;
    }
    rowCounts(database) {
        return this.withConnection(database, async (db) => {
            const [tables] = await db.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY 1", [database]);
            const counts = {};
            for (const table of tables) {
                const [rows] = await db.query(`SELECT COUNT(*) AS n FROM ${(0,_mysql_client_js__WEBPACK_IMPORTED_MODULE_4__/* .quoteMySqlIdent */ .B)(String(table.name))}`);
                counts[String(table.name)] = Number(rows[0].n);
            }
            return counts;
        });
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
        await this.withConnection(undefined, (db) => db.query(`CREATE DATABASE ${(0,_mysql_client_js__WEBPACK_IMPORTED_MODULE_4__/* .quoteMySqlIdent */ .B)(database)} CHARACTER SET utf8mb4`));
    }
    async dropDatabase(database) {
        await this.withConnection(undefined, (db) => db.query(`DROP DATABASE IF EXISTS ${(0,_mysql_client_js__WEBPACK_IMPORTED_MODULE_4__/* .quoteMySqlIdent */ .B)(database)}`));
    }
}


/***/ })

};
