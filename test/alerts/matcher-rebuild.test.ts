// The node's matcher after a removal: the rebuild that takes the removed version out runs in the
// background, and observations are matched meanwhile by the current matcher instead of waiting
// (about 20 s a million indicators); what it still matches of the removed version reaches no one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AlertBus } from '../../src/correlate/alert-bus.ts';
import { NodeMatcher } from '../../src/correlate/node-matcher.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { HIGH_VALUE, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { ipIndicator } from './alert-test-kit.ts';

const at = '2026-11-20T10:00:00Z';
const observation = (ip: string): string =>
  JSON.stringify({ type: 'observed-data', first_observed: at, last_observed: at, objects: { '0': { type: 'ipv4-addr', value: ip } } });

/**
 * The store, except that while `held` a full read of HIGH_VALUE's indicators (no cursor and no ids:
 * what a rebuild does; an incremental refresh reads from its cursor, a holdings lookup names ids)
 * waits until `release` is called.
 */
function storeHoldingRebuilds(store: ObjectStore): { store: ObjectStore; hold(): void; release(): void; reached: Promise<void> } {
  let held = false;
  let release = (): void => undefined;
  let reached = (): void => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reachedGate = new Promise<void>((resolve) => (reached = resolve));
  const wrapped = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property !== 'listEntries') return value.bind(target);
      return async (...args: Parameters<ObjectStore['listEntries']>) => {
        const [collectionId, filter, page] = args;
        if (held && collectionId === HIGH_VALUE && filter.types?.includes('indicator') === true && filter.ids === undefined && page.after === undefined) {
          reached();
          await gate;
        }
        return target.listEntries(...args);
      };
    },
  });
  return { store: wrapped, hold: () => (held = true), release: () => release(), reached: reachedGate };
}

describe('a removal rebuilds the matcher in the background', () => {
  let node: TestNode;
  const removed = ipIndicator(31, '198.51.100.31');
  const kept = ipIndicator(32, '198.51.100.32');
  before(async () => {
    node = await startTestNode({ empty: true });
    await node.store.addObjects(HIGH_VALUE, [removed, kept]);
  });
  after(() => node.close());

  it('answers observations with the current matcher while the rebuild runs, then without the removed version', async () => {
    const wrapper = storeHoldingRebuilds(node.store);
    const matcher = new NodeMatcher({
      store: wrapper.store,
      bus: new AlertBus(64),
      clock: () => new Date(at),
      randomUuid: randomUUID,
      homeOrganisationId: 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d',
      onDemandMinMs: 0,
    });
    await matcher.refresh();
    assert.equal(matcher.indicators, 2);

    assert.equal(await node.store.deleteObject(HIGH_VALUE, removed.id, {}), 1);
    wrapper.hold();
    const during = await matcher.matchLines(`${observation('198.51.100.32')}\n${observation('198.51.100.31')}`, 'test');
    await wrapper.reached;
    // Both still match in the current matcher; the removed version is held by no collection, so its
    // alert goes to no one.
    assert.equal(during.matches, 2);
    assert.deepEqual(during.collections, [[HIGH_VALUE], []]);

    wrapper.release();
    await matcher.refresh();
    assert.equal(matcher.indicators, 1, 'rebuilt without the removed version');
    const afterwards = await matcher.matchLines(observation('198.51.100.31'), 'test');
    assert.equal(afterwards.matches, 0);
    await matcher.stop();
  });
});
