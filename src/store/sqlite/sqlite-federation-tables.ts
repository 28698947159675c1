// Federation: peers and their sync state, provenance, quarantine, signatures, keys, flash messages,
// recall acknowledgement (migration 7), recalls received (migration 8). See docs/federation.md.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { EntenteError } from '../../errors/entente-error.ts';
import type { StixObject } from '../../stix/types.ts';
import { compareVersions, equivalentVersionKeys } from '../compare-versions.ts';
import {
  type ArrivedObject,
  type EntryArrivals,
  type FlashQuota,
  type FlashReceipt,
  type FlashRecord,
  type NewReceivedRecall,
  type NodeKeyChange,
  type NodeKeyRecord,
  type PeerRecord,
  type PeerState,
  type PinnedKeyRecord,
  type ProvenanceRecord,
  type PullCursor,
  type QuarantineFilter,
  QUARANTINE_REASONS,
  type QuarantineReason,
  type QuarantineRecord,
  type ReceivedRecallFilter,
  type ReceivedRecallRecord,
  type ReceivedRecallVersion,
  type SignatureKey,
  type StoredVersionText,
  type SyncAttempt,
  type SyncBatch,
  type SyncBatchOutcome,
  type Verification,
  type VersionArrival,
} from '../federation-store.ts';
import { versionKey, type AddOutcome } from '../object-store.ts';
import { prepareVersion, textOf, type PreparedVersion } from '../prepared-version.ts';

type Statement = Database.Statement<unknown[], unknown>;

/** What the store's add path returns: an outcome per version, and the version row (vid) of each that is not a rejection. */
export interface AddedVersions {
  readonly outcomes: AddOutcome[];
  readonly vids: readonly (number | undefined)[];
}

/** The store's own add path (addObjects without a status): inside the caller's transaction it runs as a savepoint. */
/**
 * The store's add path. `receivedAt`: when the versions reached this node, for a write that comes
 * later than that (a quarantined item released by a person): the onward-sharing terms recorded for
 * the contribution are then the stricter of those binding at `receivedAt` and at the write.
 */
export type AddVersions = (collectionId: string, versions: readonly PreparedVersion[], contributorOrganisationId: string, receivedAt?: string) => AddedVersions;

interface PeerRow {
  name: string;
  url: string;
  api_root_url: string;
  token: string;
  circle_id: string;
  local_collection_id: string;
  remote_collection_id: string;
  organisation_id: string;
  kind: string;
  push: number;
  interval_seconds: number;
  silent_after: number;
  created_at: string;
}

interface PeerStateRow {
  pull_added_after: string | null;
  pull_next: string | null;
  push_cursor: number | null;
  last_attempt_at: string | null;
  last_success_at: string | null;
  last_error_code: string | null;
  last_error_message: string | null;
  last_error_at: string | null;
  consecutive_failures: number;
  objects_in: number;
  objects_out: number;
  quarantined: number;
}

interface ProvenanceRow {
  wanted_id: string;
  wanted_version: string;
  version: string;
  collection_id: string;
  peer: string | null;
  circle_id: string | null;
  signer: string | null;
  key_id: string | null;
  verification: number;
  hops: string | null;
  received_at: string;
}

interface QuarantineRow {
  seq: number;
  object_id: string;
  version: string;
  reason: string;
  message: string;
  json: string;
  peer: string | null;
  circle_id: string | null;
  collection_id: string;
  source: string;
  contributor_organisation_id: string;
  received_at: string;
  resolution: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
}

interface NodeKeyRow {
  key_id: string;
  public_key: string;
  private_key: string;
  valid_from: string;
  valid_until: string | null;
  rotation_statement: string | null;
  created_at: string;
}

interface PinnedKeyRow {
  organisation_id: string;
  key_id: string;
  public_key: string;
  valid_from: string;
  valid_until: string | null;
  source: string;
  pinned_at: string;
}

interface FlashRow {
  id: string;
  circle_id: string;
  direction: string;
  sender_organisation_id: string;
  text: string;
  indicator_id: string | null;
  sent_at: string;
  signed_json: string;
  received_at: string | null;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
}

interface ReceivedRecallRow {
  seq: number;
  circle_id: string;
  sender_organisation_id: string;
  authority: string;
  reason: string;
  received_at: string;
  signed_json: string;
}

interface ReceivedRecallVersionRow {
  recall_seq: number;
  object_id: string;
  version: string;
  outcome: string;
  signer: string | null;
  peer: string | null;
  verification: string | null;
  provenance_received_at: string | null;
}

interface FlashReceiptRow {
  flash_id: string;
  organisation_id: string;
  delivered_at: string | null;
  delivered_flash_id: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  last_error: string | null;
}

/** Provenance verification as stored: one small integer per row instead of a word. */
const VERIFICATION_CODES: Readonly<Record<Verification, number>> = { unverified: 0, verified: 1, derived: 2 };
const VERIFICATIONS: readonly Verification[] = ['unverified', 'verified', 'derived'];

/** No peer link (a file import): the provenance key needs a value, and name keys start at 1. */
const NO_PEER = 0;

/** The provenance_names key of a text interned for the batch (#internNames); null for none. */
function nameKeyOf(names: ReadonlyMap<string, number>, name: string | undefined): number | null {
  return name === undefined ? null : (names.get(name) ?? null);
}

export class SqliteFederationTables {
  readonly #db: Database.Database;
  readonly #sql: Record<
    | 'insertPeer' | 'insertPeerState' | 'selectPeer' | 'selectPeers' | 'deletePeerState' | 'deletePeer' | 'selectPeerState'
    | 'recordSuccess' | 'recordFailure' | 'setPushCursor' | 'resetCursors' | 'setPullCursor' | 'addPulled'
    | 'selectCollectionKey' | 'insertName' | 'selectNameKey' | 'selectNames' | 'insertProvenance' | 'selectContributed' | 'deleteProvenanceOfVersion' | 'deleteSignaturesOfVersion' | 'insertQuarantine' | 'selectQuarantined' | 'listQuarantine' | 'resolveQuarantined'
    | 'selectHeldIds' | 'selectVersionTexts' | 'selectOriginFromProvenance' | 'selectOriginFromSignatures' | 'selectProvenance' | 'selectEntryArrivals'
    | 'selectVersionsOfId'
    | 'selectSignatures' | 'selectOriginSignatures' | 'insertSignature' | 'setOriginSignature' | 'insertUnheldOriginSignature'
    | 'selectNodeKeys' | 'selectNodeKeyById' | 'insertNodeKey' | 'retireNodeKey' | 'upsertPinnedKey' | 'selectPinnedKeyById' | 'selectPinnedKeys' | 'selectPinnedKeysOf'
    | 'insertFlash' | 'selectFlash' | 'selectFlashes' | 'countReceivedFlashes' | 'selectFlashesOfCircle' | 'selectReceipts' | 'upsertReceipt' | 'acknowledgeFlash'
    | 'markRecalls' | 'markRecallsOfVersion'
    | 'selectRecallRepeat' | 'insertReceivedRecall' | 'insertReceivedRecallVersion' | 'listReceivedRecalls' | 'selectReceivedRecallVersions',
    Statement
  >;

