import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { neutralReputation, reputationOfRecord } from '../federation/source-reputation.ts';
import { confidenceBasis, confidenceIn, effectiveConfidence, severityOf, sightingEvidence, type CollectionFederation, type ConfidenceInputs, type SightingEvidence } from './effective-confidence.ts';

const day = 86_400_000;
const now = Date.UTC(2026, 5, 1);
const base: ConfidenceInputs = { statedConfidence: 60, producer: 'identity--producer', since: now, sightings: [], now };
const seen = (organisation: string, daysAgo = 0, falsePositive = false): SightingEvidence => ({ organisation, falsePositive, seenAt: now - daysAgo * day });

describe('effective confidence', () => {
  it('a fresh indicator without sightings keeps its stated confidence; none stated counts as 50', () => {
    assert.equal(effectiveConfidence(base), 60);
    assert.equal(effectiveConfidence({ ...base, statedConfidence: undefined }), 50);
    assert.equal(effectiveConfidence({ ...base, statedConfidence: 140 }), 100, 'clamped to the scale');
  });

  it('each distinct sighting organisation raises it, with diminishing steps; repeats and the producer do not count', () => {
    assert.equal(effectiveConfidence({ ...base, sightings: [seen('identity--a')] }), 68);
    assert.equal(effectiveConfidence({ ...base, sightings: [seen('identity--a'), seen('identity--b')] }), 74);
    assert.equal(effectiveConfidence({ ...base, sightings: [seen('identity--a'), seen('identity--a'), seen('identity--a')] }), 68);
    assert.equal(effectiveConfidence({ ...base, sightings: [seen('identity--producer')] }), 60);
    const many = Array.from({ length: 50 }, (_, i) => seen(`identity--${i}`));
    assert.ok(effectiveConfidence({ ...base, sightings: many }) <= 100);
  });

  it('a false-positive report halves it per disputing organisation, and that organisation no longer corroborates', () => {
    assert.equal(effectiveConfidence({ ...base, sightings: [seen('identity--a', 0, true)] }), 30);
    assert.equal(effectiveConfidence({ ...base, sightings: [seen('identity--a', 0, true), seen('identity--b', 0, true)] }), 15);
    assert.equal(effectiveConfidence({ ...base, sightings: [seen('identity--a'), seen('identity--a', 0, true)] }), 30);
  });

  it('it decays with age: half after one half-life, a quarter after two; a recent true sighting renews it', () => {
    assert.equal(effectiveConfidence({ ...base, since: now - 180 * day }), 30);
    assert.equal(effectiveConfidence({ ...base, since: now - 360 * day }), 15);
    assert.equal(effectiveConfidence({ ...base, since: now - 90 * day, halfLifeDays: 90 }), 30);
    assert.equal(effectiveConfidence({ ...base, since: now - 360 * day, sightings: [seen('identity--producer', 0)] }), 60);
    assert.equal(effectiveConfidence({ ...base, since: now - 360 * day, sightings: [seen('identity--a', 360, true)] }), 8, 'a false positive never renews');
  });

  it('never increases when a false positive is added, never decreases when a corroborating organisation is added', () => {
    for (let stated = 0; stated <= 100; stated += 5) {
      for (const existing of [[], [seen('identity--a')], [seen('identity--b', 10, true)]]) {
        const inputs = { ...base, statedConfidence: stated, sightings: existing };
        const value = effectiveConfidence(inputs);
        assert.ok(effectiveConfidence({ ...inputs, sightings: [...existing, seen('identity--z', 0, true)] }) <= value);
        assert.ok(effectiveConfidence({ ...inputs, sightings: [...existing, seen('identity--y')] }) >= value);
      }
    }
  });
});

