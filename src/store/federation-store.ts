import type { StixObject } from '../stix/types.ts';
import type { AddOutcome } from './object-store.ts';

/**
 * What a node stores about its federation (docs/federation.md): peers and their sync state, where
 * each received version came from, what was quarantined, the node's own signing keys and the keys
 * it has pinned for other organisations, the signatures it made, and flash messages.
 * Times are RFC 3339 strings unless named otherwise.
 */
export interface FederationStore {
  // ---- Peers ----
  /** Throws ENT_PEER_EXISTS when the name is taken. */
  addPeer(peer: PeerRecord): Promise<void>;
  getPeer(name: string): Promise<PeerRecord | undefined>;
  listPeers(): Promise<PeerRecord[]>;
  /** Removes the link and its sync state (provenance rows keep the name). Throws ENT_PEER_NOT_FOUND. */
  removePeer(name: string): Promise<void>;
  /** The sync state of a peer; a peer never synced has zero counters and no cursors. Throws ENT_PEER_NOT_FOUND. */
  getPeerState(name: string): Promise<PeerState>;
  /** Records the outcome of one sync attempt (counters are added, not replaced). Throws ENT_PEER_NOT_FOUND. */
  recordSyncAttempt(name: string, attempt: SyncAttempt): Promise<void>;
  /** Moves the push cursor after the peer's status resource said complete. Throws ENT_PEER_NOT_FOUND. */
  setPushCursor(name: string, dateAdded: number): Promise<void>;
  /**
   * Forgets both cursors, so that the next cycle reads and pushes the whole collection again (after
   * the circle changed in a way that may release what was withheld before). Throws ENT_PEER_NOT_FOUND.
   */
  resetSyncCursors(name: string): Promise<void>;

  /**
   * Writes one pulled (or pushed, or imported) page in one transaction: the accepted objects into
   * the collection (recording the peer's organisation as contributor), their provenance, the
   * quarantined items, and the new pull cursor when given. Either all of it is stored or none, so
   * the cursor is never ahead of the data. Objects the store refuses (version conflict, added
   * after a revocation) are quarantined with reason `content-conflict` or `revoked` in the same
   * transaction rather than lost; the quarantine record names the held versions in the way and the
   * collections holding them, which the outcome's message (it reaches the writer) does not. Provenance is written for added and duplicate outcomes (a version
   * arriving again through another peer gets a row of its own; the same one again is ignored); the
   * peer's counters grow by the added and quarantined counts. Throws ENT_COLLECTION_NOT_FOUND, and
   * ENT_PEER_NOT_FOUND when `batch.peer` names no peer; then nothing is stored.
   */
  applySyncBatch(batch: SyncBatch): Promise<SyncBatchOutcome>;

  // ---- What the node already holds, for the arrival checks ----
  /** Every stored version of each id (any collection) with its JSON text; ids not held are absent. */
  storedVersionsOf(ids: readonly string[]): Promise<Map<string, StoredVersionText[]>>;
  /**
   * The organisation that signed the earliest received version of each id (from provenance: the
   * oldest version, then the first received; only `verified` rows count, since a derived version is
   * signed by the peer that redacted it), or else the signer of the oldest version this node signed
   * itself as stored (its signatures, variant ''). Absent: unknown.
   */
  originSignersOf(ids: readonly string[]): Promise<Map<string, string>>;
  /**
   * storedVersionsOf and originSignersOf of the same ids in one read (the arrival checks of a page).
   * Same answers; cheaper when most ids are new, as the lookups run only for the ids held at all.
   * Node-wide: an object id has one history on a node (docs/federation.md, "Whose history").
   */
  arrivalHistoryOf(ids: readonly string[]): Promise<{ versions: Map<string, StoredVersionText[]>; originSigners: Map<string, string> }>;
  /** Provenance rows of versions, keyed by versionKey(id, version). */
  provenanceOf(versions: readonly { readonly id: string; readonly version: string }[]): Promise<Map<string, ProvenanceRecord[]>>;
  /**
   * Where the versions of some entries of a collection came from, for source reputation
   * (federation/source-reputation.ts, decideSource): per entry, by its dateAdded, the arrivals of its
   * version as provenance recorded them (through any collection) and, only when none was recorded,
   * the partner organisations recorded as its contributors. One statement for a page of thousands
   * that reads only that (the reputation and the indicator loader ask it for every indicator a node
   * holds). Entries with neither are absent; dateAdded values the collection does not hold are
   * ignored. Throws ENT_COLLECTION_NOT_FOUND.
   */
  arrivalsOfEntries(collectionId: string, dateAdded: readonly number[]): Promise<Map<number, EntryArrivals>>;

