// Event ids a token is shown (`alert_id`, `notice_id`, the stream's `id:`) must not tell it how many
// events it was not shown. Every alert, hidden or not, takes the next number of the node-wide bus;
// when that number was shown, a home token reading one collection learnt whether a value it posted
// matches an indicator of a collection it may NOT read from the gap in the alert_id of its next
// visible alert (ids 1, 2, 4: a hit on the hidden 203.0.113.66). The ids are now sealed (opaque,
// authenticated): a client hands one back as Last-Event-ID to resume, and can neither read nor
// compare them; one the node did not issue starts the stream afresh with `event: gap`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { openTestHttpApp } from '../circles/test-http-app.ts';
import { connectSse, type SseClient } from './alert-test-kit.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');
const ANALYST = 'ent_home-analyst-00000000000000000000000000000';
const HIDDEN_IP = '203.0.113.66';
const VISIBLE = Array.from({ length: 12 }, (_, i) => `198.51.100.${i + 1}`);

const indicator = (n: number, ip: string) => ({
  type: 'indicator', spec_version: '2.1', id: `indicator--cccccccc-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, created: '2026-02-01T00:00:00.000Z',
  modified: '2026-02-01T00:00:00.000Z', created_by_ref: HOME, name: `ind ${n}`, pattern: `[ipv4-addr:value = '${ip}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z',
});

interface Answer {
  alerts_raised: number;
  alerts: { alert_id: string; observable: { value?: string } }[];
}

describe('alert ids shown to a token do not count the alerts it may not see', () => {
  let store: ObjectStore;
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
    await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: CREATED.toISOString(), modified: CREATED.toISOString(), name: 'Home', identity_class: 'organization' }));
    await store.createCollection({ id: 'feeds', title: 'feeds' }, CREATED);
    await store.createCollection({ id: 'secret', title: 'secret (admin only)' }, CREATED);
    await store.addObjects('feeds', VISIBLE.map((ip, i) => indicator(i + 1, ip)) as never);
    await store.addObjects('secret', [indicator(99, HIDDEN_IP)] as never);
    await store.createToken({ name: 'analyst', secretHash: hashTokenSecret(ANALYST), admin: false, organisationId: HOME, createdAt: CREATED.toISOString(), revokedAt: undefined, grants: [{ collectionId: 'feeds', read: true, write: false }] });
    app = await openTestHttpApp(store, HOME, AT);
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  const post = async (ip: string): Promise<Answer> => {
    const reply = await app.inject({ method: 'POST', url: '/api/observations', headers: { authorization: `Bearer ${ANALYST}`, 'content-type': 'application/x-ndjson', accept: 'application/json' }, payload: JSON.stringify({ type: 'ipv4-addr', value: ip }) });
    assert.equal(reply.statusCode, 200, reply.body);
    return reply.json<Answer>();
  };
  const stream = (headers: Record<string, string> = {}): Promise<SseClient> => connectSse(`${base}/api/alerts/stream`, { authorization: `Bearer ${ANALYST}`, ...headers });
  const alertsOn = (client: SseClient) => client.events.filter((e) => e.event === 'alert');

  /** The alert ids the analyst was shown, in the order its alerts were raised. */
  const shown: string[] = [];

  it('shows ids that carry no number: a hidden match between two visible alerts leaves no trace in them', async () => {
    const watching = await stream();
    const visibleAlert = async (ip: string): Promise<string> => {
      const answer = await post(ip);
      assert.equal(answer.alerts_raised, 1);
      const id = answer.alerts[0]?.alert_id ?? assert.fail('no alert');
      shown.push(id);
      return id;
    };
    await visibleAlert(VISIBLE[0] ?? '');
    assert.equal((await post('203.0.113.65')).alerts_raised, 0, 'a miss');
    await visibleAlert(VISIBLE[1] ?? '');
    assert.equal((await post(HIDDEN_IP)).alerts_raised, 0, 'the hidden alert itself is not shown');
    // Past the ninth event: a number's length must not show through either.
    for (const ip of VISIBLE.slice(2)) await visibleAlert(ip);

    for (const id of shown) assert.doesNotMatch(id, /^\d+$/, 'an alert id is not a number');
    assert.equal(new Set(shown).size, shown.length, 'each alert has its own id');
    assert.equal(new Set(shown.map((id) => id.length)).size, 1, 'every id has the same length, whatever the count behind it');
    await watching.waitFor((e) => e.event === 'alert' && e.id === shown.at(-1), 5000);
    assert.deepEqual(alertsOn(watching).map((e) => e.id), shown, 'the stream shows the id the POST answered with');
    assert.deepEqual(alertsOn(watching).map((e) => (JSON.parse(e.data) as { alert_id: string }).alert_id), shown, 'and carries it as alert_id');
    watching.close();
  });

  it('resumes after an id it showed: the visible alerts that followed, in order, and no hidden one', async () => {
    assert.ok(shown.length > 2, 'the first test ran');
    const resumed = await stream({ 'last-event-id': shown[0] ?? '' });
    await resumed.waitFor((e) => e.id === shown.at(-1), 5000);
    assert.deepEqual(alertsOn(resumed).map((e) => e.id), shown.slice(1));
    assert.equal(resumed.events.some((e) => e.event === 'gap'), false);
    resumed.close();
  });

  it('starts afresh, saying so with event: gap, from an id it did not issue (a number, an id altered)', async () => {
    const altered = `${(shown[0] ?? '').slice(0, 5)}${(shown[0] ?? '').at(5) === 'A' ? 'B' : 'A'}${(shown[0] ?? '').slice(6)}`;
    for (const lastEventId of ['2', altered, `${shown[0] ?? ''}A`]) {
      const client = await stream({ 'last-event-id': lastEventId });
      const gap = await client.waitFor((e) => e.event === 'gap', 5000);
      assert.deepEqual(JSON.parse(gap.data), { reason: 'unknown-last-event-id' }, lastEventId);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(alertsOn(client), [], 'nothing is replayed');
      client.close();
    }
  });

  it('says so with event: gap, naming the id it was given, when the events after that id were overwritten', async () => {
    const bus = app.alerting.bus;
    for (let n = 0; n <= bus.ringSize; n++) await bus.publishNotice({ kind: 'peer-silent', raised_at: AT.toISOString(), summary: 'a peer is silent', details: { peer: 'p' } });
    const client = await stream({ 'last-event-id': shown[0] ?? '' });
    const gap = await client.waitFor((e) => e.event === 'gap', 5000);
    assert.deepEqual(JSON.parse(gap.data), { reason: 'overwritten', after: shown[0] });
    client.close();
  });
});