describe('effective confidence with federation inputs', () => {
  const member = 'identity--member';
  // Twenty identities the member's node minted, all resolved to the member by who signed them.
  const minted = Array.from({ length: 20 }, (_, i) => `identity--minted-${i}`);
  const signerOf = (organisation: string): string => (organisation.startsWith('identity--minted-') ? member : organisation);

  it('without them it is what it was: no reputation, no corroborating sources, organisations as named', () => {
    assert.equal(effectiveConfidence({ ...base, corroboratingSources: [] }), 60);
    assert.equal(effectiveConfidence({ ...base, sightings: [seen('identity--a')], organisationOf: (o) => o }), 68);
  });

  it("the source's reputation multiplies the stated confidence, before corroboration closes the gap", () => {
    assert.equal(effectiveConfidence({ ...base, sourceReputation: 0.5 }), 30);
    assert.equal(effectiveConfidence({ ...base, sourceReputation: 0.5, sightings: [seen('identity--a')] }), 44);
    assert.equal(effectiveConfidence({ ...base, sourceReputation: 7 }), 60, 'never above 1');
  });

  it('each independent source publishing the same value closes a fifth of the gap; the producer itself does not', () => {
    assert.equal(effectiveConfidence({ ...base, corroboratingSources: ['identity--b'] }), 68);
    assert.equal(effectiveConfidence({ ...base, corroboratingSources: ['identity--b', 'identity--c'] }), 74);
    assert.equal(effectiveConfidence({ ...base, corroboratingSources: ['identity--producer'] }), 60);
  });

  it('an organisation that both published and sighted it counts once; one that disputes it does not corroborate', () => {
    assert.equal(effectiveConfidence({ ...base, corroboratingSources: ['identity--b'], sightings: [seen('identity--b')] }), 68);
    assert.equal(effectiveConfidence({ ...base, corroboratingSources: ['identity--b'], sightings: [seen('identity--b', 0, true)] }), 30);
  });

  it('a member that mints 20 identities and sights its own indicator from each adds nothing: it counts once, as the producer', () => {
    const own = { ...base, producer: member, organisationOf: signerOf };
    assert.equal(effectiveConfidence({ ...own, sightings: minted.map((identity) => seen(identity)) }), 60);
    assert.equal(effectiveConfidence({ ...base, producer: member, sightings: minted.map((identity) => seen(identity)) }), 100, 'counted by identity it would reach 100');
    // Sighting someone else's indicator from 20 identities counts as one organisation.
    assert.equal(effectiveConfidence({ ...base, organisationOf: signerOf, sightings: minted.map((identity) => seen(identity)) }), 68);
    // Twenty false-positive reports from its identities halve it once, not twenty times.
    assert.equal(effectiveConfidence({ ...base, organisationOf: signerOf, sightings: minted.map((identity) => seen(identity, 0, true)) }), 30);
  });
});

describe('confidence per set of collections a reader may read', () => {
  const held = [
    { collectionId: 'open', evidence: seen('identity--a', 10) },
    { collectionId: 'open', evidence: seen('identity--a', 2) },
    { collectionId: 'open', evidence: seen('identity--b', 400) },
    { collectionId: 'secret', evidence: seen('identity--c', 0, true) },
    { collectionId: 'secret', evidence: { organisation: undefined, falsePositive: true, seenAt: undefined } },
    { collectionId: 'other', evidence: seen('identity--d', 1) },
    { collectionId: 'other', evidence: { organisation: undefined, falsePositive: false, seenAt: now - 5 * day } },
  ];
  const inputs = { ...base, since: now - 200 * day };
  // Another member published the same value in `open`: it corroborates for readers of `open` only.
  const federation = (): Record<string, CollectionFederation> => ({ open: { corroboratingSources: ['identity--e'] } });
  const within = (...collections: string[]): number =>
    effectiveConfidence({
      ...inputs,
      sightings: held.filter((h) => collections.includes(h.collectionId)).map((h) => h.evidence),
      ...(collections.includes('open') ? { corroboratingSources: ['identity--e'] } : {}),
    });

  it('over every collection is the confidence of all the evidence; over some, that of their evidence only', () => {
    const basis = confidenceBasis(inputs, held, federation);
    assert.equal(confidenceIn(basis, () => true), within('open', 'secret', 'other'));
    for (const reads of [[], ['open'], ['secret'], ['open', 'other'], ['secret', 'other']]) {
      assert.equal(confidenceIn(basis, (c) => reads.includes(c)), within(...reads), reads.join(','));
    }
    assert.ok(confidenceIn(basis, (c) => c !== 'secret') > confidenceIn(basis, () => true), 'the disagreement held in secret counts only for its readers');
    assert.ok(confidenceIn(basis, (c) => c === 'other') < confidenceIn(basis, (c) => c === 'other' || c === 'open'), 'the copy held in open corroborates for its readers only');
  });

  it('keeps one piece of evidence per organisation and kind in each collection, as plain data', () => {
    const basis = confidenceBasis({ ...inputs, sourceReputation: 0.5 }, held, () => ({ ...federation(), other: { producerRecord: { indicators: 3, bad: 2, corroborated: 0 } } }));
    assert.deepEqual(basis.byCollection['open'], [seen('identity--a', 2), seen('identity--b', 400)]);
    const sent = JSON.parse(JSON.stringify(basis)) as typeof basis;
    for (const reads of [['open'], ['secret'], ['other'], ['open', 'secret', 'other']]) {
      assert.equal(confidenceIn(sent, (c) => reads.includes(c)), confidenceIn(basis, (c) => reads.includes(c)), 'the same once sent as JSON');
    }
  });

  it('never counts the node-wide reputation, corroboration or identities, which count every collection', () => {
    const nodeWide = { ...base, sourceReputation: 0.2, corroboratingSources: ['identity--e'], organisationOf: (): string => 'identity--producer' };
    const basis = confidenceBasis(nodeWide, [{ collectionId: 'open', evidence: seen('identity--a') }]);
    assert.equal(confidenceIn(basis, () => true), effectiveConfidence({ ...base, sourceReputation: neutralReputation, sightings: [seen('identity--a')] }));
    assert.ok(!JSON.stringify(basis).includes('identity--e') && !JSON.stringify(basis).includes('0.2'), 'nor carries them');
  });

  it('counts the reputation of its source from the records of the collections read, summed; neutral where they hold none', () => {
    const records: Record<string, CollectionFederation> = {
      bad: { producerRecord: { indicators: 4, bad: 4, corroborated: 0 } },
      sound: { producerRecord: { indicators: 40, bad: 0, corroborated: 10 } },
    };
    const basis = confidenceBasis({ ...base, sourceReputation: 0.9 }, [], () => records);
    const withReputation = (reputation: number): number => effectiveConfidence({ ...base, sourceReputation: reputation });
    assert.equal(confidenceIn(basis, (c) => c === 'bad'), withReputation(reputationOfRecord({ indicators: 4, bad: 4, corroborated: 0 })));
    assert.equal(confidenceIn(basis, (c) => c === 'sound'), withReputation(reputationOfRecord({ indicators: 40, bad: 0, corroborated: 10 })));
    assert.equal(confidenceIn(basis, () => true), withReputation(reputationOfRecord({ indicators: 44, bad: 4, corroborated: 10 })));
    assert.equal(confidenceIn(basis, () => false), withReputation(neutralReputation));
    assert.ok(confidenceIn(basis, (c) => c === 'bad') < confidenceIn(basis, () => false), 'the reports held in bad lower it for their readers only');
    const home = confidenceBasis(base, [], () => records);
    assert.equal(confidenceIn(home, (c) => c === 'bad'), effectiveConfidence(base), 'the home organisation’s own indicators are not discounted');
  });

  it('counts organisations as whom they count as once, the producer and corroborating sources included, where the reader may read the identities', () => {
    const member = 'identity--member';
    const minted = { ...base, producer: 'identity--minted-p' };
    const evidence = [{ collectionId: 'open', evidence: seen('identity--minted-1') }, { collectionId: 'open', evidence: seen('identity--x') }];
    const asked: string[][] = [];
    const basis = confidenceBasis(minted, evidence, (about) => {
      asked.push([...about.organisations].sort());
      return {
        open: { corroboratingSources: ['identity--minted-q'] },
        identities: { identities: { 'identity--minted-p': member, 'identity--minted-1': member, 'identity--minted-q': member } },
      };
    });
    assert.deepEqual(asked, [['identity--minted-1', 'identity--minted-p', 'identity--x']]);
    const organisationOf = (o: string): string => (o.startsWith('identity--minted') ? member : o);
    const counted = effectiveConfidence({ ...minted, corroboratingSources: ['identity--minted-q'], organisationOf, sightings: evidence.map((e) => e.evidence) });
    assert.equal(confidenceIn(basis, () => true), counted);
    assert.equal(counted, effectiveConfidence({ ...base, sightings: [seen('identity--x')] }), 'the member’s own identities corroborate nothing');
    const unmapped = effectiveConfidence({ ...minted, corroboratingSources: ['identity--minted-q'], sightings: evidence.map((e) => e.evidence) });
    assert.equal(confidenceIn(basis, (c) => c === 'open'), unmapped, 'who sent the identities is not the reader’s to learn');
    assert.ok(unmapped > counted);
  });
});

