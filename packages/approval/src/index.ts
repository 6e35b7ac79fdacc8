export * from './evidence.ts';
export * from './record.ts';
export * from './keywords.ts';
export * from './decision.ts';
export * from './approvers.ts';
