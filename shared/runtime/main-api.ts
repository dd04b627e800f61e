import { exitOnStartupError, serveApi } from './serve-api.js';

/** The API/trigger service alone (HTTP API, outbox relay, recovery loop); the four functions run as their own processes. */
serveApi('api').catch((error: unknown) => exitOnStartupError(error, 'amas-api'));
