export * from './item.ts';
export * from './pull.ts';
export * from './rules.ts';
export * from './run.ts';
export * from './waivers.ts';