  // ---- Signatures this node made ----
  /**
   * The signature extension (JSON text) kept for each (id, version, variant), variant '' being the
   * stored form: a list in the order of `keys`, undefined where none is kept (the release path asks
   * about a page of versions at once and looks each answer up by position).
   */
  signaturesIn(keys: readonly SignatureKey[]): Promise<(string | undefined)[]>;
  /**
   * Keeps signatures; a key already present is left unchanged. A stored form's (variant '') goes
   * with its version when the version is forgotten (deleteObject), as every signature of it does.
   */
  putSignatures(signatures: readonly (SignatureKey & { readonly extensionJson: string; readonly signer: string })[]): Promise<void>;

  // ---- Quarantine ----
  listQuarantine(filter: QuarantineFilter): Promise<QuarantineRecord[]>;
  getQuarantined(seq: number): Promise<QuarantineRecord | undefined>;
  /**
   * Releases a quarantined item into its collection through the same path as addObjects (its
   * contributor, provenance `unverified` with the item's peer, circle and receipt time, no signer,
   * no hops) and closes it as released by `by` at `at`, in one transaction. When the store refuses
   * the object (version conflict, revoked) the item stays open and the rejected outcome is returned.
   * Throws ENT_QUARANTINE_NOT_FOUND, ENT_QUARANTINE_RESOLVED, or ENT_OBJECT_INVALID when the kept
   * text is not a JSON object with a string id and type (the STIX checks belong to the caller).
   */
  releaseQuarantined(seq: number, by: string, at: string): Promise<AddOutcome>;
  /** Closes an item without storing it. Throws ENT_QUARANTINE_NOT_FOUND or ENT_QUARANTINE_RESOLVED. */
  dropQuarantined(seq: number, by: string, at: string): Promise<void>;

  // ---- Keys ----
  /** The node's own key pairs, newest first. */
  listNodeKeys(): Promise<NodeKeyRecord[]>;
  addNodeKey(key: NodeKeyRecord): Promise<void>;
  /** Sets the end of a key's validity (rotation overlap). Throws ENT_KEY_NOT_FOUND. */
  retireNodeKey(keyId: string, validUntil: string): Promise<void>;
  /**
   * A rotation (node-key-lifecycle.ts, rotateNodeKey): `decide` reads the node's keys (newest first)
   * and says which key to add and which ends to set, and that is written in the write transaction
   * the keys were read in (IMMEDIATE). Two rotations at once (`entente key rotate` twice, or beside a
   * running node's) run one after the other, the second rotating out the key the first made, instead
   * of each adding a key the other does not end: two current keys, one of them never announced by a
   * statement the other signed. `decide` is synchronous; what it throws rolls back and is rethrown.
   */
  changeNodeKeys<T>(decide: (keys: readonly NodeKeyRecord[]) => NodeKeyChange<T>): Promise<T>;
  /**
   * Pins a key for an organisation. Pinning the same (organisation, key id) again only narrows its
   * window (later start, earlier end; an end is never removed). Throws ENT_PEER_KEY_MISMATCH when the
   * key id is pinned for another organisation, or is one of this node's own keys (the home
   * organisation's), checked in the write's transaction: a key belongs to one organisation.
   */
  pinKey(key: PinnedKeyRecord): Promise<void>;
  /**
   * Trust on first use, as a circle's coordinator vouches for a member's keys: pins `keys` for
   * `organisationId` only when no key at all is pinned for it yet, decided in the write transaction
   * (a key another process pinned for it meanwhile, `peer add`, stops it). A key whose id is pinned
   * for an organisation already, or is one of this node's own, is left out. Returns how many were pinned.
   */
  pinFirstKeys(organisationId: string, keys: readonly Omit<PinnedKeyRecord, 'organisationId'>[]): Promise<number>;
  /** By organisation, then validFrom. */
  listPinnedKeys(organisationId?: string): Promise<PinnedKeyRecord[]>;

