import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ensureNodeKey } from '../../src/federation/node-key-lifecycle.ts';
import { currentNodeKey } from '../../src/federation/node-signer.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { raceProcesses } from './racing-processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'entente-key-rotation-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ORG = 'identity--0a000000-0000-4000-8000-000000000001';
const RACER = join(import.meta.dirname, 'key-rotation-racer.ts');
const DAY = 86_400_000;

interface Rotated {
  readonly created: string;
  readonly signedBy: string;
}

// `entente key rotate` run twice at once (two operators, or a retried script) on one node: the test
// holds the write lock while both set off, so each reads the keys before either can write.
describe('two key rotations at once', () => {
  it('leave one current key, each new key announced by a statement of the key before it', async () => {
    const path = join(dir, 'store.db');
    const store = openSqliteObjectStore({ path });
    const first = await ensureNodeKey(store, new Date());
    await store.close();

    const rotated = await raceProcesses<Rotated>(path, RACER, [path, ORG, String(7 * DAY)], 2);

    const reopened = openSqliteObjectStore({ path });
    try {
      const keys = await reopened.listNodeKeys();
      assert.equal(keys.length, 3);
      assert.deepEqual(
        keys.filter((key) => key.validUntil === undefined).map((key) => key.keyId),
        [currentNodeKey(keys, new Date(Date.now() + 8 * DAY))?.keyId],
        'one key stays valid past the overlaps: the other rotation did not leave its own open beside it',
      );
      // One rotation signed with the first key, the other with the key that one made: a chain a peer
      // that pinned the first key can follow, not two keys both announced by the first.
      const signers = rotated.map((each) => each.signedBy).sort();
      const expected = [first?.keyId ?? '', ...rotated.map((each) => each.created)].filter((id) => signers.includes(id)).sort();
      assert.deepEqual(signers, expected);
      assert.notEqual(rotated[0]?.signedBy, rotated[1]?.signedBy, 'the second rotation rotates out the key the first made');
    } finally {
      await reopened.close();
    }
  });
});
