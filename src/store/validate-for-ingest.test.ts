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
});
