// Asks for the admin token once per tab: a password field whose value is kept in sessionStorage
// and sent as a bearer header, never in a URL or cookie. Shows why it is asked (the API's refusal).

import { useState } from 'preact/hooks';
import { keepSessionToken } from '../session-token.js';

export function TokenPrompt({ reason, done }: { reason: string; done(): void }) {
  const [token, setToken] = useState('');
  return (
    <section class="token-prompt" aria-labelledby="token-title">
      <h1 id="token-title">Admin token</h1>
      <p>{reason}</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim() === '') return;
          keepSessionToken(token.trim());
          setToken('');
          done();
        }}
      >
        <label for="admin-token">Token (kept for this tab only)</label>
        <input id="admin-token" type="password" autoComplete="off" value={token} onInput={(event) => setToken(event.currentTarget.value)} autoFocus />
        <button type="submit" class="primary">
          Use token
        </button>
      </form>
    </section>
  );
}
