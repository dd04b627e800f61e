import { useEffect, useState } from 'preact/hooks';

/**
 * The operator's credential (an API key or a bearer token), kept for this tab only: sessionStorage,
 * so it ends with the tab and no other tab or later visit finds it. None is asked for until the API
 * answers 401, so with AMAS_AUTH=none nothing changes.
 */
export interface AuthState {
  token: string | null;
  /** The API answered 401: the console shows the sign-in panel instead of its pages. */
  needed: boolean;
  /** Why the last credential was dropped (the server's message), if it was. */
  refused: string | null;
}

const storageKey = 'amas.token';

function stored(): string | null {
  try {
    return sessionStorage.getItem(storageKey);
  } catch {
    // Storage disabled (a privacy setting): the token lives in memory until the page reloads.
    return null;
  }
}

let state: AuthState = { token: stored(), needed: false, refused: null };
const listeners = new Set<(next: AuthState) => void>();

function set(next: AuthState): void {
  state = next;
  try {
    if (next.token === null) sessionStorage.removeItem(storageKey);
    else sessionStorage.setItem(storageKey, next.token);
  } catch {
    // see stored()
  }
  for (const listener of listeners) listener(state);
}

export const currentToken = (): string | null => state.token;

/** Headers that carry the credential `token`, if there is one. */
export const authHeaders = (token: string | null): Record<string, string> => (token === null ? {} : { authorization: `Bearer ${token}` });

/** An event stream's URL with the credential as `access_token` (EventSource cannot send headers; the server accepts it on these routes only). */
export const withAccessToken = (url: string): string =>
  state.token === null ? url : `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(state.token)}`;

/**
 * The API answered 401 to a request sent with `sentWith`: drop that credential (expired, revoked) and
 * ask for one. An answer to a request sent before the operator signed in changes nothing.
 */
export function unauthenticated(sentWith: string | null, serverMessage: string | undefined): void {
  if (state.needed || sentWith !== state.token) return;
  set({ token: null, needed: true, refused: state.token === null ? null : (serverMessage ?? 'the credential was refused') });
}

export function signIn(token: string): void {
  set({ token: token.trim(), needed: false, refused: null });
}

export function signOut(): void {
  set({ token: null, needed: true, refused: null });
}

export function useAuth(): AuthState {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    listeners.add(setCurrent);
    setCurrent(state);
    return () => void listeners.delete(setCurrent);
  }, []);
  return current;
}
