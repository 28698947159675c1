import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type ConnectionError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { EntenteError } from '../errors/entente-error.ts';
import { registerSearchRoutes } from '../api/search-routes.ts';
import { registerCircleRoutes } from '../api/circle-routes.ts';
import { registerDraftRoutes } from '../api/draft-routes.ts';
import { registerAlertingRoutes } from '../api/alerts-routes.ts';
import type { BusRelay } from '../correlate/alert-bus.ts';
import { registerFlashRoutes } from '../api/flash-routes.ts';
import { registerRecallRoutes } from '../api/recall-routes.ts';
import type { PeerPost } from '../federation/message-delivery.ts';
import type { NodeSigner } from '../federation/node-key.ts';
import { createNodeSignerProvider } from '../federation/node-signer.ts';
import { createPageVoucher } from '../federation/page-voucher.ts';
import { postToPeer } from '../taxii/post-to-peer.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { ReleaseSigner } from '../release/open-release-gate.ts';
import { registerFederationRoutes } from '../api/federation-routes.ts';
import { registerPeerRoutes } from '../api/peer-routes.ts';
import type { OpenPeerClient } from '../federation/peer-operations.ts';
import { openTaxiiClient } from '../taxii/taxii-client.ts';
import { parseJson } from '../stix/parse-json.ts';
import type { JsonValue } from '../stix/types.ts';
import { registerCollectionsRoutes } from '../taxii/collections-routes.ts';
import { registerDiscoveryRoutes } from '../taxii/discovery-routes.ts';
import { registerManifestRoutes } from '../taxii/manifest-routes.ts';
import { registerObjectsRoutes } from '../taxii/objects-routes.ts';
import { loadCursorKey } from '../taxii/cursor-key.ts';
import { createObjectsPost } from '../taxii/post-objects.ts';
import { registerStatusRoutes } from '../taxii/status-routes.ts';
import { toTaxiiErrorBody } from '../taxii/taxii-error-body.ts';
import { TAXII_MEDIA_TYPE } from '../taxii/taxii-media-types.ts';
import { configDefaults } from '../node-config.ts';
import { sendTaxii, type TaxiiRouteContext } from '../taxii/taxii-route-context.ts';
import { createTokenAuthenticator, MAX_TOKEN_CACHE_TTL_MS } from './authenticate.ts';
import { createRequestGuard, createUploadLimiter } from './request-guard.ts';
import type { UploadPlaces } from './upload-places.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { toEntenteError } from './to-entente-error.ts';
import { enforceRoutePolicies, type DeclaredRoute } from './route-policy.ts';

