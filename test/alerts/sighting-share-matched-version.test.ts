/**
 * A sighting is shared back only into the circles whose collection holds, as its latest, the version
 * of the indicator that matched (docs/federation.md, "Sightings shared back"). Member M belongs to
 * circle alpha, whose agreement shares no sightings, and to circle beta (evidence), where R is a member
 * too. M posts into beta another content under the id of the home's alpha indicator. Before, every
 * circle holding any version of the id received the home's sightings of alpha's indicator: beta got
 * them, with alpha's pattern value as evidence, and R, a member of beta only, received both (found by
 * a reviewer). The same version held by two circles still goes into both; a circle whose latest is
 * another version, or another content under an equal instant spelled differently, gets nothing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { shareSightingsBack } from '../../src/correlate/share-sightings.ts';
import { sightingObjects } from '../../src/correlate/sighting-objects.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import type { Circle } from '../../src/policy/circle.ts';
import type { Recipient } from '../../src/policy/recipient.ts';
import type { Alert } from '../../src/correlate/alert-aggregator.ts';
import type { StoredEntry } from '../../src/store/object-store.ts';
import { openTestHttpApp } from '../circles/test-http-app.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const M = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const R = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');
const IND = 'indicator--cccccccc-0000-4000-8000-000000000001';
const ALPHA_IP = '198.51.100.9';
const OTHER_IP = '192.0.2.1';

type Sharing = 'none' | 'evidence';

/** The home, M and R; alpha (the home and M) and beta (the home, M and R), each with its sighting sharing. */
async function alliance(alpha: Sharing, beta: Sharing): Promise<SqliteObjectStore> {
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
  await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: CREATED.toISOString(), modified: CREATED.toISOString(), name: 'Home', identity_class: 'organization' }));
  for (const org of [M, R]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
  await store.createCollection({ id: 'default', title: 'home' }, CREATED);
  await store.setMeta('default_collection', 'default');
  const circle = async (id: string, members: readonly string[], sightingSharing: Sharing): Promise<void> => {
    await store.createCollection({ id, title: id }, CREATED);
    await store.createCircle({
      id, name: id, kind: 'formal', visibility: 'open', collectionId: id, defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, ...members].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    } as Circle, CREATED);
    const open = openTerms({ highestTlp: 'amber', sightingSharing });
    const terms = { ...open, scope: { ...open.scope, types: [...open.scope.types, 'sighting', 'observed-data'] } };
    await store.addAgreement({ circleId: id, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms });
    for (const org of members) await store.addAcceptance({ circleId: id, organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
  };
  await circle('alpha', [M], alpha);
  await circle('beta', [M, R], beta);
  return store;
}

/** A version of the indicator: `modified` is its version key. */
function indicator(modified: string, ip: string, name: string): Record<string, unknown> {
  return {
    type: 'indicator', spec_version: '2.1', id: IND, created: '2026-01-01T00:00:00.000Z', modified, name,
    pattern: `[ipv4-addr:value = '${ip}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.green],
  };
}
const ALPHA_VERSION = '2026-02-01T00:00:00.000Z';
const alphaIndicator = { ...indicator(ALPHA_VERSION, ALPHA_IP, 'alpha only'), created_by_ref: HOME };

async function put(store: SqliteObjectStore, collectionId: string, object: Record<string, unknown>, contributor?: string): Promise<void> {
  const outcomes = await store.addObjects(collectionId, [object] as never, undefined, contributor);
  assert.deepEqual(outcomes.filter((outcome) => outcome.kind === 'rejected'), []);
}

/** The home's sighting of a match of `ip`, as the matcher builds it. */
function sightingOf(ip: string, uuid: () => string): ReturnType<typeof sightingObjects> {
  const alert = {
    key: 'k', indicatorId: IND, variant: 0, name: undefined, confidence: 80, observable: { type: 'ipv4-addr', path: 'ipv4-addr:value', value: ip }, window: 0,
    firstSeen: '2026-05-31T10:00:00.000Z', lastSeen: '2026-05-31T10:00:00.000Z', count: 1, source: 'x', line: 1,
    evidence: [{ firstObserved: '2026-05-31T10:00:00.000Z', lastObserved: '2026-05-31T10:00:00.000Z', count: 1, source: 'x', line: 1, objects: { '0': { type: 'ipv4-addr', value: ip } } }],
  } satisfies Alert;
  return sightingObjects(alert, { homeOrganisationId: HOME, now: '2026-05-31T10:00:01.000Z', randomUuid: uuid });
}

/** Never the same id twice in this file: two shares into one store must not collide. */
let minted = 0;
const uuid = (): string => `00000000-0000-4000-8000-${String(++minted).padStart(12, '0')}`;

/** The circles a sighting of `ip`, matched on indicator version `version`, is shared into. */
async function sharedInto(store: SqliteObjectStore, ip: string, version: string): Promise<string[]> {
  const outcome = await shareSightingsBack({ store, homeOrganisationId: HOME, randomUuid: uuid }, [{ bundle: sightingOf(ip, uuid), indicatorVersion: version }], AT);
  assert.deepEqual(outcome.rejected, []);
  return (outcome.shared[0] ?? []).map((copy) => copy.circleId).sort();
}

async function releasedToR(store: SqliteObjectStore): Promise<StoredEntry[]> {
  const all = (await store.listEntries('beta', { versions: [{ kind: 'all' }] }, { limit: 100 })).entries;
  const r: Recipient = { name: 'tok-r', organisationId: R, admin: false, actsForHome: false, grants: [{ collectionId: 'beta', read: true, write: false }] };
  return [...(await (await openReleaseGate(store, r, 'beta', AT)).release(all)).released];
}

async function sightingsIn(store: SqliteObjectStore, collectionId: string): Promise<Record<string, unknown>[]> {
  const entries = (await store.listEntries(collectionId, { types: ['sighting'], versions: [{ kind: 'all' }] }, { limit: 100 })).entries;
  return entries.map((entry) => JSON.parse(entry.json) as Record<string, unknown>);
}

describe('a sighting is shared only into circles whose latest version of the indicator is the one that matched', () => {
  it("a member's other content under the id, in a circle sharing sightings, receives none of alpha's (the reviewer's reproduction)", async () => {
    const store = await alliance('none', 'evidence');
    await put(store, 'alpha', alphaIndicator);
    await put(store, 'beta', indicator('2026-01-15T00:00:00.000Z', OTHER_IP, 'decoy'), M);
    assert.deepEqual(await sharedInto(store, ALPHA_IP, ALPHA_VERSION), []);
    assert.deepEqual(await sightingsIn(store, 'beta'), []);
    assert.deepEqual((await releasedToR(store)).filter((entry) => entry.json.includes(ALPHA_IP) || entry.type === 'sighting'), [], "R receives nothing of alpha's indicator");
    await store.close();
  });

  it('the same version held by both circles is shared into both', async () => {
    const store = await alliance('evidence', 'evidence');
    await put(store, 'alpha', alphaIndicator);
    await put(store, 'beta', alphaIndicator);
    assert.deepEqual(await sharedInto(store, ALPHA_IP, ALPHA_VERSION), ['alpha', 'beta']);
    await store.close();
  });

  it("the same version held by both is shared only where the circle's agreement allows", async () => {
    const store = await alliance('none', 'evidence');
    await put(store, 'alpha', alphaIndicator);
    await put(store, 'beta', alphaIndicator);
    assert.deepEqual(await sharedInto(store, ALPHA_IP, ALPHA_VERSION), ['beta']);
    await store.close();
  });

  it('alpha holding one version and beta another: each sighting goes to the circle holding the version that matched', async () => {
    const store = await alliance('evidence', 'evidence');
    const v2 = '2026-03-01T00:00:00.000Z';
    await put(store, 'alpha', alphaIndicator);
    await put(store, 'beta', indicator(v2, OTHER_IP, 'beta version'), M);
    assert.deepEqual(await sharedInto(store, ALPHA_IP, ALPHA_VERSION), ['alpha']);
    assert.deepEqual(await sharedInto(store, OTHER_IP, v2), ['beta']);
    await store.close();
  });

  it('a circle that held the matched version but holds a newer one now gets nothing: its latest is another content', async () => {
    const store = await alliance('evidence', 'evidence');
    await put(store, 'alpha', alphaIndicator);
    await put(store, 'beta', alphaIndicator);
    await put(store, 'beta', indicator('2026-03-01T00:00:00.000Z', OTHER_IP, 'beta version'), M);
    assert.deepEqual(await sharedInto(store, ALPHA_IP, ALPHA_VERSION), ['alpha']);
    await store.close();
  });

  it('another content under the same instant spelled otherwise is another version: not shared there', async () => {
    const store = await alliance('evidence', 'evidence');
    await put(store, 'alpha', alphaIndicator);
    // '…00Z' and '…00.000Z' name one instant but are two version keys, so the store keeps both contents.
    await put(store, 'beta', indicator('2026-02-01T00:00:00Z', OTHER_IP, 'decoy'), M);
    assert.deepEqual(await sharedInto(store, ALPHA_IP, ALPHA_VERSION), ['alpha']);
    await store.close();
  });

  describe('end to end: POST /api/observations on the running node', () => {
    /** Posts one observation of `ip` with a token of the home's, on a node started afresh (the matcher compiles what the store holds). */
    const post = async (store: SqliteObjectStore, ip: string, token: 'admin' | 'alpha-reader' = 'admin'): Promise<{ sightings_stored: number; sightings_shared: number }> => {
      const secret = `ent_${token.padEnd(40, '0')}`;
      if (!(await store.listTokens()).some((record) => record.name === token)) {
        // The alpha reader reads the default collection and alpha, and may write beta without reading it.
        const grants = token === 'admin' ? [] : [{ collectionId: 'default', read: true, write: true }, { collectionId: 'alpha', read: true, write: true }, { collectionId: 'beta', read: false, write: true }];
        await store.createToken({ name: token, secretHash: hashTokenSecret(secret), admin: token === 'admin', grants, organisationId: HOME, createdAt: CREATED.toISOString(), revokedAt: undefined });
      }
      const app = await openTestHttpApp(store, HOME, AT);
      try {
        const reply = await app.inject({
          method: 'POST', url: '/api/observations', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/x-ndjson', accept: 'application/json' },
          payload: JSON.stringify({ type: 'ipv4-addr', value: ip }),
        });
        assert.equal(reply.statusCode, 200, reply.body);
        return reply.json();
      } finally {
        await app.close();
      }
    };

    it("a member's older content under the id in beta: the node's sighting of alpha's indicator stays out of beta", async () => {
      const store = await alliance('none', 'evidence');
      await put(store, 'alpha', alphaIndicator);
      await put(store, 'beta', indicator('2026-01-15T00:00:00.000Z', OTHER_IP, 'decoy'), M);
      const answer = await post(store, ALPHA_IP);
      // Only circles' collections hold it: no home sighting (it would go to their members), and alpha keeps its own home.
      assert.equal(answer.sightings_stored, 0);
      assert.equal(answer.sightings_shared, 0);
      assert.deepEqual(await sightingsIn(store, 'beta'), []);
      assert.deepEqual((await releasedToR(store)).filter((entry) => entry.json.includes(ALPHA_IP) || entry.type === 'sighting'), []);
      await store.close();
    });

    it('versions compiled side by side (a newer one in beta): each match is shared into the circle whose latest it is', async () => {
      const store = await alliance('evidence', 'evidence');
      await put(store, 'alpha', alphaIndicator);
      await put(store, 'beta', indicator('2026-03-01T00:00:00.000Z', OTHER_IP, 'beta version'), M);
      // A reader of alpha alone is alerted on alpha's version (a reader of beta gets the newer version's alerts).
      const onAlpha = await post(store, ALPHA_IP, 'alpha-reader');
      assert.deepEqual([onAlpha.sightings_stored, onAlpha.sightings_shared], [0, 1]);
      assert.equal((await sightingsIn(store, 'alpha')).length, 1);
      assert.deepEqual(await sightingsIn(store, 'beta'), [], 'beta, which it may write, holds another version: no copy there');
      assert.deepEqual((await releasedToR(store)).filter((entry) => entry.json.includes(ALPHA_IP)), []);
      const onBeta = await post(store, OTHER_IP);
      assert.deepEqual([onBeta.sightings_stored, onBeta.sightings_shared], [0, 1]);
      assert.equal((await sightingsIn(store, 'alpha')).length, 1, "alpha gets no sighting of beta's version");
      assert.equal((await sightingsIn(store, 'beta')).length, 1);
      await store.close();
    });
  });
});
