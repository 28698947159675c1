import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ProvenanceRecord, Verification } from '../store/federation-store.ts';
import { versionKey, type Contribution } from '../store/object-store.ts';
import { readOrigins, type OriginStore } from './version-origin.ts';

const HOME = 'identity--a0000000-0000-4000-8000-0000000000a0';
const BANK = 'identity--b0000000-0000-4000-8000-0000000000b0';
const CERT = 'identity--c0000000-0000-4000-8000-0000000000c0';
const id = 'indicator--d0000000-0000-4000-8000-0000000000d0';
const version = '2026-06-01T00:00:00.000Z';

function arrival(signer: string | undefined, verification: Verification): ProvenanceRecord {
  return { id, version, collectionId: 'circle', peer: CERT, circleId: undefined, signer, keyId: undefined, verification, hops: [], receivedAt: version };
}

function storeOf(facts: { provenance?: ProvenanceRecord[]; homeOriginal?: boolean; contributions?: Contribution[] }): OriginStore {
  return {
    provenanceOf: async () => new Map(facts.provenance === undefined ? [] : [[versionKey(id, version), facts.provenance]]),
    homeOriginalsIn: async (versions) => versions.map(() => facts.homeOriginal === true),
    contributionsOf: async () => new Map(facts.contributions === undefined ? [] : [[versionKey(id, version), facts.contributions]]),
  };
}

async function originIn(collectionId: string, facts: Parameters<typeof storeOf>[0]): Promise<string | undefined> {
  return (await readOrigins(storeOf(facts), HOME, [{ id, version }]))(collectionId, id, version);
}

describe('the origin of a version, from what the store recorded', () => {
  it('is the verified signer, in lower case, before anything else recorded', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(BANK.toUpperCase().replace('IDENTITY', 'identity'), 'verified')], homeOriginal: true, contributions: [{ collectionId: 'circle', organisationId: CERT }] }), BANK);
  });

  it('is unknown when two verified signers disagree', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(BANK, 'verified'), arrival(CERT, 'verified')], homeOriginal: true }), undefined);
  });

  it('takes no derived or unverified signer: that is the peer that redacted or delivered it', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(CERT, 'derived'), arrival(CERT, 'unverified')] }), undefined);
    assert.equal(await originIn('circle', { provenance: [arrival(CERT, 'derived')], homeOriginal: true }), HOME);
  });

  it('is the home organisation for a home original', async () => {
    assert.equal(await originIn('mine', { homeOriginal: true, contributions: [{ collectionId: 'mine', organisationId: BANK }] }), HOME);
  });

  it('is the one contributor recorded in the collection holding it, not in another', async () => {
    const contributions = [{ collectionId: 'shared', organisationId: BANK }];
    assert.equal(await originIn('shared', { contributions }), BANK);
    assert.equal(await originIn('other', { contributions }), undefined);
    assert.equal(await originIn('shared', { contributions: [...contributions, { collectionId: 'shared', organisationId: CERT }] }), undefined);
  });

  it('is unknown when nothing is recorded', async () => {
    assert.equal(await originIn('shared', {}), undefined);
  });
});
