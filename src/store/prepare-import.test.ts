import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readJsonText } from '../stix/read-documents.ts';
import { resolveSelector } from '../stix/validate/common-structures.ts';
import type { JsonObject } from '../stix/types.ts';
import { prepareImport } from './prepare-import.ts';

const RED = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';
const GREEN = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';
const dates = { created: '2020-01-01T00:00:00.000Z', modified: '2020-01-01T00:00:00.000Z' };
const observation = { ...dates, first_observed: '2020-01-01T00:00:00Z', last_observed: '2020-01-01T00:00:00Z', number_observed: 1, object_marking_refs: [GREEN] };

function counter(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
}

function importBundle(objects: JsonObject[]): ReturnType<typeof prepareImport> {
  const read = readJsonText(JSON.stringify({ type: 'bundle', id: 'bundle--11111111-1111-4111-8111-111111111111', spec_version: '2.0', objects }));
  assert.deepEqual(read.problems, []);
  return prepareImport(read.objects, counter());
}

/** Each granular marking's selectors, as the values they select in the stored object. */
function markedValues(object: JsonObject, ref: string): unknown[] {
  const markings = (object['granular_markings'] ?? []) as JsonObject[];
  return markings.filter((m) => m['marking_ref'] === ref).flatMap((m) => (m['selectors'] as string[]).map((selector) => {
    assert.equal(resolveSelector(object, selector), 'ok', selector);
    return selector.split('.').reduce<unknown>((at, segment) => (at as Record<string, unknown>)[segment.startsWith('[') ? Number(segment.slice(1, -1)) : segment], object);
  }));
}

describe('prepareImport: STIX 2.0 markings survive the upgrade', () => {
  it('a marked label stays marked wherever the upgrade puts it, and no other label takes its marking', () => {
    const indicator = { type: 'indicator', ...dates, name: 'C2', pattern: "[ipv4-addr:value = '45.77.12.31']", valid_from: '2020-01-01T00:00:00Z', object_marking_refs: [GREEN] };
    const { objects, rejected } = importBundle([
      { ...indicator, id: 'indicator--11111111-1111-4111-8111-111111111112', labels: ['malicious-activity', 'victim-ministry-of-energy', 'apt-generic'], granular_markings: [{ marking_ref: RED, selectors: ['labels.[1]'] }] },
      { ...indicator, id: 'indicator--11111111-1111-4111-8111-111111111113', labels: ['victim-ministry-of-energy', 'malicious-activity'], granular_markings: [{ marking_ref: RED, selectors: ['labels.[0]'] }] },
      { ...indicator, id: 'indicator--11111111-1111-4111-8111-111111111115', labels: ['apt-generic', 'malicious-activity'], granular_markings: [{ marking_ref: RED, selectors: ['labels.[1]'] }] },
    ]);
    assert.deepEqual(rejected, []);
    assert.deepEqual(objects.map((object) => markedValues(object, RED)), [['victim-ministry-of-energy'], ['victim-ministry-of-energy'], ['malicious-activity']]);
  });

  it('a file observed with a marked 2.0 property (created) is stored with the marking on its 2.1 name (ctime), beside its observed-data', () => {
    const { objects, rejected } = importBundle([{ type: 'observed-data', id: 'observed-data--11111111-1111-4111-8111-111111111114', ...observation, granular_markings: [{ marking_ref: RED, selectors: ['objects.0.created'] }], objects: { '0': { type: 'file', name: 'payroll-2020.xlsm', created: '2019-12-31T23:59:00Z' } } }]);
    assert.deepEqual(rejected, []);
    const file = objects.find((object) => object.type === 'file');
    assert.ok(file);
    assert.deepEqual(markedValues(file, RED), ['2019-12-31T23:59:00Z']);
    assert.deepEqual(objects.find((object) => object.type === 'observed-data')?.['object_refs'], [file.id]);
  });

  it('an observable marked on the value its id is derived from is marked as a whole, and so is the observed-data\'s reference to it', () => {
    const { objects, rejected } = importBundle([{ type: 'observed-data', id: 'observed-data--11111111-1111-4111-8111-111111111114', ...observation, granular_markings: [{ marking_ref: RED, selectors: ['objects.0.value'] }], objects: { '0': { type: 'ipv4-addr', value: '10.20.30.44' } } }]);
    assert.deepEqual(rejected, []);
    const address = objects.find((object) => object.type === 'ipv4-addr');
    const observed = objects.find((object) => object.type === 'observed-data');
    assert.ok(address && observed);
    assert.deepEqual(address['object_marking_refs'], [RED]);
    assert.deepEqual(markedValues(observed, RED), [address.id]);
  });

  it('refuses an observed-data with any of its observables, and the observables only it refers to, so that nothing refers to what was not stored', () => {
    const { objects, rejected } = importBundle([
      { type: 'observed-data', id: 'observed-data--11111111-1111-4111-8111-111111111114', ...observation, objects: { '0': { type: 'file', name: 'a.exe', size: -1 }, '1': { type: 'domain-name', value: 'only-here.example' }, '2': { type: 'domain-name', value: 'shared.example' } } },
      { type: 'observed-data', id: 'observed-data--11111111-1111-4111-8111-111111111116', ...observation, objects: { '0': { type: 'domain-name', value: 'shared.example' } } },
    ]);
    assert.deepEqual(objects.map((object) => object.type).sort(), ['domain-name', 'observed-data']);
    assert.equal(objects.find((object) => object.type === 'observed-data')?.id, 'observed-data--11111111-1111-4111-8111-111111111116');
    assert.equal(objects.find((object) => object.type === 'domain-name')?.['value'], 'shared.example');
    const reasons = new Map(rejected.map((rejection) => [rejection.id.split('--')[0], rejection.reason]));
    assert.match(reasons.get('file') ?? '', /STIX_VALUE_OUT_OF_RANGE/);
    assert.match(reasons.get('observed-data') ?? '', /its observable file--[0-9a-f-]+ was refused/);
    assert.match(reasons.get('domain-name') ?? '', /observed-data--11111111-1111-4111-8111-111111111114, which was refused/);
    assert.equal(rejected.length, 3);
  });
});
