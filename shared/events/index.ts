export * from './envelope.js';
export * from './catalog.js';
export * from './topics.js';
export * from './make-event.js';
