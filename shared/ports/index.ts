export type * from './clock.port.js';
export type * from './ids.port.js';
export type * from './event-bus.port.js';
export type * from './workflow-store.port.js';
export type * from './lease-store.port.js';
export type * from './agent-directory.port.js';
export type * from './planner.port.js';
export type * from './handler.port.js';