export interface HttpAppDeps {
  readonly store: ObjectStore;
  readonly logger: Logger;
  readonly limits: { readonly maxBodyBytes: number; readonly maxJsonDepth: number };
  readonly clock: () => Date;
  readonly randomUuid: () => string;
  readonly homeOrganisationId: string;
  readonly node: { readonly title: string; readonly description?: string; readonly apiRootPath: string };
  /** TLS material; plain HTTP when absent. */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
  /** Token lookup cache lifetime in ms, at most 1000 (the default); 0 disables the cache. */
  readonly tokenCacheTtlMs?: number;
  /** Signs what leaves for partners (federation/sign-releases.ts); absent: objects leave as stored. */
  readonly releaseSigner?: ReleaseSigner;
  /** Signed messages to other nodes (flashes, recalls): the signing key and the client; read from the store and the TAXII client by default. */
  readonly messaging?: { readonly signer: () => Promise<NodeSigner>; readonly post: PeerPost; readonly timeoutMs?: number };
  /** Peers (/api/peers, and the coordinator of a mirrored circle): the TAXII client they are reached with (openTaxiiClient by default), and who hears of added or removed ones (the sync scheduler). */
  readonly peers?: { readonly openClient?: OpenPeerClient; readonly onPeersChanged?: () => void };
  /** New flash messages one member's node may deliver in an hour (the node's `flashLimit` setting; 60 by default). */
  readonly flashLimitPerHour?: number;
  /** Longest one report may take to become a draft over REST (the node's `draftTimeLimitMs` setting; 60 s by default). */
  readonly draftTimeLimitMs?: number;
  /** How long the body of POST /api/drafts may take to arrive (DraftRouteOptions.uploadReceiveLimitMs; 5 minutes by default). */
  readonly draftUploadReceiveLimitMs?: number;
  /** With several worker processes: the alert bus shares one numbering and every event with the other workers' (correlate/process-bus-relay.ts). */
  readonly alertRelay?: BusRelay;
  /**
   * How long a request's headers, and the whole request, may take to arrive (the node's
   * `headersTimeoutMs` and `requestTimeoutMs`; 30 s and 5 minutes by default). Past either the client
   * is answered 408 ENT_HTTP_REQUEST_TIMEOUT and its connection closed.
   */
  readonly requestLimits?: { readonly headersTimeoutMs: number; readonly requestTimeoutMs: number };
  /** Connections held at once, past which a new one is closed unanswered (configDefaults.maxConnections by default). */
  readonly maxConnections?: number;
  /** Uploads (bodies over 64 KiB) one token may have received or handled at once (configDefaults.maxUploadsPerToken by default); past it 429 ENT_HTTP_TOO_MANY_UPLOADS. */
  readonly maxUploadsPerToken?: number;
  /** Where those uploads are counted: in this process by default; with `--workers N`, node-wide by the primary (upload-places.ts). */
  readonly uploadPlaces?: UploadPlaces;
  /** On close, how long requests still receiving their body may go on arriving (configDefaults.shutdownGraceMs by default); then 503 ENT_NODE_SHUTTING_DOWN. */
  readonly shutdownGraceMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Forgets cached token lookups at once (after revoking a token in this process). */
    invalidateTokenCache(): void;
    /** Every registered route with its declared policy (for the route-policy test and diagnostics). */
    declaredRoutes: readonly DeclaredRoute[];
  }
}

const API_ROOT_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The node's HTTP app: TAXII 2.1 under /taxii2/, the node's own JSON API under /api/, and /healthz.
 * One error boundary turns every failure into the TAXII error resource; one guard enforces each
 * route's declared policy; one log line per request, with its request id, never with credentials.
 */
