import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporaryDirectory } from '../cli/cli-kit.ts';
import { startNodeProcess } from './node-process.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';

const TAXII = 'application/taxii+json;version=2.1';

function indicator(batch: number, n: number): Record<string, unknown> {
  const suffix = (batch * 100_000 + n).toString(16).padStart(12, '0');
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--0c6f1a2b-3d4e-4f50-8a6b-${suffix}`,
    created: '2026-03-01T00:00:00.000Z',
    modified: '2026-03-01T00:00:00.000Z',
    name: `crash test ${batch}/${n}`,
    pattern: `[domain-name:value = 'c2-${batch}-${n}.example.net']`,
    pattern_type: 'stix',
    valid_from: '2026-03-01T00:00:00Z',
  };
}

interface StatusBody {
  id: string;
  success_count: number;
  successes?: { id: string; version: string }[];
}

describe('a node killed with SIGKILL in the middle of POSTs', () => {
  const data = temporaryDirectory('crash');
  after(() => data.remove());

  it('keeps every acknowledged object, and never reports success for an object that is not stored', async () => {
    const env = { ENTENTE_DATA: data.path, ENTENTE_LOG_LEVEL: 'warn' };
    const first = await startNodeProcess(['--port', '0'], env);
    const token = readFileSync(join(data.path, 'admin.token'), 'utf8').trim();
    const headers = { authorization: `Bearer ${token}`, accept: TAXII, 'content-type': TAXII };
    const collections = (await (await fetch(`${first.url}/taxii2/api/collections/`, { headers })).json()) as { collections: { id: string }[] };
    const collectionId = collections.collections[0]?.id ?? assert.fail('no collection');

    const acknowledged: StatusBody[] = [];
    let sent = 0;
    const poster = async (lane: number): Promise<void> => {
      for (let round = 0; ; round += 1) {
        const batch = lane * 1000 + round;
        const objects = Array.from({ length: 500 }, (_, n) => indicator(batch, n));
        sent += 1;
        try {
          const response = await fetch(`${first.url}/taxii2/api/collections/${collectionId}/objects/`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ objects }),
          });
          if (response.status !== 202) return;
          acknowledged.push((await response.json()) as StatusBody);
        } catch {
          return; // the node died under us: this request was never acknowledged
        }
      }
    };
    const lanes = [0, 1, 2].map((lane) => poster(lane));
    await new Promise((resolve) => setTimeout(resolve, 1500 + Math.floor(Math.random() * 1000)));
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    await Promise.all(lanes);
    assert.ok(acknowledged.length > 0, `no POST was acknowledged before the kill (sent ${sent})`);
    assert.ok(sent > acknowledged.length, 'at least one POST was cut off by the kill');

    const store = openSqliteObjectStore({ path: join(data.path, 'entente.sqlite') });
    try {
      assert.deepEqual(store.database.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
    } finally {
      await store.close();
    }

    const second = await startNodeProcess(['--port', '0'], env);
    try {
      for (const status of acknowledged) {
        const stored = await fetch(`${second.url}/taxii2/api/status/${status.id}/`, { headers });
        assert.equal(stored.status, 200, `status ${status.id} survives the crash`);
        assert.equal(((await stored.json()) as StatusBody).success_count, status.success_count);
        const ids = (status.successes ?? []).map((success) => success.id);
        assert.equal(ids.length, 500);
        let found = 0;
        // 100 ids a request keeps the URL well under Node's 16 KB request-line limit.
        for (let start = 0; start < ids.length; start += 100) {
          const query = ids.slice(start, start + 100).join(',');
          const page = (await (
            await fetch(`${second.url}/taxii2/api/collections/${collectionId}/objects/?limit=1000&match[id]=${query}`, { headers })
          ).json()) as { objects?: unknown[] };
          found += page.objects?.length ?? 0;
        }
        assert.equal(found, 500, `every success of status ${status.id} is stored`);
      }
      // Whatever is stored is whole: every batch is all there or absent, never cut in half.
      const perBatch = new Map<string, number>();
      let next: string | undefined;
      do {
        const page = (await (
          await fetch(`${second.url}/taxii2/api/collections/${collectionId}/objects/?limit=1000&match[type]=indicator${next ? `&next=${next}` : ''}`, { headers })
        ).json()) as { objects?: { name: string }[]; next?: string };
        for (const object of page.objects ?? []) {
          const batch = object.name.split(' ')[2]?.split('/')[0] ?? '?';
          perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
        }
        next = page.next;
      } while (next !== undefined);
      for (const [batch, count] of perBatch) assert.equal(count, 500, `batch ${batch} is whole`);
      assert.ok(perBatch.size >= acknowledged.length);
    } finally {
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
    }
  });
});
