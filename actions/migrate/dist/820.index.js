export const id = 820;
export const ids = [820];
export const modules = {

/***/ 9820:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   MySqlDriver: () => (/* binding */ MySqlDriver)
/* harmony export */ });
/* harmony import */ var _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(741);
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
        return new MySqlDriver(await (0,_mysql_client_js__WEBPACK_IMPORTED_MODULE_1__/* .connectMySql */ .F)(connection, connection.database), connection.database);
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
        await this.db.query(`CREATE TABLE IF NOT EXISTS ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ} (installed_rank INT AUTO_INCREMENT PRIMARY KEY, version VARCHAR(100) NOT NULL, description VARCHAR(500) NOT NULL, checksum CHAR(64) NOT NULL, normalized_checksum CHAR(64) NOT NULL, phase VARCHAR(16), applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), execution_ms INT NOT NULL, applied_by VARCHAR(500) NOT NULL, success BOOLEAN NOT NULL)`);
        await this.db.query(`CREATE TABLE IF NOT EXISTS ${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .LOCK_TABLE */ .Pt} (id INT PRIMARY KEY, holder VARCHAR(500) NOT NULL, acquired_at TIMESTAMP(3) NOT NULL)`);
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
    async apply(file, statements, appliedBy) {
        const started = performance.now();
        let current;
        try {
            for (current of statements)
                await this.db.query(current.sql);
        }
        catch (error) {
            await this.record(file, Math.round(performance.now() - started), appliedBy, false).catch(() => undefined);
            throw new _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .MigrationFailedError */ .Yv(`${file.fileName} failed (statement at line ${current?.line ?? '?'}): ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(error)}. MySQL cannot roll back DDL: the statements before it stay applied. It is recorded as failed; fix the schema, then run repair with repair-version: ${file.version}.`);
        }
        const elapsed = Math.round(performance.now() - started);
        await this.record(file, elapsed, appliedBy, true);
        return elapsed;
    }
    async undo(file, statements, version) {
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


/***/ })

};
