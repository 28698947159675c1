import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scoId } from './ids.ts';
import { validateBundle, validateStixObject, type ValidationReport } from './validate.ts';

const ID = '8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f';
const IDENTITY = `identity--${ID}`;
const TLP_GREEN = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';
const T0 = '2024-01-01T00:00:00.000Z';
const T1 = '2024-02-01T00:00:00.000Z';

type Obj = Record<string, unknown>;

function sdo(type: string, props: Obj = {}): Obj {
  return { type, spec_version: '2.1', id: `${type}--${ID}`, created: T0, modified: T0, ...props };
}
/** An SCO with the id STIX 2.1 derives from its ID Contributing Properties, else a random (UUIDv4) one. */
function sco(type: string, props: Obj = {}): Obj {
  const derived = scoId(type, props as Parameters<typeof scoId>[1]);
  return { type, id: derived.ok ? derived.value : `${type}--${ID}`, ...props };
}
const indicator = (props: Obj = {}): Obj =>
  sdo('indicator', { pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: T0, ...props });

function codes(report: ValidationReport, severity: 'error' | 'warning' = 'error'): string[] {
  return report.issues.filter((i) => i.severity === severity).map((i) => i.code);
}
function issueAt(report: ValidationReport, path: string): string[] {
  return report.issues.filter((i) => i.path === path).map((i) => i.code);
}
function assertValid(value: unknown): void {
  const report = validateStixObject(value);
  assert.deepEqual(codes(report), [], JSON.stringify(report.issues));
  assert.equal(report.valid, true);
}

