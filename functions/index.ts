/**
 * The public face of the functions: the handlers, the deterministic planner and the few helpers the
 * engine shares with them. Code outside functions/ imports from here, never from their internals.
 */
export { assign, pickAgent, type PickDeps } from './assign/handler.js';
export { complete } from './complete/handler.js';
export { decompose } from './decompose/handler.js';
export { dispatch } from './dispatch/handler.js';
export { control, InvalidTransitionError, rejectedPrefix, type ControlCommand, type ControlDeps } from './control/handler.js';
export { criticalPathMinutes, deterministicPlanner, hourlyRate, planTask, qualityGates } from './decompose/planner.js';
export { Emitter } from './common/emit.js';
export { orchestratorId, supervisorOf } from './common/hierarchy.js';