  // ---- Flash messages ----
  /**
   * Stores a flash message sent or received; the same id again is ignored (a retried delivery).
   * Returns whether it was new. With `quota`, a new flash is refused with ENT_FLASH_RATE_LIMITED when
   * its sender already has `limit` flashes received since `quota.since`, counted in the transaction
   * that adds it.
   */
  addFlash(flash: FlashRecord, quota?: FlashQuota): Promise<boolean>;
  getFlash(id: string): Promise<FlashRecord | undefined>;
  /** Newest stored first. */
  listFlashes(filter: { readonly circleId?: string; readonly limit: number }): Promise<FlashRecord[]>;
  /** How many flashes from this sender this node received at or after `since` (an ISO timestamp). */
  countReceivedFlashes(senderOrganisationId: string, since: string): Promise<number>;
  /**
   * Records what one member's node said about a flash (delivery receipt, acknowledgement, error),
   * merged into what it said before: absent fields keep their value, and a delivery or
   * acknowledgement without an error clears the last error. Throws ENT_FLASH_NOT_FOUND.
   */
  recordFlashReceipt(flashId: string, receipt: FlashReceipt): Promise<void>;
  /** Marks a received flash acknowledged by a human here; a second acknowledgement keeps the first. Throws ENT_FLASH_NOT_FOUND. */
  acknowledgeFlash(flashId: string, by: string, at: string): Promise<void>;

  // ---- Recall notices (the queue is RecallStore's) ----
  /**
   * Marks queued notices delivered (the receiver's node answered) or acknowledged (it confirmed
   * removal; this also marks an undelivered notice delivered). Times already set are kept. Versions
   * match whatever spelling of the same instant. Returns how many notices changed.
   */
  markRecalls(
    filter: { readonly circleId: string; readonly organisationId: string; readonly versions?: readonly { readonly id: string; readonly version: string }[] },
    change: { readonly deliveredAt?: string; readonly acknowledgedAt?: string },
  ): Promise<number>;

  // ---- Recalls received from other nodes ----
  /**
   * Keeps a recall this node received and carried out, with one row per version it named, in one
   * transaction, and returns its seq. A recall that names the same versions (in any order) of the
   * same circle as one already on record from the same sender, and removed none of them here, is the
   * same recall sent again (its sender did not get the acknowledgement): it is not kept twice, and
   * the seq of the earliest one is returned with `repeated: true`.
   */
  recordReceivedRecall(recall: NewReceivedRecall): Promise<{ readonly seq: number; readonly repeated: boolean }>;
  /** Newest first. */
  listReceivedRecalls(filter: ReceivedRecallFilter): Promise<ReceivedRecallRecord[]>;
}

export interface PeerRecord {
  readonly name: string;
  /** The URL the operator gave (discovery or API root). */
  readonly url: string;
  /** The API root the link uses, as discovered. */
  readonly apiRootUrl: string;
  /** The bearer token the peer issued to this node. Needed to call the peer; never printed or logged. */
  readonly token: string;
  readonly circleId: string;
  /** The local collection of the circle: pulled objects land here, pushed ones are read from here. */
  readonly localCollectionId: string;
  readonly remoteCollectionId: string;
  /** The peer's organisation (its identity id): the contributor of what arrives, the recipient of what is pushed. */
  readonly organisationId: string;
  readonly kind: 'entente' | 'plain';
  /** Push this circle's releases to the peer (it accepts writes). */
  readonly push: boolean;
  readonly intervalSeconds: number;
  /** Silent for this many intervals: a `peer-silent` alert is raised. */
  readonly silentAfter: number;
  readonly createdAt: string;
}

/** Where a pull resumes: the peer's own `next` token and/or its date_added string; never this node's clock. */
export interface PullCursor {
  readonly addedAfter?: string;
  readonly next?: string;
}

export interface PeerState {
  readonly pullCursor: PullCursor | undefined;
  /** The local dateAdded (microseconds) up to which everything has been pushed and confirmed. */
  readonly pushCursor: number | undefined;
  readonly lastAttemptAt: string | undefined;
  readonly lastSuccessAt: string | undefined;
  readonly lastError: { readonly code: string; readonly message: string; readonly at: string } | undefined;
  readonly consecutiveFailures: number;
  readonly objectsIn: number;
  readonly objectsOut: number;
  readonly quarantined: number;
}

export interface SyncAttempt {
  readonly at: string;
  readonly ok: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  readonly objectsOut?: number;
}

