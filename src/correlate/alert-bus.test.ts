import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertBus, isNoticeEvent, type AlertEvent, type AlertJson, type BusEvent, type BusRelay, type NoticeEvent } from './alert-bus.ts';
import { AlertSequencer } from './alert-sequencer.ts';

const alert: Omit<AlertJson, 'alert_id'> = {
  indicator_id: 'indicator--a1e00000-0000-4000-8000-000000000001', indicator_name: null,
  observable: { type: 'ipv4-addr', path: 'value', value: '198.51.100.1' }, first_seen: '2026-11-23T10:00:00Z', last_seen: '2026-11-23T10:00:00Z',
  count: 1, confidence: 80, severity: 'high', input: 'test', line: 1, sighting_id: null, raised_at: '2026-11-23T10:00:00Z',
};
const notice = { kind: 'flash' as const, raised_at: '2026-11-23T10:00:01Z', summary: 'Flash', details: { flash_id: 'f1' } };

describe('alert bus notices', () => {
  it('numbers notices with the alerts; alert subscribers (webhooks) never see a notice, notice subscribers see no alert', async () => {
    const bus = new AlertBus(8);
    const alerts: number[] = [];
    const notices: NoticeEvent[] = [];
    bus.subscribe((event) => alerts.push(event.id));
    bus.subscribeNotices((event) => notices.push(event));
    void bus.publish(alert, ['c']);
    const published = await bus.publishNotice(notice);
    void bus.publish(alert, ['c']);
    assert.deepEqual(alerts, [1, 3]);
    assert.deepEqual(notices.map((event) => [event.id, event.notice.notice_id, event.notice.kind]), [[2, '2', 'flash']]);
    assert.equal(published.id, 2);
  });

  it('since() keeps giving alerts only; eventsSince() gives both in order, for a resuming stream', () => {
    const bus = new AlertBus(4);
    void bus.publish(alert, ['c']);
    void bus.publishNotice(notice);
    void bus.publish(alert, ['c']);
    assert.deepEqual(bus.since(0).events.map((event) => event.id), [1, 3]);
    const { events, complete } = bus.eventsSince(0);
    assert.deepEqual(events.map((event) => [event.id, isNoticeEvent(event)]), [[1, false], [2, true], [3, false]]);
    assert.equal(complete, true);
    for (let n = 0; n < 4; n++) bus.publishNotice(notice);
    assert.equal(bus.eventsSince(0).complete, false, 'notices take room in the ring like alerts');
  });
});

/** Workers of one node in this process: each bus's relay posts to one sequencer, which sends every event to all of them, asynchronously as IPC does. */
function workers(ringSize = 8): { add: () => { bus: AlertBus; raisedHere: number[]; seen: number[] }; sequencer: AlertSequencer } {
  const deliveries: ((event: BusEvent, origin: string | undefined, replayed: boolean) => void)[] = [];
  const sequencer = new AlertSequencer(ringSize, (message) => {
    for (const deliver of deliveries) setImmediate(() => deliver(message.event, message.origin, false));
  });
  return {
    sequencer,
    add() {
      let mine: ((event: BusEvent, origin: string | undefined, replayed: boolean) => void) | undefined;
      const relay: BusRelay = {
        send: (origin, raised) => {
          setImmediate(() => sequencer.sequence({ entente: 'bus-raise', origin, raised }));
          return true;
        },
        listen: (deliver) => {
          mine = deliver;
          deliveries.push(deliver);
        },
      };
      const bus = new AlertBus(ringSize, relay);
      for (const event of sequencer.replay().events) mine?.(event, undefined, true);
      const raisedHere: number[] = [];
      const seen: number[] = [];
      bus.subscribeRaisedHere((event) => raisedHere.push(event.id));
      bus.subscribe((event) => seen.push(event.id));
      return { bus, raisedHere, seen };
    },
  };
}

describe('alert bus relayed across worker processes', () => {
  it('gives every event one id on every worker, shows each worker the alerts raised on all, and tells each which were its own', async () => {
    const node = workers();
    const one = node.add();
    const two = node.add();
    const raised = await Promise.all([one.bus.publish(alert, ['c']), two.bus.publish(alert, ['c']), one.bus.publishNotice(notice), two.bus.publish(alert, ['c'])]);
    assert.deepEqual(raised.map((event) => event.id).sort(), [1, 2, 3, 4], 'one numbering, no id given twice');
    assert.deepEqual(one.seen, two.seen, 'the same alerts in the same order on both workers');
    assert.equal(one.seen.length, 3);
    assert.deepEqual([...one.raisedHere, ...two.raisedHere].sort(), [...one.seen].sort(), 'each alert is its raising worker\'s own (webhooks deliver it once)');
    assert.ok(one.raisedHere.every((id) => !two.raisedHere.includes(id)));
    const resolved = raised[0] as AlertEvent;
    assert.equal(resolved.alert.alert_id, String(resolved.id));
    assert.deepEqual(one.bus.eventsSince(1).events.map((event) => event.id), [2, 3, 4]);
    assert.deepEqual(two.bus.eventsSince(1).events.map((event) => event.id), [2, 3, 4], 'a client resumes on either worker');
  });

  it('carries what an alert\'s confidence is made of to every worker, for each stream to show its token its own', async () => {
    const node = workers();
    const one = node.add();
    const two = node.add();
    const basis = { inputs: { statedConfidence: 80, producer: undefined, since: 0, now: 0 }, byCollection: { c: [{ organisation: 'identity--a', falsePositive: true, seenAt: 1 }] } };
    await one.bus.publish(alert, ['c'], basis);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(two.bus.since(0).events.map((event) => event.basis), [basis]);
    await one.bus.publish(alert, ['c']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(two.bus.since(1).events[0]?.basis, undefined);
  });

  it('fills the ring of a worker that starts later, so that a client connected elsewhere resumes there; nobody is notified of the past', async () => {
    const node = workers();
    const one = node.add();
    for (let n = 0; n < 3; n++) await one.bus.publish(alert, ['c']);
    const late = node.add();
    assert.deepEqual(late.seen, []);
    assert.equal(late.bus.nextId, 4);
    assert.deepEqual(late.bus.eventsSince(1).events.map((event) => event.id), [2, 3]);
    await one.bus.publish(alert, ['c']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(late.seen, [4]);
  });

  it('numbers an event itself when the channel to the primary is closed, rather than losing it', async () => {
    const bus = new AlertBus(8, { send: () => false, listen: () => undefined });
    const seen: number[] = [];
    bus.subscribeRaisedHere((event) => seen.push(event.id));
    assert.equal((await bus.publish(alert, ['c'])).id, 1);
    assert.deepEqual(seen, [1]);
  });
});
