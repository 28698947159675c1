import type { FastifyInstance } from 'fastify';

/** `GET /healthz`: liveness for load balancers and orchestrators; public and reveals nothing. */
export function registerHealthRoutes(app: FastifyInstance, ctx: { readonly clock: () => Date }): void {
  const startedAt = ctx.clock();
  app.get('/healthz', { config: { policy: 'public', media: 'json' } }, async (_request, reply) =>
    reply
      .code(200)
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(JSON.stringify({ status: 'ok', time: ctx.clock().toISOString(), uptime_s: Math.round((ctx.clock().getTime() - startedAt.getTime()) / 1000) })),
  );
}
