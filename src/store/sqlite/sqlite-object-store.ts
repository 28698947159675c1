import Database from 'better-sqlite3';
import canonicalize from 'canonicalize';
import { EntenteError } from '../../errors/entente-error.ts';
import { ententeSignatureOf, withEntenteSignatureText, withoutEntenteSignature } from '../../stix/entente-signature.ts';
import type { JsonObject, JsonValue, StixObject } from '../../stix/types.ts';
import { contentVersionOf, isUnversioned } from '../../stix/versions.ts';
import { compareVersions, equivalentVersionKeys } from '../compare-versions.ts';
import { versionKey } from '../object-store.ts';
import { prepareVersion, searchableTextOf, textOf, type PreparedVersion, type SearchableText } from '../prepared-version.ts';
import type { ImportTransaction } from '../ingest.ts';
import type {
  AcceptanceOptions,
  AddOptions,
  AddOutcome,
  AuditQuery,
  AuditRecord,
  AuditWindow,
  FirstRelease,
  CollectionRecord,
  Contribution,
  CounterProposal,
  DraftPublicationClaim,
  EntryFilter,
  EntryScan,
  EntryScanPage,
  EntryTextPage,
  NewCollection,
  OrganisationRecord,
  ObjectStore,
  Page,
  PageRequest,
  RecallNotice,
  RecordedObjectOptions,
  SearchHit,
  SearchQuery,
  StatusDetail,
  StatusDraft,
  StatusRecord,
  StoredEntry,
  TokenRecord,
  VersionSelector,
  WebhookDelivery,
  WebhookRecord,
} from '../object-store.ts';
import { migrations } from './migrations.ts';
import { watchWalIndex, type WalIndexWatch } from './wal-index-watch.ts';
import { SqliteCircleTables } from './sqlite-circle-tables.ts';
import { SqliteDraftTables } from './sqlite-draft-tables.ts';
import { SqliteFederationTables, type AddedVersions } from './sqlite-federation-tables.ts';
import { SqliteWebhookTables } from './sqlite-webhook-tables.ts';
import { startSqliteWalCheckpointer, type SqliteWalCheckpointer } from './sqlite-wal-checkpointer.ts';
import { PEER_CLOCK_SKEW_MS } from '../../federation/sync-timing.ts';
import type { Draft, DraftItem, DraftPublication, DraftSummary, NewDraft } from '../../drafts/draft.ts';
import type { AuditLogEntry } from '../../audit/audit-chain.ts';
import { bindingAgreement, ONWARD_SHARING_LEVELS, stricterOnwardSharing, type Agreement, type AgreementAcceptance, type AgreementState, type OnwardSharing } from '../../policy/agreement.ts';
import type { Circle } from '../../policy/circle.ts';
import type {
  EntryArrivals,
  FlashQuota,
  FlashReceipt,
  FlashRecord,
  NewReceivedRecall,
  NodeKeyChange,
  NodeKeyRecord,
  PeerRecord,
  PeerState,
  PinnedKeyRecord,
  ProvenanceRecord,
  QuarantineFilter,
  QuarantineRecord,
  ReceivedRecallFilter,
  ReceivedRecallRecord,
  SignatureKey,
  StoredVersionText,
  SyncAttempt,
  SyncBatch,
  SyncBatchOutcome,
} from '../federation-store.ts';

export interface SqliteObjectStoreOptions {
  /** File path, or ':memory:' for a private in-memory database. */
  readonly path: string;
  /** Source of dateAdded; injectable so tests can freeze it or run it backwards. */
  readonly clock?: () => Date;
  /** How long a writer waits for another process's write lock before giving up. */
  readonly busyTimeoutMs?: number;
}

/** The rank of an onward-sharing column in ONWARD_SHARING_LEVELS' order, from the strictest; anything unreadable ranks as the strictest. */
function onwardRankSql(column: string): string {
  return `(CASE ${column} ${ONWARD_SHARING_LEVELS.map((level, rank) => `WHEN '${level}' THEN ${rank}`).join(' ')} ELSE 0 END)`;
}

/** A contribution's recorded onward sharing; anything unreadable is the strictest (fail closed). */
function onwardSharingRead(text: string | null): OnwardSharing {
  return ONWARD_SHARING_LEVELS.find((level) => level === text) ?? 'none';
}

/** Opens (creating and migrating when needed) the SQLite store. Throws ENT_STORE_UNAVAILABLE. */
export function openSqliteObjectStore(options: SqliteObjectStoreOptions): SqliteObjectStore {
  let db: Database.Database | undefined;
  try {
    db = new Database(options.path);
    db.pragma('journal_mode = WAL');
    // FULL: an acknowledged write (a TAXII 202 with its status) survives power loss, not only a crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Ids are random UUIDs, so each insert dirties a random page of the id index. A larger cache and
    // rarer checkpoints let the pages dirtied by successive batches be written back once, not per batch:
    // at 1,000,000 objects one import transaction (20,000 versions) rewrites ~13,000 index pages, so a
    // checkpoint every 10,000 pages (40 MB) wrote each of them back after every transaction. At
    // 100,000 pages (400 MB of WAL, kept on disk while the store is open, removed at close) a page
    // rewritten by several transactions is written back once.
    // 128 MiB: the id index of 1,000,000 objects (~100 MB) stays in the cache instead of being read
    // back from the file for the batch's lookups and inserts.
    db.pragma(`cache_size = -${LARGEST_CACHE_KIB}`);
    db.pragma('wal_autocheckpoint = 100000');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    applyMigrations(db);
    return new SqliteObjectStore(db, options.clock ?? (() => new Date()));
  } catch (error) {
    db?.close();
    if (error instanceof EntenteError) throw error;
    throw new EntenteError('ENT_STORE_UNAVAILABLE', `Cannot open the store at ${options.path}: ${messageOf(error)}`, { path: options.path }, { cause: error });
  }
}

export const SCHEMA_VERSION = migrations.length;

/**
 * The first entry after an entry (@collectionKey, @dateAdded, holding @id at @version) that names it
 * as evidence (evidenceReferrersOf): one seek in evidence_refs' primary key, however many entries of
 * the collection name the id (an observable a thousand observed-data list), then primary-key lookups.
 * Exported for the test that reads its query plan.
 */
export const EVIDENCE_REFERRER_SQL = `SELECT ov.object_id, ov.type, ov.version, ov.spec_version, e.date_added, ov.revoked, ov.json
   FROM evidence_refs r
   JOIN entries e ON e.collection_key = r.collection_key AND e.date_added = r.date_added
   JOIN object_versions ov ON ov.vid = e.vid
  WHERE r.collection_key = @collectionKey AND r.ref_id = @id AND r.date_added > @dateAdded
    AND EXISTS (
      SELECT 1 FROM entries held JOIN object_versions hv ON hv.vid = held.vid
       WHERE held.collection_key = @collectionKey AND held.date_added = @dateAdded AND hv.object_id = @id AND hv.version = @version)
  ORDER BY r.date_added
  LIMIT 1`;

/**
 * The key of the home sightings collection (bootstrap-node.ts metaKeys.homeSightingsCollection): the
 * one collection whose evidence is indexed (insertEvidenceRefs) and answered (evidenceReferrersOf).
 * One text for both, so that they cannot come to mean different collections.
 */
const HOME_SIGHTINGS_KEY_SQL = "SELECT c.key FROM node_meta m JOIN collections c ON c.id = m.value WHERE m.key = 'home_sightings_collection'";

/** The page cache a store opens with (128 MiB), and the least an import sizes it down to. */
const LARGEST_CACHE_KIB = 131_072;
const SMALLEST_IMPORT_CACHE_KIB = 16_384;

function applyMigrations(db: Database.Database): void {
  // Migration 10 derives the version keys of stored SCOs from their JSON.
  db.function('entente_content_version', { deterministic: true }, contentVersionOfJson);
  // Reads serve an entry's own copy of a shared version (SERVED_JSON).
  db.function('entente_entry_text', { deterministic: true }, (json: unknown, signature: unknown) =>
    typeof json === 'string' && typeof signature === 'string' ? withEntenteSignatureText(json, signature) : json,
  );
  const migrate = db.transaction(() => {
    // Read inside the (immediate) transaction: two processes opening a new file must not both migrate.
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > migrations.length) {
      throw new EntenteError(
        'ENT_STORE_UNAVAILABLE',
        `The store has schema version ${current}, newer than this program knows (${migrations.length}); upgrade Entente`,
        { schemaVersion: current, knownVersion: migrations.length },
      );
    }
    for (let index = current; index < migrations.length; index += 1) {
      db.exec(migrations[index] ?? '');
      db.pragma(`user_version = ${index + 1}`);
    }
  });
  migrate.immediate();
}

