export * from './deployment-record.ts';
