// An alert's confidence, as a token is shown it, counts only the sightings and opinions held in
// collections that token may read (security review F7): one matcher serves the whole node, and the
// confidence it compiles counts the evidence of every collection, so a token must not learn from the
// number that a collection it may not read holds a false-positive report about the indicator.
// - the POST's answer and the stream show each token the confidence (and severity) of what it reads;
// - evidence in a collection the token may read still counts;
// - the administrator, who reads every collection, is shown all of it.
// Not yet so for which version matches (todo below): the matcher compiles one version of each
// indicator, the newest any collection holds, so a newer version held where a token may not read
// still takes the place of the version it may read, and the token gets no alert on that one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { severityOf } from '../../src/correlate/effective-confidence.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { ADD_TEST, SECRET, secrets, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { connectSse, ipIndicator } from './alert-test-kit.ts';

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

async function post(node: TestNode, caller: Caller, at: string): Promise<Shown[]> {
  const line = JSON.stringify({ type: 'observed-data', first_observed: at, last_observed: at, objects: { '0': { type: 'ipv4-addr', value: ip } } });
  const response = await node.app.inject({
    method: 'POST', url: '/api/observations',
    headers: { ...bearer(caller), 'content-type': 'application/x-ndjson', accept: 'application/json' },
    payload: line,
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ alerts: Shown[] }>().alerts;
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
    let node: TestNode;
    before(async () => (node = await nodeWith(SECRET)));
    after(() => node.close());

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
        await post(node, 'analyst', '2026-11-21T10:00:00Z');
        const isAlert = (e: { event: string }): boolean => e.event === 'alert';
        const [byAdmin, byAnalyst] = await Promise.all([admin.waitFor(isAlert), analyst.waitFor(isAlert)]);
        assert.equal(byAdmin.id, byAnalyst.id, 'one event');
        const seenByAdmin = JSON.parse(byAdmin.data) as Shown;
        const seenByAnalyst = JSON.parse(byAnalyst.data) as Shown;
        assert.equal(seenByAnalyst.confidence, undisputed);
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
  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.setMeta('default_collection', ADD_TEST);
    await node.store.addObjects(ADD_TEST, [v1]);
    await node.store.addObjects(SECRET, [v2]);
    await node.app.alerting.matcher.refresh();
  });
  after(() => node.close());

  it('is the newest it may read: a newer version held where it may not read neither suppresses its alert nor shows', {
    todo: 'one matcher compiles the newest version any collection holds (load-indicators.ts): needs every version that is the latest of some collection compiled',
  }, async () => {
    const at = '2026-11-20T10:00:00Z';
    const line = JSON.stringify({ type: 'observed-data', first_observed: at, last_observed: at, objects: { '0': { type: 'ipv4-addr', value: '198.51.100.72' } } });
    const response = await node.app.inject({
      method: 'POST', url: '/api/observations',
      headers: { ...bearer('analyst'), 'content-type': 'application/x-ndjson', accept: 'application/json' },
      payload: line,
    });
    assert.deepEqual(response.json<{ alerts: { indicator_name: string }[] }>().alerts.map((a) => a.indicator_name), ['Readable version']);
  });
});
