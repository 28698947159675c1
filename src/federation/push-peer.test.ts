// A push runs for as long as its envelopes take: each batch is a release decided when it leaves, not
// when the push began. The circle may end, or the peer's organisation leave it, between two batches;
// what goes after that must not go, and what went before must carry the instant it was decided, so
// that the recall queued at the end (from the audit log) covers every version that left.
// (The two-node push scenarios — status followed, cursor, retries, refusals — are in
// test/federation/push-to-peer.test.ts.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore } from '../store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { PeerRecord } from '../store/federation-store.ts';
import type { TaxiiClient, TaxiiStatus } from '../taxii/taxii-client.ts';
import type { StixObject } from '../stix/types.ts';
import { acceptAgreement, createCircle, end, invite, leave, proposeAgreement } from '../circles/circle-operations.ts';
import { metaKeys } from '../bootstrap-node.ts';
import { pushPeer } from './push-peer.ts';
import { releasesIn } from '../audit/audit-chain.ts';
import { testOrganisation } from './test-support.ts';

const HOME = testOrganisation(30);
const X = testOrganisation(32);
const CIRCLE = 'c';
const admin = { organisationId: HOME.id, admin: true };

interface World {
  readonly store: ObjectStore;
  readonly deps: { readonly store: ObjectStore; readonly clock: () => Date; readonly homeOrganisationId: string };
  readonly peer: PeerRecord;
  readonly objects: readonly StixObject[];
  /** Moves this node's clock. */
  setNow(iso: string): void;
}

/** A circle of the home organisation and X (recall end rule), four indicators of the home organisation in it, and X as a push peer. */
async function world(): Promise<World> {
  let now = new Date('2026-06-01T00:00:00.000Z');
  const store = openSqliteObjectStore({ path: ':memory:' });
  await store.setMeta(metaKeys.homeOrganisation, JSON.stringify({ type: 'identity', id: HOME.id }));
  await store.createOrganisation({ id: X.id, name: 'x', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: now.toISOString() });
  const deps = { store, clock: () => now, homeOrganisationId: HOME.id };
  await createCircle(deps, { id: CIRCLE, name: CIRCLE, kind: 'formal', visibility: 'open', default_tlp: 'green', valid_from: '2026-01-01T00:00:00.000Z', review_at: '2027-01-01T00:00:00.000Z' });
  await invite(deps, admin, CIRCLE, { organisationId: X.id, role: 'contributor', trial: false });
  await proposeAgreement(deps, admin, CIRCLE, {
    scope: { types: ['indicator'] }, highest_tlp: 'red', onward_sharing: 'none', attribution: 'keep',
    expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' }, end_rule: 'recall',
  });
  await acceptAgreement(deps, { organisationId: X.id, admin: false }, CIRCLE, X.id);
  now = new Date('2026-06-02T00:00:00.000Z');
  const objects = [1, 2, 3, 4].map((n): StixObject => ({
    type: 'indicator', spec_version: '2.1', id: `indicator--eeeeeeee-0000-4000-8000-00000000000${n}`, created: '2026-02-01T00:00:00.000Z',
    modified: '2026-02-01T00:00:00.000Z', pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z',
  }));
  // One at a time: each its own date_added, so that a batch of one is one object.
  for (const object of objects) await store.addObjects(CIRCLE, [object]);
  const peer: PeerRecord = {
    name: 'x', url: 'u', apiRootUrl: 'u', token: 't', circleId: CIRCLE, localCollectionId: CIRCLE, remoteCollectionId: CIRCLE,
    organisationId: X.id, kind: 'entente', push: true, intervalSeconds: 300, silentAfter: 3, createdAt: now.toISOString(),
  };
  await store.addPeer(peer);
  return { store, deps, peer, objects, setNow: (iso) => (now = new Date(iso)) };
}

/** A peer that stores every envelope at once; `afterPost` runs after each POST, with the number of POSTs so far. */
function peerClient(afterPost: (posts: number) => Promise<void>): { client: TaxiiClient; posted: string[] } {
  const posted: string[] = [];
  let posts = 0;
  const client = {
    apiRoot: async () => ({ maxContentLength: 1 << 20 }),
    postObjects: async (_collection: string, objects: readonly { id: string }[]): Promise<TaxiiStatus> => {
      posted.push(...objects.map((object) => object.id));
      posts += 1;
      await afterPost(posts);
      return { id: `s${posts}`, status: 'complete', successCount: objects.length, failures: [] } as unknown as TaxiiStatus;
    },
  };
  return { client: client as unknown as TaxiiClient, posted };
}

const releasesTo = async (store: ObjectStore, organisationId: string): Promise<{ id: string; at: string }[]> =>
  (await store.readAudit({ recipientOrganisationId: organisationId, circleId: CIRCLE, afterSeq: 0, limit: 100 }))
    .flatMap((record) => releasesIn(record.chained.entry))
    .flatMap((release) => (release.decision !== 'withhold' ? [{ id: release.objectId, at: release.at }] : []));

