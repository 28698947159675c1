// An error thrown on a worker thread, carried to the thread that waits for the work: postMessage
// copies plain data only, and an EntenteError arriving as a plain Error would lose its code (so its
// HTTP status and the client's remedy). The worker sends toPlainError(error); the caller throws
// fromPlainError(plain). Used by the drafting threads (drafts/draft-worker.ts) and the import's
// preparing thread (store/import-worker.ts).
import { errorCatalogue, type ErrorCode } from '../errors/catalogue.ts';
import { EntenteError, isEntenteError, type ErrorDetails } from '../errors/entente-error.ts';

/** An error as structured clone carries it. */
export interface PlainError {
  /** An EntenteError's code, or another error's own code (a system error's `ENOENT`). */
  readonly code?: string;
  readonly message: string;
  /** An EntenteError's details. */
  readonly details?: ErrorDetails;
  /** The error's stack on the thread that threw it, for the log of the thread that reports it. */
  readonly stack?: string;
}

export function toPlainError(error: unknown): PlainError {
  if (isEntenteError(error)) {
    return { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }), ...(error.stack === undefined ? {} : { stack: error.stack }) };
  }
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as NodeJS.ErrnoException).code;
  return { ...(typeof code === 'string' ? { code } : {}), message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }) };
}

/** The error to throw for a plain one: an EntenteError for a code of the catalogue, else an Error with the code, message and stack sent. */
export function fromPlainError(plain: PlainError): Error {
  if (plain.code !== undefined && Object.hasOwn(errorCatalogue, plain.code)) {
    const error = new EntenteError(plain.code as ErrorCode, plain.message, plain.details);
    // Where the worker threw it (the log of a 5xx), not this function.
    if (plain.stack !== undefined) error.stack = plain.stack;
    return error;
  }
  const error: Error & { code?: string } = new Error(plain.message);
  if (plain.stack !== undefined) error.stack = plain.stack;
  if (plain.code !== undefined) error.code = plain.code;
  return error;
}
