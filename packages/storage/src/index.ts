export * from './store.ts';
export * from './local-store.ts';
// S3 and Azure stores are separate entry points (@deploy-suite/storage/s3, /azure): their SDKs
// are large, so an action loads one only when the store asks for it.
export * from './transforms.ts';
export * from './encryption.ts';
export * from './manifest.ts';
export * from './catalog.ts';
export * from './signing.ts';
export * from './retention.ts';
export * from './transfer.ts';