export type Verification = 'verified' | 'derived' | 'unverified';

export interface ProvenanceRecord {
  readonly id: string;
  readonly version: string;
  readonly collectionId: string;
  /** The peer link it came through; absent for a signed bundle file (a released quarantine item keeps the item's peer). */
  readonly peer: string | undefined;
  readonly circleId: string | undefined;
  /** The organisation that signed it (its origin, or the peer that redacted it when derived). */
  readonly signer: string | undefined;
  readonly keyId: string | undefined;
  readonly verification: Verification;
  /** Organisations it passed through, from the signer to the peer that delivered it. */
  readonly hops: readonly string[];
  readonly receivedAt: string;
}

/** One arrival of a version, as much of its provenance row as says where it came from. */
export interface VersionArrival {
  readonly verification: Verification;
  readonly signer: string | undefined;
  readonly peer: string | undefined;
  /** The organisation that handed it to this node: the last of its hops (undefined when none were recorded). */
  readonly deliveredBy: string | undefined;
  readonly receivedAt: string;
}

export interface EntryArrivals {
  readonly arrivals: readonly VersionArrival[];
  /** The partner organisations recorded as contributors of the version, read only when no arrival was recorded (else empty). */
  readonly contributors: readonly string[];
}

export interface ArrivedObject {
  readonly object: StixObject;
  readonly signer: string | undefined;
  readonly keyId: string | undefined;
  readonly verification: Verification;
  readonly hops: readonly string[];
}

/**
 * Why an arrival is held: the arrival checks' reasons (federation/decide-arrival.ts, in the order of
 * its rules), then `revoked`, which only the store gives (a version added after its object's revocation).
 */
