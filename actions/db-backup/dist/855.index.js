export const id = 855;
export const ids = [855];
export const modules = {

/***/ 1855:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   runMariaDbPhysical: () => (/* binding */ runMariaDbPhysical)
/* harmony export */ });
/* harmony import */ var _actions_core__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3302);
/* harmony import */ var _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(2592);
/* harmony import */ var _deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(1217);
/* harmony import */ var _deploy_suite_backup__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(4117);
/* harmony import */ var _summary_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(2327);





/**
 * The physical path on MariaDB: mariadb-backup full and incremental backups and the closed binary
 * logs, in the same store with the same age keys and signed manifests as the logical backups.
 */
async function runMariaDbPhysical(settings, physical, summary) {
    const started = performance.now();
    const seconds = () => Math.round((performance.now() - started) / 10) / 100;
    const store = await settings.openStore();
    const { prefix, server } = physical;
    const listed = async () => {
        const result = await (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .listMariaDbBackups */ .eV)(store, prefix, settings.verifier);
        for (const entry of result.rejected.slice(0, 20))
            _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .warning */ .$e(`Refused ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .quoteUntrusted */ .X0)(`${entry.key}: ${entry.reason}`, 400)}`);
        return result.backups;
    };
    const storeSettings = {
        store,
        prefix,
        encryption: settings.encryption,
        compression: {
            algorithm: settings.compression,
            ...(settings.level === undefined ? {} : { level: settings.level }),
        },
    };
    switch (settings.command) {
        case 'backup': {
            let base;
            if (physical.type === 'incremental') {
                base = (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .incrementalBase */ .WN)(await listed());
                if (base === undefined)
                    throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`An incremental backup builds on an earlier physical backup, and ${store.location} holds none under ${prefix}: take type full first.`);
            }
            const { manifest } = await (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .backupMariaDb */ .l)({
                ...storeSettings,
                server,
                type: physical.type,
                ...(base === undefined ? {} : { base }),
                signer: settings.signer,
            });
            // The binary logs closed so far (the backup flushed them): what a replay past this backup needs.
            const binlogs = await (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .archiveBinlogs */ .P5)({
                ...storeSettings,
                server,
                signer: settings.signer,
                verifier: settings.verifier,
                ...(physical.binlogDir === undefined ? {} : { binlogDir: physical.binlogDir }),
            });
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('backup-id', manifest.id);
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('location', store.urlOf(manifest.object));
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('size-bytes', manifest.stored.bytes);
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('sha256', manifest.stored.sha256);
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('duration-seconds', seconds());
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('verified', false);
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('recoverable-until', binlogs.recoverableUntil ?? manifest.consistentAt);
            _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .info */ .pq(`MariaDB ${manifest.type} backup ${manifest.id}: ${manifest.stored.bytes} bytes; ${binlogs.archived.length} binary log(s) archived`);
            (0,_summary_js__WEBPACK_IMPORTED_MODULE_4__/* .describeMariaDbBackup */ .mh)(summary, manifest, store.urlOf(manifest.object), binlogs, seconds());
            break;
        }
        case 'restore':
        case 'verify': {
            const backups = await listed();
            const target = physical.targetTime;
            const chosen = target === undefined
                ? backups.at(-1)
                : backups.filter((b) => Date.parse(b.consistentAt) <= target.getTime()).at(-1);
            if (chosen === undefined)
                throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(target === undefined
                    ? `No verified physical backup under ${prefix} in ${store.location}.`
                    : `No physical backup under ${prefix} whose data is at or before ${target.toISOString()}: the earliest point a restore reaches is the oldest backup's consistent point${backups[0] === undefined ? '' : ` (${backups[0].consistentAt})`}.`);
            const chain = (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .chainFor */ .NG)(backups, chosen.id);
            const binlogs = target === undefined ? undefined : await (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .listBinlogArchive */ .iJ)(store, prefix, settings.verifier);
            const restored = await (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .restoreMariaDb */ .Bp)({
                store,
                decryption: settings.decryption,
                chain,
                ...(binlogs === undefined ? {} : { binlogs }),
                ...(target === undefined ? {} : { targetTime: target }),
            });
            let data;
            try {
                data = verifyDatabase(settings.connection.database, chosen.id, await (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .countRestoredRows */ .fw)(restored));
            }
            finally {
                await restored.stop();
            }
            const targetText = target === undefined ? `the end of ${chosen.id}` : target.toISOString();
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('backup-id', chosen.id);
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('duration-seconds', seconds());
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('verified', true);
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('row-counts', data.rows);
            (0,_summary_js__WEBPACK_IMPORTED_MODULE_4__/* .describeRestoredData */ .K3)(summary, settings.command === 'verify'
                ? 'Drill: restored and verified in a scratch server (removed)'
                : 'Restored and verified in a scratch server (removed)', chain.map((b) => b.id).join(' → '), targetText, data, restored.durationSeconds, seconds());
            if (settings.command === 'restore') {
                (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('restore-duration-seconds', Math.round(restored.durationSeconds * 10) / 10);
                break;
            }
            // The data is as of mariadb-backup's end, not of the upload's (completedAt).
            const dataTime = target ?? new Date(chosen.consistentAt);
            const drill = (0,_deploy_suite_backup__WEBPACK_IMPORTED_MODULE_3__/* .drillFigures */ .vY)({
                restoreMs: seconds() * 1000,
                maxRtoMs: settings.maxRtoMs,
                dataAgeMs: Math.max(0, Date.now() - dataTime.getTime()),
                maxAgeMs: target === undefined ? settings.maxAgeMs : undefined,
                what: 'the newest recoverable point',
            });
            (0,_summary_js__WEBPACK_IMPORTED_MODULE_4__/* .reportDrill */ .O2)(summary, drill, 'a restore to a chosen past time');
            break;
        }
        case 'check': {
            const backups = await listed();
            const newest = backups.at(-1);
            // The newest backup counts only with its whole chain (every base present, signed, in order):
            // otherwise nothing restores it, and the gate fails closed.
            let brokenChain;
            if (newest !== undefined) {
                try {
                    (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .checkChain */ .uy)((0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .chainFor */ .NG)(backups, newest.id));
                }
                catch (error) {
                    if (!(error instanceof _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1))
                        throw error;
                    brokenChain = error.message;
                }
            }
            const archive = await (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .listBinlogArchive */ .iJ)(store, prefix, settings.verifier);
            for (const entry of archive.rejected.slice(0, 20))
                _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .warning */ .$e(`Refused binary log ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .quoteUntrusted */ .X0)(`${entry.name}: ${entry.reason}`, 400)}`);
            const coverage = newest === undefined ? undefined : (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_2__/* .archiveCoverage */ .P8)(archive.binlogs, newest.binlog);
            const candidates = [newest?.consistentAt, coverage?.recoverableUntil]
                .filter((t) => t !== undefined)
                .map((t) => new Date(t));
            const recoverableUntil = candidates.reduce((a, b) => (a === null || b > a ? b : a), null);
            const ageSeconds = recoverableUntil === null
                ? Number.POSITIVE_INFINITY
                : Math.max(0, Math.round((Date.now() - recoverableUntil.getTime()) / 1000));
            const reasons = [];
            if (brokenChain !== undefined)
                reasons.push(`the newest backup ${newest.id} cannot be restored: ${brokenChain}`);
            if (recoverableUntil === null)
                reasons.push(`nothing is recoverable: no physical backup under ${prefix}`);
            else if (!(ageSeconds * 1000 <= settings.maxAgeMs))
                reasons.push(`the newest recoverable point (${recoverableUntil.toISOString()}) is ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .formatDuration */ .a3)(ageSeconds * 1000)} old, over max-age ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .formatDuration */ .a3)(settings.maxAgeMs)}`);
            const gaps = coverage?.gaps ?? [];
            if (gaps.length > 0)
                reasons.push(`the binary log archive has a gap: ${gaps.join(', ')} missing`);
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('age-seconds', Number.isFinite(ageSeconds) ? ageSeconds : '');
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('newest-id', newest?.id ?? '');
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('recoverable-until', recoverableUntil?.toISOString() ?? '');
            (0,_summary_js__WEBPACK_IMPORTED_MODULE_4__/* .describePhysicalFreshness */ .cP)(summary, `${settings.connection.database} (MariaDB, ${prefix})`, {
                ok: reasons.length === 0,
                newest: newest?.id ?? null,
                recoverableUntil,
                source: recoverableUntil === null
                    ? null
                    : coverage?.recoverableUntil !== undefined && new Date(coverage.recoverableUntil) >= recoverableUntil
                        ? 'binary logs'
                        : 'backup',
                ageSeconds,
                maxAgeMs: settings.maxAgeMs,
                gap: gaps[0] ?? null,
                extra: [['Archived binary logs', String(archive.binlogs.length)]],
                reasons,
            });
            if (reasons.length > 0)
                throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .GateClosedError */ .Ux(`The freshness gate failed: ${reasons.join('; ')}`);
            break;
        }
        case 'list': {
            const backups = await listed();
            (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .setOutput */ .uH)('backups', [...backups].reverse().map((b) => ({
                id: b.id,
                type: b.type,
                baseId: b.baseId,
                completedAt: b.completedAt,
                sizeBytes: b.stored.bytes,
            })));
            (0,_summary_js__WEBPACK_IMPORTED_MODULE_4__/* .describeMariaDbCatalog */ .vg)(summary, `Physical backups under ${prefix} in ${store.location}`, backups, store);
            break;
        }
        case 'prune':
            throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1('prune does not apply to method physical on MariaDB yet: a chain (a full and its increments) and the binary logs it replays must go together, which the logical retention does not know. Expire them by hand for now.');
    }
    _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .info */ .pq(`${settings.command} (physical, MariaDB) done in ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .formatDuration */ .a3)(seconds() * 1000)}`);
}
/** The restored copy must hold the database; its tables' exact counts are what the summary shows. */
function verifyDatabase(database, backup, all) {
    const rows = Object.fromEntries(Object.entries(all).filter(([name]) => name.startsWith(`${database}.`)));
    if (Object.keys(rows).length === 0)
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`The restored copy of ${backup} has no table in database ${database}: the backup does not hold it, or it was created after the target. Nothing was verified.`);
    return { database, rows };
}


/***/ })

};