describe('validateStixObject', () => {
  describe('common properties', () => {
    it('accepts a minimal indicator', () => assertValid(indicator()));

    it('names a quoted key the same way every time it is met, under any parent, long keys cut', () => {
      const long = `x-${'a'.repeat(400)}`;
      for (let round = 0; round < 3; round += 1) {
        const report = validateStixObject(indicator({ extensions: { 'Bad Key': {}, [long]: 1 } }));
        assert.deepEqual(issueAt(report, '$.extensions["Bad Key"]'), ['STIX_EXTENSION_KEY_INVALID'], JSON.stringify(report.issues));
        assert.deepEqual(issueAt(report, `$.extensions[${JSON.stringify(`${long.slice(0, 100)}…`)}]`), ['STIX_EXTENSION_KEY_INVALID']);
        const nested = validateStixObject(sco('file', { hashes: { 'Bad Key': 'x' } }));
        assert.ok(nested.issues.some((issue) => issue.path === '$.hashes["Bad Key"]'), JSON.stringify(nested.issues));
      }
    });

    it('requires type, spec_version, id, created and modified on SDOs', () => {
      for (const key of ['spec_version', 'id', 'created', 'modified']) {
        const object = indicator();
        delete object[key];
        const report = validateStixObject(object);
        assert.deepEqual(issueAt(report, `$.${key}`), ['STIX_REQUIRED_PROPERTY_MISSING'], key);
      }
      assert.deepEqual(codes(validateStixObject({ id: `indicator--${ID}` })), ['STIX_REQUIRED_PROPERTY_MISSING']);
    });

    it('requires only type and id on SCOs, and spec_version 2.1 when present', () => {
      assertValid(sco('ipv4-addr', { value: '198.51.100.1' }));
      assert.deepEqual(codes(validateStixObject(sco('ipv4-addr', { value: '198.51.100.1', spec_version: '2.0' }))), ['STIX_SPEC_VERSION_INVALID']);
    });

    it('rejects spec_version other than "2.1"', () => {
      assert.deepEqual(issueAt(validateStixObject(indicator({ spec_version: '2.0' })), '$.spec_version'), ['STIX_SPEC_VERSION_INVALID']);
    });

    it('checks the id: type prefix equal to type, RFC 4122 UUID', () => {
      assert.deepEqual(codes(validateStixObject(indicator({ id: `malware--${ID}` }))), ['STIX_ID_TYPE_MISMATCH']);
      assert.deepEqual(codes(validateStixObject(indicator({ id: 'indicator--1234' }))), ['STIX_ID_INVALID']);
      // Version nibble 0 and variant c are not RFC 4122.
      assert.deepEqual(codes(validateStixObject(indicator({ id: 'indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f' }))), ['STIX_ID_INVALID']);
      assert.deepEqual(codes(validateStixObject(indicator({ id: 'indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f' }))), ['STIX_ID_INVALID']);
      assert.deepEqual(codes(validateStixObject(indicator({ id: 12 }))), ['STIX_PROPERTY_WRONG_TYPE']);
    });

    it('warns when an SDO id is not UUIDv4 or uses uppercase hex', () => {
      const v1 = validateStixObject(indicator({ id: 'indicator--8e2e2d2b-17d4-1cbf-938f-98ee46b3cd3f' }));
      assert.equal(v1.valid, true);
      assert.deepEqual(codes(v1, 'warning'), ['STIX_ID_UUID_VERSION']);
      assert.deepEqual(codes(validateStixObject(indicator({ id: `indicator--${ID.toUpperCase()}` })), 'warning'), ['STIX_ID_UPPERCASE']);
    });

    it('requires RFC 3339 UTC timestamps, millisecond precision for created/modified, modified >= created', () => {
      assert.deepEqual(codes(validateStixObject(indicator({ created: '2024-01-01T00:00:00+01:00' }))), ['STIX_TIMESTAMP_INVALID']);
      assert.deepEqual(codes(validateStixObject(indicator({ created: '2023-02-29T00:00:00.000Z' }))), ['STIX_TIMESTAMP_INVALID']);
      assert.deepEqual(codes(validateStixObject(indicator({ created: '2024-01-01T00:00:00Z', modified: T1 }))), ['STIX_TIMESTAMP_PRECISION']);
      assert.deepEqual(issueAt(validateStixObject(indicator({ created: T1, modified: T0 })), '$.modified'), ['STIX_MODIFIED_BEFORE_CREATED']);
      // Fractions of different length compare as numbers.
      assertValid(indicator({ created: '2024-01-01T00:00:00.5Z'.replace('.5Z', '.500Z'), modified: '2024-01-01T00:00:00.5000Z' }));
      assertValid(indicator({ created: '2016-12-31T23:59:60.000Z', modified: '2016-12-31T23:59:60.000Z', valid_from: '2016-12-31T23:59:60Z' }));
    });

    it('restricts the target type of created_by_ref and object_marking_refs', () => {
      assertValid(indicator({ created_by_ref: IDENTITY, object_marking_refs: [TLP_GREEN] }));
      assert.deepEqual(issueAt(validateStixObject(indicator({ created_by_ref: `malware--${ID}` })), '$.created_by_ref'), ['STIX_REF_TARGET_TYPE']);
      assert.deepEqual(issueAt(validateStixObject(indicator({ object_marking_refs: [IDENTITY] })), '$.object_marking_refs[0]'), ['STIX_REF_TARGET_TYPE']);
      assert.deepEqual(issueAt(validateStixObject(indicator({ created_by_ref: 'ACME' })), '$.created_by_ref'), ['STIX_REF_INVALID']);
    });

    it('checks confidence, labels, lang and revoked types and ranges', () => {
      assertValid(indicator({ confidence: 0, labels: ['apt'], lang: 'en-GB', revoked: false }));
      assert.deepEqual(codes(validateStixObject(indicator({ confidence: 101 }))), ['STIX_VALUE_OUT_OF_RANGE']);
      assert.deepEqual(codes(validateStixObject(indicator({ confidence: 50.5 }))), ['STIX_PROPERTY_WRONG_TYPE']);
      assert.deepEqual(codes(validateStixObject(indicator({ labels: [] }))), ['STIX_EMPTY_LIST']);
      assert.deepEqual(codes(validateStixObject(indicator({ labels: [1] }))), ['STIX_PROPERTY_WRONG_TYPE']);
      assert.deepEqual(codes(validateStixObject(indicator({ lang: 'english please' }))), ['STIX_LANG_INVALID']);
      assert.deepEqual(codes(validateStixObject(indicator({ revoked: 'no' }))), ['STIX_PROPERTY_WRONG_TYPE']);
      assert.deepEqual(codes(validateStixObject(indicator({ description: null }))), ['STIX_NULL_VALUE']);
    });

    it('checks external references: source_name, one more property, CVE and CAPEC ids', () => {
      assertValid(indicator({ external_references: [{ source_name: 'capec', external_id: 'CAPEC-163' }, { source_name: 'blog', url: 'https://example.org/a%20b' }] }));
      const report = validateStixObject(
        indicator({
          external_references: [{ url: 'https://example.org' }, { source_name: 'x' }, { source_name: 'cve', external_id: 'CVE-21-1' }, { source_name: 'nvd', external_id: 'CVE-2021-44228' }, { source_name: 'x', url: 'not a url' }],
        }),
      );
      assert.deepEqual(issueAt(report, '$.external_references[0].source_name'), ['STIX_REQUIRED_PROPERTY_MISSING']);
      assert.deepEqual(issueAt(report, '$.external_references[1]'), ['STIX_EXTERNAL_REFERENCE_INCOMPLETE']);
      assert.deepEqual(issueAt(report, '$.external_references[2].external_id'), ['STIX_EXTERNAL_ID_INVALID']);
      assert.deepEqual(issueAt(report, '$.external_references[3].source_name'), ['STIX_EXTERNAL_REFERENCE_SOURCE']);
      assert.deepEqual(issueAt(report, '$.external_references[4].url'), ['STIX_URL_INVALID']);
    });

    it('checks granular markings: selectors resolve, exactly one of marking_ref or lang', () => {
      assertValid(indicator({ description: 'd', external_references: [{ source_name: 's', url: 'https://x.org' }], granular_markings: [{ selectors: ['description', 'external_references.[0].url'], marking_ref: TLP_GREEN }, { selectors: ['pattern'], lang: 'en' }] }));
      const report = validateStixObject(indicator({ granular_markings: [{ selectors: ['nope', 'Bad Selector'], marking_ref: TLP_GREEN }, { selectors: ['pattern'] }] }));
      assert.deepEqual(issueAt(report, '$.granular_markings[0].selectors[0]'), ['STIX_SELECTOR_UNRESOLVED']);
      assert.deepEqual(issueAt(report, '$.granular_markings[0].selectors[1]'), ['STIX_SELECTOR_INVALID']);
      assert.deepEqual(issueAt(report, '$.granular_markings[1]'), ['STIX_GRANULAR_MARKING_TARGET']);
    });

    it('checks kill chain phases and warns on non-lowercase names', () => {
      const report = validateStixObject(indicator({ kill_chain_phases: [{ kill_chain_name: 'Lockheed', phase_name: 'delivery' }, { phase_name: 'x' }] }));
      assert.deepEqual(issueAt(report, '$.kill_chain_phases[0].kill_chain_name'), ['STIX_NAME_FORMAT']);
      assert.deepEqual(issueAt(report, '$.kill_chain_phases[1].kill_chain_name'), ['STIX_REQUIRED_PROPERTY_MISSING']);
    });

    it('checks hashes: vocabulary names, value formats', () => {
      assertValid(sco('file', { hashes: { MD5: 'a'.repeat(32), 'SHA-256': 'B'.repeat(64), x_custom: 'v' } }));
      const report = validateStixObject(sco('file', { hashes: { MD5: 'xyz', sha256: 'a'.repeat(64), 'SHA-1': 5 } }));
      assert.deepEqual(issueAt(report, '$.hashes.MD5'), ['STIX_HASH_VALUE_INVALID']);
      assert.deepEqual(issueAt(report, '$.hashes.sha256'), ['STIX_HASH_ALGORITHM_UNKNOWN']);
      assert.match(report.issues.find((i) => i.path === '$.hashes.sha256')?.message ?? '', /SHA-256/);
      assert.deepEqual(issueAt(report, '$.hashes["SHA-1"]'), ['STIX_PROPERTY_WRONG_TYPE']);
    });
  });

  describe('deterministic SCO identifiers (STIX 2.1 §2.9)', () => {
    const realId = 'ipv4-addr--' + '00000000-0000-5000-8000-000000000000';
    const idOf = (type: string, props: Obj): string => {
      const r = scoId(type, props as Parameters<typeof scoId>[1]);
      assert.ok(r.ok);
      return r.value;
    };

    it('accepts a UUIDv5 id equal to the one its ID Contributing Properties give, whatever else the SCO holds', () => {
      assertValid({ type: 'ipv4-addr', spec_version: '2.1', id: idOf('ipv4-addr', { value: '198.51.100.77' }), value: '198.51.100.77', x_note: 'not contributing' });
      const hashes = { 'SHA-256': 'a'.repeat(64), MD5: 'b'.repeat(32) };
      assertValid({ type: 'file', spec_version: '2.1', id: idOf('file', { hashes, name: 'a.exe' }), hashes, name: 'a.exe', size: 3 });
    });

    it('rejects a UUIDv5 id of another value, naming the id the value gives', () => {
      const forged = { type: 'ipv4-addr', spec_version: '2.1', id: idOf('ipv4-addr', { value: '198.51.100.77' }), value: '203.0.113.7' };
      const report = validateStixObject(forged);
      assert.deepEqual(issueAt(report, '$.id'), ['STIX_SCO_ID_MISMATCH']);
      assert.equal(report.valid, false);
      const message = report.issues.find((i) => i.code === 'STIX_SCO_ID_MISMATCH')?.message ?? '';
      assert.ok(message.includes(idOf('ipv4-addr', { value: '203.0.113.7' })), message);
    });

    it('rejects a UUIDv5 id when a contributing property was added, changed or dropped', () => {
      const hashes = { 'SHA-256': 'a'.repeat(64) };
      const id = idOf('file', { hashes });
      assert.deepEqual(codes(validateStixObject({ type: 'file', spec_version: '2.1', id, hashes, name: 'other.exe' })), ['STIX_SCO_ID_MISMATCH']);
      assert.deepEqual(codes(validateStixObject({ type: 'file', spec_version: '2.1', id, hashes: { 'SHA-256': 'c'.repeat(64) } })), ['STIX_SCO_ID_MISMATCH']);
    });

    it('rejects a UUIDv5 id on an SCO none of whose ID Contributing Properties is present: no id can be derived', () => {
      const report = validateStixObject({ type: 'user-account', spec_version: '2.1', id: realId.replace('ipv4-addr', 'user-account'), display_name: 'x' });
      assert.deepEqual(codes(report), ['STIX_SCO_ID_MISMATCH']);
    });

    it('accepts a random (UUIDv4) SCO id, as the spec allows', () => {
      assertValid({ type: 'ipv4-addr', spec_version: '2.1', id: `ipv4-addr--${ID}`, value: '203.0.113.7' });
    });

    it('only warns about a UUIDv5 process id: a process has no ID Contributing Properties', () => {
      const report = validateStixObject({ type: 'process', spec_version: '2.1', id: realId.replace('ipv4-addr', 'process'), pid: 4 });
      assert.equal(report.valid, true, JSON.stringify(report.issues));
      assert.deepEqual(codes(report, 'warning'), ['STIX_ID_UUID_VERSION']);
    });

    it('warns that created and modified are no SCO properties', () => {
      const report = validateStixObject(sco('ipv4-addr', { spec_version: '2.1', value: '198.51.100.1', created: T0, modified: T1 }));
      assert.equal(report.valid, true);
      assert.ok(issueAt(report, '$.modified').includes('STIX_SCO_VERSION_PROPERTY'));
      assert.ok(issueAt(report, '$.created').includes('STIX_SCO_VERSION_PROPERTY'));
    });
  });

  describe('vocabularies', () => {
    it('warns for values outside an open vocabulary', () => {
      const report = validateStixObject(indicator({ indicator_types: ['malicious-activity', 'weird'] }));
      assert.equal(report.valid, true);
      assert.deepEqual(issueAt(report, '$.indicator_types[1]'), ['STIX_VOCAB_VALUE_UNKNOWN']);
      assert.deepEqual(codes(validateStixObject(sdo('identity', { name: 'n', identity_class: 'robot' })), 'warning'), ['STIX_VOCAB_VALUE_UNKNOWN']);
    });

    it('rejects values outside a closed enumeration', () => {
      const report = validateStixObject(sdo('opinion', { opinion: 'meh', object_refs: [IDENTITY] }));
      assert.deepEqual(issueAt(report, '$.opinion'), ['STIX_ENUM_VALUE_INVALID']);
    });
  });

  describe('type-specific rules', () => {
    it('indicator: pattern, pattern_type, valid_from required; valid_until after valid_from', () => {
      const report = validateStixObject(sdo('indicator'));
      assert.deepEqual(codes(report).sort(), ['STIX_REQUIRED_PROPERTY_MISSING', 'STIX_REQUIRED_PROPERTY_MISSING', 'STIX_REQUIRED_PROPERTY_MISSING']);
      assert.deepEqual(issueAt(validateStixObject(indicator({ valid_until: T0 })), '$.valid_until'), ['STIX_TIME_ORDER']);
    });

    it('malware: is_family required, name required for families', () => {
      assert.deepEqual(codes(validateStixObject(sdo('malware', { name: 'x' }))), ['STIX_REQUIRED_PROPERTY_MISSING']);
      assert.deepEqual(codes(validateStixObject(sdo('malware', { is_family: true }))), ['STIX_PROPERTY_DEPENDENCY']);
      assertValid(sdo('malware', { is_family: false }));
      assert.deepEqual(codes(validateStixObject(sdo('malware', { is_family: false, sample_refs: [IDENTITY] }))), ['STIX_REF_TARGET_TYPE']);
    });

    it('relationship: source and target cannot be SROs, bundles or meta objects', () => {
      const rel = sdo('relationship', { relationship_type: 'uses', source_ref: `malware--${ID}`, target_ref: `attack-pattern--${ID}` });
      assertValid(rel);
      assert.deepEqual(issueAt(validateStixObject({ ...rel, target_ref: TLP_GREEN }), '$.target_ref'), ['STIX_REF_TARGET_TYPE']);
      assert.deepEqual(issueAt(validateStixObject({ ...rel, relationship_type: 'Uses It' }), '$.relationship_type'), ['STIX_VALUE_INVALID']);
    });

    it('sighting: sighting_of_ref is an SDO, where_sighted_refs identity or location, observed_data_refs observed-data', () => {
      const report = validateStixObject(
        sdo('sighting', { sighting_of_ref: `ipv4-addr--${ID}`, where_sighted_refs: [`malware--${ID}`], observed_data_refs: [IDENTITY], count: -1 }),
      );
      assert.deepEqual(issueAt(report, '$.sighting_of_ref'), ['STIX_REF_TARGET_TYPE']);
      assert.deepEqual(issueAt(report, '$.where_sighted_refs[0]'), ['STIX_REF_TARGET_TYPE']);
      assert.deepEqual(issueAt(report, '$.observed_data_refs[0]'), ['STIX_REF_TARGET_TYPE']);
      assert.deepEqual(issueAt(report, '$.count'), ['STIX_VALUE_OUT_OF_RANGE']);
    });

    it('observed-data: number_observed 1..999999999, exactly one of objects/object_refs', () => {
      const base = { first_observed: T0, last_observed: T1, number_observed: 1 };
      assertValid(sdo('observed-data', { ...base, object_refs: [`ipv4-addr--${ID}`] }));
      assert.deepEqual(codes(validateStixObject(sdo('observed-data', { ...base, number_observed: 0, object_refs: [`ipv4-addr--${ID}`] }))), ['STIX_VALUE_OUT_OF_RANGE']);
      assert.deepEqual(codes(validateStixObject(sdo('observed-data', base))), ['STIX_AT_LEAST_ONE_REQUIRED']);
      const both = validateStixObject(sdo('observed-data', { ...base, object_refs: [`ipv4-addr--${ID}`], objects: { '0': { type: 'ipv4-addr', id: `ipv4-addr--${ID}`, value: '1.2.3.4' } } }));
      assert.ok(codes(both).includes('STIX_PROPERTY_CONFLICT'));
      assert.deepEqual(codes(validateStixObject(sdo('observed-data', { ...base, object_refs: [IDENTITY] }))).sort(), ['STIX_REF_TARGET_TYPE', 'STIX_REF_TARGET_TYPE']);
    });

    it('observed-data: embedded objects (deprecated) are validated as SCOs', () => {
      const report = validateStixObject(
        sdo('observed-data', { first_observed: T0, last_observed: T1, number_observed: 1, objects: { '0': { type: 'ipv4-addr', id: `ipv4-addr--${ID}`, value: '999.1.1.1' } } }),
      );
      assert.deepEqual(issueAt(report, '$.objects["0"].value'), ['STIX_VALUE_INVALID']);
      assert.ok(codes(report, 'warning').includes('STIX_DEPRECATED'));
    });

    it('report, grouping, note, opinion need object_refs (non-empty)', () => {
      assert.deepEqual(codes(validateStixObject(sdo('report', { name: 'r', published: T0, object_refs: [] }))), ['STIX_EMPTY_LIST']);
      assert.deepEqual(codes(validateStixObject(sdo('grouping', { context: 'unspecified' }))), ['STIX_REQUIRED_PROPERTY_MISSING']);
      assert.deepEqual(codes(validateStixObject(sdo('note', { object_refs: [IDENTITY] }))), ['STIX_REQUIRED_PROPERTY_MISSING']);
    });

    it('location: region, country, or latitude with longitude', () => {
      assertValid(sdo('location', { region: 'northern-europe' }));
      assertValid(sdo('location', { latitude: 48.8, longitude: 2.3, precision: 10 }));
      assert.deepEqual(codes(validateStixObject(sdo('location', { name: 'x' }))), ['STIX_AT_LEAST_ONE_REQUIRED']);
      assert.deepEqual(codes(validateStixObject(sdo('location', { latitude: 48.8 }))), ['STIX_PROPERTY_DEPENDENCY']);
      assert.deepEqual(codes(validateStixObject(sdo('location', { latitude: 91, longitude: 0 }))), ['STIX_VALUE_OUT_OF_RANGE']);
    });

    it('SCO value syntaxes: IPv4/IPv6 with CIDR, MAC, e-mail, URL', () => {
      for (const value of ['10.0.0.1', '10.0.0.0/8']) assertValid(sco('ipv4-addr', { value }));
      for (const value of ['2001:db8::1', '::', '::ffff:192.0.2.1', '2001:db8::/32']) assertValid(sco('ipv6-addr', { value }));
      for (const value of ['10.0.0.256', '01.2.3.4', '1.2.3.4/33']) assert.equal(validateStixObject(sco('ipv4-addr', { value })).valid, false, value);
      for (const value of ['2001:db8:::1', '1:2:3:4:5:6:7:8:9', 'fe80::1::2']) assert.equal(validateStixObject(sco('ipv6-addr', { value })).valid, false, value);
      assert.equal(validateStixObject(sco('mac-addr', { value: 'D2:FB:49:24:37:18' })).valid, false);
      assert.equal(validateStixObject(sco('email-addr', { value: 'not an address' })).valid, false);
      assert.equal(validateStixObject(sco('url', { value: 'http://exa mple.com' })).valid, false);
    });

    it('SCO co-constraints: artifact payload xor url, network-traffic src or dst, email body vs multipart', () => {
      assert.deepEqual(codes(validateStixObject(sco('artifact', { url: 'https://x.org/a' }))), ['STIX_PROPERTY_DEPENDENCY']);
      assert.deepEqual(codes(validateStixObject(sco('artifact', { payload_bin: 'YQ==', url: 'https://x.org/a', hashes: { MD5: 'a'.repeat(32) } }))), ['STIX_PROPERTY_CONFLICT']);
      assert.deepEqual(codes(validateStixObject(sco('network-traffic', { protocols: ['tcp'] }))), ['STIX_AT_LEAST_ONE_REQUIRED']);
      assert.deepEqual(codes(validateStixObject(sco('email-message', { is_multipart: true, body: 'x' }))), ['STIX_PROPERTY_CONFLICT']);
      assert.deepEqual(codes(validateStixObject(sco('process', {}))), ['STIX_AT_LEAST_ONE_REQUIRED']);
    });

    it('SCO refs are typed: network-traffic src_ref must be an address', () => {
      assert.deepEqual(codes(validateStixObject(sco('network-traffic', { protocols: ['tcp'], src_ref: `file--${ID}` }))), ['STIX_REF_TARGET_TYPE']);
    });
  });

  describe('marking definitions', () => {
    const tlpGreen = { type: 'marking-definition', spec_version: '2.1', id: TLP_GREEN, created: '2017-01-20T00:00:00.000Z', definition_type: 'tlp', name: 'TLP:GREEN', definition: { tlp: 'green' } };

    it('accepts the TLP 1.0 definitions exactly as the specification gives them', () => assertValid(tlpGreen));

    it('rejects a TLP 1.0 definition that differs from the specification', () => {
      assert.deepEqual(codes(validateStixObject({ ...tlpGreen, definition: { tlp: 'amber' } })), ['STIX_TLP_INVALID']);
      assert.deepEqual(codes(validateStixObject({ ...tlpGreen, id: `marking-definition--${ID}` })), ['STIX_TLP_INVALID']);
    });

    it('accepts statement markings and TLP 2.0 extension markings; marking definitions have no modified', () => {
      assertValid({ type: 'marking-definition', spec_version: '2.1', id: `marking-definition--${ID}`, created: T0, definition_type: 'statement', definition: { statement: 'Copyright ACME' } });
      assertValid({
        type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487', created: '2022-10-01T00:00:00.000Z', name: 'TLP:CLEAR',
        extensions: { 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': { extension_type: 'property-extension', tlp_2_0: 'clear' } },
      });
      assert.deepEqual(codes(validateStixObject({ type: 'marking-definition', spec_version: '2.1', id: `marking-definition--${ID}`, created: T0 })).sort(), ['STIX_REQUIRED_PROPERTY_MISSING', 'STIX_REQUIRED_PROPERTY_MISSING']);
    });
  });

  describe('extensions and custom content', () => {
    const EXT = `extension-definition--${ID}`;

    it('accepts extension-definition keys with an extension_type and predefined SCO extensions', () => {
      assertValid(indicator({ extensions: { [EXT]: { extension_type: 'property-extension', rank: 5 } } }));
      assertValid(sco('file', { name: 'a.exe', extensions: { 'ntfs-ext': { sid: 'S-1-5-21' } } }));
      assert.deepEqual(codes(validateStixObject(indicator({ extensions: { [EXT]: { rank: 5 } } }))), ['STIX_REQUIRED_PROPERTY_MISSING']);
      assert.deepEqual(codes(validateStixObject(indicator({ extensions: { [EXT]: { extension_type: 'new-thing' } } }))), ['STIX_ENUM_VALUE_INVALID']);
      assert.deepEqual(codes(validateStixObject(indicator({ extensions: { 'Not A Key': { a: 1 } } }))), ['STIX_EXTENSION_KEY_INVALID']);
      assert.deepEqual(codes(validateStixObject(indicator({ extensions: {} }))), ['STIX_DICTIONARY_EMPTY']);
      assert.deepEqual(codes(validateStixObject(sco('file', { name: 'a', extensions: { 'archive-ext': { comment: 'c' } } }))), ['STIX_REQUIRED_PROPERTY_MISSING']);
    });

    it('warns for STIX 2.0-style custom -ext extensions', () => {
      assert.deepEqual(codes(validateStixObject(sco('file', { name: 'a', extensions: { 'x-acme-ext': { score: 1 } } })), 'warning'), ['STIX_EXTENSION_DEPRECATED']);
    });

    it('custom properties: valid names required, x_ prefix recommended unless a toplevel-property-extension is declared', () => {
      assertValid(indicator({ x_acme_score: 5 }));
      assert.deepEqual(codes(validateStixObject(indicator({ acme_score: 5 })), 'warning'), ['STIX_CUSTOM_PROPERTY_PREFIX']);
      assert.deepEqual(codes(validateStixObject(indicator({ acme_score: 5, extensions: { [EXT]: { extension_type: 'toplevel-property-extension' } } })), 'warning'), []);
      for (const name of ['X_Acme', 'x-acme', 'ab', '_private']) {
        assert.deepEqual(codes(validateStixObject(indicator({ [name]: 1 }))), ['STIX_PROPERTY_NAME_INVALID'], name);
      }
      assert.deepEqual(codes(validateStixObject(indicator({ x_acme_bin: 'not base64!' }))), ['STIX_BINARY_INVALID']);
      assert.deepEqual(codes(validateStixObject(indicator({ x_acme_list: [] }))), ['STIX_EMPTY_LIST']);
      assert.deepEqual(codes(validateStixObject(indicator({ severity: 'high' }))), ['STIX_PROPERTY_RESERVED']);
    });

    it('custom objects: accepted with a warning when the type name is valid; common properties checked', () => {
      const custom = sdo('x-mitre-tactic', { name: 'Execution', x_mitre_shortname: 'execution' });
      const report = validateStixObject(custom);
      assert.equal(report.valid, true);
      assert.deepEqual(codes(report, 'warning'), ['STIX_CUSTOM_OBJECT_TYPE']);
      assert.deepEqual(codes(validateStixObject({ ...custom, modified: '2000-01-01T00:00:00.000Z' })), ['STIX_MODIFIED_BEFORE_CREATED']);
      assert.deepEqual(codes(validateStixObject({ type: 'X-Thing', id: `X-Thing--${ID}` })), ['STIX_TYPE_INVALID']);
      assert.deepEqual(codes(validateStixObject({ type: 'a--b', id: `a--b--${ID}` })), ['STIX_TYPE_INVALID']);
      assert.deepEqual(codes(validateStixObject({ type: 'action', id: `action--${ID}` })), ['STIX_TYPE_RESERVED']);
    });
  });

  describe('hostile input never throws and yields a clear issue', () => {
    const cases: [string, unknown][] = [
      ['null', null],
      ['a number', 42],
      ['a string', 'indicator'],
      ['an array', [indicator()]],
      ['undefined', undefined],
      ['type as object', { type: { toString: 'x' }, id: 1 }],
      ['id as number', { type: 'indicator', id: 12345 }],
      ['objects where lists expected', indicator({ external_references: { source_name: 'x' }, object_marking_refs: 'marking' })],
      ['arrays where objects expected', indicator({ extensions: [], granular_markings: [[]], kill_chain_phases: [null] })],
      ['prototype keys', JSON.parse(`{"type":"indicator","id":"indicator--${ID}","__proto__":{"polluted":true},"constructor":{"prototype":1}}`)],
      ['huge string', indicator({ pattern: 'x'.repeat(5_000_000), x_big: 'y'.repeat(1_000_000), created_by_ref: 'identity--' + 'a'.repeat(1_000_000) })],
      ['many bad items', indicator({ labels: Array.from({ length: 100_000 }, () => 1) })],
    ];
    for (const [name, value] of cases) {
      it(name, () => {
        const report = validateStixObject(value);
        assert.equal(report.valid, false);
        assert.ok(report.issues.length > 0 && report.issues.length <= 201);
        for (const issue of report.issues) {
          assert.match(issue.code, /^STIX_[A-Z0-9_]+$/);
          assert.ok(issue.message.length > 0 && issue.message.length < 1000);
          assert.ok(issue.path.startsWith('$'));
        }
      });
    }

    it('prototype keys do not pollute and are reported by name', () => {
      const report = validateStixObject(JSON.parse(`{"type":"indicator","spec_version":"2.1","id":"indicator--${ID}","created":"${T0}","modified":"${T0}","pattern":"[a:b = 1]","pattern_type":"stix","valid_from":"${T0}","__proto__":{"x":1}}`));
      assert.deepEqual(issueAt(report, '$.__proto__'), ['STIX_PROPERTY_NAME_INVALID']);
      assert.equal(({} as Record<string, unknown>)['x'], undefined);
    });

    it('getters that throw become an issue, not an exception', () => {
      const evil = Object.defineProperty(indicator(), 'pattern', { enumerable: true, get: () => { throw new Error('boom'); } });
      assert.deepEqual(codes(validateStixObject(evil)), ['STIX_UNREADABLE']);
    });
  });
});

describe('validateBundle', () => {
  const bundle = (objects: unknown): Obj => ({ type: 'bundle', id: `bundle--${ID}`, objects });

  it('accepts a bundle without spec_version, with objects of several kinds', () => {
    const report = validateBundle(bundle([indicator(), sco('ipv4-addr', { value: '1.2.3.4' })]));
    assert.deepEqual(codes(report), []);
  });

  it('reports object issues with their path in the bundle', () => {
    const report = validateBundle(bundle([indicator(), indicator({ id: `indicator--${ID.replace('8e2e', '9e2e')}`, created: 'yesterday' })]));
    assert.deepEqual(issueAt(report, '$.objects[1].created'), ['STIX_TIMESTAMP_INVALID']);
  });

  it('checks type, id and objects, and warns on a 2.0-style spec_version', () => {
    assert.deepEqual(codes(validateBundle({ type: 'bundle', id: `indicator--${ID}` })), ['STIX_ID_TYPE_MISMATCH']);
    assert.deepEqual(codes(validateBundle({ type: 'bndl', id: `bundle--${ID}`, objects: [] })).sort(), ['STIX_BUNDLE_TYPE', 'STIX_EMPTY_LIST']);
    assert.deepEqual(codes(validateBundle({ ...bundle([indicator()]), spec_version: '2.0' }), 'warning'), ['STIX_BUNDLE_SPEC_VERSION']);
    assert.deepEqual(codes(validateBundle(bundle([bundle([])]))), ['STIX_BUNDLE_NESTED']);
    assert.deepEqual(codes(validateBundle(bundle([indicator(), indicator()])), 'warning'), ['STIX_BUNDLE_DUPLICATE']);
    assert.deepEqual(codes(validateBundle(bundle('objects'))), ['STIX_PROPERTY_WRONG_TYPE']);
  });
});