describe('push to a peer: each batch is released when it leaves', () => {
  it('stops at the end of the circle: nothing leaves after it, and the recall queued at the end covers everything that left', async () => {
    const w = await world();
    try {
      const { client, posted } = peerClient(async (posts) => {
        if (posts !== 1) return;
        // The circle ends while the first envelope is with the peer; the push goes on 10 s later.
        w.setNow('2026-06-02T00:00:10.000Z');
        await end(w.deps, admin, CIRCLE);
        w.setNow('2026-06-02T00:00:20.000Z');
      });
      const counts = await pushPeer({ store: w.store, clock: w.deps.clock }, w.peer, client, { batchSize: 1 });

      assert.deepEqual(posted, [w.objects[0]?.id], 'only the batch decided before the end left');
      assert.equal(counts.pushed, 1);
      assert.match(counts.stopped ?? '', /^circle-window: /, 'the push says why it stopped');
      const released = await releasesTo(w.store, X.id);
      assert.deepEqual(released, [{ id: w.objects[0]?.id, at: '2026-06-02T00:00:00.000Z' }]);
      const recalled = (await w.store.listRecalls({ organisationId: X.id, circleId: CIRCLE })).map((notice) => notice.objectId);
      assert.deepEqual(recalled, released.map((release) => release.id), 'every version that left is recalled');
      // The cursor stays after what was sent: what the end withheld is not walked past.
      const first = (await w.store.listEntries(CIRCLE, { versions: [{ kind: 'all' }] }, { limit: 1 })).entries[0];
      assert.equal((await w.store.getPeerState('x')).pushCursor, first?.dateAdded);
    } finally {
      await w.store.close();
    }
  });

  it("stops when the peer's organisation leaves the circle during the push", async () => {
    const w = await world();
    try {
      const { client, posted } = peerClient(async (posts) => {
        if (posts !== 2) return;
        w.setNow('2026-06-02T00:00:10.000Z');
        await leave(w.deps, { organisationId: X.id, admin: false }, CIRCLE, X.id);
      });
      const counts = await pushPeer({ store: w.store, clock: w.deps.clock }, w.peer, client, { batchSize: 1 });

      assert.deepEqual(posted, [w.objects[0]?.id, w.objects[1]?.id]);
      assert.equal(counts.pushed, 2);
      assert.match(counts.stopped ?? '', /^membership: /);
      const released = await releasesTo(w.store, X.id);
      assert.deepEqual(released.map((release) => release.id), [w.objects[0]?.id, w.objects[1]?.id]);
      const recalled = (await w.store.listRecalls({ organisationId: X.id, circleId: CIRCLE })).map((notice) => notice.objectId).sort();
      assert.deepEqual(recalled, released.map((release) => release.id).sort(), 'every version that left is recalled');
    } finally {
      await w.store.close();
    }
  });

  it('records each release at the instant its batch was decided, not the start of the push', async () => {
    const w = await world();
    try {
      const { client } = peerClient(async (posts) => {
        w.setNow(`2026-06-02T00:0${posts}:00.000Z`);
      });
      const counts = await pushPeer({ store: w.store, clock: w.deps.clock }, w.peer, client, { batchSize: 1 });

      assert.equal(counts.pushed, 4);
      assert.equal(counts.stopped, undefined);
      assert.deepEqual(
        (await releasesTo(w.store, X.id)).map((release) => release.at),
        ['2026-06-02T00:00:00.000Z', '2026-06-02T00:01:00.000Z', '2026-06-02T00:02:00.000Z', '2026-06-02T00:03:00.000Z'],
      );
    } finally {
      await w.store.close();
    }
  });

  it('reads the standing once per batch: the release gate decides it, and the push stops on its word', async () => {
    const w = await world();
    try {
      // Counts the reads of what the standing is worked out from (the circle, its agreement state,
      // the peer's organisation); the store itself answers.
      const reads = { circle: 0, agreements: 0, organisation: 0 };
      const counted = new Proxy(w.store, {
        get(target, method) {
          // Bound to the store itself: its methods read private fields, which a proxy receiver lacks.
          const value = Reflect.get(target, method, target) as unknown;
          if (method === 'getCircleByCollection') reads.circle += 1;
          if (method === 'getAgreementState') reads.agreements += 1;
          if (method === 'getOrganisation') reads.organisation += 1;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const { client, posted } = peerClient(async () => undefined);
      const counts = await pushPeer({ store: counted, clock: w.deps.clock }, w.peer, client, { batchSize: 1 });

      assert.deepEqual(posted, w.objects.map((object) => object.id), 'every batch left, as before');
      assert.deepEqual(counts, { examined: 4, pushed: 4, refused: 0, refusals: [] });
      assert.deepEqual(reads, { circle: 4, agreements: 4, organisation: 4 }, 'four batches, one standing each');
    } finally {
      await w.store.close();
    }
  });

  it('sends nothing, and leaves the cursor where it was, when the circle has ended before the push', async () => {
    const w = await world();
    try {
      await end(w.deps, admin, CIRCLE);
      w.setNow('2026-06-02T00:00:01.000Z');
      const { client, posted } = peerClient(async () => undefined);
      const counts = await pushPeer({ store: w.store, clock: w.deps.clock }, w.peer, client, { batchSize: 1 });
      assert.deepEqual(posted, []);
      assert.equal(counts.pushed, 0);
      assert.equal((await w.store.getPeerState('x')).pushCursor, undefined);
    } finally {
      await w.store.close();
    }
  });
});
