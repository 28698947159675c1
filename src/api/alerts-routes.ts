// Alerts in the running node: POST /api/observations feeds the node's matcher, GET /api/alerts/stream
// sends the alerts raised as Server-Sent Events, and webhooks receive them as signed JSON POSTs.
// The stream also carries notices (`event: notice`: flash messages, silent peers, recalls carried
// out), numbered with the alerts; webhooks receive alerts only. A token gets on the stream what the
// REST routes would show it (canSeeNotice), and the sightings a POST stores for it are those of the
// indicators it may read.
// Alerts are the home organisation's own: a partner's token gets the 404 of a route that does not
// exist, before its body is read, so the routes' existence is not revealed to partners.
// The bus numbers events node-wide, the ones a token may not see included: tokens are shown those
// numbers sealed (alert-event-ids.ts), never the numbers, which would count the hidden ones.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { EntenteError } from '../errors/entente-error.ts';
import { canReadCollection, type Recipient } from '../policy/recipient.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { toRecipient } from '../server/authenticate.ts';
import { AlertBus, isNoticeEvent, type AlertEvent, type AlertJson, type BusEvent, type BusRelay, type NoticeEvent, type NoticeJson } from '../correlate/alert-bus.ts';
import type { ConfidenceBasis } from '../correlate/effective-confidence.ts';
import { alertAsReadBy, isAlertForReader } from '../correlate/alert-for-reader.ts';
import { AudienceBatch, type AlertAudience } from '../correlate/audience-batch.ts';
import { NodeMatcher } from '../correlate/node-matcher.ts';
import type { OverBudget } from '../correlate/bulk-matcher.ts';
import type { PatternOverLimit } from '../correlate/load-indicators.ts';
import { patternOverLimitCode } from '../pattern/pattern-limits.ts';
import { WebhookDispatcher } from '../correlate/webhook-delivery.ts';
import type { CursorKey } from '../taxii/cursor.ts';
import { AlertEventIds } from './alert-event-ids.ts';

export interface AlertingDeps {
  readonly store: ObjectStore;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly randomUuid: () => string;
  readonly homeOrganisationId: string;
  /** The node's cursor key (taxii/cursor-key.ts), from which the key that seals event ids is derived. */
  readonly cursorKey: CursorKey;
  /** Relays the bus through the primary process when several workers serve the node; absent: this process alone numbers its events. */
  readonly relay?: BusRelay;
}

/** Settings of the stream, read when a client connects (tests and benches may lower them). */
export interface AlertStreamTuning {
  heartbeatMs: number;
  /** A client whose unsent output exceeds this is disconnected rather than buffered without bound. */
  maxBufferedBytes: number;
}

export interface Alerting {
  readonly bus: AlertBus;
  readonly matcher: NodeMatcher;
  readonly webhooks: WebhookDispatcher;
  readonly tuning: AlertStreamTuning;
  /** The ids clients are shown for the bus's events. */
  readonly eventIds: AlertEventIds;
  /** Open SSE connections. */
  readonly streams: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The node's matcher, alert bus and webhook dispatcher. */
    alerting: Alerting;
  }
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl'];

/** An NDJSON body as received (a JSON body is parsed by the app's JSON parser instead). */
class NdjsonBody {
  constructor(readonly text: string) {}
}

/** The 404 the app gives for a path it does not serve (see setNotFoundHandler in create-http-app.ts). */
function notFound(request: FastifyRequest): EntenteError {
  return new EntenteError('ENT_HTTP_NOT_FOUND', `No resource at ${request.method} ${request.url.split('?')[0] ?? ''}`);
}

async function homeOnly(request: FastifyRequest): Promise<void> {
  if (request.auth === null || !request.auth.recipient.actsForHome) throw notFound(request);
}

/** Whether the token is sent the alert (isAlertForReader): a home token, as a reader of the collections it may read. */
export function canSeeAlert(recipient: Recipient, event: AlertEvent): boolean {
  return recipient.actsForHome && isAlertForReader(event, (collectionId) => canReadCollection(recipient, collectionId));
}

