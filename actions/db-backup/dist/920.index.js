export const id = 920;
export const ids = [920];
export const modules = {

/***/ 6920:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   runPgPhysical: () => (/* binding */ runPgPhysical)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_crypto__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(8161);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__webpack_require__.n(node_os__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var _actions_core__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(3302);
/* harmony import */ var _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(2592);
/* harmony import */ var _deploy_suite_db__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(4738);
/* harmony import */ var _deploy_suite_physical__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(1217);
/* harmony import */ var _deploy_suite_backup__WEBPACK_IMPORTED_MODULE_7__ = __webpack_require__(4117);
/* harmony import */ var _summary_js__WEBPACK_IMPORTED_MODULE_8__ = __webpack_require__(2327);









/** The physical path on PostgreSQL: pgBackRest drives the copy; this wires its answers to outputs and the summary. */
async function runPgPhysical(settings, physical, summary) {
    const started = performance.now();
    const seconds = () => Math.round((performance.now() - started) / 10) / 100;
    const backrest = (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_6__/* .openPgBackRest */ .dy)(physical.backrest);
    try {
        switch (settings.command) {
            case 'backup': {
                // Idempotent: creates the stanza on first use, checks it matches the cluster afterwards.
                await backrest.stanzaCreate();
                const made = await backrest.backup({ type: physical.type });
                (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('backup-id', made.label);
                (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('location', `${physical.backrest.repoPath} (stanza ${physical.backrest.stanza})`);
                (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('size-bytes', made.repoDelta);
                (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('duration-seconds', seconds());
                (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('verified', false);
                _actions_core__WEBPACK_IMPORTED_MODULE_3__/* .info */ .pq(`pgBackRest ${made.type} backup ${made.label}: ${made.repoDelta} bytes added to the repository`);
                (0,_summary_js__WEBPACK_IMPORTED_MODULE_8__/* .describePgBackup */ .H_)(summary, made, physical.backrest, seconds());
                break;
            }
            case 'restore': {
                const target = restoreTarget(physical);
                const into = physical.targetDataDir ??
                    (0,node_path__WEBPACK_IMPORTED_MODULE_1__.join)(process.env.RUNNER_TEMP ?? (0,node_os__WEBPACK_IMPORTED_MODULE_2__.tmpdir)(), `pg-restore-${(0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.randomBytes)(4).toString('hex')}`);
                const restored = await backrest.restore({ target, into });
                let data;
                try {
                    data = await verifyRestored(settings, restored);
                }
                catch (error) {
                    // A copy that fails verification is not left behind (a named target is emptied, as we found it).
                    await restored.discard();
                    throw error;
                }
                if (physical.targetDataDir === undefined)
                    await restored.discard();
                else
                    await restored.stop();
                writeRestoreOutputs(restored, data, seconds());
                (0,_summary_js__WEBPACK_IMPORTED_MODULE_8__/* .describeRestoredData */ .K3)(summary, physical.targetDataDir === undefined
                    ? `Restored and verified in a scratch cluster (removed)`
                    : `Restored into ${physical.targetDataDir} (left stopped)`, restored.backup.label, targetText(target), data, restored.restoreSeconds, seconds());
                break;
            }
            case 'verify': {
                const report = await backrest.verify();
                if (!report.ok) {
                    summary.heading('❌ pgBackRest verify');
                    summary.table(['Problem'], report.problems.map((p) => [p]));
                    throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .ConfigurationError */ .j1(`pgBackRest verify found problems: ${report.problems.join('; ')}`);
                }
                _actions_core__WEBPACK_IMPORTED_MODULE_3__/* .info */ .pq('pgBackRest verify: every backup file and archived WAL segment checks out');
                const fresh = await backrest.freshness();
                const target = restoreTarget(physical);
                const restored = await backrest.restore({
                    target,
                    into: (0,node_path__WEBPACK_IMPORTED_MODULE_1__.join)(process.env.RUNNER_TEMP ?? (0,node_os__WEBPACK_IMPORTED_MODULE_2__.tmpdir)(), `pg-drill-${(0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.randomBytes)(4).toString('hex')}`),
                });
                let data;
                try {
                    data = await verifyRestored(settings, restored);
                }
                finally {
                    await restored.discard();
                }
                writeRestoreOutputs(restored, data, seconds(), true);
                (0,_summary_js__WEBPACK_IMPORTED_MODULE_8__/* .describeRestoredData */ .K3)(summary, 'Drill: restored and verified in a scratch cluster (removed)', restored.backup.label, targetText(target), data, restored.restoreSeconds, seconds());
                const dataAgeSeconds = physical.targetTime === undefined
                    ? fresh.ageSeconds
                    : Math.max(0, Math.round((Date.now() - physical.targetTime.getTime()) / 1000));
                const drill = (0,_deploy_suite_backup__WEBPACK_IMPORTED_MODULE_7__/* .drillFigures */ .vY)({
                    restoreMs: seconds() * 1000,
                    maxRtoMs: settings.maxRtoMs,
                    dataAgeMs: dataAgeSeconds * 1000,
                    // A drill to a chosen past time is not judged against the RPO.
                    maxAgeMs: physical.targetTime === undefined ? settings.maxAgeMs : undefined,
                    what: 'the newest recoverable point',
                });
                (0,_summary_js__WEBPACK_IMPORTED_MODULE_8__/* .reportDrill */ .O2)(summary, drill, 'a restore to a chosen past time');
                break;
            }
            case 'check': {
                const fresh = await backrest.freshness();
                const verdict = (0,_deploy_suite_physical__WEBPACK_IMPORTED_MODULE_6__/* .freshnessVerdict */ .rN)(fresh, Math.round(settings.maxAgeMs / 1000));
                (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('age-seconds', Number.isFinite(fresh.ageSeconds) ? fresh.ageSeconds : '');
                (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('newest-id', fresh.newestLabel ?? '');
                (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('recoverable-until', fresh.recoverableUntil?.toISOString() ?? '');
                let archiving;
                if (verdict.ok) {
                    // The archive as found is fresh and whole; now prove the archive_command still works.
                    try {
                        await backrest.check();
                    }
                    catch (error) {
                        archiving = error.message;
                        verdict.reasons.push(archiving);
                    }
                }
                const ok = verdict.reasons.length === 0;
                (0,_summary_js__WEBPACK_IMPORTED_MODULE_8__/* .describePhysicalFreshness */ .cP)(summary, `stanza ${physical.backrest.stanza}`, {
                    ok,
                    newest: fresh.newestLabel,
                    recoverableUntil: fresh.recoverableUntil,
                    source: fresh.source,
                    ageSeconds: fresh.ageSeconds,
                    maxAgeMs: settings.maxAgeMs,
                    gap: fresh.gap?.missing ?? null,
                    extra: [
                        [
                            'Archived WAL',
                            `${fresh.archive.min ?? '—'} … ${fresh.archive.max ?? '—'} (${fresh.segmentsChecked} segments checked)`,
                        ],
                        ['Archiving (pgbackrest check)', archiving === undefined ? (verdict.ok ? 'works' : 'not run') : '❌ fails'],
                    ],
                    reasons: verdict.reasons,
                });
                if (!ok)
                    throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .GateClosedError */ .Ux(`The freshness gate failed: ${verdict.reasons.join('; ')}`);
                break;
            }
            case 'list': {
                const info = await backrest.info();
                (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('backups', [...info.backups].reverse().map((b) => ({
                    id: b.label,
                    type: b.type,
                    prior: b.prior,
                    startedAt: b.start.toISOString(),
                    completedAt: b.stop.toISOString(),
                    sizeBytes: b.repoSize,
                    addedBytes: b.repoDelta,
                    walStart: b.walStart,
                    walStop: b.walStop,
                })));
                (0,_summary_js__WEBPACK_IMPORTED_MODULE_8__/* .describePgCatalog */ .ec)(summary, physical.backrest, info);
                break;
            }
            case 'prune': {
                throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .ConfigurationError */ .j1(`prune does not apply to method physical on PostgreSQL: pgBackRest expires old backups and their WAL itself after each backup, ` +
                    `keeping repo1-retention-full = keep-daily (${physical.backrest.retentionFull ?? 2}) full backups. Set keep-daily on the backup step instead.`);
            }
        }
        _actions_core__WEBPACK_IMPORTED_MODULE_3__/* .info */ .pq(`${settings.command} (physical, pgBackRest) done in ${(0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .formatDuration */ .a3)(seconds() * 1000)}`);
    }
    finally {
        backrest.close();
    }
}
function targetText(target) {
    if (target === 'latest')
        return 'the end of the archived WAL (latest)';
    return 'time' in target ? target.time.toISOString() : `the end of ${target.backup}`;
}
function restoreTarget(physical) {
    return physical.targetTime === undefined ? 'latest' : { time: physical.targetTime };
}
/**
 * Our own data check on the restored cluster: the database must be there, and every table in it
 * is counted exactly. The restored cluster has the source's roles and pg_hba.conf, so the
 * action's own user connects to it on loopback.
 */
async function verifyRestored(settings, restored) {
    const connection = {
        ...settings.connection,
        host: '127.0.0.1',
        port: restored.port,
        tls: { mode: 'prefer' },
    };
    const engine = await (0,_deploy_suite_db__WEBPACK_IMPORTED_MODULE_5__/* .openEngine */ .F5)(connection, settings.pgBinDir === undefined ? {} : { pgBinDir: settings.pgBinDir });
    const database = settings.connection.database;
    if (!(await engine.databaseExists(database))) {
        throw new _deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .ConfigurationError */ .j1(`The restored cluster (backup ${restored.backup.label}) has no database ${database}: the backup does not hold it, ` +
            `or it was created after the target. Nothing was verified.`);
    }
    const rows = await engine.rowCounts(database);
    return { database, rows };
}
function writeRestoreOutputs(restored, data, seconds, drill = false) {
    (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('backup-id', restored.backup.label);
    (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('duration-seconds', seconds);
    // A drill's figure is the whole restore and verification (set with the drill's verdict).
    if (!drill)
        (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('restore-duration-seconds', Math.round(restored.restoreSeconds * 10) / 10);
    (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('verified', true);
    (0,_deploy_suite_kit__WEBPACK_IMPORTED_MODULE_4__/* .setOutput */ .uH)('row-counts', data.rows);
}


/***/ })

};
