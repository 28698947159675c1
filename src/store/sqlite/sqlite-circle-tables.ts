import { isDeepStrictEqual } from 'node:util';
import type Database from 'better-sqlite3';
import { chainEntryText, GENESIS_HASH, type AuditEntry, type AuditLogEntry, type ChainedAuditEntry, type FlashAuditEntry, type PageAuditEntry } from '../../audit/audit-chain.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { parseAgreement, parseAgreementAcceptance, type Agreement, type AgreementAcceptance, type AgreementState } from '../../policy/agreement.ts';
import { parseCircle, type Circle } from '../../policy/circle.ts';
import { toAcceptanceDocument, toAgreementDocument, toCircleDocument } from '../../policy/circle-documents.ts';
import type { AcceptanceOptions, AuditQuery, AuditRecord, AuditWindow, FirstRelease, RecallNotice } from '../object-store.ts';

type Statement = Database.Statement<unknown[], unknown>;

interface AuditRow {
  seq: number;
  recipient_organisation_id: string;
  circle_id: string;
  at: string;
  entry: string;
  previous_hash: string;
  hash: string;
}

interface RecallRow {
  circle_id: string;
  organisation_id: string;
  object_id: string;
  version: string;
  reason: string;
  queued_at: string;
  delivered_at: string | null;
  acknowledged_at: string | null;
}

const MAX_AUDIT_PAGE = 10_000;

/**
 * The time one addFirstReleases transaction aims at. It runs on the thread that serves requests (the
 * reputation's refresh asks firstReleases), and a batch of 100 entries (up to 50,000 releases, a page
 * entry holding 500) held it 0.7 to 1.4 s at 200,000 releases, longer as the table grows: a TAXII
 * page waiting behind it missed its 25 ms by far. The entries a batch takes are sized from the last
 * batch's time instead, between these bounds. The price is throughput: keyed by random ids, each
 * release dirties a page of its own, which a large batch shares with many others, so catching up on
 * 200,000 releases took 8.9 s at 50 ms a batch (20 ms: 10.8 s) against 1.7 s in batches of 100.
 */
const FIRST_RELEASE_BATCH_MS = 50;
const FIRST_RELEASE_ENTRIES_LEAST = 1;
const FIRST_RELEASE_ENTRIES_MOST = 100;

/**
 * The indicators the audit entries after @after, up to @through, gave their recipients, with the
 * entry's seq, recipient, circle and time: a single release not withheld, each of a page's releases
 * not withheld (a redaction gives the value all the same), the indicator a flash named (its text is
 * free: it may well give the value). Indicators only: the source reputation asks of nothing else.
 */
const indicatorsGiven = `SELECT * FROM (
    SELECT a.seq, a.entry ->> '$.objectId' AS object_id, a.recipient_organisation_id, a.circle_id, a.at FROM audit_log AS a
      WHERE a.seq > @after AND a.seq <= @through AND json_valid(a.entry) AND a.entry ->> '$.kind' IS NULL AND a.entry ->> '$.decision' IN ('share', 'redact')
    UNION ALL
    SELECT a.seq, r.value ->> '$.objectId', a.recipient_organisation_id, a.circle_id, a.at
      FROM audit_log AS a, json_each(CASE WHEN json_valid(a.entry) THEN a.entry ELSE '{}' END, '$.releases') AS r
      WHERE a.seq > @after AND a.seq <= @through AND a.entry ->> '$.kind' = 'page' AND r.value ->> '$.decision' IN ('share', 'redact')
    UNION ALL
    SELECT a.seq, a.entry ->> '$.indicatorId', a.recipient_organisation_id, a.circle_id, a.at FROM audit_log AS a
      WHERE a.seq > @after AND a.seq <= @through AND json_valid(a.entry) AND a.entry ->> '$.kind' = 'flash' AND a.entry ->> '$.indicatorNamed' = 1
  ) WHERE substr(object_id, 1, 11) = 'indicator--'`;

