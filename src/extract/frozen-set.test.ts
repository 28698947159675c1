import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrozenSet } from './frozen-set.ts';
import { loadExtractData } from './load-extract-data.ts';

test('a frozen set holds what it was built from and refuses every change', () => {
  const set = new FrozenSet(['com', 'org']);
  assert.deepEqual([...set], ['com', 'org']);
  assert.throws(() => set.add('zz'), /frozen/);
  assert.throws(() => set.delete('com'), /frozen/);
  assert.throws(() => set.clear(), /frozen/);
  assert.deepEqual([...set], ['com', 'org']);
});

test('the bundled TLD set, shared by every extraction of the process, cannot be changed by one caller', () => {
  const { tlds } = loadExtractData();
  assert.ok(tlds.has('com'));
  assert.throws(() => (tlds as Set<string>).add('not-a-tld'), /frozen/);
  assert.equal(tlds.has('not-a-tld'), false);
});
