// Providers are imported by subpath (@deploy-suite/router/nginx, /kubernetes, /aws-alb, /command),
// so an action loads only the client of the router it drives.
export * from './provider.ts';
