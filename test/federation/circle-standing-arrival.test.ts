// What arrives through a circle — pulled from a peer, pushed by a partner into the circle's
// collection, imported from a signed bundle — is taken only from an organisation the circle gives a
// standing now: the circle running, the sender a member, a version of the agreement accepted by it
// (decideCircleStanding, the same standing a release or a flash needs). Without one, every object is
// quarantined as `no-agreement` with the reason named (the circle ended, the sender left). What was
// received while the standing held stays on record.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { end, leave } from '../../src/circles/circle-operations.ts';
import { importSignedBundle } from '../../src/federation/import-signed-bundle.ts';
import { pullPeer } from '../../src/federation/pull-peer.ts';
import { HOME, NOW, pullWorld, testIndicator } from '../../src/federation/pull-test-kit.ts';
import { receivePush } from '../../src/federation/receive-push.ts';
import { signObject } from '../../src/federation/sign-object.ts';
import { testOrganisation } from '../../src/federation/test-support.ts';
import type { PeerRecord } from '../../src/store/federation-store.ts';
import type { ObjectStore, StatusDetail } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { CursoredPage, TaxiiClient } from '../../src/taxii/taxii-client.ts';

const grid = testOrganisation(2);
const HOUR = 3_600_000;
const LATER = new Date(NOW.getTime() + HOUR);

function indicator(n: number): StixObject {
  return signObject(testIndicator(n), grid.signer);
}

/** A peer serving one page of these objects, after the given instant. */
function onePage(objects: readonly unknown[], addedAfter: string): TaxiiClient {
  return {
    close() {},
    async *pages(): AsyncGenerator<CursoredPage> {
      yield { objects: [...objects], more: false, cursor: { addedAfter } } as CursoredPage;
    },
  } as unknown as TaxiiClient;
}

interface Node {
  readonly store: ObjectStore;
  readonly peer: PeerRecord;
  pull(at: Date, objects: readonly unknown[]): ReturnType<typeof pullPeer>;
  push(at: Date, objects: readonly unknown[]): Promise<readonly StatusDetail[]>;
  importBundle(at: Date, objects: readonly unknown[]): ReturnType<typeof importSignedBundle>;
  /** Grid leaves circle wide now. */
  gridLeaves(): Promise<void>;
  /** The coordinator ends circle wide now. */
  circleEnds(): Promise<void>;
  held(objects: readonly StixObject[]): Promise<string[]>;
  quarantine(): Promise<{ objectId: string; reason: string; message: string; source: string }[]>;
}

/** The pull world: grid, an Entente partner with its key pinned, a contributor to circle wide that accepted its terms. */
async function node(): Promise<Node> {
  const { store, deps, peer } = await pullWorld({
    partner: grid,
    partnerName: 'Grid',
    circle: { id: 'wide', name: 'Wide' },
    peer: { name: 'grid', url: 'https://grid.example/taxii2/', remoteCollectionId: 'feed' },
    kind: 'entente',
  });
  const circles = { store, clock: () => NOW, homeOrganisationId: HOME };
  const admin = { organisationId: HOME, admin: true };
  let pages = 0;
  let pushes = 0;
  return {
    store,
    peer,
    pull: async (at, objects) => {
      pages += 1;
      return pullPeer({ ...deps, clock: () => at }, peer, onePage(objects, new Date(NOW.getTime() + pages).toISOString()));
    },
    push: async (at, objects) => {
      pushes += 1;
      const statusId = `status-${pushes}`;
      const status = { statusId, requestTimestamp: at.toISOString(), tokenName: 'grid-push', validationFailures: [] };
      await receivePush({ store, homeOrganisationId: HOME }, { collectionId: 'wide', sender: grid.id, senderKind: 'entente', items: objects, status, now: at });
      const record = await store.getStatus(statusId);
      assert.ok(record !== undefined);
      return record.failures;
    },
    importBundle: (at, objects) => importSignedBundle({ store, clock: () => at, homeOrganisationId: HOME }, { collectionId: 'wide', from: grid.id, objects }),
    gridLeaves: async () => {
      await leave(circles, admin, 'wide', grid.id);
    },
    circleEnds: async () => {
      await end(circles, admin, 'wide');
    },
    held: async (objects) => [...(await store.latestVersions(objects.map((object) => object.id))).keys()].sort(),
    quarantine: async () =>
      (await store.listQuarantine({ limit: 100 })).map((item) => ({ objectId: item.objectId, reason: item.reason, message: item.message, source: item.source })),
  };
}

