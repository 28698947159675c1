import type { FastifyInstance } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import { openReleaseGate } from '../release/open-release-gate.ts';
import type { StatusRecord } from '../store/object-store.ts';
import { releasedDetails } from './released-details.ts';
import { failuresFor } from './status-failures.ts';
import { createStatusRecordCache } from './status-record-cache.ts';
import { toStatusResource } from './taxii-resources.ts';
import { recipientOf, sendTaxii, type TaxiiRouteContext } from './taxii-route-context.ts';

interface StatusParams {
  statusId: string;
}

/**
 * Status (§4.3). A status is visible to the token that made the request and to
 * administrators; anyone else gets the same 404 as for an unknown id. The per-object lists pass the
 * release decision like every other read path, and the store's refusals among the failures keep their
 * reason only for a reader of every collection holding the id (status-failures.ts).
 */
export function registerStatusRoutes(app: FastifyInstance, ctx: TaxiiRouteContext): void {
  // Complete statuses never change: polling one costs no store lookup (status-record-cache.ts).
  const statuses = createStatusRecordCache(ctx.store);
  /** The body for readers the gate shares everything with, per record object (dropped with it). */
  const wholeBodies = new WeakMap<StatusRecord, string>();
  app.get<{ Params: StatusParams }>(
    `${ctx.apiRootPath}status/:statusId/`,
    { config: { policy: 'authenticated', media: 'taxii' } },
    async (request, reply) => {
      const recipient = recipientOf(request);
      const { statusId } = request.params;
      const record = await statuses.getStatus(statusId);
      if (record === undefined || (!recipient.admin && record.tokenName !== recipient.name)) {
        throw new EntenteError('ENT_STATUS_NOT_FOUND', `No status resource ${statusId}`, { status_id: statusId });
      }
      const gate = await openReleaseGate(ctx.store, recipient, record.collectionId, ctx.clock(), { audit: false });
      // The store's refusals keep their reason only for a reader of every collection holding the id.
      const failures = await failuresFor(record.failures, recipient, ctx.store);
      if (gate.sharesEveryEntry && failures === record.failures) {
        // A gate that shares every entry of the collection whole keeps every detail (releasedDetails
        // would ask it once per detail and get the same answer), and the failures are the record's
        // own, so the body depends on the record alone: written once per cached record.
        let body = wholeBodies.get(record);
        if (body === undefined) {
          body = JSON.stringify(toStatusResource(record, record.successes, record.pendings));
          wholeBodies.set(record, body);
        }
        return sendTaxii(reply, 200, body);
      }
      const successes = await releasedDetails(record.successes, ctx.store, gate, record.collectionId);
      const pendings = await releasedDetails(record.pendings, ctx.store, gate, record.collectionId);
      return sendTaxii(reply, 200, JSON.stringify(toStatusResource({ ...record, failures }, successes, pendings)));
    },
  );
}
