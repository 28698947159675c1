import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StixObject } from '../stix/types.ts';
import { SIGNATURE_EXTENSION_ID } from './signature-extension.ts';
import { withSignatureText } from './sign-releases.ts';

const extension = { extension_type: 'property-extension', algorithm: 'Ed25519', signer: 'identity--00000000-0000-4000-8000-000000000001', key_id: 'AAAAAAAAAAAAAAAAAAAAAA', signature: 'A'.repeat(86) };
const base: StixObject = { type: 'indicator', spec_version: '2.1', id: 'indicator--00000000-0000-4000-8000-000000000001', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', pattern: "[ipv4-addr:value = '1.2.3.4']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z' };

describe('the JSON text of a signed version', () => {
  it('appends the extension to the stored text, whatever its spacing, without reserialising it', () => {
    for (const stored of [JSON.stringify(base), JSON.stringify(base, null, 2) + '\n', ` ${JSON.stringify(base)}  `]) {
      const text = withSignatureText(base, stored, JSON.stringify(extension));
      assert.ok(text.startsWith(stored.slice(0, stored.lastIndexOf('}')).trimEnd()), 'the stored text is kept as it was');
      assert.deepEqual(JSON.parse(text), { ...base, extensions: { [SIGNATURE_EXTENSION_ID]: extension } });
    }
  });

  it('keeps other extensions and replaces an Entente signature already there', () => {
    const other = { 'extension-definition--11111111-1111-4111-8111-111111111111': { extension_type: 'property-extension', rank: 3 } };
    const withOthers = { ...base, extensions: { ...other, [SIGNATURE_EXTENSION_ID]: { ...extension, signature: 'B'.repeat(86) } } } as StixObject;
    const parsed = JSON.parse(withSignatureText(withOthers, JSON.stringify(withOthers), JSON.stringify(extension))) as StixObject;
    assert.deepEqual(parsed['extensions'], { ...other, [SIGNATURE_EXTENSION_ID]: extension });
  });

  it('keeps a "__proto__" property as data', () => {
    const odd = JSON.parse('{"type":"x-odd","id":"x-odd--00000000-0000-4000-8000-000000000001","__proto__":{"polluted":true},"extensions":{}}') as StixObject;
    const parsed = JSON.parse(withSignatureText(odd, undefined, JSON.stringify(extension))) as Record<string, unknown>;
    assert.ok(Object.hasOwn(parsed, '__proto__'));
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});
