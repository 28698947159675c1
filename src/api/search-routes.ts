import type { FastifyInstance } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import { canReadCollection } from '../policy/recipient.ts';
import { openReleaseGate, type ReleaseGate, type ReleaseSigner } from '../release/open-release-gate.ts';
import type { ObjectStore, SearchHit, StoredEntry } from '../store/object-store.ts';
import { parseSearchQuery, type RawSearchQuery } from './parse-search-query.ts';

/** The properties the full-text index reads (see the store's search). */
const SEARCHED_FIELDS = ['name', 'description', 'aliases', 'x_mitre_aliases'];

/**
 * Searches one request may run to fill its answer when the release decision withholds hits, each
 * asking the store for SEARCH_GROWTH times as many: withheld hits must not take the places of the
 * ones the caller may see (an answer shorter than its limit would say that hidden objects match).
 */
const SEARCH_ROUNDS = 4;
const SEARCH_GROWTH = 4;

export interface SearchRouteContext {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  /** Signs what leaves for partners; absent: hits leave as stored. */
  readonly releaseSigner?: ReleaseSigner;
}

/**
 * `GET /api/search?q=…&type=…&limit=…`: full-text search over the collections the caller can read.
 * Each hit passes the release decision; the response carries each object's stored JSON untouched.
 * Hits come name matches first, then newest first, with no score; an administrator's come by
 * relevance, each with its `rank`.
 */
export function registerSearchRoutes(app: FastifyInstance, ctx: SearchRouteContext): void {
  app.get<{ Querystring: RawSearchQuery }>('/api/search', { config: { policy: 'authenticated', media: 'json' } }, async (request, reply) => {
    const auth = request.auth;
    if (auth === null) throw new EntenteError('ENT_HTTP_INTERNAL', 'search reached without authentication');
    const parsed = parseSearchQuery(request.query);
    if (!parsed.ok) {
      throw new EntenteError('ENT_SEARCH_INVALID', parsed.error.message, { parameter: parsed.error.parameter });
    }
    const recipient = auth.recipient;
    const collectionIds = (await ctx.store.listCollections()).map((c) => c.id).filter((id) => canReadCollection(recipient, id));
    // A relevance score, and the order it gives, are computed over the whole index: only a reader of
    // every collection may have them, or they count documents the reader cannot see (SearchOrder).
    const order = recipient.admin ? 'relevance' : 'own-fields';
    const at = ctx.clock();
    const gates = new Map<string, ReleaseGate>();
    const shared: SearchHit[] = [];
    const wanted = parsed.value.limit;
    // Each hit is decided (and released, audited) once, however many rounds list it again.
    const decided = new Set<string>();
    let asked = wanted;
    for (let round = 0; round < SEARCH_ROUNDS && shared.length < wanted; round += 1, asked *= SEARCH_GROWTH) {
      const hits = await ctx.store.search({ ...parsed.value, limit: asked, collectionIds, order });
      for (const hit of hits) {
        if (shared.length >= wanted) break;
        const key = `${hit.collectionId}\u0000${hit.id}\u0000${hit.version}`;
        if (decided.has(key)) continue;
        decided.add(key);
        const kept = await releasedHit(hit);
        if (kept !== undefined) shared.push(kept);
      }
      if (hits.length < asked) break;
    }

    /** The hit as the caller may receive it, or undefined when it is withheld (or matched on removed text). */
    async function releasedHit(hit: SearchHit): Promise<SearchHit | undefined> {
      let gate = gates.get(hit.collectionId);
      if (gate === undefined) {
        gate = await openReleaseGate(ctx.store, recipient, hit.collectionId, at, ctx.releaseSigner === undefined ? {} : { signer: ctx.releaseSigner });
        gates.set(hit.collectionId, gate);
      }
      const entry: StoredEntry = { id: hit.id, type: hit.type, version: hit.version, specVersion: '2.1', dateAdded: 0, revoked: false, json: hit.json };
      const released = (await gate.release([entry])).released[0];
      if (released === undefined) return undefined;
      if (released.json === hit.json) return hit;
      // Redacted: the hit may have matched on text the recipient may not see. Keep it only when
      // every searchable field survived the redaction, so a search never reveals removed text.
      const original = JSON.parse(hit.json) as Record<string, unknown>;
      const redacted = JSON.parse(released.json) as Record<string, unknown>;
      return SEARCHED_FIELDS.every((field) => (field in original) === (field in redacted)) ? { ...hit, json: released.json } : undefined;
    }
    const results = shared.map(
      (hit) =>
        `{"id":${JSON.stringify(hit.id)},"type":${JSON.stringify(hit.type)},"version":${JSON.stringify(hit.version)},` +
        `"name":${hit.name === undefined ? 'null' : JSON.stringify(hit.name)},"collection_id":${JSON.stringify(hit.collectionId)},` +
        (hit.rank === undefined ? '' : `"rank":${Number.isFinite(hit.rank) ? hit.rank : 0},`) +
        `"object":${hit.json}}`,
    );
    return reply
      .code(200)
      .header('content-type', 'application/json; charset=utf-8')
      .send(`{"query":${JSON.stringify(parsed.value.text)},"count":${results.length},"results":[${results.join(',')}]}`);
  });
}
