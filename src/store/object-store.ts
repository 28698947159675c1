import type { AuditLogEntry, ChainedAuditEntry } from '../audit/audit-chain.ts';
import type { Agreement, AgreementAcceptance, AgreementState, AgreementTerms, OnwardSharing } from '../policy/agreement.ts';
import type { Circle } from '../policy/circle.ts';
import type { JsonObject, StixObject } from '../stix/types.ts';
import type { Draft, DraftItem, DraftPublication, DraftSummary, NewDraft } from '../drafts/draft.ts';
import type { FederationStore, PinnedKeyRecord } from './federation-store.ts';

/**
 * The storage contract of a node. SQLite implements it by default (`sqlite/`); PostgreSQL may later.
 * One contract suite (test/store/object-store.contract.ts) runs against every implementation.
 *
 * Times called `dateAdded` are microseconds since the Unix epoch, assigned by the store when an
 * object version enters a collection: strictly increasing per collection, never taken from STIX
 * timestamps. They double as the keyset cursor for pagination.
 */
export interface ObjectStore
  extends CollectionStore, TokenStore, StatusStore, NodeMetaStore, OrganisationStore, CircleStore, AuditStore, RecallStore, DraftStore, WebhookStore, FederationStore {
  /**
   * Adds validated objects to a collection in one transaction, together with the status record
   * when one is given, so that a status never reports an object that is not stored.
   * Outcomes come back in input order. Throws ENT_COLLECTION_NOT_FOUND for an unknown collection;
   * a `status.statusId` that is already used makes the whole call fail and store nothing.
   * With `options.allOrNothing`, one refused version stores none of them (see AddOptions).
   */
  addObjects(collectionId: string, objects: readonly StixObject[], status?: StatusDraft, contributorOrganisationId?: string, options?: AddOptions): Promise<AddOutcome[]>;
  /**
   * The object whose id the node meta key `metaKey` holds (`outcome` undefined, nothing stored).
   * When the key holds none, adds `object` to the collection as addObjects does (the home
   * organisation's own write) and records its id under the key, in one write transaction, the key
   * only when the object is stored: two processes making the object for one key at once (two
   * `entente flash promote` of one flash) end with one, the second answered with the first's, as a
   * second run after the first would be. Throws as addObjects, and what `options.check` throws (then
   * nothing is stored or recorded).
   */
  recordedObject(
    metaKey: string,
    collectionId: string,
    object: StixObject,
    options?: RecordedObjectOptions,
  ): Promise<{ readonly id: string; readonly outcome: AddOutcome | undefined }>;

  /**
   * Which partner organisations contributed each version (`id` + version key) to which collections:
   * recorded by `addObjects` when a contributor is given (a partner's TAXII POST), with the
   * onward-sharing terms binding that contributor in the collection's circle when it was written
   * (Contribution.arrivalOnwardSharing). A version this node received through one circle and
   * releases through another is onward sharing.
   */
  contributionsOf(versions: readonly { readonly id: string; readonly version: string }[]): Promise<Map<string, Contribution[]>>;
  /**
   * contributionsOf for entries as a collection listed them: each found by its dateAdded in that
   * collection (an integer key, not the id and version text) and checked to be the same id and
   * version; an entry not found so (not of this collection, or changed since) is looked up by
   * contributionsOf. Same answer, keyed the same way — for an entry listEntries returned, as of when
   * it read that page (the version's contributions are read with its JSON, one snapshot).
   */
  contributionsOfEntries(collectionId: string, entries: readonly StoredEntry[]): Promise<Map<string, Contribution[]>>;
  /**
   * For each version, in order: whether it is provably the home organisation's own original — a
   * write of the home organisation's stored it before any partner sent it, or this node keeps its
   * origin signature of it (made only for a version no partner had sent). False for what is not held.
   */
  homeOriginalsIn(versions: readonly { readonly id: string; readonly version: string }[]): Promise<boolean[]>;

  /** Entries (object versions) of a collection, oldest `dateAdded` first, keyset-paginated. */
  listEntries(collectionId: string, filter: EntryFilter, page: PageRequest): Promise<Page>;

  /**
   * For each of `entries`, in order: the first entry of the collection added after it whose object
   * names it as evidence — a sighting in `observed_data_refs`, an observed-data in `object_refs` —
   * however many entries lie between, found through an index (one seek each, never a scan);
   * undefined when none does, or when the collection holds no version of that id and key at that
   * dateAdded (a stand-in, an entry of another collection). The entry found carries its stored JSON.
   * The home sightings gate (release/home-sightings-gate.ts) ties evidence to the sighting written
   * with it by this, and asks of no other collection. Answered, complete, for the collection the node
   * records as its home sightings collection (bootstrap-node.ts metaKeys.homeSightingsCollection);
   * for any other, undefined: the SQLite store indexes that collection's entries alone, not every
   * sighting and observed-data a sync or an import adds elsewhere, which nothing would read.
   */
  evidenceReferrersOf(collectionId: string, entries: readonly Pick<StoredEntry, 'id' | 'version' | 'dateAdded'>[]): Promise<(StoredEntry | undefined)[]>;

  /**
   * The same page as listEntries, as the stored JSON texts alone: for readers the release decision
   * shares every entry of the collection with (ReleaseGate.sharesEveryEntry), whose pages need no
   * per-entry fields. Reading one text instead of seven columns an entry halves a page's cost.
   */
  listEntryTexts(collectionId: string, filter: EntryFilter, page: PageRequest): Promise<EntryTextPage>;

  /**
   * For background passes that follow a collection (presigning, revocation recalls): the next
   * `scan.examine` entries after `scan.after` are examined in the store, and only those that pass
   * the scan's conditions come back, every version (no TAXII selectors). Cheaper than listing every
   * entry when few pass: during an initial sync a member's node adds a million signed versions that
   * such a pass would otherwise read back one by one.
   */
  scanEntries(collectionId: string, scan: EntryScan): Promise<EntryScanPage>;

  /**
   * All versions of one object in a collection that pass the filter, oldest `dateAdded` first.
   * Here an absent `filter.versions` means `all`.
   */
  listVersions(collectionId: string, objectId: string, filter: EntryFilter, page: PageRequest): Promise<Page>;

  /**
   * Removes the matching versions of one object from a collection; returns how many were removed.
   * An absent `filter.versions` removes every version. A version no collection holds any more is
   * forgotten entirely (it no longer blocks a different content under the same id and version).
   */
  deleteObject(collectionId: string, objectId: string, filter: EntryFilter): Promise<number>;

  /**
   * How many deleteObject calls removed versions from a collection (a DELETE, a recall carried out),
   * kept in the store so every process sees it; one read. A reader following the collection by
   * `dateAdded` (which a removal leaves unchanged) reads it again to learn that something it took
   * in may be gone (correlate/load-indicators.ts).
   */
  deletionCount(collectionId: string): Promise<number>;

  /** Full-text search over name, description and aliases of the latest version of each object. */
  search(query: SearchQuery): Promise<SearchHit[]>;

  /**
   * The latest stored version of each id, whichever collection holds it (ids not held are absent).
   * For reference data (ATT&CK objects, identities); marking definitions are read by markingDefinitions.
   */
  latestVersions(ids: readonly string[]): Promise<Map<string, StoredEntry>>;

  /**
   * The latest version every collection holds of each of `ids`: collection id → object id → entry,
   * collections holding none of them absent. One read for many ids and every collection: the node's
   * matcher asks it for the indicators a batch of observations alerted on.
   */
  latestEntriesByCollection(ids: readonly string[]): Promise<Map<string, Map<string, StoredEntry>>>;

  /**
   * The stored marking definitions among `ids`, parsed, whichever collection holds them.
   * STIX does not version marking definitions and the store refuses a second version of one
   * (ENT_MARKING_IMMUTABLE), since whoever replaced a definition would change who may receive what
   * it marks. An id held in several versions (stored before that rule) is left out: no version of
   * it can be trusted to be the original, so the markings naming it are unknown and withhold.
   */
  markingDefinitions(ids: readonly string[]): Promise<Map<string, JsonObject>>;

  /** Number of distinct objects and of versions in a collection. */
  countEntries(collectionId: string): Promise<{ objects: number; versions: number }>;

  close(): Promise<void>;
}

