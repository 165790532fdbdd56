// Which admin calls need the token: the rules only, shared by the token check, the rate limit
// and the OpenAPI document so that they cannot disagree. Health, readiness, the API description
// and the web console's files (the page asks for the token itself) are always open; reads need
// the token only when the operator asks for it.

/** The admin API's bearer token, and whether reads need it too. */
export interface AdminAuth {
  token: string;
  reads: boolean;
}

export const OPENAPI_URL = '/openapi.json';
export const DOCS_PREFIX = '/docs';
/** The web console: its page, and its bundle's files (they carry no state). */
export const CONSOLE_PAGE = '/';
export const CONSOLE_ASSETS_PREFIX = '/console/';

const OPEN_URLS: ReadonlySet<string> = new Set(['/healthz', '/readyz', OPENAPI_URL]);

/** Anything but GET and HEAD changes state (or is refused as if it did). */
export function isMutation(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** `url` is the route pattern (`/v1/services/:name`), undefined when no route matched. */
export function isOpenRoute(url: string | undefined): boolean {
  return url !== undefined && (OPEN_URLS.has(url) || url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`) || isConsoleFile(url));
}

/** The console's page or one of its files, by URL (path, maybe a query). */
export function isConsoleFile(url: string): boolean {
  const path = url.split('?', 1)[0]!;
  return path === CONSOLE_PAGE || path.startsWith(CONSOLE_ASSETS_PREFIX);
}

export function needsToken(auth: AdminAuth | undefined, method: string, url: string | undefined): boolean {
  return auth !== undefined && !isOpenRoute(url) && (auth.reads || isMutation(method));
}
