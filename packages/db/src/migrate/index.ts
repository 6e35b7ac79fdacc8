export * from './files.ts';
export * from './split.ts';
export * from './lint.ts';
export * from './driver.ts';
export * from './commands.ts';