export interface AddOptions {
  /**
   * Store every version or none: when the store refuses one (a conflicting content, an immutable
   * marking definition, a revoked id), the versions it would have accepted are rolled back with it,
   * and the outcomes are the refusals alone, in input order. For writes whose objects only make sense
   * together (a draft's report and what it names), which a partial write would leave half-published.
   * A status record is still stored, with every version among its failures.
   */
  readonly allOrNothing?: boolean;
  /**
   * Records a draft's publication (DraftStore.markDraftPublished) in the same transaction as the
   * versions, once every one of them is stored; implies allOrNothing. Two transactions would leave,
   * if the process died between them, the objects stored and the draft unpublished, and a later
   * publication would store the draft again under new ids. When the recording is refused (the draft
   * published by another meanwhile, its claim taken over by another publisher, or the draft gone),
   * its error is thrown and no version is stored; when a version is refused, the draft is not
   * recorded and the outcomes are the refusals.
   */
  readonly publishesDraft?: DraftPublicationRecord;
}

/** What DraftStore.markDraftPublished takes: the publication and the items decided at publication. */
export interface DraftPublicationRecord {
  readonly draftId: string;
  readonly publication: DraftPublication;
  readonly items?: readonly DraftItem[];
  /** The id of the publisher's claim (DraftPublicationClaim.id); see DraftStore.markDraftPublished. */
  readonly claim?: string;
}

