// A revoked disclosure counts for nobody in the weakness totals: revoking is how an organisation
// withdraws what it said (STIX 2.1: no version follows a revocation). It withdraws the object for
// the organisations that sent the revoked version, in whichever collection it is held, even when
// an older version stays the latest of another collection; a revoked version someone else wrote
// under the same id withdraws nothing of the owner's. (Expiry does not arise: vulnerability,
// course-of-action and note, the types counted, have no valid_until in STIX 2.1.)
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
const M = 'identity--0a0a0a0a-0000-4000-8000-000000000001';
const A = 'identity--0a0a0a0a-0000-4000-8000-0000000000aa';
const B = 'identity--0a0a0a0a-0000-4000-8000-0000000000b0';
const C = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');
const LATER = '2026-03-01T00:00:00.000Z';

const weaknessMarking = (tag: string): StixObject => ({
  type: 'marking-definition', spec_version: '2.1', id: `marking-definition--${tag}aaaaaa-0000-4000-8000-000000000000`, created: '2026-01-01T00:00:00.000Z', name: 'weakness',
  extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'weakness', organisation_refs: [], circle_refs: ['alpha'], aggregate_circle_refs: ['alpha'] } },
});
const marks: Readonly<Record<string, StixObject>> = { [A]: weaknessMarking('a'), [B]: weaknessMarking('b'), [C]: weaknessMarking('c'), [HOME]: weaknessMarking('d'), [M]: weaknessMarking('e') };
const vuln = (n: number, by: string, changes: Partial<StixObject> = {}): StixObject => ({
  type: 'vulnerability', spec_version: '2.1', id: `vulnerability--cccccccc-0000-4000-8000-${String(n).padStart(12, '0')}`,
  created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: by, name: 'CVE-2026-1111', object_marking_refs: [(marks[by] as StixObject).id],
  ...changes,
});
const revoked = (n: number, by: string): StixObject => vuln(n, by, { modified: LATER, revoked: true });

describe('weakness totals leave revoked disclosures out', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  const rowsFor = async (organisationId: string): Promise<[string, number][]> =>
    (await weaknessTotals(deps, { organisationId, admin: false }, 'alpha')).cves.map((row) => [row.key, row.organisations]);
  /** As a partner's TAXII POST (the home organisation's own write without `by`). */
  const send = (collection: string, object: StixObject, by?: string): Promise<unknown> =>
    store.addObjects(collection, [marks[object['created_by_ref'] as string] as StixObject, object], undefined, by);

  beforeEach(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
    for (const org of [A, B, C, M]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
    await store.createCollection({ id: 'inbox', title: 'inbox (no circle)' }, CREATED);
    await store.createCollection({ id: 'alpha', title: 'alpha' }, CREATED);
    await store.createCircle({
      id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'hidden', collectionId: 'alpha', defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, A, B, C, M].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    } as Circle, CREATED);
    await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms() });
    for (const org of [A, B, C, M]) await store.addAcceptance({ circleId: 'alpha', organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    // A, B and C each disclosed CVE-2026-1111: C (and everyone) sees the row.
    await send('alpha', vuln(1, A), A);
    await send('alpha', vuln(2, B), B);
    await send('alpha', vuln(3, C), C);
    deps = { store, clock: () => AT, homeOrganisationId: HOME };
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
