import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { createTokenAuthenticator } from '../../src/server/authenticate.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import {
  API,
  ADD_TEST,
  basic,
  bearer,
  errorOf,
  HIGH_VALUE,
  indicator,
  PAST_24H,
  QUERY_TEST,
  secrets,
  SECRET,
  startTestNode,
  TAXII,
  type TestNode,
} from './taxii-test-kit.ts';

describe('authentication and collection access', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node.close());

  const get = (url: string, headers: Record<string, string>) => node.app.inject({ url, headers });

  it('requires credentials on discovery, answering 401 with Basic and Bearer challenges', async () => {
    const response = await get('/taxii2/', { accept: TAXII });
    assert.equal(response.statusCode, 401);
    assert.equal(errorOf(response).error_code, 'ENT_AUTH_MISSING');
    const challenges = ([] as string[]).concat(response.headers['www-authenticate'] ?? []);
    assert.ok(challenges.some((c) => c.startsWith('Bearer ')));
    assert.ok(challenges.some((c) => c.startsWith('Basic ')));
  });

  for (const [name, authorization] of [
    ['a wrong Bearer token', 'Bearer ent_wrong'],
    ['a wrong Basic password', `Basic ${Buffer.from('user:ent_wrong').toString('base64')}`],
    ['a revoked token', `Bearer ${secrets.revoked}`],
    ['an unknown scheme', `Digest ${secrets.admin}`],
    ['garbage', 'x'],
  ] as const) {
    it(`refuses ${name} with 401`, async () => {
      const response = await get(`${API}collections/${HIGH_VALUE}/objects/`, { accept: TAXII, authorization });
      assert.equal(response.statusCode, 401);
      assert.equal(errorOf(response).error_code, 'ENT_AUTH_INVALID');
      assert.ok(response.headers['www-authenticate']);
    });
  }

  it('accepts the token as Bearer and as the Basic password with any user name', async () => {
    for (const headers of [bearer('reader'), basic('reader'), basic('reader', ''), basic('reader', 'taxii-client')]) {
      const response = await get(`${API}collections/${HIGH_VALUE}/objects/`, headers);
      assert.equal(response.statusCode, 200);
    }
  });

  it('lists only the collections the token can read or write, with its rights', async () => {
    const response = await get(`${API}collections/`, bearer('analyst'));
    const { collections } = response.json<{ collections: { id: string; can_read: boolean; can_write: boolean }[] }>();
    const byId = Object.fromEntries(collections.map((c) => [c.id, [c.can_read, c.can_write]]));
    assert.deepEqual(byId, {
      [HIGH_VALUE]: [true, true],
      [ADD_TEST]: [true, true],
      [PAST_24H]: [true, false],
      [QUERY_TEST]: [false, true],
    });
    const admin = await get(`${API}collections/`, bearer('admin'));
    assert.equal(admin.json<{ collections: unknown[] }>().collections.length, 5);
  });

  it('gives a token without any collection an empty collections resource', async () => {
    const response = await get(`${API}collections/`, bearer('outsider'));
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {});
  });

  it('answers 404 for a collection the token has no grant on, exactly as for one that does not exist', async () => {
    const hidden = await get(`${API}collections/${SECRET}/objects/`, bearer('analyst'));
    const missing = await get(`${API}collections/00000000-0000-4000-8000-000000000000/objects/`, bearer('analyst'));
    assert.equal(hidden.statusCode, 404);
    assert.equal(missing.statusCode, 404);
    const [a, b] = [errorOf(hidden), errorOf(missing)];
    assert.equal(a.error_code, 'ENT_COLLECTION_NOT_FOUND');
    assert.equal(a.error_code, b.error_code);
    assert.equal(a.title, b.title);
    assert.equal(a.description.replace(SECRET, 'ID'), b.description.replace('00000000-0000-4000-8000-000000000000', 'ID'));
    for (const url of [`${API}collections/${SECRET}/`, `${API}collections/${SECRET}/manifest/`]) {
      assert.equal((await get(url, bearer('analyst'))).statusCode, 404, url);
    }
  });

  it('answers 403 when POSTing to a collection the token may only read', async () => {
    const response = await node.app.inject({
      method: 'POST',
      url: `${API}collections/${PAST_24H}/objects/`,
      headers: { ...bearer('analyst'), 'content-type': TAXII },
      payload: JSON.stringify({ objects: [indicator(1)] }),
    });
    assert.equal(response.statusCode, 403);
    assert.equal(errorOf(response).error_code, 'ENT_COLLECTION_NOT_WRITABLE');
    assert.match(errorOf(response).description, new RegExp(PAST_24H));
  });

  it('answers 403 when reading a collection the token may only write, but shows the collection itself', async () => {
    const objects = await get(`${API}collections/${QUERY_TEST}/objects/`, bearer('analyst'));
    assert.equal(objects.statusCode, 403);
    assert.equal(errorOf(objects).error_code, 'ENT_COLLECTION_NOT_READABLE');
    const collection = await get(`${API}collections/${QUERY_TEST}/`, bearer('analyst'));
    assert.equal(collection.statusCode, 200);
    assert.deepEqual(
      [collection.json<{ can_read: boolean }>().can_read, collection.json<{ can_write: boolean }>().can_write],
      [false, true],
    );
  });

  it('refuses DELETE to a read-only token with 403', async () => {
    const response = await node.app.inject({
      method: 'DELETE',
      url: `${API}collections/${HIGH_VALUE}/objects/indicator--cd981c25-8042-4166-8945-51178443bdac/`,
      headers: bearer('reader'),
    });
    assert.equal(response.statusCode, 403);
  });

  it('never writes the secret or the Authorization header to the log', async () => {
    await get(`${API}collections/`, bearer('analyst'));
    await get(`${API}collections/`, basic('analyst'));
    await get(`${API}collections/`, { authorization: 'Bearer ent_some-wrong-secret', accept: TAXII });
    const log = node.logLines.join('\n');
    assert.ok(log.length > 0);
    assert.ok(!log.includes(secrets.analyst));
    assert.ok(!log.includes(Buffer.from(`anyone:${secrets.analyst}`).toString('base64')));
    assert.ok(!log.includes('ent_some-wrong-secret'));
    assert.ok(!/authorization/i.test(log));
  });

  it('writes one JSON log line per request carrying the request id', async () => {
    const before = node.logLines.length;
    const response = await get(`${API}collections/`, bearer('analyst'));
    const lines = node.logLines.slice(before).map((line) => JSON.parse(line) as { reqId: string; status: number; token: string });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.reqId, response.headers['x-request-id']);
    assert.equal(lines[0]?.status, 200);
    assert.equal(lines[0]?.token, 'analyst');
  });
});

