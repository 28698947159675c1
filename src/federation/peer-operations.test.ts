// followKeyRotations: what a sync cycle pins from the key rotations an Entente peer publishes at
// GET /api/federation/node (docs/federation.md, "Keys and signatures"). The peer's rotations are
// followed — during the overlap, after it, two at once — but the keys pinned here are the anchors,
// with their windows: a key whose pinned window is over, or that already has a successor pinned here,
// vouches for no key, whoever holds a copy of it; and a new key is never valid from earlier than the
// instant its statement names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerRecord, PinnedKeyRecord } from '../store/federation-store.ts';
import type { TaxiiClient } from '../taxii/taxii-client.ts';
import { followKeyRotations, NODE_IDENTITY_PATH } from './peer-operations.ts';
import { signMessage } from './signed-message.ts';
import { testOrganisation, type TestOrganisation } from './test-support.ts';

// One organisation (the peer's), four keys: its first, the one it rotated to, the one after, and a
// key that only a thief holds the private half of.
const first = testOrganisation(5, 51);
const second = testOrganisation(5, 52);
const third = testOrganisation(5, 53);
const thief = testOrganisation(5, 54);
const ORG = first.id;
const EPOCH = '1970-01-01T00:00:00.000Z';
const ROTATED_AT = '2026-03-01T00:00:00.000Z';
const OVERLAP_END = '2026-03-08T00:00:00.000Z';
const DURING_OVERLAP = new Date('2026-03-02T00:00:00.000Z');
const AFTER_OVERLAP = new Date('2026-06-01T00:00:00.000Z');

const statement = (from: TestOrganisation, to: TestOrganisation, validFrom: string): unknown =>
  signMessage('key-rotation', { organisation_id: ORG, key_id: to.pinned.keyId, public_key: to.pinned.publicKey, valid_from: validFrom }, from.signer);

interface Published {
  readonly key: TestOrganisation;
  readonly validFrom: string;
  readonly validUntil?: string;
  readonly rotationStatement?: unknown;
}

