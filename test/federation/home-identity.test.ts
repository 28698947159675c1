// The home organisation's identity is the node's own record (node metadata `home_organisation`), and
// only the home organisation speaks for it. Sightings shared back carry that record, never what some
// collection holds of the id; a partner writing into a collection of no circle cannot write a version
// of the identity, nor an object naming the home organisation as its creator, unless the home
// organisation signed it (its own version coming back). Into a circle's collection the arrival checks
// say the same (home-identity-arrival.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { shareSightingsBack } from '../../src/correlate/share-sightings.ts';
import { signObject } from '../../src/federation/sign-object.ts';
import { testOrganisation } from '../../src/federation/test-support.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { AT, forged, HOME, homeIdentity, PEER, PLAIN, startHomeIdentityNode, type HomeIdentityNode } from './home-identity-kit.ts';

describe("the home organisation's identity", () => {
  let node: HomeIdentityNode;
  before(async () => {
    node = await startHomeIdentityNode();
  });
  after(() => node.close());

  it('a plain partner cannot write it into a collection of no circle — nor an object that names the home organisation as its creator', async () => {
    const claimed = {
      type: 'indicator', spec_version: '2.1', id: 'indicator--0e0e0e0e-1111-4000-8000-000000000001', created_by_ref: HOME, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z',
      name: 'said to be the home organisation\'s', pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z',
    };
    const status = await node.post('plain', 'inbox', [forged, claimed]);
    assert.deepEqual([status.success_count, status.failure_count], [0, 2], JSON.stringify(status));
    for (const failure of status.failures ?? []) assert.doesNotMatch(failure.message, /beta|alpha|2026-01-01/, 'nothing the node holds');
    assert.deepEqual(await node.versionsIn('inbox', HOME), []);
    assert.deepEqual(await node.versionsIn('inbox', claimed.id), []);
  });

  describe('its own signed version coming back through a partner is stored', () => {
    it('from the Entente peer, into its circle\'s collection (a duplicate)', async () => {
      const status = await node.post('peer', 'beta', [await node.releasedHomeIdentity()]);
      assert.deepEqual([status.success_count, status.failure_count], [1, 0], JSON.stringify(status));
    });

    it('from a plain partner, into its circle\'s collection and into a collection of no circle', async () => {
      const released = await node.releasedHomeIdentity();
      for (const collection of ['alpha', 'inbox']) {
        const status = await node.post('plain', collection, [released]);
        assert.deepEqual([status.success_count, status.failure_count], [1, 0], `${collection}: ${JSON.stringify(status)}`);
        assert.deepEqual(await node.versionsIn(collection, HOME), [homeIdentity.modified]);
      }
    });
  });

  it("sightings shared back carry the node's own record of it, whatever a collection holds of its id", async () => {
    // A newer version of the id in one of the node's collections (as one could get there before the arrival checks refused it).
    await node.store.addObjects('elsewhere', [forged as StixObject]);
    const indicator = {
      type: 'indicator', spec_version: '2.1', id: 'indicator--0e0e0e0e-2222-4000-8000-000000000001', created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z',
      name: 'probe', pattern: "[ipv4-addr:value = '198.51.100.2']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', created_by_ref: PEER.id,
    };
    assert.equal((await node.post('peer', 'beta', [signObject(indicator as StixObject, PEER.signer)])).success_count, 1);
    const time = AT.toISOString();
    const observedData = {
      type: 'observed-data', spec_version: '2.1', id: `observed-data--${randomUUID()}`, created: time, modified: time, first_observed: time, last_observed: time,
      number_observed: 1, object_refs: ['ipv4-addr--00000000-0000-5000-8000-000000000001'], created_by_ref: HOME,
    } as StixObject;
    const sighting = { type: 'sighting', spec_version: '2.1', id: `sighting--${randomUUID()}`, created: time, modified: time, sighting_of_ref: indicator.id, where_sighted_refs: [HOME], created_by_ref: HOME, count: 1 } as StixObject;
    const outcome = await shareSightingsBack({ store: node.store, homeOrganisationId: HOME, randomUuid: randomUUID }, [{ bundle: { sighting, observedData, objects: [observedData, sighting] }, indicatorVersion: indicator.modified }], AT);
    assert.deepEqual(outcome.shared.flat().map((shared) => shared.collectionId), ['beta']);
    assert.deepEqual(outcome.rejected, []);
    assert.deepEqual(await node.versionsIn('beta', HOME), [homeIdentity.modified]);
    assert.equal((await node.releasedHomeIdentity())['name'], 'Home');
  });
});