export async function createHttpApp(deps: HttpAppDeps): Promise<FastifyInstance> {
  if (!API_ROOT_SEGMENT.test(deps.node.apiRootPath)) {
    throw new EntenteError('ENT_CONFIG_INVALID', `API root path ${JSON.stringify(deps.node.apiRootPath)} must be one URL segment of letters, digits, '.', '_' or '-'`);
  }
  // Read once, before anything listens: no key, no app (never plain cursors).
  const cursorKey = await loadCursorKey(deps.store);
  const logger = deps.logger.child({}, { redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: '[redacted]' } });
  const requestLimits = deps.requestLimits ?? { headersTimeoutMs: configDefaults.headersTimeoutMs, requestTimeoutMs: configDefaults.requestTimeoutMs };
  const serverTimeouts = nodeServerTimeouts(requestLimits);
  /** The request each connection is receiving or was last answered on: which limit a cut one missed. */
  const receiving = new WeakMap<Socket, { readonly request: FastifyRequest; readonly response: ServerResponse }>();
  /**
   * The answers each connection still owes, in any order: with pipelining a request can arrive while
   * an earlier one is handled, and a 408 written then would be read as the earlier one's answer.
   */
  const owed = new WeakMap<Socket, Set<ServerResponse>>();
  /** Connections not read while they have requests held. */
  const paused = new WeakSet<Socket>();
  const clientErrorContext = (socket: Socket): Parameters<typeof answerClientError>[2] => ({ limits: requestLimits, receiving: receiving.get(socket), owed: owed.get(socket) ?? new Set(), errorId: deps.randomUuid, log: logger });
  /**
   * A request past its limit on a connection the node is not reading (requests held behind answers
   * not yet taken, or Node's own pause while an answer waits for the client): the node, not the
   * client, kept its headers or body from arriving, and the cut lost the answers owed. Its limit
   * counts again from when the connection is read. Node looks at a request once only (past its
   * limit it is no longer watched), so the node watches it from then: a client that trickles it
   * is still cut at the same limit. Nor does Node watch the body of a request whose headers were
   * past their limit (it looks again only at the next request): once they come, its body is watched
   * here too, and must be whole within the request limit from then.
   */
  const deferTimeout = (socket: Socket, error: ConnectionError): void => {
    const cut = receiving.get(socket);
    /** The request whose body is awaited; undefined while its headers are. */
    let watched = cut !== undefined && !(cut.request.raw as IncomingMessage).complete ? cut : undefined;
    const notRead = (): boolean => paused.has(socket) || socket.isPaused();
    const watch = (): void => {
      if (socket.destroyed) return;
      if (notRead()) {
        setTimeout(watch, serverTimeouts.connectionsCheckingInterval).unref();
        return;
      }
      /** Whether it arrived in time; a request whose headers came after their limit is watched in its body from then. */
      const arrived = (): boolean => {
        if (watched !== undefined) return (watched.request.raw as IncomingMessage).complete;
        // Not the request on the connection when it was read again: those headers may have come
        // whole with the first read, before this looks.
        const next = receiving.get(socket);
        if (next === cut) return false;
        // A later request than that one may have come since (the earlier complete, then): Node
        // watches that one, and from its start, no later than now.
        if ((next?.request.raw as IncomingMessage | undefined)?.complete !== false) return true;
        watched = next;
        setTimeout(check, requestLimits.requestTimeoutMs).unref();
        return true;
      };
      const check = (): void => {
        if (socket.destroyed) return;
        // Held again before its limit passed: it counts anew once the connection is read again.
        if (notRead()) {
          watch();
          return;
        }
        if (arrived()) return;
        // The answers owed go first (each bounded by the answer limit, onSend below): the client
        // kept its part of them, and the 408 is then the next thing it reads.
        const own = watched?.response;
        const others = [...(owed.get(socket) ?? [])].filter((response) => response !== own);
        void Promise.all(others.map(delivered)).then(() => {
          if (!socket.destroyed && !arrived()) answerClientError(error, socket, clientErrorContext(socket));
        });
      };
      setTimeout(check, watched === undefined ? requestLimits.headersTimeoutMs : requestLimits.requestTimeoutMs).unref();
    };
    watch();
  };
  const app = Fastify({
    loggerInstance: logger,
    // One line per request, written in onResponse below, instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => deps.randomUuid(),
    bodyLimit: deps.limits.maxBodyBytes,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
    // Our own parser reads bodies; prototype-poisoning keys are ordinary data for STIX and never merged.
    // Fastify's own default is no limit at all (requestTimeout 0, which also turns off Node's 5
    // minutes): a client trickling its headers or a 64 MiB body held its socket and what it had sent
    // for ever. Node enforces both limits (server.headersTimeout, server.requestTimeout); Fastify
    // sets requestTimeout on the server it makes, the rest goes to Node's constructor, which takes
    // them from `http` for plain HTTP and from `https` with the TLS material (Fastify passes it only one).
    requestTimeout: requestLimits.requestTimeoutMs,
    // Over TLS the HTTP limits start once the handshake is done: before it, TLS's own limit
    // (handshakeTimeout, 2 minutes by default) is all that holds a client that opens a connection and
    // never completes it. A handshake is a few round trips, part of getting a request's headers in:
    // it gets the headers limit.
    ...(deps.https === undefined ? { http: serverTimeouts } : { https: { cert: deps.https.cert, key: deps.https.key, handshakeTimeout: requestLimits.headersTimeoutMs, ...serverTimeouts } }),
    // Left as Fastify has them: keepAliveTimeout (72 s), which closes a connection idle between
    // requests, as the request limits do not (they count from a request's first byte); no
    // connectionTimeout (socket inactivity), which would cut the alert stream between heartbeats and
    // adds nothing against a client that trickles; no maxRequestsPerSocket, which limits nothing slow.
    clientErrorHandler(error, socket) {
      if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && !socket.destroyed && (paused.has(socket) || socket.isPaused())) deferTimeout(socket, error);
      else answerClientError(error, socket, clientErrorContext(socket));
    },
  }) as unknown as FastifyInstance;

  // However short the limits, a client may open as many connections as it likes: the bound on
  // their number keeps file descriptors for the store, the log and the threads. Node closes one past
  // it before any byte is read (over TLS before the handshake); the operator is told, once a minute.
  const maxConnections = deps.maxConnections ?? configDefaults.maxConnections;
  app.server.maxConnections = maxConnections;
  let droppedSince: { at: number; count: number } | undefined;
  app.server.on('drop', (dropped) => {
    const now = Date.now();
    if (droppedSince !== undefined && now - droppedSince.at < 60_000) {
      droppedSince.count++;
      return;
    }
    logger.warn({ max_connections: maxConnections, remote: dropped?.remoteAddress, dropped_since_last: droppedSince?.count ?? 0 }, 'connection closed unanswered: the node already holds maxConnections connections');
    droppedSince = { at: now, count: 0 };
  });

  const authenticator = createTokenAuthenticator({
    store: deps.store,
    homeOrganisationId: deps.homeOrganisationId,
    ttlMs: deps.tokenCacheTtlMs ?? MAX_TOKEN_CACHE_TTL_MS,
  });
  app.decorate('invalidateTokenCache', () => authenticator.invalidate());
  app.decorate('declaredRoutes', enforceRoutePolicies(app));
  app.decorateRequest('auth', null);
  app.decorateRequest('collection', null);

  app.removeAllContentTypeParsers();
  const parseBody = (_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: JsonValue) => void): void => {
    const result = parseJson(typeof body === 'string' ? body : body.toString('utf8'), {
      maxDepth: deps.limits.maxJsonDepth,
      maxBytes: deps.limits.maxBodyBytes,
    });
    if (result.ok) done(null, result.value);
    else done(new EntenteError(result.error.code, result.error.message, {
      ...(result.error.line === undefined ? {} : { line: result.error.line }),
      ...(result.error.column === undefined ? {} : { column: result.error.column }),
    }));
  };
  app.addContentTypeParser('application/taxii+json', { parseAs: 'string' }, parseBody);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseBody);

  // Before the guard, so that a request refused by it is known too: its body may still trickle in.
  // Hooks with a callback, not async: no promise per request on the path of every TAXII page.
  const held = new WeakMap<Socket, HeldRequest[]>();
  /** Connections that pipelined past MAX_HELD: answered what they are owed, then closed. */
  const overflowing = new WeakSet<Socket>();
  /** Connections with a request under way or kept alive (for the stop: requests still arriving are cut after the grace). */
  const connections = new Set<Socket>();
  app.addHook('onRequest', (request, reply, done) => {
    const socket = request.raw.socket;
    let answers = owed.get(socket);
    let queue = held.get(socket);
    if (answers === undefined || queue === undefined) {
      owed.set(socket, (answers = new Set()));
      held.set(socket, (queue = []));
      connections.add(socket);
      socket.once('close', () => connections.delete(socket));
    }
    if (overflowing.has(socket)) {
      // The rest of the read that overflowed (stopParsing takes effect from the next): neither
      // handled nor answered.
      reply.hijack();
      return;
    }
    const hold = answers.size - queue.length >= MAX_PIPELINED || queue.length > 0;
    if (hold) {
      if (queue.length >= MAX_HELD) {
        // Node hands every request of a read to the routes at once, up to a read's worth (64 KB,
        // thousands of small GETs). A client this far ahead of its answers is not served on: it gets
        // the answers it is owed, in order, then the connection is closed; this request and the
        // rest are not handled (hijacked: their answers could not be delivered after the close).
        logger.warn({ reqId: request.id, remote: socket.remoteAddress, held: queue.length }, `more than ${MAX_HELD} requests pipelined on one connection beyond the ${MAX_PIPELINED} handled: closed once the earlier ones are answered`);
        overflowing.add(socket);
        stopParsing(socket);
        reply.hijack();
        if (answers.size === 0) lingerClose(socket);
        return;
      }
      // Handled later, in order, once earlier answers are delivered: the client still gets every
      // answer, and no more than MAX_PIPELINED of them are built at once (40 pipelined GETs of a
      // 10 MB page, never read, had the node build 400 MB for one connection). The connection is
      // not read meanwhile, so what a client sends ahead waits in its own buffers, not the node's.
      queue.push({ response: reply.raw, proceed: done });
      paused.add(socket);
      socket.pause();
    }
    receiving.set(socket, { request, response: reply.raw });
    const response = reply.raw;
    answers.add(response);
    // 'finish': the whole answer is handed to the connection; 'close': it never will be.
    const paid = (): void => {
      if (!answers.delete(response)) return;
      proceedHeld(socket, answers, queue);
    };
    response.once('finish', paid).once('close', paid);
    if (!hold) done();
  });
  /** Hands held requests of a connection on to the routes while fewer than MAX_PIPELINED are handled; reads it again once none is held. */
  const proceedHeld = (socket: Socket, answers: Set<ServerResponse>, queue: HeldRequest[]): void => {
    if (socket.destroyed) {
      queue.length = 0;
      return;
    }
    while (queue.length > 0 && answers.size - queue.length < MAX_PIPELINED) queue.shift()?.proceed();
    if (overflowing.has(socket)) {
      if (answers.size === 0) lingerClose(socket);
    } else if (queue.length === 0 && paused.delete(socket)) socket.resume();
  };
  app.addHook('onRequest', createRequestGuard({ authenticator, collections: deps.store, uploads: createUploadLimiter(deps.maxUploadsPerToken ?? configDefaults.maxUploadsPerToken, deps.uploadPlaces) }));

  // `Expect: 100-continue`: Node answers "100 Continue" itself as the headers arrive, before the
  // guard has looked at them, and a client whose upload was to be refused (401, 403, 404, 429, or a
  // Content-Length over the body limit: 413) was told to send its body all the same. With a
  // checkContinue listener Node leaves that to the node: 100 Continue once the guard lets the
  // request through, else the refusal alone, and Node closes the connection after it (a final
  // answer without 100 Continue: the body, unread, may or may not follow).
  const awaitingContinue = new WeakSet<IncomingMessage>();
  app.server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    awaitingContinue.add(request);
    app.server.emit('request', request, response);
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (!awaitingContinue.has(request.raw)) {
      done();
      return;
    }
    // The not-found handler comes after the body is read, which the client is waiting to be asked for.
    if (request.is404) {
      done(notFound(request));
      return;
    }
    // Over the limit, Fastify refuses it 413 by its Content-Length before reading anything.
    if (!(Number(request.headers['content-length'] ?? 0) > request.routeOptions.bodyLimit)) reply.raw.writeContinue();
    done();
  });

  // On stop, Node waits for every request under way: a client trickling an upload held the stop
  // for up to the request limit (5 minutes). After the grace, a request still receiving its body is
  // answered 503 ENT_NODE_SHUTTING_DOWN and its connection closed. Nothing of it was stored (a body
  // is parsed and written only once whole); requests already received are handled and answered,
  // so whatever was acknowledged is stored whole.
  const shutdownGraceMs = deps.shutdownGraceMs ?? configDefaults.shutdownGraceMs;
  let graceTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  app.addHook('preClose', (done) => {
    stopping = true;
    graceTimer = setTimeout(() => {
      for (const socket of connections) {
        const current = receiving.get(socket);
        if (current === undefined || (current.request.raw as IncomingMessage).complete || socket.destroyed) continue;
        const refusal = new EntenteError('ENT_NODE_SHUTTING_DOWN', `The node is shutting down: the request body had not all arrived within the ${shutdownGraceMs} ms it allows on stop; nothing of the request was kept: send it again, whole, once the node is back`, { limit_ms: shutdownGraceMs });
        logger.info({ reqId: current.request.id, remote: socket.remoteAddress, url: current.request.url, limit_ms: shutdownGraceMs }, 'request body still arriving when the node stopped: connection closed');
        // Earlier requests of the connection (pipelining) arrived whole: their answers go first,
        // else a write they made would be lost to its client; then the 503, read as this one's.
        const others = [...(owed.get(socket) ?? [])].filter((response) => response !== current.response);
        void Promise.all(others.map(delivered)).then(() => {
          // Meanwhile the body may have come whole: then it is handled and answered as any other.
          if (socket.destroyed || (current.request.raw as IncomingMessage).complete) return;
          // Nor may it come whole from now on: the 503 says that nothing of it was kept.
          stopParsing(socket);
          if (socket.writable && !current.response.headersSent) writeRawError(socket, refusal, current.request.id, answersInTaxii(current.request));
          lingerClose(socket);
        });
      }
    }, shutdownGraceMs);
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearTimeout(graceTimer);
    done();
  });
  // An answer must be taken as a request must arrive: within requestTimeoutMs from when it starts
  // to be sent (64 MiB at under 2 Mbit/s by default). A client that never reads held its connection
  // and what the kernel could not take of its answer (a page of many megabytes) for ever: Node times
  // nothing out while a response is written, and keep-alive counts only once it is. The alert
  // stream (hijacked, no onSend) is unending by design and bounds what it holds itself.
  const delivering = new WeakSet<ServerResponse>();
  app.addHook('onSend', (request, reply, payload, done) => {
    const response = reply.raw;
    if (delivering.has(response)) {
      done(null, payload); // an error answer replacing this one: one limit
      return;
    }
    delivering.add(response);
    const socket = request.raw.socket;
    // Node closes only the connections idle when the stop begins: one answered after it was kept
    // alive, and held the stop until its client closed it or keepAliveTimeout (72 s) passed. Not
    // while another answer of the connection is still to come (pipelining): it would be lost.
    if (stopping && (owed.get(socket)?.size ?? 0) <= 1 && (held.get(socket)?.length ?? 0) === 0) void reply.header('connection', 'close');
    const timer = setTimeout(() => {
      if (response.writableFinished || socket.destroyed) return;
      logger.info({ reqId: request.id, remote: socket.remoteAddress, limit_ms: requestLimits.requestTimeoutMs, url: request.url }, 'answer not taken in time: connection closed');
      socket.destroy();
    }, requestLimits.requestTimeoutMs);
    timer.unref();
    const stop = (): void => clearTimeout(timer);
    response.once('finish', stop).once('close', stop);
    done(null, payload);
  });
  app.addHook('onResponse', async (request, reply) => {
    if (!logger.isLevelEnabled('info')) return;
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        token: request.auth?.token.name,
      },
      'request',
    );
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    const entente = toEntenteError(error);
    if (entente.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendError(request, reply, entente);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, notFound(request)));

  const ctx: TaxiiRouteContext = {
    store: deps.store,
    clock: deps.clock,
    randomUuid: deps.randomUuid,
    title: deps.node.title,
    description: deps.node.description,
    apiRootPath: `/taxii2/${deps.node.apiRootPath}/`,
    maxBodyBytes: deps.limits.maxBodyBytes,
    cursorKey,
    ...(deps.releaseSigner === undefined ? {} : { releaseSigner: deps.releaseSigner }),
    pageVoucher: createPageVoucher({ signers: createNodeSignerProvider({ store: deps.store, organisationId: deps.homeOrganisationId, clock: deps.clock }), clock: deps.clock }),
  };
  registerHealthRoutes(app, { clock: deps.clock });
  registerDiscoveryRoutes(app, ctx);
  registerCollectionsRoutes(app, ctx);
  registerObjectsRoutes(app, ctx, createObjectsPost({ store: deps.store, clock: deps.clock, randomUuid: deps.randomUuid, homeOrganisationId: deps.homeOrganisationId }));
  registerManifestRoutes(app, ctx);
  registerStatusRoutes(app, ctx);
  registerSearchRoutes(app, { store: deps.store, clock: deps.clock, ...(deps.releaseSigner === undefined ? {} : { releaseSigner: deps.releaseSigner }) });
  registerCircleRoutes(app, { store: deps.store, clock: deps.clock, homeOrganisationId: deps.homeOrganisationId, openClient: deps.peers?.openClient ?? openTaxiiClient });
  registerDraftRoutes(app, { store: deps.store, clock: deps.clock, randomUuid: deps.randomUuid, homeOrganisationId: deps.homeOrganisationId }, {
    limits: deps.limits,
    ...(deps.draftTimeLimitMs === undefined ? {} : { draftTimeLimitMs: deps.draftTimeLimitMs }),
    ...(deps.draftUploadReceiveLimitMs === undefined ? {} : { uploadReceiveLimitMs: deps.draftUploadReceiveLimitMs }),
  });
  registerAlertingRoutes(app, { store: deps.store, logger, clock: deps.clock, randomUuid: deps.randomUuid, homeOrganisationId: deps.homeOrganisationId, cursorKey, ...(deps.alertRelay === undefined ? {} : { relay: deps.alertRelay }) });
  registerFederationRoutes(app, { store: deps.store, clock: deps.clock });
  registerPeerRoutes(app, {
    store: deps.store,
    clock: deps.clock,
    homeOrganisationId: deps.homeOrganisationId,
    openClient: deps.peers?.openClient ?? openTaxiiClient,
    ...(deps.releaseSigner === undefined ? {} : { releaseSigner: deps.releaseSigner }),
    ...(deps.peers?.onPeersChanged === undefined ? {} : { onPeersChanged: deps.peers.onPeersChanged }),
  });
  const signers = createNodeSignerProvider({ store: deps.store, organisationId: deps.homeOrganisationId, clock: deps.clock });
  const messaging = deps.messaging ?? { signer: () => signers.current(), post: postToPeer };
  const messageDeps = { store: deps.store, clock: deps.clock, homeOrganisationId: deps.homeOrganisationId, ...messaging };
  registerFlashRoutes(app, {
    ...messageDeps,
    randomUuid: deps.randomUuid,
    ...(deps.flashLimitPerHour === undefined ? {} : { flashLimitPerHour: deps.flashLimitPerHour }),
  });
  registerRecallRoutes(app, messageDeps);

  await app.ready();
  return app;
}

