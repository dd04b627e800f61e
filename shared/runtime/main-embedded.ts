import { exitOnStartupError, serveApi } from './serve-api.js';

/** `npm start`: the whole orchestrator in one process, on embedded stand-ins unless servers are configured. */
serveApi('embedded').catch((error: unknown) => exitOnStartupError(error, 'amas-orchestration'));
