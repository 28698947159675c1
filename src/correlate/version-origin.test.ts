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

const RELAY = 'identity--e0000000-0000-4000-8000-0000000000e0';

function arrival(signer: string | undefined, verification: Verification, collectionId = 'circle'): ProvenanceRecord {
  return { id, version, collectionId, peer: 'relay', circleId: undefined, signer, keyId: undefined, verification, hops: [], receivedAt: version };
}

function storeOf(facts: { provenance?: ProvenanceRecord[]; homeOriginal?: boolean; contributions?: Contribution[] }): OriginStore {
  return {
    provenanceOf: async () => new Map(facts.provenance === undefined ? [] : [[versionKey(id, version), facts.provenance]]),
    homeOriginalsIn: async (versions) => versions.map(() => facts.homeOriginal === true),
    contributionsOf: async () => new Map(facts.contributions === undefined ? [] : [[versionKey(id, version), facts.contributions]]),
  };
}

/** `createdBy`: the version's created_by_ref as written (one content per version). */
async function originIn(collectionId: string, facts: Parameters<typeof storeOf>[0], createdBy?: string): Promise<string | undefined> {
  return (await readOrigins(storeOf(facts), HOME, [{ id, version, createdBy }]))(collectionId, id, version);
}

describe('the origin of a version, from what the store recorded', () => {
  it('is the verified signer, in lower case, before the contributor a sync recorded', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(BANK.toUpperCase().replace('IDENTITY', 'identity'), 'verified')], contributions: [{ collectionId: 'circle', organisationId: CERT, arrivalOnwardSharing: 'none' as const }] }), BANK);
  });

  it('is unknown when two verified signers disagree', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(BANK, 'verified'), arrival(CERT, 'verified')] }), undefined);
  });

  it('takes no derived or unverified signer: that is the peer that redacted or delivered it', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(CERT, 'derived'), arrival(CERT, 'unverified')] }), undefined);
    assert.equal(await originIn('circle', { provenance: [arrival(CERT, 'derived')], homeOriginal: true }), HOME);
  });

  it('is the home organisation for a home original', async () => {
    assert.equal(await originIn('mine', { homeOriginal: true, contributions: [{ collectionId: 'mine', organisationId: BANK, arrivalOnwardSharing: 'none' as const }] }), HOME);
  });

  it('is the one contributor recorded in the collection holding it, not in another', async () => {
    const contributions = [{ collectionId: 'shared', organisationId: BANK, arrivalOnwardSharing: 'none' as const }];
    assert.equal(await originIn('shared', { contributions }), BANK);
    assert.equal(await originIn('other', { contributions }), undefined);
    assert.equal(await originIn('shared', { contributions: [...contributions, { collectionId: 'shared', organisationId: CERT, arrivalOnwardSharing: 'none' as const }] }), undefined);
  });

  it('is unknown when nothing is recorded', async () => {
    assert.equal(await originIn('shared', {}), undefined);
  });
});

