// A version this node signed, coming back from a peer (a member passing on what this node shared),
// is not verified again when it is this node's own copy: the same content and the very signature
// this node made and keeps (decide-pull-page.ts, ownCopyKey). A copy that names this node as its
// signer with other signature bytes is not this node's own: it is verified, and a forgery is
// quarantined — else the collection it is pulled into would serve this node's version with a
// signature that fails at every partner, and the partners would quarantine the genuine content.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureNodeKey } from '../../src/federation/node-key-lifecycle.ts';
import { createNodeSignerProvider } from '../../src/federation/node-signer.ts';
import { pullPeer } from '../../src/federation/pull-peer.ts';
import { HOME, NOW, pullWorld } from '../../src/federation/pull-test-kit.ts';
import { signObject } from '../../src/federation/sign-object.ts';
import { SIGNATURE_EXTENSION_ID } from '../../src/federation/signature-extension.ts';
import { testOrganisation } from '../../src/federation/test-support.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { CursoredPage, PagesOptions, TaxiiClient } from '../../src/taxii/taxii-client.ts';

const grid = testOrganisation(2);

const homeIndicator = {
  type: 'indicator', spec_version: '2.1', id: 'indicator--0c0c0c0c-0000-4000-8000-000000000001', created_by_ref: HOME,
  created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', pattern: "[ipv4-addr:value = '198.51.100.7']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z',
} as StixObject;

function servingOnce(objects: readonly unknown[]): TaxiiClient {
  const client = {
    close() {},
    async *pages(_collectionId: string, _options: PagesOptions): AsyncGenerator<CursoredPage, void, undefined> {
      yield { objects: [...objects], more: false, cursor: { addedAfter: '2026-02-01T00:00:00.000001Z' } };
    },
  };
  return client as unknown as TaxiiClient;
}

/** A node that originated homeIndicator in its own collection and keeps the signature it released it with. */
async function nodeWithOwnVersion(): Promise<{ world: Awaited<ReturnType<typeof pullWorld>>; signed: StixObject }> {
  const world = await pullWorld({ partner: grid, partnerName: 'Grid', circle: { id: 'wide', name: 'Wide' }, peer: { name: 'grid', url: 'https://grid.example/taxii2/', remoteCollectionId: 'feed' }, kind: 'entente' });
  await ensureNodeKey(world.store, NOW);
  await world.store.createCollection({ id: 'own', title: 'Own' }, NOW);
  await world.store.addObjects('own', [homeIndicator]);
  const keys = await createNodeSignerProvider({ store: world.store, organisationId: HOME, clock: () => NOW }).keys();
  const signed = signObject(homeIndicator, keys.current);
  const extension = (signed['extensions'] as Record<string, unknown>)[SIGNATURE_EXTENSION_ID];
  await world.store.putSignatures([{ id: homeIndicator.id, version: '2026-02-01T00:00:00.000Z', variant: '', extensionJson: JSON.stringify(extension), signer: HOME }]);
  return { world, signed };
}

const servedIn = async (world: Awaited<ReturnType<typeof pullWorld>>, collection: string): Promise<string[]> =>
  (await world.store.listEntries(collection, { ids: [homeIndicator.id] }, { limit: 10 })).entries.map((entry) => entry.json);

describe('a version this node signed, coming back from a peer', () => {
  it('with the signature this node keeps for it: stored in the collection it was pulled into', async () => {
    const { world, signed } = await nodeWithOwnVersion();
    try {
      const counts = await pullPeer(world.deps, world.peer, servingOnce([signed]));
      assert.equal(counts.added, 1, JSON.stringify(counts));
      assert.equal((await servedIn(world, 'wide')).length, 1);
    } finally {
      await world.store.close();
    }
  });

  it('naming this node as signer with other signature bytes: quarantined as a bad signature, never served', async () => {
    const { world, signed } = await nodeWithOwnVersion();
    try {
      const extension = (signed['extensions'] as Record<string, Record<string, string>>)[SIGNATURE_EXTENSION_ID] as Record<string, string>;
      const bytes = extension['signature'] as string;
      const forged = { ...signed, extensions: { [SIGNATURE_EXTENSION_ID]: { ...extension, signature: `${bytes.slice(0, 8)}${bytes[8] === 'A' ? 'B' : 'A'}${bytes.slice(9)}` } } };
      const counts = await pullPeer(world.deps, world.peer, servingOnce([forged]));
      assert.deepEqual([counts.added, counts.quarantined], [0, 1], JSON.stringify(counts));
      assert.deepEqual(await servedIn(world, 'wide'), []);
      assert.deepEqual((await world.store.listQuarantine({ limit: 10 })).map((item) => item.reason), ['bad-signature']);
    } finally {
      await world.store.close();
    }
  });
});
