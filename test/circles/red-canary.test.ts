// A TLP:RED canary: a unique string seeded in RED content (a whole RED object, a RED-marked field of
// an AMBER object, a RED object in a collection that carries no circle). Every declared route is
// called, with every kind of caller that is not a named recipient, with the canary objects' ids in
// every parameter and words next to the canary in search queries (never the canary itself: a
// caller's own input echoed back is not a leak, and would hide one); afterwards the canary must appear
// in no response body or header to them and in no log line at any level. The named recipient
// does receive it, so the test would notice a canary that never travels at all.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/server/create-http-app.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from '../../src/policy/classify-marking.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const CANARY = `canary${randomUUID().replaceAll('-', '')}`;
const HOME = 'identity--aaaaaaaa-0000-4000-8000-000000000000';
const NAMED = 'identity--aaaaaaaa-0000-4000-8000-000000000001';
const MEMBER = 'identity--aaaaaaaa-0000-4000-8000-000000000002';
const OUTSIDER = 'identity--aaaaaaaa-0000-4000-8000-000000000003';
const CIRCLE = 'red-circle';
const PLAIN = 'plain';
const AT = new Date('2026-06-01T00:00:00Z');
const TAXII = 'application/taxii+json;version=2.1';

const RECIPIENTS_MARKING = 'marking-definition--bbbbbbbb-0000-4000-8000-000000000001';
const redIndicator = 'indicator--cccccccc-0000-4000-8000-000000000001';
const amberReport = 'report--cccccccc-0000-4000-8000-000000000002';
const relationship = 'relationship--cccccccc-0000-4000-8000-000000000003';
const plainRed = 'note--cccccccc-0000-4000-8000-000000000004';
const CANARY_IDS = [redIndicator, amberReport, relationship, plainRed];