  constructor(db: Database.Database) {
    this.#db = db;
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.#sql = {
      insertPeer: prepare(
        `INSERT INTO peers (name, url, api_root_url, token, circle_id, local_collection_id, remote_collection_id, organisation_id, kind, push,
                            interval_seconds, silent_after, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertPeerState: prepare('INSERT INTO peer_state (peer) VALUES (?)'),
      selectPeer: prepare('SELECT * FROM peers WHERE name = ?'),
      selectPeers: prepare('SELECT * FROM peers ORDER BY name'),
      deletePeerState: prepare('DELETE FROM peer_state WHERE peer = ?'),
      deletePeer: prepare('DELETE FROM peers WHERE name = ?'),
      selectPeerState: prepare('SELECT * FROM peer_state WHERE peer = ?'),
      recordSuccess: prepare(
        `UPDATE peer_state SET last_attempt_at = @at, last_success_at = @at, consecutive_failures = 0, objects_out = objects_out + @out
         WHERE peer = @peer`,
      ),
      recordFailure: prepare(
        `UPDATE peer_state SET last_attempt_at = @at, consecutive_failures = consecutive_failures + 1, objects_out = objects_out + @out,
                last_error_code = coalesce(@code, last_error_code), last_error_message = coalesce(@message, last_error_message),
                last_error_at = CASE WHEN @code IS NULL THEN last_error_at ELSE @at END
         WHERE peer = @peer`,
      ),
      setPushCursor: prepare('UPDATE peer_state SET push_cursor = ? WHERE peer = ?'),
      resetCursors: prepare('UPDATE peer_state SET push_cursor = NULL, pull_added_after = NULL, pull_next = NULL WHERE peer = ?'),
      setPullCursor: prepare('UPDATE peer_state SET pull_added_after = ?, pull_next = ? WHERE peer = ?'),
      addPulled: prepare('UPDATE peer_state SET objects_in = objects_in + ?, quarantined = quarantined + ? WHERE peer = ?'),
      selectCollectionKey: prepare('SELECT key FROM collections WHERE id = ?'),
      insertName: prepare('INSERT OR IGNORE INTO provenance_names (name) VALUES (?)'),
      selectNameKey: prepare('SELECT key FROM provenance_names WHERE name = ?'),
      selectNames: prepare('SELECT key, name FROM provenance_names WHERE key IN (SELECT value FROM json_each(?))'),
      // The vid is looked up in the statement itself: one call per version, no round trip for the key.
      insertProvenance: prepare(
        'INSERT OR IGNORE INTO provenance (vid, collection_key, peer, circle, signer, key_id, verification, hops, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      // Whether a partner contributed a version to a collection: a version in it with none, the home organisation put there.
      selectContributed: prepare('SELECT 1 FROM contributions WHERE vid = ? AND collection_key = ? LIMIT 1').pluck(),
      deleteProvenanceOfVersion: prepare('DELETE FROM provenance WHERE vid = ?'),
      deleteSignaturesOfVersion: prepare(
        'DELETE FROM signatures WHERE (object_id, version) IN (SELECT object_id, version FROM object_versions WHERE vid = ?)',
      ),
      insertQuarantine: prepare(
        `INSERT INTO quarantine (object_id, version, reason, message, json, peer, circle_id, collection_key, source, contributor_organisation_id, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      selectQuarantined: prepare(
        'SELECT q.*, c.id AS collection_id FROM quarantine q JOIN collections c ON c.key = q.collection_key WHERE q.seq = ?',
      ),
      listQuarantine: prepare(
        `SELECT q.*, c.id AS collection_id FROM quarantine q JOIN collections c ON c.key = q.collection_key
         WHERE q.seq > @after
           AND (@open = 0 OR q.resolution IS NULL)
           AND (@peer IS NULL OR q.peer = @peer)
           AND (@reason IS NULL OR q.reason = @reason)
         ORDER BY q.seq
         LIMIT @limit`,
      ),
      resolveQuarantined: prepare('UPDATE quarantine SET resolution = ?, resolved_by = ?, resolved_at = ? WHERE seq = ? AND resolution IS NULL'),
      // The ids storedVersionsOf or originSignersOf can find anything of: a stored version, or a signature this node kept.
      selectHeldIds: prepare(
        `SELECT DISTINCT wanted.value FROM json_each(?) AS wanted
         WHERE EXISTS (SELECT 1 FROM object_versions ov WHERE ov.object_id = wanted.value)
            OR EXISTS (SELECT 1 FROM signatures s WHERE s.object_id = wanted.value)`,
      ).pluck(),
      selectVersionTexts: prepare('SELECT object_id, version, json, origin_signature FROM object_versions WHERE object_id IN (SELECT value FROM json_each(?))'),
      // Derived and unverified rows do not say who originated an id: a derived version is signed by the
      // peer that redacted it, an unverified one by nobody this node checked.
      selectOriginFromProvenance: prepare(
        `SELECT ov.object_id, ov.version, signer.name AS signer, received.name AS received_at
         FROM (SELECT DISTINCT value FROM json_each(?)) AS wanted
         CROSS JOIN object_versions ov ON ov.object_id = wanted.value
         CROSS JOIN provenance p ON p.vid = ov.vid
         JOIN provenance_names signer ON signer.key = p.signer
         JOIN provenance_names received ON received.key = p.received_at
         WHERE p.verification = ${VERIFICATION_CODES.verified}`,
      ),
      // The home organisation signs nothing but what it originated (the stored form, kept on the
      // version's row, or in the signatures table while the version is not held).
      selectOriginFromSignatures: prepare(
        `SELECT ov.object_id, ov.version, ov.origin_signature ->> '$.signer' AS signer
         FROM (SELECT DISTINCT value FROM json_each(?)) AS wanted
         CROSS JOIN object_versions ov ON ov.object_id = wanted.value
         WHERE ov.origin_signature IS NOT NULL
         UNION ALL
         SELECT s.object_id, s.version, s.signer
         FROM (SELECT DISTINCT value FROM json_each(?)) AS wanted
         CROSS JOIN signatures s ON s.object_id = wanted.value
         WHERE s.variant = ''`,
      ),
      // Every version of one id, with the collections holding it: the administrator's account of a refusal by the store.
      selectVersionsOfId: prepare(
        `SELECT ov.version, ov.revoked, (SELECT group_concat(c.id, ', ') FROM entries e JOIN collections c ON c.key = e.collection_key WHERE e.vid = ov.vid) AS collections
         FROM object_versions ov WHERE ov.object_id = ?`,
      ),
      selectProvenance: prepare(
        `SELECT json_extract(wanted.value, '$[0]') AS wanted_id, json_extract(wanted.value, '$[1]') AS wanted_version, ov.version,
                c.id AS collection_id, peer.name AS peer, circle.name AS circle_id, signer.name AS signer, key_id.name AS key_id,
                p.verification, p.hops, received.name AS received_at
         FROM json_each(?) AS wanted
         CROSS JOIN object_versions ov ON ov.object_id = json_extract(wanted.value, '$[0]') AND ov.version = json_extract(wanted.value, '$[1]')
         CROSS JOIN provenance p ON p.vid = ov.vid
         JOIN collections c ON c.key = p.collection_key
         JOIN provenance_names received ON received.key = p.received_at
         LEFT JOIN provenance_names peer ON peer.key = p.peer
         LEFT JOIN provenance_names circle ON circle.key = p.circle
         LEFT JOIN provenance_names signer ON signer.key = p.signer
         LEFT JOIN provenance_names key_id ON key_id.key = p.key_id
         ORDER BY received.name, c.id, peer.name`,
      ),
      // From the entries' own key to the vid and its provenance rows: no lookup of the version by its
      // text id. The contributions are read only for a version without provenance (decideSource
      // looks at them only then). Name keys are turned into names afterwards, once per page.
      selectEntryArrivals: prepare(
        `SELECT e.date_added, p.verification, p.signer, p.peer, p.received_at, p.hops ->> '$[#-1]' AS delivered_by,
                CASE WHEN p.vid IS NULL THEN (SELECT json_group_array(c.organisation_id) FROM contributions c WHERE c.vid = e.vid) END AS contributors
         FROM json_each(?) AS wanted
         CROSS JOIN entries e ON e.collection_key = ? AND e.date_added = wanted.value
         LEFT JOIN provenance p ON p.vid = e.vid`,
      ).raw(),
      // The position of each wanted key found, with its signature: a page of 1,000 keys a call, and
      // no strings read back that the caller already holds.
      // [position, signature] of each stored form wanted (variant ''), from the version rows.
      selectOriginSignatures: prepare(
        `SELECT wanted.key, v.origin_signature
         FROM json_each(?) AS wanted
         CROSS JOIN object_versions v ON v.object_id = wanted.value ->> 0 AND v.version = wanted.value ->> 1
         WHERE v.origin_signature IS NOT NULL`,
      ).raw(true),
      // The first signature kept of a stored form stays: one kept in the signatures table while its
      // version was not held (insertUnheldOriginSignature) counts as first.
      setOriginSignature: prepare(
        `UPDATE object_versions SET origin_signature = @extensionJson
          WHERE object_id = @id AND version = @version AND origin_signature IS NULL
            AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.object_id = @id AND s.version = @version AND s.variant = '')`,
      ),
      insertUnheldOriginSignature: prepare(
        `INSERT OR IGNORE INTO signatures (object_id, version, variant, extension_json, signer)
           SELECT @id, @version, '', @extensionJson, @signer
            WHERE NOT EXISTS (SELECT 1 FROM object_versions v WHERE v.object_id = @id AND v.version = @version)`,
      ),
      selectSignatures: prepare(
        `SELECT wanted.key, s.extension_json
         FROM json_each(?) AS wanted
         CROSS JOIN signatures s ON s.object_id = wanted.value ->> 0 AND s.version = wanted.value ->> 1 AND s.variant = wanted.value ->> 2`,
      ).raw(true),
      insertSignature: prepare('INSERT OR IGNORE INTO signatures (object_id, version, variant, extension_json, signer) VALUES (?, ?, ?, ?, ?)'),
      selectNodeKeys: prepare('SELECT * FROM node_keys ORDER BY valid_from DESC, created_at DESC, rowid DESC'),
      selectNodeKeyById: prepare('SELECT 1 FROM node_keys WHERE key_id = ?'),
      insertNodeKey: prepare(
        'INSERT INTO node_keys (key_id, public_key, private_key, valid_from, valid_until, rotation_statement, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      retireNodeKey: prepare('UPDATE node_keys SET valid_until = ? WHERE key_id = ?'),
      upsertPinnedKey: prepare(
        `INSERT INTO pinned_keys (organisation_id, key_id, public_key, valid_from, valid_until, source, pinned_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (organisation_id, key_id) DO UPDATE SET valid_from = excluded.valid_from, valid_until = excluded.valid_until`,
      ),
      selectPinnedKeys: prepare('SELECT * FROM pinned_keys ORDER BY organisation_id, valid_from, key_id'),
      selectPinnedKeyById: prepare('SELECT * FROM pinned_keys WHERE key_id = ?'),
      selectPinnedKeysOf: prepare('SELECT * FROM pinned_keys WHERE organisation_id = ? ORDER BY valid_from, key_id'),
      insertFlash: prepare(
        `INSERT OR IGNORE INTO flashes (id, circle_id, direction, sender_organisation_id, text, indicator_id, sent_at, signed_json, received_at,
                                        acknowledged_by, acknowledged_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      selectFlash: prepare('SELECT * FROM flashes WHERE id = ?'),
      selectFlashes: prepare('SELECT * FROM flashes ORDER BY rowid DESC LIMIT ?'),
      countReceivedFlashes: prepare("SELECT count(*) AS n FROM flashes WHERE direction = 'received' AND sender_organisation_id = ? AND received_at >= ?"),
      selectFlashesOfCircle: prepare('SELECT * FROM flashes WHERE circle_id = ? ORDER BY rowid DESC LIMIT ?'),
      selectReceipts: prepare('SELECT * FROM flash_receipts WHERE flash_id IN (SELECT value FROM json_each(?)) ORDER BY flash_id, organisation_id'),
      // Fields a receipt does not carry keep their value; a delivery or acknowledgement without an error clears the last error.
      upsertReceipt: prepare(
        `INSERT INTO flash_receipts (flash_id, organisation_id, delivered_at, delivered_flash_id, acknowledged_at, acknowledged_by, last_error)
         VALUES (@flash, @organisation, @delivered, @deliveredFlash, @acknowledged, @acknowledgedBy, @error)
         ON CONFLICT (flash_id, organisation_id) DO UPDATE SET
           delivered_at = coalesce(excluded.delivered_at, delivered_at),
           delivered_flash_id = coalesce(excluded.delivered_flash_id, delivered_flash_id),
           acknowledged_at = coalesce(excluded.acknowledged_at, acknowledged_at),
           acknowledged_by = coalesce(excluded.acknowledged_by, acknowledged_by),
           last_error = CASE WHEN excluded.last_error IS NOT NULL THEN excluded.last_error
                             WHEN excluded.delivered_at IS NOT NULL OR excluded.acknowledged_at IS NOT NULL THEN NULL
                             ELSE last_error END`,
      ),
      acknowledgeFlash: prepare('UPDATE flashes SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ? AND acknowledged_at IS NULL'),
      // Acknowledged implies delivered. Only notices that change are counted.
      markRecalls: prepare(
        `UPDATE recall_notices SET delivered_at = coalesce(delivered_at, @delivered, @acknowledged), acknowledged_at = coalesce(acknowledged_at, @acknowledged)
         WHERE circle_id = @circle AND organisation_id = @organisation
           AND ((@delivered IS NOT NULL AND delivered_at IS NULL) OR (@acknowledged IS NOT NULL AND acknowledged_at IS NULL))`,
      ),
      markRecallsOfVersion: prepare(
        `UPDATE recall_notices SET delivered_at = coalesce(delivered_at, @delivered, @acknowledged), acknowledged_at = coalesce(acknowledged_at, @acknowledged)
         WHERE circle_id = @circle AND organisation_id = @organisation AND object_id = @id AND version IN (SELECT value FROM json_each(@versions))
           AND ((@delivered IS NOT NULL AND delivered_at IS NULL) OR (@acknowledged IS NOT NULL AND acknowledged_at IS NULL))`,
      ),
      selectRecallRepeat: prepare(
        'SELECT seq FROM received_recalls WHERE versions_digest = ? AND circle_id = ? AND sender_organisation_id = ? ORDER BY seq LIMIT 1',
      ),
      insertReceivedRecall: prepare(
        `INSERT INTO received_recalls (circle_id, sender_organisation_id, authority, reason, received_at, signed_json, versions_digest)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertReceivedRecallVersion: prepare(
        `INSERT INTO received_recall_versions (recall_seq, position, object_id, version, outcome, signer, peer, verification, provenance_received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      listReceivedRecalls: prepare(
        `SELECT seq, circle_id, sender_organisation_id, authority, reason, received_at, signed_json FROM received_recalls
         WHERE (@circle IS NULL OR circle_id = @circle) AND (@before IS NULL OR seq < @before)
         ORDER BY seq DESC
         LIMIT @limit`,
      ),
      selectReceivedRecallVersions: prepare(
        `SELECT recall_seq, object_id, version, outcome, signer, peer, verification, provenance_received_at FROM received_recall_versions
         WHERE recall_seq IN (SELECT value FROM json_each(?))
         ORDER BY recall_seq, position`,
      ),
    };
  }

  // ---- Peers ----

  addPeer(peer: PeerRecord): void {
    const add = this.#db.transaction(() => {
      try {
        this.#sql.insertPeer.run(
          peer.name,
          peer.url,
          peer.apiRootUrl,
          peer.token,
          peer.circleId,
          peer.localCollectionId,
          peer.remoteCollectionId,
          peer.organisationId,
          peer.kind,
          peer.push ? 1 : 0,
          peer.intervalSeconds,
          peer.silentAfter,
          peer.createdAt,
        );
      } catch (error) {
        if (isConstraintViolation(error)) {
          throw new EntenteError('ENT_PEER_EXISTS', `a peer named "${peer.name}" exists (entente peer list)`, { peer: peer.name }, { cause: error });
        }
        throw error;
      }
      this.#sql.insertPeerState.run(peer.name);
    });
    add.immediate();
  }

  getPeer(name: string): PeerRecord | undefined {
    const row = this.#sql.selectPeer.get(name) as PeerRow | undefined;
    return row === undefined ? undefined : toPeer(row);
  }

  listPeers(): PeerRecord[] {
    return (this.#sql.selectPeers.all() as PeerRow[]).map(toPeer);
  }

  removePeer(name: string): void {
    const remove = this.#db.transaction(() => {
      this.#sql.deletePeerState.run(name);
      if (this.#sql.deletePeer.run(name).changes === 0) throw peerNotFound(name);
    });
    remove.immediate();
  }

  getPeerState(name: string): PeerState {
    const row = this.#sql.selectPeerState.get(name) as PeerStateRow | undefined;
    if (row === undefined) throw peerNotFound(name);
    const pullCursor: PullCursor | undefined =
      row.pull_added_after === null && row.pull_next === null
        ? undefined
        : { ...(row.pull_added_after === null ? {} : { addedAfter: row.pull_added_after }), ...(row.pull_next === null ? {} : { next: row.pull_next }) };
    return {
      pullCursor,
      pushCursor: row.push_cursor ?? undefined,
      lastAttemptAt: row.last_attempt_at ?? undefined,
      lastSuccessAt: row.last_success_at ?? undefined,
      lastError:
        row.last_error_code === null
          ? undefined
          : { code: row.last_error_code, message: row.last_error_message ?? '', at: row.last_error_at ?? row.last_attempt_at ?? '' },
      consecutiveFailures: row.consecutive_failures,
      objectsIn: row.objects_in,
      objectsOut: row.objects_out,
      quarantined: row.quarantined,
    };
  }

  recordSyncAttempt(name: string, attempt: SyncAttempt): void {
    const out = Math.max(0, Math.floor(attempt.objectsOut ?? 0));
    const result = attempt.ok
      ? this.#sql.recordSuccess.run({ peer: name, at: attempt.at, out })
      : this.#sql.recordFailure.run({ peer: name, at: attempt.at, out, code: attempt.error?.code ?? null, message: attempt.error?.message ?? null });
    if (result.changes === 0) throw peerNotFound(name);
  }

  setPushCursor(name: string, dateAdded: number): void {
    if (this.#sql.setPushCursor.run(dateAdded, name).changes === 0) throw peerNotFound(name);
  }

  resetSyncCursors(name: string): void {
    if (this.#sql.resetCursors.run(name).changes === 0) throw peerNotFound(name);
  }

  // ---- Sync batches ----

  /**
   * One transaction: the accepted objects through the store's own add path (a savepoint inside this
   * transaction), provenance for what was added or was already there, quarantine rows for the batch's
   * items and for what the store refused, then the peer's cursor and counters.
   */
  applySyncBatch(batch: SyncBatch, addVersions: AddVersions): SyncBatchOutcome {
    const apply = this.#db.transaction((): SyncBatchOutcome => {
      const collectionKey = this.#requireCollectionKey(batch.collectionId);
      if (batch.peer !== undefined) {
        const state = this.#sql.selectPeerState.get(batch.peer) as PeerStateRow | undefined;
        if (state === undefined) throw peerNotFound(batch.peer);
        const after = batch.pulledAfter;
        if (after !== undefined && (state.pull_added_after !== (after.cursor?.addedAfter ?? null) || state.pull_next !== (after.cursor?.next ?? null))) {
          throw new EntenteError('ENT_SYNC_BUSY', `Another pull of peer ${batch.peer} moved its cursor meanwhile; nothing of this one was written`, { peer: batch.peer });
        }
      }
      // Loops rather than map/flatMap with a closure: thousands of versions a batch.
      const count = batch.accepted.length;
      const prepared = new Array<PreparedVersion>(count);
      const texts: (string | undefined)[] = [batch.peer, batch.circleId, batch.receivedAt];
      for (let index = 0; index < count; index += 1) {
        const arrived = batch.accepted[index] as ArrivedObject;
        prepared[index] = prepareVersion(arrived.object);
        texts.push(arrived.signer, arrived.keyId);
        for (const hop of arrived.hops) texts.push(hop);
      }
      const { outcomes, vids } = addVersions(batch.collectionId, prepared, batch.contributorOrganisationId);
      const place: Placement = {
        collectionKey,
        peer: batch.peer,
        circleId: batch.circleId,
        source: batch.source,
        contributorOrganisationId: batch.contributorOrganisationId,
        receivedAt: batch.receivedAt,
      };
      const names = this.#internNames(texts);
      let added = 0;
      let quarantined = 0;
      for (let index = 0; index < outcomes.length; index += 1) {
        const outcome = outcomes[index] as AddOutcome;
        const arrived = batch.accepted[index];
        const version = prepared[index];
        const vid = vids[index];
        if (arrived === undefined || version === undefined) continue;
        if (outcome.kind === 'rejected') {
          const reason: QuarantineReason = outcome.code === 'ENT_OBJECT_REVOKED' ? 'revoked' : 'content-conflict';
          // The store's own words name nothing held (they reach the writer); the administrator's record says what stood in the way.
          this.#insertQuarantine(place, { objectId: outcome.id, version: outcome.version, reason, message: this.#refusalDetail(outcome), json: textOf(version.json) });
          quarantined += 1;
          continue;
        }
        if (outcome.kind === 'added') added += 1;
        if (vid === undefined || this.#homeEntry(outcome, vid, collectionKey)) continue;
        this.#insertProvenance(place, names, vid, arrived);
      }
      for (const item of batch.quarantined) {
        this.#insertQuarantine(place, item);
        quarantined += 1;
      }
      if (batch.peer !== undefined) {
        if (batch.pullCursor !== undefined) this.#sql.setPullCursor.run(batch.pullCursor.addedAfter ?? null, batch.pullCursor.next ?? null, batch.peer);
        if (added > 0 || quarantined > 0) this.#sql.addPulled.run(added, quarantined, batch.peer);
      }
      return { outcomes, quarantined };
    });
    return apply.immediate();
  }

  /**
   * What made the store refuse a version, for the quarantine record only: the held versions in the
   * way and the collections holding them. The refusal's own message, which the writer sees, names
   * neither (sqlite-object-store.ts, #addVersion).
   */
  #refusalDetail(outcome: Extract<AddOutcome, { kind: 'rejected' }>): string {
    const { id, version } = outcome;
    const rows = (this.#sql.selectVersionsOfId.all(id) as { version: string; revoked: number; collections: string | null }[]).sort((a, b) => compareVersions(a.version, b.version));
    const where = (row: { collections: string | null }): string => (row.collections === null ? 'no collection' : row.collections);
    if (outcome.code === 'ENT_OBJECT_REVOKED') {
      const revoked = rows.find((row) => row.revoked === 1 && compareVersions(version, row.version) > 0);
      if (revoked !== undefined) return `${id} was revoked in version ${revoked.version} (held in ${where(revoked)}); version ${version} cannot be added after it`;
    } else if (outcome.code === 'ENT_MARKING_IMMUTABLE') {
      if (rows.length > 0) return `marking definition ${id} is held in version ${rows.map((row) => `${row.version} (in ${where(row)})`).join(', ')}; marking definitions are never versioned`;
    } else {
      const same = rows.find((row) => row.version === version);
      if (same !== undefined) return `this node holds ${id} version ${version} with other content (in ${where(same)})`;
    }
    return outcome.message;
  }

  /**
   * A partner's arrival that found the version already in the collection, put there by the home
   * organisation itself (no partner contribution: the store's add path records none for such a
   * duplicate). It records no provenance: the entry stays the home organisation's, which no recall
   * takes back and whose origin a partner cannot claim by sending it again (docs/federation.md,
   * "Who may recall what").
   */
  #homeEntry(outcome: AddOutcome, vid: number, collectionKey: number): boolean {
    return outcome.kind === 'duplicate' && this.#sql.selectContributed.get(vid, collectionKey) === undefined;
  }

  #insertProvenance(
    place: Placement,
    names: ReadonlyMap<string, number>,
    vid: number,
    arrived: Pick<ArrivedObject, 'signer' | 'keyId' | 'verification' | 'hops'>,
  ): void {
    // No closure per row: at a million arriving versions, each allocation shows.
    // The JSON array of the hops' name keys, written out (integer keys, or null), without an array per row.
    let hops: string | null = null;
    for (const hop of arrived.hops) {
      const key = nameKeyOf(names, hop);
      const text = key === null ? 'null' : String(key);
      hops = hops === null ? `[${text}` : `${hops},${text}`;
    }
    if (hops !== null) hops += ']';
    this.#sql.insertProvenance.run(
      vid,
      place.collectionKey,
      nameKeyOf(names, place.peer) ?? NO_PEER,
      nameKeyOf(names, place.circleId),
      nameKeyOf(names, arrived.signer),
      nameKeyOf(names, arrived.keyId),
      VERIFICATION_CODES[arrived.verification],
      hops,
      nameKeyOf(names, place.receivedAt),
    );
  }

  /**
   * The provenance_names key of each distinct text, adding the new ones. Asked per batch (a handful
   * of signers, keys and hops per page) rather than cached, so that a rolled-back batch leaves no
   * stale key behind in memory.
   */
  #internNames(texts: readonly (string | undefined)[]): Map<string, number> {
    const keys = new Map<string, number>();
    for (const text of texts) {
      if (text === undefined || keys.has(text)) continue;
      this.#sql.insertName.run(text);
      const row = this.#sql.selectNameKey.get(text) as { key: number } | undefined;
      if (row !== undefined) keys.set(text, row.key);
    }
    return keys;
  }

  #insertQuarantine(place: Placement, item: { objectId: string; version: string; reason: QuarantineReason; message: string; json: string }): void {
    this.#sql.insertQuarantine.run(
      item.objectId,
      item.version,
      item.reason,
      item.message,
      item.json,
      place.peer ?? null,
      place.circleId ?? null,
      place.collectionKey,
      place.source,
      place.contributorOrganisationId,
      place.receivedAt,
    );
  }

  /** A version no collection holds any more is forgotten (deleteObject): so is where it came from, before its vid can be reused. */
  forgetVersion(vid: number): void {
    this.#sql.deleteProvenanceOfVersion.run(vid);
    // The same id and version may later come back with other content: a kept signature would then
    // leave with content it does not cover.
    this.#sql.deleteSignaturesOfVersion.run(vid);
  }

  #requireCollectionKey(collectionId: string): number {
    const row = this.#sql.selectCollectionKey.get(collectionId) as { key: number } | undefined;
    if (row === undefined) throw new EntenteError('ENT_COLLECTION_NOT_FOUND', `No collection with id "${collectionId}"`, { collectionId });
    return row.key;
  }

  // ---- What the node already holds ----

  /**
   * storedVersionsOf and originSignersOf of the same ids, read together: one statement first finds
   * which ids the node holds a version or a kept signature of (the only ones either can find), and
   * the two lookups run for those alone. Most arriving ids are new (an initial sync finds none):
   * one probe per id and table instead of three statements over every id.
   */
  arrivalHistoryOf(ids: readonly string[]): { versions: Map<string, StoredVersionText[]>; originSigners: Map<string, string> } {
    if (ids.length === 0) return { versions: new Map(), originSigners: new Map() };
    const held = this.#sql.selectHeldIds.all(JSON.stringify(ids)) as string[];
    if (held.length === 0) return { versions: new Map(), originSigners: new Map() };
    return { versions: this.storedVersionsOf(held), originSigners: this.originSignersOf(held) };
  }

  storedVersionsOf(ids: readonly string[]): Map<string, StoredVersionText[]> {
    const found = new Map<string, StoredVersionText[]>();
    if (ids.length === 0) return found;
    const rows = this.#sql.selectVersionTexts.all(JSON.stringify(ids)) as { object_id: string; version: string; json: string; origin_signature: string | null }[];
    for (const row of rows) {
      const list = found.get(row.object_id);
      const stored: StoredVersionText = row.origin_signature === null ? { version: row.version, json: row.json } : { version: row.version, json: row.json, originSignature: row.origin_signature };
      if (list === undefined) found.set(row.object_id, [stored]);
      else list.push(stored);
    }
    for (const list of found.values()) list.sort((a, b) => compareVersions(a.version, b.version));
    return found;
  }

  originSignersOf(ids: readonly string[]): Map<string, string> {
    const found = new Map<string, string>();
    if (ids.length === 0) return found;
    const json = JSON.stringify(ids);
    const best = new Map<string, { version: string; receivedAt: string; signer: string }>();
    for (const row of this.#sql.selectOriginFromProvenance.all(json) as { object_id: string; version: string; signer: string; received_at: string }[]) {
      const current = best.get(row.object_id);
      // Earliest version first (what introduced the id), then the first time it was received.
      const order = current === undefined ? -1 : compareVersions(row.version, current.version) || (row.received_at < current.receivedAt ? -1 : 0);
      if (order < 0) best.set(row.object_id, { version: row.version, receivedAt: row.received_at, signer: row.signer });
    }
    for (const [id, origin] of best) found.set(id, origin.signer);
    const signed = new Map<string, { version: string; signer: string }>();
    for (const row of this.#sql.selectOriginFromSignatures.all(json, json) as { object_id: string; version: string; signer: string }[]) {
      if (found.has(row.object_id)) continue;
      const current = signed.get(row.object_id);
      if (current === undefined || compareVersions(row.version, current.version) < 0) signed.set(row.object_id, { version: row.version, signer: row.signer });
    }
    for (const [id, origin] of signed) found.set(id, origin.signer);
    return found;
  }

  provenanceOf(versions: readonly { readonly id: string; readonly version: string }[]): Map<string, ProvenanceRecord[]> {
    const found = new Map<string, ProvenanceRecord[]>();
    if (versions.length === 0) return found;
    const rows = this.#sql.selectProvenance.all(JSON.stringify(versions.map(({ id, version }) => [id, version]))) as ProvenanceRow[];
    const hopsOf = this.#hopDecoder(rows);
    for (const row of rows) {
      const key = versionKey(row.wanted_id, row.wanted_version);
      const record: ProvenanceRecord = {
        id: row.wanted_id,
        version: row.version,
        collectionId: row.collection_id,
        peer: row.peer ?? undefined,
        circleId: row.circle_id ?? undefined,
        signer: row.signer ?? undefined,
        keyId: row.key_id ?? undefined,
        verification: VERIFICATIONS[row.verification] ?? 'unverified',
        hops: hopsOf(row.hops),
        receivedAt: row.received_at,
      };
      const list = found.get(key);
      if (list === undefined) found.set(key, [record]);
      // The same (id, version) asked twice must not list its rows twice.
      else if (!list.some((other) => other.collectionId === record.collectionId && other.peer === record.peer)) list.push(record);
    }
    return found;
  }

  arrivalsOfEntries(collectionId: string, dateAdded: readonly number[]): Map<number, EntryArrivals> {
    const collectionKey = this.#requireCollectionKey(collectionId);
    const found = new Map<number, { arrivals: VersionArrival[]; contributors: string[] }>();
    if (dateAdded.length === 0) return found;
    const rows = this.#sql.selectEntryArrivals.all(JSON.stringify(dateAdded), collectionKey) as [
      number,
      number | null,
      number | null,
      number | null,
      number | null,
      number | null,
      string | null,
    ][];
    const keys = new Set<number>();
    for (const [, , signer, peer, receivedAt, deliveredBy] of rows) {
      for (const key of [signer, peer, receivedAt, deliveredBy]) if (key !== null) keys.add(key);
    }
    const names = new Map<number, string>();
    if (keys.size > 0) {
      for (const row of this.#sql.selectNames.all(JSON.stringify([...keys])) as { key: number; name: string }[]) names.set(row.key, row.name);
    }
    const nameOf = (key: number | null): string | undefined => (key === null ? undefined : names.get(key));
    for (const [entry, verification, signer, peer, receivedAt, deliveredBy, contributors] of rows) {
      if (verification === null) {
        const organisations = contributors === null ? [] : (JSON.parse(contributors) as string[]);
        if (organisations.length > 0) found.set(entry, { arrivals: [], contributors: organisations });
        continue;
      }
      const arrival: VersionArrival = {
        verification: VERIFICATIONS[verification] ?? 'unverified',
        signer: nameOf(signer),
        peer: nameOf(peer),
        deliveredBy: nameOf(deliveredBy),
        receivedAt: nameOf(receivedAt) ?? '',
      };
      const known = found.get(entry);
      if (known === undefined) found.set(entry, { arrivals: [arrival], contributors: [] });
      else known.arrivals.push(arrival);
    }
    return found;
  }

  /** Turns the stored hops (JSON arrays of name keys) of these rows back into names, with one query for all of them. */
  #hopDecoder(rows: readonly ProvenanceRow[]): (hops: string | null) => string[] {
    const keys = new Set<number>();
    for (const row of rows) if (row.hops !== null) for (const key of JSON.parse(row.hops) as number[]) keys.add(key);
    const names = new Map<number, string>();
    if (keys.size > 0) {
      for (const row of this.#sql.selectNames.all(JSON.stringify([...keys])) as { key: number; name: string }[]) names.set(row.key, row.name);
    }
    return (hops) => (hops === null ? [] : (JSON.parse(hops) as number[]).map((key) => names.get(key) ?? ''));
  }

  // ---- Signatures ----

  // The stored form's signature (variant '') is kept on the version's row (migration 14), the
  // redacted forms' in the signatures table, and so is a stored form's whose version is not held.
  signaturesIn(keys: readonly SignatureKey[]): (string | undefined)[] {
    const found = new Array<string | undefined>(keys.length).fill(undefined);
    const origins: number[] = [];
    const derived: number[] = [];
    keys.forEach((key, index) => (key.variant === '' ? origins : derived).push(index));
    const read = (statement: Statement, positions: readonly number[], withVariant: boolean): void => {
      if (positions.length === 0) return;
      const wanted = positions.map((index) => {
        const key = keys[index] as SignatureKey;
        return withVariant ? [key.id, key.version, key.variant] : [key.id, key.version];
      });
      for (const [position, extensionJson] of statement.all(JSON.stringify(wanted)) as [number, string][]) {
        const index = positions[position];
        if (index !== undefined) found[index] = extensionJson;
      }
    };
    read(this.#sql.selectOriginSignatures, origins, false);
    // A stored form's signature kept while its version was not held is in the signatures table.
    read(this.#sql.selectSignatures, [...derived, ...origins.filter((index) => found[index] === undefined)], true);
    return found;
  }

  putSignatures(signatures: readonly (SignatureKey & { readonly extensionJson: string; readonly signer: string })[]): void {
    if (signatures.length === 0) return;
    const put = this.#db.transaction(() => {
      for (const signature of signatures) {
        // Kept once, as the signatures table's INSERT OR IGNORE keeps it: the same bytes leave every time.
        const { id, version, variant, extensionJson, signer } = signature;
        if (variant !== '') this.#sql.insertSignature.run(id, version, variant, extensionJson, signer);
        else if (this.#sql.setOriginSignature.run({ id, version, extensionJson }).changes === 0) this.#sql.insertUnheldOriginSignature.run({ id, version, extensionJson, signer });
      }
    });
    put.immediate();
  }

  // ---- Quarantine ----

  listQuarantine(filter: QuarantineFilter): QuarantineRecord[] {
    const limit = Number.isFinite(filter.limit) ? Math.max(0, Math.floor(filter.limit)) : 0;
    const rows = this.#sql.listQuarantine.all({
      after: filter.afterSeq ?? 0,
      open: filter.unresolvedOnly === false ? 0 : 1,
      peer: filter.peer ?? null,
      reason: filter.reason ?? null,
      limit,
    }) as QuarantineRow[];
    return rows.map(toQuarantineRecord);
  }

  getQuarantined(seq: number): QuarantineRecord | undefined {
    const row = this.#sql.selectQuarantined.get(seq) as QuarantineRow | undefined;
    return row === undefined ? undefined : toQuarantineRecord(row);
  }

  /** Adds the item through the store's add path; a refusal leaves the item open and is returned as is. */
  releaseQuarantined(seq: number, by: string, at: string, addVersions: AddVersions): AddOutcome {
    const release = this.#db.transaction((): AddOutcome => {
      const item = this.#requireOpenItem(seq);
      const prepared = prepareVersion(parseQuarantined(item));
      // The partner gave it when it arrived, not when a person released it: a loosening in between
      // must not widen what was given under stricter terms.
      const added = addVersions(item.collection_id, [prepared], item.contributor_organisation_id, item.received_at);
      const [outcome] = added.outcomes;
      const [vid] = added.vids;
      if (outcome === undefined) throw new Error('the store returned no outcome for a released item');
      if (outcome.kind === 'rejected' || vid === undefined) return outcome;
      const collectionKey = this.#requireCollectionKey(item.collection_id);
      if (this.#homeEntry(outcome, vid, collectionKey)) {
        this.#sql.resolveQuarantined.run('released', by, at, seq);
        return outcome;
      }
      const place: Placement = {
        collectionKey,
        peer: item.peer ?? undefined,
        circleId: item.circle_id ?? undefined,
        source: sourceOf(item.source),
        contributorOrganisationId: item.contributor_organisation_id,
        receivedAt: item.received_at,
      };
      this.#insertProvenance(
        place,
        this.#internNames([place.peer, place.circleId, place.receivedAt]),
        vid,
        { signer: undefined, keyId: undefined, verification: 'unverified', hops: [] },
      );
      this.#sql.resolveQuarantined.run('released', by, at, seq);
      return outcome;
    });
    return release.immediate();
  }

  dropQuarantined(seq: number, by: string, at: string): void {
    const drop = this.#db.transaction(() => {
      this.#requireOpenItem(seq);
      this.#sql.resolveQuarantined.run('dropped', by, at, seq);
    });
    drop.immediate();
  }

  #requireOpenItem(seq: number): QuarantineRow {
    const row = this.#sql.selectQuarantined.get(seq) as QuarantineRow | undefined;
    if (row === undefined) throw new EntenteError('ENT_QUARANTINE_NOT_FOUND', `no quarantined item ${seq} (entente quarantine list)`, { seq });
    if (row.resolution !== null) {
      throw new EntenteError(
        'ENT_QUARANTINE_RESOLVED',
        `quarantined item ${seq} was already ${row.resolution} by ${row.resolved_by ?? '?'} at ${row.resolved_at ?? '?'}`,
        { seq, resolution: row.resolution },
      );
    }
    return row;
  }

  // ---- Keys ----

  listNodeKeys(): NodeKeyRecord[] {
    return (this.#sql.selectNodeKeys.all() as NodeKeyRow[]).map((row) => ({
      keyId: row.key_id,
      publicKey: row.public_key,
      privateKey: row.private_key,
      validFrom: row.valid_from,
      validUntil: row.valid_until ?? undefined,
      rotationStatement: row.rotation_statement ?? undefined,
      createdAt: row.created_at,
    }));
  }

  addNodeKey(key: NodeKeyRecord): void {
    this.#sql.insertNodeKey.run(key.keyId, key.publicKey, key.privateKey, key.validFrom, key.validUntil ?? null, key.rotationStatement ?? null, key.createdAt);
  }

  retireNodeKey(keyId: string, validUntil: string): void {
    if (this.#sql.retireNodeKey.run(validUntil, keyId).changes === 0) {
      throw new EntenteError('ENT_KEY_NOT_FOUND', `no signing key ${keyId.slice(0, 64)} (entente key show)`, { keyId: keyId.slice(0, 64) });
    }
  }

  changeNodeKeys<T>(decide: (keys: readonly NodeKeyRecord[]) => NodeKeyChange<T>): T {
    // Read and written under one lock taken before the read: see FederationStore.changeNodeKeys.
    const change = this.#db.transaction((): T => {
      const { add, ends, result } = decide(this.listNodeKeys());
      this.addNodeKey(add);
      for (const end of ends) this.retireNodeKey(end.keyId, end.validUntil);
      return result;
    });
    return change.immediate();
  }

  /**
   * A key id belongs to one organisation: pinning it for another is refused, and so is pinning one of
   * this node's own keys, which are the home organisation's. Pinning a key again only ever narrows
   * its window (the later start, the earlier end, an end never removed), so that a rotated-out key
   * cannot be reopened by whoever still holds it.
   */
  pinKey(key: PinnedKeyRecord): void {
    const pin = this.#db.transaction(() => {
      // Here, not only in the callers' reads before (acceptAgreement, a mirror refresh): a key another
      // process added to this node's keys since would otherwise be pinned for a partner as well.
      if (this.#sql.selectNodeKeyById.get(key.keyId) !== undefined) {
        throw new EntenteError('ENT_PEER_KEY_MISMATCH', `Key ${key.keyId} is this node's own; it cannot be pinned for ${key.organisationId}`, { keyId: key.keyId });
      }
      const held = this.#sql.selectPinnedKeyById.all(key.keyId) as PinnedKeyRow[];
      const other = held.find((row) => row.organisation_id !== key.organisationId);
      if (other !== undefined) {
        throw new EntenteError('ENT_PEER_KEY_MISMATCH', `Key ${key.keyId} is pinned for ${other.organisation_id}; it cannot also be ${key.organisationId}'s`, { keyId: key.keyId });
      }
      const same = held[0];
      const later = (a: string, b: string): string => (Date.parse(a) >= Date.parse(b) ? a : b);
      const earlier = (a: string, b: string): string => (Date.parse(a) <= Date.parse(b) ? a : b);
      const validFrom = same === undefined ? key.validFrom : later(same.valid_from, key.validFrom);
      const heldUntil = same?.valid_until ?? undefined;
      const validUntil = heldUntil === undefined ? key.validUntil : key.validUntil === undefined ? heldUntil : earlier(heldUntil, key.validUntil);
      this.#sql.upsertPinnedKey.run(key.organisationId, key.keyId, key.publicKey, validFrom, validUntil ?? null, key.source, key.pinnedAt);
    });
    pin.immediate();
  }

  /** See FederationStore.pinFirstKeys. */
  pinFirstKeys(organisationId: string, keys: readonly Omit<PinnedKeyRecord, 'organisationId'>[]): number {
    // The organisation's keys read in the transaction that pins, taken before the read: a key another
    // process pinned for it meanwhile (`peer add`) is found, not pinned beside.
    const pin = this.#db.transaction((): number => {
      if (this.#sql.selectPinnedKeysOf.all(organisationId).length > 0) return 0;
      const pinned = new Set<string>();
      for (const key of keys) {
        if (pinned.has(key.keyId) || this.#sql.selectNodeKeyById.get(key.keyId) !== undefined) continue;
        if ((this.#sql.selectPinnedKeyById.all(key.keyId) as PinnedKeyRow[]).length > 0) continue;
        this.pinKey({ ...key, organisationId });
        pinned.add(key.keyId);
      }
      return pinned.size;
    });
    return pin.immediate();
  }

  listPinnedKeys(organisationId?: string): PinnedKeyRecord[] {
    const rows = (organisationId === undefined ? this.#sql.selectPinnedKeys.all() : this.#sql.selectPinnedKeysOf.all(organisationId)) as PinnedKeyRow[];
    return rows.map((row) => ({
      organisationId: row.organisation_id,
      keyId: row.key_id,
      publicKey: row.public_key,
      validFrom: row.valid_from,
      validUntil: row.valid_until ?? undefined,
      source: row.source,
      pinnedAt: row.pinned_at,
    }));
  }

  // ---- Flash messages ----

  addFlash(flash: FlashRecord, quota?: FlashQuota): boolean {
    const add = this.#db.transaction((): boolean => {
      // Counted in the transaction that adds it: deliveries counted first and added after, each in a
      // call of its own, all found room under the limit when they came at once (workers, or one
      // process's requests interleaving), and all were kept.
      if (quota !== undefined && this.#sql.selectFlash.get(flash.id) === undefined) {
        const { n } = this.#sql.countReceivedFlashes.get(flash.senderOrganisationId, quota.since) as { n: number };
        if (n >= quota.limit) {
          throw new EntenteError('ENT_FLASH_RATE_LIMITED', `${flash.senderOrganisationId} delivered ${n} flashes here in the last hour; at most ${quota.limit}`, { sender: flash.senderOrganisationId, limit: quota.limit });
        }
      }
      const result = this.#sql.insertFlash.run(
        flash.id,
        flash.circleId,
        flash.direction,
        flash.senderOrganisationId,
        flash.text,
        flash.indicatorId ?? null,
        flash.sentAt,
        flash.signedJson,
        flash.receivedAt ?? null,
        flash.acknowledged?.by ?? null,
        flash.acknowledged?.at ?? null,
      );
      if (result.changes === 0) return false;
      for (const receipt of flash.receipts) this.#upsertReceipt(flash.id, receipt);
      return true;
    });
    return add.immediate();
  }

  getFlash(id: string): FlashRecord | undefined {
    const row = this.#sql.selectFlash.get(id) as FlashRow | undefined;
    return row === undefined ? undefined : this.#withReceipts([row])[0];
  }

  listFlashes(filter: { readonly circleId?: string; readonly limit: number }): FlashRecord[] {
    const limit = Number.isFinite(filter.limit) ? Math.max(0, Math.floor(filter.limit)) : 0;
    const rows = (filter.circleId === undefined ? this.#sql.selectFlashes.all(limit) : this.#sql.selectFlashesOfCircle.all(filter.circleId, limit)) as FlashRow[];
    return this.#withReceipts(rows);
  }

  countReceivedFlashes(senderOrganisationId: string, since: string): number {
    return (this.#sql.countReceivedFlashes.get(senderOrganisationId, since) as { n: number }).n;
  }

  recordFlashReceipt(flashId: string, receipt: FlashReceipt): void {
    const record = this.#db.transaction(() => {
      if (this.#sql.selectFlash.get(flashId) === undefined) throw flashNotFound(flashId);
      this.#upsertReceipt(flashId, receipt);
    });
    record.immediate();
  }

  acknowledgeFlash(flashId: string, by: string, at: string): void {
    const acknowledge = this.#db.transaction(() => {
      if (this.#sql.selectFlash.get(flashId) === undefined) throw flashNotFound(flashId);
      // A second acknowledgement keeps the first.
      this.#sql.acknowledgeFlash.run(by, at, flashId);
    });
    acknowledge.immediate();
  }

  #upsertReceipt(flashId: string, receipt: FlashReceipt): void {
    this.#sql.upsertReceipt.run({
      flash: flashId,
      organisation: receipt.organisationId,
      delivered: receipt.deliveredAt ?? null,
      deliveredFlash: receipt.deliveredFlashId ?? null,
      acknowledged: receipt.acknowledgedAt ?? null,
      acknowledgedBy: receipt.acknowledgedBy ?? null,
      error: receipt.lastError ?? null,
    });
  }