/**
 * Requests of one connection handled at once (HTTP pipelining: sent before the earlier ones were
 * answered). Clients seldom pipeline, and none needs this many in flight to be served quickly.
 */
const MAX_PIPELINED = 8;

/**
 * Requests of one connection held, past MAX_PIPELINED, until earlier answers are delivered. Beyond
 * it the connection is answered what it is owed and closed: no client needs to be this far ahead.
 */
const MAX_HELD = 64;

/** A pipelined request waiting for its turn to be handled: `proceed` hands it on to the routes. */
interface HeldRequest {
  readonly response: ServerResponse;
  readonly proceed: () => void;
}

/**
 * What a connection sends from now on is read and dropped, no longer parsed as requests: Node keeps
 * every request it parses (and its answer, never sent) until the connection closes, and a client
 * sending on while its answers went out or the connection lingered had it keep tens of thousands.
 * Still read, so that the connection closes without a reset (lingerClose). Adding a 'data' listener
 * is what makes Node's HTTP server stop feeding the socket to its parser (it unconsumes it).
 */
function stopParsing(socket: Socket): void {
  socket.removeAllListeners('data');
  socket.on('data', discard);
}

function discard(): void {}

/**
 * Ends a connection once what it was written is sent, and discards what the client still sends
 * for a while: closing a socket with unread bytes resets it, and the client loses the answers in
 * its buffers (as nginx's lingering_close avoids).
 */
