// An alert's confidence, as a token is shown it, counts only the sightings and opinions held in
// collections that token may read (security review F7): one matcher serves the whole node, and the
// confidence it compiles counts the evidence of every collection, so a token must not learn from the
// number that a collection it may not read holds a false-positive report about the indicator.
// - the POST's answer and the stream show each token the confidence (and severity) of what it reads;
// - evidence in a collection the token may read still counts;
// - the administrator, who reads every collection, is shown all of it.
// Which version of an indicator matches for a token is the newest it may read (below): the matcher
// compiles the latest version of each collection side by side, and a reader of several collections
// gets one alert, the newest's.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { severityOf } from '../../src/correlate/effective-confidence.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { ADD_TEST, SECRET, secrets, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { connectSse, ipIndicator, postObservedAddress } from './alert-test-kit.ts';

type Caller = keyof typeof secrets;
const bearer = (name: Caller): Record<string, string> => ({ authorization: `Bearer ${secrets[name]}` });

interface Shown {
  readonly indicator_id: string;
  readonly confidence: number;
  readonly severity: string;
}

const ip = '198.51.100.71';
const indicator = ipIndicator(71, ip, { name: 'Held in SECRET and ADD_TEST', confidence: 80 });
const disagreement = {
  type: 'opinion',
  spec_version: '2.1',
  id: 'opinion--a1e00000-0000-4000-8000-000000000071',
  created: '2026-01-02T00:00:00.000Z',
  modified: '2026-01-02T00:00:00.000Z',
  opinion: 'strongly-disagree',
  object_refs: [indicator.id],
  created_by_ref: 'identity--a1e00000-0000-4000-8000-0000000000ff',
} as unknown as StixObject;

function post(node: TestNode, caller: Caller, at: string): Promise<Shown[]> {
  return postObservedAddress<Shown>(node, bearer(caller), ip, at);
}

/**
 * The names of the alerts a token is answered with for one address it posts, each post on a day of
 * its own: a match in a window already open opens no alert.
 */
function alertNamesOn(nodeOf: () => TestNode): (caller: Caller, ip: string) => Promise<string[]> {
  let day = 0;
  return async (caller, ip) => {
    day++;
    const at = new Date(Date.UTC(2026, 10, 1) + day * 86_400_000).toISOString();
    const alerts = await postObservedAddress<{ indicator_name: string }>(nodeOf(), bearer(caller), ip, at);
    return alerts.map((a) => a.indicator_name);
  };
}

/** A node where SECRET (the administrator's only) and ADD_TEST (the analyst's) both hold the indicator. */
async function nodeWith(opinionIn: string | undefined): Promise<TestNode> {
  const node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
  await node.store.setMeta('default_collection', ADD_TEST);
  await node.store.addObjects(SECRET, [indicator]);
  await node.store.addObjects(ADD_TEST, [indicator]);
  if (opinionIn !== undefined) await node.store.addObjects(opinionIn, [disagreement]);
  await node.app.alerting.matcher.refresh();
  return node;
}

describe('an alert’s confidence counts only the evidence its reader may read', () => {
  /** The confidence of the alert where no collection holds a disagreement. */
  let undisputed: number;
  before(async () => {
    const node = await nodeWith(undefined);
    try {
      const alerts = await post(node, 'analyst', '2026-11-20T10:00:00Z');
      assert.equal(alerts.length, 1);
      undisputed = alerts[0]?.confidence ?? -1;
      assert.ok(undisputed > 0);
    } finally {
      await node.close();
    }
  });

  describe('a disagreement held in a collection the analyst may not read', () => {
    // A node of its own for each test: the node stores a sighting of each alert it raises (in ADD_TEST,
    // which the analyst reads), and its own sighting corroborates the indicator and renews its age once
    // a refresh takes it in (the timer, or a post 250 ms after the last refresh): on a shared node a test
    // after another would be shown 83, or 41 for the administrator, instead of 23, depending on time.
    let node: TestNode;
    beforeEach(async () => (node = await nodeWith(SECRET)));
    afterEach(() => node.close());

    it('leaves the confidence the analyst is answered with as if there were none', async () => {
      const [shown] = await post(node, 'analyst', '2026-11-20T10:00:00Z');
      assert.equal(shown?.confidence, undisputed);
      assert.equal(shown?.severity, severityOf(undisputed));
    });

    it('counts for the administrator, who reads SECRET', async () => {
      const [shown] = await post(node, 'admin', '2026-11-20T10:00:00Z');
      assert.ok(shown !== undefined && shown.confidence < undisputed, `${shown?.confidence} < ${undisputed}`);
      assert.equal(shown.severity, severityOf(shown.confidence));
    });

    it('shows each stream the confidence of what its token reads, for the same alert', async () => {
      await node.app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
      const admin = await connectSse(`${base}/api/alerts/stream`, bearer('admin'));
      const analyst = await connectSse(`${base}/api/alerts/stream`, bearer('analyst'));
      try {
        const [answered] = await post(node, 'analyst', '2026-11-21T10:00:00Z');
        const isAlert = (e: { event: string }): boolean => e.event === 'alert';
        const [byAdmin, byAnalyst] = await Promise.all([admin.waitFor(isAlert), analyst.waitFor(isAlert)]);
        assert.equal(byAdmin.id, byAnalyst.id, 'one event');
        const seenByAdmin = JSON.parse(byAdmin.data) as Shown;
        const seenByAnalyst = JSON.parse(byAnalyst.data) as Shown;
        assert.equal(seenByAnalyst.confidence, undisputed);
        assert.equal(answered?.confidence, seenByAnalyst.confidence, 'the POST answers the analyst as its stream shows it');
        assert.equal(seenByAnalyst.severity, severityOf(undisputed));
        assert.ok(seenByAdmin.confidence < undisputed);
      } finally {
        admin.close();
        analyst.close();
      }
    });
  });

  describe('a disagreement held in a collection the analyst may read', () => {
    let node: TestNode;
    before(async () => (node = await nodeWith(ADD_TEST)));
    after(() => node.close());

    it('counts for the analyst', async () => {
      const [shown] = await post(node, 'analyst', '2026-11-20T10:00:00Z');
      assert.ok(shown !== undefined && shown.confidence < undisputed, `${shown?.confidence} < ${undisputed}`);
    });
  });
});

