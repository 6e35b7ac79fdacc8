export const id = 767;
export const ids = [767,760];
export const modules = {

/***/ 6767:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   PostgresDriver: () => (/* binding */ PostgresDriver)
/* harmony export */ });
/* harmony import */ var _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3104);
/* harmony import */ var _pg_client_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(760);
/* harmony import */ var _driver_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(5291);



class PostgresDriver {
    engine = 'postgres';
    client;
    schema;
    major;
    constructor(client, schema) {
        this.client = client;
        this.schema = schema;
    }
    static async open(connection, options) {
        // A migration waits seconds, not hours, behind a long transaction.
        const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
        const statementTimeoutMs = options.statementTimeoutMs ?? 0;
        try {
            const client = await (0,_pg_client_js__WEBPACK_IMPORTED_MODULE_1__.connectPostgres)(connection, {
                database: connection.database,
                applicationName: 'deploy-suite migrate',
                lockTimeoutMs,
                statementTimeoutMs,
            });
            return new PostgresDriver(client, options.schema ?? 'public');
        }
        catch (error) {
            throw refusedSetting(error, lockTimeoutMs, statementTimeoutMs) ?? error;
        }
    }
    get history() {
        return `${(0,_pg_client_js__WEBPACK_IMPORTED_MODULE_1__.quoteIdent)(this.schema)}.${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ}`;
    }
    get lockInfo() {
        return `${(0,_pg_client_js__WEBPACK_IMPORTED_MODULE_1__.quoteIdent)(this.schema)}.${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .LOCK_TABLE */ .Pt}`;
    }
    async readHistory() {
        let rows;
        try {
            ({ rows } = await this.client.query(`SELECT version, description, checksum, normalized_checksum, phase, applied_at::text AS applied_at, execution_ms, applied_by, success FROM ${this.history} ORDER BY installed_rank`));
        }
        catch (error) {
            if (error.code === '42P01')
                return []; // no history table yet
            throw error;
        }
        return rows.map((r) => (0,_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .toHistoryRow */ .Yn)(r));
    }
    async ensureHistory() {
        await this.client.query(`CREATE SCHEMA IF NOT EXISTS ${(0,_pg_client_js__WEBPACK_IMPORTED_MODULE_1__.quoteIdent)(this.schema)}`);
        // version is null for repeatable migrations; a table made before they existed is relaxed once.
        await this.client.query(`CREATE TABLE IF NOT EXISTS ${this.history} (installed_rank serial PRIMARY KEY, version text, description text NOT NULL, checksum text NOT NULL, normalized_checksum text NOT NULL, phase text, applied_at timestamptz NOT NULL DEFAULT now(), execution_ms integer NOT NULL, applied_by text NOT NULL, success boolean NOT NULL);
       CREATE TABLE IF NOT EXISTS ${this.lockInfo} (id int PRIMARY KEY, holder text NOT NULL, acquired_at timestamptz NOT NULL);
       DO $relax$ BEGIN
         IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = ${this.client.escapeLiteral(this.history)}::regclass AND attname = 'version' AND attnotnull) THEN
           ALTER TABLE ${this.history} ALTER COLUMN version DROP NOT NULL;
         END IF;
       END $relax$`);
    }
    serverMajor() {
        this.major ??= this.client
            .query('SHOW server_version_num')
            .then((r) => Math.floor(Number(r.rows[0].server_version_num) / 10000));
        return this.major;
    }
    async forgetRepeatables() {
        await this.client.query(`DELETE FROM ${this.history} WHERE version IS NULL`);
    }
    lockKey() {
        return this.client
            .query('SELECT hashtext($1) AS k', [`${this.schema}.${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ}`])
            .then((r) => String(r.rows[0].k));
    }
    async lock(waitMs) {
        const key = await this.lockKey();
        const deadline = Date.now() + waitMs;
        for (;;) {
            const { rows } = await this.client.query('SELECT pg_try_advisory_lock(872374, $1::int) AS ok', [key]);
            if (rows[0].ok)
                break;
            if (Date.now() >= deadline) {
                const info = await this.client
                    .query(`SELECT holder, acquired_at FROM ${this.lockInfo} WHERE id = 1`)
                    .catch(() => ({ rows: [] }));
                const who = info.rows[0]?.holder ?? 'another session';
                throw new _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .LockTimeoutError */ .XB(`Timed out after ${Math.round(waitMs / 1000)} s waiting for the migration lock held by ${who}. Raise lock-wait-timeout or wait for that run to finish.`);
            }
            await _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .systemClock */ .ml.sleep(Math.min(500, Math.max(50, deadline - Date.now())));
        }
    }
    async recordHolder(holder) {
        await this.client.query(`INSERT INTO ${this.lockInfo} (id, holder, acquired_at) VALUES (1, $1, now()) ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, acquired_at = EXCLUDED.acquired_at`, [holder]);
    }
    async unlock() {
        const key = await this.lockKey();
        await this.client.query('SELECT pg_advisory_unlock(872374, $1::int)', [key]);
    }
    async record(file, executionMs, appliedBy, success = true) {
        await this.client.query(`INSERT INTO ${this.history} (${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_COLUMNS */ .b4}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, (0,_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .historyValues */ .DR)(file, executionMs, appliedBy, success));
    }
    /**
     * In a transaction (the default), a failure rolls back the schema and the history alike. A
     * no-transaction migration that fails is recorded as failed, which blocks applies until repair.
     */
    async apply(file, { statements, transaction }, appliedBy) {
        const started = performance.now();
        let current;
        try {
            // Round trips dominate small migrations: BEGIN travels with the first statement, and the
            // history row with COMMIT (simple protocol, literals escaped by the driver). Outside a
            // transaction each statement goes alone: PostgreSQL runs a multi-statement query in one.
            let first = transaction;
            for (current of statements) {
                await this.client.query(first ? `BEGIN;\n${current.sql}` : current.sql);
                first = false;
            }
            if (first)
                await this.client.query('BEGIN');
            current = undefined;
            const elapsed = Math.round(performance.now() - started);
            const values = (0,_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .historyValues */ .DR)(file, elapsed, appliedBy, true)
                .map((value) => value === null ? 'NULL' : typeof value === 'string' ? this.client.escapeLiteral(value) : String(value))
                .join(', ');
            await this.client.query(`INSERT INTO ${this.history} (${_driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_COLUMNS */ .b4}) VALUES (${values})${transaction ? ';\nCOMMIT' : ''}`);
            return elapsed;
        }
        catch (error) {
            const where = current ? ` (statement at line ${current.line})` : '';
            if (transaction) {
                await this.client.query('ROLLBACK').catch(() => undefined);
                throw new _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .MigrationFailedError */ .Yv(`${file.fileName} failed${where}: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(error)}. It was rolled back: schema and history are as they were.`);
            }
            await this.record(file, Math.round(performance.now() - started), appliedBy, false).catch(() => undefined);
            throw new _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .MigrationFailedError */ .Yv(file.kind === 'repeatable'
                ? `${file.fileName} (run outside a transaction) failed${where}: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(error)}. The statements before it stay applied; it is recorded as failed and runs again on the next apply.`
                : `${file.fileName} (run outside a transaction) failed${where}: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(error)}. The statements before it stay applied; it is recorded as failed: fix what it left, then run repair with repair-version: ${file.version}.`);
        }
    }
    async undo(file, { statements, transaction }, version) {
        const started = performance.now();
        if (transaction)
            await this.client.query('BEGIN');
        try {
            for (const statement of statements)
                await this.client.query(statement.sql);
            await this.client.query(`DELETE FROM ${this.history} WHERE version = $1`, [version]);
            if (transaction)
                await this.client.query('COMMIT');
            return Math.round(performance.now() - started);
        }
        catch (error) {
            if (!transaction)
                throw new _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .MigrationFailedError */ .Yv(`${file.fileName} (run outside a transaction) failed: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(error)}. The statements before it stay applied, and version ${version} stays recorded as applied.`);
            await this.client.query('ROLLBACK').catch(() => undefined);
            throw new _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .MigrationFailedError */ .Yv(`${file.fileName} failed: ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(error)}. It was rolled back.`);
        }
    }
    async updateChecksum(version, checksum, normalizedChecksum) {
        await this.client.query(`UPDATE ${this.history} SET checksum = $2, normalized_checksum = $3 WHERE version = $1 AND success`, [version, checksum, normalizedChecksum]);
    }
    async deleteFailed(version) {
        const result = await this.client.query(`DELETE FROM ${this.history} WHERE version = $1 AND NOT success`, [version]);
        return result.rowCount ?? 0;
    }
    async schemaSnapshot() {
        const columns = await this.client.query(`SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = $1 AND table_name NOT IN ($2, $3) ORDER BY 1, 2`, [this.schema, _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ, _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .LOCK_TABLE */ .Pt]);
        const indexes = await this.client.query(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename NOT IN ($2, $3) ORDER BY 1, 2`, [this.schema, _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .HISTORY_TABLE */ .GQ, _driver_js__WEBPACK_IMPORTED_MODULE_2__/* .LOCK_TABLE */ .Pt]);
        const constraints = await this.client.query(`SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = $1::regnamespace AND conrelid::regclass::text NOT LIKE '%deploy_suite_%' ORDER BY 1, 2`, [this.schema]);
        return JSON.stringify({ columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows });
    }
    async close() {
        await this.client.end().catch(() => undefined);
    }
}
/**
 * The server refuses a session setting at connect (out of range, or a pooler that forwards no
 * such startup parameter): that is the input's fault, not the connection's.
 */
