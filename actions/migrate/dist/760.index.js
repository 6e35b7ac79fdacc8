export const id = 760;
export const ids = [760];
export const modules = {

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
