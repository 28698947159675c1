// Which copy of a disclosure counts, and for whom, in the weakness totals. The same object id may be
// held in several collections, in several versions, each copy sent by someone else: a version counts
// only for the organisation that contributed it (the first, when the store knows who was first;
// nobody, when several partners sent the identical version), never paired with what another
// organisation sent under the same id. Otherwise a member writing another version of someone's
// disclosure id, or sending that disclosure again, could make one organisation stand behind a CVE
// another disclosed, and lift a CVE one other member disclosed alone over the threshold.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { weaknessTotals, type CircleDeps } from '../../src/circles/circle-operations.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from '../../src/policy/classify-marking.ts';
import type { Circle } from '../../src/policy/circle.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
// M sorts before every partner, N after B: an owner chosen by the smallest id would be M, or B over N.
const M = 'identity--0a0a0a0a-0000-4000-8000-000000000001';
const B = 'identity--0a0a0a0a-0000-4000-8000-0000000000a0';
const A = 'identity--0a0a0a0a-0000-4000-8000-0000000000aa';
const N = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const C = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');

const weaknessMarking = (tag: string): StixObject => ({
  type: 'marking-definition', spec_version: '2.1', id: `marking-definition--${tag}aaaaaa-0000-4000-8000-000000000000`, created: '2026-01-01T00:00:00.000Z', name: 'weakness',
  extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'weakness', organisation_refs: [], circle_refs: ['alpha'], aggregate_circle_refs: ['alpha'] } },
});
const vuln = (n: number, cve: string, by: string, marking: StixObject, modified = '2026-02-01T00:00:00.000Z'): StixObject => ({
  type: 'vulnerability', spec_version: '2.1', id: `vulnerability--cccccccc-0000-4000-8000-${String(n).padStart(12, '0')}`,
  created: '2026-02-01T00:00:00.000Z', modified, created_by_ref: by, name: cve, object_marking_refs: [marking.id],
});
const markA = weaknessMarking('a');
const markB = weaknessMarking('d');
const markC = weaknessMarking('e');
const markM = weaknessMarking('b');

describe('weakness totals count each version for the organisation that contributed it', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  const rowsFor = async (organisationId: string): Promise<[string, number][]> =>
    (await weaknessTotals(deps, { organisationId, admin: false }, 'alpha')).cves.map((row) => [row.key, row.organisations]);

  beforeEach(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
    for (const org of [A, B, C, M, N]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
    // inbox belongs to no circle, and is read before alpha.
    await store.createCollection({ id: 'inbox', title: 'inbox (no circle)' }, CREATED);
    await store.createCollection({ id: 'alpha', title: 'alpha' }, CREATED);
    await store.createCircle({
      id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'hidden', collectionId: 'alpha', defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, A, B, C, M, N].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    } as Circle, CREATED);
    await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms() });
    for (const org of [A, B, C, M, N]) await store.addAcceptance({ circleId: 'alpha', organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    // A alone disclosed CVE-2026-1111; B disclosed CVE-2026-3333 as vulnerability 7.
    await store.addObjects('alpha', [markA, vuln(1, 'CVE-2026-1111', A, markA)], undefined, A);
    await store.addObjects('alpha', [markB, vuln(7, 'CVE-2026-3333', B, markB)], undefined, B);
    deps = { store, clock: () => AT, homeOrganisationId: HOME };
  });
  afterEach(async () => {
    await store.close();
  });

  it("does not count a member's newer version of another's disclosure id for that other organisation", async () => {
    assert.deepEqual(await rowsFor(N), []);
    await store.addObjects('inbox', [markM, vuln(7, 'CVE-2026-1111', N, markM, '2026-03-01T00:00:00.000Z')], undefined, N);
    assert.deepEqual(await rowsFor(N), [], 'N wrote the newer version: beside A, only N stands behind CVE-2026-1111');
    assert.deepEqual(await rowsFor(A), [], 'B never disclosed CVE-2026-1111');
    assert.deepEqual(await rowsFor(HOME), [['CVE-2026-1111', 2]], 'A and N');
    // B's own version still counts for B, for the CVE it names.
    await store.addObjects('alpha', [markC, vuln(9, 'CVE-2026-3333', C, markC)], undefined, C);
    assert.deepEqual(await rowsFor(A), [['CVE-2026-3333', 2]], 'B and C');
  });

  it('counts a newer version written into the circle collection for its writer only', async () => {
    await store.addObjects('alpha', [markM, vuln(7, 'CVE-2026-1111', M, markM, '2026-03-01T00:00:00.000Z')], undefined, M);
    assert.deepEqual(await rowsFor(M), []);
    assert.deepEqual(await rowsFor(A), []);
  });

  it('does not credit a member that sends the identical version of another organisation again', async () => {
    await store.addObjects('alpha', [markB, vuln(2, 'CVE-2026-1111', B, markB)], undefined, B);
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'A and B');
    assert.deepEqual(await rowsFor(B), [], 'B would learn that exactly one other member has it');
    // M sends B's disclosure again, to alpha and to its inbox. The store does not record which of B
    // and M sent it first, so it counts for neither: never for M, whose id sorts first.
    for (const collection of ['alpha', 'inbox']) await store.addObjects(collection, [markB, vuln(2, 'CVE-2026-1111', B, markB)], undefined, M);
    assert.deepEqual(await rowsFor(B), [], 'B disclosed it; M only sent it again');
    assert.deepEqual(await rowsFor(C), []);
  });

  it('counts a version the home organisation wrote before a partner sent it for the home organisation', async () => {
    await store.addObjects('alpha', [weaknessMarking('c'), vuln(3, 'CVE-2026-1111', HOME, weaknessMarking('c'))]);
    await store.addObjects('inbox', [weaknessMarking('c'), vuln(3, 'CVE-2026-1111', HOME, weaknessMarking('c'))], undefined, M);
    assert.deepEqual(await rowsFor(M), [['CVE-2026-1111', 2]], 'A and the home organisation, not M');
  });

  it("counts one organisation's object once, in its latest version, wherever copies of it are held", async () => {
    await store.addObjects('inbox', [markB, vuln(7, 'CVE-2026-3333', B, markB)], undefined, B);
    await store.addObjects('alpha', [markB, vuln(7, 'CVE-2026-1111', B, markB, '2026-03-01T00:00:00.000Z')], undefined, B);
    await store.addObjects('alpha', [markC, vuln(9, 'CVE-2026-3333', C, markC)], undefined, C);
    const totals = await weaknessTotals(deps, { organisationId: HOME, admin: false }, 'alpha');
    assert.deepEqual(totals.cves.map((row) => [row.key, row.organisations, row.disclosures]), [['CVE-2026-1111', 2, 2]], "B's older version in inbox no longer counts for CVE-2026-3333");
  });
});