/** A publisher's reservation of a draft (DraftStore.claimDraftPublication). */
export interface DraftPublicationClaim {
  /**
   * Unguessable and new for each publication (a random UUID): whoever holds it owns the claim. A
   * publisher whose claim went stale and was taken over must neither release the new holder's claim
   * nor finish the draft, and `by` cannot tell them apart (the same analyst may publish twice).
   */
  readonly id: string;
  /** Who publishes; named to another publisher refused meanwhile. */
  readonly by: string;
  /** When the publication started (ISO 8601); the claim goes stale from it. */
  readonly at: string;
}

export interface Contribution {
  readonly collectionId: string;
  readonly organisationId: string;
  /**
   * The onward sharing the terms binding the contributor in that collection's circle allowed when
   * it sent the version ('none' outside any circle; the strictest the circle has had for rows
   * stored before migration 20; the strictest of its sends when it sent the version again).
   */
  readonly arrivalOnwardSharing: OnwardSharing;
}

/** The key `contributionsOf` uses for one version. */
export function versionKey(id: string, version: string): string {
  return `${id}\u0000${version}`;
}

export interface CollectionRecord {
  readonly id: string;
  readonly title: string;
  readonly description: string | undefined;
  readonly alias: string | undefined;
  /** Media types of the objects the collection holds, for the TAXII collection resource. */
  readonly mediaTypes: readonly string[];
  readonly createdAt: string;
}

export interface NewCollection {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly alias?: string;
}

export interface CollectionStore {
  /** Throws EntenteError ENT_COLLECTION_EXISTS when its id or alias is already some collection's id or alias (ids and aliases are one namespace). */
  createCollection(input: NewCollection, now: Date): Promise<CollectionRecord>;
  /**
   * The collection whose id the node meta key `metaKey` holds. When the key names none that exists,
   * creates `input` (without its alias if some collection already answers to that name) and records
   * its id under the key, in one write transaction: processes starting on one data directory at once
   * all end with the same collection, and no other is made.
   */
  recordedCollection(metaKey: string, input: NewCollection, now: Date): Promise<CollectionRecord>;
  getCollection(id: string): Promise<CollectionRecord | undefined>;
  listCollections(): Promise<CollectionRecord[]>;
}

