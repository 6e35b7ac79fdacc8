export const id = 73;
export const ids = [73];
export const modules = {

/***/ 1073:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  MySqlEngine: () => (/* binding */ MySqlEngine)
});

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(4379);
// EXTERNAL MODULE: ../../packages/kit/src/index.ts + 9 modules
var src = __webpack_require__(3800);
// EXTERNAL MODULE: ../../node_modules/.pnpm/mysql2@3.24.6_@types+node@24.19.2/node_modules/mysql2/promise.js
var promise = __webpack_require__(171);
// EXTERNAL MODULE: ../../packages/db/src/connection.ts
var src_connection = __webpack_require__(1767);
;// CONCATENATED MODULE: ../../packages/db/src/mysql-client.ts


const quoteMySqlIdent = (name) => `\`${name.replace(/`/g, '``')}\``;
/** One session to MySQL/MariaDB, for the backup engine and the migration driver alike. */
async function connectMySql(connection, database) {
    let db;
    try {
        db = await promise.createConnection({
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
        throw (0,src_connection/* connectionFailure */.Dx)(connection, database, error);
    }
    // A killed connection also emits 'error'; the pending query rejects with it anyway.
    db.on('error', () => undefined);
    return db;
}

// EXTERNAL MODULE: ../../packages/db/src/engine.ts
var engine = __webpack_require__(1041);
// EXTERNAL MODULE: ../../packages/db/src/process.ts
var src_process = __webpack_require__(3870);
;// CONCATENATED MODULE: ../../packages/db/src/mysql.ts







/** Option-file value in double quotes; backslash escapes are interpreted by the client. */
function optionValue(value) {
    return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
/**
 * A private (0600) client option file carrying the credentials, so the password is never in
 * argv or the environment; removed when the tool is done.
 */
function writeDefaultsFile(connection) {
    const dir = (0,external_node_fs_.mkdtempSync)((0,external_node_path_.join)((0,external_node_os_.tmpdir)(), 'db-client-'));
    const path = (0,external_node_path_.join)(dir, 'client.cnf');
    const lines = [
        '[client]',
        `host=${optionValue(connection.host)}`,
        `port=${connection.port}`,
        `user=${optionValue(connection.user)}`,
    ];
    if (connection.password !== undefined)
        lines.push(`password=${optionValue(connection.password)}`);
    (0,external_node_fs_.writeFileSync)(path, lines.join('\n') + '\n', { mode: 0o600 });
    return { path, remove: () => (0,external_node_fs_.rmSync)(dir, { recursive: true, force: true }) };
}
class MySqlEngine {
    connection;
    flavour;
    constructor(connection) {
        this.connection = connection;
    }
    async withConnection(database, fn) {
        const db = await connectMySql(this.connection, database);
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
        const rowCounts = this.rowCounts(this.connection.database);
        await rowCounts.catch(() => undefined);
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
        const spawned = (0,src_process/* spawnTool */.My)(tool.path, [`--defaults-extra-file=${defaults.path}`, '--binary-mode', '--database', database], {
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
            throw new engine/* RestoreFailedError */.U(`${tool.path} exited with code ${code}: ${spawned.stderr.toString() || 'no message'}`);
        return tool;
    }
    rowCounts(database) {
        return this.withConnection(database, async (db) => {
            const [tables] = await db.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY 1", [database]);
            const counts = {};
            for (const table of tables) {
                const [rows] = await db.query(`SELECT COUNT(*) AS n FROM ${quoteMySqlIdent(String(table.name))}`);
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
        await this.withConnection(undefined, (db) => db.query(`CREATE DATABASE ${quoteMySqlIdent(database)} CHARACTER SET utf8mb4`));
    }
    async dropDatabase(database) {
        await this.withConnection(undefined, (db) => db.query(`DROP DATABASE IF EXISTS ${quoteMySqlIdent(database)}`));
    }
}


/***/ })

};
