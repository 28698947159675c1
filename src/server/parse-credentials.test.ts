import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCredentials } from './parse-credentials.ts';

describe('parseCredentials', () => {
  it('reads a Bearer token', () => {
    assert.deepEqual(parseCredentials('Bearer ent_abc'), { ok: true, value: 'ent_abc' });
    assert.deepEqual(parseCredentials('bearer ent_abc'), { ok: true, value: 'ent_abc' });
  });

  it('reads the password of HTTP Basic, whatever the user name (which may be empty)', () => {
    const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
    assert.deepEqual(parseCredentials(basic('alice:ent_abc')), { ok: true, value: 'ent_abc' });
    assert.deepEqual(parseCredentials(basic(':ent_abc')), { ok: true, value: 'ent_abc' });
    assert.deepEqual(parseCredentials(basic('user:pa:ss')), { ok: true, value: 'pa:ss' });
    assert.deepEqual(parseCredentials(basic('nopassword')), { ok: false, error: 'malformed' });
    assert.deepEqual(parseCredentials(basic('user:')), { ok: false, error: 'malformed' });
  });

  it('tells a missing header from a malformed one', () => {
    assert.deepEqual(parseCredentials(undefined), { ok: false, error: 'missing' });
    assert.deepEqual(parseCredentials(''), { ok: false, error: 'missing' });
    assert.deepEqual(parseCredentials('ent_abc'), { ok: false, error: 'malformed' });
    assert.deepEqual(parseCredentials('Digest abc'), { ok: false, error: 'malformed' });
    assert.deepEqual(parseCredentials('Bearer '), { ok: false, error: 'malformed' });
    assert.deepEqual(parseCredentials(`Bearer ${'x'.repeat(5000)}`), { ok: false, error: 'malformed' });
  });
});