function refusedSetting(error, lockTimeoutMs, statementTimeoutMs) {
    const message = (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(error);
    for (const [parameter, input, ms] of [
        ['lock_timeout', 'lock-timeout', lockTimeoutMs],
        ['statement_timeout', 'statement-timeout', statementTimeoutMs],
    ]) {
        if (message.includes(parameter)) {
            // The server's own words, without the "Could not connect … (database x): " prefix.
            const reason = message.slice(message.indexOf('): ') + 3);
            return new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(input, `was refused by PostgreSQL as ${parameter} = ${ms} ms: ${reason}`, `${input}: ${input === 'lock-timeout' ? '10s' : '30m'}`);
        }
    }
    return undefined;
}


/***/ }),

/***/ 760:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   APPLICATION_NAME: () => (/* binding */ APPLICATION_NAME),
/* harmony export */   connectPostgres: () => (/* binding */ connectPostgres),
/* harmony export */   quoteIdent: () => (/* binding */ quoteIdent)
/* harmony export */ });
/* unused harmony export pgTlsOptions */
/* harmony import */ var pg__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(2293);
/* harmony import */ var _connection_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1767);


/** How our sessions show in pg_stat_activity, and how tests find them. */
const APPLICATION_NAME = 'deploy-suite';
const quoteIdent = (name) => `"${name.replace(/"/g, '""')}"`;
/**
 * One session to PostgreSQL, for the backup engine and the migration driver alike. A failed
 * connection names the missing password or the remote and the reason.
 */
