// A client resuming the alert stream from its Last-Event-ID is sent again the alerts raised since,
// but only those still for it: between the alert and the reconnection the indicator version behind
// it may have been recalled by its source partner, deleted, or superseded by a newer version of its
// creator in a collection the reader reads. Before replaying, the stream reads again who each alert
// is for (NodeMatcher.audiencesNow, the store as it is now, one read for the whole replay) and puts
// it to the rule the live stream applies (isAlertForReader); a withdrawn alert is skipped as if it
// had never been raised for that reader, and the others come again in their order.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { AlertJson } from '../../src/correlate/alert-bus.ts';
import { ADD_TEST, HIGH_VALUE, SECRET, secrets, startTestNode, type TestNode, type TokenName } from '../taxii/taxii-test-kit.ts';
import { connectSse, ipIndicator, postObservedAddress, type SseClient, type SseEvent } from './alert-test-kit.ts';

const admin = { authorization: `Bearer ${secrets.admin}` };

const marker = ipIndicator(50, '198.51.100.50');
const kept = ipIndicator(51, '198.51.100.51');
const recalled = ipIndicator(52, '198.51.100.52');
const superseded = ipIndicator(53, '198.51.100.53');
/** Held in HIGH_VALUE and ADD_TEST; leaves HIGH_VALUE. */
const leftOne = ipIndicator(54, '198.51.100.54');
const live = ipIndicator(55, '198.51.100.55');
const liveAgain = ipIndicator(56, '198.51.100.56');

const indicatorOf = (event: SseEvent): string => (JSON.parse(event.data) as AlertJson).indicator_id;
const alertsIn = (client: SseClient): string[] => client.events.filter((e) => e.event === 'alert').map(indicatorOf);

describe('an alert stream resumed from Last-Event-ID replays only the alerts still for its reader', () => {
  let node: TestNode;
  let base: string;
  let markerId: string;
  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.addObjects(HIGH_VALUE, [marker, kept, recalled, superseded, leftOne, live, liveAgain]);
    await node.store.addObjects(ADD_TEST, [leftOne]);
    await node.app.alerting.matcher.refresh();
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;

    const watching = await connectSse(`${base}/api/alerts/stream`, admin);
    await postObservedAddress(node, admin, '198.51.100.50', '2026-11-20T10:00:00Z');
    markerId = (await watching.waitFor((e) => e.event === 'alert' && indicatorOf(e) === marker.id)).id ?? assert.fail('no id');
    for (const ip of ['198.51.100.51', '198.51.100.52', '198.51.100.53', '198.51.100.54']) await postObservedAddress(node, admin, ip, '2026-11-20T10:00:00Z');
    await watching.waitFor((e) => e.event === 'alert' && indicatorOf(e) === leftOne.id);
    assert.deepEqual(alertsIn(watching), [marker.id, kept.id, recalled.id, superseded.id, leftOne.id], 'each was raised for the administrator');
    watching.close();

    // What recall-receive.ts does with a recall it accepts: that version removed from the collection.
    assert.equal(await node.store.deleteObject(HIGH_VALUE, recalled.id, { versions: [{ kind: 'at', version: recalled['modified'] as string }] }), 1);
    // A newer version by the same (home) origin, where only the administrator reads.
    await node.store.addObjects(SECRET, [{ ...superseded, modified: '2026-06-01T00:00:00.000Z', name: 'Alert test 53, version 2' }]);
    assert.equal(await node.store.deleteObject(HIGH_VALUE, leftOne.id, {}), 1);
  });
  after(() => node.close());

  /** Resumes `token`'s stream after the marker, then raises `next` live: once it comes, the replay before it is whole. */
  async function resumed(token: TokenName, next: ReturnType<typeof ipIndicator>, ip: string): Promise<SseClient> {
    const client = await connectSse(`${base}/api/alerts/stream`, { authorization: `Bearer ${secrets[token]}`, 'last-event-id': markerId });
    assert.equal(client.status, 200);
    await postObservedAddress(node, admin, ip, '2026-11-20T10:00:00Z');
    await client.waitFor((e) => e.event === 'alert' && indicatorOf(e) === next.id);
    client.close();
    return client;
  }

  it('skips, for the administrator, the alerts on a recalled version, on one superseded where it reads, and keeps the one a collection still holds', async () => {
    const client = await resumed('admin', live, '198.51.100.55');
    assert.deepEqual(alertsIn(client), [kept.id, leftOne.id, live.id]);
    assert.deepEqual(client.events.filter((e) => e.event !== 'alert'), [], 'the client learns nothing of what was withdrawn: no gap, no notice');
  });

  it('skips, for a reader of HIGH_VALUE alone, the alert on the version that left HIGH_VALUE, and keeps the one superseded only where it does not read', async () => {
    const client = await resumed('reader', liveAgain, '198.51.100.56');
    assert.deepEqual(alertsIn(client), [kept.id, superseded.id, live.id, liveAgain.id], 'the live alert of the test before is still for it');
  });

  it('ends the stream, sending nothing replayed, when it cannot read which collections hold the indicators (the client resumes from the same id)', async () => {
    const store = node.store as { latestEntriesByCollection: typeof node.store.latestEntriesByCollection };
    const original = store.latestEntriesByCollection;
    store.latestEntriesByCollection = () => Promise.reject(new Error('database is locked'));
    try {
      const client = await connectSse(`${base}/api/alerts/stream`, { authorization: `Bearer ${secrets.admin}`, 'last-event-id': markerId });
      const timedOut = new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 5000).unref());
      const outcome = await Promise.race([client.ended.then(() => 'ended' as const), timedOut]);
      client.close();
      assert.equal(outcome, 'ended', 'the server ends the stream');
      assert.deepEqual(client.events, [], 'not one alert that may have been recalled');
    } finally {
      store.latestEntriesByCollection = original;
    }
    assert.ok(node.logLines.some((line) => line.includes('cannot read which collections hold the indicators of the alerts replayed')));
  });
});
