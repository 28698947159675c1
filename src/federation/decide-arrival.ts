// The arrival checks of docs/federation.md: may an object version received from a peer (pulled,
// pushed, or read from a signed bundle file) be stored, and as what? Pure: the time, the keys, the
// agreement and what the node already holds of the id are passed in.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { withoutEntenteSignature } from '../stix/entente-signature.ts';
import type { AgreementTerms } from '../policy/agreement.ts';
import { classifyMarking } from '../policy/classify-marking.ts';
import { stricterOf, tlpRank, type TlpLevel } from '../policy/tlp.ts';
import type { JsonObject, JsonValue, StixObject, ValidationIssue } from '../stix/types.ts';
import { isValidatedStixObject, validateStixObject, type ValidationReport } from '../stix/validate.ts';
import { compareTimestamps, timestampFractionDigits } from '../stix/validate/lexical.ts';
import { namesSameId } from '../stix/ids.ts';
import { isUnversioned, versionOf } from '../stix/versions.ts';
import { instantOf, isKeyValidAt, KEY_VALIDITY_SKEW_MS, type KeyDirectory } from './node-key.ts';
import { verifyObjectSignature, type ObjectSignatureVerdict, type VouchingKey } from './sign-object.ts';
import type { SignatureExtensionReading } from './signature-extension.ts';
import { QUARANTINE_REASONS as STORED_QUARANTINE_REASONS, type QuarantineReason as StoredQuarantineReason } from '../store/federation-store.ts';

/** How far ahead of this node's clock a version's `modified` may be before it is refused. */
export const FUTURE_MODIFIED_LIMIT_MS = 24 * 60 * 60 * 1000;

/** The reasons these checks give: every quarantine reason but `revoked`, which only the store gives. */
export type QuarantineReason = Exclude<StoredQuarantineReason, 'revoked'>;
export const QUARANTINE_REASONS: readonly QuarantineReason[] = STORED_QUARANTINE_REASONS.filter((reason): reason is QuarantineReason => reason !== 'revoked');

/** The link the object came through. An Entente peer's server publishes a node identity; a plain peer's does not. */
export interface ArrivalPeer {
  readonly organisationId: string;
  readonly kind: 'entente' | 'plain';
  /**
   * Why the circle gives the organisation no standing now — the circle not running, the
   * organisation no member, no agreement version binding it (decideCircleStanding) — when the
   * caller decided it. The `no-agreement` verdict gives this reason; terms alone cannot say that a
   * member left or the circle ended.
   */
  readonly noStanding?: string | undefined;
}

/** What this node holds of the arriving object's id, as the caller found it in its store. */
export interface ArrivalHistory {
  /** The organisation that signed the earliest version received (or this node's organisation for its own ids). */
  readonly originSigner?: string | undefined;
  /** The newest version (`modified`) held of the id. */
  readonly newestVersion?: string | undefined;
  /** contentDigestOf the held version with the arriving version's `modified`, when one is held. */
  readonly sameVersionDigest?: string | undefined;
}

export interface ArrivalContext {
  readonly peer: ArrivalPeer;
  /** The terms that bind the peer's organisation in the circle the peer belongs to; undefined: none binds it. */
  readonly terms: AgreementTerms | undefined;
  /** The circle's default TLP, for an object that carries no published TLP marking (never CLEAR). */
  readonly defaultTlp: TlpLevel;
  /** Marking-definition objects the node holds, by id, to read TLP markings under unpublished ids. */
  readonly markingDefinitions?: ReadonlyMap<string, JsonObject>;
  readonly directory: KeyDirectory;
  readonly history: ArrivalHistory;
  /** contentDigestOf the arriving object (its content without the Entente signature); only read when a version is held under the same id and modified. */
  readonly contentDigest: string;
  readonly now: Date;
  /** The circle's agreement says `unsigned_input: accept` (honoured for plain peers only). */
  readonly allowUnsigned: boolean;
  /**
   * The peer's key that signed the page the object arrived on, when that signature verified: the
   * object's own signature by that key is not checked again (sign-object.ts, VouchingKey). Every
   * rule still applies.
   */
  readonly vouched?: VouchingKey | undefined;
  /** readSignatureExtension of the arriving object, when the caller read it already (decide-pull-page.ts, on a vouched page). */
  readonly signatureReading?: SignatureExtensionReading | undefined;
}

