export * from './communication-bus.js';
export * from './communication-metrics.js';
export * from './message-auth.js';
export * from './message-schema.js';
export * from './priority-topics.js';
export { MessageTimeoutError } from './request-response.js';
export { tenancyFromDirectory, type TenancyOf } from './tenant-scope.js';