// The matcher's origin is the attribution rule of the release gate and the weakness totals
// (policy/version-origin.ts, originOfVersion), then what the store knows of versions no arrival
// through federation names anyone for. A sync records the peer that delivered a page as the
// contributor of every version in it: that contributor is the relay, not who wrote the version.
describe('the origin of a relayed version, as originOfVersion attributes it', () => {
  // The relay delivered it into 'circle'; the sync recorded the relay as its contributor there.
  const relayed = [{ collectionId: 'circle', organisationId: RELAY, arrivalOnwardSharing: 'none' as const }];

  it('is not the relay that stripped a member\'s signature from it, nor the one that re-signed it as derived', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(undefined, 'unverified')], contributions: relayed }, BANK), undefined);
    assert.equal(await originIn('circle', { provenance: [arrival(RELAY, 'derived')], contributions: relayed }, BANK), undefined);
  });

  it('is the member whose verified arrival of the same version this node holds, in another collection', async () => {
    const provenance = [arrival(undefined, 'unverified'), arrival(RELAY, 'derived'), arrival(BANK, 'verified', 'elsewhere')];
    assert.equal(await originIn('circle', { provenance, contributions: relayed }, BANK), BANK);
  });

  it('is the signer of a derived copy naming its signer as creator, as a member\'s node re-signs its own redacted disclosure, whoever relayed it', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(BANK, 'derived')], contributions: relayed }, BANK), BANK);
    // The same content delivered again without its signature is the same version.
    assert.equal(await originIn('circle', { provenance: [arrival(BANK, 'derived'), arrival(undefined, 'unverified')], contributions: relayed }, BANK), BANK);
  });

  it('is not the signer of a derived copy naming another creator, nor the peer that delivered such a copy', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(RELAY, 'derived')] }, BANK), undefined);
    assert.equal(await originIn('circle', { provenance: [arrival(RELAY, 'derived')], contributions: [{ collectionId: 'circle', organisationId: BANK, arrivalOnwardSharing: 'none' as const }] }, BANK), undefined);
  });

  it('is the verified signer of the version a derived copy copies, whatever creator the copy names', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(BANK, 'derived'), arrival(CERT, 'verified', 'elsewhere')] }, BANK), CERT);
  });

  it('is the home organisation for a home original a relay sent back without naming anyone', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(undefined, 'unverified')], homeOriginal: true, contributions: relayed }), HOME);
  });

  it('is still the partner that wrote it into a collection no arrival through federation reached', async () => {
    const contributions = [...relayed, { collectionId: 'shared', organisationId: CERT, arrivalOnwardSharing: 'none' as const }];
    const provenance = [arrival(undefined, 'unverified')];
    assert.equal(await originIn('shared', { provenance, contributions }, BANK), CERT);
    assert.equal(await originIn('circle', { provenance, contributions }, BANK), undefined);
  });

  it('reads the origins of many versions in three store calls', async () => {
    const calls: string[] = [];
    const versions = Array.from({ length: 50 }, (_, n) => ({ id: `indicator--d0000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, version, createdBy: BANK }));
    const store: OriginStore = {
      provenanceOf: async (asked) => {
        calls.push(`provenance ${asked.length}`);
        return new Map(asked.map((v) => [versionKey(v.id, v.version), [{ ...arrival(BANK, 'derived'), id: v.id }]]));
      },
      homeOriginalsIn: async (asked) => {
        calls.push(`home ${asked.length}`);
        return asked.map(() => false);
      },
      contributionsOf: async (asked) => {
        calls.push(`contributions ${asked.length}`);
        return new Map();
      },
    };
    const originOf = await readOrigins(store, HOME, [...versions, ...versions]);
    assert.deepEqual(calls.sort(), ['contributions 50', 'home 50', 'provenance 50']);
    assert.ok(versions.every((v) => originOf('circle', v.id, v.version) === BANK));
  });
});

// What the store proves of a version can name two organisations: a signer, and the home that wrote it
// before any partner sent it, or the partner that POSTed it into a collection. A signature proves that
// its signer signed these bytes, not that no one held them before: a peer may sign a copy of a version
// it read. Were the signer the origin wherever the version is held, a peer that re-signed a copy would
// own it, and its own "newer version" under the same creator would silence it (newerIn, entente match).
describe('the origin of a version a signer and a writer both answer for', () => {
  it('is the home organisation for a home original a peer signed a copy of', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(RELAY, 'verified')], homeOriginal: true }), HOME);
    assert.equal(await originIn('circle', { provenance: [arrival(RELAY, 'verified'), arrival(CERT, 'verified')], homeOriginal: true }), HOME);
    assert.equal(await originIn('circle', { provenance: [arrival(RELAY, 'verified')], homeOriginal: true }, BANK), HOME);
  });

  it('is the signer of a home original that names it as creator: the home imported the partner\'s version before its node sent it', async () => {
    assert.equal(await originIn('circle', { provenance: [arrival(BANK, 'verified')], homeOriginal: true }, BANK), BANK);
  });

  it('is unknown, where a partner POSTed it, when its signer is neither that partner nor the creator it names', async () => {
    const contributions = [{ collectionId: 'shared', organisationId: BANK, arrivalOnwardSharing: 'none' as const }];
    // The member POSTed its version naming itself; a relay signed a copy and delivered it into 'circle'.
    assert.equal(await originIn('shared', { provenance: [arrival(RELAY, 'verified')], contributions }, BANK), undefined);
    assert.equal(await originIn('shared', { provenance: [arrival(RELAY, 'verified')], contributions }), undefined);
    // Where the relay delivered it, the contributor recorded is the relay: its signature answers there.
    assert.equal(await originIn('circle', { provenance: [arrival(RELAY, 'verified')], contributions }, BANK), RELAY);
  });

  it('is still the signer that names itself as creator, where another partner POSTed a copy (onward sharing)', async () => {
    const contributions = [{ collectionId: 'shared', organisationId: CERT, arrivalOnwardSharing: 'none' as const }];
    assert.equal(await originIn('shared', { provenance: [arrival(BANK, 'verified')], contributions }, BANK), BANK);
    assert.equal(await originIn('shared', { provenance: [arrival(BANK, 'verified')], contributions }, BANK.toUpperCase().replace('IDENTITY', 'identity')), BANK);
    assert.equal(await originIn('shared', { provenance: [arrival(BANK, 'verified')], contributions: [{ collectionId: 'shared', organisationId: BANK, arrivalOnwardSharing: 'none' as const }] }), BANK);
  });
});
