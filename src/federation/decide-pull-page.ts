// One page pulled from a peer, sorted into what is stored and what is quarantined (docs/federation.md,
// "Arrival checks" and "Sync"). Pure: what the node holds, the keys, the terms and the time are
// passed in; the caller writes the result in one transaction with the page's cursor.
import type { AgreementTerms } from '../policy/agreement.ts';
import type { TlpLevel } from '../policy/tlp.ts';
import { compareVersions } from '../store/compare-versions.ts';
import type { ArrivedObject, NewQuarantineItem, StoredVersionText } from '../store/federation-store.ts';
import { validateForIngest } from '../store/validate-for-ingest.ts';
import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';
import { versionOf } from '../stix/versions.ts';
import { contentDigestOf, decideArrival, type ArrivalHistory } from './decide-arrival.ts';
import type { KeyDirectory } from './node-key.ts';

/** What stays the same for every page of one cycle with one peer. */
export interface PullBasis {
  readonly peer: { readonly organisationId: string; readonly kind: 'entente' | 'plain' };
  /** The terms binding the peer's organisation in the peer's circle now; undefined: none binds it. */
  readonly terms: AgreementTerms | undefined;
  readonly defaultTlp: TlpLevel;
  readonly directory: KeyDirectory;
  readonly now: Date;
}

/** What the node holds of the ids on one page, read in one batch before the page is decided. */
export interface PageHistory {
  /** Every stored version of each id, with its JSON text. */
  readonly versions: ReadonlyMap<string, readonly StoredVersionText[]>;
  /** The organisation that signed the earliest version of each id. */
  readonly originSigners: ReadonlyMap<string, string>;
  /** Marking definitions the node holds that the page's objects refer to. */
  readonly markingDefinitions: ReadonlyMap<string, JsonObject>;
}

export interface PageDecision {
  readonly accepted: ArrivedObject[];
  readonly quarantined: NewQuarantineItem[];
}

/** Longest JSON text kept of an object that is not even a JSON object with an id (malformed). */
const MAX_UNREADABLE_JSON = 1024 * 1024;

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The id of an arriving value when it has one, for history lookups and quarantine rows. */
export function arrivingIdOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value['id'] === 'string' ? value['id'] : undefined;
}

/** Marking-definition ids an arriving value refers to (object and granular markings). */
export function markingRefsOf(value: unknown): string[] {
  if (!isRecord(value)) return [];
  const refs: string[] = [];
  const objectLevel = value['object_marking_refs'];
  if (Array.isArray(objectLevel)) for (const ref of objectLevel) if (typeof ref === 'string') refs.push(ref);
  const granular = value['granular_markings'];
  if (Array.isArray(granular)) for (const entry of granular) if (isRecord(entry) && typeof entry['marking_ref'] === 'string') refs.push(entry['marking_ref']);
  return refs;
}

/**
 * Provenance hops of a version received from a peer, from the signer to the peer that delivered
 * it: `[signer]` when the peer signed it itself, `[signer, peer]` when it passes on another
 * organisation's version, `[peer]` for an unsigned version from a plain peer.
 */
export function hopsOf(signer: string | undefined, peerOrganisationId: string): string[] {
  if (signer === undefined || signer === peerOrganisationId) return [peerOrganisationId];
  return [signer, peerOrganisationId];
}

function versionKeyOf(value: unknown): string {
  if (!isRecord(value)) return '';
  const modified = value['modified'] ?? value['created'];
  return typeof modified === 'string' ? modified : '';
}

function jsonTextOf(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > MAX_UNREADABLE_JSON ? JSON.stringify({ truncated: true, head: text.slice(0, MAX_UNREADABLE_JSON) }) : text;
}

/** A version parsed from stored JSON text, for the content comparison; undefined when it is not JSON. */
function digestOfStored(json: string): string | undefined {
  try {
    return contentDigestOf(JSON.parse(json) as JsonValue);
  } catch {
    return undefined;
  }
}

