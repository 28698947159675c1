import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProvenanceRecord, Verification } from '../store/federation-store.ts';
import { originOfVersion } from './version-origin.ts';

const ORIGIN = 'identity--00000000-0000-4000-8000-00000000000a';
const RELAY = 'identity--00000000-0000-4000-8000-00000000000b';

function arrival(verification: Verification, signer: string | undefined, collectionId = 'circle'): ProvenanceRecord {
  return {
    id: 'indicator--00000000-0000-4000-8000-000000000001', version: '2026-03-01T00:00:00.000Z', collectionId, peer: undefined, circleId: undefined,
    signer, keyId: undefined, verification, hops: signer === undefined ? [RELAY] : [signer], receivedAt: '2026-03-01T00:00:00.000Z',
  };
}
const names = (records: readonly ProvenanceRecord[], options: Parameters<typeof originOfVersion>[1] = {}): [string[], boolean] => {
  const origin = originOfVersion(records, options);
  return [[...origin.originators].sort(), origin.unattributed];
};

describe('originOfVersion: who originated a version, as its arrivals prove it', () => {
  it('names the signer of a verified arrival, whoever delivered it', () => {
    assert.deepEqual(names([arrival('verified', ORIGIN)]), [[ORIGIN], false]);
  });

  it('names no one for unsigned input no verified version backs: the peer that delivered it may only have relayed it', () => {
    assert.deepEqual(names([arrival('unverified', undefined)]), [[], true]);
    assert.deepEqual(names([arrival('unverified', undefined)], { createdBy: () => RELAY }), [[], true], 'what it claims of its creator is no proof');
  });

  it('traces unsigned input to the signer of a verified arrival of the same version, in any collection, as a derived copy is', () => {
    // A relay that strips the signature instead of re-signing as derived must not escape the trace.
    assert.deepEqual(names([arrival('unverified', undefined), arrival('verified', ORIGIN, 'elsewhere')], { collectionId: 'circle' }), [[ORIGIN], false]);
  });

  it('traces a derived copy to the signer of a verified arrival of the same version, in any collection', () => {
    assert.deepEqual(names([arrival('derived', RELAY), arrival('verified', ORIGIN, 'elsewhere')], { collectionId: 'circle' }), [[ORIGIN], false]);
  });

  it('names no one for a derived copy no verified version backs, unless the copy names its own signer as creator', () => {
    assert.deepEqual(names([arrival('derived', RELAY)]), [[], true]);
    assert.deepEqual(names([arrival('derived', RELAY)], { createdBy: () => ORIGIN }), [[], true], 'its claim about another is not proof');
    assert.deepEqual(names([arrival('derived', RELAY)], { createdBy: () => RELAY }), [[RELAY], false]);
  });

  it('asks only about arrivals into the collection given, and reads the creator only when it has to', () => {
    let read = 0;
    const createdBy = (): string => {
      read += 1;
      return RELAY;
    };
    assert.deepEqual(names([arrival('verified', ORIGIN, 'elsewhere'), arrival('unverified', undefined, 'elsewhere')], { collectionId: 'circle', createdBy }), [[], false]);
    assert.deepEqual(names([arrival('verified', ORIGIN), arrival('derived', RELAY)], { collectionId: 'circle', createdBy }), [[ORIGIN], false]);
    assert.equal(read, 0);
  });
});
