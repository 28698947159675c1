import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntenteError } from '../errors/entente-error.ts';
import { parseDraftUploadBody, type DraftUploadBody } from './draft-upload-body.ts';

const bodyOf = (bytes: Uint8Array): DraftUploadBody => ({ bytes, createdBy: 'ana', maxJsonDepth: 64, maxBodyBytes: 64 * 1024 * 1024 });

describe('the raw body of POST /api/drafts (parseDraftUploadBody)', () => {
  it('reads a UTF-8 body into its upload, characters beyond ASCII included', () => {
    const upload = parseDraftUploadBody(bodyOf(Buffer.from(JSON.stringify({ text: 'C2 à 45.77.12.3 — 🚩' }))));
    assert.equal(Buffer.from(upload.bytes).toString('utf8'), 'C2 à 45.77.12.3 — 🚩');
  });

  // JSON between systems is UTF-8 (RFC 8259, 8.1). Read leniently, each bad byte became U+FFFD in the
  // report's text: the draft held a text the sender never wrote (an indicator with a character in
  // it no one typed), its sha256 that of the altered text, and nothing told the analyst.
  for (const [what, bad] of [
    ['a byte that starts no character (0xff)', [0xff]],
    ['a sequence cut short (0xe2 0x82)', [0xe2, 0x82]],
    ['an overlong form of "/" (0xc0 0xaf)', [0xc0, 0xaf]],
    ['a UTF-16 surrogate written as UTF-8 (0xed 0xa0 0x80)', [0xed, 0xa0, 0x80]],
  ] as const) {
    it(`refuses a body that is not UTF-8 (${what}) with ENT_INPUT_MALFORMED_JSON naming the byte`, () => {
      const before = Buffer.from('{"text": "C2 evil');
      const bytes = Buffer.concat([before, Buffer.from(bad), Buffer.from('.example.com 45.77.12.3"}')]);
      assert.throws(() => parseDraftUploadBody(bodyOf(bytes)), (error: unknown) => {
        assert.ok(error instanceof EntenteError);
        assert.equal(error.code, 'ENT_INPUT_MALFORMED_JSON');
        assert.match(error.message, /not UTF-8/);
        assert.deepEqual(error.details, { offset: before.length });
        return true;
      });
    });
  }
});
