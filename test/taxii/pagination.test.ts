import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createHttpApp } from '../../src/server/create-http-app.ts';
import { API, ADD_TEST, bearer, errorOf, HIGH_VALUE, indicator, startTestNode, TAXII, type TestNode } from './taxii-test-kit.ts';

interface Envelope {
  more: boolean;
  next?: string;
  objects?: { id: string }[];
}

const objectsUrl = `${API}collections/${ADD_TEST}/objects/`;

describe('pagination with next', () => {
  let node: TestNode;
  const total = 1050;
  before(async () => {
    node = await startTestNode({ empty: true });
    const objects = Array.from({ length: total }, (_, i) => indicator(i));
    await node.store.addObjects(ADD_TEST, objects);
  });
  after(() => node.close());

  const get = async (url: string) => {
    const response = await node.app.inject({ url, headers: bearer('analyst') });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<Envelope>();
  };

  async function readAll(query: string, onPage?: (page: number) => Promise<void>): Promise<string[]> {
    const seen: string[] = [];
    let next: string | undefined;
    for (let page = 0; page < 1000; page += 1) {
      const env = await get(`${objectsUrl}?${query}${next === undefined ? '' : `&next=${next}`}`);
      seen.push(...(env.objects ?? []).map((o) => o.id));
      if (!env.more) {
        assert.equal(env.next, undefined);
        return seen;
      }
      assert.ok(env.next, 'more=true comes with next');
      next = env.next;
      await onPage?.(page);
    }
    throw new Error('pagination did not end');
  }

  it('walks every object exactly once, in date_added order, over many pages', async () => {
    const seen = await readAll('limit=37');
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
    assert.deepEqual(seen, Array.from({ length: total }, (_, i) => indicator(i).id));
  });

  it('lowers a limit above the maximum page size instead of failing', async () => {
    const env = await get(`${objectsUrl}?limit=100000`);
    assert.equal(env.objects?.length, 1000);
    assert.equal(env.more, true);
  });

  it('uses a default page size when no limit is given', async () => {
    const env = await get(objectsUrl);
    assert.equal(env.objects?.length, 100);
    assert.equal(env.more, true);
  });

  it('has no gaps or duplicates while objects are being added, and picks up the new ones at the end', async () => {
    let extra = 0;
    const seen = await readAll('limit=50', async (page) => {
      if (page % 3 === 0) {
        await node.store.addObjects(ADD_TEST, [indicator(10_000 + extra), indicator(10_001 + extra)]);
        extra += 2;
      }
    });
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    assert.equal(seen.length, total + extra, 'no gaps: the old ones and every one added during the walk');
  });

  it('keeps a new version added during the walk from repeating an object already seen under match[version]=all', async () => {
    const seen = await readAll('limit=200&match[version]=all&match[type]=indicator');
    assert.equal(new Set(seen).size, seen.length);
  });

  it('refuses a next from another query with 400', async () => {
    const env = await get(`${objectsUrl}?limit=10&match[type]=indicator`);
    for (const url of [
      `${objectsUrl}?limit=10&match[type]=malware&next=${env.next}`,
      `${API}collections/${HIGH_VALUE}/objects/?limit=10&match[type]=indicator&next=${env.next}`,
      `${API}collections/${ADD_TEST}/manifest/?limit=10&match[type]=indicator&next=${env.next}`,
    ]) {
      const response = await node.app.inject({ url, headers: bearer('analyst') });
      assert.equal(response.statusCode, 400, url);
      assert.equal(errorOf(response).details?.['parameter'], 'next');
      assert.match(errorOf(response).description, /different query/);
    }
  });

  it('accepts a next with a different limit (page size is not part of the query)', async () => {
    const env = await get(`${objectsUrl}?limit=10`);
    const response = await get(`${objectsUrl}?limit=20&next=${env.next}`);
    assert.equal(response.objects?.length, 20);
  });

  it('refuses forged and tampered next values with 400 naming next', async () => {
    const env = await get(`${objectsUrl}?limit=10`);
    const sealed = Buffer.from(env.next ?? '', 'base64url');
    // One bit flipped in the iv, in the sealed text, in the tag; the plain `<date_added>.<fingerprint>` of earlier versions.
    const tampered = [0, 20, sealed.length - 1].map((at) => Buffer.from(sealed.map((byte, i) => (i === at ? byte ^ 1 : byte))).toString('base64url'));
    const plain = Buffer.from(`1.${'A'.repeat(16)}`).toString('base64url');
    for (const next of ['0', 'garbage', '%00', 'AAAA', ...tampered, plain, Buffer.from('1.').toString('base64url'), 'x'.repeat(500), encodeURIComponent('../../etc')]) {
      const response = await node.app.inject({ url: `${objectsUrl}?limit=10&next=${next}`, headers: bearer('analyst') });
      assert.equal(response.statusCode, 400, next);
      assert.equal(errorOf(response).error_code, 'ENT_HTTP_BAD_QUERY');
      assert.equal(errorOf(response).details?.['parameter'], 'next');
      assert.match(errorOf(response).description, /next is not a cursor this server issued/);
    }
  });

  it('takes a next from another process serving the same store (one node key), and is unreadable', async () => {
    const env = await get(`${objectsUrl}?limit=10`);
    assert.ok(env.next !== undefined && env.next.length <= 128, env.next);
    const lastDateAdded = (await node.store.listEntries(ADD_TEST, {}, { limit: 10 })).entries[9]?.dateAdded;
    assert.ok(!Buffer.from(env.next, 'base64url').toString('latin1').includes(String(lastDateAdded)), 'the cursor does not show its date_added');
    const other = await createHttpApp({
      store: node.store, logger: pino({ level: 'silent' }), limits: { maxBodyBytes: 1 << 20, maxJsonDepth: 64 }, clock: () => new Date(),
      randomUuid: randomUUID, homeOrganisationId: 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d', node: { title: 't', apiRootPath: 'api' },
    });
    try {
      const response = await other.inject({ url: `${objectsUrl}?limit=10&next=${env.next}`, headers: bearer('analyst') });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json<Envelope>().objects?.map((o) => o.id), Array.from({ length: 10 }, (_, i) => indicator(10 + i).id));
    } finally {
      await other.close();
    }
  });

  it('pages the manifest the same way', async () => {
    const seen = new Set<string>();
    let next: string | undefined;
    let more = true;
    while (more) {
      const response = await node.app.inject({
        url: `${API}collections/${ADD_TEST}/manifest/?limit=300${next === undefined ? '' : `&next=${next}`}`,
        headers: { ...bearer('analyst'), accept: TAXII },
      });
      const body = response.json<Envelope>();
      for (const record of body.objects ?? []) seen.add(record.id);
      more = body.more;
      next = body.next;
    }
    assert.ok(seen.size >= total);
  });
});
