import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { startSqliteWalCheckpointer } from '../../src/store/sqlite/sqlite-wal-checkpointer.ts';
import { startBackgroundCheckpoints } from '../../src/store/ingest.ts';
import type { StixObject } from '../../src/stix/types.ts';

const workDir = mkdtempSync(join(tmpdir(), 'entente-checkpointer-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

function indicators(count: number, from: number): StixObject[] {
  return Array.from({ length: count }, (_, index) => {
    const n = from + index;
    return {
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${n.toString(16).padStart(8, '0')}-1111-4111-8111-111111111111`,
      created: '2026-01-01T00:00:00.000Z',
      modified: '2026-01-01T00:00:00.000Z',
      name: `indicator number ${n}`,
      description: 'x'.repeat(2000),
      pattern: `[ipv4-addr:value = '10.0.${Math.floor(n / 256) % 256}.${n % 256}']`,
      pattern_type: 'stix',
      valid_from: '2026-01-01T00:00:00Z',
    } as StixObject;
  });
}

describe('background WAL checkpoints during an import', () => {
  it('copy committed transactions into the database file while the writing connection stays open', async () => {
    const path = join(workDir, 'copied.sqlite');
    const store = openSqliteObjectStore({ path });
    await store.createCollection({ id: 'c', title: 'C' }, new Date('2026-01-01T00:00:00Z'));
    const sizeBefore = statSync(path).size;
    const checkpoints = startBackgroundCheckpoints(store);
    assert.ok(checkpoints !== undefined, 'a file-backed SQLite store checkpoints in the background');
    for (let batch = 0; batch < 3; batch += 1) {
      await store.addObjects('c', indicators(200, batch * 200));
      checkpoints.requestCheckpoint();
    }
    await checkpoints.close();
    // The pages of 600 objects of ~2 KB are in the database file before the store closes.
    assert.ok(statSync(path).size > sizeBefore + 600 * 2000, `database file ${statSync(path).size} B, was ${sizeBefore} B`);
    await store.close();
    const reopened = openSqliteObjectStore({ path });
    try {
      assert.equal((await reopened.countEntries('c')).objects, 600);
    } finally {
      await reopened.close();
    }
  });

  it('are not offered for an in-memory store, which has no log', () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    assert.equal(startBackgroundCheckpoints(store), undefined);
  });

  it('give up quietly when the file cannot be opened: the close of the store still checkpoints', async () => {
    const checkpoints = startSqliteWalCheckpointer(join(workDir, 'absent', 'none.sqlite'));
    checkpoints.requestCheckpoint();
    await checkpoints.close();
    checkpoints.requestCheckpoint();
    await checkpoints.close();
  });
});
