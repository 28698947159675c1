// Flash messages over HTTP (docs/federation.md, "Flash messages and recalls").
//
// - `/api/flash…`: the home organisation's own users send, list, show, acknowledge and promote
//   flashes; a partner's token gets the 404 of a missing route, before its body is read.
// - `/api/federation/flash` and `/api/federation/flash-acks`: a member's node delivers a signed flash
//   (answered with a signed receipt) or an acknowledgement, with the token this node issued to that
//   member's organisation; the signer must be that organisation.
// A flash that arrives is published at once on the node's alert stream as a `notice` event.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import {
  acknowledgeFlash,
  listFlashes,
  promoteFlash,
  receiveFlash,
  receiveFlashAck,
  sendFlash,
  showFlash,
  toFlashView,
  type FlashDeps,
} from '../federation/flash-operations.ts';
import type { Recipient } from '../policy/recipient.ts';
import type { FlashRecord } from '../store/federation-store.ts';
import { badField, bodyOf, optionalString, sendJson } from './json-body.ts';

interface FlashParams {
  flashId: string;
}

const MAX_LIST = 500;

function notFound(request: FastifyRequest): EntenteError {
  return new EntenteError('ENT_HTTP_NOT_FOUND', `No resource at ${request.method} ${request.url.split('?')[0] ?? ''}`);
}

async function homeOnly(request: FastifyRequest): Promise<void> {
  if (request.auth === null || !request.auth.recipient.actsForHome) throw notFound(request);
}

function callerOf(request: FastifyRequest): Recipient {
  if (request.auth === null) throw new EntenteError('ENT_HTTP_INTERNAL', 'flash route reached without authentication');
  return request.auth.recipient;
}

/** The notice a received flash becomes on the alert stream. */
export function flashNotice(flash: FlashRecord, raisedAt: string): { kind: 'flash'; raised_at: string; summary: string; details: Record<string, string | null> } {
  const firstLine = flash.text.split(/\r\n|\r|\n/)[0] ?? '';
  return {
    kind: 'flash',
    raised_at: raisedAt,
    summary: `Flash from ${flash.senderOrganisationId} in circle ${flash.circleId}: ${firstLine.length > 160 ? `${firstLine.slice(0, 159)}…` : firstLine}`,
    details: {
      flash_id: flash.id,
      circle_id: flash.circleId,
      sender: flash.senderOrganisationId,
      text: flash.text,
      indicator_id: flash.indicatorId ?? null,
      sent_at: flash.sentAt,
      received_at: flash.receivedAt ?? null,
    },
  };
}

/** How often each process looks for flashes another worker received (`--workers N`). */
const OTHER_WORKERS_POLL_MS = 1000;
const PUBLISHED_MEMORY = 1000;

