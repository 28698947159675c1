import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addMarkingRefs } from './add-marking-refs.ts';

const GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
const OWN = 'marking-definition--0b000000-0000-4000-8000-000000000001';

function refsOf(value: unknown, into = new Set<string>()): string[] {
  addMarkingRefs(value, into);
  return [...into];
}

describe('addMarkingRefs', () => {
  it('adds object-level and granular marking refs, each once', () => {
    const object = {
      type: 'indicator',
      object_marking_refs: [GREEN, OWN],
      granular_markings: [{ selectors: ['name'], marking_ref: OWN }, { selectors: ['pattern'], marking_ref: GREEN }],
    };
    assert.deepEqual(refsOf(object), [GREEN, OWN]);
  });

  it('keeps what the set already holds', () => {
    assert.deepEqual(refsOf({ object_marking_refs: [OWN] }, new Set([GREEN])), [GREEN, OWN]);
  });

  it('adds nothing for a value that is not an object, or refs that are not strings', () => {
    for (const value of [undefined, null, 'text', 7, [GREEN], { object_marking_refs: GREEN }]) assert.deepEqual(refsOf(value), []);
    const odd = { object_marking_refs: [1, null, { id: GREEN }], granular_markings: [null, 'x', [OWN], { marking_ref: 2 }, { lang: 'en' }] };
    assert.deepEqual(refsOf(odd), []);
  });
});
