// The HTTP app these tests call: a node's routes over a store the test has filled, at a fixed
// instant, logging nothing, token cache off (so that a grant changed in a test applies at once).
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createHttpApp, type HttpAppDeps } from '../../src/server/create-http-app.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';

export function openTestHttpApp(
  store: ObjectStore,
  homeOrganisationId: string,
  at: Date = new Date('2026-06-01T00:00:00Z'),
  extra: Pick<HttpAppDeps, 'releaseSigner'> = {},
): Promise<FastifyInstance> {
  return createHttpApp({
    store, logger: pino({ level: 'silent' }), limits: { maxBodyBytes: 1 << 20, maxJsonDepth: 64 }, clock: () => at,
    randomUuid: randomUUID, homeOrganisationId, node: { title: 't', apiRootPath: 'api' }, tokenCacheTtlMs: 0, ...extra,
  });
}
