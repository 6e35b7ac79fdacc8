export * from './switch.ts';
