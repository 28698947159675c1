// A version that arrived signed counts in the weakness totals for the organisation that signed it,
// not for the member node that delivered it. In a circle of three or more, a member's AMBER
// disclosure reaches this node from the member and, second-hand (AMBER allows it), from another
// member's node: counted per deliverer, the two deliveries made it count for nobody, and any member
// that received a disclosure could cancel it on purpose by sending it again. Only unsigned content
// (a partner's TAXII POST, an unverified arrival) falls back to the contributor rule.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { Verification } from '../../src/store/federation-store.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { weaknessTotals, type CircleDeps } from '../../src/circles/circle-operations.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from '../../src/policy/classify-marking.ts';
import type { Circle } from '../../src/policy/circle.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const A = 'identity--0a0a0a0a-0000-4000-8000-0000000000aa';
const B = 'identity--0a0a0a0a-0000-4000-8000-0000000000a0';
const C = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';
const N = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');

const weaknessMarking = (tag: string): StixObject => ({
  type: 'marking-definition', spec_version: '2.1', id: `marking-definition--${tag}aaaaaa-0000-4000-8000-000000000000`, created: '2026-01-01T00:00:00.000Z', name: 'weakness',
  extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'weakness', organisation_refs: [], circle_refs: ['alpha'], aggregate_circle_refs: ['alpha'] } },
});
const vuln = (n: number, cve: string, by: string, marking: StixObject, extra: Partial<StixObject> = {}): StixObject => ({
  type: 'vulnerability', spec_version: '2.1', id: `vulnerability--cccccccc-0000-4000-8000-${String(n).padStart(12, '0')}`,
  created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: by, name: cve, object_marking_refs: [marking.id], ...extra,
});
const markA = weaknessMarking('a');
const markB = weaknessMarking('d');
const markN = weaknessMarking('b');
const disclosedByB = vuln(2, 'CVE-2026-1111', B, markB);

describe('weakness totals count a signed version for its signer, not for the node that delivered it', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  const rowsFor = async (organisationId: string): Promise<[string, number][]> =>
    (await weaknessTotals(deps, { organisationId, admin: false }, 'alpha')).cves.map((row) => [row.key, row.organisations]);
  /** A federation arrival: signed by `signer` (when verified), handed over by `deliveredBy`, recorded as its contributor. */
  const arrive = async (objects: readonly StixObject[], deliveredBy: string, signer: string | undefined, verification: Verification = 'verified', collectionId = 'alpha'): Promise<void> => {
    await store.applySyncBatch({
      collectionId, peer: undefined, circleId: 'alpha', source: 'file', contributorOrganisationId: deliveredBy,
      accepted: objects.map((object) => ({ object, signer, keyId: undefined, verification, hops: signer === undefined || signer === deliveredBy ? [deliveredBy] : [signer, deliveredBy] })),
      quarantined: [], receivedAt: AT.toISOString(),
    });
  };

  beforeEach(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
    for (const org of [A, B, C, N]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
    await store.createCollection({ id: 'alpha', title: 'alpha' }, CREATED);
    // B's own link's collection, where its versions may stay the latest whatever alpha holds.
    await store.createCollection({ id: 'from-b', title: 'from B' }, CREATED);
    await store.createCircle({
      id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'hidden', collectionId: 'alpha', defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, A, B, C, N].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    } as Circle, CREATED);
    await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms() });
    for (const org of [A, B, C, N]) await store.addAcceptance({ circleId: 'alpha', organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    // A alone disclosed CVE-2026-1111, signed, from its own node.
    await arrive([markA, vuln(1, 'CVE-2026-1111', A, markA)], A, A);
    deps = { store, clock: () => AT, homeOrganisationId: HOME };
  });
  afterEach(async () => {
    await store.close();
  });

  it("keeps counting a member's disclosure that another member's node relayed as well", async () => {
    await arrive([markB, disclosedByB], B, B);
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'A and B');
    await arrive([markB, disclosedByB], N, B);
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'still A and B: N relayed what B signed');
    assert.deepEqual(await rowsFor(HOME), [['CVE-2026-1111', 2]]);
  });

  it('counts a relayed disclosure for its signer, not for the relaying member', async () => {
    // N disclosed CVE-2026-1111 itself: counted for the relay, B's version would add nobody beside A and N.
    await arrive([markN, vuln(3, 'CVE-2026-1111', N, markN)], N, N);
    await arrive([markB, disclosedByB], N, B);
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 3]], 'A, B and N');
  });

  it("does not let a member cancel another's signed disclosure by posting it again", async () => {
    await arrive([markB, disclosedByB], B, B);
    await store.addObjects('alpha', [markB, disclosedByB], undefined, C);
    assert.deepEqual(await rowsFor(N), [['CVE-2026-1111', 2]], 'A and B');
  });

  it('withdraws a disclosure for its signer when only another member relayed the revocation', async () => {
    await arrive([markB, disclosedByB], B, B, 'verified', 'from-b');
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'A and B');
    await arrive([vuln(2, 'CVE-2026-1111', B, markB, { modified: '2026-03-01T00:00:00.000Z', revoked: true })], N, B);
    assert.deepEqual(await rowsFor(C), [], 'B withdrew it: A alone is left');
  });

  it('counts unsigned content for the one partner that sent it, and for nobody when two sent it', async () => {
    await arrive([markB, disclosedByB], N, undefined, 'unverified');
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'A and N, the only sender of what nobody signed');
    await arrive([markB, disclosedByB], B, undefined, 'unverified');
    assert.deepEqual(await rowsFor(C), [], 'N and B both sent it unsigned: the store cannot tell who was first');
  });
});
