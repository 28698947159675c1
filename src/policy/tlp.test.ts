import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  isAtLeastAsStrict, stricterOf, TLP1_MARKING_IDS, TLP2_MARKING_IDS, TLP_LEVELS, tlpOf, tlpOfMarkingRef, toTlpLevel,
} from './tlp.ts';

describe('TLP 2.0', () => {
  it('orders the five levels from CLEAR to RED', () => {
    assert.deepEqual(TLP_LEVELS, ['clear', 'green', 'amber', 'amber+strict', 'red']);
    assert.ok(isAtLeastAsStrict('amber+strict', 'amber'));
    assert.ok(!isAtLeastAsStrict('green', 'amber'));
    assert.equal(stricterOf('green', 'red'), 'red');
    assert.equal(stricterOf('amber+strict', 'amber'), 'amber+strict');
  });

  it('recognises the official TLP 2.0 marking-definition ids (OASIS TLP 2.0 extension)', () => {
    assert.equal(tlpOfMarkingRef('marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487'), 'clear');
    assert.equal(tlpOfMarkingRef('marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb'), 'green');
    assert.equal(tlpOfMarkingRef('marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421'), 'amber');
    assert.equal(tlpOfMarkingRef('marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003'), 'amber+strict');
    assert.equal(tlpOfMarkingRef('marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1'), 'red');
  });

  it('maps the STIX 2.1 TLP 1.0 ids: WHITE is CLEAR, GREEN, AMBER and RED keep their names', () => {
    assert.equal(tlpOfMarkingRef(TLP1_MARKING_IDS.white), 'clear');
    assert.equal(tlpOfMarkingRef(TLP1_MARKING_IDS.green), 'green');
    assert.equal(tlpOfMarkingRef(TLP1_MARKING_IDS.amber), 'amber');
    assert.equal(tlpOfMarkingRef(TLP1_MARKING_IDS.red), 'red');
  });

  it('does not recognise near-miss ids, other types or other casing', () => {
    assert.equal(tlpOfMarkingRef('marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b03e'), undefined);
    assert.equal(tlpOfMarkingRef(TLP2_MARKING_IDS.red.toUpperCase()), undefined);
    assert.equal(tlpOfMarkingRef(42), undefined);
  });

  it('tlpOf takes the strictest TLP among object_marking_refs, ignoring other markings', () => {
    assert.equal(tlpOf({ object_marking_refs: [TLP2_MARKING_IDS.green, 'marking-definition--x', TLP1_MARKING_IDS.amber] }), 'amber');
    assert.equal(tlpOf({ object_marking_refs: [TLP2_MARKING_IDS.red, TLP2_MARKING_IDS.clear] }), 'red');
    assert.equal(tlpOf({ object_marking_refs: [TLP2_MARKING_IDS.green, TLP2_MARKING_IDS.green] }), 'green');
  });

  it('tlpOf is undefined when there is no TLP marking (the caller applies the circle default, never CLEAR)', () => {
    assert.equal(tlpOf({}), undefined);
    assert.equal(tlpOf({ object_marking_refs: [] }), undefined);
    assert.equal(tlpOf({ object_marking_refs: 'not a list' }), undefined);
    assert.equal(tlpOf(null), undefined);
    assert.equal(tlpOf([TLP2_MARKING_IDS.clear]), undefined);
  });

  it('reads levels written as labels', () => {
    assert.equal(toTlpLevel('TLP:AMBER+STRICT'), 'amber+strict');
    assert.equal(toTlpLevel('white'), 'clear');
    assert.equal(toTlpLevel('TLP:CLEAR'), 'clear');
    assert.equal(toTlpLevel('amber strict'), undefined);
    assert.equal(toTlpLevel(undefined), undefined);
  });
});
