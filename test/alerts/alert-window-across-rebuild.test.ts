// An alert window is the window of one version of an indicator, and it outlives a rebuild of the
// node's matcher (started by any removal anywhere on the node). Each rebuild numbers the versions it
// compiles side by side afresh (BulkMatcher variants, in the order the collections are read), so a
// window keyed on that number would, after a rebuild, take the matches of one version into the window
// still open of another: the readers of the first were never alerted (found by a reviewer).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertEvent } from '../../src/correlate/alert-bus.ts';
import { ADD_TEST, HIGH_VALUE, SECRET, secrets, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { ipIndicator } from './alert-test-kit.ts';

describe('an alert window across a rebuild of the matcher', () => {
  let node: TestNode;
  // One pattern in both versions: every observation matches both.
  const newer = ipIndicator(77, '198.51.100.77', { modified: '2026-06-01T00:00:00.000Z', name: 'Version 2, in SECRET only' });
  const older = ipIndicator(77, '198.51.100.77', { name: 'Version 1, in ADD_TEST' });
  const elsewhere = ipIndicator(78, '198.51.100.78', { name: 'Removed to start a rebuild' });
  // Observations in the window open now: a refresh closes earlier windows only.
  const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const at = (seconds: number): string => new Date(hour + seconds * 1000).toISOString();

  async function post(seconds: number): Promise<void> {
    const line = JSON.stringify({ type: 'observed-data', first_observed: at(seconds), last_observed: at(seconds), objects: { '0': { type: 'ipv4-addr', value: '198.51.100.77' } } });
    const response = await node.app.inject({
      method: 'POST', url: '/api/observations',
      headers: { authorization: `Bearer ${secrets.admin}`, 'content-type': 'application/x-ndjson', accept: 'application/json' },
      payload: line,
    });
    assert.equal(response.statusCode, 200, response.body);
  }

  const alertsSince = (from: number): AlertEvent[] => node.app.alerting.bus.since(from - 1).events;
  const shown = (event: AlertEvent): unknown => ({ name: event.alert.indicator_name, collections: event.collections, newerIn: event.newerIn ?? [] });

  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.setMeta('default_collection', ADD_TEST);
    await node.store.addObjects(SECRET, [newer]);
    await node.store.addObjects(HIGH_VALUE, [elsewhere]);
    await node.app.alerting.matcher.refresh();
  });
  after(() => node.close());

  it('keeps the matches of a version added to another collection out of the window another version opened before the rebuild', async () => {
    const from = node.app.alerting.bus.nextId;
    await post(10);
    assert.deepEqual(alertsSince(from).map(shown), [{ name: 'Version 2, in SECRET only', collections: [SECRET], newerIn: [] }]);
    await node.store.addObjects(ADD_TEST, [older]);
    // Any removal on the node rebuilds the matcher, which compiles ADD_TEST's version first now.
    assert.equal(await node.store.deleteObject(HIGH_VALUE, elsewhere.id, {}), 1);
    await node.app.alerting.matcher.refresh();
    const next = node.app.alerting.bus.nextId;
    await post(20);
    // Version 1's alert goes to the readers of ADD_TEST (an analyst's stream), not to the administrator,
    // who reads the newer version; version 2's window is still open: no second alert on it.
    assert.deepEqual(alertsSince(next).map(shown), [{ name: 'Version 1, in ADD_TEST', collections: [ADD_TEST], newerIn: [SECRET] }]);
  });

  it('keeps a window open across a rebuild that compiles the same versions again', async () => {
    await node.store.addObjects(HIGH_VALUE, [elsewhere]);
    await node.app.alerting.matcher.refresh();
    assert.equal(await node.store.deleteObject(HIGH_VALUE, elsewhere.id, {}), 1);
    await node.app.alerting.matcher.refresh();
    const next = node.app.alerting.bus.nextId;
    await post(30);
    assert.deepEqual(alertsSince(next).map(shown), []);
  });
});