describe('severity', () => {
  it('follows the STIX High/Medium/Low scale', () => {
    assert.deepEqual([100, 70, 69, 30, 29, 1, 0].map(severityOf), ['high', 'high', 'medium', 'medium', 'low', 'low', 'none']);
  });
});

describe('evidence from stored objects', () => {
  const indicatorId = 'indicator--00000000-0000-4000-8000-000000000001';
  it('a sighting of the indicator, by its creator or where it was sighted; false positives by flag or label', () => {
    assert.deepEqual(sightingEvidence({ type: 'sighting', sighting_of_ref: indicatorId, created_by_ref: 'identity--a', last_seen: '2026-05-01T00:00:00Z' }, indicatorId), {
      organisation: 'identity--a',
      falsePositive: false,
      seenAt: Date.UTC(2026, 4, 1),
    });
    assert.equal(sightingEvidence({ type: 'sighting', sighting_of_ref: indicatorId, where_sighted_refs: ['identity--b'] }, indicatorId)?.organisation, 'identity--b');
    assert.equal(sightingEvidence({ type: 'sighting', sighting_of_ref: indicatorId, x_entente_false_positive: true }, indicatorId)?.falsePositive, true);
    assert.equal(sightingEvidence({ type: 'sighting', sighting_of_ref: indicatorId, labels: ['false-positive'] }, indicatorId)?.falsePositive, true);
    assert.equal(sightingEvidence({ type: 'sighting', sighting_of_ref: 'indicator--other' }, indicatorId), undefined);
  });

  it('an opinion that disagrees is a false-positive report; one that agrees is not evidence', () => {
    assert.equal(sightingEvidence({ type: 'opinion', opinion: 'strongly-disagree', object_refs: [indicatorId], created_by_ref: 'identity--c' }, indicatorId)?.falsePositive, true);
    assert.equal(sightingEvidence({ type: 'opinion', opinion: 'agree', object_refs: [indicatorId] }, indicatorId), undefined);
  });
});
