// A revoked disclosure counts for nobody in the weakness totals: revoking is how an organisation
// withdraws what it said (STIX 2.1: no version follows a revocation). It withdraws the object for
// the organisations that sent the revoked version, in whichever collection it is held, even when
// an older version stays the latest of another collection; a revoked version someone else wrote
// under the same id withdraws nothing of the owner's. (Expiry does not arise: vulnerability,
// course-of-action and note, the types counted, have no valid_until in STIX 2.1.)
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { CircleDeps } from '../../src/circles/circle-operations.ts';
import { alphaCircleStore, cveRowsFor, disclosure, HOME, weaknessMarking } from './weakness-kit.ts';

const M = 'identity--0a0a0a0a-0000-4000-8000-000000000001';
const A = 'identity--0a0a0a0a-0000-4000-8000-0000000000aa';
const B = 'identity--0a0a0a0a-0000-4000-8000-0000000000b0';
const C = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';
const LATER = '2026-03-01T00:00:00.000Z';

const marks: Readonly<Record<string, StixObject>> = { [A]: weaknessMarking('a'), [B]: weaknessMarking('b'), [C]: weaknessMarking('c'), [HOME]: weaknessMarking('d'), [M]: weaknessMarking('e') };
const vuln = (n: number, by: string, changes: Partial<StixObject> = {}): StixObject => disclosure(n, 'CVE-2026-1111', by, marks[by] as StixObject, changes);
const revoked = (n: number, by: string): StixObject => vuln(n, by, { modified: LATER, revoked: true });

describe('weakness totals leave revoked disclosures out', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  const rowsFor = (organisationId: string): Promise<[string, number][]> => cveRowsFor(deps, organisationId);
  /** As a partner's TAXII POST (the home organisation's own write without `by`). */
  const send = (collection: string, object: StixObject, by?: string): Promise<unknown> =>
    store.addObjects(collection, [marks[object['created_by_ref'] as string] as StixObject, object], undefined, by);

  beforeEach(async () => {
    ({ store, deps } = await alphaCircleStore([A, B, C, M], { before: ['inbox'] }));
    // A, B and C each disclosed CVE-2026-1111: C (and everyone) sees the row.
    await send('alpha', vuln(1, A), A);
    await send('alpha', vuln(2, B), B);
    await send('alpha', vuln(3, C), C);
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 3]]);
  });
  afterEach(async () => {
    await store.close();
  });

  it('counts a disclosure its organisation revoked for nobody', async () => {
    await send('alpha', revoked(1, A), A);
    assert.deepEqual(await rowsFor(HOME), [['CVE-2026-1111', 2]], 'B and C');
    assert.deepEqual(await rowsFor(C), [], 'B alone besides C: the row would point at B');
  });

  it('counts it for nobody when the revoked version is held in another collection than the version it withdraws', async () => {
    await send('inbox', revoked(1, A), A);
    assert.deepEqual(await rowsFor(HOME), [['CVE-2026-1111', 2]], "alpha's latest copy of A's disclosure is the unrevoked one, and it no longer counts");
  });

  it('withdraws the disclosure when several organisations sent the revoked version', async () => {
    await send('inbox', revoked(1, A), A);
    await send('inbox', revoked(1, A), M);
    assert.deepEqual(await rowsFor(HOME), [['CVE-2026-1111', 2]], 'whoever sent it first, A sent the revocation');
  });

  it("withdraws nothing of the owner's when another organisation revokes under its id", async () => {
    await send('inbox', revoked(1, M), M);
    assert.deepEqual(await rowsFor(HOME), [['CVE-2026-1111', 3]], "A's disclosure still counts, M's revoked version for nobody");
  });

  it("counts the home organisation's own revoked disclosure for nobody", async () => {
    await send('alpha', vuln(4, HOME));
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 4]]);
    await send('alpha', revoked(4, HOME));
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 3]]);
  });
});
