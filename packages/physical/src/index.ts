// Physical backups and point-in-time recovery: PostgreSQL through pgBackRest, MariaDB through
// mariadb-backup and its binary logs. Each engine's module is exported from its own folder.
export * from './pgbackrest/index.ts';
export * from './mariadb/index.ts';