describe('which version of an indicator matches for a token', () => {
  let node: TestNode;
  // Version 1 in ADD_TEST (the analyst's); version 2, newer, with another address, in SECRET only.
  const v1 = ipIndicator(72, '198.51.100.72', { name: 'Readable version' });
  const v2 = ipIndicator(72, '198.51.100.172', { modified: '2026-06-01T00:00:00.000Z', name: 'Unreadable version' });
  // The same pattern in both versions: a reader of both collections must get one alert, not two.
  const samePatternOlder = ipIndicator(73, '198.51.100.73', { name: 'Older, in ADD_TEST' });
  const samePatternNewer = ipIndicator(73, '198.51.100.73', { modified: '2026-06-01T00:00:00.000Z', name: 'Newer, in SECRET' });
  // The newest version revoked, or expired, where the analyst may not read.
  const beforeRevoked = ipIndicator(74, '198.51.100.74', { name: 'Valid in ADD_TEST, revoked in SECRET' });
  const revokedInSecret = ipIndicator(74, '198.51.100.74', { modified: '2026-06-01T00:00:00.000Z', revoked: true });
  const beforeExpired = ipIndicator(75, '198.51.100.75', { name: 'Valid in ADD_TEST, expired in SECRET' });
  const expiredInSecret = ipIndicator(75, '198.51.100.75', { modified: '2026-06-01T00:00:00.000Z', valid_until: '2026-06-02T00:00:00Z' });
  const alertsOf = alertNamesOn(() => node);

  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.setMeta('default_collection', ADD_TEST);
    await node.store.addObjects(ADD_TEST, [v1, samePatternOlder, beforeRevoked, beforeExpired]);
    await node.store.addObjects(SECRET, [v2, samePatternNewer, revokedInSecret, expiredInSecret]);
    await node.app.alerting.matcher.refresh();
  });
  after(() => node.close());

  it('is the newest it may read: a newer version held where it may not read neither suppresses its alert nor shows', async () => {
    assert.deepEqual(await alertsOf('analyst', '198.51.100.72'), ['Readable version']);
    assert.deepEqual(await alertsOf('analyst', '198.51.100.172'), []);
  });

  it('is the newest of the collections it reads for a reader of both: the older version’s address raises nothing', async () => {
    assert.deepEqual(await alertsOf('admin', '198.51.100.172'), ['Unreadable version']);
    assert.deepEqual(await alertsOf('admin', '198.51.100.72'), []);
  });

  it('raises one alert, the newest version’s, for a reader of both collections when both versions match', async () => {
    assert.deepEqual(await alertsOf('admin', '198.51.100.73'), ['Newer, in SECRET']);
    assert.deepEqual(await alertsOf('analyst', '198.51.100.73'), ['Older, in ADD_TEST']);
  });

  it('sends each stream the one alert of the newest version its token reads', async () => {
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
    const admin = await connectSse(`${base}/api/alerts/stream`, bearer('admin'));
    const analyst = await connectSse(`${base}/api/alerts/stream`, bearer('analyst'));
    try {
      await alertsOf('analyst', '198.51.100.73');
      // Then an alert each stream shows: had it been sent the other version's alert too, that would be before it.
      await alertsOf('analyst', '198.51.100.72');
      await alertsOf('analyst', '198.51.100.172');
      const namesUntil = async (stream: Awaited<ReturnType<typeof connectSse>>, last: string): Promise<string[]> => {
        const nameOf = (e: { data: string }): string => (JSON.parse(e.data) as { indicator_name: string }).indicator_name;
        await stream.waitFor((e) => e.event === 'alert' && nameOf(e) === last);
        return stream.events.filter((e) => e.event === 'alert').map(nameOf);
      };
      assert.deepEqual(await namesUntil(analyst, 'Readable version'), ['Older, in ADD_TEST', 'Readable version']);
      // The administrator reads SECRET too: its newest version of indicator 72 does not match .72.
      assert.deepEqual(await namesUntil(admin, 'Unreadable version'), ['Newer, in SECRET', 'Unreadable version']);
    } finally {
      admin.close();
      analyst.close();
    }
  });

  it('is not hidden by a revoked or expired newest version in a collection the token may not read', async () => {
    assert.deepEqual(await alertsOf('analyst', '198.51.100.74'), ['Valid in ADD_TEST, revoked in SECRET']);
    assert.deepEqual(await alertsOf('analyst', '198.51.100.75'), ['Valid in ADD_TEST, expired in SECRET']);
  });

  it('is withdrawn for a reader of the collection whose newest version is revoked or expired', async () => {
    assert.deepEqual(await alertsOf('admin', '198.51.100.74'), []);
    assert.deepEqual(await alertsOf('admin', '198.51.100.75'), []);
  });
});

