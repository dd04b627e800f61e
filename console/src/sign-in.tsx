import { useState } from 'preact/hooks';
import { signIn } from './auth.js';
import { Card, ErrorNote } from './components.js';

/** Shown when the API answered 401: asks for an API key (`amk_…`) or an OIDC bearer token. */
export function SignInPanel({ refused }: { refused: string | null }) {
  const [token, setToken] = useState('');
  const submit = (event: Event) => {
    event.preventDefault();
    if (token.trim() !== '') signIn(token);
  };
  return (
    <Card title="Sign in" class="sign-in">
      <p class="muted">
        This API asks for a credential. Paste an API key (<code>amk_…</code>, from <code>amas keys create</code>) or a bearer token from your identity provider.
        It is kept in this tab only, until you sign out or close it.
      </p>
      <form class="form" onSubmit={submit} data-testid="sign-in-form">
        <label>
          <span>API key or bearer token</span>
          <input
            type="password"
            autocomplete="off"
            spellcheck={false}
            required
            data-testid="sign-in-token"
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </label>
        <ErrorNote error={refused === null ? null : `Signed out: ${refused}`} />
        <button class="btn btn-primary" type="submit" data-testid="sign-in-button" disabled={token.trim() === ''}>
          Sign in
        </button>
      </form>
    </Card>
  );
}
