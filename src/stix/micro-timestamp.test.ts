import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatMicroTimestamp, parseMicroTimestamp } from './micro-timestamp.ts';

describe('microsecond timestamps', () => {
  it('formats with exactly six fractional digits', () => {
    assert.equal(formatMicroTimestamp(Date.UTC(2026, 10, 22, 23, 11, 0) * 1000 + 123456), '2026-11-22T23:11:00.123456Z');
    assert.equal(formatMicroTimestamp(0), '1970-01-01T00:00:00.000000Z');
    assert.equal(formatMicroTimestamp(1), '1970-01-01T00:00:00.000001Z');
  });

  it('round-trips every microsecond between 1970 and 9999', () => {
    fc.assert(
      fc.property(fc.maxSafeNat().filter((n) => n <= 253402300799999 * 1000), (micros) => {
        assert.equal(parseMicroTimestamp(formatMicroTimestamp(micros)), micros);
      }),
    );
  });

  it('reads shorter and longer fractions (truncating beyond microseconds)', () => {
    const base = Date.UTC(2016, 10, 1, 3, 4, 5) * 1000;
    assert.equal(parseMicroTimestamp('2016-11-01T03:04:05Z'), base);
    assert.equal(parseMicroTimestamp('2016-11-01T03:04:05.1Z'), base + 100000);
    assert.equal(parseMicroTimestamp('2016-11-01T03:04:05.123456789Z'), base + 123456);
  });

  it('refuses what is not a STIX timestamp', () => {
    for (const text of ['', 'now', '2016-11-01', '2016-11-01T03:04:05', '2016-11-01T03:04:05+01:00', '2016-13-01T00:00:00Z', '2016-02-30T00:00:00Z', '2016-11-01T24:00:00Z', '2016-11-01T03:04:60Z', '２０16-11-01T03:04:05Z']) {
      assert.equal(parseMicroTimestamp(text), undefined, text);
    }
  });
});