/**
 * The alert as a token is shown it: the name of the token whose POST raised it (`input: "api:<name>"`)
 * to administrators only, who may list the tokens; any other token sees `"api"`. The collection whose
 * observed-data raised it (`input: "collection:<id>"`, the node's own) to administrators and to tokens
 * that may read that collection; any other token sees `"collection"`. Its confidence and severity
 * count the sightings and opinions of the collections the token may read only, and its source's
 * reputation and corroboration by other members as those collections alone tell them (`basis`, the
 * event's: without one the alert's confidence is everyone's). Administrators, like webhooks, are shown
 * the node's own assessment, computed over every collection (`alert.confidence`).
 */
export function alertFor(recipient: Recipient, alert: AlertJson, basis?: ConfidenceBasis): AlertJson {
  return recipient.admin ? alert : alertAsReadBy(alert, basis, (collectionId) => canReadCollection(recipient, collectionId));
}

/**
 * A notice is shown to a home token that may see what it is about through the REST API: a flash or a
 * recall to those who may read its circle's collection (the check of GET /api/flash and /api/flash/:id;
 * recalls have no listing, and remove versions from that collection), anything else — a silent peer,
 * a kind added later — to the administrator (GET /api/peers is theirs). The circle is read when the
 * notice is sent, as the flash routes read it, so a grant given or taken applies at once.
 */
export async function canSeeNotice(store: Pick<ObjectStore, 'getCircle'>, recipient: Recipient, notice: NoticeJson): Promise<boolean> {
  if (!recipient.actsForHome) return false;
  if (recipient.admin) return true;
  if (notice.kind !== 'flash' && notice.kind !== 'recall') return false;
  const circleId = notice.details['circle_id'];
  if (typeof circleId !== 'string') return false;
  const circle = await store.getCircle(circleId);
  return circle !== undefined && canReadCollection(recipient, circle.collectionId);
}

/** The token as it stands now, as the home organisation's recipient; undefined when revoked, gone, or no longer the home organisation's. */
async function recipientNow(store: Pick<ObjectStore, 'findTokenBySecretHash'>, secretHash: string, homeOrganisationId: string): Promise<Recipient | undefined> {
  const token = await store.findTokenBySecretHash(secretHash);
  if (token === undefined || token.revokedAt !== undefined) return undefined;
  const recipient = toRecipient(token, homeOrganisationId);
  return recipient.actsForHome ? recipient : undefined;
}

/** Events a stream holds back while the token or a notice's circle is read; beyond this the client is dropped, as a slow one is. */
const MAX_HELD_EVENTS = 4096;

/** The body as JSON lines: NDJSON as sent, a JSON array one element per line, a single object as one line. */
function bodyLines(body: unknown): string {
  if (body instanceof NdjsonBody) return body.text;
  if (Array.isArray(body)) return body.map((element) => JSON.stringify(element)).join('\n');
  if (body !== null && typeof body === 'object') return JSON.stringify(body);
  throw new EntenteError(
    'ENT_OBSERVATIONS_INVALID',
    'Send JSON lines (Content-Type application/x-ndjson) or a JSON array of observations: SCOs, arrays of SCOs, observed-data with objects, bundles',
  );
}

/** Where a stream starts: now, after an event this node showed, or now because the id given is not one it showed. */
type StreamStart = { readonly after: 'now' } | { readonly after: 'event'; readonly number: number; readonly id: string } | { readonly after: 'unknown-id' };

function streamStartOf(request: FastifyRequest, ids: AlertEventIds): StreamStart {
  const header = request.headers['last-event-id'];
  const query = (request.query as Record<string, unknown> | undefined)?.['last_event_id'];
  const id = (typeof header === 'string' ? header : typeof query === 'string' ? query : '').trim();
  if (id === '') return { after: 'now' };
  const number = ids.opened(id);
  return number === undefined ? { after: 'unknown-id' } : { after: 'event', number, id };
}

