export * from './spec.ts';
export * from './json-path.ts';
export * from './promql.ts';
export * from './http-check.ts';
export * from './prometheus.ts';
export * from './smoke.ts';
export * from './report.ts';
