import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertBus, isNoticeEvent, type AlertJson, type NoticeEvent } from './alert-bus.ts';

const alert: Omit<AlertJson, 'alert_id'> = {
  indicator_id: 'indicator--a1e00000-0000-4000-8000-000000000001', indicator_name: null,
  observable: { type: 'ipv4-addr', path: 'value', value: '198.51.100.1' }, first_seen: '2026-11-23T10:00:00Z', last_seen: '2026-11-23T10:00:00Z',
  count: 1, confidence: 80, severity: 'high', input: 'test', line: 1, sighting_id: null, raised_at: '2026-11-23T10:00:00Z',
};
const notice = { kind: 'flash' as const, raised_at: '2026-11-23T10:00:01Z', summary: 'Flash', details: { flash_id: 'f1' } };

describe('alert bus notices', () => {
  it('numbers notices with the alerts; alert subscribers (webhooks) never see a notice, notice subscribers see no alert', () => {
    const bus = new AlertBus(8);
    const alerts: number[] = [];
    const notices: NoticeEvent[] = [];
    bus.subscribe((event) => alerts.push(event.id));
    bus.subscribeNotices((event) => notices.push(event));
    bus.publish(alert, ['c']);
    const published = bus.publishNotice(notice);
    bus.publish(alert, ['c']);
    assert.deepEqual(alerts, [1, 3]);
    assert.deepEqual(notices.map((event) => [event.id, event.notice.notice_id, event.notice.kind]), [[2, '2', 'flash']]);
    assert.equal(published.id, 2);
  });

  it('since() keeps giving alerts only; eventsSince() gives both in order, for a resuming stream', () => {
    const bus = new AlertBus(4);
    bus.publish(alert, ['c']);
    bus.publishNotice(notice);
    bus.publish(alert, ['c']);
    assert.deepEqual(bus.since(0).events.map((event) => event.id), [1, 3]);
    const { events, complete } = bus.eventsSince(0);
    assert.deepEqual(events.map((event) => [event.id, isNoticeEvent(event)]), [[1, false], [2, true], [3, false]]);
    assert.equal(complete, true);
    for (let n = 0; n < 4; n++) bus.publishNotice(notice);
    assert.equal(bus.eventsSince(0).complete, false, 'notices take room in the ring like alerts');
  });
});
