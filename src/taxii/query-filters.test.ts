import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MATCH_VALUES, parseTaxiiQuery } from './query-filters.ts';

const ID_A = 'indicator--6770298f-0fd8-471a-ab8c-1c658a46574e';
const ID_B = 'malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec';

function issuesOf(raw: Record<string, string | string[]>, endpoint: Parameters<typeof parseTaxiiQuery>[1] = 'objects') {
  const result = parseTaxiiQuery(raw, endpoint);
  assert.equal(result.ok, false, 'expected the query to be refused');
  return result.ok ? [] : result.error;
}

describe('parseTaxiiQuery', () => {
  it('reads every TAXII 2.1 filter of the objects endpoint into the store filter', () => {
    const result = parseTaxiiQuery(
      {
        'match[id]': `${ID_B},${ID_A}`,
        'match[type]': 'indicator,malware',
        'match[version]': 'first,2016-12-25T12:30:59.444Z',
        'match[spec_version]': '2.1',
        added_after: '2016-11-01T03:04:05.123456Z',
        limit: '10',
        next: 'abc',
      },
      'objects',
    );
    assert.ok(result.ok);
    assert.deepEqual(result.value.filter, {
      ids: [ID_A, ID_B],
      types: ['indicator', 'malware'],
      versions: [{ kind: 'at', version: '2016-12-25T12:30:59.444Z' }, { kind: 'first' }],
      specVersions: ['2.1'],
      addedAfter: Date.UTC(2016, 10, 1, 3, 4, 5) * 1000 + 123456,
    });
    assert.equal(result.value.limit, 10);
    assert.equal(result.value.next, 'abc');
  });

  it('leaves match[version] absent when not given (the store reads that as "last")', () => {
    const result = parseTaxiiQuery({}, 'objects');
    assert.ok(result.ok);
    assert.deepEqual(result.value.filter, {});
    assert.equal(result.value.limit, undefined);
  });

  it('reduces a version list containing "all" to "all"', () => {
    const result = parseTaxiiQuery({ 'match[version]': 'last,all,first' }, 'objects');
    assert.ok(result.ok);
    assert.deepEqual(result.value.filter.versions, [{ kind: 'all' }]);
  });

  it('joins a repeated match parameter as one list', () => {
    const result = parseTaxiiQuery({ 'match[type]': ['indicator', 'malware'] }, 'manifest');
    assert.ok(result.ok);
    assert.deepEqual(result.value.filter.types, ['indicator', 'malware']);
  });

  it('gives the same fingerprint for the same filters in any order, and a different one otherwise', () => {
    const a = parseTaxiiQuery({ 'match[type]': 'indicator,malware' }, 'objects');
    const b = parseTaxiiQuery({ 'match[type]': 'malware,indicator', limit: '5' }, 'objects');
    const c = parseTaxiiQuery({ 'match[type]': 'malware' }, 'objects');
    const d = parseTaxiiQuery({ 'match[type]': 'indicator,malware' }, 'manifest');
    assert.ok(a.ok && b.ok && c.ok && d.ok);
    assert.deepEqual(a.value.fingerprintParts, b.value.fingerprintParts);
    assert.notDeepEqual(a.value.fingerprintParts, c.value.fingerprintParts);
    assert.notDeepEqual(a.value.fingerprintParts, d.value.fingerprintParts);
  });

  const refusals: [string, Record<string, string | string[]>, string, RegExp][] = [
    ['limit=0', { limit: '0' }, 'limit', /positive integer/],
    ['limit=-1', { limit: '-1' }, 'limit', /positive integer/],
    ['limit=1.5', { limit: '1.5' }, 'limit', /positive integer/],
    ['limit=abc', { limit: 'abc' }, 'limit', /positive integer/],
    ['limit given twice', { limit: ['1', '2'] }, 'limit', /given 2 times/],
    ['added_after garbage', { added_after: 'yesterday' }, 'added_after', /timestamp/],
    ['added_after impossible date', { added_after: '2021-02-30T00:00:00Z' }, 'added_after', /timestamp/],
    ['added_after without zone', { added_after: '2021-02-03T00:00:00' }, 'added_after', /timestamp/],
    ['match[id] not an id', { 'match[id]': 'indicator--../../etc/passwd' }, 'match[id]', /not a STIX identifier/],
    ['match[id] empty item', { 'match[id]': `${ID_A},` }, 'match[id]', /empty value/],
    ['match[type] uppercase', { 'match[type]': 'Indicator' }, 'match[type]', /not a STIX type/],
    ['match[version] word', { 'match[version]': 'latest' }, 'match[version]', /"first", "last", "all"/],
    ['match[spec_version] word', { 'match[spec_version]': 'two' }, 'match[spec_version]', /specification version/],
    ['unknown match field', { 'match[color]': 'red' }, 'match[color]', /not a filter this server supports/],
  ];
  for (const [name, raw, parameter, message] of refusals) {
    it(`refuses ${name}, naming ${parameter}`, () => {
      const [issue] = issuesOf(raw);
      assert.equal(issue?.parameter, parameter);
      assert.match(issue?.message ?? '', message);
    });
  }

  it('refuses more match values than the limit', () => {
    const ids = Array.from({ length: MAX_MATCH_VALUES + 1 }, () => ID_A).join(',');
    const [issue] = issuesOf({ 'match[id]': ids });
    assert.equal(issue?.parameter, 'match[id]');
    assert.match(issue?.message ?? '', /at most 500/);
  });

  it('refuses parameters the endpoint does not take', () => {
    assert.equal(issuesOf({ 'match[id]': ID_A }, 'versions')[0]?.parameter, 'match[id]');
    assert.equal(issuesOf({ 'match[type]': 'indicator' }, 'object')[0]?.parameter, 'match[type]');
    assert.equal(issuesOf({ limit: '1' }, 'deleteObject')[0]?.parameter, 'limit');
  });

  it('ignores unknown parameters that are not filters', () => {
    assert.ok(parseTaxiiQuery({ _: '12345' }, 'objects').ok);
  });

  it('reports every bad parameter at once', () => {
    assert.equal(issuesOf({ limit: 'x', added_after: 'y' }).length, 2);
  });
});
