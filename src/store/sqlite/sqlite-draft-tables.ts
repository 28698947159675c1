import type Database from 'better-sqlite3';
import { EntenteError } from '../../errors/entente-error.ts';
import type { DraftPublicationClaim } from '../object-store.ts';
import { countDecisions, type DecisionState, type Draft, type DraftItem, type DraftPublication, type DraftSummary, type NewDraft } from '../../drafts/draft.ts';

type Statement = Database.Statement<unknown[], unknown>;

interface DraftRow {
  id: number;
  file_name: string;
  sha256: string;
  format: string;
  title: string;
  text?: string;
  created_at: string;
  created_by: string | null;
  created_by_token: string | null;
  details: string;
  publication: string | null;
}

interface Details {
  pages?: number;
  warnings: string[];
}

const DECISION_STATES: readonly DecisionState[] = ['pending', 'accepted', 'edited', 'rejected'];

/** Draft ids are the store's positive integers, written in decimal; anything else names no draft. */
function draftKey(id: string): number | undefined {
  if (!/^[1-9]\d{0,15}$/.test(id)) return undefined;
  const key = Number(id);
  return Number.isSafeInteger(key) ? key : undefined;
}

function notFound(id: string): EntenteError {
  return new EntenteError('ENT_DRAFT_NOT_FOUND', `No draft ${JSON.stringify(id.slice(0, 40))} (entente draft list shows them)`, { draft: id.slice(0, 40) });
}

function published(id: string, publication: DraftPublication): EntenteError {
  return new EntenteError('ENT_DRAFT_PUBLISHED', `draft ${id} was already published at ${publication.publishedAt} as ${publication.reportId} in collection ${publication.collectionId}`, {
    draft: id,
    report: publication.reportId,
    collection: publication.collectionId,
  });
}

/** As stored; a claim written before claims had ids has none, so no publisher owns it and it can only go stale. */
interface StoredClaim {
  readonly id?: string;
  readonly by: string;
  readonly at: string;
}

/**
 * A publication holds the draft (possibly another process's): not published, so not ENT_DRAFT_PUBLISHED,
 * which tells a client the decisions are final. Said here, by the store, so that every caller gets
 * the code that is true: wait and retry.
 */
function beingPublished(id: string, claim: StoredClaim): EntenteError {
  return new EntenteError(
    'ENT_DRAFT_PUBLISHING',
    `draft ${id} is being published by ${claim.by} (since ${claim.at}): decisions and other publications are refused until that publication ends; try again in a moment (it ends published, or fails and leaves the draft open)`,
    { draft: id },
  );
}

/**
 * The publisher's claim was taken over (it went stale) and no publication holds the draft any more:
 * nothing was published and the draft is open again, so publishing again is what to do. The code is
 * ENT_DRAFT_PUBLISHING's (retry), not ENT_DRAFT_PUBLISHED's (done): the draft was not published.
 */
function claimLost(id: string): EntenteError {
  return new EntenteError(
    'ENT_DRAFT_PUBLISHING',
    `draft ${id} is no longer held by this publication (its claim went stale and was taken over by another publisher); nothing was published: publish again`,
    { draft: id },
  );
}

/** Our own JSON read back: a row edited behind the program's back fails closed. */
function parseStored<T>(text: string, what: string, check: (value: unknown) => boolean): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!check(value)) throw new EntenteError('ENT_STORE_UNAVAILABLE', `the stored ${what} is not readable`);
  return value as T;
}

