import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertAggregator, maxOpenAlerts } from './alert-aggregator.ts';
import type { IndicatorMatch } from './bulk-matcher.ts';
import { sightingObjects } from './sighting-objects.ts';
import { validateForIngest } from '../store/validate-for-ingest.ts';
import { observation } from './test-support.ts';

const indicatorId = 'indicator--00000000-0000-4000-8000-0000000000aa';

function match(value: string, at: string, line = 1): IndicatorMatch {
  return {
    indicatorId,
    name: 'C2',
    confidence: 80,
    observable: { type: 'ipv4-addr', path: 'ipv4-addr:value', value },
    observations: [observation([{ type: 'ipv4-addr', value }], at, line)],
  };
}

describe('alert deduplication per (indicator, observable, window)', () => {
  it('the first match opens an alert; later ones in the window move last_seen and the count', () => {
    const alerts = new AlertAggregator(3600);
    assert.ok(alerts.record(match('198.51.100.7', '2026-06-01T12:10:00.000Z', 3)));
    assert.equal(alerts.record(match('198.51.100.7', '2026-06-01T12:50:00.000Z', 9)), undefined);
    assert.equal(alerts.record(match('198.51.100.7', '2026-06-01T12:05:00.000Z', 12)), undefined);
    const [alert, ...rest] = alerts.close();
    assert.equal(rest.length, 0);
    assert.deepEqual([alert?.firstSeen, alert?.lastSeen, alert?.count, alert?.line], ['2026-06-01T12:05:00.000Z', '2026-06-01T12:50:00.000Z', 3, 3]);
  });

  it('another observable or another window is another alert', () => {
    const alerts = new AlertAggregator(3600);
    alerts.record(match('198.51.100.7', '2026-06-01T12:10:00.000Z'));
    alerts.record(match('198.51.100.8', '2026-06-01T12:10:00.000Z'));
    alerts.record(match('198.51.100.7', '2026-06-01T13:00:00.000Z'));
    assert.equal(alerts.size, 3);
  });

  it('another version of the indicator (another variant compiled beside it) is another alert: each has its own readers', () => {
    const alerts = new AlertAggregator(3600);
    assert.equal(alerts.record(match('198.51.100.7', '2026-06-01T12:10:00.000Z'))?.variant, 0);
    assert.equal(alerts.record({ ...match('198.51.100.7', '2026-06-01T12:20:00.000Z'), variant: 2 })?.variant, 2);
    assert.equal(alerts.record({ ...match('198.51.100.7', '2026-06-01T12:30:00.000Z'), variant: 2 }), undefined);
    assert.equal(alerts.size, 2);
  });

  it('given the version a variant was compiled from, the window is that version’s whatever number a later matcher gives it', () => {
    const alerts = new AlertAggregator(3600);
    const v1 = '2026-01-01T00:00:00.000Z';
    const v2 = '2026-06-01T00:00:00.000Z';
    assert.equal(alerts.record(match('198.51.100.7', '2026-06-01T12:10:00.000Z'), '', v2)?.version, v2);
    // A rebuilt matcher numbers v1 0 and v2 1: v1 opens its own alert, v2 stays in its window.
    assert.equal(alerts.record(match('198.51.100.7', '2026-06-01T12:20:00.000Z'), '', v1)?.version, v1);
    assert.equal(alerts.record({ ...match('198.51.100.7', '2026-06-01T12:30:00.000Z'), variant: 1 }, '', v2), undefined);
    // A key as written: the same instant spelled otherwise is another version.
    assert.equal(alerts.record(match('198.51.100.7', '2026-06-01T12:40:00.000Z'), '', '2026-06-01T00:00:00Z')?.version, '2026-06-01T00:00:00Z');
    assert.deepEqual(alerts.close().map((a) => [a.version, a.count]), [[v2, 2], [v1, 1], ['2026-06-01T00:00:00Z', 1]]);
  });

  it('closing a window returns the alerts of earlier windows only, oldest first', () => {
    const alerts = new AlertAggregator(60);
    alerts.record(match('198.51.100.7', '2026-06-01T12:02:30.000Z'));
    alerts.record(match('198.51.100.7', '2026-06-01T12:00:10.000Z'));
    const closed = alerts.close(alerts.windowOf('2026-06-01T12:02:00.000Z'));
    assert.deepEqual(
      closed.map((a) => a.firstSeen),
      ['2026-06-01T12:00:10.000Z'],
    );
    assert.equal(alerts.size, 1);
  });
});

