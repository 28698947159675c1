import type { FastifyInstance } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import { openReleaseGate } from '../release/open-release-gate.ts';
import { releasedDetails } from './released-details.ts';
import { toStatusResource } from './taxii-resources.ts';
import { recipientOf, sendTaxii, type TaxiiRouteContext } from './taxii-route-context.ts';

interface StatusParams {
  statusId: string;
}

/**
 * Status (§4.3). A status is visible to the token that made the request and to
 * administrators; anyone else gets the same 404 as for an unknown id. The per-object lists pass the
 * release decision like every other read path.
 */
export function registerStatusRoutes(app: FastifyInstance, ctx: TaxiiRouteContext): void {
  app.get<{ Params: StatusParams }>(
    `${ctx.apiRootPath}status/:statusId/`,
    { config: { policy: 'authenticated', media: 'taxii' } },
    async (request, reply) => {
      const recipient = recipientOf(request);
      const { statusId } = request.params;
      const record = await ctx.store.getStatus(statusId);
      if (record === undefined || (!recipient.admin && record.tokenName !== recipient.name)) {
        throw new EntenteError('ENT_STATUS_NOT_FOUND', `No status resource ${statusId}`, { status_id: statusId });
      }
      const gate = await openReleaseGate(ctx.store, recipient, record.collectionId, ctx.clock(), { audit: false });
      const successes = await releasedDetails(record.successes, ctx.store, gate, record.collectionId);
      const pendings = await releasedDetails(record.pendings, ctx.store, gate, record.collectionId);
      return sendTaxii(reply, 200, JSON.stringify(toStatusResource(record, successes, pendings)));
    },
  );
}