export function registerFlashRoutes(app: FastifyInstance, base: Omit<FlashDeps, 'onFlashReceived'>): void {
  // A flash is published once per process: by the request that stored it, or — when another worker
  // of the node received it — by the poll below, within a second.
  const published = new Set<string>();
  const startedAt = base.clock().toISOString();
  const publishOnce = (flash: FlashRecord): void => {
    if (published.has(flash.id)) return;
    published.add(flash.id);
    if (published.size > PUBLISHED_MEMORY) published.delete(published.values().next().value as string);
    // The alert stream is decorated by registerAlertingRoutes; read when a flash arrives.
    void app.alerting.bus.publishNotice(flashNotice(flash, base.clock().toISOString()));
  };
  const deps: FlashDeps = { ...base, onFlashReceived: publishOnce };
  let poll: NodeJS.Timeout | undefined;
  let polling = false;
  app.addHook('onReady', async () => {
    // Workers whose alert buses are relayed through the primary already see every worker's notices.
    if (app.alerting.bus.relayed) return;
    const look = async (): Promise<void> => {
      for (const flash of (await base.store.listFlashes({ limit: 50 })).reverse()) {
        if (flash.direction === 'received' && flash.receivedAt !== undefined && flash.receivedAt >= startedAt) publishOnce(flash);
      }
    };
    poll = setInterval(() => {
      if (polling) return;
      polling = true;
      look()
        .catch((error: unknown) => app.log.warn({ err: error }, 'flash: cannot read the flashes other workers received'))
        .finally(() => {
          polling = false;
        });
    }, OTHER_WORKERS_POLL_MS);
    poll.unref();
  });
  app.addHook('onClose', async () => clearInterval(poll));
  const home = { config: { policy: 'authenticated' as const, media: 'json' as const }, onRequest: homeOnly };
  const partner = { config: { policy: 'authenticated' as const, media: 'json' as const } };

  app.post('/api/flash', home, async (request, reply) => {
    const body = bodyOf(request, ['circle_id', 'text', 'indicator_id']);
    const circleId = optionalString(body, 'circle_id', 200);
    if (circleId === undefined) throw badField('circle_id', '"circle_id" is required');
    const text = optionalString(body, 'text', 16_000);
    if (text === undefined) throw badField('text', '"text" is required');
    const indicatorId = optionalString(body, 'indicator_id', 200);
    const { flash, deliveries } = await sendFlash(deps, callerOf(request), { circleId, text, indicatorId });
    // The sender is shown the flash it just sent, as the deliveries are, even with the write grant
    // alone: showFlash (the read grant) would answer 404 for a flash that has gone out.
    return sendJson(reply, 201, {
      flash: toFlashView(flash, await deps.store.getCircle(flash.circleId), deps.homeOrganisationId),
      deliveries: deliveries.map((delivery) => ({
        organisation_id: delivery.organisationId,
        outcome: delivery.outcome,
        ...(delivery.error === undefined ? {} : { error: delivery.error }),
        ...(delivery.ms === undefined ? {} : { ms: Math.round(delivery.ms * 10) / 10 }),
      })),
    });
  });

  app.get<{ Querystring: Record<string, unknown> }>('/api/flash', home, async (request, reply) => {
    const query = request.query;
    const circle = typeof query['circle'] === 'string' ? query['circle'] : undefined;
    const limitText = typeof query['limit'] === 'string' ? query['limit'] : '50';
    if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIST) {
      throw new EntenteError('ENT_HTTP_BAD_QUERY', `limit must be a whole number from 1 to ${MAX_LIST}`);
    }
    const flashes = await listFlashes(deps, callerOf(request), { ...(circle === undefined ? {} : { circleId: circle }), limit: Number(limitText) });
    return sendJson(reply, 200, { flashes });
  });

  app.get<{ Params: FlashParams }>('/api/flash/:flashId', home, async (request, reply) =>
    sendJson(reply, 200, await showFlash(deps, callerOf(request), request.params.flashId)),
  );

  app.post<{ Params: FlashParams }>('/api/flash/:flashId/ack', home, async (request, reply) => {
    const body = bodyOf(request, ['by']);
    const by = optionalString(body, 'by', 200) ?? request.auth?.token.name ?? '';
    const outcome = await acknowledgeFlash(deps, callerOf(request), request.params.flashId, by);
    return sendJson(reply, 200, {
      flash_id: outcome.flash.id,
      acknowledged: outcome.flash.acknowledged ?? null,
      sent_to_sender: outcome.sent,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    });
  });

  app.post<{ Params: FlashParams }>('/api/flash/:flashId/promote', home, async (request, reply) => {
    bodyOf(request, []);
    const promoted = await promoteFlash(deps, callerOf(request), request.params.flashId);
    return sendJson(reply, promoted.created ? 201 : 200, { note_id: promoted.noteId, collection_id: promoted.collectionId, created: promoted.created });
  });

  app.post('/api/federation/flash', partner, async (request, reply) => {
    const receipt = await receiveFlash(deps, callerOf(request), request.body);
    return sendJson(reply, 200, receipt);
  });

  app.post('/api/federation/flash-acks', partner, async (request, reply) => {
    const recorded = await receiveFlashAck(deps, callerOf(request), request.body);
    return sendJson(reply, 200, { flash_id: recorded.flashId, organisation_id: recorded.organisationId, recorded: true });
  });
}
