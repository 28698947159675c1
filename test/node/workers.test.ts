// `entente start --workers N`: N processes serve one port over one database. What one worker
// stores, every worker serves; date_added stays strictly increasing across them; a killed worker
// is replaced; SIGTERM stops them all; a `next` cursor one worker issued, another accepts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporaryDirectory } from '../cli/cli-kit.ts';
import { startNodeProcess, stopNodeProcess } from './node-process.ts';

const TAXII = 'application/taxii+json;version=2.1';

describe('a node with two worker processes', () => {
  it('serves one port and one database from both workers, and stops them all on SIGTERM', async (t) => {
    const data = temporaryDirectory('workers');
    const started = startNodeProcess(['--port', '0', '--workers', '2'], { ENTENTE_DATA: data.path, ENTENTE_LOG_LEVEL: 'warn' });
    // In every outcome, and only once the node (and with it its workers) has exited: a node still
    // running would keep writing to the directory, and could create it again. A start that fails
    // has stopped its process already.
    t.after(async () => {
      await started.then((node) => stopNodeProcess(node.child), () => undefined);
      data.remove();
    });
    const node = await started;
    try {
      assert.match(node.output(), /with 2 workers/);
      assert.equal(node.output().match(/admin token written/g)?.length, 1, 'the first start happens once, not per worker');
      const token = readFileSync(join(data.path, 'admin.token'), 'utf8').trim();
      const headers = { authorization: `Bearer ${token}`, accept: TAXII, 'content-type': TAXII };
      const collections = (await (await fetch(`${node.url}/taxii2/api/collections/`, { headers })).json()) as { collections: { id: string }[] };
      const collection = collections.collections[0]?.id ?? assert.fail('no collection');
      // Many small POSTs over fresh connections land on both workers.
      const posts = Array.from({ length: 40 }, async (_, n) => {
        const indicator = {
          type: 'indicator', spec_version: '2.1', id: `indicator--0c6f1a2b-3d4e-4f50-8a6b-${String(n).padStart(12, '0')}`,
          created: '2026-03-01T00:00:00.000Z', modified: '2026-03-01T00:00:00.000Z', pattern: `[domain-name:value = 'w${n}.example.net']`,
          pattern_type: 'stix', valid_from: '2026-03-01T00:00:00Z',
        };
        const response = await fetch(`${node.url}/taxii2/api/collections/${collection}/objects/`, { method: 'POST', headers: { ...headers, connection: 'close' }, body: JSON.stringify({ objects: [indicator] }) });
        assert.equal(response.status, 202);
      });
      await Promise.all(posts);
      const manifest = (await (await fetch(`${node.url}/taxii2/api/collections/${collection}/manifest/?match[type]=indicator&limit=1000`, { headers })).json()) as { objects: { date_added: string }[] };
      assert.equal(manifest.objects.length, 40);
      const added = manifest.objects.map((record) => record.date_added);
      assert.equal(new Set(added).size, 40, 'no two versions share a date_added across workers');
      assert.deepEqual([...added].sort(), added, 'date_added is strictly increasing in store order');
      // Both workers made the node's cursor key at once on this fresh database and use the stored
      // one: a `next` sealed by one worker opens on the other (fresh connections land on both).
      const paged: string[] = [];
      let next: string | undefined;
      for (let page = 0; page < 41; page += 1) {
        const response = await fetch(`${node.url}/taxii2/api/collections/${collection}/manifest/?match[type]=indicator&limit=1${next === undefined ? '' : `&next=${next}`}`, { headers: { ...headers, connection: 'close' } });
        assert.equal(response.status, 200, await response.clone().text());
        const body = (await response.json()) as { more: boolean; next?: string; objects?: { date_added: string }[] };
        paged.push(...(body.objects ?? []).map((record) => record.date_added));
        next = body.next;
        if (!body.more) break;
      }
      assert.deepEqual(paged, added, 'paged one at a time across workers, every version once');
    } finally {
      assert.equal(await stopNodeProcess(node.child), 0);
    }
  });
});
