import { withoutEntenteSignature } from '../stix/entente-signature.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isEntenteError } from '../errors/entente-error.ts';
import type { JsonObject, StixObject } from '../stix/types.ts';
import { validateStixObject } from '../stix/validate.ts';
import { loadSignatureExtension } from './load-signature-extension.ts';
import {
  ENTENTE_PROJECT_IDENTITY_ID,
  parseSignatureExtensionBundle,
  readSignatureExtension,
  SIGNATURE_EXTENSION_ID,
} from './signature-extension.ts';

const SIGNER = 'identity--00000000-0000-4000-8000-000000000001';
const KEY_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const SIGNATURE = Buffer.alloc(64, 7).toString('base64url');

function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { extension_type: 'property-extension', algorithm: 'Ed25519', signer: SIGNER, key_id: KEY_ID, signature: SIGNATURE, ...overrides };
}

function withExtension(extension: unknown, others: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'indicator', id: 'indicator--00000000-0000-4000-8000-000000000009', extensions: { ...others, [SIGNATURE_EXTENSION_ID]: extension } };
}

describe('the Entente signature extension', () => {
  it('is absent from objects without extensions or without its entry', () => {
    assert.deepEqual(readSignatureExtension({ type: 'indicator' }), { kind: 'absent' });
    assert.deepEqual(readSignatureExtension({ type: 'indicator', extensions: { 'extension-definition--aaaaaaaa-0000-4000-8000-000000000000': {} } }), { kind: 'absent' });
    assert.deepEqual(readSignatureExtension('not an object'), { kind: 'absent' });
  });

  it('reads the five fields, and derived only as true', () => {
    assert.deepEqual(readSignatureExtension(withExtension(body())), { kind: 'ok', extension: body() });
    assert.deepEqual(readSignatureExtension(withExtension(body({ derived: true }))), { kind: 'ok', extension: body({ derived: true }) });
  });

  it('names what is wrong with a malformed entry', () => {
    const cases: [unknown, RegExp][] = [
      ['signed', /not an object/],
      [body({ extension_type: 'toplevel-property-extension' }), /extension_type/],
      [body({ algorithm: 'RS256' }), /algorithm/],
      [body({ signer: 'identity--nope' }), /signer/],
      [body({ signer: 'organisation--00000000-0000-4000-8000-000000000001' }), /signer/],
      [body({ key_id: 'short' }), /key_id/],
      [body({ signature: Buffer.alloc(63).toString('base64url') }), /signature/],
      [body({ signature: `${SIGNATURE}==` }), /signature/],
      [body({ signature: Buffer.alloc(64, 7).toString('base64') }), /signature/],
      [body({ derived: false }), /derived/],
      [body({ note: 'unsigned text riding along' }), /fields it does not define: "note"/],
    ];
    for (const [extension, reason] of cases) {
      const reading = readSignatureExtension(withExtension(extension));
      assert.equal(reading.kind, 'malformed', JSON.stringify(extension));
      assert.match(reading.kind === 'malformed' ? reading.reason : '', reason);
    }
  });

  it('refuses a signature whose last character carries stray bits (one spelling per signature)', () => {
    // 64 bytes take 86 characters; the last one carries two unused bits.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const stray = SIGNATURE.slice(0, -1) + (alphabet[alphabet.indexOf(SIGNATURE.at(-1) ?? 'A') ^ 1] ?? '');
    assert.deepEqual(Buffer.from(stray, 'base64url'), Buffer.from(SIGNATURE, 'base64url'));
    assert.equal(readSignatureExtension(withExtension(body({ signature: stray }))).kind, 'malformed');
  });

  it('is removed with extensions when it was the only entry, and alone when there are others', () => {
    const other = { 'extension-definition--aaaaaaaa-0000-4000-8000-000000000000': { extension_type: 'property-extension', x: 1 } };
    const only = withExtension(body()) as JsonObject;
    assert.deepEqual(withoutEntenteSignature(only), { type: 'indicator', id: only['id'] });
    assert.deepEqual(withoutEntenteSignature(withExtension(body(), other) as JsonObject)['extensions'], other);
    const unsigned: JsonObject = { type: 'indicator', extensions: other };
    assert.equal(withoutEntenteSignature(unsigned), unsigned);
  });
});

describe('the shipped extension-definition (data/federation/entente-signature-extension.json)', () => {
  const shipped = loadSignatureExtension();

  it('holds the Entente project identity, an organisation', () => {
    assert.equal(shipped.identity.id, ENTENTE_PROJECT_IDENTITY_ID);
    assert.equal(shipped.identity['identity_class'], 'organization');
  });

  it('defines the signature as a property-extension, created by the project, at a fixed time', () => {
    const definition = shipped.extensionDefinition;
    assert.equal(definition.id, SIGNATURE_EXTENSION_ID);
    assert.equal(definition['spec_version'], '2.1');
    assert.equal(definition['created_by_ref'], ENTENTE_PROJECT_IDENTITY_ID);
    assert.equal(definition['name'], 'Entente signature');
    assert.equal(definition['schema'], 'https://github.com/entente/entente/blob/main/docs/federation.md#keys-and-signatures');
    assert.equal(definition['version'], '1.0.0');
    assert.deepEqual(definition['extension_types'], ['property-extension']);
    assert.equal(definition['created'], '2026-11-23T00:00:00.000Z');
    assert.equal(definition['modified'], '2026-11-23T00:00:00.000Z');
  });

  it('passes the STIX 2.1 validator without warnings', () => {
    for (const object of [shipped.identity, shipped.extensionDefinition]) {
      assert.deepEqual(validateStixObject(object), { valid: true, issues: [] });
    }
  });

  it('is read once per process', () => {
    assert.equal(loadSignatureExtension(), shipped);
  });

  it('refuses a file that is not what Entente ships, with ENT_CONFIG_INVALID', () => {
    const directory = mkdtempSync(join(tmpdir(), 'entente-signature-extension-'));
    try {
      const wrongCreator: StixObject = { ...shipped.extensionDefinition, created_by_ref: 'identity--00000000-0000-4000-8000-000000000001' };
      const files: [string, string][] = [
        ['not-json.json', '{'],
        ['wrong-creator.json', JSON.stringify({ type: 'bundle', id: 'bundle--0d8c3e4a-6f1b-4c5e-9a37-2b8f6e1d4c90', objects: [shipped.identity, wrongCreator] })],
      ];
      for (const [name, text] of files) {
        writeFileSync(join(directory, name), text);
        assert.throws(() => loadSignatureExtension(join(directory, name)), (error: unknown) => isEntenteError(error) && error.code === 'ENT_CONFIG_INVALID');
      }
      assert.throws(() => loadSignatureExtension(join(directory, 'missing.json')), (error: unknown) => isEntenteError(error) && error.code === 'ENT_CONFIG_INVALID');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('names every problem of a bundle without throwing', () => {
    const stranger: StixObject = { ...shipped.identity, id: 'identity--00000000-0000-4000-8000-000000000001' };
    const parsed = parseSignatureExtensionBundle({ type: 'bundle', id: 'bundle--0d8c3e4a-6f1b-4c5e-9a37-2b8f6e1d4c90', objects: [stranger] });
    assert.equal(parsed.ok, false);
    assert.deepEqual(parsed.ok ? [] : parsed.error, [`no identity ${ENTENTE_PROJECT_IDENTITY_ID}`, `no extension-definition ${SIGNATURE_EXTENSION_ID}`]);
    assert.equal(parseSignatureExtensionBundle(null).ok, false);
  });
});
