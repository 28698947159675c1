// `POST /api/federation/recalls`: another organisation's node recalls versions this node received
// through a circle (docs/federation.md, "Flash messages and recalls"). Authenticated with the token
// this node issued to that organisation; the checks (signature, coordinator or origin) are
// receiveRecall's. What was removed is shown on the alert stream as a `recall` notice.
import type { FastifyInstance } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import { receiveRecall, type RecallReceiveDeps } from '../federation/recall-receive.ts';
import { sendJson } from './json-body.ts';

type Recalled = Parameters<NonNullable<RecallReceiveDeps['onRecalled']>>[0];

/** The notice a recall carried out becomes on the alert stream (shown to those who may read the circle's collection). */
export function recallNotice(recalled: Recalled, raisedAt: string): { kind: 'recall'; raised_at: string; summary: string; details: Record<string, string | number> } {
  const { sender, body, removed, authority } = recalled;
  return {
    kind: 'recall',
    raised_at: raisedAt,
    summary: `${sender} recalled ${body.versions.length} versions of circle ${body.circle_id} (${removed} removed here): ${body.reason}`,
    details: { circle_id: body.circle_id, sender, reason: body.reason, versions: body.versions.length, removed, authority },
  };
}

export function registerRecallRoutes(app: FastifyInstance, base: Omit<RecallReceiveDeps, 'onRecalled'>): void {
  const deps: RecallReceiveDeps = {
    ...base,
    onRecalled: (recalled) => {
      void app.alerting.bus.publishNotice(recallNotice(recalled, base.clock().toISOString()));
    },
  };
  app.post('/api/federation/recalls', { config: { policy: 'authenticated', media: 'json' } }, async (request, reply) => {
    if (request.auth === null) throw new EntenteError('ENT_HTTP_INTERNAL', 'recall route reached without authentication');
    const ack = await receiveRecall(deps, request.auth.recipient, request.body);
    return sendJson(reply, 200, ack);
  });
}
