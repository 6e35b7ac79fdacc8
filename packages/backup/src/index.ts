export * from './operations.ts';
export * from './freshness.ts';