export type ArrivalDecision =
  | {
      readonly kind: 'accept';
      readonly verification: 'verified' | 'derived' | 'unverified';
      readonly signer?: string;
      readonly keyId?: string;
      /** The node already holds this exact version: storing it again is a no-op. */
      readonly duplicate: boolean;
    }
  | {
      readonly kind: 'quarantine';
      readonly reason: QuarantineReason;
      readonly message: string;
      /** For `malformed`: the validator's issues. */
      readonly issues?: readonly ValidationIssue[];
    };

/**
 * SHA-256 (hex) of the RFC 8785 canonical JSON of an object, signature included: two versions have
 * the same content exactly when they have the same digest, whatever their key order or spacing.
 */
export function contentDigestOf(object: JsonValue): string {
  // The signature is not content: the same version signed by its origin, or stored unsigned by the
  // node that made it, is one version (a relay may bring back a version this node sent).
  const canonical = canonicalize(withoutEntenteSignature(object));
  return createHash('sha256')
    .update(canonical ?? '', 'utf8')
    .digest('hex');
}

/** What the rules read; computed once per arriving object, the signature only when a rule first asks. */
class ArrivalFacts {
  readonly report: ValidationReport;
  readonly value: unknown;
  readonly context: ArrivalContext;
  #signature: ObjectSignatureVerdict | undefined;
  // Two rules read the version's instant; parsing the timestamp is not free at a million objects.
  #versionTime: { readonly instant: number | undefined } | undefined;

  constructor(value: unknown, context: ArrivalContext) {
    this.value = value;
    this.context = context;
    this.report = validateStixObject(value);
  }

  /** Read only by the rules after `malformed`, which guarantees a valid STIX object. */
  get object(): StixObject {
    return this.value as StixObject;
  }

  get version(): string {
    return versionOf(this.object);
  }

  /** True for an SCO: its version is a key derived from its content, not a time. */
  get unversioned(): boolean {
    return isUnversioned(this.object);
  }

  /** The instant of the version (`modified`, else `created`); undefined for unversioned objects (SCOs). */
  get versionTime(): number | undefined {
    this.#versionTime ??= { instant: this.unversioned ? undefined : instantOf(this.version) };
    return this.#versionTime.instant;
  }

  get signature(): ObjectSignatureVerdict {
    this.#signature ??= verifyObjectSignature(this.object, this.context.directory, this.context.vouched, this.context.signatureReading);
    return this.#signature;
  }

  /** The organisation vouching for this version: the verified signer, or none (unsigned input accepted). */
  get signer(): string | undefined {
    return this.signature.kind === 'verified' ? this.signature.signer : undefined;
  }

  /** A derived version signed by the peer it came from: the only derived form accepted, and exempt from origin rules. */
  get derivedFromPeer(): boolean {
    const signature = this.signature;
    return signature.kind === 'verified' && signature.derived && signature.signer === this.context.peer.organisationId;
  }
}

type Finding = string | { readonly message: string; readonly issues: readonly ValidationIssue[] } | undefined;

interface ArrivalRule {
  readonly reason: QuarantineReason;
  /** A message when the rule refuses the object, else undefined. */
  readonly check: (facts: ArrivalFacts) => Finding;
}

/**
 * The arrival rules, applied in this order; the first that refuses names the quarantine reason.
 * Cheap structural checks come first, then the signature, then what the node already holds.
 */
