import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../stix/types.ts';
import { aggregateWeaknesses, type WeaknessDisclosure } from './aggregate-weaknesses.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from './classify-marking.ts';

const orgs = ['identity--00000000-0000-4000-8000-00000000000a', 'identity--00000000-0000-4000-8000-00000000000b', 'identity--00000000-0000-4000-8000-00000000000c'] as const;

function weaknessMarking(n: number, aggregate: string[]): JsonObject {
  const id = `marking-definition--00000000-0000-4000-8000-00000000000${n}`;
  return {
    type: 'marking-definition', spec_version: '2.1', id, created: '2026-01-01T00:00:00Z',
    extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'weakness', organisation_refs: [], circle_refs: ['inner'], aggregate_circle_refs: aggregate } },
  };
}
const optIn = weaknessMarking(1, ['wide']);
const privateOnly = weaknessMarking(2, []);
const definitions = new Map([optIn, privateOnly].map((m) => [m['id'] as string, m]));

let serial = 0;
/** A disclosure contributed by `owner`, which it also names as its creator unless `claimed` says otherwise. */
function disclosure(owner: string, name: string, marking: JsonObject, techniques: string[] = [], claimed: string = owner): WeaknessDisclosure {
  serial += 1;
  return {
    contributor: owner,
    object: {
      type: 'vulnerability', spec_version: '2.1', id: `vulnerability--00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
      created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z', name, created_by_ref: claimed,
      external_references: techniques.map((t) => ({ source_name: 'mitre-attack', external_id: t })),
      object_marking_refs: [marking['id'] as string],
    },
  };
}

describe('aggregateWeaknesses: weakness totals for a wider circle, owner removed', () => {
  it('counts organisations per CVE and technique for disclosures whose owner opted the circle in', () => {
    const totals = aggregateWeaknesses(
      [
        disclosure(orgs[0], 'CVE-2026-1111 on our VPN', optIn, ['T1190']),
        disclosure(orgs[1], 'CVE-2026-1111 in the DMZ', optIn, ['T1190']),
        disclosure(orgs[1], 'CVE-2026-1111 again, second site', optIn),
        disclosure(orgs[2], 'CVE-2026-1111 kept private', privateOnly, ['T1190']),
      ],
      definitions,
      'wide',
    );
    assert.deepEqual(totals.cves, [{ key: 'CVE-2026-1111', organisations: 2, disclosures: 3 }]);
    assert.deepEqual(totals.techniques, [{ key: 'T1190', organisations: 2, disclosures: 2 }]);
    assert.equal(JSON.stringify(totals).includes('identity--'), false, 'no owner appears in the totals');
  });

  it('hides a row that a single organisation stands behind (it would point at that organisation)', () => {
    const totals = aggregateWeaknesses([disclosure(orgs[0], 'CVE-2026-2222', optIn), disclosure(orgs[0], 'CVE-2026-2222 twice', optIn)], definitions, 'wide');
    assert.deepEqual(totals.cves, []);
    assert.equal(totals.suppressedRows, 1);
    assert.deepEqual(aggregateWeaknesses([disclosure(orgs[0], 'CVE-2026-2222', optIn)], definitions, 'wide', { minOrganisations: 1 }).cves.length, 1);
  });

  it('counts nothing for a circle the owner did not name, or for an object with one marking that does not opt in', () => {
    const plain = disclosure(orgs[0], 'CVE-2026-3333', optIn);
    const both: WeaknessDisclosure = { ...plain, object: { ...plain.object, object_marking_refs: [optIn['id'] as string, privateOnly['id'] as string] } };
    const totals = aggregateWeaknesses([both, disclosure(orgs[1], 'CVE-2026-3333', optIn)], definitions, 'wide', { minOrganisations: 1 });
    assert.deepEqual(totals.cves, [{ key: 'CVE-2026-3333', organisations: 1, disclosures: 1 }]);
    assert.deepEqual(aggregateWeaknesses([disclosure(orgs[0], 'CVE-2026-3333', optIn)], definitions, 'other', { minOrganisations: 1 }).cves, []);
  });

  it('counts the organisations that contributed, whatever creators the disclosures claim', () => {
    const forged = [disclosure(orgs[0], 'CVE-2026-4444', optIn, [], orgs[1]), disclosure(orgs[0], 'CVE-2026-4444 again', optIn, [], orgs[2])];
    assert.deepEqual(aggregateWeaknesses(forged, definitions, 'wide').cves, []);
    assert.equal(aggregateWeaknesses(forged, definitions, 'wide', { minOrganisations: 1 }).cves[0]?.organisations, 1);
  });

  it('counts a version given for several organisations for none of them: which sent it first is not known here', () => {
    const original = disclosure(orgs[0], 'CVE-2026-5555', optIn);
    const sentAgain: WeaknessDisclosure = { ...original, contributor: orgs[1] };
    assert.deepEqual(aggregateWeaknesses([original, sentAgain], definitions, 'wide', { minOrganisations: 1 }).cves, []);
    assert.deepEqual(aggregateWeaknesses([original, original], definitions, 'wide', { minOrganisations: 1 }).cves, [{ key: 'CVE-2026-5555', organisations: 1, disclosures: 1 }], 'one organisation, one object, however many copies');
  });

  it('counts another version under the same id for its own contributor, with its own content', () => {
    const original = disclosure(orgs[1], 'CVE-2026-5555', optIn);
    const other: WeaknessDisclosure = { contributor: orgs[2], object: { ...original.object, modified: '2026-02-01T00:00:00Z', name: 'CVE-2026-4444' } };
    const lone = disclosure(orgs[0], 'CVE-2026-4444', optIn);
    const totals = aggregateWeaknesses([other, original, lone], definitions, 'wide', { minOrganisations: 1 });
    assert.deepEqual(totals.cves, [{ key: 'CVE-2026-4444', organisations: 2, disclosures: 2 }, { key: 'CVE-2026-5555', organisations: 1, disclosures: 1 }]);
    assert.deepEqual(aggregateWeaknesses([other, original, lone], definitions, 'wide', { reader: orgs[2] }).cves, [], 'the writer of the other version stands behind CVE-2026-4444, not the original owner');
  });

  it('counts a disclosure for nobody that the organisation revoked, in any version given for it', () => {
    const original = disclosure(orgs[0], 'CVE-2026-7777', optIn);
    const revoked: WeaknessDisclosure = { ...original, object: { ...original.object, modified: '2026-02-01T00:00:00Z', revoked: true } };
    const others = [disclosure(orgs[1], 'CVE-2026-7777', optIn), disclosure(orgs[2], 'CVE-2026-7777', optIn)];
    assert.deepEqual(aggregateWeaknesses([original, ...others], definitions, 'wide').cves, [{ key: 'CVE-2026-7777', organisations: 3, disclosures: 3 }]);
    for (const given of [[revoked, original], [original, revoked]]) {
      assert.deepEqual(aggregateWeaknesses([...given, ...others], definitions, 'wide').cves, [{ key: 'CVE-2026-7777', organisations: 2, disclosures: 2 }]);
    }
    const revokedByAnother: WeaknessDisclosure = { ...revoked, contributor: orgs[1] };
    assert.deepEqual(aggregateWeaknesses([original, revokedByAnother, others[1] as WeaknessDisclosure], definitions, 'wide', { minOrganisations: 1 }).cves, [{ key: 'CVE-2026-7777', organisations: 2, disclosures: 2 }], "another organisation's revocation under the id withdraws only its own");
  });

  it("shows a row only when enough organisations other than the reader stand behind it, the reader's own counted in it", () => {
    const two = [disclosure(orgs[0], 'CVE-2026-6666', optIn), disclosure(orgs[1], 'CVE-2026-6666', optIn)];
    assert.deepEqual(aggregateWeaknesses(two, definitions, 'wide', { reader: orgs[0] }).cves, [], 'the reader would learn that one other organisation has it');
    assert.equal(aggregateWeaknesses(two, definitions, 'wide', { reader: orgs[0] }).suppressedRows, 1);
    assert.deepEqual(aggregateWeaknesses(two, definitions, 'wide', { reader: orgs[2] }).cves, [{ key: 'CVE-2026-6666', organisations: 2, disclosures: 2 }]);
    const three = [...two, disclosure(orgs[2], 'CVE-2026-6666', optIn)];
    assert.deepEqual(aggregateWeaknesses(three, definitions, 'wide', { reader: orgs[0] }).cves, [{ key: 'CVE-2026-6666', organisations: 3, disclosures: 3 }]);
  });
  it('counts only the contributors the reader may be told of, the threshold applying to those counted', () => {
    const three = [disclosure(orgs[0], 'CVE-2026-8888', optIn), disclosure(orgs[1], 'CVE-2026-8888', optIn), disclosure(orgs[2], 'CVE-2026-8888', optIn)];
    const reader = 'identity--00000000-0000-4000-8000-0000000000ff';
    assert.deepEqual(aggregateWeaknesses(three, definitions, 'wide', { reader }).cves, [{ key: 'CVE-2026-8888', organisations: 3, disclosures: 3 }]);
    const notC = (contributor: string): boolean => contributor !== orgs[2];
    assert.deepEqual(aggregateWeaknesses(three, definitions, 'wide', { reader, counts: notC }).cves, [{ key: 'CVE-2026-8888', organisations: 2, disclosures: 2 }], 'not 3: the reader is not told that C has it');
    const onlyA = (contributor: string): boolean => contributor === orgs[0];
    assert.deepEqual(aggregateWeaknesses(three, definitions, 'wide', { reader, counts: onlyA }).cves, [], 'a row of one would point at A');
    assert.deepEqual(aggregateWeaknesses(three, definitions, 'wide', { reader: orgs[0], counts: (c) => c !== orgs[2] }).cves, [], "the reader's own and B: one other organisation");
  });

  it('still counts a version given for several organisations for none, when the reader may be told of only one of them', () => {
    const original = disclosure(orgs[0], 'CVE-2026-9999', optIn);
    const sentAgain: WeaknessDisclosure = { ...original, contributor: orgs[1] };
    const counts = (contributor: string): boolean => contributor !== orgs[1];
    assert.deepEqual(aggregateWeaknesses([original, sentAgain], definitions, 'wide', { minOrganisations: 1, counts }).cves, []);
  });
});
