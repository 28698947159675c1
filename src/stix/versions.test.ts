import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions } from '../store/compare-versions.ts';
import { isStixTimestamp } from './micro-timestamp.ts';
import { ENTENTE_SIGNATURE_EXTENSION_ID } from './entente-signature.ts';
import type { StixObject } from './types.ts';
import { contentVersionOf, isUnversioned, versionOf } from './versions.ts';

const address: StixObject = { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd', value: '198.51.100.3' };
const red: StixObject = { ...address, object_marking_refs: ['marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1'] };

describe('versionOf', () => {
  it('is `modified`, else `created`, for a versioned object', () => {
    assert.equal(versionOf({ type: 'indicator', id: 'indicator--1', created: '2025-01-01T00:00:00Z', modified: '2025-02-01T00:00:00Z' }), '2025-02-01T00:00:00Z');
    assert.equal(versionOf({ type: 'marking-definition', id: 'marking-definition--1', created: '2025-01-01T00:00:00Z' }), '2025-01-01T00:00:00Z');
  });

  it('is the content key for an object with neither (an SCO)', () => {
    assert.equal(isUnversioned(address), true);
    assert.equal(versionOf(address), contentVersionOf(address));
  });

  it('is the content key for an SCO even when it carries `modified` or `created`: they are no SCO properties and would outrank every content', () => {
    const dated: StixObject = { ...address, value: '203.0.113.7', modified: '2026-05-31T00:00:00.000Z', created: '2026-05-31T00:00:00.000Z' };
    assert.equal(isUnversioned(dated), true);
    assert.equal(versionOf(dated), contentVersionOf(dated));
    assert.equal(versionOf({ ...address, created: '2026-05-31T00:00:00.000Z' }), contentVersionOf({ ...address, created: '2026-05-31T00:00:00.000Z' }));
  });

  it('still reads `modified`/`created` of a custom object that carries them', () => {
    const custom: StixObject = { type: 'x-acme-thing', id: 'x-acme-thing--1', created: '2025-01-01T00:00:00.000Z', modified: '2025-02-01T00:00:00.000Z' };
    assert.equal(isUnversioned(custom), false);
    assert.equal(versionOf(custom), '2025-02-01T00:00:00.000Z');
  });
});

describe('contentVersionOf', () => {
  it('gives two contents of one SCO two versions', () => {
    assert.notEqual(contentVersionOf(address), contentVersionOf(red));
    assert.notEqual(compareVersions(contentVersionOf(address), contentVersionOf(red)), 0);
  });

  it('is the same for the same content whatever its spelling: key order, and the Entente signature, do not count', () => {
    const reordered = JSON.parse('{"value":"198.51.100.3","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","spec_version":"2.1","type":"ipv4-addr"}') as StixObject;
    const signed: StixObject = { ...address, extensions: { [ENTENTE_SIGNATURE_EXTENSION_ID]: { extension_type: 'property-extension', signature: 'x' } } };
    assert.equal(contentVersionOf(reordered), contentVersionOf(address));
    assert.equal(contentVersionOf(signed), contentVersionOf(address));
  });

  it('counts every other extension as content', () => {
    const withExtension: StixObject = { ...address, extensions: { 'x-acme-geo': { country: 'NL' } } };
    assert.notEqual(contentVersionOf(withExtension), contentVersionOf(address));
  });

  it('is a STIX timestamp with nine fractional digits that reads as no real time (1970 to 1988)', () => {
    for (let octet = 0; octet < 200; octet += 1) {
      const version = contentVersionOf({ ...address, value: `198.51.100.${octet}` });
      assert.match(version, /^19(?:7\d|8[0-8])-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      assert.equal(isStixTimestamp(version), true, version);
    }
  });

  it('is fixed across releases: nodes running different builds must name the same version alike', () => {
    assert.equal(contentVersionOf(address), contentVersionOf(structuredClone(address)));
    assert.equal(contentVersionOf(address), PINNED_KEY_OF_ADDRESS);
  });
});

/** Computed once with the first release of content keys; a change here breaks recalls and signatures between nodes. */
const PINNED_KEY_OF_ADDRESS = '1973-06-12T10:53:40.049507536Z';
