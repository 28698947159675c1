import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeKeyRecord } from '../store/federation-store.ts';
import type { JsonValue, StixObject } from '../stix/types.ts';
import { readDocument } from '../stix/read-documents.ts';
import { createNodeKeyPair } from './node-key.ts';
import { toNodeIdentityDocument } from './node-identity.ts';
import { readSignedBundleHeader, signedBundleOpening, SIGNED_BUNDLE_NODE_PROPERTY } from './signed-bundle.ts';

const organisation: StixObject = { type: 'identity', spec_version: '2.1', id: 'identity--00000000-0000-4000-8000-000000000001', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', name: 'CERT', identity_class: 'organization' };

function key(validFrom: string, validUntil?: string, rotationStatement?: string): NodeKeyRecord {
  const pair = createNodeKeyPair();
  return { keyId: pair.keyId, publicKey: pair.publicKey, privateKey: pair.privateKeyPkcs8, validFrom, validUntil, rotationStatement, createdAt: validFrom };
}

describe('the signed bundle file and the node identity', () => {
  const keys = [key('2026-06-01T00:00:00.000Z', undefined, '{"kind":"key-rotation"}'), key('1970-01-01T00:00:00.000Z', '2026-06-08T00:00:00.000Z')];
  const identity = toNodeIdentityDocument(organisation, keys);

  it('publishes keys oldest first, with windows and rotation statements, and nothing private', () => {
    assert.deepEqual(identity.keys.map((published) => published.key_id), [keys[1]?.keyId, keys[0]?.keyId]);
    assert.equal(identity.keys[0]?.valid_until, '2026-06-08T00:00:00.000Z');
    assert.equal('valid_until' in (identity.keys[1] ?? {}), false);
    assert.deepEqual(identity.keys[1]?.rotation_statement, { kind: 'key-rotation' });
    for (const record of keys) assert.ok(!JSON.stringify(identity).includes(record.privateKey));
  });

  it('is an ordinary STIX bundle whose node identity comes before the objects', () => {
    const object: StixObject = { type: 'malware', spec_version: '2.1', id: 'malware--00000000-0000-4000-8000-000000000002', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', name: 'x', is_family: false };
    const text = signedBundleOpening('bundle--00000000-0000-4000-8000-000000000003', identity) + '\n' + JSON.stringify(object) + '\n]}\n';
    assert.ok(text.indexOf(SIGNED_BUNDLE_NODE_PROPERTY) < text.indexOf('"objects"'));
    const value = JSON.parse(text) as JsonValue;
    const read = readDocument(value);
    assert.deepEqual(read.problems, []);
    assert.deepEqual(read.objects.map((item) => item.object), [object]);
    const header = readSignedBundleHeader(value);
    assert.ok(header.ok && header.value !== undefined);
    assert.equal(header.value.organisationId, organisation.id);
    assert.deepEqual(header.value.keys.map((published) => published.keyId), identity.keys.map((published) => published.key_id));
  });

  it('reads a bundle without a header as unsigned, and refuses a header it cannot read', () => {
    assert.deepEqual(readSignedBundleHeader({ type: 'bundle', id: 'bundle--x', objects: [] }), { ok: true, value: undefined });
    assert.equal(readSignedBundleHeader({ type: 'bundle', [SIGNED_BUNDLE_NODE_PROPERTY]: { organisation: { id: 'nope' }, keys: [] } }).ok, false);
    assert.equal(readSignedBundleHeader({ type: 'bundle', [SIGNED_BUNDLE_NODE_PROPERTY]: { ...identity, keys: [{ key_id: keys[0]?.keyId ?? '', public_key: keys[1]?.publicKey ?? '', valid_from: '2026-01-01T00:00:00Z' }] } } as unknown as JsonValue).ok, false, 'a key id that is not the hash of the key');
    assert.equal(readSignedBundleHeader([]).ok, false);
  });
});
