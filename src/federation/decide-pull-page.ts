// One page pulled from a peer, sorted into what is stored and what is quarantined (docs/federation.md,
// "Arrival checks" and "Sync"). Pure: what the node holds, the keys, the terms and the time are
// passed in; the caller writes the result in one transaction with the page's cursor.
import type { AgreementTerms } from '../policy/agreement.ts';
import type { TlpLevel } from '../policy/tlp.ts';
import { compareVersions } from '../store/compare-versions.ts';
import type { ArrivedObject, NewQuarantineItem, StoredVersionText } from '../store/federation-store.ts';
import { checkBeyondStix } from '../store/validate-for-ingest.ts';
import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';
import { versionOf } from '../stix/versions.ts';
import { contentDigestOf, decideArrival, type ArrivalHistory, type ArrivalPeer } from './decide-arrival.ts';
import type { KeyDirectory } from './node-key.ts';
import { readSignatureExtension, type SignatureExtensionReading } from './signature-extension.ts';
import { verifyObjectSignature, type VouchingKey } from './sign-object.ts';

/** What stays the same for every page of one cycle with one peer. */
export interface PullBasis {
  /** With the reason it has no standing in the circle, when it has none (load-arrival-context.ts, loadSenderStanding). */
  readonly peer: ArrivalPeer;
  /** The terms binding the peer's organisation in the peer's circle now; undefined: none binds it. */
  readonly terms: AgreementTerms | undefined;
  readonly defaultTlp: TlpLevel;
  readonly directory: KeyDirectory;
  readonly now: Date;
  /**
   * This node's organisation: a version it signed itself that comes back (a peer passing on what
   * this node shared) and that it holds with the same content is not verified again (ownCopyKey).
   */
  readonly homeOrganisationId?: string | undefined;
}

/** What the node holds of the ids on one page, read in one batch before the page is decided. */
export interface PageHistory {
  /** Every stored version of each id, with its JSON text. */
  readonly versions: ReadonlyMap<string, readonly StoredVersionText[]>;
  /** The organisation that signed the earliest version of each id. */
  readonly originSigners: ReadonlyMap<string, string>;
  /** Marking definitions the collection written into holds that the page's objects refer to. */
  readonly markingDefinitions: ReadonlyMap<string, JsonObject>;
}

export interface PageDecision {
  readonly accepted: ArrivedObject[];
  readonly quarantined: NewQuarantineItem[];
  /**
   * How the objects' own signatures were checked: `vouched` — those by the page's signing key were
   * covered by the page signature; `sample-failed` — the page signature verified but a sampled object
   * signature did not, so every object was verified one by one; `unvouched` — no page signature.
   */
  readonly vouching: 'vouched' | 'sample-failed' | 'unvouched';
}

/** A page whose signature verified (page-voucher.ts, checkPageVouching), with the random source for the sample. */
export interface PageVouch {
  readonly key: VouchingKey;
  /** A number in [0, 1); passed in so that the decision stays pure and tests can fix the sample. */
  readonly random: () => number;
}

/**
 * Object signatures checked anyway on a vouched page. The page signature already authenticates the
 * content; the sample is there to notice, cheaply, a sender that embeds signatures that do not verify
 * (a broken signer, or a faulty relay of its own store), before they travel on: with a fraction f of
 * bad signatures on a page, the page is caught with probability 1 − (1 − f)^4, and the node that
 * receives the objects from this one verifies every one of them anyway.
 */
export const VOUCHED_SAMPLE_SIZE = 4;

/** Longest JSON text kept of an object that is not even a JSON object with an id (malformed). */
const MAX_UNREADABLE_JSON = 1024 * 1024;

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The id of an arriving value when it has one, for history lookups and quarantine rows. */
export function arrivingIdOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value['id'] === 'string' ? value['id'] : undefined;
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

/**
 * What a quarantine row keeps of a value nested too deeply to serialise: JSON.parse builds such a
 * value without recursing, but JSON.stringify (and the canonical form a signature covers) overflow
 * the stack on it. Nothing of it can be shown whole, so a short note stands for it.
 */
