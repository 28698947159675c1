import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badField, bodyOf, optionalString, sendJson } from './json-body.ts';
import { EntenteError } from '../errors/entente-error.ts';
import type { DecisionInput } from '../drafts/decide-draft-items.ts';
import { draftJson, itemJson, publicationJson, summaryJson } from '../drafts/draft-json.ts';
import { draftUploadOf } from '../drafts/draft-upload-body.ts';
import { DraftWorkerPool } from '../drafts/draft-worker-pool.ts';
import { decideOnDraft, listVisibleDrafts, publishDraft, requireDraft, storeProposedDraft, type DraftDeps } from '../drafts/draft-operations.ts';
import type { DraftViewer, NewDraft } from '../drafts/draft.ts';
import { decideCollectionAccess } from '../server/route-policy.ts';
import { canReadCollection, type Recipient } from '../policy/recipient.ts';

interface DraftParams {
  draftId: string;
}

interface ItemParams extends DraftParams {
  itemId: string;
}

export interface DraftRouteOptions {
  /** The node's limits on request bodies (ENTENTE_MAX_BODY_BYTES, ENTENTE_MAX_JSON_DEPTH), which an upload's body is read within. */
  readonly limits: { readonly maxBodyBytes: number; readonly maxJsonDepth: number };
  /** Longest one upload may take to become a draft (NodeConfig.draftTimeLimitMs); DraftWorkerPool's default when absent. */
  readonly draftTimeLimitMs?: number;
  /** How long an upload's body may take to arrive, in ms (UPLOAD_RECEIVE_LIMIT_MS; shorter in tests). */
  readonly uploadReceiveLimitMs?: number;
}

/**
 * How long the body of POST /api/drafts may take to arrive, from when the request was let in: 64 MiB
 * at under 2 Mbit/s. Written when the node's HTTP server set no request timeout: a body that stopped
 * coming (or came a byte now and then) held its connection, what it had sent (up to 64 MiB) and its
 * place in the drafting queue without end. The server now limits every request's arrival
 * (NodeConfig.requestTimeoutMs, 5 minutes by default, counted from its first byte), which cuts such
 * an upload first; this limit stays for a node whose request limit is set longer, where an upload
 * holding a place in the drafting queue must still not wait that long.
 */
const UPLOAD_RECEIVE_LIMIT_MS = 5 * 60 * 1000;

/** The media types the node reads JSON bodies of (create-http-app.ts). */
const JSON_MEDIA_TYPES = ['application/json', 'application/taxii+json'];

/**
 * The caller, who must act for the home organisation: drafts are its own unpublished work. Within
 * it, a draft is its author's: the token that made it and administrators see it (canSeeDraft).
 */
function homeCaller(request: FastifyRequest): { recipient: Recipient; analyst: string; viewer: Exclude<DraftViewer, 'operator'> } {
  if (request.auth === null) throw new EntenteError('ENT_HTTP_INTERNAL', 'draft route reached without authentication');
  if (!request.auth.recipient.actsForHome) {
    throw new EntenteError('ENT_DRAFT_HOME_ONLY', "Drafts are the home organisation's own work; a partner's token cannot see or change them");
  }
  return { recipient: request.auth.recipient, analyst: request.auth.token.name, viewer: { token: request.auth.token.name, admin: request.auth.recipient.admin } };
}




function decisionOf(body: Record<string, unknown>): DecisionInput {
  const decision = optionalString(body, 'decision', 16);
  const value = optionalString(body, 'value', 65_536);
  const pattern = optionalString(body, 'pattern', 65_536);
  const reason = optionalString(body, 'reason', 2000);
  switch (decision) {
    case 'accept':
    case 'accepted':
    case 'reject':
    case 'rejected':
      if (value !== undefined || pattern !== undefined) throw badField(value === undefined ? 'pattern' : 'value', 'a new value or pattern goes with "decision": "edit"');
      return { decision: decision.startsWith('accept') ? 'accept' : 'reject', ...(reason === undefined ? {} : { reason }) };
    case 'edit':
    case 'edited':
      if (value === undefined && pattern === undefined) throw badField('value', '"decision": "edit" needs "value" (or, for an observable, "pattern")');
      return { decision: 'edit', ...(value === undefined ? {} : { value }), ...(pattern === undefined ? {} : { pattern }) };
    case undefined:
      throw badField('decision', '"decision" is required: "accept", "reject" or "edit"');
    default:
      throw badField('decision', '"decision" must be "accept", "reject" or "edit"');
  }
}

