export const id = 820;
export const ids = [820,761];
export const modules = {

/***/ 9820:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   MySqlDriver: () => (/* binding */ MySqlDriver)
/* harmony export */ });
/* harmony import */ var _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3104);
/* harmony import */ var _mysql_client_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(2761);
/* harmony import */ var _driver_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(5291);



class MySqlDriver {
    engine = 'mysql';
    db;
    database;
    constructor(db, database) {
        this.db = db;
        this.database = database;
    }
    static async open(connection) {
        return new MySqlDriver(await (0,_mysql_client_js__WEBPACK_IMPORTED_MODULE_1__.connectMySql)(connection, connection.database), connection.database);
    }
    async readHistory() {
        // One query, as on PostgreSQL: a missing table means no history yet.
        let rows;
        try {
            [rows] = await this.db.query(`SELECT version, description, checksum, normalized_checksum, phase, applied_at, execution_ms, applied_by, success FROM ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ} ORDER BY installed_rank`);
        }
        catch (error) {
            if (error.code === 'ER_NO_SUCH_TABLE')
                return [];
            throw error;
        }
        return rows.map((r) => (0,_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .toHistoryRow */ .Yn)(r));
    }
    async ensureHistory() {
        await this.db.query(`CREATE TABLE IF NOT EXISTS ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ} (installed_rank INT AUTO_INCREMENT PRIMARY KEY, version VARCHAR(100), description VARCHAR(500) NOT NULL, checksum CHAR(64) NOT NULL, normalized_checksum CHAR(64) NOT NULL, phase VARCHAR(16), applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), execution_ms INT NOT NULL, applied_by VARCHAR(500) NOT NULL, success BOOLEAN NOT NULL)`);
        await this.db.query(`CREATE TABLE IF NOT EXISTS ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .LOCK_TABLE */ .Pt} (id INT PRIMARY KEY, holder VARCHAR(500) NOT NULL, acquired_at TIMESTAMP(3) NOT NULL)`);
        // version is null for repeatable migrations; a table made before they existed is relaxed once.
        const [columns] = await this.db.query(`SELECT is_nullable AS n FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = 'version'`, [_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ]);
        if (columns[0]?.n === 'NO')
            await this.db.query(`ALTER TABLE ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ} MODIFY version VARCHAR(100) NULL`);
    }
    serverMajor() {
        return Promise.resolve(0);
    }
    async forgetRepeatables() {
        await this.db.query(`DELETE FROM ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ} WHERE version IS NULL`);
    }
    get lockName() {
        return `deploy_suite_migrate.${this.database}`.slice(0, 64);
    }
    async lock(waitMs) {
        const deadline = Date.now() + waitMs;
        for (;;) {
            const [rows] = await this.db.query('SELECT GET_LOCK(?, 0) AS ok', [this.lockName]);
            if (Number(rows[0].ok) === 1)
                break;
            if (Date.now() >= deadline) {
                const [info] = await this.db
                    .query(`SELECT holder FROM ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .LOCK_TABLE */ .Pt} WHERE id = 1`)
                    .catch(() => [[]]);
                const who = info[0]?.holder ?? 'another session';
                throw new _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .LockTimeoutError */ .XB(`Timed out after ${Math.round(waitMs / 1000)} s waiting for the migration lock held by ${who}. Raise lock-wait-timeout or wait for that run to finish.`);
            }
            await _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .systemClock */ .ml.sleep(Math.min(500, Math.max(50, deadline - Date.now())));
        }
    }
    async recordHolder(holder) {
        await this.db.query(`REPLACE INTO ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .LOCK_TABLE */ .Pt} (id, holder, acquired_at) VALUES (1, ?, CURRENT_TIMESTAMP(3))`, [
            holder,
        ]);
    }
    async unlock() {
        await this.db.query('SELECT RELEASE_LOCK(?)', [this.lockName]);
    }
    async record(file, executionMs, appliedBy, success = true) {
        await this.db.query(`INSERT INTO ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ} (${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_COLUMNS */ .b4}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, (0,_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .historyValues */ .DR)(file, executionMs, appliedBy, success));
    }
    /** MySQL commits each DDL statement, so a failure cannot roll back: it is recorded as failed and blocks later applies until repair. */
    async apply(file, { statements }, appliedBy) {
        const started = performance.now();
        let current;
        try {
            for (current of statements)
                await this.db.query(current.sql);
        }
        catch (error) {
            await this.record(file, Math.round(performance.now() - started), appliedBy, false).catch(() => undefined);
            throw new _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .MigrationFailedError */ .Yv(`${file.fileName} failed (statement at line ${current?.line ?? '?'}): ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(error)}. MySQL cannot roll back DDL: the statements before it stay applied. It is recorded as failed; ${file.kind === 'repeatable' ? 'it runs again on the next apply.' : `fix the schema, then run repair with repair-version: ${file.version}.`}`);
        }
        const elapsed = Math.round(performance.now() - started);
        await this.record(file, elapsed, appliedBy, true);
        return elapsed;
    }
    async undo(file, { statements }, version) {
        const started = performance.now();
        try {
            for (const statement of statements)
                await this.db.query(statement.sql);
        }
        catch (error) {
            throw new _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .MigrationFailedError */ .Yv(`${file.fileName} failed: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(error)}. Statements before it stay applied (MySQL cannot roll back DDL).`);
        }
        await this.db.query(`DELETE FROM ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ} WHERE version = ?`, [version]);
        return Math.round(performance.now() - started);
    }
    async updateChecksum(version, checksum, normalizedChecksum) {
        await this.db.query(`UPDATE ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ} SET checksum = ?, normalized_checksum = ? WHERE version = ? AND success`, [checksum, normalizedChecksum, version]);
    }
    async deleteFailed(version) {
        const [result] = await this.db.query(`DELETE FROM ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ} WHERE version = ? AND NOT success`, [version]);
        return result.affectedRows;
    }
    async schemaSnapshot() {
        const [columns] = await this.db.query(`SELECT table_name, column_name, column_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name NOT IN (?, ?) ORDER BY 1, 2`, [_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ, _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .LOCK_TABLE */ .Pt]);
        const [indexes] = await this.db.query(`SELECT table_name, index_name, seq_in_index, column_name, non_unique FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name NOT IN (?, ?) ORDER BY 1, 2, 3`, [_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ, _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .LOCK_TABLE */ .Pt]);
        return JSON.stringify({ columns, indexes });
    }
    async close() {
        await this.db.end().catch(() => undefined);
    }
}


/***/ }),

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


/***/ })

};
