// The node's matcher takes observed-data stored in a collection as this node's own telemetry only when
// the home organisation wrote it: a home token's TAXII POST, the operator's import, `entente match`.
// What a partner contributed (a TAXII POST with a write grant, a push, a pull, a signed bundle) is
// the partner's observation whatever created_by_ref it carries or leaves out: matching it would raise
// alerts and store, then share into circles signed by this node, sightings saying the home
// organisation saw it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authorization, HOME, ORG, startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
import { ADD_TEST, SECRET } from '../taxii/taxii-test-kit.ts';
import { ipIndicator } from '../alerts/alert-test-kit.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { scoId } from '../../src/stix/ids.ts';
import type { StixObject } from '../../src/stix/types.ts';

const TAXII = 'application/taxii+json;version=2.1';
const BANK_WRITER = 'ent_bankwriter-secret-0000000000000000000000';
const HOME_OPERATOR = 'ent_homeoperator-secret-00000000000000000000';

/** An address, observed-data about it (`n` makes its id), and the indicator of that address (in ADD_TEST). */
function observation(n: number, overrides: Record<string, unknown> = {}): { indicator: StixObject; objects: StixObject[] } {
  const value = `198.51.100.${n}`;
  const id = scoId('ipv4-addr', { value });
  assert.ok(id.ok);
  const ip = { type: 'ipv4-addr', spec_version: '2.1', id: id.value, value };
  const observed = {
    type: 'observed-data', spec_version: '2.1', id: `observed-data--b0b00000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    created: '2026-11-23T03:00:00.000Z', modified: '2026-11-23T03:00:00.000Z',
    first_observed: '2026-11-23T02:00:00Z', last_observed: '2026-11-23T02:00:00Z', number_observed: 40, object_refs: [ip.id],
    ...overrides,
  };
  return { indicator: ipIndicator(0x600 + n, value), objects: [ip, observed] };
}

describe("observed-data stored in a collection is this node's telemetry only when the home organisation wrote it", () => {
  let node: CircleApiNode;
  const cases = {
    partnerWithoutCreator: observation(11),
    partnerClaimingHome: observation(12, { created_by_ref: HOME }),
    analyst: observation(13),
    homeToken: observation(14, { created_by_ref: HOME }),
    federated: observation(15),
    copiedByHome: observation(16),
    homeImport: observation(17),
  };

  before(async () => {
    node = await startCircleApiNode([ADD_TEST]);
    await node.store.setMeta('default_collection', ADD_TEST);
    await node.store.addObjects(ADD_TEST, Object.values(cases).map((c) => c.indicator));
    const createdAt = new Date().toISOString();
    // A partner allowed to write the collection (the circle-api partners only read).
    await node.store.createToken({ name: 'bank-writer', secretHash: hashTokenSecret(BANK_WRITER), admin: false, grants: [{ collectionId: ADD_TEST, read: true, write: true }], organisationId: ORG.bank, createdAt, revokedAt: undefined });
    // A token naming the home organisation acts for it, as one naming none does (the analyst).
    await node.store.createToken({ name: 'home-operator', secretHash: hashTokenSecret(HOME_OPERATOR), admin: false, grants: [{ collectionId: ADD_TEST, read: true, write: true }], organisationId: HOME, createdAt, revokedAt: undefined });
    // The matcher takes in what is stored after it started.
    await node.app.alerting.matcher.refresh();
  });
  after(() => node.close());

  const postAs = async (authorizationHeader: string, objects: readonly StixObject[]): Promise<void> => {
    const posted = await node.app.inject({
      method: 'POST', url: `/taxii2/api/collections/${ADD_TEST}/objects/`,
      headers: { authorization: authorizationHeader, 'content-type': TAXII, accept: TAXII },
      payload: JSON.stringify({ objects }),
    });
    assert.equal(posted.statusCode, 202, posted.body);
    assert.equal(posted.json<{ success_count: number }>().success_count, objects.length, posted.body);
  };

  /** The alerts and stored sightings the matcher makes of what was stored since `fromId`, for one indicator. */
  const outcomeFor = async (fromId: number, indicator: StixObject): Promise<{ alerts: number; sightings: Record<string, unknown>[] }> => {
    await node.app.alerting.matcher.refresh();
    const { events } = node.app.alerting.bus.since(fromId - 1);
    const page = await node.store.listEntries(ADD_TEST, { types: ['sighting'] }, { limit: 1000 });
    const sightings = page.entries.map((entry) => JSON.parse(entry.json) as Record<string, unknown>).filter((s) => s['sighting_of_ref'] === indicator.id);
    return { alerts: events.filter((event) => event.alert.indicator_id === indicator.id).length, sightings };
  };

  it('a partner with a write grant posting observed-data without created_by_ref: no alert, no sighting', async () => {
    const { indicator, objects } = cases.partnerWithoutCreator;
    const fromId = node.app.alerting.bus.nextId;
    await postAs(`Bearer ${BANK_WRITER}`, objects);
    assert.deepEqual(await outcomeFor(fromId, indicator), { alerts: 0, sightings: [] });
  });

  it('observed-data a partner sent claiming the home organisation created it: no alert, no sighting', async () => {
    const { indicator, objects } = cases.partnerClaimingHome;
    // A TAXII POST refuses the unsigned claim while the home's keys are pinned (signer-not-creator):
    // the matcher relies neither on every way in doing so nor on the keys being pinned.
    const fromId = node.app.alerting.bus.nextId;
    await node.store.addObjects(ADD_TEST, objects, undefined, ORG.bank);
    assert.deepEqual(await outcomeFor(fromId, indicator), { alerts: 0, sightings: [] });
  });

  it('observed-data a peer delivered (a push, a pull, a signed bundle: its organisation recorded as contributor): no alert', async () => {
    const { indicator, objects } = cases.federated;
    const fromId = node.app.alerting.bus.nextId;
    await node.store.addObjects(ADD_TEST, objects, undefined, ORG.ngo);
    assert.deepEqual(await outcomeFor(fromId, indicator), { alerts: 0, sightings: [] });
  });

  it("the home organisation copying a partner's observed-data into another collection does not make it its own", async () => {
    const { indicator, objects } = cases.copiedByHome;
    const fromId = node.app.alerting.bus.nextId;
    await postAs(`Bearer ${BANK_WRITER}`, objects);
    await node.store.addObjects(SECRET, objects);
    assert.deepEqual(await outcomeFor(fromId, indicator), { alerts: 0, sightings: [] });
  });

  for (const [name, which, header] of [
    ['a home token naming no organisation (the analyst)', 'analyst', authorization('analyst')],
    ['a home token naming the home organisation, with created_by_ref the home', 'homeToken', `Bearer ${HOME_OPERATOR}`],
  ] as const) {
    it(`${name} posting observed-data: one alert and a sighting by the home organisation, as before`, async () => {
      const { indicator, objects } = cases[which];
      const fromId = node.app.alerting.bus.nextId;
      await postAs(header, objects);
      const { alerts, sightings } = await outcomeFor(fromId, indicator);
      assert.equal(alerts, 1);
      assert.deepEqual(sightings.map((s) => [s['created_by_ref'], s['where_sighted_refs'], s['count']]), [[HOME, [HOME], 40]]);
    });
  }

  it("the operator's import (a write of the home organisation's, no contributor): one alert and a sighting", async () => {
    const { indicator, objects } = cases.homeImport;
    const fromId = node.app.alerting.bus.nextId;
    await node.store.addObjects(ADD_TEST, objects);
    const { alerts, sightings } = await outcomeFor(fromId, indicator);
    assert.equal(alerts, 1);
    assert.deepEqual(sightings.map((s) => s['created_by_ref']), [HOME]);
  });
});