// STIX 2.1 lets only an object's creator make new versions of it: a "newer version" another
// organisation wrote into some collection (any writer of a collection can) is another object in
// substance, and must not blind the readers of both collections to the genuine one.
describe('which version matches, when a newer version has another creator', () => {
  let node: TestNode;
  const creator = 'identity--a1e00000-0000-4000-8000-0000000000a0';
  const planter = 'identity--a1e00000-0000-4000-8000-0000000000b0';
  const genuine = ipIndicator(82, '198.51.100.82', { created_by_ref: creator, name: 'Genuine, in ADD_TEST' });
  const planted = ipIndicator(82, '198.51.100.182', { created_by_ref: planter, modified: '2026-06-01T00:00:00.000Z', name: 'Planted by another creator, in SECRET' });
  const genuineSamePattern = ipIndicator(83, '198.51.100.83', { created_by_ref: creator, name: 'Genuine 83, in ADD_TEST' });
  const plantedSamePattern = ipIndicator(83, '198.51.100.83', { created_by_ref: planter, modified: '2026-06-01T00:00:00.000Z', name: 'Planted 83, in SECRET' });
  // The creator's reference spelled in capitals: one identity.
  const older = ipIndicator(84, '198.51.100.84', { created_by_ref: creator, name: 'Version 1, in ADD_TEST' });
  const newerBySameCreator = ipIndicator(84, '198.51.100.184', { created_by_ref: creator.toUpperCase(), modified: '2026-06-01T00:00:00.000Z', name: 'Version 2 by the same creator, in SECRET' });
  const beforeRevoked = ipIndicator(85, '198.51.100.85', { created_by_ref: creator, name: 'Genuine 85, in ADD_TEST' });
  const revokedByPlanter = ipIndicator(85, '198.51.100.85', { created_by_ref: planter, modified: '2026-06-01T00:00:00.000Z', revoked: true });
  const beforeRevokedByCreator = ipIndicator(86, '198.51.100.86', { created_by_ref: creator, name: 'Genuine 86, in ADD_TEST' });
  const revokedByCreator = ipIndicator(86, '198.51.100.86', { created_by_ref: creator, modified: '2026-06-01T00:00:00.000Z', revoked: true });
  const namesOf = alertNamesOn(() => node);
  /** In name order: one observation may raise the alerts of both versions. */
  const alertsOf = async (caller: Caller, ip: string): Promise<string[]> => (await namesOf(caller, ip)).sort();

  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.setMeta('default_collection', ADD_TEST);
    await node.store.addObjects(ADD_TEST, [genuine, genuineSamePattern, older, beforeRevoked, beforeRevokedByCreator]);
    await node.store.addObjects(SECRET, [planted, plantedSamePattern, newerBySameCreator, revokedByPlanter, revokedByCreator]);
    await node.app.alerting.matcher.refresh();
  });
  after(() => node.close());

  it('does not hide the genuine version from a reader of both collections: it gets the alerts of both', async () => {
    const from = node.app.alerting.bus.nextId;
    assert.deepEqual(await alertsOf('admin', '198.51.100.82'), ['Genuine, in ADD_TEST']);
    // Nor from what reads every collection (a webhook, the node's own observed-data): nothing newer by its creator.
    const [event] = node.app.alerting.bus.since(from - 1).events;
    assert.deepEqual([event?.collections, event?.newerIn], [[ADD_TEST], undefined]);
    assert.deepEqual(await alertsOf('admin', '198.51.100.182'), ['Planted by another creator, in SECRET']);
    assert.deepEqual(await alertsOf('analyst', '198.51.100.82'), ['Genuine, in ADD_TEST']);
  });

  it('raises an alert of each when both match the same observation', async () => {
    assert.deepEqual(await alertsOf('admin', '198.51.100.83'), ['Genuine 83, in ADD_TEST', 'Planted 83, in SECRET']);
    assert.deepEqual(await alertsOf('analyst', '198.51.100.83'), ['Genuine 83, in ADD_TEST']);
  });

  it('still hides an older version behind a newer one by the same creator (its reference in any letter case)', async () => {
    assert.deepEqual(await alertsOf('admin', '198.51.100.84'), []);
    assert.deepEqual(await alertsOf('admin', '198.51.100.184'), ['Version 2 by the same creator, in SECRET']);
    assert.deepEqual(await alertsOf('analyst', '198.51.100.84'), ['Version 1, in ADD_TEST']);
  });

  it('is withdrawn by a revocation of its creator only', async () => {
    assert.deepEqual(await alertsOf('admin', '198.51.100.85'), ['Genuine 85, in ADD_TEST']);
    assert.deepEqual(await alertsOf('admin', '198.51.100.86'), []);
  });
});

