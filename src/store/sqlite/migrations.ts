/**
 * Schema migrations of the SQLite store, applied in order. Migration N (1-based) brings a database
 * from `PRAGMA user_version = N-1` to N. Never edit a migration that has shipped: append a new one.
 */
export const migrations: readonly string[] = [
  /* 1: collections, object versions, collection entries, search index, status, tokens, node meta */ `
  CREATE TABLE collections (
    key INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT,
    alias TEXT UNIQUE,
    created_at TEXT NOT NULL,
    -- Kept here rather than derived from max(entries.date_added): after a delete the maximum can
    -- fall, and reusing a smaller dateAdded would hide new entries from clients holding a cursor.
    last_date_added INTEGER NOT NULL DEFAULT 0
  );

  -- One row per (id, version): the JSON is stored once however many collections hold the version.
  CREATE TABLE object_versions (
    vid INTEGER PRIMARY KEY,
    object_id TEXT NOT NULL,
    version TEXT NOT NULL,
    type TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    revoked INTEGER NOT NULL,
    json TEXT NOT NULL,
    UNIQUE (object_id, version)
  );

  -- One row per version per collection. The primary key is the keyset cursor; the flags make the
  -- TAXII version selectors (first, last) plain filters on that scan instead of grouping per page.
  CREATE TABLE entries (
    collection_key INTEGER NOT NULL REFERENCES collections (key),
    date_added INTEGER NOT NULL,
    vid INTEGER NOT NULL REFERENCES object_versions (vid),
    is_latest INTEGER NOT NULL,
    is_first INTEGER NOT NULL,
    PRIMARY KEY (collection_key, date_added)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX entries_by_version ON entries (vid, collection_key);

  -- Contentless: the text lives in object_versions.json already. rowid = vid of a version that is
  -- the latest in at least one collection.
  CREATE VIRTUAL TABLE object_text USING fts5 (
    name, description, aliases,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
  );

  CREATE TABLE statuses (
    id TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL,
    token_name TEXT NOT NULL,
    request_timestamp TEXT NOT NULL,
    total_count INTEGER NOT NULL,
    successes TEXT NOT NULL,
    failures TEXT NOT NULL
  );

  CREATE TABLE tokens (
    name TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    admin INTEGER NOT NULL,
    grants TEXT NOT NULL,
    organisation_id TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );

  CREATE TABLE node_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  /* 2: partner organisations (the home organisation stays in node_meta) */ `
  CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    sectors TEXT NOT NULL,
    country TEXT,
    identity_json TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  `,
  /* 3: circles, agreement versions and acceptances, the audit log, recall notices */ `
  CREATE TABLE circles (
    id TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL UNIQUE,
    document TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  -- Agreement versions are appended, never replaced: a member's acceptance names the version it read.
  CREATE TABLE agreements (
    circle_id TEXT NOT NULL REFERENCES circles (id),
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (circle_id, version)
  );

  CREATE TABLE agreement_acceptances (
    circle_id TEXT NOT NULL REFERENCES circles (id),
    organisation_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (circle_id, organisation_id, version)
  );

  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    recipient_organisation_id TEXT NOT NULL,
    circle_id TEXT NOT NULL,
    at TEXT NOT NULL,
    entry TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX audit_by_recipient ON audit_log (recipient_organisation_id, at);
  -- Append-only inside the database too: an UPDATE or DELETE through SQL is refused, and any change
  -- made around SQLite breaks the hash chain, which 'entente audit verify' reports.
  CREATE TRIGGER audit_log_is_append_only_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_log_is_append_only_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

  CREATE TABLE recall_notices (
    seq INTEGER PRIMARY KEY,
    circle_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    version TEXT NOT NULL,
    reason TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    delivered_at TEXT,
    UNIQUE (circle_id, organisation_id, object_id, version)
  );
  `,
  /* 4: which partner organisation contributed which version to which collection (onward sharing); counter-proposals */ `
  CREATE TABLE contributions (
    vid INTEGER NOT NULL REFERENCES object_versions (vid),
    collection_key INTEGER NOT NULL REFERENCES collections (key),
    organisation_id TEXT NOT NULL,
    PRIMARY KEY (vid, collection_key, organisation_id)
  ) WITHOUT ROWID;

  -- A member's counter-proposal: terms it would accept instead. Binds nobody; a coordinator may
  -- adopt it by proposing it as the next version.
  CREATE TABLE agreement_counters (
    seq INTEGER PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles (id),
    organisation_id TEXT NOT NULL,
    based_on_version INTEGER NOT NULL,
    document TEXT NOT NULL,
    proposed_at TEXT NOT NULL
  );
  `,
  /* 5: drafts (what extraction and tagging proposed from a report) and their items, with the analyst's decisions */ `
  CREATE TABLE drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    format TEXT NOT NULL,
    title TEXT NOT NULL,
    -- The text read from the report: evidence offsets point into it.
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT,
    -- Pages and warnings (JSON).
    details TEXT NOT NULL,
    -- Set once, when the draft is published (JSON).
    publication TEXT
  );

  CREATE TABLE draft_items (
    draft_id INTEGER NOT NULL REFERENCES drafts (id),
    item_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    -- The proposal, its evidence and the decision (JSON).
    document TEXT NOT NULL,
    PRIMARY KEY (draft_id, item_id)
  ) WITHOUT ROWID;
  `,
  /* 6: webhooks that receive alerts, and the log of their deliveries */ `
  CREATE TABLE webhooks (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    -- The HMAC-SHA256 key the receiver verifies X-Entente-Signature with.
    secret TEXT NOT NULL,
    min_severity TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY,
    webhook TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    at TEXT NOT NULL
  );
  CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook, seq);
  `,
  /* 7: federation: peers and their sync state, provenance, quarantine, signatures, keys, flash messages, recall acknowledgement */ `
  -- A link to one collection on another TAXII 2.1 server, for one local circle.
  CREATE TABLE peers (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    api_root_url TEXT NOT NULL,
    -- The bearer token the peer issued to this node; never printed or logged.
    token TEXT NOT NULL,
    circle_id TEXT NOT NULL,
    local_collection_id TEXT NOT NULL,
    remote_collection_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    push INTEGER NOT NULL,
    interval_seconds INTEGER NOT NULL,
    silent_after INTEGER NOT NULL,
    created_at TEXT NOT NULL
  ) WITHOUT ROWID;

  -- One row per peer, written in the same transaction as the data a pull stored. The pull cursor is
  -- the peer's own date_added string and/or its next token, never this node's clock.
  CREATE TABLE peer_state (
    peer TEXT PRIMARY KEY REFERENCES peers (name) ON DELETE CASCADE,
    pull_added_after TEXT,
    pull_next TEXT,
    push_cursor INTEGER,
    last_attempt_at TEXT,
    last_success_at TEXT,
    last_error_code TEXT,
    last_error_message TEXT,
    last_error_at TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    objects_in INTEGER NOT NULL DEFAULT 0,
    objects_out INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;

  -- Where each received version came from: one row per (version, collection, peer link), so that a
  -- version arriving again through another peer gets its own row and a repeat through the same one
  -- is ignored. A node holds millions of these, and their text repeats (a few signers, keys, peers,
  -- circles, one arrival time per page), so every text is stored once in provenance_names and a row
  -- holds small integers: about 30 bytes instead of 250 with two hops. peer 0: none (a file);
  -- verification 1 verified, 2 derived, 0 unverified; hops a JSON array of name keys, NULL when empty.
  -- Lookups by object id go through object_versions (object_id, version) to the vid prefix of the
  -- key, so no other index is needed.
  CREATE TABLE provenance_names (
    key INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
  );

  CREATE TABLE provenance (
    vid INTEGER NOT NULL REFERENCES object_versions (vid),
    collection_key INTEGER NOT NULL REFERENCES collections (key),
    peer INTEGER NOT NULL,
    circle INTEGER,
    signer INTEGER,
    key_id INTEGER,
    verification INTEGER NOT NULL,
    hops TEXT,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (vid, collection_key, peer)
  ) WITHOUT ROWID;

  -- Arrivals that failed a check (or that the store refused), kept whole until a human releases or drops them.
  CREATE TABLE quarantine (
    seq INTEGER PRIMARY KEY,
    object_id TEXT NOT NULL,
    version TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    json TEXT NOT NULL,
    peer TEXT,
    circle_id TEXT,
    collection_key INTEGER NOT NULL REFERENCES collections (key),
    source TEXT NOT NULL,
    contributor_organisation_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    resolution TEXT,
    resolved_by TEXT,
    resolved_at TEXT
  );
  CREATE INDEX quarantine_open ON quarantine (seq) WHERE resolution IS NULL;

  -- Signatures this node made, kept so that the same bytes leave every time. variant '' is the
  -- version as stored; a derived (redacted) form has the SHA-256 of its signed bytes.
  CREATE TABLE signatures (
    object_id TEXT NOT NULL,
    version TEXT NOT NULL,
    variant TEXT NOT NULL,
    extension_json TEXT NOT NULL,
    signer TEXT NOT NULL,
    PRIMARY KEY (object_id, version, variant)
  ) WITHOUT ROWID;

  -- The node's own Ed25519 key pairs (the private key never leaves the node).
  CREATE TABLE node_keys (
    key_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    private_key TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    rotation_statement TEXT,
    created_at TEXT NOT NULL
  );

  -- Other organisations' keys this node trusts, with their validity windows and where they came from.
  CREATE TABLE pinned_keys (
    organisation_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    source TEXT NOT NULL,
    pinned_at TEXT NOT NULL,
    PRIMARY KEY (organisation_id, key_id)
  ) WITHOUT ROWID;

  -- Flash messages sent and received (rowid order is the order this node stored them), and what
  -- each member's node said about a sent one.
  CREATE TABLE flashes (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    sender_organisation_id TEXT NOT NULL,
    text TEXT NOT NULL,
    indicator_id TEXT,
    sent_at TEXT NOT NULL,
    signed_json TEXT NOT NULL,
    received_at TEXT,
    acknowledged_by TEXT,
    acknowledged_at TEXT
  );
  CREATE INDEX flashes_by_circle ON flashes (circle_id);

  CREATE TABLE flash_receipts (
    flash_id TEXT NOT NULL REFERENCES flashes (id),
    organisation_id TEXT NOT NULL,
    delivered_at TEXT,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    last_error TEXT,
    PRIMARY KEY (flash_id, organisation_id)
  ) WITHOUT ROWID;

  -- The receiver confirmed it removed the recalled version.
  ALTER TABLE recall_notices ADD COLUMN acknowledged_at TEXT;
  `,
  /* 8: recalls this node received, with what each did to the versions it named and where they had come from */ `
  -- A recall another node sent here and this node carried out: the signed message, kept as evidence,
  -- and one row per version it named. The store forgets a version's provenance once no collection
  -- holds it, so the provenance of each version (the arrival in the circle's collection, else the
  -- first) is copied here before the recall removes it. versions_digest (SHA-256 of the versions
  -- named, sorted) recognises a recall sent again.
  CREATE TABLE received_recalls (
    seq INTEGER PRIMARY KEY,
    circle_id TEXT NOT NULL,
    sender_organisation_id TEXT NOT NULL,
    authority TEXT NOT NULL,
    reason TEXT NOT NULL,
    received_at TEXT NOT NULL,
    signed_json TEXT NOT NULL,
    versions_digest TEXT NOT NULL
  );
  CREATE INDEX received_recalls_by_circle ON received_recalls (circle_id, seq);
  CREATE INDEX received_recalls_by_versions ON received_recalls (versions_digest);

  -- outcome: removed (from the circle's collection), kept (the home organisation's own), absent (not
  -- held there when the recall came). The provenance columns are NULL when none was recorded.
  CREATE TABLE received_recall_versions (
    recall_seq INTEGER NOT NULL REFERENCES received_recalls (seq),
    position INTEGER NOT NULL,
    object_id TEXT NOT NULL,
    version TEXT NOT NULL,
    outcome TEXT NOT NULL,
    signer TEXT,
    peer TEXT,
    verification TEXT,
    provenance_received_at TEXT,
    PRIMARY KEY (recall_seq, position)
  ) WITHOUT ROWID;
  `,
  /* 9: the API token that made each draft, which may see and change it (besides administrators) */ `
  -- created_by stays what it was (a token's name, or the operator's login name at the command line,
  -- which could also be some token's name). A draft made before this migration, or at the command
  -- line, has no token: administrators only.
  ALTER TABLE drafts ADD COLUMN created_by_token TEXT;
  `,
  /* 10: SCOs keyed by their content (stix/versions.ts, contentVersionOf) instead of one fixed key */ `
  -- Every SCO was stored under 1970-01-01T00:00:00.000Z, one row per id; it takes the key of its
  -- content, and so do the rows that name it by version. entente_content_version (registered by the
  -- store before it migrates) is NULL for anything that is not an unversioned object.
  CREATE TEMP TABLE content_versions AS
    SELECT vid, object_id, entente_content_version(json) AS version
    FROM object_versions
    WHERE version = '1970-01-01T00:00:00.000Z' AND entente_content_version(json) IS NOT NULL;
  UPDATE object_versions SET version = (SELECT c.version FROM content_versions c WHERE c.vid = object_versions.vid)
    WHERE vid IN (SELECT vid FROM content_versions);
  UPDATE signatures SET version = (SELECT c.version FROM content_versions c WHERE c.object_id = signatures.object_id)
    WHERE version = '1970-01-01T00:00:00.000Z' AND object_id IN (SELECT object_id FROM content_versions);
  UPDATE recall_notices SET version = (SELECT c.version FROM content_versions c WHERE c.object_id = recall_notices.object_id)
    WHERE version = '1970-01-01T00:00:00.000Z' AND object_id IN (SELECT object_id FROM content_versions);
  UPDATE received_recall_versions SET version = (SELECT c.version FROM content_versions c WHERE c.object_id = received_recall_versions.object_id)
    WHERE version = '1970-01-01T00:00:00.000Z' AND object_id IN (SELECT object_id FROM content_versions);
  -- A quarantined copy is keyed by its own content, held or not.
  UPDATE quarantine SET version = entente_content_version(json)
    WHERE version = '1970-01-01T00:00:00.000Z' AND entente_content_version(json) IS NOT NULL;
  DROP TABLE content_versions;
  `,
  /* 11: the Entente signature each collection's copy of a shared version carries, where it differs from the row's */ `
  -- A version row keeps the text of the first copy that reached the node; a collection that received
  -- the same content later, signed otherwise or not at all, serves its own copy. NULL: the row's text
  -- as it is; '': without the Entente signature; else the JSON of the signature extension it carries.
  ALTER TABLE entries ADD COLUMN signature TEXT;
  `,
  /* 12: which versions the home organisation stored before any partner sent them */ `
  -- 1 when the row was created by a write of the home organisation's (no partner contributing): its
  -- own original, whatever a partner sends of the same version later. NULL for rows made before this
  -- migration: unknown, as before (only a kept origin signature proves them the home's).
  ALTER TABLE object_versions ADD COLUMN home_original INTEGER;
  `,
  /* 13: the collections a webhook is limited to */ `
  -- A JSON array of collection ids; NULL: every collection (each webhook stored before this migration).
  ALTER TABLE webhooks ADD COLUMN collections TEXT;
  `,
  /* 14: the home organisation's signature of a version it originated, kept on the version's row */ `
  -- The signature extension (JSON) the release signer made for the stored form of a version this
  -- node originated (variant '' of the signatures table, which keeps the redacted forms' now). A
  -- release lists the entries with their version rows: kept there, the signature is read with the
  -- page, where the signatures table (keyed by the random object id) cost a B-tree lookup in a
  -- table of a million rows for every object of every page a partner's sync asked for.
  ALTER TABLE object_versions ADD COLUMN origin_signature TEXT;
  UPDATE object_versions SET origin_signature = (
      SELECT s.extension_json FROM signatures s WHERE s.object_id = object_versions.object_id AND s.version = object_versions.version AND s.variant = '')
    WHERE EXISTS (SELECT 1 FROM signatures s WHERE s.object_id = object_versions.object_id AND s.version = object_versions.version AND s.variant = '');
  DELETE FROM signatures
    WHERE variant = '' AND EXISTS (SELECT 1 FROM object_versions v WHERE v.object_id = signatures.object_id AND v.version = signatures.version);
  `,
  /* 15: which copy of a sent flash each member's node was delivered */ `
  -- The id of the copy delivered: the flash's own, or that of the copy without the indicator the
  -- release decision withheld from the member. An acknowledgement is taken for that id only.
  ALTER TABLE flash_receipts ADD COLUMN delivered_flash_id TEXT;
  -- Before, the copy was not recorded. A flash naming no indicator went to every member as itself;
  -- for one naming an indicator, which copy a member got is not known, and its acknowledgement is
  -- refused rather than guessed (flashes are retried for an hour only: such a flash is long over).
  UPDATE flash_receipts SET delivered_flash_id = flash_id
    WHERE delivered_at IS NOT NULL AND flash_id IN (SELECT id FROM flashes WHERE direction = 'sent' AND indicator_id IS NULL);
  `,
  /* 16: which entries refer to an object as evidence: a sighting by observed_data_refs, an observed-data by object_refs */ `
  -- One row per (collection, id referred to, entry referring): the entries of a collection that name
  -- an id as evidence, in the order they were added. The home sightings gate finds the sighting an
  -- observed-data was written with, and the observed-data an observable was, by one seek here
  -- whatever lies between them (ObjectStore.evidenceReferrersOf). Rows are added with the entry, where
  -- the store adds every entry (SqliteObjectStore #addVersion, for TAXII, import, sync and the matcher
  -- alike; a trigger's test would run for every entry of every type), and removed with it by the
  -- trigger below. A row whose entry was deleted may stay (its version forgotten first): readers join
  -- entries, and a dateAdded is never reused. Filled here for the home sightings collection alone (its
  -- id in node_meta), the one collection the gate asks about: its entries by the primary key, each
  -- version read by its vid. Not from every collection: no index finds the sightings and observed-data
  -- of a store (object_versions has none on type), and reading every version's row to learn its type
  -- made upgrading a store of a million objects read all of its JSON. Another collection's rows start
  -- with the entries added from here on (ObjectStore.evidenceReferrersOf says so). A node that has not
  -- made the collection yet fills nothing: it is made empty.
  CREATE TABLE evidence_refs (
    collection_key INTEGER NOT NULL,
    ref_id TEXT NOT NULL,
    date_added INTEGER NOT NULL,
    PRIMARY KEY (collection_key, ref_id, date_added)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO evidence_refs (collection_key, ref_id, date_added)
    SELECT e.collection_key, j.value, e.date_added
      FROM entries e
      JOIN object_versions ov ON ov.vid = e.vid,
      json_each(ov.json, CASE ov.type WHEN 'sighting' THEN '$.observed_data_refs' ELSE '$.object_refs' END) j
      WHERE e.collection_key = (
          SELECT c.key FROM collections c WHERE c.id = (SELECT m.value FROM node_meta m WHERE m.key = 'home_sightings_collection'))
        AND ov.type IN ('sighting', 'observed-data') AND j.type = 'text';
  CREATE TRIGGER evidence_refs_removed AFTER DELETE ON entries
    WHEN (SELECT type FROM object_versions WHERE vid = OLD.vid) IN ('sighting', 'observed-data')
  BEGIN
    DELETE FROM evidence_refs
      WHERE collection_key = OLD.collection_key AND date_added = OLD.date_added
        AND ref_id IN (
          SELECT j.value FROM object_versions ov,
          json_each(ov.json, CASE ov.type WHEN 'sighting' THEN '$.observed_data_refs' ELSE '$.object_refs' END) j
          WHERE ov.vid = OLD.vid AND j.type = 'text');
  END;
  `,
  /* 17: one recipient's audit entries in log order */ `
  -- Every read of the log is in seq order from a cursor (SqliteCircleTables auditReadStatement):
  -- through (recipient, at) each page of one recipient's entries was found by recipient and then
  -- sorted by seq, re-reading and re-sorting what was left of them (or of a --from/--to window) for
  -- every page. This index hands them over in order, from the cursor, and a page stops at its limit.
  -- (recipient, at) served nothing else, so it goes. An index build only: no row is read back into
  -- the table or rewritten, whatever the log's size (older logs hold a row per version released).
  CREATE INDEX audit_by_recipient_seq ON audit_log (recipient_organisation_id, seq);
  DROP INDEX audit_by_recipient;
  `,
  /* 18: where in the log each recipient's entries of each hour lie */ `
  -- A --from/--to window read one recipient's entries from their first to their last, whatever the
  -- window: (recipient, seq) knows nothing of \`at\`. \`at\` cannot bound seq by itself: the writer
  -- stamps it before its append waits for the lock, so two processes' entries may land out of time
  -- order, and clocks step back. Here each (recipient, hour of \`at\`) has the first and last seq of its
  -- entries, so any window's entries lie between the first seq of its first hour and the last of its
  -- last, whatever the order (SqliteCircleTables auditWindowStatement). One row per recipient and hour
  -- rather than one per entry, as an index on (recipient, at) would be. The hour is the text prefix
  -- of \`at\`: prefixes keep text order, the order the window is compared in. Derived from the log,
  -- filled from it here and kept by the trigger below; the log itself stays append-only.
  CREATE TABLE audit_hours (
    recipient_organisation_id TEXT NOT NULL,
    hour TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (recipient_organisation_id, hour)
  ) WITHOUT ROWID;
  INSERT INTO audit_hours (recipient_organisation_id, hour, first_seq, last_seq)
    SELECT recipient_organisation_id, substr(at, 1, 13), min(seq), max(seq) FROM audit_log
    GROUP BY recipient_organisation_id, substr(at, 1, 13);
  CREATE TRIGGER audit_log_hours AFTER INSERT ON audit_log BEGIN
    INSERT INTO audit_hours (recipient_organisation_id, hour, first_seq, last_seq)
      VALUES (NEW.recipient_organisation_id, substr(NEW.at, 1, 13), NEW.seq, NEW.seq)
      ON CONFLICT (recipient_organisation_id, hour)
      DO UPDATE SET first_seq = min(first_seq, excluded.first_seq), last_seq = max(last_seq, excluded.last_seq);
  END;
  `,
  /* 19: audit_hours only ever widens, as the log it indexes only grows */ `
  -- A row deleted or narrowed would hide its hour's entries from every --from/--to window while the
  -- chain, which does not cover this table, still verified: refused here as the log's own UPDATE and
  -- DELETE are (migration 3), and \`audit verify\` checks the table against the log
  -- (firstUnindexedAudit). A second row for a (recipient, hour) is refused too: INSERT OR REPLACE
  -- would delete the first without any DELETE trigger firing. So the log's trigger updates its
  -- hour's row, and inserts one only when there is none, instead of an upsert (whose insert a
  -- BEFORE INSERT trigger would see first).
  DROP TRIGGER audit_log_hours;
  CREATE TRIGGER audit_log_hours AFTER INSERT ON audit_log BEGIN
    UPDATE audit_hours SET first_seq = min(first_seq, NEW.seq), last_seq = max(last_seq, NEW.seq)
      WHERE recipient_organisation_id = NEW.recipient_organisation_id AND hour = substr(NEW.at, 1, 13);
    INSERT INTO audit_hours (recipient_organisation_id, hour, first_seq, last_seq)
      SELECT NEW.recipient_organisation_id, substr(NEW.at, 1, 13), NEW.seq, NEW.seq
      WHERE NOT EXISTS (SELECT 1 FROM audit_hours WHERE recipient_organisation_id = NEW.recipient_organisation_id AND hour = substr(NEW.at, 1, 13));
  END;
  CREATE TRIGGER audit_hours_one_row_an_hour BEFORE INSERT ON audit_hours
    WHEN EXISTS (SELECT 1 FROM audit_hours WHERE recipient_organisation_id = NEW.recipient_organisation_id AND hour = NEW.hour)
    BEGIN SELECT RAISE(ABORT, 'audit_hours holds one row per recipient and hour'); END;
  CREATE TRIGGER audit_hours_only_widens BEFORE UPDATE ON audit_hours
    WHEN NEW.recipient_organisation_id IS NOT OLD.recipient_organisation_id OR NEW.hour IS NOT OLD.hour
      OR NEW.first_seq > OLD.first_seq OR NEW.last_seq < OLD.last_seq
    BEGIN SELECT RAISE(ABORT, 'audit_hours only widens, as the audit log only grows'); END;
  CREATE TRIGGER audit_hours_keeps_its_rows BEFORE DELETE ON audit_hours
    BEGIN SELECT RAISE(ABORT, 'audit_hours only widens, as the audit log only grows'); END;
  `,
  /* 20: the onward-sharing terms each partner contribution arrived under */ `
  -- Onward sharing of a partner's contribution follows the stricter of the terms it arrived under and
  -- those binding now (src/policy/README.md, rule 6): a circle that loosens its terms later must not
  -- release onward what partners gave under the stricter ones. The add path writes the terms binding
  -- the contributor when the row is written; 'none' is the fail-closed default.
  ALTER TABLE contributions ADD COLUMN arrival_onward TEXT NOT NULL DEFAULT 'none'
    CHECK (arrival_onward IN ('none', 'organisation', 'circles'));
  -- Rows written before this migration recorded no terms, and the version that bound the contributor
  -- then cannot be told for sure (acceptances in a mirrored circle are the coordinator's word, and
  -- any version since may have been accepted after the arrival). The safe reading: the strictest
  -- onward sharing of every agreement version the circle of the row's collection has had, which is
  -- no looser than whatever bound at arrival. A collection with no circle or no agreement: 'none'
  -- (the release gate already reads such arrivals so), the column's default, so those rows are left
  -- as they are. Worked out once per collection, not once per row: a correlated subquery read every
  -- agreement version's JSON again for each of a million contributions.
  UPDATE contributions SET arrival_onward = strictest.onward
    FROM (SELECT co.key AS collection_key,
                 CASE min(CASE a.document ->> '$.terms.onward_sharing' WHEN 'circles' THEN 2 WHEN 'organisation' THEN 1 ELSE 0 END)
                   WHEN 2 THEN 'circles' WHEN 1 THEN 'organisation' ELSE 'none' END AS onward
            FROM collections co
            JOIN circles ci ON ci.collection_id = co.id
            JOIN agreements a ON a.circle_id = ci.id
           GROUP BY co.key) AS strictest
    WHERE strictest.collection_key = contributions.collection_key AND strictest.onward <> 'none';
  `,
  /* 21: when each indicator was first given to each recipient through each circle */ `
  -- The source reputation asks, of the indicators several sources published, whether this node had
  -- given one to a member before the member's publication of its value arrived (a possible copy: no
  -- corroboration). Walking the log for it read every release to every such member at every refresh:
  -- some 20 s a refresh at a million indicators released to two members, and growing with the log.
  -- Here one row per (indicator, recipient, circle): the earliest \`at\` a version of it was shared or
  -- redacted to that recipient through that circle, or a flash named it to it, so the reputation seeks
  -- its candidates only. A row per indicator, not per release: releasing one again adds none.
  -- Derived from the log up to \`through_seq\`, and brought up to the log's end by the reader before it
  -- asks (SqliteCircleTables firstReleases), not by a trigger on the release gate's appends: keyed by
  -- random ids, a row per release written there made serving a million indicators to two members
  -- twenty times slower (8.7 s of appends to 163 s), where the reader adds a refresh's new entries in
  -- one sorted batch. Outside the chain, like audit_hours (migration 19): it only ever gains rows or
  -- moves a time earlier, its cursor only moves on, and \`audit verify\` checks it against the log up
  -- to the cursor (firstUnindexedAudit). Filled here from the log written so far in one sorted insert
  -- (the reader's batches, into a table already large, cost several times as much).
  CREATE TABLE audit_first_releases (
    object_id TEXT NOT NULL,
    recipient_organisation_id TEXT NOT NULL,
    circle_id TEXT NOT NULL,
    first_at TEXT NOT NULL,
    PRIMARY KEY (object_id, recipient_organisation_id, circle_id)
  ) WITHOUT ROWID;
  CREATE TABLE audit_first_releases_cursor (
    only INTEGER PRIMARY KEY CHECK (only = 1),
    through_seq INTEGER NOT NULL
  );
  -- What each entry gave, as SqliteCircleTables indicatorsGiven reads it: a single release not
  -- withheld, each of a page's releases not withheld, the indicator a flash named; indicators only.
  INSERT INTO audit_first_releases (object_id, recipient_organisation_id, circle_id, first_at)
    SELECT object_id, recipient_organisation_id, circle_id, min(at) FROM (
      SELECT a.entry ->> '$.objectId' AS object_id, a.recipient_organisation_id, a.circle_id, a.at FROM audit_log AS a
        WHERE json_valid(a.entry) AND a.entry ->> '$.kind' IS NULL AND a.entry ->> '$.decision' IN ('share', 'redact')
      UNION ALL
      SELECT r.value ->> '$.objectId', a.recipient_organisation_id, a.circle_id, a.at
        FROM audit_log AS a, json_each(CASE WHEN json_valid(a.entry) THEN a.entry ELSE '{}' END, '$.releases') AS r
        WHERE a.entry ->> '$.kind' = 'page' AND r.value ->> '$.decision' IN ('share', 'redact')
      UNION ALL
      SELECT a.entry ->> '$.indicatorId', a.recipient_organisation_id, a.circle_id, a.at FROM audit_log AS a
        WHERE json_valid(a.entry) AND a.entry ->> '$.kind' = 'flash' AND a.entry ->> '$.indicatorNamed' = 1
    ) WHERE substr(object_id, 1, 11) = 'indicator--'
    GROUP BY object_id, recipient_organisation_id, circle_id ORDER BY object_id, recipient_organisation_id, circle_id;
  INSERT INTO audit_first_releases_cursor (only, through_seq) SELECT 1, coalesce(max(seq), 0) FROM audit_log;
  -- A row lost, or moved later, would let a member's copy of what it was given here corroborate the
  -- source again while the chain still verified; so would a cursor moved on past entries not added.
  CREATE TRIGGER audit_first_releases_one_row BEFORE INSERT ON audit_first_releases
    WHEN EXISTS (SELECT 1 FROM audit_first_releases WHERE object_id = NEW.object_id AND recipient_organisation_id = NEW.recipient_organisation_id AND circle_id = NEW.circle_id)
    BEGIN SELECT RAISE(ABORT, 'audit_first_releases holds one row per object, recipient and circle'); END;
  CREATE TRIGGER audit_first_releases_only_earlier BEFORE UPDATE ON audit_first_releases
    WHEN NEW.object_id IS NOT OLD.object_id OR NEW.recipient_organisation_id IS NOT OLD.recipient_organisation_id
      OR NEW.circle_id IS NOT OLD.circle_id OR NEW.first_at > OLD.first_at
    BEGIN SELECT RAISE(ABORT, 'audit_first_releases only moves a release earlier, as the audit log only grows'); END;
  CREATE TRIGGER audit_first_releases_keeps_its_rows BEFORE DELETE ON audit_first_releases
    BEGIN SELECT RAISE(ABORT, 'audit_first_releases only moves a release earlier, as the audit log only grows'); END;
  CREATE TRIGGER audit_first_releases_cursor_moves_on BEFORE UPDATE ON audit_first_releases_cursor
    WHEN NEW.through_seq < OLD.through_seq
    BEGIN SELECT RAISE(ABORT, 'audit_first_releases_cursor only moves on'); END;
  CREATE TRIGGER audit_first_releases_cursor_stays BEFORE DELETE ON audit_first_releases_cursor
    BEGIN SELECT RAISE(ABORT, 'audit_first_releases_cursor only moves on'); END;
  `,
];