describe('arrivals through a circle take the sender\'s standing in it now', () => {
  it('stores what a member of a running circle sends, by every path (the control)', async () => {
    const world = await node();
    const [pulled, pushed, imported] = [indicator(1), indicator(2), indicator(3)];
    assert.equal((await world.pull(LATER, [pulled])).added, 1);
    assert.deepEqual(await world.push(LATER, [pushed]), []);
    assert.equal((await world.importBundle(LATER, [imported])).added, 1);
    assert.deepEqual(await world.held([pulled, pushed, imported]), [pulled.id, pushed.id, imported.id].sort());
    assert.deepEqual(await world.quarantine(), []);
    await world.store.close();
  });

  describe('from a member that left', () => {
    it('quarantines a pull as no-agreement, naming the leaving', async () => {
      const world = await node();
      await world.gridLeaves();
      const object = indicator(1);
      const counts = await world.pull(LATER, [object]);
      assert.equal(counts.added, 0);
      assert.equal(counts.quarantined, 1);
      assert.deepEqual(await world.held([object]), []);
      const [item] = await world.quarantine();
      assert.equal(item?.reason, 'no-agreement');
      assert.match(item?.message ?? '', new RegExp(`${grid.id} left circle wide at `));
      await world.store.close();
    });

    it('quarantines a push as no-agreement, and its status says the sender left', async () => {
      const world = await node();
      await world.gridLeaves();
      const object = indicator(2);
      const failures = await world.push(LATER, [object]);
      assert.equal(failures.length, 1);
      assert.equal(failures[0]?.id, object.id);
      assert.match(failures[0]?.message ?? '', new RegExp(`^quarantined \\(no-agreement\\): .*${grid.id} left circle wide at `));
      assert.deepEqual(await world.held([object]), []);
      assert.deepEqual((await world.quarantine()).map((item) => [item.source, item.reason]), [['push', 'no-agreement']]);
      await world.store.close();
    });

    it('quarantines a signed bundle\'s objects as no-agreement', async () => {
      const world = await node();
      await world.gridLeaves();
      const object = indicator(3);
      const counts = await world.importBundle(LATER, [object]);
      assert.equal(counts.added, 0);
      assert.equal(counts.quarantined, 1);
      assert.deepEqual([...counts.reasons], [['no-agreement', 1]]);
      assert.deepEqual(await world.held([object]), []);
      assert.match((await world.quarantine())[0]?.message ?? '', new RegExp(`${grid.id} left circle wide at `));
      await world.store.close();
    });

    it('keeps on record what was received before it left', async () => {
      const world = await node();
      const [pulled, pushed, imported] = [indicator(1), indicator(2), indicator(3)];
      assert.equal((await world.pull(NOW, [pulled])).added, 1);
      assert.deepEqual(await world.push(NOW, [pushed]), []);
      assert.equal((await world.importBundle(NOW, [imported])).added, 1);
      await world.gridLeaves();
      // The same versions again after the leaving: not taken again, and what is held stays.
      await world.pull(LATER, [pulled]);
      await world.push(LATER, [pushed]);
      await world.importBundle(LATER, [imported]);
      assert.deepEqual(await world.held([pulled, pushed, imported]), [pulled.id, pushed.id, imported.id].sort());
      assert.deepEqual(await world.store.listEntries('wide', { ids: [pulled.id, pushed.id, imported.id] }, { limit: 10 }).then((page) => page.entries.length), 3);
      await world.store.close();
    });
  });

  describe('in a circle that ended', () => {
    it('quarantines a pull, a push and a signed bundle as no-agreement, naming the end', async () => {
      const world = await node();
      await world.circleEnds();
      const [pulled, pushed, imported] = [indicator(1), indicator(2), indicator(3)];
      assert.equal((await world.pull(LATER, [pulled])).quarantined, 1);
      const failures = await world.push(LATER, [pushed]);
      assert.match(failures[0]?.message ?? '', /^quarantined \(no-agreement\): .*circle wide ended at /);
      assert.equal((await world.importBundle(LATER, [imported])).quarantined, 1);
      assert.deepEqual(await world.held([pulled, pushed, imported]), []);
      const items = await world.quarantine();
      assert.deepEqual(items.map((item) => [item.source, item.reason]).sort(), [['file', 'no-agreement'], ['pull', 'no-agreement'], ['push', 'no-agreement']]);
      for (const item of items) assert.match(item.message, /circle wide ended at /);
      await world.store.close();
    });

    it('keeps what it received before the end', async () => {
      const world = await node();
      const object = indicator(1);
      assert.equal((await world.pull(NOW, [object])).added, 1);
      await world.circleEnds();
      assert.equal((await world.pull(LATER, [indicator(4)])).added, 0);
      assert.deepEqual(await world.held([object]), [object.id]);
      await world.store.close();
    });
  });
});