/** One version of one object as it sits in one collection. */
export interface StoredEntry {
  readonly id: string;
  readonly type: string;
  /** `modified`, else `created`, else the key derived from the content of an SCO (stix/versions.ts, versionOf). */
  readonly version: string;
  readonly specVersion: string;
  readonly dateAdded: number;
  readonly revoked: boolean;
  /** The object's JSON text exactly as stored; serve it without re-serialising. */
  readonly json: string;
  /**
   * The signature extension (JSON) this node keeps for the stored form of a version it originated
   * (FederationStore.signaturesIn, variant ''), when the listing read it with the entry: the release
   * signer then needs no lookup. Absent says nothing: ask signaturesIn.
   */
  readonly originSignature?: string;
  /**
   * True when the listing (listEntries, listVersions, scanEntries, latestEntriesByCollection) read
   * this entry as the collection's latest version of its object: the release gate then needs no
   * lookup to know that no newer version stands above it (release/open-release-gate.ts). Absent says
   * nothing: the gate asks the store.
   */
  readonly latest?: true;
}

export type VersionSelector =
  | { readonly kind: 'first' }
  | { readonly kind: 'last' }
  | { readonly kind: 'all' }
  | { readonly kind: 'at'; readonly version: string };

export interface EntryFilter {
  readonly ids?: readonly string[];
  readonly types?: readonly string[];
  /** Absent means `last`, as TAXII 2.1 says for objects and manifest. */
  readonly versions?: readonly VersionSelector[];
  readonly specVersions?: readonly string[];
  /** Only entries with dateAdded strictly greater than this. */
  readonly addedAfter?: number;
}

export interface PageRequest {
  readonly limit: number;
  /** Keyset cursor: only entries with dateAdded strictly greater than this (from a previous page). */
  readonly after?: number;
}

export interface Page {
  readonly entries: readonly StoredEntry[];
  /** True when at least one more entry matches after the last one returned. */
  readonly more: boolean;
}

export interface EntryTextPage {
  /** The entries' JSON texts in `dateAdded` order joined by commas ('' for none): the inside of a JSON array. */
  readonly objectsJson: string;
  readonly count: number;
  /** dateAdded of the first and the last entry; undefined when the page is empty. */
  readonly firstDateAdded: number | undefined;
  readonly lastDateAdded: number | undefined;
  /** True when at least one more entry matches after the last one returned. */
  readonly more: boolean;
}

export interface EntryScan {
  /** Only entries with dateAdded strictly greater than this (the previous scan's `scannedTo`). */
  readonly after?: number;
  /** How many entries to examine at most, whether they pass or not. */
  readonly examine: number;
  /** Only revoked versions. */
  readonly revokedOnly?: boolean;
  /** Only versions whose stored JSON text does not contain this string. */
  readonly textWithout?: string;
}

export interface EntryScanPage {
  /** The examined entries that passed, oldest `dateAdded` first. */
  readonly entries: readonly StoredEntry[];
  /** How many entries were examined (passed or not). */
  readonly examined: number;
  /** dateAdded of the last examined entry: the next scan's `after`; undefined when none was examined. */
  readonly scannedTo: number | undefined;
  /** True when the scan stopped at `examine` entries: more may follow. */
  readonly more: boolean;
}

export type AddOutcome =
  | { readonly kind: 'added'; readonly id: string; readonly version: string; readonly dateAdded: number }
  | { readonly kind: 'duplicate'; readonly id: string; readonly version: string }
  | {
      readonly kind: 'rejected';
      readonly id: string;
      readonly version: string;
      readonly code: 'ENT_OBJECT_VERSION_CONFLICT' | 'ENT_OBJECT_REVOKED' | 'ENT_MARKING_IMMUTABLE';
      readonly message: string;
    };

// ---- Status resources (TAXII 2.1 §4.3) ----

export interface StatusDetail {
  readonly id: string;
  readonly version: string;
  readonly message?: string;
}

/** What the caller knows before the transaction: objects rejected by validation never reach the store. */
export interface StatusDraft {
  readonly statusId: string;
  readonly requestTimestamp: string;
  readonly tokenName: string;
  readonly validationFailures: readonly StatusDetail[];
}

