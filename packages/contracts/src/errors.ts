/**
 * The one catalogue of error codes. Every error the platform returns carries one of these
 * codes; clients branch on `code`, never on the HTTP status. A retired code is never reused.
 */
export const ERROR_CATALOGUE = {
  AUTH_TOKEN_MISSING: { status: 401, summary: 'No bearer API key was sent.' },
  AUTH_TOKEN_INVALID: { status: 401, summary: 'The API key is unknown, revoked or expired.' },
  AUTHZ_PERMISSION_DENIED: { status: 403, summary: 'The caller lacks the permission this call needs.' },
  MODULE_NOT_ENABLED: { status: 403, summary: 'The module is disabled for the caller’s tenant or partner.' },
  NETWORK_PROFILE_DENIED: { status: 403, summary: 'The caller lacks the permission for that network profile.' },
  LIFECYCLE_MODE_DENIED: { status: 403, summary: 'The caller lacks the permission for that lifecycle mode.' },
  NOT_FOUND: { status: 404, summary: 'No such resource visible to the caller (another tenant’s resources answer this too).' },
  ROUTE_NOT_FOUND: { status: 404, summary: 'No route matches the method and path.' },
  CONFLICT: { status: 409, summary: 'The resource is in the wrong state for the operation, or a unique value is taken.' },
  SLUG_CONFLICT: { status: 409, summary: 'The slug is already taken.' },
  INVALID_JSON: { status: 400, summary: 'The request body is not well-formed JSON.' },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'The request body exceeds the size limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'The request body has a content type this route does not accept.' },
  UPGRADE_REQUIRED: { status: 426, summary: 'The route is a WebSocket endpoint: connect with an Upgrade request.' },
  VALIDATION_ERROR: { status: 422, summary: 'The request failed validation; `details` lists each bad field.' },
  RATE_LIMITED: { status: 429, summary: 'Too many requests for this API key; retry after `retry_after` seconds.' },
  QUOTA_EXCEEDED: { status: 429, summary: 'A platform quota would be exceeded.' },
  BUNKER_QUOTA_EXCEEDED: { status: 429, summary: 'A quota profile’s cap would be exceeded; the message names the profile, bucket and resource.' },
  WORKER_UNAVAILABLE: { status: 503, summary: 'No online worker has free CPU, memory, disk or GPU for the bunker.' },
  NO_SUITABLE_WORKER: { status: 503, summary: 'No online worker has the image ready, and the image is not pulled lazily.' },
  NOT_SUPPORTED: { status: 501, summary: 'The request asks for something this build does not do yet; the message says what.' },
  INTERFACES_NOT_ALLOWED: { status: 422, summary: '`interfaces` are only allowed with the `transit` network profile.' },
  TRANSIT_MISSING_INTERFACES: { status: 422, summary: 'The `transit` network profile needs at least one interface.' },
  BUNKER_NOT_RUNNING: { status: 409, summary: 'The bunker is not running (pending, paused or ended): the operation needs a running bunker.' },
  GUEST_PATH_NOT_FOUND: { status: 404, summary: 'The path does not exist inside the bunker.' },
  GUEST_PERMISSION_DENIED: { status: 403, summary: 'The bunker’s filesystem refused the operation (permissions).' },
  GUEST_CONFLICT: { status: 409, summary: 'The path exists, is not empty, or is of the wrong type for the operation inside the bunker.' },
  GUEST_DISK_FULL: { status: 507, summary: 'The bunker’s disk is full.' },
  COMMAND_NOT_FOUND: { status: 422, summary: 'The command could not be started inside the bunker (not found or not executable).' },
  GUEST_ERROR: { status: 502, summary: 'The guest agent reported a failure; the message carries its code.' },
  GUEST_UNREACHABLE: { status: 503, summary: 'The guest agent does not answer.' },
  VM_BOOT_FAILED: { status: 500, summary: 'The microVM did not become ready (after the boot watchdog’s retries).' },
  IMAGE_BAKE_FAILED: { status: 422, summary: 'An image could not be baked; the message says why (e.g. the size is too small).' },
  INTERNAL: { status: 500, summary: 'An unexpected error; the request id identifies it in the logs.' },
  SERVICE_UNAVAILABLE: { status: 503, summary: 'The server is shutting down or a dependency is unavailable.' },
} as const satisfies Record<string, { status: number; summary: string }>;

/** A stable error code from the catalogue. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** One invalid field of a request, as reported in `error.details`. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/** Options every ScaiError accepts besides its code and message. */
export interface ScaiErrorOptions {
  details?: ErrorDetail[];
  retryAfterS?: number;
  /** The `req_` id of the request that failed, when the error came back from the API. */
  requestId?: string;
  cause?: unknown;
}

/** The base of every error the platform throws or returns; `status` follows from `code`. */
export class ScaiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;
  readonly retryAfterS: number | undefined;
  readonly requestId: string | undefined;

  constructor(code: ErrorCode, message: string, options: ScaiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ScaiError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.details = options.details;
    this.retryAfterS = options.retryAfterS;
    this.requestId = options.requestId;
  }
}

/** Whether a string is a known error code. */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, value);
}
