// What an administrator does with quarantined arrivals (docs/federation.md, "Arrival checks"), the
// same from the command line (`entente quarantine …`) and over REST (`/api/quarantine`): list, show,
// release (store it as received, marked unverified) and drop (close it without storing it).
import { EntenteError } from '../errors/entente-error.ts';
import { err, ok, type Result } from '../errors/result.ts';
import { QUARANTINE_REASONS, type FederationStore, type QuarantineFilter, type QuarantineReason, type QuarantineRecord } from '../store/federation-store.ts';
import type { AddOutcome } from '../store/object-store.ts';
import { validateForIngest } from '../store/validate-for-ingest.ts';

export const DEFAULT_QUARANTINE_LIMIT = 100;
export const MAX_QUARANTINE_LIMIT = 10_000;

/** A quarantine sequence number as typed or put in a URL: 1 to 2^53-1, plain decimal digits. */
const SEQ = /^[1-9][0-9]{0,15}$/;

/** Reads a sequence number from untrusted text; never throws. */
export function parseQuarantineSeq(text: string): Result<number, string> {
  if (!SEQ.test(text)) return err(`"${text.slice(0, 32)}" is not a quarantine sequence number (a positive integer, see entente quarantine list)`);
  const seq = Number(text);
  if (!Number.isSafeInteger(seq)) return err(`${text.slice(0, 32)} is larger than any quarantine sequence number`);
  return ok(seq);
}

export function isQuarantineReason(value: string): value is QuarantineReason {
  return (QUARANTINE_REASONS as readonly string[]).includes(value);
}

export interface QuarantineListRequest {
  readonly peer?: string | undefined;
  readonly reason?: string | undefined;
  /** Resolved items too (default: open items only). */
  readonly all?: boolean | undefined;
  readonly afterSeq?: number | undefined;
  readonly limit?: number | undefined;
}

/** The store filter for a list request; throws `invalid` (ENT_CLI_USAGE or ENT_HTTP_BAD_FIELD) for an unknown reason or a bad limit. */
export function toQuarantineFilter(request: QuarantineListRequest, invalid: (field: string, message: string) => EntenteError): QuarantineFilter {
  if (request.reason !== undefined && !isQuarantineReason(request.reason)) {
    throw invalid('reason', `unknown reason "${request.reason.slice(0, 40)}"; one of ${QUARANTINE_REASONS.join(', ')}`);
  }
  const limit = request.limit ?? DEFAULT_QUARANTINE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_QUARANTINE_LIMIT) throw invalid('limit', `the limit must be 1 to ${MAX_QUARANTINE_LIMIT}`);
  return {
    limit,
    unresolvedOnly: request.all !== true,
    ...(request.peer === undefined ? {} : { peer: request.peer }),
    ...(request.reason === undefined ? {} : { reason: request.reason as QuarantineReason }),
    ...(request.afterSeq === undefined ? {} : { afterSeq: request.afterSeq }),
  };
}

type QuarantineStore = Pick<FederationStore, 'getQuarantined' | 'releaseQuarantined' | 'dropQuarantined'>;

/** One item, or ENT_QUARANTINE_NOT_FOUND. */
export async function requireQuarantined(store: Pick<FederationStore, 'getQuarantined'>, seq: number): Promise<QuarantineRecord> {
  const item = await store.getQuarantined(seq);
  if (item === undefined) throw new EntenteError('ENT_QUARANTINE_NOT_FOUND', `no quarantined item ${seq} (entente quarantine list)`, { seq });
  return item;
}

/**
 * Releases an item into its collection, marked unverified (a human vouched for it, no key did). An
 * item that is not valid STIX 2.1 (reason `malformed`, or anything the ingest checks refuse) cannot
 * be released: every collection holds valid objects only. A store refusal (the collection holds
 * other content under the same id and version, or a revocation) leaves the item open and is
 * returned. Throws ENT_QUARANTINE_NOT_FOUND, ENT_QUARANTINE_RESOLVED, ENT_OBJECT_INVALID.
 */
export async function releaseQuarantinedItem(store: QuarantineStore, seq: number, by: string, at: Date): Promise<AddOutcome> {
  const item = await requireQuarantined(store, seq);
  if (item.resolution === undefined) {
    let value: unknown;
    try {
      value = JSON.parse(item.json) as unknown;
    } catch {
      value = undefined;
    }
    const report = validateForIngest(value);
    if (!report.valid) {
      const first = report.issues.find((issue) => issue.severity === 'error');
      throw new EntenteError(
        'ENT_OBJECT_INVALID',
        `quarantined item ${seq} is not valid STIX 2.1 and cannot be released${first === undefined ? '' : ` (${first.path}: ${first.message})`}; drop it instead`,
        { seq },
      );
    }
  }
  // The store checks again, in its transaction, that the item is still open (ENT_QUARANTINE_RESOLVED).
  return store.releaseQuarantined(seq, by, at.toISOString());
}

/** Closes an item without storing it. Throws ENT_QUARANTINE_NOT_FOUND or ENT_QUARANTINE_RESOLVED. */
export async function dropQuarantinedItem(store: QuarantineStore, seq: number, by: string, at: Date): Promise<void> {
  await store.dropQuarantined(seq, by, at.toISOString());
}

/** An item as REST answers and `--json` prints it (snake_case); `json` (the object as it arrived) only when asked. */
export function toQuarantineJson(item: QuarantineRecord, withObject: boolean): Record<string, unknown> {
  return {
    seq: item.seq,
    received_at: item.receivedAt,
    peer: item.peer ?? null,
    circle_id: item.circleId ?? null,
    collection_id: item.collectionId,
    source: item.source,
    contributor: item.contributorOrganisationId,
    reason: item.reason,
    object_id: item.objectId,
    version: item.version,
    message: item.message,
    resolution: item.resolution === undefined ? null : { kind: item.resolution.kind, by: item.resolution.by, at: item.resolution.at },
    ...(withObject ? { json: item.json } : {}),
  };
}