export interface StatusRecord {
  readonly id: string;
  readonly collectionId: string;
  readonly tokenName: string;
  readonly status: 'pending' | 'complete';
  readonly requestTimestamp: string;
  readonly totalCount: number;
  readonly successCount: number;
  readonly failureCount: number;
  readonly pendingCount: number;
  readonly successes: readonly StatusDetail[];
  readonly failures: readonly StatusDetail[];
  readonly pendings: readonly StatusDetail[];
}

export interface StatusStore {
  getStatus(statusId: string): Promise<StatusRecord | undefined>;
}

// ---- Tokens ----

export interface CollectionGrant {
  readonly collectionId: string;
  readonly read: boolean;
  readonly write: boolean;
}

export interface TokenRecord {
  readonly name: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  readonly secretHash: string;
  readonly admin: boolean;
  readonly grants: readonly CollectionGrant[];
  /** Organisation (identity id) the token acts for; the home organisation when absent. */
  readonly organisationId: string | undefined;
  readonly createdAt: string;
  readonly revokedAt: string | undefined;
}

export interface TokenStore {
  /** Throws ENT_TOKEN_EXISTS when the name is taken (revoked tokens keep their name). */
  createToken(token: TokenRecord): Promise<void>;
  listTokens(): Promise<TokenRecord[]>;
  findTokenBySecretHash(secretHash: string): Promise<TokenRecord | undefined>;
  /** Throws ENT_TOKEN_NOT_FOUND. Returns the revoked record. */
  revokeToken(name: string, now: Date): Promise<TokenRecord>;
  /**
   * A value that changes whenever the tokens may have changed: a token created or revoked through
   * this store, or anything committed by another connection (another process, another worker). A
   * cached token lookup stays valid only while the marker is the same, so that a revocation made
   * anywhere takes effect at the next request. Cheap: it is read on every authenticated request.
   */
  tokenChangeMarker(): Promise<string>;
}

// ---- Partner organisations ----

/** A partner organisation as stored: the parsed fields and its STIX identity, kept as sent to others. */
export interface OrganisationRecord {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly sectors: readonly string[];
  readonly country: string | undefined;
  /** The organisation's STIX identity (JSON text). */
  readonly identityJson: string;
  readonly createdAt: string;
}

export interface OrganisationStore {
  /** Throws ENT_ORG_EXISTS when the id is taken. */
  createOrganisation(organisation: OrganisationRecord): Promise<void>;
  getOrganisation(id: string): Promise<OrganisationRecord | undefined>;
  listOrganisations(): Promise<OrganisationRecord[]>;
}

// ---- Node metadata (home organisation, schema version, …) ----

export interface NodeMetaStore {
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  /**
   * Runs `work` in one write transaction taken before its first read, which every store call it
   * makes joins; committed when it resolves, rolled back when it throws. Another process's `work`
   * waits for it (the busy timeout), then reads what it wrote: the node's first start
   * (ensureNodeInitialised) is read-then-write at every step. Only while nothing else in this process
   * uses the store, as at its opening: a call from elsewhere meanwhile would join the transaction.
   */
  exclusively<T>(work: () => Promise<T>): Promise<T>;
}

// ---- Search ----

export interface SearchQuery {
  /** Free text; words are matched as prefixes. Never passed raw to the FTS engine. */
  readonly text: string;
  readonly types?: readonly string[];
  /** Only objects present in at least one of these collections. */
  readonly collectionIds: readonly string[];
  readonly limit: number;
  /** How hits are ordered; 'own-fields' when absent (see SearchOrder). */
  readonly order?: SearchOrder;
}

/**
 * - 'relevance': bm25, best first, with each hit's score. The score weighs every word by how many
 *   documents of the whole index hold it and a hit's length against the index's average, so it and
 *   the order it gives move with documents in every collection: only for a reader of all of them.
 * - 'own-fields': hits whose name or aliases hold every word first, then the most recently added to
 *   the collections searched, then by id; no score. It reads nothing but the hit's own entry, so
 *   documents a reader cannot see neither score nor reorder the hits it can.
 */
export type SearchOrder = 'relevance' | 'own-fields';

