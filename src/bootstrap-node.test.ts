import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ensureNodeInitialised } from './bootstrap-node.ts';
import { openSqliteObjectStore } from './store/sqlite/sqlite-object-store.ts';
import { CURSOR_KEY_META, loadCursorKey } from './taxii/cursor-key.ts';

describe('ensureNodeInitialised', () => {
  it('makes the TAXII cursor key at the first start (before `start --workers` forks) and keeps it afterwards', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      const inputs = { orgName: 'Test CERT', now: new Date('2026-11-24T00:00:00Z'), randomUuid: randomUUID, randomBytes: (size: number) => randomBytes(size) };
      await ensureNodeInitialised(store, inputs);
      const made = await store.getMeta(CURSOR_KEY_META);
      assert.equal(Buffer.from(made ?? '', 'base64').length, 32);
      await loadCursorKey(store); // the key the TAXII server will read is one it accepts
      await ensureNodeInitialised(store, inputs);
      assert.equal(await store.getMeta(CURSOR_KEY_META), made, 'the same key on every later start');
    } finally {
      await store.close();
    }
  });
});