/** The content version key of the stored text of an unversioned object; null for anything else, unreadable text included. */
function contentVersionOfJson(json: unknown): string | null {
  if (typeof json !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const object = value as StixObject;
  return isUnversioned(object) ? contentVersionOf(object) : null;
}

/**
 * The text an entry serves, in a query joining `entries e` and `object_versions ov`: the row's text,
 * unless the collection's copy carries another Entente signature or none (migration 11). A row keeps
 * the first copy's text; served as it is everywhere, another organisation's signature on it would
 * tell a collection's readers who else sent this node the same content.
 */
const SERVED_JSON = 'CASE WHEN e.signature IS NULL THEN ov.json ELSE entente_entry_text(ov.json, e.signature) END';

/**
 * What an entry records of the copy that put a stored version into its collection (see SERVED_JSON):
 * null when its Entente signature is the stored text's, '' when it has none, else its signature's JSON.
 */
function entrySignatureOf(json: string, storedJson: string): string | null {
  if (json === storedJson) return null;
  const arriving = ententeSignatureOf(JSON.parse(json) as JsonValue);
  const stored = ententeSignatureOf(JSON.parse(storedJson) as JsonValue);
  if (canonicalize(arriving ?? null) === canonicalize(stored ?? null)) return null;
  return arriving === undefined ? '' : JSON.stringify(arriving);
}

const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

interface CollectionRow {
  key: number;
  id: string;
  title: string;
  description: string | null;
  alias: string | null;
  created_at: string;
  last_date_added: number;
}

interface VersionRow {
  vid: number;
  version: string;
  revoked: number;
}

/** The versions stored of a new object (shared, never written to: frozen). */
const NO_VERSION_ROWS: readonly VersionRow[] = Object.freeze([]);

/** Carries an all-or-nothing write's outcomes out of the savepoint it rolls back. */
class RefusedTogether extends Error {
  readonly outcomes: readonly AddOutcome[];
  constructor(outcomes: readonly AddOutcome[]) {
    super('an all-or-nothing write was refused in part');
    this.outcomes = outcomes;
  }
}

const NOT_STORED_WITH_REFUSALS = 'not stored: the request was all or nothing, and another of its objects was refused';

interface CollectionEntryRow {
  vid: number;
  version: string;
  spec_version: string;
  date_added: number;
  is_latest: number;
  is_first: number;
}

/**
 * A listed entry as the list statements return it: in raw (array) mode, because building a keyed
 * object per row in the driver doubled the cost of a TAXII page. Order = the SELECT list.
 */
type EntryRow = [id: string, type: string, version: string, specVersion: string, dateAdded: number, revoked: number, json: string];
/**
 * A listEntries row: an EntryRow, whether any partner contributed the version (1) or none did (0), its
 * origin signature, and whether the entry is the collection's latest version of its object (1) or not (0).
 */
type ListedRow = [...EntryRow, contributed: number, originSignature: string | null, latest: number];
/** A scanEntries row: an EntryRow and whether the entry is the collection's latest version of its object (1) or not (0). */
type ScannedRow = [...EntryRow, latest: number];

interface StatusRow {
  id: string;
  collection_id: string;
  token_name: string;
  request_timestamp: string;
  total_count: number;
  successes: string;
  failures: string;
}

interface TokenRow {
  name: string;
  secret_hash: string;
  admin: number;
  grants: string;
  organisation_id: string | null;
  created_at: string;
  revoked_at: string | null;
}

interface SearchRow {
  id: string;
  type: string;
  version: string;
  json: string;
  collection_id: string;
  /** bm25 under the 'relevance' order; null under 'own-fields'. */
  score: number | null;
}

/** Shape of a list query: one prepared statement per shape, built the first time it is needed. */
interface ListShape {
  readonly byIds: boolean;
  readonly byTypes: boolean;
  readonly bySpecVersions: boolean;
  /** Undefined: every version passes. */
  readonly selectors: { readonly latest: boolean; readonly first: boolean; readonly exact: boolean } | undefined;
}

type Statement = Database.Statement<unknown[], unknown>;

/** count, first and last dateAdded, and the comma-joined texts of a `texts` list statement. */
type TextPageRow = [number, number | null, number | null, string | null];

/** The statement shape and parameters of one list query (limit: the entries wanted, not the one more that tells `more`). */
function listQuery(
  collectionKey: number,
  filter: EntryFilter,
  page: PageRequest,
  selectors: readonly VersionSelector[],
  ids: readonly string[] | undefined,
): { shape: ListShape; parameters: Record<string, number | string>; limit: number } {
  const exactVersions = selectors.flatMap((selector) => (selector.kind === 'at' ? equivalentVersionKeys(selector.version) : []));
  const shape: ListShape = {
    byIds: ids !== undefined,
    byTypes: filter.types !== undefined,
    bySpecVersions: filter.specVersions !== undefined,
    selectors: selectors.some((selector) => selector.kind === 'all')
      ? undefined
      : {
          latest: selectors.some((selector) => selector.kind === 'last'),
          first: selectors.some((selector) => selector.kind === 'first'),
          exact: exactVersions.length > 0,
        },
  };
  const parameters = {
    collectionKey,
    after: Math.max(page.after ?? Number.MIN_SAFE_INTEGER, filter.addedAfter ?? Number.MIN_SAFE_INTEGER),
    ids: JSON.stringify(ids ?? []),
    types: JSON.stringify(filter.types ?? []),
    specVersions: JSON.stringify(filter.specVersions ?? []),
    versions: JSON.stringify(exactVersions),
  };
  return { shape, parameters, limit: Math.max(0, Math.floor(page.limit)) };
}

export class SqliteObjectStore implements ObjectStore {
  readonly #db: Database.Database;
  readonly #clock: () => Date;
  readonly #listStatements = new Map<string, Statement>();
  /**
   * Entries listEntries returned whose version no partner had contributed when the page was read:
   * contributionsOfEntries answers them without a lookup. Kept by object identity, so a copy of an
   * entry with another id or version (a spread) is looked up like any other.
   */
  readonly #listedUncontributed = new WeakSet<StoredEntry>();
  /** Statements prepared on first use by their SQL text (scanEntries' few shapes). */
  readonly #statementsBySql = new Map<string, Statement>();
  readonly #sql: Record<
    | 'insertCollection'
    | 'selectCollection'
    | 'selectCollectionNamed'
    | 'selectCollections'
    | 'updateLastDateAdded'
    | 'selectVersionsOfObjects'
    | 'insertVersion'
    | 'selectCollectionEntriesOfObject'
    | 'insertEntry'
    | 'insertEvidenceRefs'
    | 'selectHomeSightingsKey'
    | 'selectEntry'
    | 'updateEntryFlags'
    | 'deleteEntry'
    | 'selectIsLatestAnywhere'
    | 'selectHasEntries'
    | 'selectVersionJson'
    | 'selectHomeOriginals'
    | 'deleteVersion'
    | 'insertText'
    | 'replaceText'
    | 'deleteText'
    | 'countEntries'
    | 'search'
    | 'searchByOwnFields'
    | 'insertStatus'
    | 'selectStatus'
    | 'insertToken'
    | 'insertOrganisation'
    | 'selectOrganisation'
    | 'selectOrganisations'
    | 'selectTokens'
    | 'selectTokenByName'
    | 'selectTokenBySecretHash'
    | 'revokeToken'
    | 'selectMeta'
    | 'upsertMeta',
    Statement
  >;

  readonly #circles: SqliteCircleTables;
  /** Which partner sent which version through which collection (migration 4), prepared once. */
  readonly #contributions: Record<'insert' | 'deleteOfVersion' | 'selectOfVersions' | 'selectOfEntries' | 'existsInCollection', Statement>;
  readonly #drafts: SqliteDraftTables;
  readonly #webhooks: SqliteWebhookTables;
  readonly #federation: SqliteFederationTables;
  /**
   * PRAGMA data_version changes when another connection commits, never for this one's own writes,
   * so token writes through this store are counted here: the two together make tokenChangeMarker.
   */
  readonly #dataVersion: Statement;
  #tokenWrites = 0;
  /**
   * The same signal for one 96-byte read instead of a read transaction (wal-index-watch.ts): it
   * changes on every commit, this connection's too; undefined where it cannot be read (in memory).
   */
  readonly #walIndex: WalIndexWatch | undefined;
  /** The add path of addObjects, for federation's batches: inside their transaction it runs as a savepoint. */
  readonly #addForFederation = (collectionId: string, versions: readonly PreparedVersion[], contributorOrganisationId: string, receivedAt?: string): AddedVersions =>
    this.#addVersionsKeyed(collectionId, versions, undefined, contributorOrganisationId, {}, receivedAt);

  constructor(db: Database.Database, clock: () => Date) {
    this.#db = db;
    this.#clock = clock;
    this.#circles = new SqliteCircleTables(db);
    this.#contributions = {
      // A partner sending a version again keeps the strictest terms it sent it under: given once
      // under terms forbidding onward sharing, it stays so given (migration 20).
      insert: db.prepare(
        `INSERT INTO contributions (vid, collection_key, organisation_id, arrival_onward) VALUES (?, ?, ?, ?)
           ON CONFLICT (vid, collection_key, organisation_id) DO UPDATE SET arrival_onward = excluded.arrival_onward
           WHERE ${onwardRankSql('excluded.arrival_onward')} < ${onwardRankSql('arrival_onward')}`,
      ),
      deleteOfVersion: db.prepare('DELETE FROM contributions WHERE vid = ?'),
      existsInCollection: db.prepare('SELECT 1 FROM contributions WHERE vid = ? AND collection_key = ? LIMIT 1').pluck(),
      // One query for a page of versions ([[id, version], …]); CROSS JOIN keeps the wanted list outermost.
      selectOfVersions: db
        .prepare(
          `SELECT v.object_id, v.version, c.id, k.organisation_id, k.arrival_onward
             FROM json_each(?) AS wanted
             CROSS JOIN object_versions v ON v.object_id = wanted.value ->> 0 AND v.version = wanted.value ->> 1
             CROSS JOIN contributions k ON k.vid = v.vid
             JOIN collections c ON c.key = k.collection_key`,
        )
        .raw(true),
      // A page of entries ([[dateAdded, id, version], …]) of one collection: one row for each entry
      // found with the same id and version (organisation NULL when nobody contributed it), one more
      // for each further contributor. Integer keys only: entries by (collection, dateAdded), then vid.
      selectOfEntries: db
        .prepare(
          `SELECT wanted.key, c.id, k.organisation_id, k.arrival_onward
             FROM json_each(@wanted) AS wanted
             CROSS JOIN entries e ON e.collection_key = @collectionKey AND e.date_added = wanted.value ->> 0
             CROSS JOIN object_versions v ON v.vid = e.vid AND v.object_id = wanted.value ->> 1 AND v.version = wanted.value ->> 2
             LEFT JOIN contributions k ON k.vid = e.vid
             LEFT JOIN collections c ON c.key = k.collection_key`,
        )
        .raw(true),
    };
    this.#drafts = new SqliteDraftTables(db);
    this.#webhooks = new SqliteWebhookTables(db);
    this.#federation = new SqliteFederationTables(db);
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.#walIndex = watchWalIndex(db);
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.#sql = {
      insertCollection: prepare(
        'INSERT INTO collections (id, title, description, alias, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      selectCollection: prepare('SELECT * FROM collections WHERE id = ?'),
      selectCollectionNamed: prepare('SELECT id, alias FROM collections WHERE id = ? OR alias = ? LIMIT 1'),
      selectCollections: prepare('SELECT * FROM collections ORDER BY key'),
      updateLastDateAdded: prepare('UPDATE collections SET last_date_added = ? WHERE key = ?'),
      selectVersionsOfObjects: prepare(
        'SELECT object_id, vid, version, revoked FROM object_versions WHERE object_id IN (SELECT value FROM json_each(?))',
      ),
      // CAST: the JSON may come as UTF-8 bytes (StoredText), which would otherwise be stored as a blob.
      insertVersion: prepare(
        `INSERT INTO object_versions (object_id, version, type, spec_version, revoked, json, home_original)
         VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT), ?)`,
      ),
      selectCollectionEntriesOfObject: prepare(
        `SELECT e.vid, ov.version, ov.spec_version, e.date_added, e.is_latest, e.is_first
         FROM object_versions ov CROSS JOIN entries e ON e.vid = ov.vid AND e.collection_key = ?
         WHERE ov.object_id = ?`,
      ),
      insertEntry: prepare(
        'INSERT INTO entries (collection_key, date_added, vid, is_latest, is_first, signature) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // What an entry of a sighting or an observed-data names as evidence (migration 16), in the home
      // sightings collection alone: the one collection the home sightings gate asks about. Its id is
      // the node's (bootstrap-node.ts metaKeys.homeSightingsCollection, the key migration 16 reads),
      // looked up in the statement, so the insert's transaction sees the same record as any process
      // that made the collection; the test runs before json_each, so another collection's entry parses
      // no JSON. (Migration 16's note that other collections' rows start at schema 16 is superseded:
      // none are written.)
      insertEvidenceRefs: prepare(
        `INSERT OR IGNORE INTO evidence_refs (collection_key, ref_id, date_added)
           SELECT @collectionKey, j.value, @dateAdded FROM object_versions ov,
             json_each(ov.json, CASE ov.type WHEN 'sighting' THEN '$.observed_data_refs' ELSE '$.object_refs' END) j
           WHERE @collectionKey = (${HOME_SIGHTINGS_KEY_SQL})
             AND ov.vid = @vid AND j.type = 'text'`,
      ),
      // The collection insertEvidenceRefs indexes, for evidenceReferrersOf to answer of it alone.
      selectHomeSightingsKey: prepare(HOME_SIGHTINGS_KEY_SQL).pluck(),
      selectEntry: prepare('SELECT 1 FROM entries WHERE vid = ? AND collection_key = ?'),
      updateEntryFlags: prepare(
        'UPDATE entries SET is_latest = ?, is_first = ? WHERE collection_key = ? AND date_added = ?',
      ),
      deleteEntry: prepare('DELETE FROM entries WHERE collection_key = ? AND date_added = ?'),
      selectIsLatestAnywhere: prepare('SELECT 1 FROM entries WHERE vid = ? AND is_latest = 1 LIMIT 1'),
      selectHasEntries: prepare('SELECT 1 FROM entries WHERE vid = ? LIMIT 1'),
      selectVersionJson: prepare('SELECT json FROM object_versions WHERE vid = ?'),
      // [id, version] of each wanted version the home organisation stored first or signed as its origin.
      selectHomeOriginals: db
        .prepare(
          `SELECT v.object_id, v.version
             FROM json_each(?) AS wanted
             CROSS JOIN object_versions v ON v.object_id = wanted.value ->> 0 AND v.version = wanted.value ->> 1
            WHERE v.home_original = 1 OR v.origin_signature IS NOT NULL
               OR EXISTS (SELECT 1 FROM signatures s WHERE s.object_id = v.object_id AND s.version = v.version AND s.variant = '')`,
        )
        .raw(true),
      deleteVersion: prepare('DELETE FROM object_versions WHERE vid = ?'),
      insertText: prepare('INSERT INTO object_text (rowid, name, description, aliases) VALUES (?, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))'),
      replaceText: prepare('INSERT OR REPLACE INTO object_text (rowid, name, description, aliases) VALUES (?, ?, ?, ?)'),
      deleteText: prepare('DELETE FROM object_text WHERE rowid = ?'),
      // Each object in a collection has exactly one latest entry, so its count is the object count.
      countEntries: prepare(
        'SELECT count(*) AS versions, coalesce(sum(is_latest), 0) AS objects FROM entries WHERE collection_key = ?',
      ),
      // MATERIALIZED keeps bm25() in the plain full-text scan it requires; weights favour name, then aliases.
      search: prepare(
        `WITH hits AS MATERIALIZED (
           SELECT rowid AS vid, bm25(object_text, 10.0, 1.0, 5.0) AS score FROM object_text WHERE object_text MATCH @match
         )
         SELECT ov.object_id AS id, ov.type, ov.version, ${SERVED_JSON} AS json, c.id AS collection_id, min(hits.score) AS score
         FROM hits
         JOIN object_versions ov ON ov.vid = hits.vid
         JOIN entries e ON e.vid = hits.vid AND e.is_latest = 1
         JOIN collections c ON c.key = e.collection_key
         WHERE c.id IN (SELECT value FROM json_each(@collections))
           AND (@types IS NULL OR ov.type IN (SELECT value FROM json_each(@types)))
         GROUP BY ov.object_id
         ORDER BY score, ov.object_id
         LIMIT @limit`,
      ),
      // One entry per object (name or aliases holding every word, then the newest), ordered the same
      // way: keys of the entry itself, never statistics of the index (SearchOrder).
      searchByOwnFields: prepare(
        `WITH hits AS MATERIALIZED (
           SELECT rowid AS vid FROM object_text WHERE object_text MATCH @match
         ),
         named AS MATERIALIZED (
           SELECT rowid AS vid FROM object_text WHERE object_text MATCH @namedMatch
         ),
         candidates AS (
           SELECT e.collection_key, e.date_added, ov.object_id, hits.vid IN (SELECT vid FROM named) AS on_name,
                  row_number() OVER (
                    PARTITION BY ov.object_id ORDER BY hits.vid IN (SELECT vid FROM named) DESC, e.date_added DESC, c.id
                  ) AS nth
           FROM hits
           JOIN object_versions ov ON ov.vid = hits.vid
           JOIN entries e ON e.vid = hits.vid AND e.is_latest = 1
           JOIN collections c ON c.key = e.collection_key
           WHERE c.id IN (SELECT value FROM json_each(@collections))
             AND (@types IS NULL OR ov.type IN (SELECT value FROM json_each(@types)))
         )
         SELECT ov.object_id AS id, ov.type, ov.version, ${SERVED_JSON} AS json, c.id AS collection_id, NULL AS score
         FROM candidates k
         JOIN entries e ON e.collection_key = k.collection_key AND e.date_added = k.date_added
         JOIN object_versions ov ON ov.vid = e.vid
         JOIN collections c ON c.key = k.collection_key
         WHERE k.nth = 1
         ORDER BY k.on_name DESC, k.date_added DESC, k.object_id
         LIMIT @limit`,
      ),
      insertStatus: prepare(
        `INSERT INTO statuses (id, collection_id, token_name, request_timestamp, total_count, successes, failures)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      selectStatus: prepare('SELECT * FROM statuses WHERE id = ?'),
      insertToken: prepare(
        `INSERT INTO tokens (name, secret_hash, admin, grants, organisation_id, created_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      selectTokens: prepare('SELECT * FROM tokens ORDER BY name'),
      insertOrganisation: prepare(
        'INSERT INTO organisations (id, name, kind, sectors, country, identity_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      selectOrganisation: prepare('SELECT * FROM organisations WHERE id = ?'),
      selectOrganisations: prepare('SELECT * FROM organisations ORDER BY name, id'),
      selectTokenByName: prepare('SELECT * FROM tokens WHERE name = ?'),
      selectTokenBySecretHash: prepare('SELECT * FROM tokens WHERE secret_hash = ?'),
      revokeToken: prepare('UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL'),
      selectMeta: prepare('SELECT value FROM node_meta WHERE key = ?'),
      upsertMeta: prepare(
        'INSERT INTO node_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  // ---- Collections ----

  async createCollection(input: NewCollection, now: Date): Promise<CollectionRecord> {
    return this.#guard(() => this.#createCollectionNow(input, now));
  }

  /** createCollection's work, in a transaction of its own or nested in the caller's (a savepoint). */
  #createCollectionNow(input: NewCollection, now: Date): CollectionRecord {
    const createdAt = now.toISOString();
    try {
      // Ids and aliases are one namespace: lookups by name (findCollection, token grants,
      // --collection) try ids before aliases, so a collection whose id is another's alias would take
      // that name over — `home-sightings`, `default` — and one whose alias is another's id would never
      // be found by it. The unique constraints see each column alone; this sees across them, checked
      // and inserted in one write transaction so that another process cannot slip in between.
      this.#db.transaction(() => {
        this.#refuseTakenName(input.id, 'id', input.id);
        if (input.alias !== undefined) this.#refuseTakenName(input.alias, 'alias', input.id);
        this.#sql.insertCollection.run(input.id, input.title, input.description ?? null, input.alias ?? null, createdAt);
      }).immediate();
    } catch (error) {
      if (isConstraintViolation(error)) {
        const aliasTaken = input.alias !== undefined && messageOf(error).includes('collections.alias');
        throw new EntenteError(
          'ENT_COLLECTION_EXISTS',
          aliasTaken
            ? `A collection with alias "${input.alias ?? ''}" already exists`
            : `A collection with id "${input.id}" already exists`,
          { collectionId: input.id },
          { cause: error },
        );
      }
      throw error;
    }
    return {
      id: input.id,
      title: input.title,
      description: input.description,
      alias: input.alias,
      mediaTypes: [STIX_MEDIA_TYPE],
      createdAt,
    };
  }

  async recordedCollection(metaKey: string, input: NewCollection, now: Date): Promise<CollectionRecord> {
    return this.#guard(() =>
      // Immediate: the read of the key and the write of a new collection under it are one step for
      // every process, so a second one finds the first's collection instead of making its own.
      this.#db.transaction((): CollectionRecord => {
        const recorded = (this.#sql.selectMeta.get(metaKey) as { value: string } | undefined)?.value;
        const held = recorded === undefined ? undefined : (this.#sql.selectCollection.get(recorded) as CollectionRow | undefined);
        if (held !== undefined) return toCollectionRecord(held);
        const { alias, ...unnamed } = input;
        const aliasFree = alias !== undefined && this.#sql.selectCollectionNamed.get(alias, alias) === undefined;
        const made = this.#createCollectionNow(aliasFree ? input : unnamed, now);
        this.#sql.upsertMeta.run(metaKey, made.id);
        return made;
      }).immediate(),
    );
  }

  /** Throws ENT_COLLECTION_EXISTS when `name`, the new collection's id or alias, is some collection's id or alias. */
  #refuseTakenName(name: string, as: 'id' | 'alias', collectionId: string): void {
    const holder = this.#sql.selectCollectionNamed.get(name, name) as Pick<CollectionRow, 'id' | 'alias'> | undefined;
    if (holder === undefined) return;
    const message =
      holder.id === name
        ? `A collection with id "${name}" already exists`
        : `Collection ${holder.id} already answers to the alias "${name}": a new collection's ${as} may not take it`;
    throw new EntenteError('ENT_COLLECTION_EXISTS', message, { collectionId });
  }

  async getCollection(id: string): Promise<CollectionRecord | undefined> {
    return this.#guard(() => {
      const row = this.#sql.selectCollection.get(id) as CollectionRow | undefined;
      return row === undefined ? undefined : toCollectionRecord(row);
    });
  }

  async listCollections(): Promise<CollectionRecord[]> {
    return this.#guard(() => (this.#sql.selectCollections.all() as CollectionRow[]).map(toCollectionRecord));
  }

  // ---- Objects ----

  async addObjects(
    collectionId: string,
    objects: readonly StixObject[],
    status?: StatusDraft,
    contributorOrganisationId?: string,
    options?: AddOptions,
  ): Promise<AddOutcome[]> {
    return this.#guard(() => this.#addVersions(collectionId, objects.map((object) => prepareVersion(object)), status, contributorOrganisationId, options));
  }

  async recordedObject(
    metaKey: string,
    collectionId: string,
    object: StixObject,
    options: RecordedObjectOptions = {},
  ): Promise<{ readonly id: string; readonly outcome: AddOutcome | undefined }> {
    const version = prepareVersion(object);
    const { check } = options;
    return this.#guard(() =>
      // Immediate: the read of the key and the write of the object under it are one step for every
      // process, so a second one finds the first's object instead of storing its own beside it.
      this.#db.transaction((): { id: string; outcome: AddOutcome | undefined } => {
        const recorded = (this.#sql.selectMeta.get(metaKey) as { value: string } | undefined)?.value;
        if (recorded !== undefined) return { id: recorded, outcome: undefined };
        check?.run(this.#circles.getCircle(check.circleId), this.#circles.getAgreementState(check.circleId));
        const [outcome] = this.#addVersions(collectionId, [version], undefined, undefined, undefined);
        if (outcome === undefined) throw new EntenteError('ENT_STORE_UNAVAILABLE', `No outcome for ${object.id}`);
        if (outcome.kind !== 'rejected') this.#sql.upsertMeta.run(metaKey, object.id);
        return { id: object.id, outcome };
      }).immediate(),
    );
  }

  /**
   * addObjects for versions already serialised (prepareVersion), for example by an import's worker
   * thread: the same checks, outcomes and single transaction, without the object graph.
   */
  async addPreparedVersions(
    collectionId: string,
    versions: readonly PreparedVersion[],
    status?: StatusDraft,
    contributorOrganisationId?: string,
    options?: AddOptions,
  ): Promise<AddOutcome[]> {
    return this.#guard(() => this.#addVersions(collectionId, versions, status, contributorOrganisationId, options));
  }

  #addVersions(
    collectionId: string,
    versions: readonly PreparedVersion[],
    status: StatusDraft | undefined,
    contributorOrganisationId: string | undefined,
    options: AddOptions | undefined,
  ): AddOutcome[] {
    return this.#addVersionsKeyed(collectionId, versions, status, contributorOrganisationId, options).outcomes;
  }

  /**
   * #addVersions, also returning the version row (vid) of each outcome that is not a rejection, so
   * that callers writing rows about the versions (contributions, provenance) need no lookup by id.
   */
  #addVersionsKeyed(
    collectionId: string,
    versions: readonly PreparedVersion[],
    status: StatusDraft | undefined,
    contributorOrganisationId: string | undefined,
    options: AddOptions = {},
    /** When the versions reached this node, for a write later than that (AddVersions). */
    receivedAt?: string,
  ): AddedVersions {
    const draft = options.publishesDraft;
    const allOrNothing = options.allOrNothing === true || draft !== undefined;
    const add = this.#db.transaction((): AddedVersions => {
      if (!allOrNothing) {
        const added = this.#writeVersions(collectionId, versions, contributorOrganisationId, receivedAt);
        if (status !== undefined) this.#insertStatus(collectionId, status, added.outcomes, false);
        return added;
      }
      // A savepoint inside the transaction: rolling back to it undoes the versions, entries, search
      // texts, contributions and the collection's last dateAdded, and the status is written after.
      const writeOrUndo = this.#db.transaction((): AddedVersions => {
        const added = this.#writeVersions(collectionId, versions, contributorOrganisationId, receivedAt);
        if (added.outcomes.some((outcome) => outcome.kind === 'rejected')) throw new RefusedTogether(added.outcomes);
        return added;
      });
      try {
        const added = writeOrUndo();
        if (status !== undefined) this.#insertStatus(collectionId, status, added.outcomes, false);
        // Thrown out of the whole transaction when refused: the versions go with it.
        if (draft !== undefined) this.#drafts.markDraftPublished(draft.draftId, draft.publication, draft.items, draft.claim);
        return added;
      } catch (error) {
        if (!(error instanceof RefusedTogether)) throw error;
        if (status !== undefined) this.#insertStatus(collectionId, status, error.outcomes, true);
        const refusals = error.outcomes.filter((outcome) => outcome.kind === 'rejected');
        return { outcomes: refusals, vids: refusals.map(() => undefined) };
      }
    });
    // IMMEDIATE takes the write lock up front, so a concurrent writer waits (busy_timeout) instead of
    // failing when a read transaction tries to upgrade.
    return add.immediate();
  }

  /** The versions, their entries and contributions, inside the caller's transaction. */
  #writeVersions(collectionId: string, versions: readonly PreparedVersion[], contributorOrganisationId: string | undefined, receivedAt?: string): AddedVersions {
    const collection = this.#requireCollection(collectionId);
    const clockMicros = this.#clock().getTime() * 1000;
    // An invalid Date must not turn every dateAdded into NaN; the monotonic rule still applies.
    const nowMicros = Number.isFinite(clockMicros) ? clockMicros : 0;
    let lastDateAdded = collection.last_date_added;
    const nextDateAdded = (): number => {
      lastDateAdded = Math.max(nowMicros, lastDateAdded + 1);
      return lastDateAdded;
    };
    const known = this.#storedVersionsOf(versions);
    const count = versions.length;
    const outcomes = new Array<AddOutcome>(count);
    // #addVersion reports the version row it added or found (undefined for a rejection), so that no
    // second lookup by id is needed: with 20,000 versions a batch, each Map lookup counts.
    const vids = new Array<number | undefined>(count).fill(undefined);
    // A version no partner sends is the home organisation's own, if this write stores it first.
    const homeOriginal = contributorOrganisationId === undefined ? 1 : null;
    for (let index = 0; index < count; index += 1) {
      outcomes[index] = this.#addVersion(collection.key, versions[index] as PreparedVersion, known, nextDateAdded, vids, index, homeOriginal);
    }
    if (contributorOrganisationId !== undefined) {
      const onWrite = this.#onwardSharingOnArrival(collection.id, contributorOrganisationId, this.#clock());
      const arrivalOnward =
        receivedAt === undefined ? onWrite : stricterOnwardSharing(onWrite, this.#onwardSharingOnArrival(collection.id, contributorOrganisationId, new Date(receivedAt)));
      for (let index = 0; index < count; index += 1) {
        const vid = vids[index];
        if (vid === undefined) continue;
        // A partner sending again a version already in the collection adds itself to its
        // contributors only if it came from a partner: one the home organisation put there itself
        // (no contributor) stays the home organisation's, which a recall never takes back
        // (docs/federation.md, "Who may recall what").
        if ((outcomes[index] as AddOutcome).kind === 'duplicate' && this.#contributions.existsInCollection.get(vid, collection.key) === undefined) continue;
        this.#contributions.insert.run(vid, collection.key, contributorOrganisationId, arrivalOnward);
      }
    }
    if (lastDateAdded !== collection.last_date_added) {
      this.#sql.updateLastDateAdded.run(lastDateAdded, collection.key);
    }
    return { outcomes, vids };
  }

  /**
   * The onward sharing a contributor's versions arrive under in a collection: what the terms binding
   * it in the collection's circle allow, as the release gate reads them (bindingAgreement, agreed by
   * the home organisation too), at `at`. Read inside the write's transaction, so that
   * an agreement written meanwhile cannot fall between the terms and the rows. 'none' outside any
   * circle or without binding terms (fail closed). The gate releases onward only what both these and
   * the terms binding at release allow (src/policy/README.md, rule 6).
   *
   * The strictest terms binding at any instant from `at` to the peer clock skew after it: a mirrored
   * circle's acceptances carry the coordinator's clock, which may run that far ahead, and the arrival
   * checks already admit what a partner sends under terms accepted that far ahead
   * (load-arrival-context.ts). Terms stricter than those binding at `at` may therefore already bind
   * the partner; looser ones widen only what arrives after. The binding terms change only at an
   * acceptance or a proposal, so those instants in the window, and its start, are all there is to try.
   * A version the mirror here has not caught up with yet is not known at all.
   */
  #onwardSharingOnArrival(collectionId: string, contributorOrganisationId: string, at: Date): OnwardSharing {
    const circle = this.#circles.getCircleByCollection(collectionId);
    if (circle === undefined) return 'none';
    const state = this.#circles.getAgreementState(circle.id);
    const home = this.#homeOrganisationId();
    const from = at.getTime();
    const to = from + PEER_CLOCK_SKEW_MS;
    // An invalid `at` leaves only NaN to try, at which nothing binds: 'none'.
    const instants = new Set<number>([from]);
    for (const { acceptedAt } of state.acceptances) instants.add(Date.parse(acceptedAt));
    for (const { proposedAt } of state.agreements) instants.add(Date.parse(proposedAt));
    let strictest: OnwardSharing = 'circles';
    for (const instant of instants) {
      if (instant !== from && !(instant > from && instant <= to)) continue;
      const binding = bindingAgreement(state, circle, contributorOrganisationId, new Date(instant), 0, home);
      strictest = stricterOnwardSharing(strictest, binding.kind === 'bound' ? binding.agreement.terms.onwardSharing : 'none');
    }
    return strictest;
  }

  /** This node's organisation as the bootstrap recorded it (readHomeOrganisation), undefined when none is. */
  #homeOrganisationId(): string | undefined {
    const text = (this.#sql.selectMeta.get('home_organisation') as { value: string } | undefined)?.value;
    if (text === undefined) return undefined;
    const id: unknown = (JSON.parse(text) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  }

  /**
   * The versions already stored of every object in the batch, in one statement instead of one per
   * object (most imported objects are new, and each lookup is a call into the driver). #addVersion
   * adds what it inserts, so that an object repeated in the batch sees its earlier versions.
   */
  #storedVersionsOf(versions: readonly PreparedVersion[]): Map<string, VersionRow[]> {
    const known = new Map<string, VersionRow[]>();
    if (versions.length === 0) return known;
    const rows = this.#sql.selectVersionsOfObjects.all(JSON.stringify(versions.map((version) => version.id))) as (VersionRow & { object_id: string })[];
    for (const row of rows) {
      const list = known.get(row.object_id);
      const stored: VersionRow = { vid: row.vid, version: row.version, revoked: row.revoked };
      if (list === undefined) known.set(row.object_id, [stored]);
      else list.push(stored);
    }
    return known;
  }

  /** Adds one version; `vids[index]` receives its version row unless it is rejected. */
  #addVersion(
    collectionKey: number,
    prepared: PreparedVersion,
    known: Map<string, VersionRow[]>,
    nextDateAdded: () => number,
    vids: (number | undefined)[],
    index: number,
    homeOriginal: 1 | null,
  ): AddOutcome {
    const { id, version, json } = prepared;
    // No array or closure for a new object (most of an import or a sync): each shows at a million.
    const stored = known.get(id) ?? NO_VERSION_ROWS;
    const same = stored.length === 0 ? undefined : stored.find((row) => row.version === version);

    let vid: number;
    let isNewVersion: boolean;
    let signature: string | null = null;
    if (same !== undefined) {
      const storedJson = this.#storedJsonOf(same.vid);
      const text = textOf(json);
      if (storedJson === undefined || !sameContent(text, storedJson)) {
        return {
          kind: 'rejected',
          id,
          version,
          code: 'ENT_OBJECT_VERSION_CONFLICT',
          message: `Object ${id} version ${version} is already stored with different content; change "modified" to publish a new version`,
        };
      }
      vids[index] = same.vid;
      if (this.#sql.selectEntry.get(same.vid, collectionKey) !== undefined) return { kind: 'duplicate', id, version };
      vid = same.vid;
      isNewVersion = false;
      signature = entrySignatureOf(text, storedJson);
    } else {
      if (stored.length > 0 && prepared.type === 'marking-definition') {
        // Not versioned (STIX 2.1): a "newer" definition naming more recipients would widen every
        // release of what the original marks, whoever posted it and into whichever collection.
        return {
          kind: 'rejected',
          id,
          version,
          code: 'ENT_MARKING_IMMUTABLE',
          // Names no version held: the one held may be in a collection the writer cannot read.
          message: `Marking definition ${id} cannot be stored in version ${version}: marking definitions are never versioned, and this node holds the id already; mint a new id instead`,
        };
      }
      const revokedAt = stored.length === 0 ? undefined : stored.find((row) => row.revoked === 1 && compareVersions(version, row.version) > 0);
      if (revokedAt !== undefined) {
        return {
          kind: 'rejected',
          id,
          version,
          code: 'ENT_OBJECT_REVOKED',
          // Names neither the revoked version nor its time: it may be in a collection the writer cannot read.
          message: `Object ${id} version ${version} cannot be added: the object is revoked on this node, and no version follows a revocation`,
        };
      }
      const revoked = prepared.revoked ? 1 : 0;
      vid = Number(this.#sql.insertVersion.run(id, version, prepared.type, prepared.specVersion, revoked, json, homeOriginal).lastInsertRowid);
      vids[index] = vid;
      isNewVersion = true;
      const row: VersionRow = { vid, version, revoked };
      if (stored.length === 0) known.set(id, [row]);
      else (stored as VersionRow[]).push(row);
    }

    const dateAdded = nextDateAdded();
    // Only the versions stored before this one can have entries: none for a new object.
    const siblings = isNewVersion && stored.length === 0 ? undefined : (this.#sql.selectCollectionEntriesOfObject.all(collectionKey, id) as CollectionEntryRow[]);
    const latest = siblings === undefined ? undefined : siblings.find((row) => row.is_latest === 1);
    const first = siblings === undefined ? undefined : siblings.find((row) => row.is_first === 1);
    const isLatest = latest === undefined || compareVersions(version, latest.version) > 0;
    const isFirst = first === undefined || compareVersions(version, first.version) < 0;
    this.#sql.insertEntry.run(collectionKey, dateAdded, vid, isLatest ? 1 : 0, isFirst ? 1 : 0, signature);
    // Here rather than by a trigger on entries, whose test ran for every entry added (an import of
    // indicators took a fifth longer): the type is known, and this is the one place entries are added.
    if (prepared.type === 'sighting' || prepared.type === 'observed-data') this.#sql.insertEvidenceRefs.run({ collectionKey, dateAdded, vid });

    // At most one of the two can hold once siblings exist: newer than the latest or older than the first.
    if (latest !== undefined && isLatest) {
      this.#sql.updateEntryFlags.run(0, latest.is_first, collectionKey, latest.date_added);
      this.#refreshSearchText(latest.vid);
    }
    if (first !== undefined && isFirst) {
      this.#sql.updateEntryFlags.run(first.is_latest, 0, collectionKey, first.date_added);
    }
    if (isLatest) {
      const text = prepared.text;
      if (isNewVersion) {
        if (text !== undefined) this.#sql.insertText.run(vid, text.name, text.description, text.aliases);
      } else {
        this.#writeSearchText(vid, text);
      }
    }
    return { kind: 'added', id, version, dateAdded };
  }

  #storedJsonOf(vid: number): string | undefined {
    return (this.#sql.selectVersionJson.get(vid) as { json: string } | undefined)?.json;
  }

  /** `storedNone`: the outcomes were rolled back (all or nothing), so none of them is a success. */
  #insertStatus(collectionId: string, draft: StatusDraft, outcomes: readonly AddOutcome[], storedNone: boolean): void {
    const successes: StatusDetail[] = [];
    const failures: StatusDetail[] = [...draft.validationFailures];
    for (const outcome of outcomes) {
      if (outcome.kind === 'rejected') failures.push({ id: outcome.id, version: outcome.version, message: outcome.message });
      else if (storedNone) failures.push({ id: outcome.id, version: outcome.version, message: NOT_STORED_WITH_REFUSALS });
      else successes.push({ id: outcome.id, version: outcome.version });
    }
    this.#sql.insertStatus.run(
      draft.statusId,
      collectionId,
      draft.tokenName,
      draft.requestTimestamp,
      draft.validationFailures.length + outcomes.length,
      JSON.stringify(successes),
      JSON.stringify(failures),
    );
  }

  async listEntries(collectionId: string, filter: EntryFilter, page: PageRequest): Promise<Page> {
    return this.#guard(() => {
      const collection = this.#requireCollection(collectionId);
      return this.#list(collection.key, filter, page, filter.versions ?? [{ kind: 'last' }], filter.ids);
    });
  }

  async evidenceReferrersOf(collectionId: string, entries: readonly Pick<StoredEntry, 'id' | 'version' | 'dateAdded'>[]): Promise<(StoredEntry | undefined)[]> {
    return this.#guard(() => {
      if (entries.length === 0) return [];
      const collection = this.#requireCollection(collectionId);
      // Another collection is not indexed (insertEvidenceRefs), and what rows it has are partial: a
      // store that ran schema 16 wrote them for every collection from its upgrade until the index was
      // kept for the home sightings alone. Undefined there, as the contract says, not a partial answer.
      if (collection.key !== this.#sql.selectHomeSightingsKey.get()) return entries.map(() => undefined);
      // The entry itself must be this collection's, as asked; then the first referrer after it, by the
      // evidence_refs index (migration 16), joined to entries: a row of a deleted entry finds none.
      const statement = this.#preparedOnce(EVIDENCE_REFERRER_SQL).raw(true);
      return entries.map((entry) => {
        const row = statement.get({ collectionKey: collection.key, id: entry.id, version: entry.version, dateAdded: entry.dateAdded }) as EntryRow | undefined;
        return row === undefined ? undefined : toStoredEntry(row);
      });
    });
  }

  async listEntryTexts(collectionId: string, filter: EntryFilter, page: PageRequest): Promise<EntryTextPage> {
    return this.#guard(() => {
      const collection = this.#requireCollection(collectionId);
      const { shape, parameters, limit } = listQuery(collection.key, filter, page, filter.versions ?? [{ kind: 'last' }], filter.ids);
      const [count, first, last, objectsJson] = this.#listStatement(shape, 'texts').get({ ...parameters, limit }) as TextPageRow;
      // A short page is the last one; a full one asks for one entry more (cheaper than a window
      // function that would let the aggregate leave out a (limit + 1)th row).
      const more = count === limit && this.#listStatement(shape, 'rows').all({ ...parameters, after: last ?? parameters.after, limit: 1 }).length > 0;
      if (count === 0 || first === null || last === null) return { objectsJson: '', count: 0, firstDateAdded: undefined, lastDateAdded: undefined, more };
      return { objectsJson: objectsJson ?? '', count, firstDateAdded: first, lastDateAdded: last, more };
    });
  }

  async scanEntries(collectionId: string, scan: EntryScan): Promise<EntryScanPage> {
    return this.#guard(() => {
      const collection = this.#requireCollection(collectionId);
      const examine = Math.max(0, Math.floor(scan.examine));
      const after = scan.after ?? Number.MIN_SAFE_INTEGER;
      // The window first (a walk of the entries key alone), then the passing entries inside it: an
      // entry added between the two statements falls after the window, never inside it unseen.
      const [examined, scannedTo] = this.#preparedOnce(
        `SELECT count(*), max(date_added) FROM (
           SELECT date_added FROM entries WHERE collection_key = ? AND date_added > ? ORDER BY date_added LIMIT ?)`,
      )
        .raw(true)
        .get(collection.key, after, examine) as [number, number | null];
      if (examined === 0 || scannedTo === null) return { entries: [], examined: 0, scannedTo: undefined, more: false };
      const conditions = ['e.collection_key = @collectionKey', 'e.date_added > @after', 'e.date_added <= @scannedTo'];
      if (scan.revokedOnly === true) conditions.push('ov.revoked = 1');
      if (scan.textWithout !== undefined) conditions.push('instr(ov.json, @textWithout) = 0');
      const rows = this.#preparedOnce(
        `SELECT ov.object_id, ov.type, ov.version, ov.spec_version, e.date_added, ov.revoked, ${SERVED_JSON}, e.is_latest
           FROM entries e CROSS JOIN object_versions ov ON ov.vid = e.vid
          WHERE ${conditions.join(' AND ')}
          ORDER BY e.date_added`,
      )
        .raw(true)
        .all({ collectionKey: collection.key, after, scannedTo, ...(scan.textWithout === undefined ? {} : { textWithout: scan.textWithout }) }) as ScannedRow[];
      return { entries: rows.map((row) => toListedEntry(row, null, row[7])), examined, scannedTo, more: examined === examine };
    });
  }

  async listVersions(collectionId: string, objectId: string, filter: EntryFilter, page: PageRequest): Promise<Page> {
    return this.#guard(() => {
      const collection = this.#requireCollection(collectionId);
      if (filter.ids !== undefined && !filter.ids.includes(objectId)) return { entries: [], more: false };
      return this.#list(collection.key, filter, page, filter.versions ?? [{ kind: 'all' }], [objectId]);
    });
  }

  #list(
    collectionKey: number,
    filter: EntryFilter,
    page: PageRequest,
    selectors: readonly VersionSelector[],
    ids: readonly string[] | undefined,
  ): Page {
    const { shape, parameters, limit } = listQuery(collectionKey, filter, page, selectors, ids);
    const rows = this.#listStatement(shape, 'rows').all({ ...parameters, limit: limit + 1 }) as ListedRow[];
    const more = rows.length > limit;
    const entries = new Array<StoredEntry>(Math.min(limit, rows.length));
    for (let index = 0; index < entries.length; index += 1) {
      const row = rows[index] as ListedRow;
      const entry = toListedEntry(row, row[8], row[9]);
      if (row[7] === 0) this.#listedUncontributed.add(entry);
      entries[index] = entry;
    }
    return { entries, more };
  }

  #preparedOnce(sql: string): Statement {
    let statement = this.#statementsBySql.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statementsBySql.set(sql, statement);
    }
    return statement;
  }

  /**
   * `rows`: one row per entry with every StoredEntry column. `texts`: one row for the whole page —
   * count, first and last dateAdded, and the JSON texts joined by commas.
   */
  #listStatement(shape: ListShape, form: 'rows' | 'texts'): Statement {
    const key = `${form}:${JSON.stringify(shape)}`;
    const cached = this.#listStatements.get(key);
    if (cached !== undefined) return cached;
    const conditions = ['e.collection_key = @collectionKey', 'e.date_added > @after'];
    if (shape.byTypes) conditions.push('ov.type IN (SELECT value FROM json_each(@types))');
    if (shape.bySpecVersions) conditions.push('ov.spec_version IN (SELECT value FROM json_each(@specVersions))');
    if (shape.selectors !== undefined) {
      const alternatives: string[] = [];
      if (shape.selectors.latest) alternatives.push('e.is_latest = 1');
      if (shape.selectors.first) alternatives.push('e.is_first = 1');
      if (shape.selectors.exact) alternatives.push('ov.version IN (SELECT value FROM json_each(@versions))');
      conditions.push(alternatives.length === 0 ? '0' : `(${alternatives.join(' OR ')})`);
    }
    // With ids, start from the few versions of those objects (CROSS JOIN fixes the join order);
    // otherwise walk the (collection_key, date_added) key from the cursor, which is what makes a
    // page at depth one million as cheap as the first.
    const from = shape.byIds
      ? `(SELECT DISTINCT value FROM json_each(@ids)) AS wanted
         CROSS JOIN object_versions ov ON ov.object_id = wanted.value
         CROSS JOIN entries e ON e.vid = ov.vid`
      : 'entries e CROSS JOIN object_versions ov ON ov.vid = e.vid';
    const where = `FROM ${from}
         WHERE ${conditions.join(' AND ')}
         ORDER BY e.date_added
         LIMIT @limit`;
    // group_concat takes the rows in the order the subquery yields them, its ORDER BY (the store
    // contract test pins that the texts come in listEntries' order). An ORDER BY inside the
    // aggregate would sort the texts a second time and cost as much as the rest of the query.
    const sql =
      form === 'rows'
        ? // The contribution flag is read with the page (a key lookup beside the version's row), so
          // that the release gate asks the store again only for versions partners did contribute.
          `SELECT ov.object_id, ov.type, ov.version, ov.spec_version, e.date_added, ov.revoked, ${SERVED_JSON},
                  EXISTS (SELECT 1 FROM contributions k WHERE k.vid = e.vid), ov.origin_signature, e.is_latest ${where}`
        : `SELECT count(*), min(date_added), max(date_added), group_concat(json, ',')
             FROM (SELECT e.date_added AS date_added, ${SERVED_JSON} AS json ${where})`;
    const statement = this.#db.prepare(sql).raw(true);
    this.#listStatements.set(key, statement);
    return statement;
  }

  async deleteObject(collectionId: string, objectId: string, filter: EntryFilter): Promise<number> {
    return this.#guard(() => {
      const remove = this.#db.transaction(() => {
        const collection = this.#requireCollection(collectionId);
        if (filter.ids !== undefined && !filter.ids.includes(objectId)) return 0;
        const entries = this.#sql.selectCollectionEntriesOfObject.all(collection.key, objectId) as CollectionEntryRow[];
        const doomed = entries.filter((entry) => deletionMatches(entry, filter));
        if (doomed.length === 0) return 0;
        for (const entry of doomed) this.#sql.deleteEntry.run(collection.key, entry.date_added);
        // Readers that follow the collection by date_added see no trace of a removal: they watch this (deletionCount).
        const deletionsKey = deletionCountKey(collectionId);
        const deletions = Number((this.#sql.selectMeta.get(deletionsKey) as { value: string } | undefined)?.value ?? 0);
        this.#sql.upsertMeta.run(deletionsKey, String(deletions + 1));

        const remaining = entries.filter((entry) => !doomed.includes(entry));
        const newLatest = pickBy(remaining, (a, b) => compareVersions(a.version, b.version) > 0);
        const newFirst = pickBy(remaining, (a, b) => compareVersions(a.version, b.version) < 0);
        for (const entry of remaining) {
          const isLatest = entry === newLatest ? 1 : 0;
          const isFirst = entry === newFirst ? 1 : 0;
          if (isLatest === entry.is_latest && isFirst === entry.is_first) continue;
          this.#sql.updateEntryFlags.run(isLatest, isFirst, collection.key, entry.date_added);
          if (isLatest !== entry.is_latest) this.#refreshSearchText(entry.vid);
        }
        for (const entry of doomed) {
          if (this.#sql.selectHasEntries.get(entry.vid) === undefined) {
            // No collection holds this version any more: forget it, so it blocks no later re-publication.
            this.#sql.deleteText.run(entry.vid);
            this.#contributions.deleteOfVersion.run(entry.vid);
            this.#federation.forgetVersion(entry.vid);
            this.#sql.deleteVersion.run(entry.vid);
          } else if (entry.is_latest === 1) {
            this.#refreshSearchText(entry.vid);
          }
        }
        return doomed.length;
      });
      return remove.immediate();
    });
  }

  async deletionCount(collectionId: string): Promise<number> {
    return this.#guard(() => Number((this.#sql.selectMeta.get(deletionCountKey(collectionId)) as { value: string } | undefined)?.value ?? 0));
  }

  /** Keeps the invariant: a version is in the search index iff it is the latest in some collection. */
  #refreshSearchText(vid: number): void {
    if (this.#sql.selectIsLatestAnywhere.get(vid) === undefined) {
      this.#sql.deleteText.run(vid);
      return;
    }
    const row = this.#sql.selectVersionJson.get(vid) as { json: string } | undefined;
    if (row === undefined) return;
    this.#writeSearchText(vid, searchableTextOf(JSON.parse(row.json) as StixObject));
  }

  #writeSearchText(vid: number, text: SearchableText | undefined): void {
    if (text === undefined) this.#sql.deleteText.run(vid);
    else this.#sql.replaceText.run(vid, text.name, text.description, text.aliases);
  }

  async search(query: SearchQuery): Promise<SearchHit[]> {
    return this.#guard(() => {
      const match = toFtsQuery(query.text);
      const limit = Math.max(0, Math.floor(query.limit));
      if (match === undefined || query.collectionIds.length === 0 || limit === 0) return [];
      const parameters = {
        match,
        collections: JSON.stringify(query.collectionIds),
        types: query.types === undefined ? null : JSON.stringify(query.types),
        limit,
      };
      const rows = (
        query.order === 'relevance'
          ? this.#sql.search.all(parameters)
          : this.#sql.searchByOwnFields.all({ ...parameters, namedMatch: `{name aliases} : (${match})` })
      ) as SearchRow[];
      return rows.map((row) => {
        const name = (JSON.parse(row.json) as StixObject)['name'];
        return {
          id: row.id,
          type: row.type,
          version: row.version,
          name: typeof name === 'string' ? name : undefined,
          collectionId: row.collection_id,
          json: row.json,
          // bm25 is "lower is better" and negative; a hit's rank reads more naturally as "higher is better".
          rank: row.score === null ? undefined : -row.score,
        };
      });
    });
  }

  async homeOriginalsIn(versions: readonly { readonly id: string; readonly version: string }[]): Promise<boolean[]> {
    return this.#guard(() => {
      if (versions.length === 0) return [];
      const rows = this.#sql.selectHomeOriginals.all(JSON.stringify(versions.map(({ id, version }) => [id, version]))) as [string, string][];
      const found = new Set(rows.map(([id, version]) => versionKey(id, version)));
      return versions.map(({ id, version }) => found.has(versionKey(id, version)));
    });
  }

  async contributionsOf(versions: readonly { readonly id: string; readonly version: string }[]): Promise<Map<string, Contribution[]>> {
    return this.#guard(() => {
      const found = new Map<string, Contribution[]>();
      if (versions.length === 0) return found;
      const wanted = new Map<string, readonly [string, string]>();
      for (const { id, version } of versions) wanted.set(versionKey(id, version), [id, version]);
      const rows = this.#contributions.selectOfVersions.all(JSON.stringify([...wanted.values()])) as [string, string, string, string, string][];
      for (const [id, version, collectionId, organisationId, arrivalOnward] of rows) {
        const key = versionKey(id, version);
        const contribution: Contribution = { collectionId, organisationId, arrivalOnwardSharing: onwardSharingRead(arrivalOnward) };
        const known = found.get(key);
        if (known === undefined) found.set(key, [contribution]);
        else known.push(contribution);
      }
      return found;
    });
  }

  async contributionsOfEntries(collectionId: string, listed: readonly StoredEntry[]): Promise<Map<string, Contribution[]>> {
    const found = new Map<string, Contribution[]>();
    // Most versions a node releases were never contributed by a partner: listEntries said so.
    const entries = listed.filter((entry) => !this.#listedUncontributed.has(entry));
    const checked = new Array<boolean>(entries.length).fill(false);
    this.#guard(() => {
      const collection = entries.length === 0 ? undefined : (this.#sql.selectCollection.get(collectionId) as CollectionRow | undefined);
      if (collection === undefined) return;
      const wanted = JSON.stringify(entries.map((entry) => [entry.dateAdded, entry.id, entry.version]));
      const rows = this.#contributions.selectOfEntries.all({ wanted, collectionKey: collection.key }) as [number, string | null, string | null, string | null][];
      for (const [index, contributionCollection, organisationId, arrivalOnward] of rows) {
        const entry = entries[index];
        if (entry === undefined) continue;
        checked[index] = true;
        if (contributionCollection === null || organisationId === null) continue;
        const key = versionKey(entry.id, entry.version);
        const contribution: Contribution = { collectionId: contributionCollection, organisationId, arrivalOnwardSharing: onwardSharingRead(arrivalOnward) };
        const known = found.get(key);
        if (known === undefined) found.set(key, [contribution]);
        else if (!known.some((other) => other.collectionId === contribution.collectionId && other.organisationId === contribution.organisationId)) known.push(contribution);
      }
    });
    const unchecked = entries.filter((_entry, index) => !checked[index]);
    if (unchecked.length > 0) for (const [key, contributions] of await this.contributionsOf(unchecked)) found.set(key, contributions);
    return found;
  }

  async markingDefinitions(ids: readonly string[]): Promise<Map<string, JsonObject>> {
    return this.#guard(() => {
      const found = new Map<string, JsonObject>();
      if (ids.length === 0) return found;
      const rows = this.#preparedOnce(
        `SELECT object_id, min(json) FROM object_versions
          WHERE object_id IN (SELECT value FROM json_each(?)) AND type = 'marking-definition'
          GROUP BY object_id HAVING count(*) = 1`,
      )
        .raw(true)
        .all(JSON.stringify([...new Set(ids)])) as [string, string][];
      // Stored JSON is a validated STIX object.
      for (const [id, json] of rows) found.set(id, JSON.parse(json) as JsonObject);
      return found;
    });
  }

  async latestVersions(ids: readonly string[]): Promise<Map<string, StoredEntry>> {
    return this.#guard(() => {
      const found = new Map<string, StoredEntry>();
      const unique = [...new Set(ids)];
      for (let start = 0; start < unique.length; start += 500) {
        const chunk = unique.slice(start, start + 500);
        const rows = this.#db
          .prepare(
            `SELECT object_id, type, version, spec_version, 0, revoked, json FROM object_versions WHERE object_id IN (${chunk.map(() => '?').join(',')})`,
          )
          .raw(true)
          .all(...chunk) as EntryRow[];
        for (const row of rows) {
          const entry = toStoredEntry(row);
          const best = found.get(entry.id);
          if (best === undefined || compareVersions(entry.version, best.version) > 0) found.set(entry.id, entry);
        }
      }
      return found;
    });
  }

  async latestEntriesByCollection(ids: readonly string[]): Promise<Map<string, Map<string, StoredEntry>>> {
    return this.#guard(() => {
      const found = new Map<string, Map<string, StoredEntry>>();
      const unique = [...new Set(ids)];
      for (let start = 0; start < unique.length; start += 500) {
        const chunk = unique.slice(start, start + 500);
        const rows = this.#db
          .prepare(
            `SELECT ov.object_id, ov.type, ov.version, ov.spec_version, e.date_added, ov.revoked, ov.json, c.id
             FROM object_versions ov
             JOIN entries e ON e.vid = ov.vid AND e.is_latest = 1
             JOIN collections c ON c.key = e.collection_key
             WHERE ov.object_id IN (${chunk.map(() => '?').join(',')})`,
          )
          .raw(true)
          .all(...chunk) as [...EntryRow, collectionId: string][];
        for (const row of rows) {
          const collectionId = row[7];
          const byId = found.get(collectionId) ?? new Map<string, StoredEntry>();
          byId.set(row[0], toListedEntry([row[0], row[1], row[2], row[3], row[4], row[5], row[6]], null, 1));
          found.set(collectionId, byId);
        }
      }
      return found;
    });
  }

  async countEntries(collectionId: string): Promise<{ objects: number; versions: number }> {
    return this.#guard(() => {
      const collection = this.#requireCollection(collectionId);
      return this.#sql.countEntries.get(collection.key) as { objects: number; versions: number };
    });
  }

  // ---- Circles, agreements, audit, recalls (sqlite-circle-tables.ts) ----

  async createCircle(circle: Circle, now: Date): Promise<void> {
    return this.#guard(() => this.#circles.createCircle(circle, now));
  }

  async updateCircle(circle: Circle, now: Date, expected?: Circle): Promise<void> {
    return this.#guard(() => this.#circles.updateCircle(circle, now, expected));
  }

  async getCircle(id: string): Promise<Circle | undefined> {
    return this.#guard(() => this.#circles.getCircle(id));
  }

  async getCircleByCollection(collectionId: string): Promise<Circle | undefined> {
    return this.#guard(() => this.#circles.getCircleByCollection(collectionId));
  }

  async listCircles(): Promise<Circle[]> {
    return this.#guard(() => this.#circles.listCircles());
  }

  async addAgreement(agreement: Agreement): Promise<void> {
    return this.#guard(() => this.#circles.addAgreement(agreement));
  }

  async addAcceptance(acceptance: AgreementAcceptance, options: AcceptanceOptions = {}): Promise<void> {
    const pins = options.pins ?? [];
    // The acceptance and its pins in one transaction taken before its first read (each a savepoint
    // of it): see AcceptanceOptions.pins.
    return this.#guard(() =>
      this.#db.transaction(() => {
        this.#circles.addAcceptance(acceptance, options);
        for (const pin of pins) this.#federation.pinKey(pin);
      }).immediate(),
    );
  }

  async getAgreementState(circleId: string): Promise<AgreementState> {
    return this.#guard(() => this.#circles.getAgreementState(circleId));
  }

  async addCounterProposal(counter: CounterProposal): Promise<void> {
    return this.#guard(() => {
      if (this.#db.prepare('SELECT 1 FROM circles WHERE id = ?').get(counter.circleId) === undefined) {
        throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `No circle ${counter.circleId}`, { circleId: counter.circleId });
      }
      const document = JSON.stringify({ terms: counter.terms, ...(counter.comment === undefined ? {} : { comment: counter.comment }) });
      this.#db
        .prepare('INSERT INTO agreement_counters (circle_id, organisation_id, based_on_version, document, proposed_at) VALUES (?, ?, ?, ?, ?)')
        .run(counter.circleId, counter.organisationId, counter.basedOnVersion, document, counter.proposedAt);
    });
  }

  async listCounterProposals(circleId: string): Promise<CounterProposal[]> {
    return this.#guard(() => {
      const rows = this.#db
        .prepare('SELECT organisation_id, based_on_version, document, proposed_at FROM agreement_counters WHERE circle_id = ? ORDER BY seq')
        .all(circleId) as { organisation_id: string; based_on_version: number; document: string; proposed_at: string }[];
      return rows.map((row) => {
        const document = JSON.parse(row.document) as { terms: CounterProposal['terms']; comment?: string };
        return {
          circleId,
          organisationId: row.organisation_id,
          basedOnVersion: row.based_on_version,
          terms: document.terms,
          ...(document.comment === undefined ? {} : { comment: document.comment }),
          proposedAt: row.proposed_at,
        };
      });
    });
  }

  // ---- Webhooks (sqlite-webhook-tables.ts) ----

  async addWebhook(webhook: WebhookRecord): Promise<void> {
    return this.#guard(() => this.#webhooks.addWebhook(webhook));
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    return this.#guard(() => this.#webhooks.listWebhooks());
  }

  async removeWebhook(name: string): Promise<void> {
    return this.#guard(() => this.#webhooks.removeWebhook(name));
  }

  async recordWebhookDelivery(delivery: WebhookDelivery): Promise<void> {
    return this.#guard(() => this.#webhooks.recordWebhookDelivery(delivery));
  }

  async listWebhookDeliveries(query: { readonly webhook?: string; readonly limit: number }): Promise<WebhookDelivery[]> {
    return this.#guard(() => this.#webhooks.listWebhookDeliveries(query));
  }

  // ---- Federation (sqlite-federation-tables.ts) ----

  async addPeer(peer: PeerRecord): Promise<void> {
    return this.#guard(() => this.#federation.addPeer(peer));
  }

  async getPeer(name: string): Promise<PeerRecord | undefined> {
    return this.#guard(() => this.#federation.getPeer(name));
  }

  async listPeers(): Promise<PeerRecord[]> {
    return this.#guard(() => this.#federation.listPeers());
  }

  async removePeer(name: string): Promise<void> {
    return this.#guard(() => this.#federation.removePeer(name));
  }

  async getPeerState(name: string): Promise<PeerState> {
    return this.#guard(() => this.#federation.getPeerState(name));
  }

  async recordSyncAttempt(name: string, attempt: SyncAttempt): Promise<void> {
    return this.#guard(() => this.#federation.recordSyncAttempt(name, attempt));
  }

  async setPushCursor(name: string, dateAdded: number): Promise<void> {
    return this.#guard(() => this.#federation.setPushCursor(name, dateAdded));
  }

  async resetSyncCursors(name: string): Promise<void> {
    return this.#guard(() => this.#federation.resetSyncCursors(name));
  }

  async applySyncBatch(batch: SyncBatch): Promise<SyncBatchOutcome> {
    return this.#guard(() => this.#federation.applySyncBatch(batch, this.#addForFederation));
  }

  async storedVersionsOf(ids: readonly string[]): Promise<Map<string, StoredVersionText[]>> {
    return this.#guard(() => this.#federation.storedVersionsOf(ids));
  }

  async originSignersOf(ids: readonly string[]): Promise<Map<string, string>> {
    return this.#guard(() => this.#federation.originSignersOf(ids));
  }

  async arrivalHistoryOf(ids: readonly string[]): Promise<{ versions: Map<string, StoredVersionText[]>; originSigners: Map<string, string> }> {
    return this.#guard(() => this.#federation.arrivalHistoryOf(ids));
  }

  async provenanceOf(versions: readonly { readonly id: string; readonly version: string }[]): Promise<Map<string, ProvenanceRecord[]>> {
    return this.#guard(() => this.#federation.provenanceOf(versions));
  }

  async arrivalsOfEntries(collectionId: string, dateAdded: readonly number[]): Promise<Map<number, EntryArrivals>> {
    return this.#guard(() => this.#federation.arrivalsOfEntries(collectionId, dateAdded));
  }

  async signaturesIn(keys: readonly SignatureKey[]): Promise<(string | undefined)[]> {
    return this.#guard(() => this.#federation.signaturesIn(keys));
  }

  async putSignatures(signatures: readonly (SignatureKey & { readonly extensionJson: string; readonly signer: string })[]): Promise<void> {
    return this.#guard(() => this.#federation.putSignatures(signatures));
  }

  async listQuarantine(filter: QuarantineFilter): Promise<QuarantineRecord[]> {
    return this.#guard(() => this.#federation.listQuarantine(filter));
  }

  async getQuarantined(seq: number): Promise<QuarantineRecord | undefined> {
    return this.#guard(() => this.#federation.getQuarantined(seq));
  }

  async releaseQuarantined(seq: number, by: string, at: string): Promise<AddOutcome> {
    return this.#guard(() => this.#federation.releaseQuarantined(seq, by, at, this.#addForFederation));
  }

  async dropQuarantined(seq: number, by: string, at: string): Promise<void> {
    return this.#guard(() => this.#federation.dropQuarantined(seq, by, at));
  }

  async listNodeKeys(): Promise<NodeKeyRecord[]> {
    return this.#guard(() => this.#federation.listNodeKeys());
  }

  async addNodeKey(key: NodeKeyRecord): Promise<void> {
    return this.#guard(() => this.#federation.addNodeKey(key));
  }

  async retireNodeKey(keyId: string, validUntil: string): Promise<void> {
    return this.#guard(() => this.#federation.retireNodeKey(keyId, validUntil));
  }

  async changeNodeKeys<T>(decide: (keys: readonly NodeKeyRecord[]) => NodeKeyChange<T>): Promise<T> {
    return this.#guard(() => this.#federation.changeNodeKeys(decide));
  }

  async pinKey(key: PinnedKeyRecord): Promise<void> {
    return this.#guard(() => this.#federation.pinKey(key));
  }

  async pinFirstKeys(organisationId: string, keys: readonly Omit<PinnedKeyRecord, 'organisationId'>[]): Promise<number> {
    return this.#guard(() => this.#federation.pinFirstKeys(organisationId, keys));
  }

  async listPinnedKeys(organisationId?: string): Promise<PinnedKeyRecord[]> {
    return this.#guard(() => this.#federation.listPinnedKeys(organisationId));
  }

  async addFlash(flash: FlashRecord, quota?: FlashQuota): Promise<boolean> {
    return this.#guard(() => this.#federation.addFlash(flash, quota));
  }

  async getFlash(id: string): Promise<FlashRecord | undefined> {
    return this.#guard(() => this.#federation.getFlash(id));
  }

  async listFlashes(filter: { readonly circleId?: string; readonly limit: number }): Promise<FlashRecord[]> {
    return this.#guard(() => this.#federation.listFlashes(filter));
  }

  async countReceivedFlashes(senderOrganisationId: string, since: string): Promise<number> {
    return this.#guard(() => this.#federation.countReceivedFlashes(senderOrganisationId, since));
  }

  async recordFlashReceipt(flashId: string, receipt: FlashReceipt): Promise<void> {
    return this.#guard(() => this.#federation.recordFlashReceipt(flashId, receipt));
  }

  async acknowledgeFlash(flashId: string, by: string, at: string): Promise<void> {
    return this.#guard(() => this.#federation.acknowledgeFlash(flashId, by, at));
  }

  async markRecalls(
    filter: { readonly circleId: string; readonly organisationId: string; readonly versions?: readonly { readonly id: string; readonly version: string }[] },
    change: { readonly deliveredAt?: string; readonly acknowledgedAt?: string },
  ): Promise<number> {
    return this.#guard(() => this.#federation.markRecalls(filter, change));
  }

  async recordReceivedRecall(recall: NewReceivedRecall): Promise<{ readonly seq: number; readonly repeated: boolean }> {
    return this.#guard(() => this.#federation.recordReceivedRecall(recall));
  }

  async listReceivedRecalls(filter: ReceivedRecallFilter): Promise<ReceivedRecallRecord[]> {
    return this.#guard(() => this.#federation.listReceivedRecalls(filter));
  }

  // ---- Drafts (sqlite-draft-tables.ts) ----

  async createDraft(draft: NewDraft): Promise<Draft> {
    return this.#guard(() => this.#drafts.createDraft(draft));
  }

  async getDraft(id: string): Promise<Draft | undefined> {
    return this.#guard(() => this.#drafts.getDraft(id));
  }

  async listDrafts(): Promise<DraftSummary[]> {
    return this.#guard(() => this.#drafts.listDrafts());
  }

  async getDraftOwner(id: string): Promise<{ readonly createdByToken?: string } | undefined> {
    return this.#guard(() => this.#drafts.getDraftOwner(id));
  }

  async setDraftOwner(id: string, token: string): Promise<void> {
    return this.#guard(() => this.#drafts.setDraftOwner(id, token));
  }

  async updateDraftItems(draftId: string, items: readonly DraftItem[]): Promise<void> {
    return this.#guard(() => this.#drafts.updateDraftItems(draftId, items));
  }

  async markDraftPublished(draftId: string, publication: DraftPublication, items?: readonly DraftItem[], claimId?: string): Promise<void> {
    return this.#guard(() => this.#drafts.markDraftPublished(draftId, publication, items, claimId));
  }

  async claimDraftPublication(draftId: string, claim: DraftPublicationClaim, staleBefore: string): Promise<void> {
    return this.#guard(() => this.#drafts.claimDraftPublication(draftId, claim, staleBefore));
  }

  async releaseDraftPublication(draftId: string, claimId: string): Promise<void> {
    return this.#guard(() => this.#drafts.releaseDraftPublication(draftId, claimId));
  }

  async appendAudit(entries: readonly AuditLogEntry[]): Promise<void> {
    return this.#guard(() => this.#circles.appendAudit(entries));
  }

  async readAudit(query: AuditQuery): Promise<AuditRecord[]> {
    return this.#guard(() => this.#circles.readAudit(query));
  }

  async auditWindow(query: Pick<AuditQuery, 'recipientOrganisationId' | 'from' | 'to'>): Promise<AuditWindow | undefined> {
    return this.#guard(() => this.#circles.auditWindow(query));
  }

  async firstUnindexedAudit(): Promise<number | undefined> {
    return this.#guard(() => this.#circles.firstUnindexedAudit());
  }

  async firstReleases(objectIds: readonly string[]): Promise<FirstRelease[]> {
    // Up to the log's end first (what was appended since the last ask), a batch at a time with a turn
    // of the event loop between.
    while (await this.#guard(() => this.#circles.addFirstReleases())) await new Promise<void>((resolve) => setImmediate(resolve));
    return this.#guard(() => this.#circles.firstReleases(objectIds));
  }

  async queueRecalls(notices: readonly RecallNotice[]): Promise<number> {
    return this.#guard(() => this.#circles.queueRecalls(notices));
  }

  async listRecalls(filter: { readonly circleId?: string; readonly organisationId?: string; readonly undeliveredOnly?: boolean }): Promise<RecallNotice[]> {
    return this.#guard(() => this.#circles.listRecalls(filter));
  }

  // ---- Status ----

  async getStatus(statusId: string): Promise<StatusRecord | undefined> {
    return this.#guard(() => {
      const row = this.#sql.selectStatus.get(statusId) as StatusRow | undefined;
      if (row === undefined) return undefined;
      const successes = JSON.parse(row.successes) as StatusDetail[];
      const failures = JSON.parse(row.failures) as StatusDetail[];
      return {
        id: row.id,
        collectionId: row.collection_id,
        tokenName: row.token_name,
        // The whole request is handled in one transaction, so a stored status is always complete.
        status: 'complete',
        requestTimestamp: row.request_timestamp,
        totalCount: row.total_count,
        successCount: successes.length,
        failureCount: failures.length,
        pendingCount: 0,
        successes,
        failures,
        pendings: [],
      };
    });
  }

  // ---- Tokens ----

  async createToken(token: TokenRecord): Promise<void> {
    this.#guard(() => {
      this.#tokenWrites += 1;
      try {
        this.#sql.insertToken.run(
          token.name,
          token.secretHash,
          token.admin ? 1 : 0,
          JSON.stringify(token.grants),
          token.organisationId ?? null,
          token.createdAt,
          token.revokedAt ?? null,
        );
      } catch (error) {
        if (isConstraintViolation(error)) {
          const secretTaken = messageOf(error).includes('tokens.secret_hash');
          throw new EntenteError(
            'ENT_TOKEN_EXISTS',
            secretTaken ? `Another token already uses this secret` : `A token named "${token.name}" already exists`,
            { name: token.name },
            { cause: error },
          );
        }
        throw error;
      }
    });
  }

  async listTokens(): Promise<TokenRecord[]> {
    return this.#guard(() => (this.#sql.selectTokens.all() as TokenRow[]).map(toTokenRecord));
  }

  async findTokenBySecretHash(secretHash: string): Promise<TokenRecord | undefined> {
    return this.#guard(() => {
      const row = this.#sql.selectTokenBySecretHash.get(secretHash) as TokenRow | undefined;
      return row === undefined ? undefined : toTokenRecord(row);
    });
  }

  async tokenChangeMarker(): Promise<string> {
    if (this.#walIndex !== undefined && this.#db.open) return `w${this.#walIndex.changeCount()}:${this.#tokenWrites}`;
    return this.#guard(() => `${String(this.#dataVersion.get())}:${this.#tokenWrites}`);
  }

  async revokeToken(name: string, now: Date): Promise<TokenRecord> {
    return this.#guard(() => {
      // Revoking twice keeps the first revocation time.
      this.#tokenWrites += 1;
      this.#sql.revokeToken.run(now.toISOString(), name);
      const row = this.#sql.selectTokenByName.get(name) as TokenRow | undefined;
      if (row === undefined) throw new EntenteError('ENT_TOKEN_NOT_FOUND', `No token named "${name}"`, { name });
      return toTokenRecord(row);
    });
  }

  // ---- Node metadata ----

  // ---- Organisations ----

  async createOrganisation(organisation: OrganisationRecord): Promise<void> {
    this.#guard(() => {
      try {
        this.#sql.insertOrganisation.run(
          organisation.id,
          organisation.name,
          organisation.kind,
          JSON.stringify(organisation.sectors),
          organisation.country ?? null,
          organisation.identityJson,
          organisation.createdAt,
        );
      } catch (error) {
        if (isConstraintViolation(error)) {
          throw new EntenteError('ENT_ORG_EXISTS', `An organisation with id ${organisation.id} is already known`, { id: organisation.id }, { cause: error });
        }
        throw error;
      }
    });
  }

  async getOrganisation(id: string): Promise<OrganisationRecord | undefined> {
    return this.#guard(() => {
      const row = this.#sql.selectOrganisation.get(id) as OrganisationRow | undefined;
      return row === undefined ? undefined : toOrganisationRecord(row);
    });
  }

  async listOrganisations(): Promise<OrganisationRecord[]> {
    return this.#guard(() => (this.#sql.selectOrganisations.all() as OrganisationRow[]).map(toOrganisationRecord));
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.#guard(() => (this.#sql.selectMeta.get(key) as { value: string } | undefined)?.value);
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.#guard(() => {
      this.#sql.upsertMeta.run(key, value);
    });
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  /**
   * A second connection on a worker thread that checkpoints the WAL between an import's transactions
   * (sqlite-wal-checkpointer.ts); undefined for an in-memory database, which has no WAL.
   */
  startWalCheckpointer(): SqliteWalCheckpointer | undefined {
    return this.#db.memory ? undefined : startSqliteWalCheckpointer(this.#db.name);
  }

  /**
   * Sizes the page cache for an import of about `inputBytes` of JSON: half that, between 16 and 128
   * MiB. The cache is there for the id-index pages an import reads and rewrites at random, which grow
   * with the number of objects; the pages of the JSON itself are written once and never read back.
   * Each page the cache grows by is fresh memory, which the bench machine faults in at ~15 µs a page:
   * ATT&CK Enterprise (50 MB) filled 100 MB of cache with pages it did not read again.
   */
  sizeCacheForImport(inputBytes: number): void {
    if (!Number.isFinite(inputBytes) || inputBytes <= 0) return;
    const kib = Math.round(Math.min(LARGEST_CACHE_KIB, Math.max(SMALLEST_IMPORT_CACHE_KIB, inputBytes / 2 / 1024)));
    this.#db.pragma(`cache_size = -${kib}`);
  }

  /**
   * A transaction the next writes join as savepoints until commit or rollback (ingest.ts,
   * ImportTransaction): an import's streamed document is stored whole or not at all. IMMEDIATE, as
   * every write here: a concurrent writer waits for the lock (busy_timeout) instead of failing later,
   * so the importer keeps such a document small (import-command.ts) to keep that wait short.
   */
  beginImportTransaction(): ImportTransaction {
    this.#guard(() => this.#db.exec('BEGIN IMMEDIATE'));
    let ended = false;
    const end = (statement: 'COMMIT' | 'ROLLBACK'): void => {
      if (ended) return;
      ended = true;
      // A failed statement inside can have rolled the transaction back already (SQLITE_FULL): nothing left to end.
      if (statement === 'ROLLBACK' && !this.#db.inTransaction) return;
      this.#guard(() => this.#db.exec(statement));
    };
    return { commit: () => end('COMMIT'), rollback: () => end('ROLLBACK') };
  }

  async exclusively<T>(work: () => Promise<T>): Promise<T> {
    // IMMEDIATE, as every write here: the lock is taken before the first read, so no other process
    // reads what this one is about to write; the writes inside join this transaction as savepoints.
    this.#guard(() => this.#db.exec('BEGIN IMMEDIATE'));
    let result: T;
    try {
      result = await work();
    } catch (error) {
      // A failed statement inside can have rolled the transaction back already (SQLITE_FULL).
      if (this.#db.open && this.#db.inTransaction) this.#guard(() => this.#db.exec('ROLLBACK'));
      throw error;
    }
    try {
      this.#guard(() => this.#db.exec('COMMIT'));
    } catch (error) {
      if (this.#db.open && this.#db.inTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
    return result;
  }

  /** The underlying connection, for diagnostics and SQLite-specific tests only. */
  get database(): Database.Database {
    return this.#db;
  }

  #requireCollection(collectionId: string): CollectionRow {
    const row = this.#sql.selectCollection.get(collectionId) as CollectionRow | undefined;
    if (row === undefined) {
      throw new EntenteError('ENT_COLLECTION_NOT_FOUND', `No collection with id "${collectionId}"`, { collectionId });
    }
    return row;
  }

  /** Turns the failures a caller cannot fix (locked, full, unreadable, closed database) into ENT_STORE_UNAVAILABLE. */
  #guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof EntenteError) throw error;
      if (isUnavailable(error) || !this.#db.open) {
        throw new EntenteError('ENT_STORE_UNAVAILABLE', `The store cannot be used: ${messageOf(error)}`, undefined, {
          cause: error,
        });
      }
      throw error;
    }
  }
}