function lingerClose(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

const LINGER_MS = 2000;

/** Resolves once `response` is handed to its connection whole, or never will be. */
function delivered(response: ServerResponse): Promise<void> {
  if (response.writableFinished || response.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    response.once('finish', () => resolve()).once('close', () => resolve());
  });
}

/** An error answer written on the connection itself, when no route can write it (the connection is closed after it). */
function writeRawError(socket: Socket, error: EntenteError, requestId: string, taxii: boolean): void {
  const body = JSON.stringify(toTaxiiErrorBody(error, requestId));
  const media = taxii ? TAXII_MEDIA_TYPE : 'application/json; charset=utf-8';
  const reason = STATUS_CODES[error.status] ?? 'Error';
  socket.write(`HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: ${media}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Node's settings behind the request limits, for its http or https server. Node looks for requests
 * past their limits every `connectionsCheckingInterval` (30 s by default, which let a client keep
 * its socket up to twice the 30 s headers limit): here a tenth of the shorter limit, at most a
 * second. A look walks the connections receiving a request, cheap even with thousands.
 */
function nodeServerTimeouts(limits: { readonly headersTimeoutMs: number; readonly requestTimeoutMs: number }): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10))),
  };
}

/**
 * A connection Node gave up on before a route could answer it: a request past its limit
 * (ERR_HTTP_REQUEST_TIMEOUT, from Node's check of headersTimeout and requestTimeout), or bytes that
 * are not HTTP. It gets what Fastify's own handler gives it, but a timeout as the node's error
 * resource (408 ENT_HTTP_REQUEST_TIMEOUT, naming the limit it missed), then the connection is
 * closed: the rest of a trickling body is not waited for.
 */
function answerClientError(
  error: ConnectionError,
  socket: Socket,
  context: {
    readonly limits: { readonly headersTimeoutMs: number; readonly requestTimeoutMs: number };
    /** The request the connection carries or carried last (FastifyRequest, from onRequest). */
    readonly receiving: { readonly request: FastifyRequest; readonly response: ServerResponse } | undefined;
    /** The answers the connection still owes (responses neither finished nor closed). */
    readonly owed: ReadonlySet<ServerResponse>;
    readonly errorId: () => string;
    readonly log: Logger;
  },
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const current = context.receiving;
  // A request whose headers arrived and whose body has not all come: it missed the request limit.
  // Otherwise (nothing yet, headers trickling, or the next request on a kept-alive connection) the headers limit.
  const inBody = current !== undefined && !(current.request.raw as IncomingMessage).complete;
  // An answer is written only when it is the next one the client reads, and it is read as the
  // answer to the request that was cut: not into a response under way (it would be read as part of
  // it), not after the cut request was already answered (a refusal while its body still came), not
  // while an earlier request is still handled (pipelining: the 408, "nothing was kept", would be read
  // as its answer, though the node goes on to handle it). Otherwise the connection is only closed.
  const cutsOwn = inBody ? current.response : undefined;
  const owesOther = [...context.owed].some((response) => response !== cutsOwn);
  const writable = socket.writable && !owesOther && !(cutsOwn !== undefined && cutsOwn.headersSent);
  if (error.code !== 'ERR_HTTP_REQUEST_TIMEOUT') {
    const [status, text] = error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
    const body = JSON.stringify({ error: text, message: 'Client Error', statusCode: status });
    if (writable) socket.write(`HTTP/1.1 ${status} ${text}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
    socket.destroy(error);
    return;
  }
  const limitMs = inBody ? context.limits.requestTimeoutMs : context.limits.headersTimeoutMs;
  const what = inBody ? 'the request body was not all received' : "the request's headers were not received";
  const requestId = inBody ? current.request.id : context.errorId();
  const refusal = new EntenteError('ENT_HTTP_REQUEST_TIMEOUT', `${what} within ${limitMs} ms; the connection is closed and nothing of the request was kept: send it again, whole`, { limit_ms: limitMs });
  context.log.info({ reqId: requestId, remote: socket.remoteAddress, limit_ms: limitMs, url: inBody ? current.request.url : undefined }, inBody ? 'request body too slow: connection closed' : 'request headers too slow: connection closed');
  if (writable) {
    const body = JSON.stringify(toTaxiiErrorBody(refusal, requestId));
    const media = inBody && answersInTaxii(current.request) ? TAXII_MEDIA_TYPE : 'application/json; charset=utf-8';
    socket.write(`HTTP/1.1 408 Request Timeout\r\nContent-Type: ${media}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

function notFound(request: FastifyRequest): EntenteError {
  return new EntenteError('ENT_HTTP_NOT_FOUND', `No resource at ${request.method} ${request.url.split('?')[0] ?? ''}`);
}

const AUTH_CHALLENGES = ['Bearer realm="entente"', 'Basic realm="entente", charset="UTF-8"'];

/** Whether an error answer to `request` is a TAXII one (its media type), whoever writes it: a route or the connection's error handler. */
function answersInTaxii(request: FastifyRequest): boolean {
  return request.routeOptions.config.media === 'taxii' || request.url.startsWith('/taxii2/');
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: EntenteError): FastifyReply {
  const taxii = answersInTaxii(request);
  if (error.status === 401) reply.header('www-authenticate', AUTH_CHALLENGES);
  const body = JSON.stringify(toTaxiiErrorBody(error, request.id));
  reply.header('x-request-id', request.id);
  if (taxii) return sendTaxii(reply, error.status, body);
  return reply.code(error.status).header('content-type', 'application/json; charset=utf-8').send(body);
}
