import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { StixObject } from '../stix/types.ts';
import { decideRelease, prepareRelease, type ReleaseChannel } from './decide-release.ts';
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