describe('which version matches, as versions are removed from a collection or added to it', () => {
  let node: TestNode;
  const older = ipIndicator(76, '198.51.100.76', { name: 'Version 1, in ADD_TEST' });
  const newer = ipIndicator(76, '198.51.100.176', { modified: '2026-06-01T00:00:00.000Z', name: 'Version 2, in SECRET' });
  const newest = ipIndicator(76, '198.51.100.76', { modified: '2026-07-01T00:00:00.000Z', name: 'Version 3, in ADD_TEST' });
  const alertsOf = alertNamesOn(() => node);

  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.setMeta('default_collection', ADD_TEST);
    await node.store.addObjects(ADD_TEST, [older]);
    await node.store.addObjects(SECRET, [newer]);
    await node.app.alerting.matcher.refresh();
  });
  after(() => node.close());

  it('follows a newer version added to the collection a token reads', async () => {
    assert.deepEqual(await alertsOf('analyst', '198.51.100.76'), ['Version 1, in ADD_TEST']);
    assert.deepEqual(await alertsOf('admin', '198.51.100.76'), []);
    await node.store.addObjects(ADD_TEST, [newest]);
    await node.app.alerting.matcher.refresh();
    assert.deepEqual(await alertsOf('analyst', '198.51.100.76'), ['Version 3, in ADD_TEST']);
    assert.deepEqual(await alertsOf('admin', '198.51.100.76'), ['Version 3, in ADD_TEST']);
    assert.deepEqual(await alertsOf('admin', '198.51.100.176'), []);
  });

  it('follows the removal of that version: the collection’s older one matches again for its readers, the other collection’s for its own', async () => {
    assert.equal(await node.store.deleteObject(ADD_TEST, newest.id, { versions: [{ kind: 'at', version: '2026-07-01T00:00:00.000Z' }] }), 1);
    await node.app.alerting.matcher.refresh();
    assert.deepEqual(await alertsOf('analyst', '198.51.100.76'), ['Version 1, in ADD_TEST']);
    assert.deepEqual(await alertsOf('admin', '198.51.100.76'), []);
    assert.deepEqual(await alertsOf('admin', '198.51.100.176'), ['Version 2, in SECRET']);
  });

  it('follows the removal of the newer version from the other collection: the older one is the newest again for a reader of both', async () => {
    assert.equal(await node.store.deleteObject(SECRET, newer.id, {}), 1);
    await node.app.alerting.matcher.refresh();
    assert.deepEqual(await alertsOf('admin', '198.51.100.76'), ['Version 1, in ADD_TEST']);
    assert.deepEqual(await alertsOf('admin', '198.51.100.176'), []);
  });

  it('follows the removal of the last version: no alert for anyone', async () => {
    assert.equal(await node.store.deleteObject(ADD_TEST, older.id, {}), 1);
    await node.app.alerting.matcher.refresh();
    assert.deepEqual(await alertsOf('analyst', '198.51.100.76'), []);
    assert.deepEqual(await alertsOf('admin', '198.51.100.76'), []);
  });
});
