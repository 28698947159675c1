import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { err, ok, type Result } from '../errors/result.ts';
import type { CircleReleaseDecision } from '../policy/decide-circle-release.ts';
import type { StixObject } from '../stix/types.ts';

/** The hash the first entry of a log chains to. */
export const GENESIS_HASH = '0'.repeat(64);

/** One release, as the audit log records it: what went (or was refused) to whom, through what, when. */
export interface AuditEntry {
  readonly objectId: string;
  readonly objectModified: string;
  readonly recipientOrganisationId: string;
  readonly circleId: string;
  /** The agreement version that bound the recipient; absent when none did (the release was withheld). */
  readonly agreementVersion?: number;
  readonly decision: 'share' | 'redact' | 'withhold';
  /** JSONPaths removed by a redaction. */
  readonly redactedFields?: readonly string[];
  /** RFC 3339 time of the release decision. */
  readonly at: string;
}

/**
 * The audit entry for one release decision. The version is `modified`, else `created` (the same
 * rule the store uses), so the log names exactly which version went out.
 */
export function releaseAuditEntry(
  object: StixObject,
  decision: CircleReleaseDecision,
  recipientOrganisationId: string,
  circleId: string,
  at: Date,
): AuditEntry {
  const modified = typeof object['modified'] === 'string' ? object['modified'] : object['created'];
  return {
    objectId: object.id,
    objectModified: typeof modified === 'string' ? modified : '',
    recipientOrganisationId,
    circleId,
    ...(decision.agreementVersion === undefined ? {} : { agreementVersion: decision.agreementVersion }),
    decision: decision.kind,
    ...(decision.kind === 'redact' ? { redactedFields: decision.fields } : {}),
    at: at.toISOString(),
  };
}

export interface ChainedAuditEntry {
  readonly previousHash: string;
  readonly entry: AuditEntry;
  /** SHA-256 (hex) of the RFC 8785 canonical JSON of `{ previousHash, entry }`. */
  readonly hash: string;
}

function hashOf(previousHash: string, entry: AuditEntry): string {
  const canonical = canonicalize({ previousHash, entry });
  if (canonical === undefined) throw new TypeError('audit entry cannot be serialised');
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/**
 * Links one entry to the log: its hash covers the previous entry's hash, so changing, removing or
 * reordering any earlier entry breaks every later link. Canonical JSON makes the hash independent
 * of property order, so another implementation can verify a log it did not write.
 */
export function chainEntry(previousHash: string, entry: AuditEntry): ChainedAuditEntry {
  return { previousHash, entry, hash: hashOf(previousHash, entry) };
}

export interface ChainBreak {
  /** Index of the first entry that does not verify. */
  readonly index: number;
  readonly reason: 'previous-hash-mismatch' | 'hash-mismatch' | 'malformed';
}

/** Checks a whole log from its first entry; names the first entry that breaks the chain. */
export function verifyChain(entries: readonly ChainedAuditEntry[], startHash: string = GENESIS_HASH): Result<{ readonly lastHash: string }, ChainBreak> {
  let previous = startHash;
  for (const [index, chained] of entries.entries()) {
    if (typeof chained !== 'object' || chained === null || typeof chained.hash !== 'string') {
      return err({ index, reason: 'malformed' });
    }
    if (chained.previousHash !== previous) return err({ index, reason: 'previous-hash-mismatch' });
    let expected: string;
    try {
      expected = hashOf(chained.previousHash, chained.entry);
    } catch {
      return err({ index, reason: 'malformed' });
    }
    if (expected !== chained.hash) return err({ index, reason: 'hash-mismatch' });
    previous = chained.hash;
  }
  return ok({ lastHash: previous });
}
