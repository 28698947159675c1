import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { StixObject } from '../stix/types.ts';
import { decideHomeSightingsRelease, decideRelease, prepareRelease, type ReleaseChannel } from './decide-release.ts';
import type { Recipient } from './recipient.ts';
import { DEFINITIONS, scenarioArb } from '../../test/circles/release-world.ts';

const COLLECTION = 'collection-1';

function partner(organisationId: string, read = true): Recipient {
  return { name: 'partner-token', organisationId, admin: false, actsForHome: false, grants: [{ collectionId: COLLECTION, read, write: false }] };
}

const indicator = (n: number): StixObject => ({
  type: 'indicator',
  id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  spec_version: '2.1',
  created: '2026-01-01T00:00:00.000Z',
  modified: '2026-01-01T00:00:00.000Z',
  pattern: "[ipv4-addr:value = '192.0.2.1']",
  pattern_type: 'stix',
  valid_from: '2026-01-01T00:00:00.000Z',
});

describe('prepareRelease: decideRelease for a page of objects going to one recipient', () => {
  it('decides every object of a page as decideRelease decides it alone (seeded property)', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const recipient = partner(s.recipient.organisationId);
        const circle = { circle: s.circle, agreements: s.state, recipientSectors: s.recipient.sectors };
        const prepared = prepareRelease(recipient, { collectionId: COLLECTION, circle }, s.at);
        const decided = new Map<string, 'share' | 'redact' | 'withhold'>();
        // The pool first, then the objects that refer to it: one prepared decision serves them all.
        for (const [index, object] of [...s.pool, ...s.dependents].entries()) {
          const lookup = index < s.pool.length ? () => undefined : (id: string) => decided.get(id);
          const subject = {
            id: object.id, type: object.type, version: String(object['modified']), object, markingDefinitions: DEFINITIONS,
            ...(s.receivedVia === undefined ? {} : { receivedVia: s.receivedVia }),
          };
          const channel: ReleaseChannel = { collectionId: COLLECTION, circle: { ...circle, lookup } };
          const decision = prepared(subject, lookup);
          assert.deepEqual(decision, decideRelease(subject, recipient, channel, s.at));
          decided.set(object.id, decision.kind);
        }
      }),
      { seed: 20261123, numRuns: 500 },
    );
  });

  it('withholds every object from a partner without a read grant, or on a collection that carries no circle', () => {
    const noGrant = prepareRelease(partner('identity--00000000-0000-4000-8000-000000000009', false), { collectionId: COLLECTION }, new Date());
    const noCircle = prepareRelease(partner('identity--00000000-0000-4000-8000-000000000009'), { collectionId: COLLECTION }, new Date());
    for (const object of [indicator(1), indicator(2)]) {
      const subject = { id: object.id, type: object.type, version: '1', object };
      assert.equal(noGrant(subject, () => undefined).kind, 'withhold');
      assert.match(noGrant(subject, () => undefined).reasons[0] ?? '', /^grant:/);
      assert.equal(noCircle(subject, () => undefined).kind, 'withhold');
      assert.match(noCircle(subject, () => undefined).reasons[0] ?? '', /^circle:/);
    }
  });

});

describe('decideHomeSightingsRelease: the home sightings collection, for the home organisation\'s readers', () => {
  const HOME_SIGHTINGS = 'home-sightings-collection';
  const HOME = 'identity--0a0a0a0a-0000-4000-8000-0000000000a1';
  const homeReader = (overrides: Partial<Recipient> = {}): Recipient => ({
    name: 'analyst', organisationId: HOME, admin: false, actsForHome: true, grants: [{ collectionId: HOME_SIGHTINGS, read: true, write: false }], ...overrides,
  });
  const sighting: StixObject = {
    type: 'sighting', spec_version: '2.1', id: 'sighting--00000000-0000-4000-8000-000000000001', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
    sighting_of_ref: indicator(1).id, observed_data_refs: ['observed-data--00000000-0000-4000-8000-000000000001'], where_sighted_refs: [HOME],
  };
  const observedData: StixObject = {
    type: 'observed-data', spec_version: '2.1', id: 'observed-data--00000000-0000-4000-8000-000000000001', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
    first_observed: '2026-01-01T00:00:00.000Z', last_observed: '2026-01-01T00:00:00.000Z', number_observed: 1, object_refs: ['ipv4-addr--00000000-0000-5000-8000-000000000001'],
  };
  const subject = (object: StixObject) => ({ id: object.id, type: object.type, version: String(object['modified'] ?? ''), object });
  const indicatorReleased = (id: string) => (id === indicator(1).id || id === HOME || id.startsWith('observed-data--') ? ('share' as const) : undefined);
  const indicatorWithheld = (id: string) => (id === HOME || id.startsWith('observed-data--') ? ('share' as const) : undefined);

  it('gives a sighting only to a reader the indicator it names is released to', () => {
    assert.equal(decideHomeSightingsRelease(subject(sighting), homeReader(), HOME_SIGHTINGS, indicatorReleased, () => false).kind, 'share');
    const withheld = decideHomeSightingsRelease(subject(sighting), homeReader(), HOME_SIGHTINGS, indicatorWithheld, () => false);
    assert.equal(withheld.kind, 'withhold');
    assert.match(withheld.reasons.join(' '), /^reference: sighting_of_ref points to indicator--/);
  });

  it('gives the evidence (observed-data, observables) only with a sighting released to the reader', () => {
    assert.equal(decideHomeSightingsRelease(subject(observedData), homeReader(), HOME_SIGHTINGS, () => 'share', () => false).kind, 'withhold');
    assert.equal(decideHomeSightingsRelease(subject(observedData), homeReader(), HOME_SIGHTINGS, () => 'share', (id) => id === observedData.id).kind, 'share');
    const address: StixObject = { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--00000000-0000-5000-8000-000000000001', value: '192.0.2.1' };
    assert.equal(decideHomeSightingsRelease(subject(address), homeReader(), HOME_SIGHTINGS, () => 'share', () => false).kind, 'withhold');
  });

  it('leaves administrators the collection whole, a reader without the grant nothing, and partners nothing (it carries no circle)', () => {
    assert.equal(decideHomeSightingsRelease(subject(sighting), homeReader({ admin: true, grants: [] }), HOME_SIGHTINGS, indicatorWithheld, () => false).kind, 'share');
    assert.equal(decideHomeSightingsRelease(subject(sighting), homeReader({ grants: [] }), HOME_SIGHTINGS, indicatorReleased, () => true).kind, 'withhold');
    const partnerReader = { ...partner('identity--0a0a0a0a-0000-4000-8000-0000000000b2'), grants: [{ collectionId: HOME_SIGHTINGS, read: true, write: false }] };
    assert.equal(decideHomeSightingsRelease(subject(sighting), partnerReader, HOME_SIGHTINGS, indicatorReleased, () => true).kind, 'withhold');
  });
});
