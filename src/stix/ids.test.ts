import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomStixId, SCO_ID_CONTRIBUTING_PROPERTIES, scoId } from './ids.ts';

function idOf(type: string, object: Parameters<typeof scoId>[1]): string {
  const result = scoId(type, object);
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  return result.value;
}

describe('scoId: STIX 2.1 deterministic SCO identifiers', () => {
  // Expected values from OASIS cti-python-stix2, stix2/test/v21/test_deterministic_ids.py.
  it('matches cti-python-stix2 for a file with a PE extension (hashes, name, extensions contribute; size does not)', () => {
    const file = {
      name: 'example.exe',
      size: 68000,
      magic_number_hex: '50000000',
      hashes: { 'SHA-256': '841a8921140aba50671ebb0770fecc4ee308c4952cfeff8de154ab14eeef4649' },
      extensions: {
        'windows-pebinary-ext': {
          pe_type: 'exe',
          machine_hex: '014c',
          sections: [{ name: '.data', size: 4096, entropy: 7.980693, hashes: { 'SHA-256': '6e3b6f3978e5cd96ba7abee35c24e867b7e64072e2ecb22d0ee7a6e6af6894d0' } }],
        },
      },
    };
    assert.equal(idOf('file', file), 'file--ced31cd4-bdcb-537d-aefa-92d291bfc11d');
  });

  it('matches cti-python-stix2 for a registry key identified by its values', () => {
    const key = { values: [{ name: 'Foo', data: 'qwerty' }, { name: 'Bar', data: '42' }] };
    assert.equal(idOf('windows-registry-key', key), 'windows-registry-key--36594eba-bcc7-5014-9835-0e154264e588');
  });

  it('is UUIDv5 (version nibble 5, RFC 4122 variant)', () => {
    assert.match(idOf('ipv4-addr', { value: '198.51.100.3' }), /^ipv4-addr--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('ignores properties that do not contribute and the order of keys', () => {
    const a = idOf('email-addr', { value: 'john@example.com', display_name: 'Johnny Doe' });
    const b = idOf('email-addr', { display_name: 'Janey Doe', value: 'john@example.com' });
    assert.equal(a, b);
    assert.notEqual(a, idOf('email-addr', { value: 'jane@example.com' }));
  });

  it('uses one hash, MD5 before SHA-1, SHA-256, SHA-512, so partial hash sets agree', () => {
    const md5 = '8764605c6f388c89096b534d33565802';
    const both = idOf('file', { hashes: { 'SHA-256': 'ec5aedf5ecc6bdadd4120932170d1b10f6cfa175cfda22951dfd882928ab279b', MD5: md5 } });
    assert.equal(both, idOf('file', { hashes: { MD5: md5 } }));
    assert.equal(idOf('file', { hashes: { 'SHA-1': 'a', 'SHA-512': 'b' } }), idOf('file', { hashes: { 'SHA-1': 'a' } }));
  });

  it('reports no deterministic id for process (no contributing properties) or when none is present', () => {
    const process = scoId('process', { pid: 1 });
    assert.equal(process.ok ? '' : process.error.code, 'no-contributing-properties');
    const message = scoId('email-message', { is_multipart: false });
    assert.equal(message.ok ? '' : message.error.code, 'no-contributing-properties');
  });

  it('reports custom SCO types, empty hashes and uncanonicalisable values as problems, never throwing', () => {
    const custom = scoId('x-acme-thing', { value: 'a' });
    assert.equal(custom.ok ? '' : custom.error.code, 'unknown-sco-type');
    // A type is the sender's text: one named after a property every object has is no SCO type either.
    for (const type of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const inherited = scoId(type, { value: 'a' });
      assert.equal(inherited.ok ? '' : inherited.error.code, 'unknown-sco-type', type);
    }
    const empty = scoId('file', { hashes: {} });
    assert.equal(empty.ok ? '' : empty.error.code, 'empty-hashes');
    const lone = scoId('url', { value: 'http://a/\uD800' });
    assert.equal(lone.ok ? '' : lone.error.code, 'not-canonicalizable');
  });

  it('keeps a "__proto__" dictionary key as data when it contributes', () => {
    const hashes = JSON.parse('{"__proto__": "abc"}') as Record<string, string>;
    assert.match(idOf('file', { hashes }), /^file--/);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
  });

  it('covers every SCO type of STIX 2.1', () => {
    assert.deepEqual(Object.keys(SCO_ID_CONTRIBUTING_PROPERTIES).sort(), [
      'artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message', 'file', 'ipv4-addr',
      'ipv6-addr', 'mac-addr', 'mutex', 'network-traffic', 'process', 'software', 'url', 'user-account',
      'windows-registry-key', 'x509-certificate',
    ]);
  });
});

describe('randomStixId', () => {
  it('joins the type and the UUID the caller generates', () => {
    assert.equal(randomStixId('indicator', () => 'E1B2C3D4-0000-4000-8000-000000000001'), 'indicator--e1b2c3d4-0000-4000-8000-000000000001');
  });
});
