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
import type { StixObject } from '../../src/stix/types.ts';
import { AT, forged, HOME, homeIdentity, PEER, startHomeIdentityNode, type HomeIdentityNode } from './home-identity-kit.ts';

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
    const outcome = await shareSightingsBack({ store: node.store, homeOrganisationId: HOME, randomUuid: randomUUID }, [{ sighting, observedData, objects: [observedData, sighting] }], AT);
    assert.deepEqual(outcome.shared.flat().map((shared) => shared.collectionId), ['beta']);
    assert.deepEqual(outcome.rejected, []);
    assert.deepEqual(await node.versionsIn('beta', HOME), [homeIdentity.modified]);
    assert.equal((await node.releasedHomeIdentity())['name'], 'Home');
  });
});