/** The batch's time for the audit_first_releases row `first` (moveFirstReleasesEarlier). */
const FIRST_AT_IN_BATCH = `SELECT batch.first_at FROM temp.first_releases_batch AS batch
  WHERE batch.object_id = first.object_id AND batch.recipient_organisation_id = first.recipient_organisation_id AND batch.circle_id = first.circle_id`;

/**
 * Moves rows of audit_first_releases earlier where the batch gives an earlier time (exported for the
 * test that reads its query plan). Driven by the batch, a seek in the table's key per row of it:
 * written as UPDATE … FROM, SQLite scanned the whole table for every batch, so a transaction's cost
 * grew with every release ever indexed (50 to 130 ms a batch at 200,000 rows, where the batch's own
 * rows took a few).
 */
export const MOVE_FIRST_RELEASES_EARLIER_SQL = `UPDATE audit_first_releases AS first
    SET first_at = (${FIRST_AT_IN_BATCH})
  WHERE (first.object_id, first.recipient_organisation_id, first.circle_id) IN
          (SELECT object_id, recipient_organisation_id, circle_id FROM temp.first_releases_batch)
    AND first.first_at > (${FIRST_AT_IN_BATCH})`;

/** Hours of `at` as audit_hours keys them (migration 18): its first 13 characters, `YYYY-MM-DDTHH`. */
const AUDIT_HOUR_LENGTH = 13;

/**
 * The statement auditWindow runs (exported for the test that reads its query plan): where a
 * --from/--to window's entries lie in the log, for one recipient or for all, from audit_hours
 * (migration 18): `after`, the seq before the first of the window's first hour, and `through`, the
 * last seq of its last. Sound however `at` runs against seq: an entry whose `at` is in [from, to) has
 * an hour in [hour(from), hour(to)], since a text's prefix keeps text order, and its seq lies within
 * its hour's first and last. NULL when no entry has such an hour: the window is empty.
 */
export function auditWindowStatement(query: Pick<AuditQuery, 'recipientOrganisationId' | 'from' | 'to'>): { sql: string; params: string[] } {
  const clauses: string[] = [];
  const params: string[] = [];
  if (query.recipientOrganisationId !== undefined) {
    clauses.push('recipient_organisation_id = ?');
    params.push(query.recipientOrganisationId);
  }
  if (query.from !== undefined) {
    clauses.push('hour >= ?');
    params.push(query.from.toISOString().slice(0, AUDIT_HOUR_LENGTH));
  }
  if (query.to !== undefined) {
    clauses.push('hour <= ?');
    params.push(query.to.toISOString().slice(0, AUDIT_HOUR_LENGTH));
  }
  const where = clauses.length === 0 ? 'true' : clauses.join(' AND ');
  return {
    sql: `SELECT (SELECT min(first_seq) - 1 FROM audit_hours WHERE ${where}) AS after, (SELECT max(last_seq) FROM audit_hours WHERE ${where}) AS through`,
    params: [...params, ...params],
  };
}

/**
 * The statement readAudit runs (exported for the test that reads its query plan). Every read is in
 * log order from `afterSeq`, up to `throughSeq` if given: one recipient's rows through the index on
 * (recipient, seq) (migration 17), a seek that hands them over in order, so a page stops at its limit
 * and the seek at `throughSeq`; the whole log is the table itself. The circle and the time window are
 * filters on that walk; a reader of a window starts and stops it where the window's entries lie
 * (auditWindow), worked out once for the walk: as subqueries here, every page aggregated every hour
 * of the window again, a year's window of 100,000 entries taking ten times as long as no bounds.
 */