const common = { spec_version: '2.1', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z' };
const objects: StixObject[] = [
  {
    type: 'marking-definition', spec_version: '2.1', id: RECIPIENTS_MARKING, created: '2026-01-01T00:00:00.000Z', name: 'RED recipients',
    extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'recipients', organisation_refs: [NAMED] } },
  },
  {
    ...common, type: 'indicator', id: redIndicator, name: `red ${CANARY}`, description: `the ${CANARY} beacon`,
    pattern: `[domain-name:value = '${CANARY}.example']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
    object_marking_refs: [TLP2_MARKING_IDS.red, RECIPIENTS_MARKING],
  },
  {
    ...common, type: 'report', id: amberReport, name: 'amber report', published: '2026-01-01T00:00:00Z', description: `red part ${CANARY}`,
    object_refs: [redIndicator, 'malware--cccccccc-0000-4000-8000-000000000009'],
    object_marking_refs: [TLP2_MARKING_IDS.amber],
    granular_markings: [{ selectors: ['description'], marking_ref: TLP2_MARKING_IDS.red }],
  },
  { ...common, type: 'malware', id: 'malware--cccccccc-0000-4000-8000-000000000009', name: 'plain malware', is_family: true, object_marking_refs: [TLP2_MARKING_IDS.green] },
  {
    ...common, type: 'relationship', id: relationship, relationship_type: 'indicates', source_ref: redIndicator,
    target_ref: 'malware--cccccccc-0000-4000-8000-000000000009', object_marking_refs: [TLP2_MARKING_IDS.green], description: `links ${CANARY}`,
  },
];
const plainObjects: StixObject[] = [
  { ...common, type: 'note', id: plainRed, content: `home only ${CANARY}`, object_refs: [redIndicator], object_marking_refs: [TLP2_MARKING_IDS.red] },
];

const secrets = { named: 'ent_named-0000000000000000000000000000000', member: 'ent_member-000000000000000000000000000000', outsider: 'ent_outsider-0000000000000000000000000000' };

describe('a TLP:RED canary never reaches a non-recipient, an error body or a log line', () => {
  let app: FastifyInstance;
  let store: ObjectStore;
  const logLines: string[] = [];
  const exposures: { caller: string; route: string; text: string }[] = [];

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2026-01-01T00:00:00Z');
    await store.createCollection({ id: CIRCLE, title: 'red circle' }, created);
    await store.createCollection({ id: PLAIN, title: 'no circle' }, created);
    for (const org of [NAMED, MEMBER, OUTSIDER]) {
      await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    }
    await store.createCircle(
      {
        id: CIRCLE, name: 'red circle', kind: 'tacit', visibility: 'hidden', collectionId: CIRCLE, defaultTlp: 'amber',
        validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2027-01-01T00:00:00.000Z',
        members: [
          { organisationId: HOME, role: 'coordinator', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
          { organisationId: NAMED, role: 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
          { organisationId: MEMBER, role: 'consumer', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
        ],
      },
      created,
    );
    await store.addAgreement({
      circleId: CIRCLE, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z',
      terms: {
        scope: { types: ['indicator', 'report', 'relationship', 'malware', 'note', 'marking-definition'] }, highestTlp: 'red', onwardSharing: 'none',
        attribution: 'keep', expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' }, endRule: 'retain',
      },
    });
    for (const org of [NAMED, MEMBER]) await store.addAcceptance({ circleId: CIRCLE, organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    await store.addObjects(CIRCLE, objects);
    await store.addObjects(PLAIN, plainObjects);
    const grants = [{ collectionId: CIRCLE, read: true, write: true }, { collectionId: PLAIN, read: true, write: true }];
    for (const [name, org] of [['named', NAMED], ['member', MEMBER], ['outsider', OUTSIDER]] as const) {
      await store.createToken({ name, secretHash: hashTokenSecret(secrets[name]), admin: false, grants, organisationId: org, createdAt: created.toISOString(), revokedAt: undefined });
    }
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(chunk.toString('utf8'));
        callback();
      },
    });
    app = await createHttpApp({
      store, logger: pino({ level: 'trace' }, sink), limits: { maxBodyBytes: 1024 * 1024, maxJsonDepth: 64 }, clock: () => AT,
      randomUuid: randomUUID, homeOrganisationId: HOME, node: { title: 'canary', apiRootPath: 'api' }, tokenCacheTtlMs: 0,
    });
  });

  after(async () => {
    await app.close();
    await store.close();
  });

  /** Every URL a declared route can be called with: each parameter filled with ids that lead to the canary. */
  function urlsOf(url: string): string[] {
    let urls = [url];
    const fill: Record<string, string[]> = {
      ':collectionId': [CIRCLE, PLAIN],
      ':objectId': CANARY_IDS,
      ':statusId': [randomUUID()],
      ':circleId': [CIRCLE],
      ':organisationId': [NAMED, MEMBER],
    };
    for (const [param, values] of Object.entries(fill)) {
      urls = urls.flatMap((candidate) => (candidate.includes(param) ? values.map((value) => candidate.replace(param, value)) : [candidate]));
    }
    return urls.flatMap((candidate) => (candidate.endsWith('/api/search') ? [`${candidate}?q=beacon`, `${candidate}?q=red`, `${candidate}?q=links`, `${candidate}?q=home`] : [candidate]));
  }

  function bodyFor(method: string, url: string): string | undefined {
    if (method !== 'POST') return undefined;
    if (url.endsWith('/objects/')) {
      // A conflicting version of the canary objects (same id and modified, other content): the error must not echo the stored one.
      return JSON.stringify({ objects: CANARY_IDS.map((id) => ({ ...common, type: id.split('--')[0], id, name: 'forged', content: 'x', object_refs: [redIndicator] })) });
    }
    return JSON.stringify({ organisation_id: NAMED, terms: { scope: { types: ['indicator'] } }, version: 1, role: 'consumer' });
  }

  it('calls every route as each non-recipient and finds the canary nowhere', async () => {
    const routes = app.declaredRoutes.filter((route) => route.method !== 'HEAD');
    assert.ok(routes.length >= 20);
    const callers: Record<string, string | undefined> = {
      member: `Bearer ${secrets.member}`,
      outsider: `Bearer ${secrets.outsider}`,
      anonymous: undefined,
      forged: `Bearer ent_${randomUUID()}`,
    };
    let calls = 0;
    for (const [caller, authorization] of Object.entries(callers)) {
      for (const route of routes) {
        for (const url of urlsOf(route.url)) {
          const body = bodyFor(route.method, url);
          const response = await app.inject({
            method: route.method as 'GET',
            url,
            headers: {
              accept: url.startsWith('/taxii2/') ? TAXII : 'application/json',
              ...(authorization === undefined ? {} : { authorization }),
              ...(body === undefined ? {} : { 'content-type': url.startsWith('/taxii2/') ? TAXII : 'application/json' }),
            },
            ...(body === undefined ? {} : { payload: body }),
          });
          calls += 1;
          const text = response.body + JSON.stringify(response.headers);
          if (text.includes(CANARY)) exposures.push({ caller, route: `${route.method} ${url} → ${response.statusCode}`, text: text.slice(0, 300) });
        }
      }
    }
    assert.ok(calls > 100, `only ${calls} calls`);
    assert.deepEqual(exposures, []);
  });

  it('the named recipient does receive the RED object (the canary travels where it may)', async () => {
    const response = await app.inject({ method: 'GET', url: `/taxii2/api/collections/${CIRCLE}/objects/${redIndicator}/`, headers: { authorization: `Bearer ${secrets.named}`, accept: TAXII } });
    assert.equal(response.statusCode, 200);
    assert.ok(response.body.includes(CANARY));
    // The AMBER report reaches a plain member with its RED description removed.
    const report = await app.inject({ method: 'GET', url: `/taxii2/api/collections/${CIRCLE}/objects/${amberReport}/`, headers: { authorization: `Bearer ${secrets.member}`, accept: TAXII } });
    assert.equal(report.statusCode, 200);
    const released = (JSON.parse(report.body) as { objects: StixObject[] }).objects[0];
    assert.equal(released?.['description'], undefined);
    assert.deepEqual(released?.['object_refs'], ['malware--cccccccc-0000-4000-8000-000000000009']);
  });

  it('no log line at any level carries the canary', () => {
    assert.ok(logLines.length > 100, 'the app logged its requests');
    const carrying = logLines.filter((line) => line.includes(CANARY));
    // The named recipient's own request is logged by URL and status only, never with bodies.
    assert.deepEqual(carrying, []);
  });
});
