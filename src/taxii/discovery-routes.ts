import type { FastifyInstance } from 'fastify';
import { apiRootVersions } from './taxii-resources.ts';
import { sendTaxii, type TaxiiRouteContext } from './taxii-route-context.ts';

/**
 * Discovery (§4.1) and the API root (§4.2). Both require a token: the spec allows it, every TAXII
 * client sends credentials to discovery anyway, and the node's title and API root describe which
 * organisation runs it, which is not for anonymous scanners.
 */
export function registerDiscoveryRoutes(app: FastifyInstance, ctx: TaxiiRouteContext): void {
  app.get('/taxii2/', { config: { policy: 'authenticated', media: 'taxii' } }, async (request, reply) => {
    // Absolute URL built from the request: the node may sit behind any host name or port.
    const apiRoot = `${request.protocol}://${request.host}${ctx.apiRootPath}`;
    return sendTaxii(
      reply,
      200,
      JSON.stringify({
        title: ctx.title,
        ...(ctx.description === undefined ? {} : { description: ctx.description }),
        default: apiRoot,
        api_roots: [apiRoot],
      }),
    );
  });

  app.get(ctx.apiRootPath, { config: { policy: 'authenticated', media: 'taxii' } }, async (_request, reply) =>
    sendTaxii(
      reply,
      200,
      JSON.stringify({
        title: ctx.title,
        ...(ctx.description === undefined ? {} : { description: ctx.description }),
        versions: apiRootVersions,
        max_content_length: ctx.maxBodyBytes,
      }),
    ),
  );
}