/**
 * Same content means the same RFC 8785 form without the Entente signature (a signature says who
 * vouches for the version, it is not part of it: the unsigned version this node stored and the same
 * version coming back signed from a peer are one version), so re-serialising with another key order is still a
 * duplicate. Canonicalising costs more than the rest of an insert, so it runs only when an (id,
 * version) is seen again and the exact text differs: no per-version hash is stored or computed.
 */
function sameContent(json: string, storedJson: string): boolean {
  if (json === storedJson) return true;
  const content = (text: string): string | undefined => canonicalize(withoutEntenteSignature(JSON.parse(text) as JsonValue));
  return content(json) === content(storedJson);
}

const MAX_QUERY_TERMS = 16;
const MAX_TERM_LENGTH = 64;

/**
 * Builds the FTS5 MATCH expression from user text. Only runs of letters and digits survive, each
 * quoted as a prefix term and AND-ed, so FTS5 syntax in the input (operators, quotes, `*`, `^`,
 * column filters, NEAR) is searched for as words or dropped, never interpreted.
 */
function toFtsQuery(text: string): string | undefined {
  const terms = text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const unique = [...new Set(terms.map((term) => term.slice(0, MAX_TERM_LENGTH)))].slice(0, MAX_QUERY_TERMS);
  if (unique.length === 0) return undefined;
  return unique.map((term) => `"${term}"*`).join(' ');
}

