import type { FastifyInstance } from 'fastify';
import { addedPeerJson, addPeer, listPeers, peerJson, peerStatus, peerStatusJson, removePeer, type PeerDeps } from '../federation/peer-operations.ts';
import { assertSyncSucceeded, syncPeer, syncReportJson, type SyncDeps } from '../federation/sync-peer.ts';
import { bodyOf, sendJson } from './json-body.ts';

export interface PeerRouteDeps extends PeerDeps, SyncDeps {
  /** Told when a peer was added or removed here, so that the running scheduler reads the list again. */
  readonly onPeersChanged?: () => void;
}

interface PeerParams {
  name: string;
}

const ADD_FIELDS = ['name', 'url', 'token', 'circle', 'collection', 'push', 'interval', 'silent_after', 'fingerprint', 'organisation'];

/**
 * `/api/peers`: the links to other TAXII servers, for the node administrator only (a peer's token
 * is a secret of the home organisation). The token is accepted in the POST body and never returned.
 */
export function registerPeerRoutes(app: FastifyInstance, deps: PeerRouteDeps): void {
  const admin = { config: { policy: 'admin' as const, media: 'json' as const } };

  app.get('/api/peers', admin, async (_request, reply) => sendJson(reply, 200, { peers: (await listPeers(deps)).map(peerJson) }));

  app.post('/api/peers', admin, async (request, reply) => {
    const body = bodyOf(request, ADD_FIELDS);
    const added = await addPeer(deps, {
      name: body['name'],
      url: body['url'],
      token: body['token'],
      circle: body['circle'],
      collection: body['collection'],
      push: body['push'],
      interval: body['interval'],
      silentAfter: body['silent_after'],
      fingerprint: body['fingerprint'],
      organisation: body['organisation'],
    });
    deps.onPeersChanged?.();
    return sendJson(reply, 201, addedPeerJson(added));
  });

  app.get<{ Params: PeerParams }>('/api/peers/:name/status', admin, async (request, reply) => {
    const [status] = await peerStatus(deps, request.params.name);
    return sendJson(reply, 200, status === undefined ? {} : peerStatusJson(status));
  });

  app.delete<{ Params: PeerParams }>('/api/peers/:name', admin, async (request, reply) => {
    await removePeer(deps, request.params.name);
    deps.onPeersChanged?.();
    return sendJson(reply, 200, { removed: request.params.name });
  });

  app.post<{ Params: PeerParams }>('/api/peers/:name/sync', admin, async (request, reply) => {
    bodyOf(request, []);
    const report = await syncPeer(deps, request.params.name);
    assertSyncSucceeded(report);
    return sendJson(reply, 200, syncReportJson(report));
  });
}