export function auditReadStatement(query: AuditQuery): { sql: string; params: (string | number)[] } {
  const clauses = ['seq > ?'];
  const params: (string | number)[] = [query.afterSeq ?? 0];
  if (query.throughSeq !== undefined) {
    clauses.push('seq <= ?');
    params.push(query.throughSeq);
  }
  if (query.recipientOrganisationId !== undefined) {
    clauses.push('recipient_organisation_id = ?');
    params.push(query.recipientOrganisationId);
  }
  if (query.circleId !== undefined) {
    clauses.push('circle_id = ?');
    params.push(query.circleId);
  }
  // `at` is an ISO string written by Date.toISOString, so text order is time order.
  if (query.from !== undefined) {
    clauses.push('at >= ?');
    params.push(query.from.toISOString());
  }
  if (query.to !== undefined) {
    clauses.push('at < ?');
    params.push(query.to.toISOString());
  }
  const limit = Number.isFinite(query.limit) ? Math.max(1, Math.min(MAX_AUDIT_PAGE, Math.floor(query.limit))) : 1;
  return {
    sql: `SELECT seq, recipient_organisation_id, circle_id, at, entry, previous_hash, hash FROM audit_log WHERE ${clauses.join(' AND ')} ORDER BY seq LIMIT ${limit}`,
    params,
  };
}

/**
 * The circle, agreement, audit and recall tables of the SQLite store (migration 3). Documents are
 * stored in their exchange form and read back through the same parsers as untrusted input, so a
 * row edited behind the program's back fails closed (ENT_STORE_UNAVAILABLE) instead of widening
 * anyone's view.
 */
export class SqliteCircleTables {
  readonly #db: Database.Database;
  readonly #sql: Record<
    | 'insertCircle' | 'updateCircle' | 'selectCircle' | 'selectCircleByCollection' | 'selectCircleIdByCollection'
    | 'selectCircles' | 'selectCollection' | 'insertAgreement' | 'selectAgreements' | 'selectLatestAgreement' | 'insertAcceptance'
    | 'selectAcceptances' | 'selectLastAudit' | 'insertAudit' | 'selectUnindexedAudit' | 'selectUngivenAudit' | 'selectFirstReleases'
    | 'selectFirstReleasesCursor' | 'clearFirstReleasesBatch' | 'fillFirstReleasesBatch' | 'moveFirstReleasesEarlier' | 'insertFirstReleases'
    | 'moveFirstReleasesCursor' | 'insertRecall',
    Statement
  >;

  #firstReleaseEntries = FIRST_RELEASE_ENTRIES_LEAST;

