import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { detectStixVersion, readDocument, readJsonLine, readJsonLines, readJsonText } from './read-documents.ts';

const indicator21 = { type: 'indicator', spec_version: '2.1', id: 'indicator--1', created: '2020-01-01T00:00:00.000Z', modified: '2020-01-01T00:00:00.000Z', pattern: "[url:value = 'x']", pattern_type: 'stix', valid_from: '2020-01-01T00:00:00Z' };
const indicator20 = { type: 'indicator', id: 'indicator--2', created: '2020-01-01T00:00:00.000Z', modified: '2020-01-01T00:00:00.000Z', labels: ['malicious-activity'], pattern: "[url:value = 'x']", valid_from: '2020-01-01T00:00:00Z' };

describe('readDocument: every container gives the same list of objects', () => {
  it('reads a STIX 2.1 bundle, with each object\'s index', () => {
    const read = readDocument({ type: 'bundle', id: 'bundle--1', objects: [indicator21, { type: 'ipv4-addr', id: 'ipv4-addr--1', value: '198.51.100.3' }] });
    assert.deepEqual(read.problems, []);
    assert.deepEqual(read.objects.map((o) => [o.object['id'], o.version, o.source, o.container]), [
      ['indicator--1', '2.1', { index: 0 }, 'bundle'],
      ['ipv4-addr--1', '2.1', { index: 1 }, 'bundle'],
    ]);
  });

  it('reads a STIX 2.0 bundle: every object is 2.0', () => {
    const read = readDocument({ type: 'bundle', id: 'bundle--1', spec_version: '2.0', objects: [indicator20] });
    assert.deepEqual(read.objects.map((o) => o.version), ['2.0']);
  });

  it('reads a TAXII 2.1 envelope, including an empty one', () => {
    const read = readDocument({ more: false, objects: [indicator21, indicator20] });
    assert.deepEqual(read.objects.map((o) => [o.version, o.container]), [['2.1', 'envelope'], ['2.0', 'envelope']]);
    assert.deepEqual(readDocument({}), { objects: [], problems: [] });
  });

  it('reads a single object', () => {
    assert.deepEqual(readDocument(indicator21).objects.map((o) => [o.version, o.container, o.source]), [['2.1', 'object', {}]]);
  });

  it('reports what is not a container, with the place', () => {
    assert.equal(readDocument([indicator21]).problems[0]?.message, 'expected a STIX bundle, a TAXII envelope or a STIX object, got an array at the top level');
    assert.equal(readDocument('bundle').problems[0]?.code, 'ENT_INPUT_NOT_ENVELOPE');
    assert.equal(readDocument({ objects: [], name: 'x' }).problems[0]?.message, 'object has no "type", so it should be a TAXII envelope, but it has "name"');
    const mixed = readDocument({ type: 'bundle', id: 'bundle--1', objects: [indicator21, 'oops', { id: 'x--1' }, { type: 'bundle', id: 'bundle--2' }, { ...indicator21, spec_version: '2.2' }] });
    assert.equal(mixed.objects.length, 1);
    assert.deepEqual(mixed.problems.map((p) => p.message), [
      'objects[1]: expected a STIX object, got a string',
      'objects[2]: x--1: a STIX object needs a string "type", got nothing',
      'objects[3]: a bundle cannot contain another bundle',
      'objects[4]: indicator--1: spec_version "2.2" is not a STIX version Entente reads (2.0 or 2.1)',
    ]);
    assert.match(readDocument({ type: 'bundle', id: 'bundle--1', spec_version: '1.2' }).problems[0]?.message ?? '', /bundle spec_version "1.2"/);
  });
});

describe('detectStixVersion', () => {
  it('follows the spec\'s defaults: spec_version when given, else 2.1 for SCOs and 2.0 for the rest', () => {
    assert.equal(detectStixVersion(indicator21), '2.1');
    assert.equal(detectStixVersion(indicator20), '2.0');
    assert.equal(detectStixVersion({ type: 'domain-name', id: 'domain-name--1', value: 'a' }), '2.1');
    assert.equal(detectStixVersion({ type: 'domain-name', id: 'domain-name--1', value: 'a' }, '2.0'), '2.0');
    assert.equal(detectStixVersion({ type: 'x', spec_version: '3.0' }), undefined);
  });
});

describe('readJsonText and JSON lines', () => {
  it('passes parse problems through with line and column', () => {
    const read = readJsonText('{\n"type": "bundle",\n"objects": [}');
    assert.deepEqual(read.problems, [{ code: 'ENT_INPUT_MALFORMED_JSON', message: 'not valid JSON: Unexpected token \'}\', ..."bjects": [}" is not valid JSON (line 3, column 13)', line: 3, column: 13 }]);
  });

  it('reads one line: object, bundle or envelope, naming the line in problems', () => {
    assert.deepEqual(readJsonLine(JSON.stringify(indicator21), 4).objects[0]?.source, { line: 4 });
    assert.deepEqual(readJsonLine(JSON.stringify({ objects: [indicator21] }), 5).objects[0]?.source, { line: 5, index: 0 });
    assert.equal(readJsonLine('{"type": "indicator", ', 17).problems[0]?.message, 'line 17, column 23: not valid JSON: Expected double-quoted property name');
    assert.deepEqual(readJsonLine('   ', 3), { objects: [], problems: [] });
  });

  it('splits a text into numbered lines; a bad line costs only itself', () => {
    const text = [JSON.stringify(indicator21), '', '{broken', JSON.stringify({ type: 'bundle', id: 'bundle--1', spec_version: '2.0', objects: [indicator20] }), '[1]'].join('\r\n');
    const read = readJsonLines(text);
    assert.deepEqual(read.objects.map((o) => [o.object['id'], o.version, o.source]), [
      ['indicator--1', '2.1', { line: 1 }],
      ['indicator--2', '2.0', { line: 4, index: 0 }],
    ]);
    assert.deepEqual(read.problems.map((p) => [p.line, p.code]), [[3, 'ENT_INPUT_MALFORMED_JSON'], [5, 'ENT_INPUT_NOT_ENVELOPE']]);
    assert.match(read.problems[0]?.message ?? '', /^line 3, column 2: not valid JSON/);
  });

  it('summarises problems beyond the limit and applies maxBytes to the whole text', () => {
    const read = readJsonLines('x\n'.repeat(20), { maxProblems: 5 });
    assert.equal(read.problems.length, 6);
    assert.equal(read.problems[5]?.message, '15 more problems not listed (only the first 5 are)');
    assert.equal(readJsonLines('{}\n{}', { maxBytes: 3 }).problems[0]?.code, 'ENT_INPUT_TOO_LARGE');
    assert.equal(readJsonLines(`${'['.repeat(100)}\n{}`).problems[0]?.code, 'ENT_INPUT_TOO_DEEP');
  });

  it('reads the MISP STIX 2.0 fixture as a 2.0 bundle', () => {
    const text = readFileSync(new URL('../../test/fixtures/misp-stix/test_event2_stix20.json', import.meta.url), 'utf8');
    const read = readJsonText(text);
    assert.deepEqual(read.problems, []);
    assert.equal(read.objects.length, 9);
    assert.ok(read.objects.every((o) => o.version === '2.0'));
  });
});
