import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeKeyRecord } from '../store/federation-store.ts';
import { createNodeKeyPair } from './node-key.ts';
import { createNodeSignerProvider, currentNodeKey, nodeKeyAt } from './node-signer.ts';

const ORG = 'identity--00000000-0000-4000-8000-000000000001';

function key(validFrom: string, validUntil?: string): NodeKeyRecord {
  const pair = createNodeKeyPair();
  return { keyId: pair.keyId, publicKey: pair.publicKey, privateKey: pair.privateKeyPkcs8, validFrom, validUntil, rotationStatement: undefined, createdAt: validFrom };
}

describe('which node key signs', () => {
  const first = key('1970-01-01T00:00:00.000Z', '2026-06-08T00:00:00.000Z');
  const second = key('2026-06-01T00:00:00.000Z');
  const keys = [second, first];

  it('now: the newest key valid now (the rotated-in key during the overlap)', () => {
    assert.equal(currentNodeKey(keys, new Date('2026-05-31T23:59:59Z'))?.keyId, first.keyId);
    assert.equal(currentNodeKey(keys, new Date('2026-06-02T00:00:00Z'))?.keyId, second.keyId);
    assert.equal(currentNodeKey([first], new Date('2026-06-08T00:00:00Z')), undefined, 'valid_until is excluded');
  });

  it("a version: the key whose window holds the version's time, so that receivers find it valid then", () => {
    assert.equal(nodeKeyAt(keys, Date.parse('2024-01-01T00:00:00Z'))?.keyId, first.keyId);
    assert.equal(nodeKeyAt(keys, Date.parse('2026-06-03T00:00:00Z'))?.keyId, second.keyId);
    assert.equal(nodeKeyAt([second], Date.parse('2024-01-01T00:00:00Z')), undefined);
  });

  it('the provider caches, signs old versions with the old key, and re-reads after invalidate()', async () => {
    let reads = 0;
    let stored = [first];
    const provider = createNodeSignerProvider({
      store: { listNodeKeys: async () => { reads += 1; return stored; } },
      organisationId: ORG,
      clock: () => new Date('2026-06-02T00:00:00Z'),
    });
    assert.equal((await provider.current()).keyId, first.keyId);
    assert.equal((await provider.current()).keyId, first.keyId);
    assert.equal(reads, 1, 'one store read while cached');
    stored = keys;
    assert.equal((await provider.current()).keyId, first.keyId, 'still cached');
    provider.invalidate();
    const now = await provider.keys();
    assert.equal(reads, 2);
    assert.equal(now.current.keyId, second.keyId);
    assert.equal(now.at(Date.parse('2025-01-01T00:00:00Z')).keyId, first.keyId);
    assert.equal(now.at(undefined).keyId, second.keyId, 'a version without a time: the current key');
    assert.equal(now.current.organisationId, ORG);
  });

  it('re-reads once the cache is older than its lifetime', async () => {
    let reads = 0;
    let clock = Date.parse('2026-06-02T00:00:00Z');
    const provider = createNodeSignerProvider({ store: { listNodeKeys: async () => { reads += 1; return keys; } }, organisationId: ORG, clock: () => new Date(clock), cacheMs: 1000 });
    await provider.current();
    clock += 999;
    await provider.current();
    clock += 2;
    await provider.current();
    assert.equal(reads, 2);
  });

  it('refuses to sign without a key valid now', async () => {
    const provider = createNodeSignerProvider({ store: { listNodeKeys: async () => [first] }, organisationId: ORG, clock: () => new Date('2026-07-01T00:00:00Z') });
    await assert.rejects(provider.current(), { code: 'ENT_KEY_NOT_FOUND' });
  });
});