// The same holds for every organisation whose keys are pinned on this node, not only the home
// organisation: readers and the node matcher take `created_by_ref` (and an identity's id) at its
// word, so a partner writing into a collection of no circle may name such an organisation only on a
// version that organisation signed with a key pinned for it. An organisation without pinned keys has
// no signature to check; its objects are stored as sent.
describe('an organisation whose keys are pinned, named by a partner writing into a collection of no circle', () => {
  // Hex letters in its id, so that a case variant of it is another string.
  const CERT = 'identity--c0ffee00-abcd-4000-8000-00000000ce57';
  const certKey = testOrganisation(12);
  const cert = { ...certKey, id: CERT, signer: { ...certKey.signer, organisationId: CERT }, pinned: { ...certKey.pinned, organisationId: CERT } };
  /** The plain partner's own key pair: never pinned here (a partner with pinned keys is an Entente peer). */
  const partnerKey = testOrganisation(13);
  const partnerSigner = { ...partnerKey.signer, organisationId: PLAIN };
  const UNPINNED = 'identity--0e0e0e0e-3333-4000-8000-000000000003';
  let node: HomeIdentityNode;
  let serial = 0;
  const indicator = (createdBy: string): StixObject => {
    serial += 1;
    const n = String(serial).padStart(12, '0');
    return {
      type: 'indicator', spec_version: '2.1', id: `indicator--0e0e0e0e-4444-4000-8000-${n}`, created_by_ref: createdBy, created: '2026-03-01T00:00:00.000Z', modified: '2026-03-01T00:00:00.000Z',
      name: `said to be ${createdBy}'s`, pattern: `[ipv4-addr:value = '198.51.100.${serial}']`, pattern_type: 'stix', valid_from: '2026-03-01T00:00:00Z',
    } as StixObject;
  };
  const identityOf = (id: string): StixObject =>
    ({ type: 'identity', spec_version: '2.1', id, created: '2026-03-01T00:00:00.000Z', modified: '2026-03-01T00:00:00.000Z', name: 'CERT X (contact: attacker@evil.example)', identity_class: 'organization' }) as StixObject;
  /** Posts one object as the plain partner into `inbox`: the one failure's message, or undefined when it was stored. */
  const refusalOf = async (object: unknown): Promise<string | undefined> => {
    const status = await node.post('plain', 'inbox', [object]);
    const { id, modified } = object as { id: string; modified: string };
    const stored = (await node.versionsIn('inbox', id)).includes(modified);
    assert.equal(status.success_count + status.failure_count, 1, JSON.stringify(status));
    assert.equal(stored, status.success_count === 1, `${id} is stored exactly when the status says so`);
    return status.failures?.[0]?.message;
  };

  before(async () => {
    node = await startHomeIdentityNode();
    const at = '2026-01-01T00:00:00.000Z';
    await node.store.createOrganisation({ id: CERT, name: 'CERT X', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: at });
    await node.store.pinKey({ ...cert.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: at });
  });
  after(() => node.close());

  it('unsigned, from a plain partner: refused as signer-not-creator, naming nothing the node holds', async () => {
    const message = await refusalOf(indicator(CERT));
    assert.match(message ?? '', /refused \(signer-not-creator\): created_by_ref names identity--c0ffee00-abcd-4000-8000-00000000ce57, whose keys are pinned on this node, but the version is unsigned/);
    assert.doesNotMatch(message ?? '', /beta|alpha|2026-01-01/);
  });

  it('signed with a key pinned for it: stored', async () => {
    assert.equal(await refusalOf(signObject(indicator(CERT), cert.signer)), undefined);
  });

  it("signed with the partner's own key, which is pinned for no one: refused (unknown-key)", async () => {
    assert.match((await refusalOf(signObject(indicator(CERT), partnerSigner))) ?? '', /refused \(unknown-key\): .*not pinned for/);
  });

  it('signed by another organisation with pinned keys, whole or derived: refused (signer-not-creator)', async () => {
    for (const options of [{}, { derived: true }]) {
      const message = await refusalOf(signObject(indicator(CERT), PEER.signer, options));
      assert.match(message ?? '', new RegExp(`refused \\(signer-not-creator\\): created_by_ref names ${CERT}, whose keys are pinned on this node, but ${PEER.id} signed`));
    }
  });

  it('signed by it, but altered after signing: refused (bad-signature)', async () => {
    const altered = { ...signObject(indicator(CERT), cert.signer), name: 'altered after signing' };
    assert.match((await refusalOf(altered)) ?? '', /refused \(bad-signature\)/);
  });

  it('signed by it with a key retired before the version: refused (key-not-valid)', async () => {
    const retired = testOrganisation(14);
    await node.store.pinKey({ ...retired.pinned, organisationId: CERT, validUntil: '2026-02-01T00:00:00.000Z', source: 'rotation', pinnedAt: '2026-01-01T00:00:00.000Z' });
    const message = await refusalOf(signObject(indicator(CERT), { ...retired.signer, organisationId: CERT }));
    assert.match(message ?? '', new RegExp(`refused \\(key-not-valid\\): key ${retired.signer.keyId} of ${CERT} was valid`));
  });

  it('its created_by_ref in another letter case, which readers take for it: refused signed or not, as the node stores no identifier spelled so', async () => {
    const upper = CERT.toUpperCase().replace('IDENTITY--', 'identity--');
    assert.match((await refusalOf(indicator(upper))) ?? '', /created_by_ref: .*\(STIX_ID_UPPERCASE\)/);
    assert.match((await refusalOf(signObject(indicator(upper), cert.signer))) ?? '', /\(STIX_ID_UPPERCASE\)/);
    // The home organisation likewise.
    assert.match((await refusalOf(indicator(HOME.toUpperCase().replace('IDENTITY--', 'identity--')))) ?? '', /\(STIX_ID_UPPERCASE\)/);
  });

  it('a sighting naming it where sighted, which readers take for its own report of being hit: refused unless it signed, whoever the sighting says created it', async () => {
    const sighting = (where: string[], createdBy?: string): StixObject => {
      serial += 1;
      return {
        type: 'sighting', spec_version: '2.1', id: `sighting--0e0e0e0e-5555-4000-8000-${String(serial).padStart(12, '0')}`, created: '2026-03-01T00:00:00.000Z', modified: '2026-03-01T00:00:00.000Z',
        sighting_of_ref: 'indicator--0e0e0e0e-4444-4000-8000-000000000001', where_sighted_refs: where, count: 40, ...(createdBy === undefined ? {} : { created_by_ref: createdBy }),
      } as StixObject;
    };
    const unsigned = new RegExp(`refused \\(signer-not-creator\\): where_sighted_refs names ${CERT}, whose keys are pinned on this node, but the version is unsigned`);
    assert.match((await refusalOf(sighting([CERT]))) ?? '', unsigned);
    assert.match((await refusalOf(sighting([UNPINNED, CERT], UNPINNED))) ?? '', unsigned);
    assert.match((await refusalOf(signObject(sighting([CERT], UNPINNED), PEER.signer))) ?? '', /refused \(signer-not-creator\): where_sighted_refs names .* but identity--00000000-0000-4000-8000-000000000007 signed/);
    assert.match((await refusalOf(sighting([HOME]))) ?? '', /refused \(signer-not-creator\): where_sighted_refs names/, 'the home organisation likewise');
    assert.equal(await refusalOf(signObject(sighting([CERT]), cert.signer)), undefined, 'its own sighting, signed');
    assert.equal(await refusalOf(signObject(sighting([CERT], CERT), cert.signer)), undefined);
    assert.equal(await refusalOf(sighting([UNPINNED], UNPINNED)), undefined, 'an organisation without pinned keys: stored as sent');
  });

  it('its created_by_ref wrapped in whitespace is no identifier: refused by the validator', async () => {
    for (const spaced of [` ${CERT}`, `${CERT} `, `${CERT}\n`]) assert.ok((await refusalOf(indicator(spaced))) !== undefined, JSON.stringify(spaced));
  });

  it('its identity, unsigned, in any letter case, or signed by someone else: refused; signed by it: stored', async () => {
    const upper = CERT.toUpperCase().replace('IDENTITY--', 'identity--');
    for (const forgery of [identityOf(CERT), identityOf(upper), signObject(identityOf(CERT), PEER.signer), signObject(identityOf(CERT), partnerSigner)]) {
      assert.match((await refusalOf(forgery)) ?? '', /refused \((signer-not-creator|unknown-key)\)|\(STIX_ID_UPPERCASE\)/, JSON.stringify(forgery));
    }
    assert.equal(await refusalOf(signObject(identityOf(CERT), cert.signer)), undefined);
  });

  it('an identity of it that names another organisation with pinned keys as creator needs both: refused', async () => {
    const claimed = { ...identityOf(CERT), modified: '2026-03-02T00:00:00.000Z', created_by_ref: PEER.id } as StixObject;
    assert.match((await refusalOf(signObject(claimed, cert.signer))) ?? '', /refused \(signer-not-creator\): created_by_ref names identity--00000000-0000-4000-8000-000000000007/);
  });

  it("its own token writing its unsigned object: refused — its objects are judged as an Entente peer's, which must all be signed, and a collection of no circle binds it to no agreement", async () => {
    const own = indicator(PEER.id);
    const status = await node.post('peer', 'inbox', [own]);
    assert.deepEqual([status.success_count, status.failure_count], [0, 1], JSON.stringify(status));
    assert.match(status.failures?.[0]?.message ?? '', /^quarantined/);
    assert.deepEqual(await node.versionsIn('inbox', own.id), []);
  });

  it('an organisation without pinned keys, or none: stored as sent, unsigned', async () => {
    for (const createdBy of [UNPINNED, PLAIN]) assert.equal(await refusalOf(indicator(createdBy)), undefined, createdBy);
    const anonymous = indicator(UNPINNED);
    delete (anonymous as { created_by_ref?: string }).created_by_ref;
    assert.equal(await refusalOf(anonymous), undefined);
  });

  it('a mixed envelope: the good objects are stored, the refused one is listed, nothing of it half-written', async () => {
    const good = [indicator(UNPINNED), signObject(indicator(CERT), cert.signer)];
    const bad = indicator(CERT);
    const status = await node.post('plain', 'inbox', [good[0], bad, good[1]]);
    assert.deepEqual([status.success_count, status.failure_count], [2, 1], JSON.stringify(status));
    assert.deepEqual(status.failures?.map((failure) => failure.id), [bad.id]);
    assert.match(status.failures?.[0]?.message ?? '', /^\$\.objects\[1\]: refused \(signer-not-creator\)/);
    for (const object of good) assert.deepEqual(await node.versionsIn('inbox', object.id), ['2026-03-01T00:00:00.000Z']);
    assert.deepEqual(await node.versionsIn('inbox', bad.id), []);
  });
});