export interface SearchHit {
  readonly id: string;
  readonly type: string;
  readonly version: string;
  readonly name: string | undefined;
  readonly collectionId: string;
  readonly json: string;
  /** Relevance (negated bm25 in SQLite), higher is better, under the 'relevance' order only. */
  readonly rank: number | undefined;
}

// ---- Circles and their agreements ----

/**
 * What CircleStore.addAcceptance checks in the write transaction that records the acceptance (taken
 * before its first read), so that no other process (the command line beside the node) can change
 * what was checked before it is written.
 */
/** What ObjectStore.recordedObject checks in its write transaction before it stores the object. */
export interface RecordedObjectOptions {
  /**
   * Runs on the circle `circleId` and its agreement state as stored, when the key holds no object yet
   * and before the object is stored; what it throws rolls back and is rethrown. Synchronous. A rule a
   * caller read earlier is taken again here, on what another process may have written since.
   */
  readonly check?: { readonly circleId: string; readonly run: (circle: Circle | undefined, agreements: AgreementState) => void };
}

export interface AcceptanceOptions {
  /** Throws ENT_AGREEMENT_SUPERSEDED when a later version than the accepted one is proposed. */
  readonly latestOnly?: boolean;
  /**
   * Runs on the stored circle before anything is written (the organisation is still a member, the
   * circle has not ended); what it throws rolls back and is rethrown. Synchronous.
   */
  readonly check?: (circle: Circle) => void;
  /**
   * The member's keys the acceptance carries, pinned (FederationStore.pinKey, source 'acceptance') in
   * the transaction that records it: a pin refused (ENT_PEER_KEY_MISMATCH, the key pinned for another
   * organisation meanwhile) refuses the acceptance, and a crash leaves both or neither, never an
   * acceptance without the keys that verify its member's objects.
   */
  readonly pins?: readonly PinnedKeyRecord[];
}

export interface CircleStore {
  /**
   * Stores a new circle on an existing collection. Throws ENT_CIRCLE_EXISTS, ENT_COLLECTION_NOT_FOUND,
   * or ENT_CIRCLE_COLLECTION_TAKEN (one collection carries at most one circle, so that the collection
   * a request names says which circle's rules apply).
   */
  createCircle(circle: Circle, now: Date): Promise<void>;
  /**
   * Replaces a circle's document (same id and collection). Throws ENT_CIRCLE_NOT_FOUND. With
   * `expected`, only while the stored circle is still that one, compared in the write transaction:
   * else throws ENT_STORE_UNAVAILABLE and changes nothing (another process changed it meanwhile).
   */
  updateCircle(circle: Circle, now: Date, expected?: Circle): Promise<void>;
  getCircle(id: string): Promise<Circle | undefined>;
  getCircleByCollection(collectionId: string): Promise<Circle | undefined>;
  listCircles(): Promise<Circle[]>;
  /** Appends a proposed agreement version; versions are never replaced. Throws ENT_AGREEMENT_EXISTS, ENT_CIRCLE_NOT_FOUND. */
  addAgreement(agreement: Agreement): Promise<void>;
  /**
   * Records a member's acceptance; accepting the same version again changes nothing. Throws
   * ENT_CIRCLE_NOT_FOUND. The options are checked in the write transaction that records it (see
   * AcceptanceOptions): acceptAgreement asks for them; a mirror records the coordinator's acceptances as they are.
   */
  addAcceptance(acceptance: AgreementAcceptance, options?: AcceptanceOptions): Promise<void>;
  getAgreementState(circleId: string): Promise<AgreementState>;
  /** Records a member's counter-proposal (binds nobody). Throws ENT_CIRCLE_NOT_FOUND. */
  addCounterProposal(counter: CounterProposal): Promise<void>;
  listCounterProposals(circleId: string): Promise<CounterProposal[]>;
}

/** Terms a member would accept instead of the version it read; a coordinator may adopt them. */
export interface CounterProposal {
  readonly circleId: string;
  readonly organisationId: string;
  readonly basedOnVersion: number;
  readonly terms: AgreementTerms;
  readonly comment?: string;
  readonly proposedAt: string;
}

// ---- Audit log (append-only, hash-chained) ----