  #withReceipts(rows: readonly FlashRow[]): FlashRecord[] {
    if (rows.length === 0) return [];
    const receipts = new Map<string, FlashReceipt[]>();
    for (const row of this.#sql.selectReceipts.all(JSON.stringify(rows.map((flash) => flash.id))) as FlashReceiptRow[]) {
      const receipt: FlashReceipt = {
        organisationId: row.organisation_id,
        ...(row.delivered_at === null ? {} : { deliveredAt: row.delivered_at }),
        ...(row.delivered_flash_id === null ? {} : { deliveredFlashId: row.delivered_flash_id }),
        ...(row.acknowledged_at === null ? {} : { acknowledgedAt: row.acknowledged_at }),
        ...(row.acknowledged_by === null ? {} : { acknowledgedBy: row.acknowledged_by }),
        ...(row.last_error === null ? {} : { lastError: row.last_error }),
      };
      const list = receipts.get(row.flash_id);
      if (list === undefined) receipts.set(row.flash_id, [receipt]);
      else list.push(receipt);
    }
    return rows.map((row) => ({
      id: row.id,
      circleId: row.circle_id,
      direction: row.direction === 'sent' ? 'sent' : 'received',
      senderOrganisationId: row.sender_organisation_id,
      text: row.text,
      indicatorId: row.indicator_id ?? undefined,
      sentAt: row.sent_at,
      signedJson: row.signed_json,
      receivedAt: row.received_at ?? undefined,
      acknowledged: row.acknowledged_at === null ? undefined : { by: row.acknowledged_by ?? '', at: row.acknowledged_at },
      receipts: receipts.get(row.id) ?? [],
    }));
  }

  // ---- Recall notices ----

  markRecalls(
    filter: { readonly circleId: string; readonly organisationId: string; readonly versions?: readonly { readonly id: string; readonly version: string }[] },
    change: { readonly deliveredAt?: string; readonly acknowledgedAt?: string },
  ): number {
    if (change.deliveredAt === undefined && change.acknowledgedAt === undefined) return 0;
    const base = { circle: filter.circleId, organisation: filter.organisationId, delivered: change.deliveredAt ?? null, acknowledged: change.acknowledgedAt ?? null };
    const mark = this.#db.transaction((): number => {
      if (filter.versions === undefined) return this.#sql.markRecalls.run(base).changes;
      let changed = 0;
      for (const { id, version } of filter.versions) {
        // The receiver may spell the instant differently (…:00Z, …:00.000Z).
        changed += this.#sql.markRecallsOfVersion.run({ ...base, id, versions: JSON.stringify(equivalentVersionKeys(version)) }).changes;
      }
      return changed;
    });
    return mark.immediate();
  }

  // ---- Recalls received ----

  recordReceivedRecall(recall: NewReceivedRecall): { seq: number; repeated: boolean } {
    const digest = versionsDigest(recall.versions);
    const record = this.#db.transaction((): { seq: number; repeated: boolean } => {
      if (!recall.versions.some((version) => version.outcome === 'removed')) {
        const earlier = this.#sql.selectRecallRepeat.get(digest, recall.circleId, recall.senderOrganisationId) as { seq: number } | undefined;
        if (earlier !== undefined) return { seq: earlier.seq, repeated: true };
      }
      const seq = Number(
        this.#sql.insertReceivedRecall.run(
          recall.circleId,
          recall.senderOrganisationId,
          recall.authority,
          recall.reason,
          recall.receivedAt,
          recall.signedJson,
          digest,
        ).lastInsertRowid,
      );
      recall.versions.forEach((version, position) => {
        const provenance = version.provenance;
        this.#sql.insertReceivedRecallVersion.run(
          seq,
          position,
          version.id,
          version.version,
          version.outcome,
          provenance?.signer ?? null,
          provenance?.peer ?? null,
          provenance?.verification ?? null,
          provenance?.receivedAt ?? null,
        );
      });
      return { seq, repeated: false };
    });
    return record.immediate();
  }

  listReceivedRecalls(filter: ReceivedRecallFilter): ReceivedRecallRecord[] {
    const limit = Number.isFinite(filter.limit) ? Math.max(0, Math.floor(filter.limit)) : 0;
    const rows = this.#sql.listReceivedRecalls.all({ circle: filter.circleId ?? null, before: filter.beforeSeq ?? null, limit }) as ReceivedRecallRow[];
    if (rows.length === 0) return [];
    const versions = new Map<number, ReceivedRecallVersion[]>();
    for (const row of this.#sql.selectReceivedRecallVersions.all(JSON.stringify(rows.map((recall) => recall.seq))) as ReceivedRecallVersionRow[]) {
      const list = versions.get(row.recall_seq) ?? [];
      list.push(toReceivedRecallVersion(row));
      versions.set(row.recall_seq, list);
    }
    return rows.map((row) => ({
      seq: row.seq,
      circleId: row.circle_id,
      senderOrganisationId: row.sender_organisation_id,
      authority: row.authority === 'origin' ? 'origin' : 'coordinator',
      reason: row.reason,
      receivedAt: row.received_at,
      signedJson: row.signed_json,
      versions: versions.get(row.seq) ?? [],
    }));
  }
}