describe('token revocation', () => {
  it('takes effect within the cache lifetime (at most 1 s)', async () => {
    const node = await startTestNode({ empty: true });
    try {
      const url = `${API}collections/`;
      assert.equal((await node.app.inject({ url, headers: bearer('reader') })).statusCode, 200);
      await node.store.revokeToken('reader', new Date());
      await sleep(1050);
      assert.equal((await node.app.inject({ url, headers: bearer('reader') })).statusCode, 401);
    } finally {
      await node.close();
    }
  });

  it('takes effect at the next request, without waiting for the cache lifetime', async () => {
    const node = await startTestNode({ empty: true });
    try {
      const url = `${API}collections/`;
      assert.equal((await node.app.inject({ url, headers: bearer('reader') })).statusCode, 200);
      assert.equal((await node.app.inject({ url, headers: bearer('reader') })).statusCode, 200, 'served from the cache');
      await node.store.revokeToken('reader', new Date());
      assert.equal((await node.app.inject({ url, headers: bearer('reader') })).statusCode, 401);
    } finally {
      await node.close();
    }
  });

  it('takes effect at the next request when another process revokes (entente token revoke)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'entente-auth-'));
    const path = join(dir, 'entente.sqlite');
    const server = openSqliteObjectStore({ path });
    const cli = openSqliteObjectStore({ path });
    try {
      const secret = 'ent_another-process-revokes-this-token';
      await server.createToken({ name: 'feed', secretHash: hashTokenSecret(secret), admin: false, grants: [], organisationId: undefined, createdAt: new Date().toISOString(), revokedAt: undefined });
      let lookups = 0;
      const counted = { findTokenBySecretHash: async (hash: string) => ((lookups += 1), server.findTokenBySecretHash(hash)), tokenChangeMarker: () => server.tokenChangeMarker() };
      const authenticator = createTokenAuthenticator({ store: { ...counted, createToken: server.createToken.bind(server), listTokens: server.listTokens.bind(server), revokeToken: server.revokeToken.bind(server) }, homeOrganisationId: 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d' });
      assert.equal((await authenticator.authenticate(`Bearer ${secret}`)).token.name, 'feed');
      assert.equal((await authenticator.authenticate(`Bearer ${secret}`)).token.name, 'feed');
      assert.equal(lookups, 1, 'the second request is served from the cache');
      await cli.revokeToken('feed', new Date());
      await assert.rejects(authenticator.authenticate(`Bearer ${secret}`), (error: unknown) => (error as { code?: string }).code === 'ENT_AUTH_INVALID');
    } finally {
      await cli.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes effect at once when the cache is invalidated', async () => {
    const node = await startTestNode({ empty: true });
    try {
      const url = `${API}collections/`;
      assert.equal((await node.app.inject({ url, headers: bearer('reader') })).statusCode, 200);
      await node.store.revokeToken('reader', new Date());
      node.app.invalidateTokenCache();
      assert.equal((await node.app.inject({ url, headers: bearer('reader') })).statusCode, 401);
    } finally {
      await node.close();
    }
  });

  it('takes effect at once with the cache disabled', async () => {
    const node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    try {
      const url = `${API}collections/`;
      assert.equal((await node.app.inject({ url, headers: bearer('reader') })).statusCode, 200);
      await node.store.revokeToken('reader', new Date());
      assert.equal((await node.app.inject({ url, headers: bearer('reader') })).statusCode, 401);
    } finally {
      await node.close();
    }
  });
});