/**
 * Decides every object of one page, in order. A version accepted earlier on the same page counts as
 * held for the versions after it (the page is judged as if its objects arrived one by one), so two
 * versions of one id on a page are checked against each other as they would be across pages.
 * Indicators must also carry a STIX pattern that parses, as for every other write path.
 */
export function decidePullPage(objects: readonly unknown[], basis: PullBasis, history: PageHistory): PageDecision {
  const accepted: ArrivedObject[] = [];
  const quarantined: NewQuarantineItem[] = [];
  const held = new Map<string, StoredVersionText[]>();
  for (const [id, versions] of history.versions) held.set(id, [...versions]);
  const origins = new Map(history.originSigners);
  const markingDefinitions = new Map(history.markingDefinitions);
  // A marking definition on the page itself can only make an object's TLP stricter (classifyMarking).
  for (const value of objects) {
    if (isRecord(value) && value['type'] === 'marking-definition' && typeof value['id'] === 'string') markingDefinitions.set(value['id'], value);
  }

  for (const value of objects) {
    const id = arrivingIdOf(value);
    const versions = id === undefined ? [] : (held.get(id) ?? []);
    const arrivingVersion = versionKeyOf(value);
    const newest = versions.reduce<string | undefined>((top, stored) => (top === undefined || compareVersions(stored.version, top) > 0 ? stored.version : top), undefined);
    const same = arrivingVersion === '' ? undefined : versions.find((stored) => compareVersions(stored.version, arrivingVersion) === 0);
    // Only compared with a version held under the same id and modified: canonicalising every
    // arriving object would cost more than storing it, for the rare repeat.
    const digest = same === undefined ? '' : contentDigestOf((value ?? null) as JsonValue);
    const arrivalHistory: ArrivalHistory = {
      originSigner: id === undefined ? undefined : origins.get(id),
      newestVersion: newest,
      sameVersionDigest: same === undefined ? undefined : digestOfStored(same.json),
    };
    const decision = decideArrival(value, {
      peer: basis.peer,
      terms: basis.terms,
      defaultTlp: basis.defaultTlp,
      markingDefinitions,
      directory: basis.directory,
      history: arrivalHistory,
      contentDigest: digest,
      now: basis.now,
      allowUnsigned: basis.terms?.unsignedInput === 'accept',
    });
    if (decision.kind === 'quarantine') {
      quarantined.push({ objectId: id ?? '', version: arrivingVersion, reason: decision.reason, message: decision.message, json: jsonTextOf(value) });
      continue;
    }
    // A redacted copy of a version held whole: the held form stays (the store would call the two a
    // conflict), and it is not added to this collection either — a peer could otherwise move a version
    // it knows of from one circle's collection into another's by sending any "derived" copy of it.
    if (decision.verification === 'derived' && same !== undefined && arrivalHistory.sameVersionDigest !== digest) continue;
    const object = value as StixObject;
    const ingest = validateForIngest(object);
    if (!ingest.valid) {
      const first = ingest.issues.find((issue) => issue.severity === 'error');
      quarantined.push({ objectId: object.id, version: versionOf(object), reason: 'malformed', message: first === undefined ? 'refused by the ingest checks' : `${first.path}: ${first.message}`, json: jsonTextOf(value) });
      continue;
    }
    accepted.push({
      object,
      signer: decision.signer,
      keyId: decision.keyId,
      verification: decision.verification,
      hops: hopsOf(decision.signer, basis.peer.organisationId),
    });
    // Later versions of the same id on this page are judged against this one.
    if (same === undefined) held.set(object.id, [...versions, { version: versionOf(object), json: JSON.stringify(object) }]);
    if (!origins.has(object.id) && decision.signer !== undefined && decision.verification !== 'derived') origins.set(object.id, decision.signer);
  }
  return { accepted, quarantined };
}
