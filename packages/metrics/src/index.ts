export * from './read.ts';
export * from './dora.ts';
export * from './render.ts';
