export * from './client.ts';
export * from './context.ts';
export * from './errors.ts';
export * from './pages.ts';
export * from './issues.ts';
export * from './access.ts';
