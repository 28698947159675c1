import { canReadCollection, canWriteCollection, type Recipient } from '../policy/recipient.ts';
import type { FastifyInstance } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import type { CollectionRecord } from '../store/object-store.ts';
import type { AuthenticatedToken } from './authenticate.ts';

/**
 * Every route declares who may call it in its route config (`config: { policy }`); the request guard
 * enforces it before the handler runs, and a test fails when a registered route declares none.
 *
 * - public: no credentials (health only).
 * - authenticated: any valid token; the handler narrows what it returns (collections list, search).
 * - collection-access: read or write grant on `:collectionId` (the collection resource itself).
 * - collection-read / collection-write: that grant on `:collectionId`.
 * - admin: node administrator tokens.
 *
 * For the collection policies a token with no grant at all on the collection gets 404, exactly as
 * for a collection that does not exist, so that existence is not revealed; a token with the other
 * grant gets 403 (it already knows the collection from the collections list).
 */
export type RoutePolicy = 'public' | 'authenticated' | 'collection-access' | 'collection-read' | 'collection-write' | 'admin';

/** How a route's errors and bodies are typed: TAXII media type and negotiation, or plain JSON. */
export type RouteMedia = 'taxii' | 'json';

export const routePolicies: readonly RoutePolicy[] = [
  'public',
  'authenticated',
  'collection-access',
  'collection-read',
  'collection-write',
  'admin',
];

declare module 'fastify' {
  interface FastifyContextConfig {
    policy?: RoutePolicy;
    media?: RouteMedia;
  }
  interface FastifyRequest {
    /** Set by the request guard on every non-public route. */
    auth: AuthenticatedToken | null;
    /** Set by the request guard on collection routes, after the access check. */
    collection: CollectionRecord | null;
  }
}

export function isRoutePolicy(value: unknown): value is RoutePolicy {
  return typeof value === 'string' && (routePolicies as readonly string[]).includes(value);
}

export type CollectionAccess = 'granted' | 'hidden' | 'forbidden';

/** Pure: may this recipient use this collection under this policy? */
export function decideCollectionAccess(
  recipient: Recipient,
  collectionId: string,
  policy: 'collection-access' | 'collection-read' | 'collection-write',
): CollectionAccess {
  const read = canReadCollection(recipient, collectionId);
  const write = canWriteCollection(recipient, collectionId);
  if (!read && !write) return 'hidden';
  if (policy === 'collection-read') return read ? 'granted' : 'forbidden';
  if (policy === 'collection-write') return write ? 'granted' : 'forbidden';
  return 'granted';
}

export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly policy: RoutePolicy;
}

/**
 * Records every route as it is registered and refuses (throws at start-up) one that declares no
 * valid policy, so an unguarded route can never be served. Must be called before routes are added.
 * Returns the live list, which the route-policy test enumerates.
 */
export function enforceRoutePolicies(app: FastifyInstance): readonly DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  app.addHook('onRoute', (route) => {
    const policy: unknown = route.config?.policy;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!isRoutePolicy(policy)) {
      throw new EntenteError('ENT_CONFIG_INVALID', `route ${methods.join(',')} ${route.url} declares no access policy (config.policy)`);
    }
    for (const method of methods) routes.push({ method: String(method), url: route.url, policy });
  });
  return routes;
}