/**
 * `/api/drafts`: the console's review of extraction and tagging. Drafts are the home organisation's
 * own unpublished work: every route needs a token acting for the home organisation (a partner's
 * gets 403 ENT_DRAFT_HOME_ONLY). Each draft is its author's: lists show a token the drafts it made
 * (an administrator every draft), and another token's draft answers 404 ENT_DRAFT_NOT_FOUND exactly
 * as a draft that does not exist. Publishing needs, besides, write access to the target collection.
 */
export function registerDraftRoutes(app: FastifyInstance, deps: DraftDeps, options: DraftRouteOptions): void {
  const authenticated = { config: { policy: 'authenticated' as const, media: 'json' as const } };
  // Reading, extraction and tagging of an upload run on a worker thread, within a time limit: on
  // this thread they held the event loop, so every other client of the node, for seconds a report.
  const drafting = new DraftWorkerPool(options.draftTimeLimitMs === undefined ? {} : { timeLimitMs: options.draftTimeLimitMs });
  app.addHook('onClose', () => drafting.close());

  app.get('/api/drafts', authenticated, async (request, reply) => {
    const { viewer } = homeCaller(request);
    const drafts = await listVisibleDrafts(deps, viewer);
    return sendJson(reply, 200, { drafts: drafts.map((summary) => summaryJson(summary, viewer.admin)) });
  });

  // The upload's body is read on the drafting thread too, not by the node's JSON body parser: a
  // report of 48 MB comes as 64 MB of JSON, whose decoding, parsing, checks and base64 held the event
  // loop for over a second (parseDraftUploadBody answers as that parser and this route did). The
  // parser is replaced in this route's own context only: every other route reads JSON as before.
  void app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    const receiveLimitMs = options.uploadReceiveLimitMs ?? UPLOAD_RECEIVE_LIMIT_MS;
    /** Gives up the place an upload held in the drafting queue while its body arrived (DraftWorkerPool.reserve). */
    const arrived = new WeakMap<FastifyRequest, () => void>();
    // The body is read through a stream this hook ends with an error once the limit passes: Fastify
    // then answers that error (400 ENT_INPUT_UNREADABLE) on the connection, which is closed after it
    // rather than kept waiting for the rest. Nothing was handed to the drafting thread yet.
    uploads.addHook('preParsing', async (request, reply, payload) => {
      // The upload counts against the drafting queue from its first byte, not once its body is read
      // (DraftWorkerPool.reserve): past the places, it is refused before any of its body is. A
      // partner's token is refused first (ENT_DRAFT_HOME_ONLY), so that it can hold no place.
      let release: () => void;
      try {
        homeCaller(request);
        release = drafting.reserve();
      } catch (error) {
        void reply.header('connection', 'close');
        throw error;
      }
      const bounded = new PassThrough();
      const timer = setTimeout(() => {
        payload.unpipe(bounded);
        void reply.header('connection', 'close');
        bounded.destroy(new EntenteError('ENT_INPUT_UNREADABLE', `the request body was not received within ${receiveLimitMs} ms; nothing of it was kept: send it again, whole`, { limit_ms: receiveLimitMs }));
      }, receiveLimitMs);
      const stop = (): void => clearTimeout(timer);
      bounded.once('end', stop).once('close', stop);
      // The place is given up once the pool counts the upload itself (busy or waiting: the handler
      // calls `arrived`), or when the request is answered otherwise (refused, failed, cut off).
      arrived.set(request, release);
      reply.raw.once('close', stop).once('finish', stop).once('close', release).once('finish', release);
      payload.once('error', (error) => bounded.destroy(error));
      payload.pipe(bounded);
      return bounded;
    });
    uploads.addContentTypeParser(JSON_MEDIA_TYPES, { parseAs: 'buffer' }, (_request: FastifyRequest, body: Buffer, done: (error: Error | null, body?: Buffer) => void) => done(null, body));
    uploads.post('/api/drafts', authenticated, async (request, reply) => {
      const { analyst, viewer } = homeCaller(request);
      const raw = request.body;
      // Without a body there is nothing to parse: refused here as before (neither report field).
      // Called, the pool counts the upload at once (busy or waiting): the place held while its body
      // arrived is given up then, not before, so that no other upload takes it in between.
      let proposed: Promise<NewDraft>;
      try {
        proposed = raw instanceof Uint8Array ? drafting.proposeBody({ bytes: raw, createdBy: analyst, ...options.limits }) : drafting.propose(draftUploadOf(raw, analyst));
      } finally {
        arrived.get(request)?.();
      }
      const draft = await storeProposedDraft(deps, await proposed, viewer);
      return sendJson(reply, 201, draftJson(draft, false, viewer.admin));
    });
  });

  app.get<{ Params: DraftParams; Querystring: { text?: string } }>('/api/drafts/:draftId', authenticated, async (request, reply) => {
    const { viewer } = homeCaller(request);
    const draft = await requireDraft(deps, request.params.draftId, viewer);
    return sendJson(reply, 200, draftJson(draft, request.query.text === 'true', viewer.admin));
  });

  app.post<{ Params: ItemParams }>('/api/drafts/:draftId/items/:itemId', authenticated, async (request, reply) => {
    const { analyst, viewer } = homeCaller(request);
    const decision = decisionOf(bodyOf(request, ['decision', 'value', 'pattern', 'reason']));
    const [item] = await decideOnDraft(deps, request.params.draftId, [request.params.itemId], decision, analyst, viewer);
    return sendJson(reply, 200, item === undefined ? {} : itemJson(item));
  });

  app.post<{ Params: DraftParams }>('/api/drafts/:draftId/publish', authenticated, async (request, reply) => {
    const { recipient, analyst, viewer } = homeCaller(request);
    const body = bodyOf(request, ['circle', 'collection', 'tlp', 'name', 'reject_pending', 'revision']);
    const rejectPending = Object.hasOwn(body, 'reject_pending') ? body['reject_pending'] : false;
    if (typeof rejectPending !== 'boolean') throw badField('reject_pending', '"reject_pending" must be true or false');
    const circle = optionalString(body, 'circle', 200);
    const collection = optionalString(body, 'collection', 200);
    const tlp = optionalString(body, 'tlp', 20);
    const name = optionalString(body, 'name', 500);
    // The revision of GET /api/drafts/ID the analyst reviewed: that state of the draft, or 409 ENT_DRAFT_CHANGED.
    const revision = optionalString(body, 'revision', 64);
    const outcome = await publishDraft(deps, {
      draftId: request.params.draftId,
      ...(circle === undefined ? {} : { circle }),
      ...(collection === undefined ? {} : { collection }),
      ...(tlp === undefined ? {} : { tlp: tlp.toLowerCase() }),
      ...(name === undefined ? {} : { name }),
      ...(revision === undefined ? {} : { revision }),
      analyst,
      viewer,
      rejectPending,
      access: (collectionId) => decideCollectionAccess(recipient, collectionId, 'collection-write'),
      read: (collectionId) => canReadCollection(recipient, collectionId),
    });
    // `duplicate` is absent for a token that cannot read the target: `added` then counts both (PublishOutcome).
    const counts = outcome.duplicate === undefined ? { added: outcome.added } : { added: outcome.added, duplicate: outcome.duplicate };
    return sendJson(reply, 201, { publication: publicationJson(outcome.publication), ...counts, warnings: outcome.warnings, report: outcome.report });
  });
}