const TOO_DEEP_JSON = JSON.stringify({ unserialisable: true, reason: 'nested too deeply to keep as JSON text' });
const TOO_DEEP_MESSAGE = 'the value is nested too deeply to be checked or kept (JSON nesting beyond what the node reads)';

/** A stack overflow: a value nested too deeply for a recursive walk (JSON.stringify, canonicalisation, validation). */
function isTooDeep(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

function jsonTextOf(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? 'null';
  } catch (error: unknown) {
    if (isTooDeep(error)) return TOO_DEEP_JSON;
    throw error;
  }
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
 * One version of an id as the page's decisions see it: a stored one (its JSON text, from PageHistory)
 * or one accepted earlier in the same write (the object itself). The content digest is computed only
 * when an arriving version has the same id and version (rare): serialising every accepted object just
 * in case cost more than any other step of the decision.
 */
type HeldVersion = { readonly version: string; readonly json: string; readonly originSignature?: string } | { readonly version: string; readonly object: StixObject };

function digestOfHeld(held: HeldVersion): string | undefined {
  return 'json' in held ? digestOfStored(held.json) : contentDigestOf(held.object as JsonValue);
}

/**
 * For a version this node signed itself and holds with exactly this content (a member's own
 * contribution coming back from the peer it shared it with), carrying the very signature this node
 * made and keeps for it: this node's own key, standing for the signature. Checking it would only
 * prove again that this node signed what it already holds; every other rule still runs. Undefined
 * for anything else — a copy naming this node with other signature bytes is verified, so that a
 * forgery never reaches a collection, which would then serve this node's version badly signed.
 */
function ownCopyKey(value: unknown, basis: PullBasis, digest: string, same: HeldVersion, heldDigest: string | undefined): VouchingKey | undefined {
  const home = basis.homeOrganisationId;
  if (home === undefined || heldDigest === undefined || digest !== heldDigest || !('json' in same) || same.originSignature === undefined) return undefined;
  const reading = readSignatureExtension(value);
  if (reading.kind !== 'ok' || reading.extension.signer !== home || reading.extension.derived === true) return undefined;
  if (!isKeptSignature(same.originSignature, reading.extension.key_id, reading.extension.signature)) return undefined;
  const key = basis.directory.findKey(reading.extension.key_id);
  return key === undefined || key.organisationId !== home ? undefined : { signer: home, key };
}

function isKeptSignature(keptJson: string, keyId: string, signature: string): boolean {
  try {
    const kept = JSON.parse(keptJson) as { key_id?: unknown; signature?: unknown };
    return kept.key_id === keyId && kept.signature === signature;
  } catch {
    return false;
  }
}

/** Indices of the objects whose own signature names the vouching signer and key. */
function vouchedIndices(readings: readonly SignatureExtensionReading[], key: VouchingKey): number[] {
  const indices: number[] = [];
  readings.forEach((reading, index) => {
    if (reading.kind === 'ok' && reading.extension.signer === key.signer && reading.extension.key_id === key.key.keyId) indices.push(index);
  });
  return indices;
}

/**
 * Whether a vouched page stands: up to VOUCHED_SAMPLE_SIZE of the objects it would cover, picked
 * with `random`, are verified in full; one that does not verify sends the whole page back to
 * one-by-one verification, where it is quarantined under the ordinary rules. `readings` are the
 * objects' signature extensions, in order.
 */
function sampleHolds(objects: readonly unknown[], readings: readonly SignatureExtensionReading[], vouch: PageVouch, directory: KeyDirectory): boolean {
  const candidates = vouchedIndices(readings, vouch.key);
  for (let drawn = 0; drawn < VOUCHED_SAMPLE_SIZE && candidates.length > 0; drawn += 1) {
    const pick = Math.min(candidates.length - 1, Math.floor(Math.max(0, vouch.random()) * candidates.length));
    const [index] = candidates.splice(pick, 1);
    const value = index === undefined ? undefined : objects[index];
    if (!isRecord(value)) return false;
    if (verifyObjectSignature(value as StixObject, directory).kind !== 'verified') return false;
  }
  return true;
}

/**
 * What pages decided earlier in the same store write add to what the node holds. A pull writes
 * several pages in one transaction (pull-peer.ts): each page is then decided as if the pages before
 * it were stored already, exactly as the objects of one page are judged against the ones before them
 * — a version accepted on an earlier page counts as held (for rollback and content conflicts), the
 * signer that introduced an id counts as its origin, an accepted marking definition is known.
 * decidePullPage reads it and records into it; the caller starts a new one after each write.
 */
export class UnwrittenPages {
  readonly #versions = new Map<string, HeldVersion[]>();
  readonly #origins = new Map<string, string>();
  readonly #markingDefinitions = new Map<string, JsonObject>();

  /** Versions accepted in this write of an id that the page's history (read from the store) does not know yet. */
  versionsOf(id: string): readonly HeldVersion[] | undefined {
    return this.#versions.get(id);
  }

  originOf(id: string): string | undefined {
    return this.#origins.get(id);
  }

  get markingDefinitions(): ReadonlyMap<string, JsonObject> {
    return this.#markingDefinitions;
  }

  /** An accepted version that the node did not hold (the page's own record of it, shared: both are read-only). */
  recordVersion(held: { readonly version: string; readonly object: StixObject }): void {
    const object = held.object;
    const versions = this.#versions.get(object.id);
    if (versions === undefined) this.#versions.set(object.id, [held]);
    else versions.push(held);
    if (object.type === 'marking-definition' && !this.#markingDefinitions.has(object.id)) this.#markingDefinitions.set(object.id, object);
  }

  recordOrigin(id: string, signer: string): void {
    if (!this.#origins.has(id)) this.#origins.set(id, signer);
  }
}

const NO_VERSIONS: readonly HeldVersion[] = [];

/** The newest of the held versions (the first of equals). */
function newestOf(versions: readonly HeldVersion[]): string | undefined {
  let top: string | undefined;
  for (const stored of versions) if (top === undefined || compareVersions(stored.version, top) > 0) top = stored.version;
  return top;
}

/** The held version equal to `version`, if any (the first). */
function sameVersionIn(versions: readonly HeldVersion[], version: string): HeldVersion | undefined {
  for (const stored of versions) if (compareVersions(stored.version, version) === 0) return stored;
  return undefined;
}

/**
 * Decides every object of one page, in order. A version accepted earlier on the same page counts as
 * held for the versions after it (the page is judged as if its objects arrived one by one), so two
 * versions of one id on a page are checked against each other as they would be across pages.
 * Indicators must also carry a STIX pattern that parses, as for every other write path.
 * With `vouch` (the page's signature verified), objects signed by the page's key skip their own
 * signature check once a sample of them verified (VOUCHED_SAMPLE_SIZE); every other rule applies.
 * With `unwritten`, what earlier pages of the same write accepted counts as held too (UnwrittenPages),
 * and what this page accepts is recorded there.
 */
export function decidePullPage(objects: readonly unknown[], basis: PullBasis, history: PageHistory, vouch?: PageVouch, unwritten?: UnwrittenPages): PageDecision {
  // On a vouched page every object's signature extension is read to find the ones the page covers;
  // the arrival checks then use the same reading instead of reading it again.
  const readings = vouch === undefined ? undefined : objects.map(readSignatureExtension);
  const vouching = vouch === undefined || readings === undefined ? 'unvouched' : sampleHolds(objects, readings, vouch, basis.directory) ? 'vouched' : 'sample-failed';
  const vouched = vouching === 'vouched' ? vouch?.key : undefined;
  const accepted: ArrivedObject[] = [];
  const quarantined: NewQuarantineItem[] = [];
  const held = new Map<string, HeldVersion[]>();
  const merged = new Set<string>();
  for (const [id, versions] of history.versions) held.set(id, [...versions]);
  const origins = new Map(history.originSigners);
  const markingDefinitions = new Map(history.markingDefinitions);
  if (unwritten !== undefined) {
    // The store did not have these when the page's history was read. Marking definitions are never
    // versioned: one the store holds stays the one that counts (the store refuses the other).
    for (const [id, definition] of unwritten.markingDefinitions) if (!markingDefinitions.has(id)) markingDefinitions.set(id, definition);
    for (const value of objects) {
      const id = arrivingIdOf(value);
      if (id === undefined) continue;
      const pending = unwritten.versionsOf(id);
      // Once per id: a second object of the same id on the page finds it merged already.
      if (pending !== undefined && !merged.has(id)) {
        merged.add(id);
        held.set(id, [...(held.get(id) ?? []), ...pending]);
      }
      const origin = unwritten.originOf(id);
      // The store's origin, where it has one, came first.
      if (origin !== undefined && !origins.has(id)) origins.set(id, origin);
    }
  }
  // A marking definition on the page itself can only make an object's TLP stricter (classifyMarking),
  // unless it replaced one held already, which would lift what that one narrowed: the held one counts.
  for (const value of objects) {
    if (isRecord(value) && value['type'] === 'marking-definition' && typeof value['id'] === 'string' && !markingDefinitions.has(value['id'])) {
      markingDefinitions.set(value['id'], value);
    }
  }

  for (let index = 0; index < objects.length; index += 1) {
    const value = objects[index];
    try {
      const id = arrivingIdOf(value);
      const versions = id === undefined ? NO_VERSIONS : (held.get(id) ?? NO_VERSIONS);
      const arrivingVersion = versionKeyOf(value);
      // Most arriving ids have no version held: no closure is made for them.
      const newest = versions.length === 0 ? undefined : newestOf(versions);
      const same = arrivingVersion === '' || versions.length === 0 ? undefined : sameVersionIn(versions, arrivingVersion);
      // Only compared with a version held under the same id and modified: canonicalising every
      // arriving object would cost more than storing it, for the rare repeat.
      const digest = same === undefined ? '' : contentDigestOf((value ?? null) as JsonValue);
      const arrivalHistory: ArrivalHistory = {
        originSigner: id === undefined ? undefined : origins.get(id),
        newestVersion: newest,
        sameVersionDigest: same === undefined ? undefined : digestOfHeld(same),
      };
      const ownCopy = same === undefined ? undefined : ownCopyKey(value, basis, digest, same, arrivalHistory.sameVersionDigest);
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
        vouched: ownCopy ?? vouched,
        signatureReading: readings?.[index],
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
      // decideArrival accepts only valid STIX (rule `malformed`); the ingest checks beyond it are left.
      const [beyond] = checkBeyondStix(object, '$');
      if (beyond !== undefined) {
        quarantined.push({ objectId: object.id, version: versionOf(object), reason: 'malformed', message: `${beyond.path}: ${beyond.message}`, json: jsonTextOf(value) });
        continue;
      }
      accepted.push({
        object,
        signer: decision.signer,
        keyId: decision.keyId,
        verification: decision.verification,
        hops: hopsOf(decision.signer, basis.peer.organisationId),
      });
      // Later versions of the same id on this page, and on later pages of the same write, are judged against this one.
      if (same === undefined) {
        const added = { version: versionOf(object), object };
        held.set(object.id, versions.length === 0 ? [added] : [...versions, added]);
        unwritten?.recordVersion(added);
      }
      if (!origins.has(object.id) && decision.signer !== undefined && decision.verification !== 'derived') {
        origins.set(object.id, decision.signer);
        unwritten?.recordOrigin(object.id, decision.signer);
      }
    } catch (error: unknown) {
      // A throw here would fail the whole page, and the pull would fetch it again every cycle: the
      // peer link would never pass it. Only a value too deep to walk throws; it is malformed.
      if (!isTooDeep(error)) throw error;
      quarantined.push({ objectId: arrivingIdOf(value) ?? '', version: versionKeyOf(value), reason: 'malformed', message: TOO_DEEP_MESSAGE, json: TOO_DEEP_JSON });
    }
  }
  return { accepted, quarantined, vouching };
}