/** The versions a recall names, in any order: what a recall sent again names too. */
function versionsDigest(versions: readonly { readonly id: string; readonly version: string }[]): string {
  const named = versions.map((version) => `${version.id}\u0000${version.version}`).sort();
  return createHash('sha256').update(named.join('\u0001'), 'utf8').digest('hex');
}

function toReceivedRecallVersion(row: ReceivedRecallVersionRow): ReceivedRecallVersion {
  // A word this program does not know (a row from a newer version) reads as the least it can mean.
  const outcome = row.outcome === 'removed' || row.outcome === 'kept' ? row.outcome : 'absent';
  const verification = (VERIFICATIONS as readonly string[]).includes(row.verification ?? '') ? (row.verification as Verification) : 'unverified';
  return {
    id: row.object_id,
    version: row.version,
    outcome,
    provenance:
      row.provenance_received_at === null
        ? undefined
        : { signer: row.signer ?? undefined, peer: row.peer ?? undefined, verification, receivedAt: row.provenance_received_at },
  };
}

interface Placement {
  readonly collectionKey: number;
  readonly peer: string | undefined;
  readonly circleId: string | undefined;
  readonly source: SyncBatch['source'];
  readonly contributorOrganisationId: string;
  readonly receivedAt: string;
}


function toPeer(row: PeerRow): PeerRecord {
  return {
    name: row.name,
    url: row.url,
    apiRootUrl: row.api_root_url,
    token: row.token,
    circleId: row.circle_id,
    localCollectionId: row.local_collection_id,
    remoteCollectionId: row.remote_collection_id,
    organisationId: row.organisation_id,
    kind: row.kind === 'entente' ? 'entente' : 'plain',
    push: row.push === 1,
    intervalSeconds: row.interval_seconds,
    silentAfter: row.silent_after,
    createdAt: row.created_at,
  };
}

