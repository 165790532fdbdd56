// The admin token for this tab: kept in sessionStorage (gone when the tab closes), sent only as a
// bearer header by api.ts and live-events.ts; never put in a URL, a cookie or localStorage.

const KEY = 'sluice.adminToken';

export function sessionToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function keepSessionToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetSessionToken(): void {
  sessionStorage.removeItem(KEY);
}

/** The headers that carry the token, when there is one. */
export function authHeaders(): Record<string, string> {
  const token = sessionToken();
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
