export * from './message.ts';
export * from './thread.ts';
export * from './channel.ts';
export * from './escape.ts';
export * from './routing.ts';
export * from './template.ts';
export * from './thread-store.ts';
export * from './notify.ts';