export function registerAlertingRoutes(app: FastifyInstance, deps: AlertingDeps): void {
  const onError = (what: string, error: unknown): void => deps.logger.error({ err: error }, `alerting: cannot ${what}`);
  const bus = new AlertBus(1024, deps.relay);
  // Untested comparisons count as not holding: the operator learns which indicators and inputs cost too much.
  const onOverBudget = (event: OverBudget): void => deps.logger.warn({ ...event, indicatorIds: event.indicatorIds.slice(0, 20) }, 'alerting: an observation ran out of its matching budget');
  // One line an indicator, the first 20 of a load: a partner sending thousands must not flood the log.
  const onPatternOverLimit = (entries: readonly PatternOverLimit[]): void => {
    for (const entry of entries.slice(0, 20)) {
      deps.logger.warn({ code: patternOverLimitCode, indicatorId: entry.indicatorId, version: entry.version, limit: entry.limit, found: entry.found, allowed: entry.allowed }, entry.message);
    }
    if (entries.length > 20) deps.logger.warn({ code: patternOverLimitCode, count: entries.length }, `alerting: ${entries.length} indicators are past a pattern planning limit and not matched`);
  };
  const matcher = new NodeMatcher({
    store: deps.store,
    bus,
    clock: deps.clock,
    randomUuid: deps.randomUuid,
    homeOrganisationId: deps.homeOrganisationId,
    onError,
    onOverBudget,
    onPatternOverLimit,
  });
  const ids = new AlertEventIds(deps.cursorKey);
  // Whatever sends an alert — a stream's push or replay, a webhook's every attempt — asks the matcher
  // who it is for at that moment: a recall, a deletion or a newer version since it was raised withdraws
  // it, as it would from a batch matched now. The questions of one turn share one read of the store.
  const audiences = new AudienceBatch((events) => matcher.audiencesNow(events));
  const webhooks = new WebhookDispatcher({
    store: deps.store,
    bus,
    clock: deps.clock,
    onError,
    shownId: (alertId) => ids.shown(Number(alertId)),
    audienceNow: (event) => audiences.audienceNow(event),
  });
  const tuning: AlertStreamTuning = { heartbeatMs: 15_000, maxBufferedBytes: 1024 * 1024 };
  const open = new Set<() => void>();
  app.decorate('alerting', { bus, matcher, webhooks, tuning, eventIds: ids, streams: () => open.size } satisfies Alerting);

  for (const type of NDJSON_TYPES) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => done(null, new NdjsonBody(String(body))));
  }
  // The matcher compiles every active indicator (about 20 s and 110 MB per million): it starts when
  // alerting is first used — an observation posted, a stream opened — or at once when webhooks wait
  // for alerts, and never holds up the node's start.
  let started: Promise<void> | undefined;
  const ensureStarted = (): Promise<void> => (started ??= matcher.start());
  app.addHook('onReady', async () => {
    if ((await deps.store.listWebhooks()).length > 0) ensureStarted().catch((error: unknown) => onError('start the matcher', error));
  });
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });
  app.addHook('onClose', async () => {
    await matcher.stop();
    await webhooks.stop();
  });

  app.post('/api/observations', { config: { policy: 'authenticated', media: 'json' }, onRequest: homeOnly }, async (request, reply) => {
    const auth = request.auth as NonNullable<FastifyRequest['auth']>;
    await ensureStarted();
    const outcome = await matcher.matchLines(bodyLines(request.body), `api:${auth.token.name}`, auth.recipient);
    // The caller sees the alerts on indicators of collections it may read, as on the stream, and the
    // sightings stored of those only (matchLines); how many matches there were in all is told to
    // administrators only. Who each alert was for when raised (`collections`, `newerIn`) is not what
    // decides: the answer goes out once the batch's sightings are stored and shared, and meanwhile a
    // version may have been recalled, deleted or superseded, or the token revoked. Both are read again
    // (when there is an alert to show), as the stream reads them just before it sends.
    const { alerts: raised, matches, collections: _raisedFor, newerIn: _supersededWhenRaised, bases, versions, ...counts } = outcome;
    let reader = auth.recipient;
    let alerts: AlertJson[] = [];
    if (raised.length > 0) {
      const [now, current] = await Promise.all([audiences.audiencesNow(raised.map((alert, i) => ({ alert, ...(versions[i] === undefined ? {} : { version: versions[i] }) }))), recipientNow(deps.store, auth.token.secretHash, deps.homeOrganisationId)]);
      // The observations were matched and their sightings stored; the token may no longer be shown what they matched.
      if (current === undefined) throw new EntenteError('ENT_AUTH_INVALID', 'The token is unknown or has been revoked (it was revoked while its observations were matched: no alert is shown)');
      reader = current;
      alerts = raised.flatMap((alert, i) => {
        const audience = now[i] ?? { collections: [] };
        return canSeeAlert(reader, { id: i, alert, collections: audience.collections, newerIn: audience.newerIn ?? [] })
          ? [{ ...alertFor(reader, alert, bases[i]), alert_id: ids.shown(Number(alert.alert_id)) }]
          : [];
      });
    }
    return reply
      .code(200)
      .header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ ...counts, ...(reader.admin ? { matches } : {}), alerts_raised: alerts.length, alerts }));
  });

  app.get('/api/alerts/stream', { config: { policy: 'authenticated', media: 'json' }, onRequest: homeOnly }, (request, reply) => {
    ensureStarted().catch((error: unknown) => onError('start the matcher', error));
    stream(request, reply);
  });

  function stream(request: FastifyRequest, reply: FastifyReply): void {
    const auth = request.auth as NonNullable<FastifyRequest['auth']>;
    const raw = reply.raw;
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    let closed = false;
    const write = (text: string): void => {
      if (closed) return;
      raw.write(text);
      // A client that does not read: drop it instead of holding its backlog in memory.
      if (raw.writableLength > tuning.maxBufferedBytes) {
        request.log.warn({ token: request.auth?.token.name, buffered: raw.writableLength }, 'alert stream: slow client disconnected');
        end();
        raw.destroy();
      }
    };
    // The token as it stands, read again whenever the store's token change marker has moved (a token
    // revoked anywhere, by this process or `entente token revoke`): a stream lasts for hours, and what
    // it sends is decided event by event, as each REST request is authenticated on its own — not as
    // the token stood when the stream opened or at the last heartbeat. Undefined: revoked, or no
    // longer the home organisation's.
    let recipient = auth.recipient;
    let readUnder: string | undefined;
    const currentRecipient = async (): Promise<Recipient | undefined> => {
      // Read before the lookup (as authenticate.ts does): a change committed after it moves the marker again.
      const marker = await deps.store.tokenChangeMarker();
      if (marker !== readUnder) {
        const now = await recipientNow(deps.store, auth.token.secretHash, deps.homeOrganisationId);
        if (now === undefined) return undefined;
        recipient = now;
        readUnder = marker;
      }
      return recipient;
    };
    const sendAlert = (event: AlertEvent, reader: Recipient): void => {
      if (!canSeeAlert(reader, event)) return;
      const id = ids.shown(event.id);
      write(`event: alert\nid: ${id}\ndata: ${JSON.stringify({ ...alertFor(reader, event.alert, event.basis), alert_id: id })}\n\n`);
    };
    const sendNotice = async (event: NoticeEvent, reader: Recipient): Promise<void> => {
      let visible = false;
      try {
        visible = await canSeeNotice(deps.store, reader, event.notice);
      } catch (error) {
        // Not knowing whether the token may read the circle, the notice is withheld (a flash stays in GET /api/flash).
        request.log.warn({ err: error, notice: event.notice.notice_id }, 'alert stream: cannot read the circle of a notice; not sent');
      }
      if (!visible) return;
      const id = ids.shown(event.id);
      write(`event: notice\nid: ${id}\ndata: ${JSON.stringify({ ...event.notice, notice_id: id })}\n\n`);
    };
    // The last id replayed from the ring (0: none), to tell in the log which alerts could not be checked.
    let replayedUpTo = 0;
    // Events wait here, in id order, while the token is read again, while a notice's circle is read
    // and while who the alerts are for is read (a client resuming from the last id it saw must not
    // skip a held event). Those arriving together are sent under one reading of the token.
    const queue: BusEvent[] = [];
    let draining = false;
    const drain = async (): Promise<void> => {
      draining = true;
      try {
        while (!closed && queue.length > 0) {
          let reader: Recipient | undefined;
          try {
            reader = await currentRecipient();
          } catch (error) {
            // Not knowing whether the token still stands, nothing more is sent: the client reconnects and is authenticated again.
            request.log.warn({ err: error }, 'alert stream: cannot read the token again; stream ended');
          }
          if (reader === undefined) {
            end();
            return;
          }
          const held = queue.splice(0);
          for (let at = 0; at < held.length; ) {
            if (closed) return;
            const first = held[at] as BusEvent;
            if (isNoticeEvent(first)) {
              await sendNotice(first, reader);
              at++;
              continue;
            }
            // The alerts up to the next notice, asked about together just before they are sent: the ring
            // and the bus keep who each was for when it was raised, and since then (while it waited here,
            // crossed from another worker, or since the client last connected) its version may have been
            // recalled, deleted or superseded. A withdrawn alert is skipped, told to no one, as if never
            // raised for this reader.
            const alerts: AlertEvent[] = [];
            for (let next = held[at]; next !== undefined && !isNoticeEvent(next); next = held[++at]) alerts.push(next);
            let now: AlertAudience[];
            try {
              now = await audiences.audiencesNow(alerts);
            } catch (error) {
              // Not knowing whether they were recalled, nothing more is sent: the client resumes from the last id it saw and they are read again.
              const which = alerts.some((event) => event.id <= replayedUpTo) ? 'replayed' : 'raised';
              request.log.warn({ err: error }, `alert stream: cannot read which collections hold the indicators of the alerts ${which}; stream ended`);
              end();
              return;
            }
            alerts.forEach((event, i) => {
              const audience = now[i] ?? { collections: [] };
              sendAlert({ ...event, collections: audience.collections, newerIn: audience.newerIn ?? [] }, reader);
            });
          }
        }
      } finally {
        draining = false;
      }
    };
    const send = (event: BusEvent): void => {
      if (closed) return;
      if (queue.length >= MAX_HELD_EVENTS) {
        request.log.warn({ token: request.auth?.token.name, held: queue.length }, 'alert stream: too many events held; client disconnected');
        end();
        raw.destroy();
        return;
      }
      queue.push(event);
      if (!draining) drain().catch((error: unknown) => request.log.warn({ err: error }, 'alert stream: cannot send an event'));
    };
    // Each heartbeat reads the token again too: a revoked token's stream ends even when no event comes.
    const heartbeat = setInterval(() => {
      currentRecipient()
        .then((reader) => {
          if (reader === undefined) end();
          else write(`: heartbeat ${deps.clock().toISOString()}\n\n`);
        })
        .catch(() => write(`: heartbeat ${deps.clock().toISOString()}\n\n`));
    }, tuning.heartbeatMs);
    const unsubscribe = bus.subscribe(send);
    const unsubscribeNotices = bus.subscribeNotices(send);
    function end(): void {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      unsubscribeNotices();
      open.delete(end);
      if (!raw.destroyed) raw.end();
    }
    open.add(end);
    raw.on('close', end);
    raw.on('error', end);
    write(`retry: 3000\n: alerts of ${recipient.name}\n\n`);
    // An id this node did not show (a number of earlier versions, an altered id, another node's or
    // one sealed before the node's key changed) starts the stream now, saying so: an error would end
    // an EventSource for good, and it would resend that id at every reconnection.
    const start = streamStartOf(request, ids);
    if (start.after === 'unknown-id') write(`event: gap\ndata: ${JSON.stringify({ reason: 'unknown-last-event-id' })}\n\n`);
    if (start.after === 'event') {
      const { events, complete } = bus.eventsSince(start.number);
      if (!complete) write(`event: gap\ndata: ${JSON.stringify({ reason: 'overwritten', after: start.id })}\n\n`);
      // Sent as live events are, who each alert is for asked again just before it is sent (drain).
      replayedUpTo = events.reduce((max, event) => Math.max(max, event.id), 0);
      for (const event of events) send(event);
    }
  }
}
