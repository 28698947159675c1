// Why a draft's publication was refused, and whose problem it is, told by the status. The store
// refusing objects because of what it holds (another version of an id with the same `modified` and
// other content) is a conflict (409 ENT_DRAFT_PUBLICATION_REJECTED), with the store's reasons for a
// publisher who may read every collection; an object built from the draft that is not valid STIX
// (a value no STIX reader would take) is the draft's content (422 ENT_DRAFT_PUBLICATION_INVALID,
// with the issues). Neither is a fault of the node: 500 is left to internal failures. Nothing is
// published either way, and the draft stays open.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createHttpApp } from '../../src/server/create-http-app.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { errorOf, startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
import { ADD_TEST } from '../taxii/taxii-test-kit.ts';
import { ACCEPTED_BY_ANA, expectStatus, ipv4Item, newDraft } from './draft-kit.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const NOW = new Date('2026-11-23T03:00:00.000Z');
const SECRETS = { admin: 'ent_refusals-admin-secret-0000000000000000000', ana: 'ent_refusals-ana-secret-000000000000000000000' } as const;

/** The ids the node mints, counted: the test knows which indicator ids a publication will use. */
const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe('a publication the store refuses for a conflict', () => {
  let store: SqliteObjectStore;
  let app: FastifyInstance;
  let minted = 0;
  const call = (token: keyof typeof SECRETS, url: string, body: unknown): Promise<LightMyRequestResponse> =>
    app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${SECRETS[token]}`, accept: 'application/json', 'content-type': 'application/json' }, payload: JSON.stringify(body) });

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => NOW });
    await store.createCollection({ id: 'feed', title: 'Feed' }, NOW);
    await store.createCollection({ id: 'elsewhere', title: 'Elsewhere' }, NOW);
    const created = NOW.toISOString();
    await store.createToken({ name: 'admin', secretHash: hashTokenSecret(SECRETS.admin), admin: true, grants: [], organisationId: undefined, createdAt: created, revokedAt: undefined });
    // Ana writes and reads the target alone: what `elsewhere` holds is none of her business.
    await store.createToken({ name: 'ana', secretHash: hashTokenSecret(SECRETS.ana), admin: false, grants: [{ collectionId: 'feed', read: true, write: true }], organisationId: undefined, createdAt: created, revokedAt: undefined });
    // Another writer holds, in another collection, indicators under the ids the node will mint, at
    // the same time, with other content: whichever of them a publication uses is refused.
    const conflicting: StixObject[] = Array.from({ length: 200 }, (_, index) => ({
      type: 'indicator', spec_version: '2.1', id: `indicator--${uuid(index + 1)}`, created, modified: created,
      pattern: "[ipv4-addr:value = '203.0.113.1']", pattern_type: 'stix', valid_from: created,
    }));
    await store.addObjects('elsewhere', conflicting);
    app = await createHttpApp({
      store,
      logger: pino({ level: 'silent' }),
      limits: { maxBodyBytes: 1024 * 1024, maxJsonDepth: 64 },
      clock: () => NOW,
      randomUuid: () => uuid((minted += 1)),
      homeOrganisationId: HOME,
      node: { title: 'Refusals', apiRootPath: 'api' },
      tokenCacheTtlMs: 0,
    });
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  async function draftFor(token: string): Promise<string> {
    const { id } = await store.createDraft(newDraft({ text: 'C2 45.77.12.31.', createdByToken: token, items: [ipv4Item('1', '45.77.12.31', ACCEPTED_BY_ANA)] }));
    return id;
  }

  it("answers 409 with the store's reasons to a publisher who may read every collection", async () => {
    const draftId = await draftFor('admin');
    const response = expectStatus(await call('admin', `/api/drafts/${draftId}/publish`, { collection: 'feed', tlp: 'green' }), 409);
    const body = errorOf(response);
    assert.equal(body.error_code, 'ENT_DRAFT_PUBLICATION_REJECTED');
    assert.match(body.description, /refused 1 object/);
    const rejected = body.details?.['rejected'] as { id: string; code: string; message: string }[];
    assert.deepEqual(rejected.map((rejection) => [rejection.id.split('--')[0], rejection.code]), [['indicator', 'ENT_OBJECT_VERSION_CONFLICT']]);
    assert.ok(rejected[0]?.message !== undefined && rejected[0].message.length > 0, 'the store says why');
    assert.equal((await store.getDraft(draftId))?.publication, undefined, 'nothing was published');
    assert.equal((await store.listEntries('feed', {}, { limit: 10 })).entries.length, 0);
  });

  it('answers 409 to a publisher who cannot read where the conflict is, naming the objects but not why', async () => {
    const draftId = await draftFor('ana');
    const response = expectStatus(await call('ana', `/api/drafts/${draftId}/publish`, { collection: 'feed', tlp: 'green' }), 409);
    const body = errorOf(response);
    assert.equal(body.error_code, 'ENT_DRAFT_PUBLICATION_REJECTED');
    assert.deepEqual((body.details?.['refused'] as string[]).map((id) => id.split('--')[0]), ['indicator']);
    assert.equal(/ENT_OBJECT_VERSION_CONFLICT|already stored|elsewhere|203\.0\.113\.1/.test(response.body), false, response.body);
    assert.equal((await store.getDraft(draftId))?.publication, undefined);
  });
});

describe('a publication with an object that is not valid STIX', () => {
  let node: CircleApiNode;
  before(async () => {
    node = await startCircleApiNode([]);
  });
  after(() => node.close());

  it('answers 422 ENT_DRAFT_PUBLICATION_INVALID with the issues, and leaves the draft open to fix', async () => {
    const draft = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text: '# Lure\nThe lure linked to https://evil-login.net/auth today.\n' }), 201).json<{ id: string; items: { id: string; value: string }[] }>();
    const url = draft.items.find((item) => item.value === 'https://evil-login.net/auth');
    assert.ok(url);
    // A URL the edit check takes (it parses) but STIX does not: non-ASCII characters must be percent-encoded.
    expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/items/${url.id}`, { decision: 'edit', value: 'https://evil-login.net/äuth' }), 200);
    const response = expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/publish`, { collection: ADD_TEST, tlp: 'green', reject_pending: true }), 422);
    const body = errorOf(response);
    assert.equal(body.error_code, 'ENT_DRAFT_PUBLICATION_INVALID');
    const invalid = body.details?.['invalid'] as { id: string; issues: { message: string }[] }[];
    assert.ok(invalid.some((entry) => entry.id.startsWith('url--') && /RFC 3986/.test(entry.issues[0]?.message ?? '')), response.body);

    expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/items/${url.id}`, { decision: 'edit', value: 'https://evil-login.net/%C3%A4uth' }), 200);
    expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/publish`, { collection: ADD_TEST, tlp: 'green', reject_pending: true }), 201);
  });
});
