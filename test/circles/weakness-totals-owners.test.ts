// Who stands behind a row of the weakness totals: the organisations this node recorded as having
// contributed the disclosures, never the created_by_ref they claim (any writer sets it freely), and
// never the organisation reading the totals. Otherwise a member could lift a CVE that one other
// member disclosed alone over the threshold — with a disclosure "created by" an invented
// organisation, or one of its own — and learn that someone in a small circle has that gap.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { weaknessTotals, type CircleDeps } from '../../src/circles/circle-operations.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from '../../src/policy/classify-marking.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import type { Circle } from '../../src/policy/circle.ts';
import { openTestHttpApp } from './test-http-app.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const A = 'identity--0a0a0a0a-0000-4000-8000-0000000000aa';
const M = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const FAKE = 'identity--ffffffff-ffff-4fff-8fff-ffffffffffff';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');
const M_SECRET = 'ent_member-m-0000000000000000000000000000000';

const weaknessMarking = (tag: string): StixObject => ({
  type: 'marking-definition', spec_version: '2.1', id: `marking-definition--${tag}aaaaaa-0000-4000-8000-000000000000`, created: '2026-01-01T00:00:00.000Z', name: 'weakness',
  extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'weakness', organisation_refs: [], circle_refs: ['alpha'], aggregate_circle_refs: ['alpha'] } },
});
const vuln = (n: number, cve: string, by: string, marking: StixObject): StixObject => ({
  type: 'vulnerability', spec_version: '2.1', id: `vulnerability--cccccccc-0000-4000-8000-${String(n).padStart(12, '0')}`,
  created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: by, name: cve, object_marking_refs: [marking.id],
});
const markA = weaknessMarking('a');
const markM = weaknessMarking('b');
const markHome = weaknessMarking('c');

describe('weakness totals count the organisations that contributed, not the ones claimed', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  const rowsFor = async (organisationId: string): Promise<[string, number][]> =>
    (await weaknessTotals(deps, { organisationId, admin: false }, 'alpha')).cves.map((row) => [row.key, row.organisations]);

  beforeEach(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
    for (const org of [A, M]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
    await store.createCollection({ id: 'alpha', title: 'alpha' }, CREATED);
    await store.createCircle({
      id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'hidden', collectionId: 'alpha', defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, A, M].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    } as Circle, CREATED);
    await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms() });
    for (const org of [A, M]) await store.addAcceptance({ circleId: 'alpha', organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    await store.createToken({ name: 'm', secretHash: hashTokenSecret(M_SECRET), admin: false, organisationId: M, createdAt: CREATED.toISOString(), revokedAt: undefined, grants: [{ collectionId: 'alpha', read: true, write: true }] });
    // A alone disclosed CVE-2026-1111.
    await store.addObjects('alpha', [markA, vuln(1, 'CVE-2026-1111', A, markA)], undefined, A);
    deps = { store, clock: () => AT, homeOrganisationId: HOME };
  });
  afterEach(async () => {
    await store.close();
  });

  it('does not let a member lift a lone disclosure over the threshold with creators it invents', async () => {
    assert.deepEqual(await rowsFor(M), []);
    await store.addObjects('alpha', [markM, vuln(2, 'CVE-2026-1111', FAKE, markM), vuln(3, 'CVE-2026-2222', FAKE, markM)], undefined, M);
    assert.deepEqual(await rowsFor(M), [], 'M contributed both: one organisation beside A, and that is M itself');
    assert.deepEqual(await rowsFor(A), []);
  });

  it("leaves the reader's own disclosures out of the threshold: a row shows it at least two others", async () => {
    await store.addObjects('alpha', [markM, vuln(2, 'CVE-2026-1111', M, markM)], undefined, M);
    assert.deepEqual(await rowsFor(M), [], 'M would learn that exactly one other member has the gap');
    assert.deepEqual(await rowsFor(A), []);
    // The home organisation reads the row: A and M are two organisations other than itself.
    assert.deepEqual(await rowsFor(HOME), [['CVE-2026-1111', 2]]);
    // Once the home organisation discloses it too, each member sees two others behind it.
    await store.addObjects('alpha', [markHome, vuln(3, 'CVE-2026-1111', HOME, markHome)]);
    assert.deepEqual(await rowsFor(M), [['CVE-2026-1111', 3]]);
    assert.deepEqual(await rowsFor(A), [['CVE-2026-1111', 3]]);
  });

  it("counts the home organisation's own writes as the home organisation's, whoever they name as creator", async () => {
    await store.addObjects('alpha', [markHome, vuln(2, 'CVE-2026-2222', A, markHome), vuln(3, 'CVE-2026-2222', FAKE, markHome)]);
    await store.addObjects('alpha', [markM, vuln(4, 'CVE-2026-2222', M, markM)], undefined, M);
    assert.deepEqual(await rowsFor(A), [['CVE-2026-2222', 2]], 'the home organisation and M');
    assert.deepEqual(await rowsFor(M), [], 'only the home organisation beside M');
  });

  it('tells a partner nothing of the rows it suppressed', async () => {
    const app: FastifyInstance = await openTestHttpApp(store, HOME, AT);
    try {
      const reply = await app.inject({ method: 'GET', url: '/api/circles/alpha/weaknesses', headers: { authorization: `Bearer ${M_SECRET}` } });
      assert.equal(reply.statusCode, 200, reply.body);
      const body = reply.json<Record<string, unknown>>();
      assert.deepEqual(body['cves'], []);
      assert.equal('suppressed_rows' in body, false, 'a count of suppressed rows says that some lone member has a gap');
      assert.equal((await weaknessTotals(deps, { organisationId: M, admin: false }, 'alpha')).suppressedRows, undefined);
    } finally {
      await app.close();
    }
  });
});