function readPublication(text: string | null, draftId: string): { publication?: DraftPublication; claim?: StoredClaim } {
  if (text === null) return {};
  const value = parseStored<Record<string, unknown>>(text, `publication of draft ${draftId}`, isObject);
  const claim = value['claim'];
  if (claim === undefined) return { publication: value as unknown as DraftPublication };
  if (!isObject(claim) || typeof claim['by'] !== 'string' || typeof claim['at'] !== 'string' || !(claim['id'] === undefined || typeof claim['id'] === 'string')) {
    throw new EntenteError('ENT_STORE_UNAVAILABLE', `the stored publication of draft ${draftId} is not readable`);
  }
  return { claim: { ...(claim['id'] === undefined ? {} : { id: claim['id'] }), by: claim['by'], at: claim['at'] } };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isItem = (value: unknown): boolean =>
  isObject(value) && typeof value['id'] === 'string' && typeof value['kind'] === 'string' && typeof value['value'] === 'string'
  && isObject(value['decision']) && DECISION_STATES.includes(value['decision']['state'] as DecisionState) && Array.isArray(value['evidence']);

/** The draft and draft item tables of the SQLite store (migration 5; the creating token, migration 9). */
export class SqliteDraftTables {
  readonly #db: Database.Database;
  readonly #sql: Record<
    | 'insertDraft' | 'insertItem' | 'selectDraft' | 'selectDrafts' | 'selectItems' | 'selectItemDocuments' | 'updateItem' | 'selectPublication'
    | 'setPublication' | 'setClaim' | 'dropClaim' | 'selectOwner' | 'setOwner',
    Statement
  >;

  constructor(db: Database.Database) {
    this.#db = db;
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.#sql = {
      insertDraft: prepare(
        `INSERT INTO drafts (file_name, sha256, format, title, text, created_at, created_by, created_by_token, details)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertItem: prepare('INSERT INTO draft_items (draft_id, item_id, position, document) VALUES (?, ?, ?, ?)'),
      selectDraft: prepare('SELECT * FROM drafts WHERE id = ?'),
      // Who may see a draft is decided on this row alone, before its text and items are read.
      selectOwner: prepare('SELECT created_by_token FROM drafts WHERE id = ?'),
      setOwner: prepare('UPDATE drafts SET created_by_token = ? WHERE id = ?'),
      selectDrafts: prepare('SELECT id, file_name, sha256, format, title, created_at, created_by, created_by_token, details, publication FROM drafts ORDER BY id DESC'),
      selectItems: prepare('SELECT document FROM draft_items WHERE draft_id = ? ORDER BY position'),
      selectItemDocuments: prepare(
        "SELECT draft_id, json_extract(document, '$.decision.state') AS state, count(*) AS n FROM draft_items GROUP BY draft_id, state",
      ),
      updateItem: prepare('UPDATE draft_items SET document = ? WHERE draft_id = ? AND item_id = ?'),
      selectPublication: prepare('SELECT publication FROM drafts WHERE id = ?'),
      // The publication column holds the publication, or while one is under way {"claim": {by, at}}.
      setPublication: prepare("UPDATE drafts SET publication = ? WHERE id = ? AND (publication IS NULL OR json_extract(publication, '$.claim') IS NOT NULL)"),
      setClaim: prepare('UPDATE drafts SET publication = ? WHERE id = ?'),
      dropClaim: prepare("UPDATE drafts SET publication = NULL WHERE id = ? AND json_extract(publication, '$.claim.id') = ?"),
    };
  }

  createDraft(draft: NewDraft): Draft {
    const create = this.#db.transaction((): Draft => {
      const details: Details = { ...(draft.source.pages === undefined ? {} : { pages: draft.source.pages }), warnings: [...draft.warnings] };
      const result = this.#sql.insertDraft.run(
        draft.source.fileName,
        draft.source.sha256,
        draft.source.format,
        draft.title,
        draft.text,
        draft.createdAt,
        draft.createdBy ?? null,
        draft.createdByToken ?? null,
        JSON.stringify(details),
      );
      const key = Number(result.lastInsertRowid);
      draft.items.forEach((item, position) => this.#sql.insertItem.run(key, item.id, position, JSON.stringify(item)));
      return { ...draft, id: String(key) };
    });
    return create.immediate();
  }

  getDraft(id: string): Draft | undefined {
    const key = draftKey(id);
    if (key === undefined) return undefined;
    const row = this.#sql.selectDraft.get(key) as DraftRow | undefined;
    if (row === undefined) return undefined;
    const items = (this.#sql.selectItems.all(key) as { document: string }[]).map((item) => parseStored<DraftItem>(item.document, `item of draft ${id}`, isItem));
    const base = this.#summaryFields(row);
    return {
      id: String(row.id),
      source: base.source,
      title: row.title,
      text: row.text ?? '',
      createdAt: row.created_at,
      ...(row.created_by === null ? {} : { createdBy: row.created_by }),
      ...(row.created_by_token === null ? {} : { createdByToken: row.created_by_token }),
      items,
      warnings: base.details.warnings,
      ...(base.publication === undefined ? {} : { publication: base.publication }),
    };
  }

  /**
   * Whether the draft exists and which token made it, from one row and one column: the cheap lookup
   * that decides visibility before anything of the draft (text, items) is read.
   */
  getDraftOwner(id: string): { createdByToken?: string } | undefined {
    const key = draftKey(id);
    if (key === undefined) return undefined;
    const row = this.#sql.selectOwner.get(key) as { created_by_token: string | null } | undefined;
    if (row === undefined) return undefined;
    return row.created_by_token === null ? {} : { createdByToken: row.created_by_token };
  }

  /** Sets the token that made a draft (the operator's `entente draft assign`). Throws ENT_DRAFT_NOT_FOUND. */
  setDraftOwner(id: string, token: string): void {
    const key = draftKey(id);
    if (key === undefined || this.#sql.setOwner.run(token, key).changes !== 1) throw notFound(id);
  }

  listDrafts(): DraftSummary[] {
    const counts = new Map<number, Record<DecisionState, number>>();
    for (const row of this.#sql.selectItemDocuments.all() as { draft_id: number; state: DecisionState; n: number }[]) {
      const entry = counts.get(row.draft_id) ?? countDecisions([]);
      if (DECISION_STATES.includes(row.state)) entry[row.state] += row.n;
      counts.set(row.draft_id, entry);
    }
    return (this.#sql.selectDrafts.all() as DraftRow[]).map((row) => {
      const base = this.#summaryFields(row);
      return {
        id: String(row.id),
        source: base.source,
        title: row.title,
        createdAt: row.created_at,
        ...(row.created_by === null ? {} : { createdBy: row.created_by }),
        ...(row.created_by_token === null ? {} : { createdByToken: row.created_by_token }),
        counts: counts.get(row.id) ?? countDecisions([]),
        ...(base.publication === undefined ? {} : { publication: base.publication }),
      };
    });
  }

  updateDraftItems(draftId: string, items: readonly DraftItem[]): void {
    const update = this.#db.transaction(() => {
      const key = this.#requireUnpublished(draftId);
      for (const item of items) {
        const changed = this.#sql.updateItem.run(JSON.stringify(item), key, item.id).changes;
        if (changed === 0) throw new EntenteError('ENT_DRAFT_ITEM_NOT_FOUND', `draft ${draftId} has no item ${JSON.stringify(item.id.slice(0, 40))}`, { draft: draftId, items: [item.id.slice(0, 40)] });
      }
    });
    update.immediate();
  }

  claimDraftPublication(draftId: string, claim: DraftPublicationClaim, staleBefore: string): void {
    const take = this.#db.transaction(() => {
      const key = this.#requireUnpublished(draftId, staleBefore);
      this.#sql.setClaim.run(JSON.stringify({ claim: { id: claim.id, by: claim.by, at: claim.at } }), key);
    });
    take.immediate();
  }

  releaseDraftPublication(draftId: string, claimId: string): void {
    // Only its own: a publisher whose claim was taken over would otherwise free the draft under the
    // new holder, and a third publication could start beside it.
    const key = draftKey(draftId);
    if (key !== undefined) this.#sql.dropClaim.run(key, claimId);
  }

  markDraftPublished(draftId: string, publication: DraftPublication, items: readonly DraftItem[] = [], claimId?: string): void {
    const mark = this.#db.transaction(() => {
      // Only the publisher holding the claim finishes it: one whose claim was taken over would
      // publish the draft a second time, beside the new holder's publication, under other ids.
      const key = this.#requireHeldBy(draftId, claimId);
      for (const item of items) this.#sql.updateItem.run(JSON.stringify(item), key, item.id);
      if (this.#sql.setPublication.run(JSON.stringify(publication), key).changes !== 1) throw new EntenteError('ENT_STORE_UNAVAILABLE', `draft ${draftId} could not be marked published`);
    });
    mark.immediate();
  }

  /**
   * The draft's key; refused when published (ENT_DRAFT_PUBLISHED), or unless claimed with `claimId`
   * (unclaimed when it is undefined; ENT_DRAFT_PUBLISHING).
   */
  #requireHeldBy(draftId: string, claimId: string | undefined): number {
    const { key, claim } = this.#unpublished(draftId);
    if (claimId === undefined ? claim !== undefined : claim?.id !== claimId) throw claim === undefined ? claimLost(draftId) : beingPublished(draftId, claim);
    return key;
  }

  /**
   * The draft's key; refused when published (ENT_DRAFT_PUBLISHED), or claimed by a publication that
   * started at or after `claimsFrom` (ENT_DRAFT_PUBLISHING).
   */
  #requireUnpublished(draftId: string, claimsFrom = ''): number {
    const { key, claim } = this.#unpublished(draftId);
    if (claim !== undefined && claim.at >= claimsFrom) throw beingPublished(draftId, claim);
    return key;
  }

  /** The draft's key and the claim on it; refused when not found or published. */
  #unpublished(draftId: string): { key: number; claim?: StoredClaim } {
    const key = draftKey(draftId);
    const row = key === undefined ? undefined : (this.#sql.selectPublication.get(key) as { publication: string | null } | undefined);
    if (key === undefined || row === undefined) throw notFound(draftId);
    const state = readPublication(row.publication, draftId);
    if (state.publication !== undefined) throw published(draftId, state.publication);
    return state.claim === undefined ? { key } : { key, claim: state.claim };
  }

  #summaryFields(row: DraftRow): { source: Draft['source']; details: Details; publication: DraftPublication | undefined } {
    const details = parseStored<Details>(row.details, `details of draft ${row.id}`, (value) => isObject(value) && Array.isArray(value['warnings']));
    return {
      source: { fileName: row.file_name, sha256: row.sha256, format: row.format, ...(details.pages === undefined ? {} : { pages: details.pages }) },
      details,
      publication: readPublication(row.publication, String(row.id)).publication,
    };
  }
}