/** node_meta key counting the deleteObject calls that removed versions from a collection. */
function deletionCountKey(collectionId: string): string {
  return `deletions:${collectionId}`;
}

function deletionMatches(entry: CollectionEntryRow, filter: EntryFilter): boolean {
  if (filter.addedAfter !== undefined && entry.date_added <= filter.addedAfter) return false;
  if (filter.specVersions !== undefined && !filter.specVersions.includes(entry.spec_version)) return false;
  const selectors = filter.versions;
  if (selectors === undefined) return true;
  return selectors.some((selector) => {
    switch (selector.kind) {
      case 'all':
        return true;
      case 'last':
        return entry.is_latest === 1;
      case 'first':
        return entry.is_first === 1;
      case 'at':
        return compareVersions(entry.version, selector.version) === 0;
    }
  });
}

function pickBy<T>(items: readonly T[], isBetter: (candidate: T, best: T) => boolean): T | undefined {
  let best: T | undefined;
  for (const item of items) if (best === undefined || isBetter(item, best)) best = item;
  return best;
}

function toStoredEntry([id, type, version, specVersion, dateAdded, revoked, json]: EntryRow | ListedRow): StoredEntry {
  return { id, type, version, specVersion, dateAdded, revoked: revoked === 1, json };
}

/**
 * A listed entry, with its origin signature when read and `latest` when it is the collection's latest
 * version (entries.is_latest = 1). Object literals, not spreads: this runs for every row of every page.
 */
