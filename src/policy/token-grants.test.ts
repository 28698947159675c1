import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatTokenGrants, parseTokenGrants } from './token-grants.ts';

describe('token grants (--collections C1:rw,C2:r)', () => {
  it('reads read, write and read-write grants', () => {
    const parsed = parseTokenGrants('alpha:rw, beta:r,gamma:w');
    assert.deepEqual(parsed, {
      ok: true,
      value: [
        { collectionId: 'alpha', read: true, write: true },
        { collectionId: 'beta', read: true, write: false },
        { collectionId: 'gamma', read: false, write: true },
      ],
    });
    assert.ok(parsed.ok);
    assert.equal(formatTokenGrants(parsed.value), 'alpha:rw,beta:r,gamma:w');
  });

  it('keeps collection ids that contain colons (the rights follow the last colon)', () => {
    assert.deepEqual(parseTokenGrants('urn:x:1:r'), { ok: true, value: [{ collectionId: 'urn:x:1', read: true, write: false }] });
  });

  for (const [spec, expected] of [
    ['', 'at least one'],
    ['alpha', 'must be COLLECTION:r'],
    [':r', 'must be COLLECTION:r'],
    ['alpha:x', 'rights must be r, w or rw, not "x"'],
    ['alpha:r,alpha:w', 'granted twice'],
  ] as const) {
    it(`rejects ${JSON.stringify(spec)} naming the problem`, () => {
      const parsed = parseTokenGrants(spec);
      assert.equal(parsed.ok, false);
      assert.ok(!parsed.ok && parsed.error.includes(expected), !parsed.ok ? parsed.error : '');
    });
  }
});