  constructor(db: Database.Database) {
    this.#db = db;
    // This connection's batch of first releases to add (firstReleases), before they are merged in.
    db.exec(
      'CREATE TEMP TABLE IF NOT EXISTS first_releases_batch (object_id TEXT NOT NULL, recipient_organisation_id TEXT NOT NULL, circle_id TEXT NOT NULL, first_at TEXT NOT NULL, PRIMARY KEY (object_id, recipient_organisation_id, circle_id)) WITHOUT ROWID',
    );
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.#sql = {
      insertCircle: prepare('INSERT INTO circles (id, collection_id, document, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
      updateCircle: prepare('UPDATE circles SET document = ?, updated_at = ? WHERE id = ? AND collection_id = ?'),
      selectCircle: prepare('SELECT id, collection_id, document FROM circles WHERE id = ?'),
      selectCircleByCollection: prepare('SELECT id, collection_id, document FROM circles WHERE collection_id = ?'),
      selectCircleIdByCollection: prepare('SELECT id FROM circles WHERE collection_id = ?'),
      selectCircles: prepare('SELECT id, collection_id, document FROM circles ORDER BY id'),
      selectCollection: prepare('SELECT 1 FROM collections WHERE id = ?'),
      insertAgreement: prepare('INSERT INTO agreements (circle_id, version, document) VALUES (?, ?, ?)'),
      selectAgreements: prepare('SELECT version, document FROM agreements WHERE circle_id = ? ORDER BY version'),
      selectLatestAgreement: db.prepare('SELECT max(version) FROM agreements WHERE circle_id = ?').pluck(),
      insertAcceptance: prepare(
        'INSERT INTO agreement_acceptances (circle_id, organisation_id, version, document) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      selectAcceptances: prepare(
        'SELECT organisation_id, version, document FROM agreement_acceptances WHERE circle_id = ? ORDER BY organisation_id, version',
      ),
      selectLastAudit: prepare('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
      selectUnindexedAudit: db
        .prepare(
          `SELECT seq FROM audit_log AS entry WHERE NOT EXISTS (SELECT 1 FROM audit_hours AS hours
             WHERE hours.recipient_organisation_id = entry.recipient_organisation_id AND hours.hour = substr(entry.at, 1, ${AUDIT_HOUR_LENGTH})
               AND entry.seq BETWEEN hours.first_seq AND hours.last_seq)
           ORDER BY seq LIMIT 1`,
        )
        .pluck(),
      // Every indicator an entry up to the cursor gave its recipient has its row, no later than the
      // entry (migration 21): a full walk, for `audit verify` only.
      selectUngivenAudit: db
        .prepare(
          `SELECT min(given.seq) FROM (${indicatorsGiven}) AS given
             WHERE NOT EXISTS (SELECT 1 FROM audit_first_releases AS first
               WHERE first.object_id = given.object_id AND first.recipient_organisation_id = given.recipient_organisation_id
                 AND first.circle_id = given.circle_id AND first.first_at <= given.at)`,
        )
        .pluck(),
      selectFirstReleases: prepare(
        'SELECT object_id, recipient_organisation_id, circle_id, first_at FROM audit_first_releases WHERE object_id IN (SELECT value FROM json_each(?))',
      ),
      selectFirstReleasesCursor: prepare('SELECT through_seq AS through, (SELECT coalesce(max(seq), 0) FROM audit_log) AS last FROM audit_first_releases_cursor'),
      clearFirstReleasesBatch: prepare('DELETE FROM temp.first_releases_batch'),
      fillFirstReleasesBatch: prepare(
        `INSERT INTO temp.first_releases_batch (object_id, recipient_organisation_id, circle_id, first_at)
           SELECT object_id, recipient_organisation_id, circle_id, min(at) FROM (${indicatorsGiven}) GROUP BY object_id, recipient_organisation_id, circle_id`,
      ),
      moveFirstReleasesEarlier: prepare(MOVE_FIRST_RELEASES_EARLIER_SQL),
      insertFirstReleases: prepare(
        `INSERT INTO audit_first_releases (object_id, recipient_organisation_id, circle_id, first_at)
           SELECT batch.object_id, batch.recipient_organisation_id, batch.circle_id, batch.first_at FROM temp.first_releases_batch AS batch
             WHERE NOT EXISTS (SELECT 1 FROM audit_first_releases AS first WHERE first.object_id = batch.object_id
               AND first.recipient_organisation_id = batch.recipient_organisation_id AND first.circle_id = batch.circle_id)
           ORDER BY batch.object_id, batch.recipient_organisation_id, batch.circle_id`,
      ),
      moveFirstReleasesCursor: prepare('UPDATE audit_first_releases_cursor SET through_seq = ? WHERE through_seq < ?'),
      insertAudit: prepare(
        'INSERT INTO audit_log (recipient_organisation_id, circle_id, at, entry, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      insertRecall: prepare(
        `INSERT INTO recall_notices (circle_id, organisation_id, object_id, version, reason, queued_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
    };
  }

  createCircle(circle: Circle, now: Date): void {
    const document = writableDocument(circle);
    if (this.#sql.selectCircle.get(circle.id) !== undefined) {
      throw new EntenteError('ENT_CIRCLE_EXISTS', `A circle with id "${circle.id}" already exists`, { circleId: circle.id });
    }
    if (this.#sql.selectCollection.get(circle.collectionId) === undefined) {
      throw new EntenteError('ENT_COLLECTION_NOT_FOUND', `No collection ${circle.collectionId} to carry circle ${circle.id}`, {
        collectionId: circle.collectionId,
      });
    }
    const holder = this.#sql.selectCircleIdByCollection.get(circle.collectionId) as { id: string } | undefined;
    if (holder !== undefined) {
      throw new EntenteError(
        'ENT_CIRCLE_COLLECTION_TAKEN',
        `Collection ${circle.collectionId} already carries circle ${holder.id}; each circle needs a collection of its own`,
        { collectionId: circle.collectionId, circleId: holder.id },
      );
    }
    const time = now.toISOString();
    this.#sql.insertCircle.run(circle.id, circle.collectionId, document, time, time);
  }

  updateCircle(circle: Circle, now: Date, expected?: Circle): void {
    const document = writableDocument(circle);
    // The comparison and the write under one lock taken before the read: a check made in a store call
    // of its own would let another process write between it and this write, whose change is then lost.
    const update = this.#db.transaction(() => {
      if (expected !== undefined) {
        const current = this.getCircle(circle.id);
        if (current !== undefined && !isDeepStrictEqual(current, expected)) {
          throw new EntenteError('ENT_STORE_UNAVAILABLE', `Circle ${circle.id} was changed by another process meanwhile; nothing was changed, try again`, { circleId: circle.id });
        }
      }
      const result = this.#sql.updateCircle.run(document, now.toISOString(), circle.id, circle.collectionId);
      if (result.changes === 0) {
        throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `No circle ${circle.id} on collection ${circle.collectionId}`, { circleId: circle.id });
      }
    });
    update.immediate();
  }

  getCircle(id: string): Circle | undefined {
    const row = this.#sql.selectCircle.get(id) as CircleRow | undefined;
    return row === undefined ? undefined : readCircle(row);
  }

  getCircleByCollection(collectionId: string): Circle | undefined {
    const row = this.#sql.selectCircleByCollection.get(collectionId) as CircleRow | undefined;
    return row === undefined ? undefined : readCircle(row);
  }

  listCircles(): Circle[] {
    return (this.#sql.selectCircles.all() as CircleRow[]).map((row) => readCircle(row));
  }

  addAgreement(agreement: Agreement): void {
    if (this.#sql.selectCircle.get(agreement.circleId) === undefined) {
      throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `No circle ${agreement.circleId}`, { circleId: agreement.circleId });
    }
    try {
      this.#sql.insertAgreement.run(agreement.circleId, agreement.version, JSON.stringify(toAgreementDocument(agreement)));
    } catch (error) {
      if (String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_CONSTRAINT')) {
        throw new EntenteError(
          'ENT_AGREEMENT_EXISTS',
          `Circle ${agreement.circleId} already has agreement version ${agreement.version}; propose version ${agreement.version + 1} instead`,
          { circleId: agreement.circleId, version: agreement.version },
          { cause: error },
        );
      }
      throw error;
    }
  }

  addAcceptance(acceptance: AgreementAcceptance, options: AcceptanceOptions = {}): void {
    // The checks and the write under one lock taken before the read: a version proposed, or a leave
    // written, by another process in between would otherwise find the acceptance recorded after it.
    const add = this.#db.transaction(() => {
      const notFound = (): EntenteError => new EntenteError('ENT_CIRCLE_NOT_FOUND', `No circle ${acceptance.circleId}`, { circleId: acceptance.circleId });
      if (options.check === undefined) {
        if (this.#sql.selectCircle.get(acceptance.circleId) === undefined) throw notFound();
      } else {
        const circle = this.getCircle(acceptance.circleId);
        if (circle === undefined) throw notFound();
        options.check(circle);
      }
      if (options.latestOnly === true) {
        const latest = (this.#sql.selectLatestAgreement.get(acceptance.circleId) as number | null | undefined) ?? 0;
        if (latest > acceptance.version) {
          throw new EntenteError(
            'ENT_AGREEMENT_SUPERSEDED',
            `Agreement version ${acceptance.version} of circle ${acceptance.circleId} is superseded by version ${latest}; only version ${latest} can be accepted`,
            { circleId: acceptance.circleId, version: acceptance.version, latestVersion: latest },
          );
        }
      }
      this.#sql.insertAcceptance.run(
        acceptance.circleId,
        acceptance.organisationId,
        acceptance.version,
        JSON.stringify(toAcceptanceDocument(acceptance)),
      );
    });
    add.immediate();
  }

  getAgreementState(circleId: string): AgreementState {
    // The row's keys decide which circle and version a document is: one pasted from another row fails closed.
    const agreements = (this.#sql.selectAgreements.all(circleId) as { version: number; document: string }[]).map((row) => {
      const parsed = parseAgreement(parseStored(row.document));
      if (!parsed.ok || parsed.value.circleId !== circleId || parsed.value.version !== row.version) throw corrupt(`agreement of circle ${circleId}`);
      return parsed.value;
    });
    const acceptances = (this.#sql.selectAcceptances.all(circleId) as { organisation_id: string; version: number; document: string }[]).map((row) => {
      const parsed = parseAgreementAcceptance(parseStored(row.document));
      if (
        !parsed.ok || parsed.value.circleId !== circleId || parsed.value.organisationId !== row.organisation_id || parsed.value.version !== row.version
      ) {
        throw corrupt(`acceptance of circle ${circleId}`);
      }
      return parsed.value;
    });
    return { agreements, acceptances };
  }

  appendAudit(entries: readonly AuditLogEntry[]): void {
    if (entries.length === 0) return;
    const append = this.#db.transaction(() => {
      let previous = (this.#sql.selectLastAudit.get() as { hash: string } | undefined)?.hash ?? GENESIS_HASH;
      for (const entry of entries) {
        // The entry is kept as the canonical text its hash covers (serialised once for both).
        const chained = chainEntryText(previous, entry);
        this.#sql.insertAudit.run(entry.recipientOrganisationId, entry.circleId, entry.at, chained.entryJson, chained.previousHash, chained.hash);
        previous = chained.hash;
      }
    });
    // Immediate: two processes appending at once must not both chain to the same last entry.
    append.immediate();
  }

  readAudit(query: AuditQuery): AuditRecord[] {
    const { sql, params } = auditReadStatement(query);
    const rows = this.#db.prepare(sql).all(...params) as AuditRow[];
    return rows.map((row) => ({ seq: row.seq, chained: toChained(row) }));
  }

  auditWindow(query: Pick<AuditQuery, 'recipientOrganisationId' | 'from' | 'to'>): AuditWindow | undefined {
    const { sql, params } = auditWindowStatement(query);
    const bounds = this.#db.prepare(sql).get(...params) as { after: number | null; through: number | null };
    return bounds.after === null || bounds.through === null ? undefined : { afterSeq: bounds.after, throughSeq: bounds.through };
  }

  /**
   * The first entry whose own (recipient, hour) row in audit_hours does not span its seq: a window
   * read bounded by audit_hours (auditWindowBounds) is sound exactly when there is none. That table is
   * derived and outside the hash chain, so a row deleted or narrowed by hand would hide entries from
   * `audit received --from/--to` while the chain still verified; `audit verify` asks this. One seek
   * per entry, in one read transaction.
   */
  firstUnindexedAudit(): number | undefined {
    const read = this.#db.transaction((): number | undefined => {
      const hours = this.#sql.selectUnindexedAudit.get() as number | undefined;
      const { through } = this.#sql.selectFirstReleasesCursor.get() as { through: number };
      const given = (this.#sql.selectUngivenAudit.get({ after: 0, through }) as number | null | undefined) ?? undefined;
      return hours === undefined ? given : given === undefined ? hours : Math.min(hours, given);
    });
    return read();
  }

  /**
   * Adds to audit_first_releases (migration 21) what the next entries past its cursor gave (as many
   * as nextBatchEntries says fit in FIRST_RELEASE_BATCH_MS), with the cursor in one transaction (a
   * reader stopped midway leaves them agreeing); true while entries remain. A batch at a time, so the
   * release gate's appends, and the requests this thread serves, wait for one at most.
   */
  addFirstReleases(): boolean {
    const entries = this.#firstReleaseEntries;
    const started = performance.now();
    const addBatch = this.#db.transaction((): boolean => {
      const { through: after, last } = this.#sql.selectFirstReleasesCursor.get() as { through: number; last: number };
      if (after >= last) return false;
      const through = Math.min(last, after + entries);
      this.#sql.clearFirstReleasesBatch.run();
      this.#sql.fillFirstReleasesBatch.run({ after, through });
      this.#sql.moveFirstReleasesEarlier.run();
      this.#sql.insertFirstReleases.run();
      this.#sql.moveFirstReleasesCursor.run(through, through);
      this.#sql.clearFirstReleasesBatch.run();
      return through < last;
    });
    // Immediate: two readers catching up at once must not both add the same batch.
    const more = addBatch.immediate();
    this.#firstReleaseEntries = nextBatchEntries(entries, performance.now() - started);
    return more;
  }


  /** A seek per object on audit_first_releases, a thousand objects a statement (up to its cursor: see addFirstReleases). */
  firstReleases(objectIds: readonly string[]): FirstRelease[] {
    const found: FirstRelease[] = [];
    for (let from = 0; from < objectIds.length; from += 1000) {
      const rows = this.#sql.selectFirstReleases.all(JSON.stringify(objectIds.slice(from, from + 1000))) as {
        object_id: string;
        recipient_organisation_id: string;
        circle_id: string;
        first_at: string;
      }[];
      for (const row of rows) found.push({ objectId: row.object_id, recipientOrganisationId: row.recipient_organisation_id, circleId: row.circle_id, at: row.first_at });
    }
    return found;
  }

  queueRecalls(notices: readonly RecallNotice[]): number {
    let added = 0;
    const queue = this.#db.transaction(() => {
      for (const notice of notices) {
        const result = this.#sql.insertRecall.run(notice.circleId, notice.organisationId, notice.objectId, notice.version, notice.reason, notice.queuedAt);
        added += result.changes;
      }
    });
    queue.immediate();
    return added;
  }

  listRecalls(filter: { readonly circleId?: string; readonly organisationId?: string; readonly undeliveredOnly?: boolean }): RecallNotice[] {
    const clauses = ['1 = 1'];
    const params: string[] = [];
    if (filter.circleId !== undefined) {
      clauses.push('circle_id = ?');
      params.push(filter.circleId);
    }
    if (filter.organisationId !== undefined) {
      clauses.push('organisation_id = ?');
      params.push(filter.organisationId);
    }
    if (filter.undeliveredOnly === true) clauses.push('delivered_at IS NULL');
    const rows = this.#db.prepare(`SELECT * FROM recall_notices WHERE ${clauses.join(' AND ')} ORDER BY seq`).all(...params) as RecallRow[];
    return rows.map((row) => ({
      circleId: row.circle_id,
      organisationId: row.organisation_id,
      objectId: row.object_id,
      version: row.version,
      reason: row.reason,
      queuedAt: row.queued_at,
      ...(row.delivered_at === null ? {} : { deliveredAt: row.delivered_at }),
      ...(row.acknowledged_at === null ? {} : { acknowledgedAt: row.acknowledged_at }),
    }));
  }
}

interface CircleRow {
  id: string;
  collection_id: string;
  document: string;
}

/** The stored text of a document, or undefined when it is not JSON (which every parser then refuses). */
function parseStored(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The document a circle is stored as; refused when it would not read back, so one bad write cannot lock a circle away. */
function writableDocument(circle: Circle): string {
  const document = JSON.stringify(toCircleDocument(circle));
  const parsed = parseCircle(JSON.parse(document));
  if (!parsed.ok) {
    throw new EntenteError(
      'ENT_POLICY_CIRCLE_INVALID',
      parsed.error.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
      { issues: parsed.error.map((issue) => ({ path: issue.path, code: issue.code, message: issue.message })) },
    );
  }
  return document;
}

function readCircle(row: CircleRow): Circle {
  const parsed = parseCircle(parseStored(row.document));
  // The row's id and collection are what requests are routed by: a document naming others is not this circle.
  if (!parsed.ok || parsed.value.id !== row.id || parsed.value.collectionId !== row.collection_id) throw corrupt('circle document');
  return parsed.value;
}

const DECISIONS = new Set(['share', 'redact', 'withhold']);

function looksLikeEntry(value: unknown): value is AuditLogEntry {
  if (!isRecord(value)) return false;
  if (value['kind'] === 'page') return looksLikePageEntry(value);
  if (value['kind'] !== undefined) return looksLikeFlashEntry(value);
  return looksLikeRelease(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function looksLikeRelease(record: Record<string, unknown>): boolean {
  return typeof record['objectId'] === 'string' && typeof record['objectModified'] === 'string' && typeof record['decision'] === 'string' &&
    DECISIONS.has(record['decision']);
}

/** A page's releases (PageAuditEntry): every one of them a release, and none of a release's fields on the page itself. */
function looksLikePageEntry(record: Record<string, unknown>): record is Record<string, unknown> & PageAuditEntry {
  const releases = record['releases'];
  return Array.isArray(releases) && releases.length > 0 && releases.every((release) => isRecord(release) && looksLikeRelease(release)) &&
    !('objectId' in record) && !('objectModified' in record) && !('decision' in record) && !('redactedFields' in record);
}

/** A flash sent (FlashAuditEntry), with none of a release's fields: no reader takes it for an object released. */
function looksLikeFlashEntry(record: Record<string, unknown>): record is Record<string, unknown> & FlashAuditEntry {
  return record['kind'] === 'flash' && typeof record['flashId'] === 'string' && typeof record['sentFlashId'] === 'string' &&
    typeof record['indicatorNamed'] === 'boolean' && (record['indicatorId'] === undefined || typeof record['indicatorId'] === 'string') &&
    !('objectId' in record) && !('objectModified' in record) && !('decision' in record) && !('redactedFields' in record);
}

/**
 * The entry is handed to verification as stored, so that a tampered row fails the chain rather than
 * the read. The columns queries filter on (recipient, circle, time) are not covered by the hash by
 * themselves, so the entry is read with them: a row whose column was rewritten (to hide a release
 * from `audit received`, say) no longer matches its hash. Text that is not an entry at all reads as
 * a withheld nothing, which no hash matches and nobody acts on.
 */
function toChained(row: AuditRow): ChainedAuditEntry {
  const stored = parseStored(row.entry);
  const base: AuditLogEntry = looksLikeEntry(stored)
    ? stored
    : { objectId: '', objectModified: '', recipientOrganisationId: row.recipient_organisation_id, circleId: row.circle_id, decision: 'withhold', at: row.at } satisfies AuditEntry;
  const entry: AuditLogEntry = { ...base, recipientOrganisationId: row.recipient_organisation_id, circleId: row.circle_id, at: row.at };
  return { previousHash: row.previous_hash, entry, hash: looksLikeEntry(stored) ? row.hash : `unreadable:${row.hash}` };
}

function corrupt(what: string): EntenteError {
  return new EntenteError('ENT_STORE_UNAVAILABLE', `A stored ${what} no longer reads as valid; the store was changed outside Entente`);
}

/**
 * The entries of the next addFirstReleases batch from the last one's count and time: twice as many
 * while well under FIRST_RELEASE_BATCH_MS, in proportion past it, within the bounds.
 */
export function nextBatchEntries(entries: number, tookMs: number): number {
  const next = tookMs < FIRST_RELEASE_BATCH_MS / 2 ? entries * 2 : Math.floor((entries * FIRST_RELEASE_BATCH_MS) / Math.max(tookMs, 1e-3));
  return Math.min(FIRST_RELEASE_ENTRIES_MOST, Math.max(FIRST_RELEASE_ENTRIES_LEAST, next));
}
