import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeKeyRecord } from '../store/federation-store.ts';
import { createKeyDirectory, fingerprintOf, keyIdOf } from './node-key.ts';
import { ensureNodeKey, FIRST_KEY_VALID_FROM, manualPin, rotateNodeKey, toPublicNodeKeys } from './node-key-lifecycle.ts';
import { verifyMessage } from './signed-message.ts';

const ORG = 'identity--00000000-0000-4000-8000-000000000001';

function memoryKeys(): { keys: NodeKeyRecord[]; store: Parameters<typeof ensureNodeKey>[0] } {
  const keys: NodeKeyRecord[] = [];
  return {
    keys,
    store: {
      listNodeKeys: async () => [...keys].reverse(),
      addNodeKey: async (key) => {
        keys.push(key);
      },
      changeNodeKeys: async (decide) => {
        const { add, ends, result } = decide([...keys].reverse());
        keys.push(add);
        for (const end of ends) {
          const index = keys.findIndex((key) => key.keyId === end.keyId);
          const found = keys[index];
          if (found === undefined) throw new Error('no key');
          keys[index] = { ...found, validUntil: end.validUntil };
        }
        return result;
      },
    },
  };
}

describe('node keys over time', () => {
  it('the first start makes one key, valid from the epoch; later starts keep it', async () => {
    const { keys, store } = memoryKeys();
    const made = await ensureNodeKey(store, new Date('2026-06-01T00:00:00Z'));
    assert.ok(made !== undefined);
    assert.equal(made.validFrom, FIRST_KEY_VALID_FROM);
    assert.equal(made.keyId, keyIdOf(made.publicKey));
    assert.equal(await ensureNodeKey(store, new Date('2026-06-02T00:00:00Z')), undefined);
    assert.equal(keys.length, 1);
  });

  it('rotation: a new key from now, the old one until now + overlap, and a statement the old key signed', async () => {
    const { keys, store } = memoryKeys();
    const first = await ensureNodeKey(store, new Date('2026-01-01T00:00:00Z'));
    assert.ok(first !== undefined);
    const now = new Date('2026-06-01T12:00:00Z');
    const outcome = await rotateNodeKey(store, { organisationId: ORG, now, overlapMs: 7 * 86_400_000 });
    assert.equal(outcome.previous.keyId, first.keyId);
    assert.equal(outcome.previousValidUntil, '2026-06-08T12:00:00.000Z');
    assert.equal(keys.find((key) => key.keyId === first.keyId)?.validUntil, '2026-06-08T12:00:00.000Z');
    assert.equal(outcome.created.validFrom, now.toISOString());
    assert.equal(outcome.created.validUntil, undefined);
    assert.deepEqual(JSON.parse(outcome.created.rotationStatement ?? '{}'), outcome.statement);
    assert.equal(outcome.statement.kind, 'key-rotation');
    assert.deepEqual(outcome.statement.body, { organisation_id: ORG, key_id: outcome.created.keyId, public_key: outcome.created.publicKey, valid_from: now.toISOString() });
    const byOld = createKeyDirectory([{ organisationId: ORG, keyId: first.keyId, publicKey: first.publicKey, validFrom: first.validFrom }]);
    assert.equal(verifyMessage(outcome.statement, byOld).kind, 'verified');
    const byNew = createKeyDirectory([{ organisationId: ORG, keyId: outcome.created.keyId, publicKey: outcome.created.publicKey, validFrom: now.toISOString() }]);
    assert.notEqual(verifyMessage(outcome.statement, byNew).kind, 'verified', 'a key cannot vouch for itself');
    const shown = toPublicNodeKeys(await store.listNodeKeys(), new Date('2026-06-02T00:00:00Z'));
    assert.deepEqual(shown.map((key) => [key.keyId, key.current]), [[outcome.created.keyId, true], [first.keyId, false]]);
    assert.equal(shown[0]?.fingerprint, fingerprintOf(outcome.created.publicKey));
    assert.ok(!JSON.stringify(shown).includes(first.privateKey), 'the public view never holds a private key');
  });

  it('a second rotation during the overlap shortens nothing that ends sooner, and is signed by the newest key', async () => {
    const { keys, store } = memoryKeys();
    await ensureNodeKey(store, new Date('2026-01-01T00:00:00Z'));
    const one = await rotateNodeKey(store, { organisationId: ORG, now: new Date('2026-06-01T00:00:00Z'), overlapMs: 86_400_000 });
    const two = await rotateNodeKey(store, { organisationId: ORG, now: new Date('2026-06-01T01:00:00Z'), overlapMs: 7 * 86_400_000 });
    assert.equal(two.previous.keyId, one.created.keyId);
    assert.equal(keys.find((key) => key.keyId === one.previous.keyId)?.validUntil, '2026-06-02T00:00:00.000Z');
    assert.equal(keys.find((key) => key.keyId === one.created.keyId)?.validUntil, '2026-06-08T01:00:00.000Z');
  });

  it('refuses to rotate without a valid key, and a negative overlap', async () => {
    const { store } = memoryKeys();
    await assert.rejects(rotateNodeKey(store, { organisationId: ORG, now: new Date(), overlapMs: 0 }), { code: 'ENT_KEY_NOT_FOUND' });
    await ensureNodeKey(store, new Date());
    await assert.rejects(rotateNodeKey(store, { organisationId: ORG, now: new Date(), overlapMs: -1 }), { code: 'ENT_CLI_USAGE' });
  });

  it('a key pinned by hand is checked: organisation, key, window', () => {
    const { publicKey } = { publicKey: 'O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik' };
    const pin = manualPin({ organisationId: ORG, publicKey, validFrom: FIRST_KEY_VALID_FROM, now: new Date('2026-06-01T00:00:00Z') });
    assert.equal(pin.keyId, keyIdOf(publicKey));
    assert.equal(pin.source, 'manual');
    for (const bad of [
      { organisationId: 'identity--nope', publicKey, validFrom: FIRST_KEY_VALID_FROM },
      { organisationId: ORG, publicKey: publicKey.slice(1), validFrom: FIRST_KEY_VALID_FROM },
      { organisationId: ORG, publicKey, validFrom: 'yesterday' },
      { organisationId: ORG, publicKey, validFrom: '2026-06-01T00:00:00Z', validUntil: '2026-05-01T00:00:00Z' },
    ]) {
      assert.throws(() => manualPin({ ...bad, now: new Date() }), { code: 'ENT_CLI_USAGE' }, JSON.stringify(bad));
    }
  });
});
