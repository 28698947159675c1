import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isPeerSilent, lagSeconds, MAX_BACKOFF_SECONDS, nextSyncDelayMs } from './sync-timing.ts';

const middle = (): number => 0.5;

describe('nextSyncDelayMs', () => {
  it('waits one interval after a success', () => {
    assert.equal(nextSyncDelayMs(30, 0, middle), 30_000);
  });

  it('doubles the interval with each consecutive failure', () => {
    assert.deepEqual([0, 1, 2, 3, 4].map((failures) => nextSyncDelayMs(30, failures, middle)), [30_000, 60_000, 120_000, 240_000, 480_000]);
  });

  it('never waits longer than an hour after failures', () => {
    assert.equal(nextSyncDelayMs(30, 7, middle), 3_600_000);
    assert.equal(nextSyncDelayMs(30, 1000, middle), 3_600_000);
  });

  it('keeps an interval longer than an hour: failing never makes a peer asked less often', () => {
    assert.equal(nextSyncDelayMs(7200, 0, middle), 7_200_000);
    assert.equal(nextSyncDelayMs(7200, 5, middle), 7_200_000);
  });

  it('moves every delay by at most 20 % either way', () => {
    assert.equal(nextSyncDelayMs(100, 0, () => 0), 80_000);
    assert.equal(nextSyncDelayMs(100, 0, () => 0.999_999_999), 120_000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 86_400 }), fc.integer({ min: 0, max: 64 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (interval, failures, draw) => {
        const base = Math.min(Math.max(MAX_BACKOFF_SECONDS, interval), interval * 2 ** failures) * 1000;
        const delay = nextSyncDelayMs(interval, failures, () => draw);
        return delay >= Math.floor(base * 0.8) && delay <= Math.ceil(base * 1.2);
      }),
    );
  });
});

describe('isPeerSilent', () => {
  const peer = { intervalSeconds: 60, silentAfter: 3, createdAt: '2026-01-01T00:00:00.000Z', lastSuccessAt: '2026-01-01T01:00:00.000Z' };

  it('is silent once silentAfter intervals passed without a success', () => {
    assert.equal(isPeerSilent(peer, Date.parse('2026-01-01T01:02:59.999Z')), false);
    assert.equal(isPeerSilent(peer, Date.parse('2026-01-01T01:03:00.000Z')), true);
  });

  it('counts from the link itself when the peer never answered', () => {
    const never = { ...peer, lastSuccessAt: undefined };
    assert.equal(isPeerSilent(never, Date.parse('2026-01-01T00:02:00.000Z')), false);
    assert.equal(isPeerSilent(never, Date.parse('2026-01-01T00:03:00.000Z')), true);
  });
});

describe('lagSeconds', () => {
  it('is the whole seconds since the last success, or undefined before the first', () => {
    assert.equal(lagSeconds('2026-01-01T00:00:00.000Z', Date.parse('2026-01-01T00:01:30.900Z')), 90);
    assert.equal(lagSeconds(undefined, Date.now()), undefined);
  });
});
