import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSqliteObjectStore } from '../store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../stix/types.ts';
import { ensureNodeKey } from './node-key-lifecycle.ts';
import { createNodeSignerProvider } from './node-signer.ts';
import { OriginatedPresigner } from './presign-originated.ts';
import { createReleaseSigner } from './sign-releases.ts';
import { signObject } from './sign-object.ts';
import { testOrganisation } from './test-support.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-0000000000ff';
const PARTNER = testOrganisation(21);
const AT = new Date('2026-06-01T00:00:00Z');

function indicator(n: number): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--0a0a0a0a-0000-4000-8000-${String(n).padStart(12, '0')}`,
    created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z',
    pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z',
  } as StixObject;
}

async function world(): Promise<{ store: ReturnType<typeof openSqliteObjectStore>; presigner: OriginatedPresigner; signer: ReturnType<typeof createReleaseSigner> }> {
  const store = openSqliteObjectStore({ path: ':memory:' });
  await ensureNodeKey(store, AT);
  await store.createCollection({ id: 'circle-collection', title: 'circle' }, AT);
  await store.createCollection({ id: 'private', title: 'home only' }, AT);
  await store.createCircle({
    id: 'alliance', name: 'Alliance', kind: 'formal', visibility: 'open', collectionId: 'circle-collection', defaultTlp: 'amber',
    validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
    members: [{ organisationId: HOME, role: 'coordinator', joinedAt: '2026-01-01T00:00:00.000Z', trial: false }],
  }, AT);
  const signer = createReleaseSigner({ store, keys: createNodeSignerProvider({ store, organisationId: HOME, clock: () => AT }), homeOrganisationId: HOME });
  return { store, presigner: new OriginatedPresigner(store, signer, { pageSize: 2 }), signer };
}

const originKey = (object: StixObject): { id: string; version: string; variant: string } => ({ id: object.id, version: String(object['modified']), variant: '' });

describe('signing originated versions ahead of release', () => {
  it('signs what the home organisation originated in circle collections, and nothing it received or keeps to itself', async () => {
    const { store, presigner } = await world();
    const originated = [indicator(1), indicator(2), indicator(3)];
    await store.addObjects('circle-collection', originated);
    const contributed = indicator(4);
    await store.addObjects('circle-collection', [contributed], undefined, PARTNER.id);
    const received = signObject(indicator(5), PARTNER.signer);
    await store.applySyncBatch({
      collectionId: 'circle-collection', peer: undefined, circleId: 'alliance', source: 'file', contributorOrganisationId: PARTNER.id,
      accepted: [{ object: received, signer: PARTNER.id, keyId: PARTNER.signer.keyId, verification: 'verified', hops: [PARTNER.id] }], quarantined: [], receivedAt: AT.toISOString(),
    });
    const homeOnly = indicator(6);
    await store.addObjects('private', [homeOnly]);

    assert.equal(await presigner.runOnce(), 5);
    const asked = [...originated, contributed, received, homeOnly];
    const kept = await store.signaturesIn(asked.map(originKey));
    assert.deepEqual(asked.filter((_, index) => kept[index] !== undefined), originated);
    await store.close();
  });

  it('resumes where it stopped: a second pass reads nothing old, and signs what was added since', async () => {
    const { store, presigner } = await world();
    await store.addObjects('circle-collection', [indicator(1), indicator(2)]);
    assert.equal(await presigner.runOnce(), 2);
    assert.equal(await presigner.runOnce(), 0);
    await store.addObjects('circle-collection', [indicator(3)]);
    assert.equal(await presigner.runOnce(), 1);
    const [kept] = await store.signaturesIn([originKey(indicator(3))]);
    assert.ok(kept !== undefined);
    await store.close();
  });

  it('moves past versions that arrived signed without signing them, and remembers it: the next pass reads nothing old', async () => {
    const { store, presigner } = await world();
    const received = [signObject(indicator(7), PARTNER.signer), signObject(indicator(8), PARTNER.signer), signObject(indicator(9), PARTNER.signer)];
    await store.applySyncBatch({
      collectionId: 'circle-collection', peer: undefined, circleId: 'alliance', source: 'file', contributorOrganisationId: PARTNER.id,
      accepted: received.map((object) => ({ object, signer: PARTNER.id, keyId: PARTNER.signer.keyId, verification: 'verified' as const, hops: [PARTNER.id] })),
      quarantined: [], receivedAt: AT.toISOString(),
    });
    assert.equal(await presigner.runOnce(), 3);
    assert.deepEqual(await store.signaturesIn(received.map(originKey)), [undefined, undefined, undefined]);
    assert.equal(await presigner.runOnce(), 0);
    await store.close();
  });

  it('the release path then sends the kept signature: the same bytes as if it had signed at release', async () => {
    const { store, presigner, signer } = await world();
    const object = indicator(7);
    await store.addObjects('circle-collection', [object]);
    await presigner.runOnce();
    const [keptBefore] = await store.signaturesIn([originKey(object)]);
    const page = await store.listEntries('circle-collection', {}, { limit: 10 });
    const entry = page.entries[0];
    assert.ok(entry !== undefined && keptBefore !== undefined);
    const recipient = { name: 'partner', organisationId: PARTNER.id, admin: false, actsForHome: false, grants: [] };
    const [text] = await signer.signReleases([{ entry, object: JSON.parse(entry.json) as StixObject, redacted: undefined, contributions: [] }], { recipient, circle: undefined });
    assert.ok(text?.includes(keptBefore), 'the kept signature leaves');
    await store.close();
  });
});
