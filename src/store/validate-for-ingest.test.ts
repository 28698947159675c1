import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateForIngest } from './validate-for-ingest.ts';

const indicator = (pattern: string, patternType = 'stix'): Record<string, unknown> => ({
  type: 'indicator',
  spec_version: '2.1',
  id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
  created: '2026-01-01T00:00:00.000Z',
  modified: '2026-01-01T00:00:00.000Z',
  pattern,
  pattern_type: patternType,
  valid_from: '2026-01-01T00:00:00Z',
});

describe('validation before ingest', () => {
  it('accepts an indicator whose STIX pattern parses', () => {
    assert.equal(validateForIngest(indicator("[ipv4-addr:value = '198.51.100.7']")).valid, true);
  });

  it("refuses an indicator whose STIX pattern does not parse, with the parser's message and position", () => {
    const report = validateForIngest(indicator("[ipv4-addr:value = '198.51.100.7'"), '$.objects[4]');
    assert.equal(report.valid, false);
    const issue = report.issues.find((candidate) => candidate.code === 'STIX_PATTERN_INVALID');
    assert.equal(issue?.path, '$.objects[4].pattern');
    assert.match(issue?.message ?? '', /^the STIX pattern is invalid: at \d+: expected/);
  });

  it('leaves patterns in other languages (Sigma, YARA, Snort…) to their own tools', () => {
    assert.equal(validateForIngest(indicator('rule x { condition: true }', 'yara')).valid, true);
  });

  it('reports the STIX validation issues first and does not parse a pattern of an invalid object', () => {
    const broken = { ...indicator('not a pattern'), created: 'yesterday' };
    const report = validateForIngest(broken);
    assert.equal(report.valid, false);
    assert.ok(report.issues.every((issue) => issue.code !== 'STIX_PATTERN_INVALID'));
  });

  it('refuses an id or a reference whose UUID has upper-case hex: the store keys objects by id as written, where RFC 4122 readers take it to name the lower-case one', () => {
    const upper = (id: string): string => id.slice(0, id.indexOf('--') + 2) + id.slice(id.indexOf('--') + 2).toUpperCase();
    const lower = indicator("[ipv4-addr:value = '198.51.100.7']");
    const identity = 'identity--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061';
    const marking = 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82';
    const extension = 'extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e';
    const referring = { ...lower, created_by_ref: identity, object_marking_refs: [marking], granular_markings: [{ marking_ref: marking, selectors: ['pattern'] }], extensions: { [extension]: { extension_type: 'property-extension' } } };
    assert.equal(validateForIngest(referring).valid, true);
    const refused = (object: Record<string, unknown>): string[] => validateForIngest(object).issues.filter((issue) => issue.severity === 'error').map((issue) => `${issue.code} ${issue.path}`);
    assert.deepEqual(refused({ ...referring, id: upper(String(lower['id'])) }), ['STIX_ID_UPPERCASE $.id']);
    assert.deepEqual(refused({ ...referring, created_by_ref: upper(identity) }), ['STIX_ID_UPPERCASE $.created_by_ref']);
    assert.deepEqual(refused({ ...referring, object_marking_refs: [upper(marking)] }), ['STIX_ID_UPPERCASE $.object_marking_refs[0]']);
    assert.deepEqual(refused({ ...referring, granular_markings: [{ marking_ref: upper(marking), selectors: ['pattern'] }] }), ['STIX_ID_UPPERCASE $.granular_markings[0].marking_ref']);
    assert.deepEqual(refused({ ...referring, extensions: { [upper(extension)]: { extension_type: 'property-extension' } } }), [`STIX_ID_UPPERCASE $.extensions["${upper(extension)}"]`]);
  });

  it('refuses where a sighting was sighted named with upper-case hex', () => {
    const sighting = {
      type: 'sighting', spec_version: '2.1', id: 'sighting--6a3a8a2e-1b7c-4d2e-8f00-000000000001', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
      sighting_of_ref: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', where_sighted_refs: ['identity--0c7b5b88-8ff7-4a4d-aa9d-FEB398CD0061'],
    };
    assert.deepEqual(validateForIngest(sighting).issues.filter((issue) => issue.severity === 'error').map((issue) => `${issue.code} ${issue.path}`), ['STIX_ID_UPPERCASE $.where_sighted_refs[0]']);
  });
});
