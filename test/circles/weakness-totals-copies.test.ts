// Which copy of a disclosure counts, and for whom, in the weakness totals. The same object id may be
// held in several collections, in several versions, each copy sent by someone else: a version counts
// only for the organisation that contributed it (the first, when the store knows who was first;
// nobody, when several partners sent the identical version), never paired with what another
// organisation sent under the same id. Otherwise a member writing another version of someone's
// disclosure id, or sending that disclosure again, could make one organisation stand behind a CVE
// another disclosed, and lift a CVE one other member disclosed alone over the threshold.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { weaknessTotals, type CircleDeps } from '../../src/circles/circle-operations.ts';
import { alphaCircleStore, cveRowsFor, disclosure, HOME, weaknessMarking } from './weakness-kit.ts';

// M sorts before every partner, N after B: an owner chosen by the smallest id would be M, or B over N.
const M = 'identity--0a0a0a0a-0000-4000-8000-000000000001';
const B = 'identity--0a0a0a0a-0000-4000-8000-0000000000a0';
const A = 'identity--0a0a0a0a-0000-4000-8000-0000000000aa';
const N = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const C = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';

const vuln = (n: number, cve: string, by: string, marking: StixObject, modified?: string): StixObject =>
  disclosure(n, cve, by, marking, modified === undefined ? {} : { modified });
const markA = weaknessMarking('a');
const markB = weaknessMarking('d');
const markC = weaknessMarking('e');
const markM = weaknessMarking('b');

describe('weakness totals count each version for the organisation that contributed it', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  const rowsFor = (organisationId: string): Promise<[string, number][]> => cveRowsFor(deps, organisationId);

  beforeEach(async () => {
    // inbox belongs to no circle, and is read before alpha.
    ({ store, deps } = await alphaCircleStore([A, B, C, M, N], { before: ['inbox'] }));
    // A alone disclosed CVE-2026-1111; B disclosed CVE-2026-3333 as vulnerability 7.
    await store.addObjects('alpha', [markA, vuln(1, 'CVE-2026-1111', A, markA)], undefined, A);
    await store.addObjects('alpha', [markB, vuln(7, 'CVE-2026-3333', B, markB)], undefined, B);
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
