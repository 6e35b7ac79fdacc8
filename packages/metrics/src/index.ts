export * from './read.ts';
export * from './dora.ts';
export * from './render.ts';
export * from './chart.ts';
export * from './pushgateway.ts';