const ARRIVAL_RULES: readonly ArrivalRule[] = [
  // 1. Valid STIX 2.1 (the validator's issues are kept). Every later rule may rely on it.
  { reason: 'malformed', check: checkWellFormed },
  // 2. The peer's organisation is bound by accepted terms of the circle.
  { reason: 'no-agreement', check: checkAgreementBinds },
  // 3. Type in scope, one of the scoped labels when labels are listed, TLP (object and granular) within the ceiling.
  { reason: 'outside-agreement', check: checkWithinAgreement },
  // 4. `modified` (else `created`) not more than 24 h ahead of this node's clock.
  { reason: 'future-modified', check: checkNotFromTheFuture },
  // 5. Signed, unless it came from a plain peer into a circle that accepts unsigned input.
  { reason: 'unsigned', check: checkSignedWhenRequired },
  // 6. The signature extension is readable and the signature verifies over the canonical form.
  { reason: 'bad-signature', check: checkSignatureVerifies },
  // 7. The key id is pinned for the organisation named as signer.
  { reason: 'unknown-key', check: checkKeyIsPinned },
  // 8. The key was valid at the version's time (±5 minutes).
  { reason: 'key-not-valid', check: checkKeyWasValid },
  // 9. A creator with pinned keys signs its own objects, and an organisation with pinned keys a sighting
  //    names where sighted signs that sighting; a derived version from the direct peer instead needs a
  //    version of the id held here that the organisation named originated. An organisation with pinned
  //    keys signs its own identity, derived or not.
  { reason: 'signer-not-creator', check: checkSignerIsCreator },
  // 10. Versions of an id keep the signer of its first version; derived versions only first-hand (SCOs excepted).
  { reason: 'not-origin', check: checkSignerIsOrigin },
  // 11. The same id and version held with other content.
  { reason: 'content-conflict', check: checkNoConflict },
  // 12. Older than the newest version held, and not held already (SCOs excepted).
  { reason: 'rollback', check: checkNotRolledBack },
];

/**
 * The arrival decision for one object: `accept` (with how it was verified) or `quarantine` with the
 * reason of the first rule in ARRIVAL_RULES it breaks. A version identical to one held (same id,
 * version and digest) is accepted as a `duplicate`, provided it still passes every other rule.
 */
export function decideArrival(object: unknown, context: ArrivalContext): ArrivalDecision {
  const facts = new ArrivalFacts(object, context);
  for (const rule of ARRIVAL_RULES) {
    const finding = rule.check(facts);
    if (finding === undefined) continue;
    return typeof finding === 'string'
      ? { kind: 'quarantine', reason: rule.reason, message: finding }
      : { kind: 'quarantine', reason: rule.reason, message: finding.message, issues: finding.issues };
  }
  const signature = facts.signature;
  const duplicate = context.history.sameVersionDigest !== undefined;
  if (signature.kind !== 'verified') return { kind: 'accept', verification: 'unverified', duplicate };
  return {
    kind: 'accept',
    verification: signature.derived ? 'derived' : 'verified',
    signer: signature.signer,
    keyId: signature.keyId,
    duplicate,
  };
}

function checkWellFormed(facts: ArrivalFacts): Finding {
  if (isValidatedStixObject(facts.value, facts.report)) return undefined;
  const errors = facts.report.issues.filter((issue) => issue.severity === 'error');
  const summary = errors
    .slice(0, 3)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
  return {
    message: errors.length === 0 ? 'not a STIX object' : `not valid STIX 2.1 (${errors.length} error${errors.length === 1 ? '' : 's'}: ${summary})`,
    issues: facts.report.issues,
  };
}

function checkAgreementBinds(facts: ArrivalFacts): Finding {
  // Refused even alongside terms: a caller that found no standing never means the terms to bind.
  if (facts.context.peer.noStanding !== undefined) return facts.context.peer.noStanding;
  if (facts.context.terms !== undefined) return undefined;
  return `${facts.context.peer.organisationId} is not bound by an accepted agreement of this circle`;
}

