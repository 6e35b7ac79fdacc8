export * from './errors.ts';
export * from './config.ts';
export * from './info.ts';
export * from './wal.ts';
export * from './pgbackrest.ts';
export { findPgBackRest } from './run.ts';
