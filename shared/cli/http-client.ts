import { OrchestrationError } from '../errors.js';

export const defaultUrl = 'http://127.0.0.1:8000';
const requestTimeoutMs = 30_000;

/** The API answered with an error status; `body` is its JSON answer (or text). */
export class ApiError extends OrchestrationError {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly retryAfter: string | null,
  ) {
    super('API_ERROR', describeApiError(status, body, retryAfter), { retriable: status === 429 || status >= 502 });
  }
}

/** The API could not be reached at all (refused, unknown host, timed out). */
export class UnreachableError extends OrchestrationError {
  constructor(baseUrl: string, cause: unknown) {
    const code = causeCode(cause);
    super('UNREACHABLE', `cannot reach AMAS_URL (${baseUrl}): is the server running?${code ? ` (${code})` : ''}`, { retriable: true, cause });
  }
}

export interface ApiClient {
  readonly baseUrl: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  /** Opens a streaming GET (no timeout); throws ApiError on an error status. */
  open(path: string, headers?: Record<string, string>): Promise<Response>;
}

export function createApiClient(options: { url: string; token?: string }): ApiClient {
  const baseUrl = options.url.replace(/\/+$/, '');
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  const send = async (method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; timeout: boolean }) => {
    const headers: Record<string, string> = { accept: 'application/json', ...auth, ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.timeout ? AbortSignal.timeout(requestTimeoutMs) : undefined,
      });
    } catch (error) {
      throw new UnreachableError(baseUrl, error);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw new ApiError(response.status, parseJson(text), response.headers.get('retry-after'));
    }
    return response;
  };
  const json = async <T>(response: Response): Promise<T> => parseJson(await response.text()) as T;

  return {
    baseUrl,
    get: async (path) => json(await send('GET', path, { timeout: true })),
    // Control commands take an optional JSON body: always send one, so the content type is right.
    post: async (path, body = {}) => json(await send('POST', path, { body, timeout: true })),
    open: (path, headers = {}) => send('GET', path, { headers: { accept: 'text/event-stream', ...headers }, timeout: false }),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function causeCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { code, name } = current as { code?: unknown; name?: unknown };
    if (typeof code === 'string') return code;
    if (name === 'TimeoutError') return `no answer within ${requestTimeoutMs / 1000} s`;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

interface ErrorBody {
  error?: string;
  message?: string;
  issues?: { path?: string; message?: string }[];
}

/** The API's error as a person reads it: its code, message, and for a 400 each issue's path. */
export function describeApiError(status: number, body: unknown, retryAfter: string | null): string {
  const parsed: ErrorBody =
    typeof body === 'object' && body !== null ? (body as ErrorBody) : { message: typeof body === 'string' ? body.slice(0, 500) : undefined };
  const lines = [`${(parsed.error ?? 'error').replaceAll('_', ' ')} (HTTP ${status})${parsed.message ? `: ${parsed.message}` : ''}`];
  for (const issue of parsed.issues ?? []) lines.push(`  ${issue.path || '(body)'}: ${issue.message ?? 'invalid'}`);
  if (retryAfter) lines.push(`  retry after ${retryAfter} s`);
  return lines.join('\n');
}