/** The node identity document as GET /api/federation/node answers it. */
function document(...keys: Published[]): unknown {
  return {
    organisation: { type: 'identity', spec_version: '2.1', id: ORG, name: 'Grid Co', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z' },
    keys: keys.map((key) => ({
      key_id: key.key.pinned.keyId,
      public_key: key.key.pinned.publicKey,
      valid_from: key.validFrom,
      ...(key.validUntil === undefined ? {} : { valid_until: key.validUntil }),
      ...(key.rotationStatement === undefined ? {} : { rotation_statement: key.rotationStatement }),
    })),
    software: 'entente',
    protocol: 1,
  };
}

const pin = (key: TestOrganisation, validFrom: string, validUntil: string | undefined, source: string): PinnedKeyRecord => ({
  organisationId: ORG,
  keyId: key.pinned.keyId,
  publicKey: key.pinned.publicKey,
  validFrom,
  validUntil,
  source,
  pinnedAt: '2026-01-01T00:00:00.000Z',
});

const PEER: PeerRecord = {
  name: 'grid-co',
  url: 'https://grid.example/taxii2/',
  apiRootUrl: 'https://grid.example/taxii2/',
  token: 'ent_secret',
  circleId: 'wide',
  localCollectionId: 'wide',
  remoteCollectionId: 'wide',
  organisationId: ORG,
  kind: 'entente',
  push: false,
  intervalSeconds: 300,
  silentAfter: 3,
  createdAt: '2026-01-01T00:00:00.000Z',
};

/** A sync cycle at `now` against a peer answering `identity`, over the keys pinned here; returns what is pinned after it. */
async function follow(pinned: readonly PinnedKeyRecord[], identity: unknown, now: Date): Promise<{ readonly pinned: Map<string, PinnedKeyRecord>; readonly followed: readonly string[] }> {
  const keys = new Map(pinned.map((key) => [key.keyId, key]));
  const store = {
    listPinnedKeys: async (organisationId?: string): Promise<PinnedKeyRecord[]> => [...keys.values()].filter((key) => organisationId === undefined || key.organisationId === organisationId),
    pinKey: async (key: PinnedKeyRecord): Promise<void> => {
      keys.set(key.keyId, key);
    },
  };
  const client: Pick<TaxiiClient, 'getJson'> = {
    getJson: async (path: string): Promise<unknown> => {
      assert.equal(path, NODE_IDENTITY_PATH);
      return identity;
    },
  };
  const outcome = await followKeyRotations(store, client, PEER, now);
  return { pinned: keys, followed: outcome.pinned };
}

const window = (key: PinnedKeyRecord | undefined): [string | undefined, string | undefined, string | undefined] => [key?.validFrom, key?.validUntil, key?.source];

describe('followKeyRotations', () => {
  // The peer's node after rotating from `first` to `second` with a week's overlap.
  const rotatedOnce = document(
    { key: first, validFrom: EPOCH, validUntil: OVERLAP_END },
    { key: second, validFrom: ROTATED_AT, rotationStatement: statement(first, second, ROTATED_AT) },
  );
  const firstPinned = pin(first, EPOCH, undefined, 'peer-add');

  it("follows a rotation during the overlap: the new key is pinned, the old one ends where the peer's node ends it", async () => {
    const after = await follow([firstPinned], rotatedOnce, DURING_OVERLAP);
    assert.deepEqual(after.followed, [second.pinned.keyId]);
    assert.deepEqual(window(after.pinned.get(second.pinned.keyId)), [ROTATED_AT, undefined, 'rotation']);
    assert.deepEqual(window(after.pinned.get(first.pinned.keyId)), [EPOCH, OVERLAP_END, 'peer-add']);
  });

  it('follows a rotation late, after the overlap, when its statement was made inside the window the old key has here', async () => {
    const after = await follow([firstPinned], rotatedOnce, AFTER_OVERLAP);
    assert.deepEqual(after.followed, [second.pinned.keyId]);
    assert.deepEqual(window(after.pinned.get(first.pinned.keyId)), [EPOCH, OVERLAP_END, 'peer-add']);
  });

  it('follows two rotations at once, each statement made inside the window of the key before', async () => {
    const secondEnd = '2026-04-08T00:00:00.000Z';
    const twice = document(
      { key: first, validFrom: EPOCH, validUntil: OVERLAP_END },
      { key: second, validFrom: ROTATED_AT, validUntil: secondEnd, rotationStatement: statement(first, second, ROTATED_AT) },
      { key: third, validFrom: '2026-04-01T00:00:00.000Z', rotationStatement: statement(second, third, '2026-04-01T00:00:00.000Z') },
    );
    const after = await follow([firstPinned], twice, AFTER_OVERLAP);
    assert.deepEqual(after.followed, [second.pinned.keyId, third.pinned.keyId]);
    assert.deepEqual(window(after.pinned.get(third.pinned.keyId)), ['2026-04-01T00:00:00.000Z', undefined, 'rotation']);
    assert.deepEqual(window(after.pinned.get(second.pinned.keyId)), [ROTATED_AT, secondEnd, 'rotation']);
  });

  it('after the overlap, a copy of the rotated-out key vouches for no key of its own, whatever the statement says', async () => {
    // This node followed the rotation: `first` ends with the overlap, `second` is pinned.
    const followed = [pin(first, EPOCH, OVERLAP_END, 'peer-add'), pin(second, ROTATED_AT, undefined, 'rotation')];
    // The thief's identity: the old key, published without an end, and a key of its own that the
    // old key signed over, backdated into the old key's window so it can sign old versions too.
    const forged = document({ key: first, validFrom: EPOCH }, { key: thief, validFrom: '2026-01-01T00:00:00.000Z', rotationStatement: statement(first, thief, '2026-01-01T00:00:00.000Z') });
    const after = await follow(followed, forged, AFTER_OVERLAP);
    assert.deepEqual(after.followed, []);
    assert.equal(after.pinned.has(thief.pinned.keyId), false);
    assert.deepEqual(window(after.pinned.get(first.pinned.keyId)), [EPOCH, OVERLAP_END, 'peer-add'], 'the window is not reopened');
  });

  it('a pinned key whose window is over vouches for nothing, even with no successor pinned here', async () => {
    const ended = pin(first, EPOCH, OVERLAP_END, 'manual');
    const forged = document({ key: first, validFrom: EPOCH }, { key: thief, validFrom: ROTATED_AT, rotationStatement: statement(first, thief, ROTATED_AT) });
    const after = await follow([ended], forged, AFTER_OVERLAP);
    assert.deepEqual(after.followed, []);
    assert.equal(after.pinned.has(thief.pinned.keyId), false);
  });

  it('during the overlap, a copy of the old key cannot add a second successor to the one pinned here', async () => {
    const followed = [pin(first, EPOCH, OVERLAP_END, 'peer-add'), pin(second, ROTATED_AT, undefined, 'rotation')];
    const inWindow = '2026-03-01T12:00:00.000Z';
    const forged = document({ key: first, validFrom: EPOCH }, { key: thief, validFrom: inWindow, rotationStatement: statement(first, thief, inWindow) });
    const after = await follow(followed, forged, DURING_OVERLAP);
    assert.deepEqual(after.followed, []);
    assert.equal(after.pinned.has(thief.pinned.keyId), false);
  });

  it('pins neither of two keys that the same key signed over: one of them was not made by the peer', async () => {
    const forked = document(
      { key: first, validFrom: EPOCH },
      { key: second, validFrom: ROTATED_AT, rotationStatement: statement(first, second, ROTATED_AT) },
      { key: thief, validFrom: ROTATED_AT, rotationStatement: statement(first, thief, ROTATED_AT) },
    );
    const after = await follow([firstPinned], forked, DURING_OVERLAP);
    assert.deepEqual(after.followed, []);
  });

  it("refuses a statement dated outside the window the vouching key has here", async () => {
    // Pinned by hand as valid from February only: it cannot speak for a key from January.
    const fromFebruary = pin(first, '2026-02-01T00:00:00.000Z', undefined, 'manual');
    const early = '2026-01-01T00:00:00.000Z';
    const rotated = document({ key: first, validFrom: EPOCH }, { key: second, validFrom: early, rotationStatement: statement(first, second, early) });
    const after = await follow([fromFebruary], rotated, DURING_OVERLAP);
    assert.deepEqual(after.followed, []);
  });

  it('pins the new key from the instant its statement names, never from an earlier one the identity publishes', async () => {
    const backdated = document({ key: first, validFrom: EPOCH }, { key: second, validFrom: EPOCH, rotationStatement: statement(first, second, ROTATED_AT) });
    const after = await follow([firstPinned], backdated, DURING_OVERLAP);
    assert.deepEqual(after.followed, [second.pinned.keyId]);
    assert.deepEqual(window(after.pinned.get(second.pinned.keyId)), [ROTATED_AT, undefined, 'rotation']);
  });
});
