export * from './files.ts';
export * from './split.ts';
export * from './lint.ts';
export * from './transactions.ts';
export * from './driver.ts';
export * from './open-driver.ts';
export * from './commands.ts';
// The action reads its connection through here, not the package index: the index also carries the
// dump engines (pg_dump, tar), which migrate never uses.
export { readConnectionInputs } from '../inputs.ts';