function own(record: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * The strictest TLP level in an object: its published TLP marking (else the circle default), raised
 * by TLP definitions under other ids and by every granular TLP marking. Markings that are not TLP
 * (statements, recipients, weakness, unknown) do not raise it: the release decision reads those.
 */
function strictestTlp(object: StixObject, defaultTlp: TlpLevel, definitions: ReadonlyMap<string, JsonObject>): TlpLevel {
  let official: TlpLevel | undefined;
  let level: TlpLevel | undefined;
  const refs = own(object, 'object_marking_refs');
  for (const ref of Array.isArray(refs) ? refs : []) {
    if (typeof ref !== 'string') continue;
    const marking = classifyMarking(ref, definitions);
    if (marking.kind !== 'tlp') continue;
    if (marking.official) official = official === undefined ? marking.level : stricterOf(official, marking.level);
    else level = level === undefined ? marking.level : stricterOf(level, marking.level);
  }
  let strictest = official ?? defaultTlp;
  if (level !== undefined) strictest = stricterOf(strictest, level);
  const granular = own(object, 'granular_markings');
  for (const entry of Array.isArray(granular) ? granular : []) {
    const ref = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? own(entry, 'marking_ref') : undefined;
    if (typeof ref !== 'string') continue;
    const marking = classifyMarking(ref, definitions);
    if (marking.kind === 'tlp') strictest = stricterOf(strictest, marking.level);
  }
  return strictest;
}

function checkWithinAgreement(facts: ArrivalFacts): Finding {
  const terms = facts.context.terms;
  if (terms === undefined) return undefined;
  const object = facts.object;
  if (!terms.scope.types.includes(object.type)) return `type ${object.type} is outside the agreed scope (${terms.scope.types.join(', ')})`;
  const scoped = terms.scope.labels;
  if (scoped !== undefined) {
    const labels = own(object, 'labels');
    if (!Array.isArray(labels) || !labels.some((label) => typeof label === 'string' && scoped.includes(label))) {
      return `the object carries none of the agreed labels (${scoped.join(', ')})`;
    }
  }
  const level = strictestTlp(object, facts.context.defaultTlp, facts.context.markingDefinitions ?? new Map());
  if (tlpRank(level) > tlpRank(terms.highestTlp)) {
    return `TLP:${level.toUpperCase()} is above TLP:${terms.highestTlp.toUpperCase()}, the highest the agreement allows`;
  }
  return undefined;
}

function checkNotFromTheFuture(facts: ArrivalFacts): Finding {
  const time = facts.versionTime;
  if (time === undefined) return undefined;
  const ahead = time - facts.context.now.getTime();
  if (ahead <= FUTURE_MODIFIED_LIMIT_MS) return undefined;
  return `version ${facts.version} is ${(ahead / 3_600_000).toFixed(1)} hours ahead of this node's clock (${facts.context.now.toISOString()}); at most 24 hours are tolerated`;
}

function checkSignedWhenRequired(facts: ArrivalFacts): Finding {
  if (facts.signature.kind !== 'unsigned') return undefined;
  const { peer, allowUnsigned } = facts.context;
  if (peer.kind === 'entente') return `the object carries no Entente signature, and every object from an Entente peer (${peer.organisationId}) must`;
  if (!allowUnsigned) return `the object carries no Entente signature, and this circle's agreement does not accept unsigned input`;
  return undefined;
}

function checkSignatureVerifies(facts: ArrivalFacts): Finding {
  const signature = facts.signature;
  if (signature.kind === 'malformed') return `the signature extension cannot be read: ${signature.reason}`;
  if (signature.kind === 'bad-signature') return signature.reason;
  return undefined;
}

function checkKeyIsPinned(facts: ArrivalFacts): Finding {
  const signature = facts.signature;
  return signature.kind === 'unknown-key' ? signature.reason : undefined;
}

function checkKeyWasValid(facts: ArrivalFacts): Finding {
  const signature = facts.signature;
  if (signature.kind !== 'verified') return undefined;
  // An unversioned object (an SCO) has no time of its own: the key must be valid now.
  const at = facts.versionTime ?? facts.context.now.getTime();
  if (isKeyValidAt(signature.key, at, KEY_VALIDITY_SKEW_MS)) return undefined;
  const window = `${signature.key.validFrom} – ${signature.key.validUntil ?? 'open'}`;
  return `key ${signature.keyId} of ${signature.signer} was valid ${window}, not at ${new Date(at).toISOString()}`;
}

function checkSignerIsCreator(facts: ArrivalFacts): Finding {
  // An organisation's identity is its own: with its keys pinned (the home organisation's are, for its
  // own identity), every version of it, redacted or not, is the one it signed. The verdict reads
  // nothing held, so it tells the writer nothing about what the node holds of the id.
  const object = facts.object;
  // Ids compared in any letter case (KeyDirectory.keysOf): `identity--C0FFEE…` names the same organisation.
  if (object.type === 'identity' && facts.context.directory.keysOf(object.id).length > 0 && !namesSameId(facts.signer, object.id)) {
    return `${object.id} is an organisation's identity whose keys are pinned: only that organisation's signature is accepted on it`;
  }
  const signer = facts.signer;
  const pinned = (id: unknown): id is string => typeof id === 'string' && facts.context.directory.keysOf(id).length > 0;
  // A derived version says it is a redaction of a version its origin made, but its signature is the
  // redacting peer's alone and carries nothing of the origin's (which could only be checked against
  // the unredacted bytes). Only a version of the id this node holds from the organisation named backs
  // the claim; without one, any peer could put words in a pinned organisation's mouth ("sighted at
  // alpha, count 40") by calling its own signature derived. Its first version is what originSigner
  // names: derived and unverified versions never set it.
  const derived = facts.derivedFromPeer;
  const speaksFor = (named: string): boolean => namesSameId(signer, named) || (derived && namesSameId(facts.context.history.originSigner, named));
  const by =
    signer === undefined
      ? 'the version is unsigned'
      : derived
        ? `${signer} signed a derived version and this node holds no version of ${facts.object.id} that organisation originated`
        : `${signer} signed`;
  const creator = own(facts.object, 'created_by_ref');
  if (pinned(creator) && !speaksFor(creator)) return `created_by_ref names ${creator}, whose keys are pinned, but ${by}`;
  // A sighting where an organisation sighted it is that organisation's report of being hit, whoever
  // the sighting says created it (readers, and effective-confidence.ts without created_by_ref, take
  // it so); and naming it there is its own choice (decide-sighting-share.ts, attribution).
  const unsigned = whereSightedOf(facts.object).find((where) => pinned(where) && !speaksFor(where));
  if (unsigned !== undefined) return `where_sighted_refs names ${unsigned}, whose keys are pinned, but ${by}`;
  return undefined;
}

/** The places a sighting says it was seen at; none for other objects. */
export function whereSightedOf(object: StixObject): readonly unknown[] {
  const refs = object.type === 'sighting' ? own(object, 'where_sighted_refs') : undefined;
  return Array.isArray(refs) ? refs : [];
}

function checkSignerIsOrigin(facts: ArrivalFacts): Finding {
  if (facts.derivedFromPeer) {
    // A redacted copy speaks for a version its origin made: it may never be the newest version of
    // an id another organisation originated (else a peer could write the next version of anyone's object).
    const { originSigner, newestVersion } = facts.context.history;
    if (originSigner === undefined || originSigner === facts.context.peer.organisationId || newestVersion === undefined) return undefined;
    // The redacted copy of an SCO is another content, never a newer version of the id.
    if (facts.unversioned) return undefined;
    if (compareVersionKeys(facts.version, newestVersion) <= 0) return undefined;
    return `a derived version of ${facts.object.id}, which ${originSigner} originated, is newer (${facts.version}) than the newest version this node holds (${newestVersion})`;
  }
  const signature = facts.signature;
  if (signature.kind === 'verified' && signature.derived) {
    return `a derived version is accepted only from the peer that signed it: signed by ${signature.signer}, received from ${facts.context.peer.organisationId}`;
  }
  // An SCO's versions are its contents (stix/versions.ts): one member's copy of an observable never
  // becomes a later version of another's, so each copy answers only for its own signature.
  if (facts.unversioned) return undefined;
  const origin = facts.context.history.originSigner;
  if (origin === undefined || origin === facts.signer) return undefined;
  return facts.signer === undefined
    ? `earlier versions of ${facts.object.id} were signed by ${origin}; this one is unsigned`
    : `earlier versions of ${facts.object.id} were signed by ${origin}, this one by ${facts.signer}`;
}

function checkNoConflict(facts: ArrivalFacts): Finding {
  const held = facts.context.history.sameVersionDigest;
  if (held === undefined || held === facts.context.contentDigest) return undefined;
  // A redacted copy of a version already held (it reached this node whole through another circle)
  // is that version, not a rival to it: the fuller form is kept.
  if (facts.derivedFromPeer) return undefined;
  return `this node holds ${facts.object.id} version ${facts.version} with other content`;
}

function compareVersionKeys(a: string, b: string): number {
  if (timestampFractionDigits(a) >= 0 && timestampFractionDigits(b) >= 0) return compareTimestamps(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkNotRolledBack(facts: ArrivalFacts): Finding {
  // Content keys of SCOs have no order in time: no copy is older than another.
  if (facts.unversioned) return undefined;
  const { newestVersion, sameVersionDigest } = facts.context.history;
  if (newestVersion === undefined || sameVersionDigest !== undefined) return undefined;
  if (compareVersionKeys(facts.version, newestVersion) >= 0) return undefined;
  return `version ${facts.version} is older than ${newestVersion}, the newest this node holds of ${facts.object.id}, and was not held before`;
}
