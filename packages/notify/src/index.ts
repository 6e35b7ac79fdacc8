export * from './message.ts';
export * from './thread.ts';
export * from './channel.ts';
export * from './escape.ts';
