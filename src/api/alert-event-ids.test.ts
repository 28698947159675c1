import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { cursorKeyOf, encodeCursor, sealCursorText } from '../taxii/cursor.ts';
import { AlertEventIds } from './alert-event-ids.ts';

describe('alert event ids', () => {
  const nodeKey = cursorKeyOf(randomBytes(32));
  const ids = new AlertEventIds(nodeKey);

  it('opens to the number it sealed, for any event number', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => ids.opened(ids.shown(n)) === n));
  });

  it('has one length whatever the number, and shows no digits of it', () => {
    const shown = [1, 9, 10, 99, 100, 123_456, Number.MAX_SAFE_INTEGER].map((n) => ids.shown(n));
    assert.equal(new Set(shown.map((id) => id.length)).size, 1);
    for (const id of shown) assert.doesNotMatch(id, /^\d+$/);
    assert.equal(new Set(shown).size, shown.length);
  });

  it('gives an event one id: again, and in another process with the node key (a worker)', () => {
    const worker = new AlertEventIds(nodeKey);
    for (const n of [1, 2, 5000, 77]) {
      assert.equal(ids.shown(n), ids.shown(n));
      assert.equal(worker.shown(n), ids.shown(n));
    }
  });

  it('opens nothing it did not seal: numbers, an altered id, another node’s, a TAXII cursor, text sealed under the node key itself', () => {
    const id = ids.shown(42);
    const altered = `${id.slice(0, 10)}${id[10] === 'A' ? 'B' : 'A'}${id.slice(11)}`;
    const othersNode = new AlertEventIds(cursorKeyOf(randomBytes(32))).shown(42);
    const taxiiCursor = encodeCursor(42, { fingerprint: 'alert-event', key: nodeKey });
    const underNodeKey = sealCursorText('0000000000000042.alert-event', nodeKey);
    for (const text of ['42', '', 'x'.repeat(500), altered, id.slice(0, -1), othersNode, taxiiCursor, underNodeKey]) {
      assert.equal(ids.opened(text), undefined, text);
    }
  });
});
