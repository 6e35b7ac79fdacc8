export * from './zoned.ts';
export * from './policy.ts';
export * from './windows.ts';
export * from './risk.ts';
export * from './decision.ts';
export * from './incident.ts';
