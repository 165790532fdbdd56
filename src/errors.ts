// The coded error catalog: every user-facing error sluice raises has a stable code, an HTTP
// status and a default message here. Other modules throw `SluiceError` with a code from this
// table; nothing else decides what a client sees when something goes wrong.

export const ERROR_CATALOG = {
  SLUICE_MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  SLUICE_INVALID_BODY: { status: 400, message: 'The request body does not match the schema.' },
  SLUICE_INVALID_PARAM: { status: 400, message: 'A path or query parameter is invalid.' },
  SLUICE_INVALID_HEADER: { status: 400, message: 'A request header is invalid.' },
  SLUICE_BAD_REQUEST: { status: 400, message: 'The request could not be read.' },
  SLUICE_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be JSON.' },
  SLUICE_BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than the limit.' },
  SLUICE_UNAUTHORIZED: { status: 401, message: 'This call needs the admin token: send Authorization: Bearer <token>.' },
  SLUICE_CROSS_ORIGIN: { status: 403, message: 'A change from a page of another site is refused: the admin API takes changes from its own origin, or from clients that are not browsers.' },
  SLUICE_UNKNOWN_HOST: { status: 421, message: 'The admin API is not served under this host name.' },
  SLUICE_RATE_LIMITED: { status: 429, message: 'Too many changes from this client; retry shortly.' },
  SLUICE_WEIGHTS_SUM: { status: 422, message: 'Weights must sum to exactly 100.' },
  SLUICE_UNKNOWN_VERSION: { status: 422, message: 'The version is not defined for this service.' },
  SLUICE_DUPLICATE_VERSION: { status: 422, message: 'Version names must be unique within a service.' },
  SLUICE_AFFINITY_CONFLICT: { status: 422, message: 'The affinity settings contradict each other.' },
  SLUICE_UNKNOWN_LISTENER: { status: 422, message: 'The listener does not exist.' },
  SLUICE_DURATION_TOO_SHORT: { status: 422, message: 'A rollout analysis interval or hold is shorter than 1s.' },
  SLUICE_DURATION_TOO_LONG: { status: 422, message: 'A duration is longer than Envoy accepts.' },
  SLUICE_COOKIE_MATCH_TOO_LONG: { status: 422, message: 'A matched cookie name and value are too long for the regex Envoy would run.' },
  SLUICE_INVALID_TEXT: { status: 422, message: 'A string in the body holds a lone UTF-16 surrogate or a NUL character.' },
  SLUICE_ENVOY_WOULD_REJECT: { status: 422, message: 'Envoy would reject the configuration this change makes.' },
  SLUICE_CANDIDATE_IS_STABLE: { status: 422, message: 'The rollout candidate is already the stable version.' },
  SLUICE_ROUTE_CONFLICT: { status: 409, message: 'Another service already routes this host and path on this listener.' },
  SLUICE_PORT_CONFLICT: { status: 409, message: 'Another listener already uses this address and port.' },
  SLUICE_LISTENER_IN_USE: { status: 409, message: 'The listener is still used by services.' },
  SLUICE_ROLLOUT_ACTIVE: { status: 409, message: 'The service already has an active rollout.' },
  SLUICE_ROLLOUT_IN_PROGRESS: { status: 409, message: 'The service has an active rollout that this change would abort; repeat with ?override=rollout to abort it.' },
  SLUICE_DELETE_UNCONFIRMED: { status: 409, message: 'The service has an active rollout or recent traffic; confirm the delete with ?force=true.' },
  SLUICE_ROLLOUT_STATE: { status: 409, message: 'The rollout is not in a phase that allows this.' },
  SLUICE_SERVICE_NOT_FOUND: { status: 404, message: 'No service has this name.' },
  SLUICE_LISTENER_NOT_FOUND: { status: 404, message: 'No listener has this name.' },
  SLUICE_REVISION_NOT_FOUND: { status: 404, message: 'No revision has this number yet.' },
  SLUICE_ROLLOUT_NOT_FOUND: { status: 404, message: 'The service has no rollout.' },
  SLUICE_SHADOW_NOT_FOUND: { status: 404, message: 'The service has no shadow.' },
  SLUICE_NOT_FOUND: { status: 404, message: 'No such route.' },
  SLUICE_REVISION_MISMATCH: { status: 412, message: 'The state changed since the revision given in If-Match.' },
  SLUICE_STORE_UNAVAILABLE: { status: 503, message: 'The shared state store cannot be reached; sluice keeps serving its last configuration.' },
  SLUICE_NOT_READY: { status: 503, message: 'sluice has not finished loading its state.' },
  SLUICE_INTERNAL: { status: 500, message: 'An internal error occurred.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** JSON path of the offending field, e.g. `/weights/green`, when one is to blame. */
  readonly path: string | undefined;

  constructor(code: ErrorCode, message?: string, path?: string) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = 'SluiceError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.path = path;
  }

  toJSON(): { code: ErrorCode; message: string; path?: string } {
    return this.path === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, path: this.path };
  }
}