describe('sightings of an alert', () => {
  it('a valid STIX sighting of the indicator by the home organisation, with its observed-data and SCOs', () => {
    const alerts = new AlertAggregator(3600);
    const traffic = observation(
      [
        { type: 'ipv4-addr', value: '10.0.0.5' },
        { type: 'ipv4-addr', value: '198.51.100.7' },
        { type: 'network-traffic', src_ref: '0', dst_ref: '1', dst_port: 443, protocols: ['tcp'] },
      ],
      '2026-06-01T12:00:00.000Z',
    );
    alerts.record({ ...match('198.51.100.7', '2026-06-01T12:00:00.000Z'), observations: [traffic] });
    alerts.record(match('198.51.100.7', '2026-06-01T12:30:00.000Z'));
    const [alert] = alerts.close();
    let n = 0;
    const home = 'identity--11111111-1111-4111-8111-111111111111';
    const made = sightingObjects(alert!, { homeOrganisationId: home, now: '2026-06-02T00:00:00.000Z', randomUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` });
    for (const object of made.objects) assert.equal(validateForIngest(object).valid, true, JSON.stringify([object, validateForIngest(object).issues]));
    const { sighting, observedData } = made;
    assert.equal(sighting['sighting_of_ref'], indicatorId);
    assert.deepEqual(sighting['where_sighted_refs'], [home]);
    assert.equal(sighting['created_by_ref'], home);
    assert.deepEqual(sighting['observed_data_refs'], [observedData.id]);
    assert.deepEqual([sighting['count'], sighting['first_seen'], sighting['last_seen']], [2, '2026-06-01T12:00:00.000Z', '2026-06-01T12:30:00.000Z']);
    assert.deepEqual([observedData['first_observed'], observedData['last_observed'], observedData['number_observed']], ['2026-06-01T12:00:00.000Z', '2026-06-01T12:30:00.000Z', 2]);
    const scos = made.objects.filter((o) => o.type !== 'sighting' && o.type !== 'observed-data');
    assert.deepEqual(observedData['object_refs'], scos.map((s) => s.id));
    const nt = scos.find((s) => s.type === 'network-traffic');
    const dst = scos.find((s) => s.id === nt?.['dst_ref']);
    assert.equal(dst?.['value'], '198.51.100.7', 'references point at the SCOs by their STIX ids');
    assert.match(String(dst?.id), /^ipv4-addr--[0-9a-f-]{36}$/);
  });

  it('SCOs get deterministic ids whatever id the log gave; refused SCOs are left out, and with none left the sighting stands alone', () => {
    const alerts = new AlertAggregator(3600);
    const logged = observation([{ type: 'ipv4-addr', id: 'ipv4-addr--1', value: '198.51.100.7' }], '2026-06-01T12:00:00.000Z');
    alerts.record({ ...match('198.51.100.7', '2026-06-01T12:00:00.000Z'), observations: [logged] });
    const [alert] = alerts.close();
    let n = 0;
    const context = { homeOrganisationId: 'identity--11111111-1111-4111-8111-111111111111', now: '2026-06-02T00:00:00.000Z', randomUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` };
    const kept = sightingObjects(alert!, context);
    assert.match(String(kept.objects[0]?.id), /^ipv4-addr--[0-9a-f]{8}-[0-9a-f]{4}-5/, 'UUIDv5 from the value');
    const alone = sightingObjects(alert!, context, () => false);
    assert.deepEqual(alone.objects.map((o) => o.type), ['sighting']);
    assert.equal(alone.sighting['observed_data_refs'], undefined);
    assert.equal(validateForIngest(alone.sighting).valid, true);
  });
});

describe('windows per scope (what the caller may read)', () => {
  it('a match in another scope opens its own alert; the same scope shares the window', () => {
    const alerts = new AlertAggregator(3600);
    assert.ok(alerts.record(match('198.51.100.7', '2026-06-01T12:10:00.000Z'), 'reads:a'));
    assert.ok(alerts.record(match('198.51.100.7', '2026-06-01T12:20:00.000Z')), 'a caller that reads everything is not suppressed');
    assert.equal(alerts.record(match('198.51.100.7', '2026-06-01T12:30:00.000Z'), 'reads:a'), undefined);
    assert.equal(alerts.record(match('198.51.100.7', '2026-06-01T12:40:00.000Z'), ''), undefined);
    assert.deepEqual(alerts.close().map((a) => a.count), [2, 2]);
  });
});

describe('bounded open alerts', () => {
  it('at the cap, opening one more hands the oldest open alert to the next close, whatever its window', () => {
    const alerts = new AlertAggregator(3600, { maxOpen: 3 });
    for (const value of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) alerts.record(match(value, '2026-06-01T12:10:00.000Z'));
    assert.ok(alerts.record(match('198.51.100.4', '2026-06-01T12:20:00.000Z')));
    // Held until handed out: a caller closing windows once it holds more than the cap (entente match) still does.
    assert.equal(alerts.size, 4);
    assert.equal(alerts.evicted, 1);
    // The window of 12:00 is not closed yet, but the alert pushed out is: its count is final.
    const closed = alerts.close(alerts.windowOf('2026-06-01T12:00:00.000Z'));
    assert.deepEqual(
      closed.map((alert) => alert.observable.value),
      ['198.51.100.1'],
    );
    assert.equal(alerts.size, 3);
  });

  it('the node matcher gets the cap entente match closes windows at, 100,000, by default', () => {
    assert.equal(maxOpenAlerts, 100_000);
    const alerts = new AlertAggregator(3600);
    for (let i = 0; i < 100_001; i++) alerts.record(match(`10.0.${i >> 8}.${i & 255}-${i}`, '2026-06-01T12:10:00.000Z'));
    assert.equal(alerts.evicted, 1);
    assert.equal(alerts.close(alerts.windowOf('2026-06-01T12:10:00.000Z')).length, 1);
    assert.equal(alerts.size, 100_000);
  });

  it('an alert stamped more than a window past the closing point is closed with it: a future first_observed does not keep it open for ever', () => {
    const alerts = new AlertAggregator(3600);
    alerts.record(match('198.51.100.1', '2026-06-01T12:10:00.000Z'));
    alerts.record(match('198.51.100.2', '2026-06-01T13:10:00.000Z'));
    alerts.record(match('198.51.100.3', '2099-01-01T00:00:00.000Z'));
    // As the node closes every refresh: the windows before the one before now (now: 13:10).
    const closed = alerts.close(alerts.windowOf('2026-06-01T12:10:00.000Z'));
    assert.deepEqual(
      closed.map((alert) => alert.observable.value),
      ['198.51.100.3'],
    );
    assert.equal(alerts.size, 2);
  });
});
