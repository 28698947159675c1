import { errorCatalogue, type ErrorCode } from './catalogue.ts';

/** Details carried with an error: always plain JSON, safe to show to the caller that caused it. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/**
 * The only error type Entente throws on purpose. `code` is stable and documented in docs/errors.md;
 * `message` names the problem in words a user can act on; `status` is the HTTP status the boundary uses.
 */
export class EntenteError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EntenteError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.details = details;
  }
}

export function isEntenteError(value: unknown): value is EntenteError {
  return value instanceof EntenteError;
}
