import { hash as oneShotHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { err, ok, type Result } from '../errors/result.ts';
import type { CircleReleaseDecision } from '../policy/decide-circle-release.ts';
import type { StixObject } from '../stix/types.ts';

/** The hash the first entry of a log chains to. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * One entry of the audit log: a release of an object version (the release gate), the releases of a
 * page of versions to one recipient (PageAuditEntry), or a flash message sent to a member's node (a
 * flash is a release too: it may name an indicator's id). Readers of releases take them from any
 * entry through releasesIn.
 */
export type AuditLogEntry = AuditEntry | PageAuditEntry | FlashAuditEntry;

/** One release, as the audit log records it: what went (or was refused) to whom, through what, when. */
export interface AuditEntry {
  /** Never set: release entries were written before flash entries existed, and keep their bytes (and so their hashes). */
  readonly kind?: never;
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

/** One version released, as a PageAuditEntry lists it: an AuditEntry without what the page states once. */
export interface PageRelease {
  readonly objectId: string;
  readonly objectModified: string;
  /** The agreement version that bound the recipient; absent when none did (the release was withheld). */
  readonly agreementVersion?: number;
  readonly decision: 'share' | 'redact' | 'withhold';
  /** JSONPaths removed by a redaction. */
  readonly redactedFields?: readonly string[];
}

/**
 * Every release the gate decided for one page to one recipient through one circle, in one entry:
 * one hash and one row a page rather than one a version. Serving an initial sync of a million
 * versions to two members appended two million rows, a quarter of the serving node's time and most
 * of its disk writes; the page entry records the same releases, and its hash covers every one of
 * them, so changing, dropping or adding one still breaks the chain.
 */
export interface PageAuditEntry {
  readonly kind: 'page';
  readonly recipientOrganisationId: string;
  readonly circleId: string;
  /** RFC 3339 time of the release decisions (one for the page). */
  readonly at: string;
  /** In the order they were decided; never empty. */
  readonly releases: readonly PageRelease[];
  readonly objectId?: never;
  readonly objectModified?: never;
  readonly decision?: never;
  readonly redactedFields?: never;
}

/**
 * One copy of a flash message POSTed to a member's node (federation/flash-operations.ts,
 * deliverFlash), recorded before it leaves: every attempt, a retry too, since each sends it again.
 */
export interface FlashAuditEntry {
  readonly kind: 'flash';
  /** The flash, as `entente flash show` names it. */
  readonly flashId: string;
  /**
   * The id of the copy sent: the flash's own, or, when the indicator was withheld from the member,
   * that of the copy without it (a flash's id derives from its content).
   */
  readonly sentFlashId: string;
  /** The indicator the flash names, whether or not this copy named it; absent when it names none. */
  readonly indicatorId?: string;
  /** Whether the copy sent named the indicator to the recipient. */
  readonly indicatorNamed: boolean;
  readonly recipientOrganisationId: string;
  readonly circleId: string;
  /** The agreement version that bound the recipient when the flash was sent. */
  readonly agreementVersion?: number;
  /** RFC 3339 time of the attempt. */
  readonly at: string;
  // A flash is no object version: readers of releases find these absent (releasesIn gives none).
  readonly objectId?: never;
  readonly objectModified?: never;
  readonly decision?: never;
  readonly redactedFields?: never;
  readonly releases?: never;
}

/** Whether a stored entry is a flash sent rather than the release of an object version. */
export function isFlashAuditEntry(entry: AuditLogEntry): entry is FlashAuditEntry {
  return entry.kind === 'flash';
}

export function isPageAuditEntry(entry: AuditLogEntry): entry is PageAuditEntry {
  return entry.kind === 'page';
}

/**
 * The releases an entry records, one AuditEntry per object version: none for a flash, its own for
 * a single release, and each of a page's with the page's recipient, circle and time.
 */
export function releasesIn(entry: AuditLogEntry): AuditEntry[] {
  if (isFlashAuditEntry(entry)) return [];
  if (!isPageAuditEntry(entry)) return [entry];
  const { recipientOrganisationId, circleId, at } = entry;
  return entry.releases.map((release) => ({ ...release, recipientOrganisationId, circleId, at }));
}

/**
 * One release decision as a page lists it. The version is `modified`, else `created` (the same rule
 * the store uses), so the log names exactly which version went out.
 */
export function pageRelease(object: StixObject, decision: CircleReleaseDecision): PageRelease {
  const modified = typeof object['modified'] === 'string' ? object['modified'] : object['created'];
  // Built by assignment rather than spreads: one per object released.
  const release: { -readonly [K in keyof PageRelease]: PageRelease[K] } = {
    objectId: object.id,
    objectModified: typeof modified === 'string' ? modified : '',
    decision: decision.kind,
  };
  if (decision.agreementVersion !== undefined) release.agreementVersion = decision.agreementVersion;
  if (decision.kind === 'redact') release.redactedFields = decision.fields;
  return release;
}

/** The audit entry for one release decision. */
export function releaseAuditEntry(
  object: StixObject,
  decision: CircleReleaseDecision,
  recipientOrganisationId: string,
  circleId: string,
  /** The decision's time, or its toISOString() already made. */
  at: Date | string,
): AuditEntry {
  return { ...pageRelease(object, decision), recipientOrganisationId, circleId, at: typeof at === 'string' ? at : at.toISOString() };
}

/**
 * Most releases one PageAuditEntry lists. A release is about 150 bytes of canonical JSON, so an entry
 * stays under 128 KiB, past which V8 gives each string (the canonical text, its flat copy for the
 * hash) and the C heap each copy (its UTF-8 for SQLite) fresh memory, whose page faults cost more
 * than the rest of the append: a TAXII page of 1,000 is two entries.
 */
export const MAX_PAGE_ENTRY_RELEASES = 500;

/**
 * Entries a reader of the log (`audit verify`, revocation recalls, `audit received`) asks readAudit
 * for at a time, holding no more than one read. Readers took 5,000 when an entry was one release; a
 * page entry lists up to MAX_PAGE_ENTRY_RELEASES, so 5,000 entries may be 2.5 million releases,
 * their text and objects about a gigabyte at once. 100 entries list at most 50,000 releases (some
 * 8 MB of text). Every read walks an index in log order from `afterSeq` (the primary key, or one
 * recipient's entries by (recipient, seq) since migration 17) and stops at its limit, so smaller
 * reads cost no more in all.
 */
export const AUDIT_READ_ENTRIES = 100;

/**
 * The entries that record one page's releases to one recipient through one circle: none for no
 * release, a single release as it always was, several as PageAuditEntries of at most
 * MAX_PAGE_ENTRY_RELEASES each, in the order decided.
 */
export function pageAuditEntries(recipientOrganisationId: string, circleId: string, at: string, releases: readonly PageRelease[]): AuditLogEntry[] {
  const [first] = releases;
  if (first === undefined) return [];
  if (releases.length === 1) return [{ ...first, recipientOrganisationId, circleId, at }];
  const entries: AuditLogEntry[] = [];
  for (let from = 0; from < releases.length; from += MAX_PAGE_ENTRY_RELEASES) {
    entries.push({ kind: 'page', recipientOrganisationId, circleId, at, releases: releases.slice(from, from + MAX_PAGE_ENTRY_RELEASES) });
  }
  return entries;
}

export interface ChainedAuditEntry {
  readonly previousHash: string;
  readonly entry: AuditLogEntry;
  /** SHA-256 (hex) of the RFC 8785 canonical JSON of `{ previousHash, entry }`. */
  readonly hash: string;
}

// AuditEntry's keys in RFC 8785 order (UTF-16 code units), with whether each holds a string.
const ENTRY_KEYS: readonly (readonly [Exclude<keyof AuditEntry, 'kind'>, 'string' | 'integer' | 'strings'])[] = [
  ['agreementVersion', 'integer'],
  ['at', 'string'],
  ['circleId', 'string'],
  ['decision', 'string'],
  ['objectId', 'string'],
  ['objectModified', 'string'],
  ['recipientOrganisationId', 'string'],
  ['redactedFields', 'strings'],
];
const KNOWN_KEYS = new Set<string>(ENTRY_KEYS.map(([key]) => key));
// RFC 8785 refuses lone surrogates (the general canonicaliser throws); pairs are ordinary characters.
const SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// Characters JSON escapes (RFC 8785 §3.2.2.2 follows JSON.stringify), and surrogates (checked apart).
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string, without its cost (~0.3 µs here) when nothing needs escaping. */
function quote(value: string): string {
  return NEEDS_ESCAPING.test(value) ? JSON.stringify(value) : `"${value}"`;
}

function isPlainString(value: unknown): value is string {
  return typeof value === 'string' && !(SURROGATE.test(value) && LONE_SURROGATE.test(value));
}

// PageRelease's keys in RFC 8785 order (those of AuditEntry a page states once are left out).
const RELEASE_KEYS = ENTRY_KEYS.filter(([key]) => key !== 'at' && key !== 'circleId' && key !== 'recipientOrganisationId');
const KNOWN_RELEASE_KEYS = new Set<string>(RELEASE_KEYS.map(([key]) => key));
const PAGE_KEYS = new Set(['at', 'circleId', 'kind', 'recipientOrganisationId', 'releases']);

/**
 * The RFC 8785 JSON of an entry written out directly, for entries of exactly AuditEntry's or
 * PageAuditEntry's shape: an Entente node serving a sync writes an entry for every page released,
 * listing each version, and the general canonicaliser (sorting keys of every object) was a twelfth
 * of that work. Undefined for anything else (flash entries, which are few; extra keys, lone
 * surrogates, non-integer versions), which takes the general path; a property test holds the two to
 * the same bytes.
 */
export function canonicalAuditEntryJson(entry: AuditLogEntry): string | undefined {
  if (isFlashAuditEntry(entry)) return undefined;
  if (isPageAuditEntry(entry)) return canonicalPageJson(entry);
  return canonicalRecordJson(entry, ENTRY_KEYS, KNOWN_KEYS);
}

function canonicalPageJson(entry: PageAuditEntry): string | undefined {
  for (const key of Object.keys(entry)) if (!PAGE_KEYS.has(key)) return undefined;
  const { at, circleId, recipientOrganisationId, releases } = entry;
  if (!isPlainString(at) || !isPlainString(circleId) || !isPlainString(recipientOrganisationId) || !Array.isArray(releases)) return undefined;
  let items = '';
  for (let index = 0; index < releases.length; index += 1) {
    const release: unknown = releases[index];
    if (typeof release !== 'object' || release === null || Array.isArray(release)) return undefined;
    const json = canonicalRecordJson(release as Record<string, unknown>, RELEASE_KEYS, KNOWN_RELEASE_KEYS);
    if (json === undefined) return undefined;
    items += index === 0 ? json : `,${json}`;
  }
  return `{"at":${quote(at)},"circleId":${quote(circleId)},"kind":"page","recipientOrganisationId":${quote(recipientOrganisationId)},"releases":[${items}]}`;
}

function canonicalRecordJson(
  record: object,
  keys: readonly (readonly [string, 'string' | 'integer' | 'strings'])[],
  known: ReadonlySet<string>,
): string | undefined {
  for (const key of Object.keys(record)) if (!known.has(key)) return undefined;
  const values = record as Record<string, unknown>;
  let json = '{';
  let first = true;
  for (const [key, kind] of keys) {
    const value = values[key];
    if (value === undefined) continue;
    let written: string;
    if (kind === 'integer') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return undefined;
      written = String(value);
    } else if (kind === 'string') {
      if (!isPlainString(value)) return undefined;
      written = quote(value);
    } else {
      if (!Array.isArray(value) || !value.every(isPlainString)) return undefined;
      written = `[${value.map(quote).join(',')}]`;
    }
    json += `${first ? '' : ','}"${key}":${written}`;
    first = false;
  }
  return `${json}}`;
}

/** The RFC 8785 JSON of `{ entry, previousHash }` (see canonicalAuditEntryJson); undefined where the general path is needed. */
export function fastCanonicalAuditJson(previousHash: string, entry: AuditLogEntry): string | undefined {
  if (!isPlainString(previousHash)) return undefined;
  const entryJson = canonicalAuditEntryJson(entry);
  return entryJson === undefined ? undefined : linkJson(previousHash, entryJson);
}

function linkJson(previousHash: string, entryJson: string): string {
  return `{"entry":${entryJson},"previousHash":${quote(previousHash)}}`;
}

function sha256Hex(text: string): string {
  return oneShotHash('sha256', text, 'hex');
}

function hashOf(previousHash: string, entry: AuditLogEntry): string {
  const canonical = fastCanonicalAuditJson(previousHash, entry) ?? canonicalize({ previousHash, entry });
  if (canonical === undefined) throw new TypeError('audit entry cannot be serialised');
  return sha256Hex(canonical);
}

/**
 * Links one entry to the log: its hash covers the previous entry's hash, so changing, removing or
 * reordering any earlier entry breaks every later link. Canonical JSON makes the hash independent
 * of property order, so another implementation can verify a log it did not write.
 */
export function chainEntry(previousHash: string, entry: AuditLogEntry): ChainedAuditEntry {
  return { previousHash, entry, hash: hashOf(previousHash, entry) };
}

/**
 * chainEntry, with the JSON text a store keeps for the entry: its canonical form when it has one
 * (the very bytes the hash covers, so the entry is serialised once), else JSON.stringify. Either
 * text reads back as the same entry.
 */
export function chainEntryText(previousHash: string, entry: AuditLogEntry): ChainedAuditEntry & { readonly entryJson: string } {
  const entryJson = isPlainString(previousHash) ? canonicalAuditEntryJson(entry) : undefined;
  if (entryJson === undefined) return { ...chainEntry(previousHash, entry), entryJson: JSON.stringify(entry) };
  return { previousHash, entry, hash: sha256Hex(linkJson(previousHash, entryJson)), entryJson };
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
