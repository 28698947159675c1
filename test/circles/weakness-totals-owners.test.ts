// Who stands behind a row of the weakness totals: the organisations this node recorded as having
// contributed the disclosures, never the created_by_ref they claim (any writer sets it freely), and
// never the organisation reading the totals. Otherwise a member could lift a CVE that one other
// member disclosed alone over the threshold — with a disclosure "created by" an invented
// organisation, or one of its own — and learn that someone in a small circle has that gap.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { weaknessTotals, type CircleDeps } from '../../src/circles/circle-operations.ts';
import { alphaCircleStore, AT, CREATED, cveRowsFor, disclosure, HOME, weaknessMarking } from './weakness-kit.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { openTestHttpApp } from './test-http-app.ts';

const A = 'identity--0a0a0a0a-0000-4000-8000-0000000000aa';
const M = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const FAKE = 'identity--ffffffff-ffff-4fff-8fff-ffffffffffff';
const M_SECRET = 'ent_member-m-0000000000000000000000000000000';

const vuln = (n: number, cve: string, by: string, marking: StixObject): StixObject => disclosure(n, cve, by, marking);
const markA = weaknessMarking('a');
const markM = weaknessMarking('b');
const markHome = weaknessMarking('c');

describe('weakness totals count the organisations that contributed, not the ones claimed', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  const rowsFor = (organisationId: string): Promise<[string, number][]> => cveRowsFor(deps, organisationId);

  beforeEach(async () => {
    ({ store, deps } = await alphaCircleStore([A, M]));
    await store.createToken({ name: 'm', secretHash: hashTokenSecret(M_SECRET), admin: false, organisationId: M, createdAt: CREATED.toISOString(), revokedAt: undefined, grants: [{ collectionId: 'alpha', read: true, write: true }] });
    // A alone disclosed CVE-2026-1111.
    await store.addObjects('alpha', [markA, vuln(1, 'CVE-2026-1111', A, markA)], undefined, A);
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