export const QUARANTINE_REASONS = [
  'malformed',
  'outside-agreement',
  'no-agreement',
  'unsigned',
  'bad-signature',
  'unknown-key',
  'key-not-valid',
  'signer-not-creator',
  'not-origin',
  'rollback',
  'future-modified',
  'content-conflict',
  'revoked',
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

export interface NewQuarantineItem {
  readonly objectId: string;
  readonly version: string;
  readonly reason: QuarantineReason;
  readonly message: string;
  /** The object exactly as it arrived (JSON text), so that a human can judge and release it. */
  readonly json: string;
}

export interface SyncBatch {
  readonly collectionId: string;
  /** The peer link, or undefined for a file import. */
  readonly peer: string | undefined;
  readonly circleId: string | undefined;
  /** 'pull', 'push' (the peer POSTed to us) or 'file'. */
  readonly source: 'pull' | 'push' | 'file';
  /** Recorded as the contributor of every accepted version (onward sharing follows its terms). */
  readonly contributorOrganisationId: string;
  readonly accepted: readonly ArrivedObject[];
  readonly quarantined: readonly NewQuarantineItem[];
  /** Stored with the data; absent when the batch does not come from a pull. */
  readonly pullCursor?: PullCursor;
  /**
   * For a pull: the stored pull cursor its pages were fetched after (undefined: from the start). The
   * batch is written only while the stored cursor is still that one, compared in its transaction;
   * else nothing is written and ENT_SYNC_BUSY is thrown: another process's pull of the peer (the
   * command line beside the node, another worker) wrote those pages meanwhile, or the cursors were
   * reset, which a cursor written over them would undo.
   */
  readonly pulledAfter?: { readonly cursor: PullCursor | undefined };
  readonly receivedAt: string;
}

export interface SyncBatchOutcome {
  /** One per accepted object, in order. */
  readonly outcomes: readonly AddOutcome[];
  /** Quarantine items written (the batch's plus store refusals). */
  readonly quarantined: number;
}

export interface StoredVersionText {
  readonly version: string;
  readonly json: string;
  /**
   * The signature extension (JSON) this node made for the version as its origin and keeps
   * (signaturesIn, variant ''); absent when it signed none. A copy coming back signed by this node
   * is this node's own only if it carries exactly this signature.
   */
  readonly originSignature?: string;
}

export interface SignatureKey {
  readonly id: string;
  readonly version: string;
  /** '' for the version as stored; the SHA-256 (hex) of the signed bytes for a derived (redacted) form. */
  readonly variant: string;
}

export interface QuarantineFilter {
  readonly peer?: string;
  readonly reason?: QuarantineReason;
  /** Only items neither released nor dropped (default true). */
  readonly unresolvedOnly?: boolean;
  readonly afterSeq?: number;
  readonly limit: number;
}

export interface QuarantineRecord extends NewQuarantineItem {
  readonly seq: number;
  readonly peer: string | undefined;
  readonly circleId: string | undefined;
  readonly collectionId: string;
  readonly source: SyncBatch['source'];
  readonly contributorOrganisationId: string;
  readonly receivedAt: string;
  readonly resolution: { readonly kind: 'released' | 'dropped'; readonly by: string; readonly at: string } | undefined;
}

export interface NodeKeyRecord {
  readonly keyId: string;
  /** Raw 32-byte Ed25519 public key, base64url. */
  readonly publicKey: string;
  /** PKCS#8 DER, base64. Never leaves the node. */
  readonly privateKey: string;
  readonly validFrom: string;
  readonly validUntil: string | undefined;
  /** For a rotated-in key: the rotation statement signed by the previous key (JSON text). */
  readonly rotationStatement: string | undefined;
  readonly createdAt: string;
}

/** What a rotation writes (FederationStore.changeNodeKeys), and what it returns to its caller. */
export interface NodeKeyChange<T> {
  readonly add: NodeKeyRecord;
  readonly ends: readonly { readonly keyId: string; readonly validUntil: string }[];
  readonly result: T;
}

/** How many flashes one sender may have had received since an instant (an ISO timestamp). */
export interface FlashQuota {
  readonly since: string;
  readonly limit: number;
}

export interface PinnedKeyRecord {
  readonly organisationId: string;
  readonly keyId: string;
  readonly publicKey: string;
  readonly validFrom: string;
  readonly validUntil: string | undefined;
  /** How it was pinned: 'peer-add', 'fingerprint', 'rotation', 'acceptance', 'circle'. */
  readonly source: string;
  readonly pinnedAt: string;
}

export interface FlashRecord {
  readonly id: string;
  readonly circleId: string;
  readonly direction: 'sent' | 'received';
  readonly senderOrganisationId: string;
  readonly text: string;
  readonly indicatorId: string | undefined;
  readonly sentAt: string;
  /** The signed message as sent (JSON text), kept as evidence. */
  readonly signedJson: string;
  /** For a received flash: when it arrived, and when a human here acknowledged it. */
  readonly receivedAt: string | undefined;
  readonly acknowledged: { readonly by: string; readonly at: string } | undefined;
  /** For a sent flash: what each member's node said. */
  readonly receipts: readonly FlashReceipt[];
}

export interface FlashReceipt {
  readonly organisationId: string;
  readonly deliveredAt?: string;
  /**
   * The id of the copy the member's node was delivered (recorded with deliveredAt): the flash's own,
   * or that of the copy without the indicator the release decision withheld from the member. The
   * only id whose acknowledgement the member may send.
   */
  readonly deliveredFlashId?: string;
  readonly acknowledgedAt?: string;
  readonly acknowledgedBy?: string;
  readonly lastError?: string;
}

/** What a received recall did to one version it named, and where that version had come from. */
export interface ReceivedRecallVersion {
  readonly id: string;
  readonly version: string;
  /** removed from the circle's collection; kept (the home organisation's own); absent (not held there when the recall came). */
  readonly outcome: 'removed' | 'kept' | 'absent';
  /** Its arrival as provenance recorded it (in the circle's collection, else the first), or undefined when none was recorded. */
  readonly provenance: ProvenanceSummary | undefined;
}

export interface ProvenanceSummary {
  readonly signer: string | undefined;
  readonly peer: string | undefined;
  readonly verification: Verification;
  readonly receivedAt: string;
}

export interface NewReceivedRecall {
  readonly circleId: string;
  readonly senderOrganisationId: string;
  /** Why the sender may recall: it coordinates the circle, or it originated every version named. */
  readonly authority: 'coordinator' | 'origin';
  readonly reason: string;
  readonly receivedAt: string;
  /** The signed recall message as received (JSON text), kept as evidence. */
  readonly signedJson: string;
  readonly versions: readonly ReceivedRecallVersion[];
}

export interface ReceivedRecallRecord extends NewReceivedRecall {
  readonly seq: number;
}

export interface ReceivedRecallFilter {
  readonly circleId?: string;
  /** Only recalls older than this one (paging, newest first). */
  readonly beforeSeq?: number;
  readonly limit: number;
}