export interface AuditRecord {
  /** Position in the log, from 1. */
  readonly seq: number;
  readonly chained: ChainedAuditEntry;
}

export interface AuditQuery {
  readonly recipientOrganisationId?: string;
  readonly circleId?: string;
  /** Inclusive lower bound on the entry's `at`. */
  readonly from?: Date;
  /** Exclusive upper bound on the entry's `at`. */
  readonly to?: Date;
  /** Only entries after this sequence number (paging). */
  readonly afterSeq?: number;
  /** Only entries up to this sequence number: where a window's entries end (auditWindow). */
  readonly throughSeq?: number;
  readonly limit: number;
}

/** Where in the log the entries of a --from/--to window lie: after `afterSeq`, up to `throughSeq`. */
export interface AuditWindow {
  readonly afterSeq: number;
  readonly throughSeq: number;
}

/**
 * The earliest time this node gave an object to a recipient through a circle, as its audit log
 * records it: a version shared or redacted, or a flash that named the object (an indicator).
 */
export interface FirstRelease {
  readonly objectId: string;
  readonly recipientOrganisationId: string;
  readonly circleId: string;
  /** RFC 3339, the entry's `at`. */
  readonly at: string;
}

export interface AuditStore {
  /** Chains and appends the entries in one transaction, after the last entry of the log. */
  appendAudit(entries: readonly AuditLogEntry[]): Promise<void>;
  /** Entries in log order. */
  readAudit(query: AuditQuery): Promise<AuditRecord[]>;
  /**
   * Where the entries a --from/--to window selects lie in the log (one recipient's, or all), for a
   * reader to walk from and to instead of from the first entry to the last (`at` need not rise with
   * seq, so this is not a search by time); undefined when the window holds none.
   */
  auditWindow(query: Pick<AuditQuery, 'recipientOrganisationId' | 'from' | 'to'>): Promise<AuditWindow | undefined>;
  /**
   * The seq of the first entry that a read with a --from/--to window taking in its `at` would skip, or
   * that gave an indicator firstReleases does not place at or before it; undefined when there is none.
   * The SQLite store keeps both indexes beside the log (audit_hours, audit_first_releases), which the
   * hash chain does not cover: `audit verify` asks this too.
   */
  firstUnindexedAudit(): Promise<number | undefined>;
  /**
   * When each of these indicators was first given to each recipient, through each circle (none for
   * one never given, or for another type of object). The source reputation asks it of the indicators
   * several sources published: the SQLite store keeps it beside the log (audit_first_releases), adds
   * the entries appended since the last ask, then seeks each indicator, rather than walking
   * everything ever released at every refresh.
   */
  firstReleases(objectIds: readonly string[]): Promise<FirstRelease[]>;
}

// ---- Recall notices (queued here; delivering them belongs to federation) ----

export interface RecallNotice {
  readonly circleId: string;
  readonly organisationId: string;
  readonly objectId: string;
  readonly version: string;
  readonly reason: string;
  readonly queuedAt: string;
  readonly deliveredAt?: string;
  /** The receiver confirmed it removed the version (FederationStore.markRecalls). */
  readonly acknowledgedAt?: string;
}

export interface RecallStore {
  /** Queues notices; one already queued for the same circle, organisation and version is kept as is. Returns how many were new. */
  queueRecalls(notices: readonly RecallNotice[]): Promise<number>;
  listRecalls(filter: { readonly circleId?: string; readonly organisationId?: string; readonly undeliveredOnly?: boolean }): Promise<RecallNotice[]>;
}

// ---- Drafts (review before publication) ----

