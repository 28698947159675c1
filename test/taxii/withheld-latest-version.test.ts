// When the collection's latest version of an object is withheld from a recipient, every version of
// that object is withheld from it: the object then answers every read exactly as a deleted object
// does. Otherwise the default read (the latest version) would 404 while /versions/ and
// match[version]=first|all still served the older versions, and that combination only ever means
// "a newer version exists and is hidden from you" (and, polled, when it came).
// Node: the home organisation and partner P, in circle c1 (terms up to RED; TLP:RED is not released
// to a circle member, so P never receives a RED version).
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { openTestHttpApp } from '../circles/test-http-app.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--edededed-0000-4000-8000-000000000000';
const P = 'identity--edededed-0000-4000-8000-00000000000a';
const P_SECRET = 'ent_partner-00000000000000000000000000000';
const ID = 'indicator--edededed-0000-4000-8000-000000000001';
const OTHER = 'indicator--edededed-0000-4000-8000-000000000002';
const V1 = '2026-02-01T00:00:00.000Z';
const V2 = '2026-03-01T00:00:00.000Z';
const CREATED = new Date('2026-01-01T00:00:00Z');
const TAXII = 'application/taxii+json;version=2.1';

function indicator(id: string, modified: string, tlp: 'green' | 'amber' | 'red'): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id, created: V1, modified, name: `seen at ${tlp}`,
    pattern: "[domain-name:value = 'example.org']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS[tlp]],
  };
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly first: string | undefined;
  readonly last: string | undefined;
}

const opened: { app: FastifyInstance; store: SqliteObjectStore }[] = [];
afterEach(async () => {
  for (const { app, store } of opened.splice(0)) {
    await app.close();
    await store.close();
  }
});

/** Circle c1 (home + P), holding OTHER (GREEN) and ID at V1 (GREEN). */
async function world(): Promise<{ store: SqliteObjectStore; get(path: string): Promise<Answer> }> {
  const store = openSqliteObjectStore({ path: ':memory:' });
  await store.createOrganisation({ id: P, name: 'partner', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
  await store.createCollection({ id: 'c1', title: 'c1' }, CREATED);
  await store.createCircle({
    id: 'c1', name: 'c1', kind: 'formal', visibility: 'open', collectionId: 'c1', defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
    members: [HOME, P].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
  }, CREATED);
  await store.addAgreement({ circleId: 'c1', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms({ onwardSharing: 'none' }) });
  await store.addAcceptance({ circleId: 'c1', organisationId: P, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
  await store.createToken({
    name: 'partner', secretHash: hashTokenSecret(P_SECRET), admin: false, grants: [{ collectionId: 'c1', read: true, write: false }],
    organisationId: P, createdAt: CREATED.toISOString(), revokedAt: undefined,
  });
  await store.addObjects('c1', [indicator(ID, V1, 'green')]);
  await store.addObjects('c1', [indicator(OTHER, V1, 'green')]);
  const app = await openTestHttpApp(store, HOME);
  opened.push({ app, store });
  return {
    store,
    async get(path) {
      const response = await app.inject({ method: 'GET', url: `/taxii2/api/collections/c1/${path}`, headers: { authorization: `Bearer ${P_SECRET}`, accept: TAXII } });
      const header = (name: string): string | undefined => {
        const value = response.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      // error_id is random per error: it tells two answers apart by nothing the reader learns.
      const body = response.body.replace(/"error_id":"[^"]*"/, '"error_id":"…"');
      return { status: response.statusCode, body, first: header('x-taxii-date-added-first'), last: header('x-taxii-date-added-last') };
    },
  };
}

/** Every read a TAXII client can make of the object or of lists that could hold it. */
const READS = [
  `objects/${ID}/`,
  `objects/${ID}/?match[version]=last`,
  `objects/${ID}/?match[version]=first`,
  `objects/${ID}/?match[version]=all`,
  `objects/${ID}/?match[version]=${V1}`,
  `objects/${ID}/?match[version]=first,${V1}`,
  `objects/${ID}/?match[version]=all&limit=1`,
  `objects/${ID}/versions/`,
  `objects/${ID}/versions/?limit=1`,
  'objects/',
  'objects/?match[version]=all',
  'objects/?match[version]=first',
  `objects/?match[version]=${V1}`,
  `objects/?match[id]=${ID}&match[version]=all`,
  'objects/?match[version]=all&limit=1',
  'manifest/',
  'manifest/?match[version]=all',
  'manifest/?match[version]=first',
  `manifest/?match[id]=${ID}&match[version]=all`,
];

async function answers(get: (path: string) => Promise<Answer>): Promise<Map<string, Answer>> {
  const all = new Map<string, Answer>();
  for (const path of READS) all.set(path, await get(path));
  return all;
}

/** The versions of ID an answer names (objects, versions or manifest). */
function versionsOfId(answer: Answer): string[] {
  if (answer.status !== 200) return [];
  const body = JSON.parse(answer.body) as { objects?: { id: string; modified?: string; version?: string }[]; versions?: string[] };
  if (body.versions !== undefined) return body.versions;
  return (body.objects ?? []).filter((object) => object.id === ID).map((object) => object.modified ?? object.version ?? '');
}

describe('an object whose latest version is withheld from the reader', () => {
  it('answers every read exactly as the same object deleted: no version, no count, no date_added', async () => {
    const { store, get } = await world();
    assert.deepEqual(versionsOfId(await get(`objects/${ID}/versions/`)), [V1], 'before: P reads the GREEN version');
    await store.addObjects('c1', [indicator(ID, V2, 'red')]);
    const hidden = await answers(get);
    await store.deleteObject('c1', ID, {});
    const deleted = await answers(get);
    for (const path of READS) assert.deepEqual(hidden.get(path), deleted.get(path), `GET ${path}`);
    for (const path of READS) assert.deepEqual(versionsOfId(hidden.get(path) as Answer), [], `GET ${path} names no version of ${ID}`);
    assert.equal(hidden.get(`objects/${ID}/`)?.status, 404);
    assert.equal(hidden.get(`objects/${ID}/versions/`)?.status, 404);
    assert.equal(hidden.get(`objects/${ID}/?match[version]=all`)?.status, 404);
  });

  it('is served again, every version P may see, once a newer version P may see is the latest', async () => {
    const { store, get } = await world();
    await store.addObjects('c1', [indicator(ID, V2, 'red')]);
    assert.equal((await get(`objects/${ID}/versions/`)).status, 404);
    const V3 = '2026-04-01T00:00:00.000Z';
    await store.addObjects('c1', [indicator(ID, V3, 'green')]);
    // The RED version itself stays withheld, decided on its own; the rule only ever withholds more.
    assert.deepEqual(versionsOfId(await get(`objects/${ID}/versions/`)), [V1, V3]);
    assert.deepEqual(versionsOfId(await get(`objects/${ID}/?match[version]=all`)), [V1, V3]);
    assert.deepEqual(versionsOfId(await get(`objects/${ID}/?match[version]=first`)), [V1]);
    assert.deepEqual(versionsOfId(await get('objects/?match[version]=all')), [V1, V3]);
  });

  it('leaves the older versions served when the latest is released, whatever they are decided', async () => {
    const { store, get } = await world();
    await store.addObjects('c1', [indicator(ID, V2, 'amber')]);
    assert.deepEqual(versionsOfId(await get(`objects/${ID}/versions/`)), [V1, V2]);
    assert.deepEqual(versionsOfId(await get(`objects/${ID}/?match[version]=first`)), [V1]);
    assert.deepEqual(versionsOfId(await get('manifest/?match[version]=all')), [V1, V2]);
  });
});