async function connectPostgres(connection, options) {
    const client = new pg__WEBPACK_IMPORTED_MODULE_0__/* ["default"].Client */ .Ay.Client({
        host: connection.host,
        port: connection.port,
        user: connection.user,
        // An empty string, not undefined: pg hangs on a SCRAM challenge when it has no password at all.
        password: connection.password ?? '',
        database: options.database,
        application_name: options.applicationName,
        // Always explicit, so PGSSLMODE in the environment can never weaken it.
        ssl: pgTlsOptions(connection),
        connectionTimeoutMillis: 15_000,
        // Set at connect, so they cost no extra round trip.
        ...(options.lockTimeoutMs === undefined ? {} : { lock_timeout: options.lockTimeoutMs }),
        ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs }),
    });
    // A terminated backend also emits 'error' on the client; the pending query rejects with it anyway.
    client.on('error', () => undefined);
    try {
        await client.connect();
    }
    catch (error) {
        // A failed handshake can leave the socket open and the process alive; close it.
        void client.end().catch(() => undefined);
        throw (0,_connection_js__WEBPACK_IMPORTED_MODULE_1__/* .connectionFailure */ .Dx)(connection, options.database, error);
    }
    return client;
}
/**
 * node-postgres TLS options for the connection's ssl-mode. pg refuses a server that answers the
 * TLS request with "no", so an encrypted mode never falls back to plaintext.
 */
function pgTlsOptions(connection) {
    const tls = (0,_connection_js__WEBPACK_IMPORTED_MODULE_1__/* .tlsOf */ .Vt)(connection);
    if (tls.mode === 'disable' || tls.mode === 'prefer')
        return false;
    return {
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls.cert === undefined ? {} : { cert: tls.cert }),
        ...(tls.key === undefined ? {} : { key: tls.key }),
        // require: encrypted, nothing verified.
        rejectUnauthorized: tls.mode !== 'require',
        // verify-ca: the chain is checked, the name is not.
        ...(tls.mode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
    };
}


/***/ })

};