export interface DraftStore {
  /** Stores a new draft with its items and returns it with the id the store gave it. */
  createDraft(draft: NewDraft): Promise<Draft>;
  /** The draft with its text and items, or undefined. */
  getDraft(id: string): Promise<Draft | undefined>;
  /** Every draft, newest first, without text and items. */
  listDrafts(): Promise<DraftSummary[]>;
  /** Whether a draft exists and the token that made it, without reading its text or items; undefined when there is none. */
  getDraftOwner(id: string): Promise<{ readonly createdByToken?: string } | undefined>;
  /** Sets the API token that made a draft (who may see it besides administrators). Throws ENT_DRAFT_NOT_FOUND. */
  setDraftOwner(id: string, token: string): Promise<void>;
  /**
   * Replaces the named items (same ids) of an unpublished draft in one transaction; other items are
   * left as they are, so two analysts deciding on different items do not overwrite each other.
   * Throws ENT_DRAFT_NOT_FOUND, ENT_DRAFT_PUBLISHED (published: final), ENT_DRAFT_PUBLISHING (a
   * publication holds the draft: retry), ENT_DRAFT_ITEM_NOT_FOUND.
   */
  updateDraftItems(draftId: string, items: readonly DraftItem[]): Promise<void>;
  /**
   * Records the publication once, with the items decided at publication (pending items rejected by
   * --reject-pending), in one transaction, ending the claim `claimId` names. Throws, recording
   * nothing, ENT_DRAFT_NOT_FOUND; ENT_DRAFT_PUBLISHED when the draft already has a publication (two
   * concurrent publications: the second is refused); ENT_DRAFT_PUBLISHING when `claimId` is given and
   * the draft is not claimed with it (the claim went stale and another publisher took it over, even
   * if that one released it since: nothing was published) and when `claimId` is absent and a
   * publication holds the draft.
   */
  markDraftPublished(draftId: string, publication: DraftPublication, items?: readonly DraftItem[], claimId?: string): Promise<void>;
  /**
   * Reserves an unpublished draft for one publication, across processes, before its objects are
   * ingested: refused with ENT_DRAFT_PUBLISHED once published, and with ENT_DRAFT_PUBLISHING while
   * another publication holds it, unless that one started before `staleBefore` (its publisher
   * died), whose claim this one then replaces. Decisions are refused meanwhile (ENT_DRAFT_PUBLISHING).
   * markDraftPublished (or addObjects' publishesDraft, with the objects) naming the claim ends the
   * reservation; releaseDraftPublication drops it after a failure.
   */
  claimDraftPublication(draftId: string, claim: DraftPublicationClaim, staleBefore: string): Promise<void>;
  /**
   * Drops the claim `claimId` after its publication failed; does nothing when the draft is claimed
   * by another (which took over this claim gone stale), published or unclaimed. Never throws for a
   * draft that is not found.
   */
  releaseDraftPublication(draftId: string, claimId: string): Promise<void>;
}

// ---- Webhooks (alerts pushed to the home organisation's systems) ----

export interface WebhookRecord {
  readonly name: string;
  readonly url: string;
  /** HMAC-SHA256 key for X-Entente-Signature; never printed. */
  readonly secret: string;
  /** Alerts below this severity are not sent: low, medium or high. */
  readonly minSeverity: 'low' | 'medium' | 'high';
  /**
   * Collection ids: the webhook gets the alerts a reader of these collections gets (an indicator
   * version one of them holds as its latest, none of them a newer one). Absent: every collection,
   * as the home organisation reads them.
   */
  readonly collections?: readonly string[];
  readonly createdAt: string;
}

export interface WebhookDelivery {
  readonly webhook: string;
  readonly alertId: string;
  readonly attempts: number;
  /** abandoned: the webhook was removed, or its URL or secret changed, before the next attempt. */
  readonly outcome: 'delivered' | 'failed' | 'abandoned';
  /** The last HTTP status, when a response came back. */
  readonly status: number | undefined;
  readonly error: string | undefined;
  readonly at: string;
}

export interface WebhookStore {
  /** Throws ENT_WEBHOOK_EXISTS when the name is taken. */
  addWebhook(webhook: WebhookRecord): Promise<void>;
  listWebhooks(): Promise<WebhookRecord[]>;
  /** Throws ENT_WEBHOOK_NOT_FOUND. */
  removeWebhook(name: string): Promise<void>;
  recordWebhookDelivery(delivery: WebhookDelivery): Promise<void>;
  /** The latest deliveries, newest first. */
  listWebhookDeliveries(query: { readonly webhook?: string; readonly limit: number }): Promise<WebhookDelivery[]>;
}
