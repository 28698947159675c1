import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntenteError } from '../errors/entente-error.ts';
import { openSqliteObjectStore } from '../store/sqlite/sqlite-object-store.ts';
import type { CursoredPage, TaxiiClient } from '../taxii/taxii-client.ts';
import { createCircle, invite } from '../circles/circle-operations.ts';
import { syncPeer, type SyncDeps } from './sync-peer.ts';

const HOME = 'identity--0a000000-0000-4000-8000-000000000001';
const GRID = 'identity--0b000000-0000-4000-8000-000000000002';

/** A peer whose collection never answers until the client is closed (a slow peer, or one in the middle of a page). */
function hangingClient(): TaxiiClient & { closed: boolean } {
  let close: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (close = resolve));
  const client = {
    closed: false,
    close() {
      client.closed = true;
      close();
    },
    async getJson(): Promise<unknown> {
      await closed;
      throw new EntenteError('ENT_PEER_UNREACHABLE', 'the request was cancelled: the TAXII client was closed', { cancelled: true });
    },
    async *pages(): AsyncGenerator<CursoredPage, void, undefined> {
      await closed;
      if (client.closed) throw new EntenteError('ENT_PEER_UNREACHABLE', 'the request was cancelled: the TAXII client was closed', { cancelled: true });
      yield* [];
    },
  };
  return client as unknown as TaxiiClient & { closed: boolean };
}

async function world() {
  const store = openSqliteObjectStore({ path: ':memory:' });
  const now = new Date('2026-03-01T00:00:00.000Z');
  await store.createOrganisation({ id: GRID, name: 'Grid', kind: 'company', sectors: [], country: undefined, identityJson: '{}', createdAt: now.toISOString() });
  const deps = { store, clock: () => now, homeOrganisationId: HOME };
  await createCircle(deps, { id: 'wide', name: 'Wide', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_from: '2026-01-01T00:00:00Z', valid_until: '2027-01-01T00:00:00Z' });
  await invite(deps, { organisationId: HOME, admin: true }, 'wide', { organisationId: GRID, role: 'contributor', trial: false });
  await store.addPeer({
    name: 'grid',
    url: 'https://grid.example/taxii2/',
    apiRootUrl: 'https://grid.example/taxii2/api/',
    token: 'secret',
    circleId: 'wide',
    localCollectionId: 'wide',
    remoteCollectionId: 'wide',
    organisationId: GRID,
    kind: 'entente',
    push: false,
    intervalSeconds: 60,
    silentAfter: 3,
    createdAt: now.toISOString(),
  });
  return { store, now };
}

describe('syncPeer', () => {
  it('refuses a second cycle of the same peer while one runs, and a stopped cycle is not counted against the peer', async () => {
    const { store, now } = await world();
    const client = hangingClient();
    const deps: SyncDeps = { store, clock: () => now, homeOrganisationId: HOME, openClient: () => client };
    const controller = new AbortController();
    const running = syncPeer(deps, 'grid', { signal: controller.signal });
    await assert.rejects(syncPeer(deps, 'grid'), (error: unknown) => error instanceof EntenteError && error.code === 'ENT_SYNC_BUSY');
    controller.abort();
    const report = await running;
    assert.equal(client.closed, true, 'the request in flight is cancelled');
    assert.equal(report.ok, false);
    assert.equal(report.error?.code, 'ENT_PEER_UNREACHABLE');
    const state = await store.getPeerState('grid');
    assert.deepEqual([state.lastAttemptAt, state.consecutiveFailures], [undefined, 0]);
    await store.close();
  });

  it('records a failure with its code and message, and names an unknown peer', async () => {
    const { store, now } = await world();
    const deps: SyncDeps = {
      store,
      clock: () => now,
      homeOrganisationId: HOME,
      openClient: () => {
        const client = hangingClient();
        client.close();
        return client;
      },
    };
    const report = await syncPeer(deps, 'grid');
    assert.equal(report.error?.code, 'ENT_PEER_UNREACHABLE');
    const state = await store.getPeerState('grid');
    assert.equal(state.consecutiveFailures, 1);
    assert.equal(state.lastError?.code, 'ENT_PEER_UNREACHABLE');
    await assert.rejects(syncPeer(deps, 'nobody'), (error: unknown) => error instanceof EntenteError && error.code === 'ENT_PEER_NOT_FOUND' && /entente peer list/.test(error.message));
    await store.close();
  });

  it('reports a pull another process overtook without counting it against the peer', async () => {
    const { store, now } = await world();
    const client = {
      close() {},
      async getJson(): Promise<unknown> {
        throw new EntenteError('ENT_PEER_UNREACHABLE', 'no identity here');
      },
      async *pages(): AsyncGenerator<CursoredPage, void, undefined> {
        // `entente sync` beside the node writes its pull of the same pages first, with their cursor.
        await store.applySyncBatch({ collectionId: 'wide', peer: 'grid', circleId: 'wide', source: 'pull', contributorOrganisationId: GRID, accepted: [], quarantined: [], pullCursor: { addedAfter: '2026-02-01T00:00:00.000Z' }, receivedAt: now.toISOString() });
        yield { objects: [], more: false, cursor: { addedAfter: '2026-02-01T00:00:00.000Z' } };
      },
    } as unknown as TaxiiClient;
    const report = await syncPeer({ store, clock: () => now, homeOrganisationId: HOME, openClient: () => client }, 'grid');
    assert.deepEqual([report.ok, report.error?.code], [false, 'ENT_SYNC_BUSY']);
    const state = await store.getPeerState('grid');
    assert.deepEqual([state.lastAttemptAt, state.consecutiveFailures, state.lastError], [undefined, 0, undefined], 'the other process records its own attempt');
    await store.close();
  });
});
