export const id = 761;
export const ids = [761];
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


/***/ })

};
