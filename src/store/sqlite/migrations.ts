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
];
