import { errorCatalogue } from '../errors/catalogue.ts';
import type { EntenteError } from '../errors/entente-error.ts';

/** The TAXII 2.1 error message resource (spec §3.6.1). `http_status` is a string there. */
export interface TaxiiErrorBody {
  readonly title: string;
  readonly description: string;
  readonly error_id: string;
  readonly error_code: string;
  readonly http_status: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Builds the error body from an EntenteError. `error_id` is the request id, so that an operator can
 * find the log line a caller quotes. `title` comes from the catalogue (stable per code); the message
 * names the concrete problem. Details are already caller-safe by EntenteError's contract.
 */
export function toTaxiiErrorBody(error: EntenteError, requestId: string): TaxiiErrorBody {
  const base = {
    title: errorCatalogue[error.code].title,
    description: error.message,
    error_id: requestId,
    error_code: error.code,
    http_status: String(error.status),
  };
  return error.details === undefined ? base : { ...base, details: error.details };
}
