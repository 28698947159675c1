// Pulling from a plain TAXII server (docs/federation.md, "Words" and "Arrival checks"): a server
// that is not an Entente node signs nothing and vouches for no page. "From plain peers unsigned
// objects are accepted only into circles whose agreement says `unsigned_input: accept`, and they are
// marked unverified"; otherwise they are quarantined with reason `unsigned`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerRecord, PullCursor } from '../store/federation-store.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { StixObject } from '../stix/types.ts';
import type { CursoredPage, PagesOptions, TaxiiClient } from '../taxii/taxii-client.ts';
import { pullPeer, type PullDeps } from './pull-peer.ts';
import { pullWorld } from './pull-test-kit.ts';
import { testOrganisation } from './test-support.ts';

/** The partner running the plain TAXII server; this node holds no key of it. */
const partner = testOrganisation(2);
const MODIFIED = '2026-02-01T00:00:00.000Z';

/** An unsigned object as a plain TAXII server serves it: no signature extension at all. */
function unsigned(n: number, type: 'indicator' | 'malware' = 'indicator'): StixObject {
  const common = { spec_version: '2.1', id: `${type}--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, created: '2026-02-01T00:00:00.000Z', modified: MODIFIED };
  if (type === 'malware') return { type, ...common, name: `Malware ${n}`, is_family: true } as StixObject;
  return { type, ...common, pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z' } as StixObject;
}

/** A plain TAXII server serving one page of objects; it records whether each walk asked for signed pages. */
function plainServer(objects: readonly StixObject[]): TaxiiClient & { nonceAsked: boolean[] } {
  const nonceAsked: boolean[] = [];
  const client = {
    nonceAsked,
    close() {},
    async *pages(_collectionId: string, options: PagesOptions): AsyncGenerator<CursoredPage, void, undefined> {
      nonceAsked.push(options.pageNonce !== undefined);
      const cursor: PullCursor = { addedAfter: '2026-02-01T00:00:00.000001Z' };
      if (options.cursor?.addedAfter === cursor.addedAfter) return;
      // No X-Entente-Page-Signature: a plain server has no proof to give.
      yield { objects, more: false, cursor };
    },
  };
  return client as unknown as TaxiiClient & { nonceAsked: boolean[] };
}

type UnsignedInputTerm = 'accept' | 'quarantine' | undefined;

/** A node with one circle (indicators up to AMBER) whose terms the partner accepted, and a peer of `kind` to the partner's server. */
function world(unsignedInput: UnsignedInputTerm, kind: PeerRecord['kind'] = 'plain'): Promise<{ store: ObjectStore; deps: PullDeps; peer: PeerRecord }> {
  return pullWorld({
    partner,
    partnerName: 'Partner',
    circle: { id: 'feeds', name: 'Feeds' },
    peer: { name: 'partner-feed', url: 'https://taxii.partner.example/taxii2/', remoteCollectionId: 'indicators' },
    kind,
    ...(unsignedInput === undefined ? {} : { unsignedInput }),
  });
}

const versionOf = (object: StixObject) => ({ id: object.id, version: MODIFIED });

describe('pulling unsigned objects from a plain TAXII server', () => {
  it('stores them, marked unverified, where the circle\'s agreement says unsigned_input: accept', async () => {
    const { store, deps, peer } = await world('accept');
    const objects = [unsigned(1), unsigned(2)];
    const server = plainServer(objects);

    const counts = await pullPeer(deps, peer, server);

    assert.deepEqual([counts.added, counts.quarantined, counts.vouchedPages], [2, 0, 0]);
    assert.deepEqual(server.nonceAsked, [false], 'a plain server is not asked to sign its pages');
    const held = await store.latestVersions(objects.map((object) => object.id));
    assert.deepEqual([...held.keys()].sort(), objects.map((object) => object.id).sort());
    const provenance = await store.provenanceOf(objects.map(versionOf));
    const rows = [...provenance.values()].flat();
    assert.equal(rows.length, 2, 'one provenance row per version stored');
    for (const row of rows) {
      assert.equal(row.verification, 'unverified');
      assert.equal(row.peer, 'partner-feed');
      assert.equal(row.keyId, undefined, 'no key verified it');
    }
    assert.deepEqual(await store.listQuarantine({ limit: 10 }), []);
    await store.close();
  });

  it('still holds accepted unsigned input to the rest of the agreement: a type out of scope is quarantined as outside-agreement, not stored', async () => {
    const { store, deps, peer } = await world('accept');
    const outOfScope = unsigned(3, 'malware');
    const counts = await pullPeer(deps, peer, plainServer([unsigned(1), outOfScope]));
    assert.deepEqual([counts.added, counts.quarantined], [1, 1]);
    assert.deepEqual((await store.listQuarantine({ limit: 10 })).map((item) => [item.objectId, item.reason]), [[outOfScope.id, 'outside-agreement']]);
    assert.equal((await store.latestVersions([outOfScope.id])).size, 0);
    await store.close();
  });

  for (const [term, said] of [['quarantine', 'says unsigned_input: quarantine'], [undefined, 'says nothing of unsigned input']] as const) {
    it(`quarantines them with reason unsigned, storing nothing, where the agreement ${said}`, async () => {
      const { store, deps, peer } = await world(term);
      const objects = [unsigned(1), unsigned(2)];

      const counts = await pullPeer(deps, peer, plainServer(objects));

      assert.deepEqual([counts.received, counts.added, counts.quarantined], [2, 0, 2]);
      assert.equal((await store.latestVersions(objects.map((object) => object.id))).size, 0, 'nothing stored');
      assert.equal((await store.provenanceOf(objects.map(versionOf))).size, 0);
      const quarantine = await store.listQuarantine({ limit: 10 });
      assert.deepEqual(
        quarantine.map((item) => [item.objectId, item.version, item.reason, item.peer]).sort(),
        objects.map((object) => [object.id, object.modified, 'unsigned', 'partner-feed']).sort(),
      );
      // Kept whole, for `entente quarantine show|release`.
      for (const item of quarantine) assert.deepEqual(JSON.parse(item.json), objects.find((object) => object.id === item.objectId));
      // The page was dealt with: the next pull does not fetch it again.
      assert.deepEqual((await store.getPeerState('partner-feed')).pullCursor, { addedAfter: '2026-02-01T00:00:00.000001Z' });
      await store.close();
    });
  }

  it('accepts unsigned input from plain peers only: from an Entente peer of the same circle an unsigned object is quarantined as unsigned', async () => {
    const { store, deps, peer } = await world('accept', 'entente');
    const object = unsigned(1);
    const counts = await pullPeer(deps, peer, plainServer([object]));
    assert.deepEqual([counts.added, counts.quarantined], [0, 1]);
    assert.deepEqual((await store.listQuarantine({ limit: 10 })).map((item) => [item.objectId, item.reason]), [[object.id, 'unsigned']]);
    await store.close();
  });
});