function sourceOf(source: string): SyncBatch['source'] {
  return source === 'push' || source === 'file' ? source : 'pull';
}

function toQuarantineRecord(row: QuarantineRow): QuarantineRecord {
  // A reason this program does not know (a row from a newer version) reads as malformed: never as accepted.
  const reason = (QUARANTINE_REASONS as readonly string[]).includes(row.reason) ? (row.reason as QuarantineReason) : 'malformed';
  return {
    seq: row.seq,
    objectId: row.object_id,
    version: row.version,
    reason,
    message: row.message,
    json: row.json,
    peer: row.peer ?? undefined,
    circleId: row.circle_id ?? undefined,
    collectionId: row.collection_id,
    source: sourceOf(row.source),
    contributorOrganisationId: row.contributor_organisation_id,
    receivedAt: row.received_at,
    resolution:
      row.resolution === null
        ? undefined
        : { kind: row.resolution === 'released' ? 'released' : 'dropped', by: row.resolved_by ?? '', at: row.resolved_at ?? '' },
  };
}

/** The quarantined text as an object the store can write: JSON, an object, with string id and type. The checks themselves belong to federation. */
function parseQuarantined(row: QuarantineRow): StixObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.json) as unknown;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EntenteError('ENT_OBJECT_INVALID', `quarantined item ${row.seq} is not a JSON object and cannot be released`, { seq: row.seq });
  }
  const record = parsed as Record<string, unknown>;
  if (typeof record['id'] !== 'string' || typeof record['type'] !== 'string') {
    throw new EntenteError('ENT_OBJECT_INVALID', `quarantined item ${row.seq} has no STIX id and type and cannot be released`, { seq: row.seq });
  }
  return parsed as StixObject;
}

function peerNotFound(name: string): EntenteError {
  return new EntenteError('ENT_PEER_NOT_FOUND', `no peer named "${name.slice(0, 64)}" (entente peer list)`, { peer: name.slice(0, 64) });
}

function flashNotFound(id: string): EntenteError {
  return new EntenteError('ENT_FLASH_NOT_FOUND', `no flash message ${id.slice(0, 80)}`, { flashId: id.slice(0, 80) });
}

function isConstraintViolation(error: unknown): boolean {
  return (error as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') === true;
}