function toListedEntry([id, type, version, specVersion, dateAdded, revoked, json]: EntryRow | ListedRow | ScannedRow, originSignature: string | null, latest: number): StoredEntry {
  const isRevoked = revoked === 1;
  if (originSignature === null) {
    return latest === 1 ? { id, type, version, specVersion, dateAdded, revoked: isRevoked, json, latest: true } : { id, type, version, specVersion, dateAdded, revoked: isRevoked, json };
  }
  return latest === 1
    ? { id, type, version, specVersion, dateAdded, revoked: isRevoked, json, originSignature, latest: true }
    : { id, type, version, specVersion, dateAdded, revoked: isRevoked, json, originSignature };
}

interface OrganisationRow {
  id: string;
  name: string;
  kind: string;
  sectors: string;
  country: string | null;
  identity_json: string;
  created_at: string;
}

function toOrganisationRecord(row: OrganisationRow): OrganisationRecord {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    sectors: JSON.parse(row.sectors) as string[],
    country: row.country ?? undefined,
    identityJson: row.identity_json,
    createdAt: row.created_at,
  };
}

function toCollectionRecord(row: CollectionRow): CollectionRecord {
  return {
    id: row.id,
    title: row.title,
    description: row.description ?? undefined,
    alias: row.alias ?? undefined,
    mediaTypes: [STIX_MEDIA_TYPE],
    createdAt: row.created_at,
  };
}

function toTokenRecord(row: TokenRow): TokenRecord {
  return {
    name: row.name,
    secretHash: row.secret_hash,
    admin: row.admin === 1,
    grants: JSON.parse(row.grants) as TokenRecord['grants'],
    organisationId: row.organisation_id ?? undefined,
    createdAt: row.created_at,
    revokedAt: row.revoked_at ?? undefined,
  };
}

function sqliteCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function isConstraintViolation(error: unknown): boolean {
  return sqliteCodeOf(error)?.startsWith('SQLITE_CONSTRAINT') ?? false;
}

const unavailableCodes = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_PROTOCOL'];

function isUnavailable(error: unknown): boolean {
  const code = sqliteCodeOf(error);
  return code !== undefined && unavailableCodes.some((prefix) => code.startsWith(prefix));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
