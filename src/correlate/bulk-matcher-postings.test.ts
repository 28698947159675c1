// What the matcher's indexes hold as partners revoke their exact indicators, which keep no pattern to
// unpost: counted through stats(), never timed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher } from './bulk-matcher.ts';
import { fingerprintOf } from './value-fingerprints.ts';
import { indicator, ip, matchedIds, now } from './test-support.ts';
import type { JsonRecord } from './log-observation.ts';

const partner = 'identity--a1e00000-0000-4000-8000-0000000000a1';
const address = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

describe('bulk matcher: postings of removed exact indicators', () => {
  it('do not pile up as a partner revokes: after 20,000 added and all but 10 removed, what is left is bounded', () => {
    const matcher = new BulkMatcher();
    const spread = Array.from({ length: 10_000 }, (_, i) => indicator(`[ipv4-addr:value = '${address(i)}']`));
    const shared = Array.from({ length: 10_000 }, () => indicator("[domain-name:value IN ('one.example', 'two.example')]"));
    for (const item of [...spread, ...shared]) assert.equal(matcher.add(item, { now, source: partner }).added, true);
    assert.equal(matcher.stats().equalityKeys, 10_002);
    const survivors = [...spread.slice(0, 5), ...shared.slice(0, 5)];
    for (const item of [...spread.slice(5), ...shared.slice(5)]) assert.equal(matcher.remove(item['id'] as string), true);
    const stats = matcher.stats();
    assert.equal(stats.indicators, 10);
    // Before: every one of the 30,000 postings stayed (10,002 keys, 19,990 indicators' worth stale) until a rebuild.
    assert.ok(stats.stalePostings <= 1024, `${stats.stalePostings} stale postings`);
    assert.ok(stats.equalityKeys <= 7 + 1024, `${stats.equalityKeys} equality keys`);
    // The survivors still match, the removed do not.
    assert.deepEqual(matchedIds(matcher, [ip(address(3))]), [spread[3]?.['id']]);
    assert.deepEqual(matchedIds(matcher, [ip(address(9_000))]), []);
    assert.deepEqual(
      matchedIds(matcher, [{ type: 'domain-name', value: 'two.example' }]),
      shared
        .slice(0, 5)
        .map((item) => item['id'])
        .sort(),
    );
    assert.equal(survivors.every((item) => matcher.has(item['id'] as string)), true);
  });

  it('are swept in time proportional to what was removed: each sweep waits for as many stale postings as live ones', () => {
    const matcher = new BulkMatcher();
    const live = Array.from({ length: 4_000 }, (_, i) => indicator(`[ipv4-addr:value = '${address(i)}']`));
    for (const item of live) matcher.add(item, { now });
    // Churn on one value: added and removed 9,000 times (before, all 9,000 postings stayed).
    for (let i = 0; i < 9_000; i++) {
      const churn = indicator("[ipv4-addr:value = '192.0.2.1']");
      matcher.add(churn, { now });
      matcher.remove(churn['id'] as string);
    }
    const { stalePostings, equalityKeys } = matcher.stats();
    assert.ok(stalePostings <= 4_000, `${stalePostings} stale postings`);
    assert.ok(stalePostings > 0, 'not swept on each removal (a sweep walks every key)');
    assert.ok(equalityKeys <= 4_001);
    assert.deepEqual(matchedIds(matcher, [ip('192.0.2.1')]), []);
  });

  it('an exact IP block and a LIKE without wildcards leave nothing behind', () => {
    const matcher = new BulkMatcher();
    const blocks = Array.from({ length: 200 }, (_, i) => indicator(`[ipv4-addr:value ISSUBSET '10.${i}.0.0/16' OR domain-name:value LIKE 'h${i}.example']`));
    for (const item of blocks) matcher.add(item, { now, source: partner });
    assert.equal(matcher.stats().ipBlocks, 200);
    for (const item of blocks.slice(1)) matcher.remove(item['id'] as string);
    assert.equal(matcher.stats().ipBlocks, 1);
    assert.deepEqual(matchedIds(matcher, [ip('10.0.3.4')]), [blocks[0]?.['id']]);
    assert.deepEqual(matchedIds(matcher, [ip('10.7.3.4')]), []);
    assert.deepEqual(matchedIds(matcher, [{ type: 'domain-name', value: 'h0.example' }]), [blocks[0]?.['id']]);
  });

  it('a removed id added again matches again, once', () => {
    const matcher = new BulkMatcher();
    const item = indicator("[ipv4-addr:value = '192.0.2.5']");
    for (let round = 0; round < 3_000; round++) {
      matcher.add(item, { now });
      matcher.remove(item['id'] as string);
    }
    matcher.add(item, { now });
    assert.deepEqual(matchedIds(matcher, [ip('192.0.2.5')]), [item['id']]);
  });
});

describe('bulk matcher: a sweep of stale postings is paid for by removals', () => {
  it('waits for more stale postings than live ones of every kind: exact churn beside many evaluated leaves does not walk them all every 1,025 removals', () => {
    const matcher = new BulkMatcher();
    // 20,000 equality postings of evaluated (not exact) leaves: an AND is tested when its key is hit.
    const evaluated = Array.from({ length: 20_000 }, (_, i) => indicator(`[ipv4-addr:value = '${address(i)}' AND ipv4-addr:value LIKE '10.%']`));
    for (const item of evaluated) matcher.add(item, { now });
    assert.equal(matcher.stats().exact, 0);
    // A partner adds and revokes one exact indicator 3,000 times: before, a sweep walked the 20,000 live
    // postings after every 1,025 removals (the live exact ones, none, were all it weighed them against).
    for (let i = 0; i < 3_000; i++) {
      const churn = indicator("[ipv4-addr:value = '192.0.2.1']");
      matcher.add(churn, { now, source: partner });
      matcher.remove(churn['id'] as string);
    }
    assert.equal(matcher.stats().stalePostings, 3_000);
    assert.deepEqual(matchedIds(matcher, [ip('192.0.2.1')]), []);
    assert.deepEqual(matchedIds(matcher, [ip(address(7))]), [evaluated[7]?.['id']]);
    // Once they outnumber the live ones, they go.
    for (let i = 0; i < 18_000; i++) {
      const churn = indicator("[ipv4-addr:value = '192.0.2.1']");
      matcher.add(churn, { now, source: partner });
      matcher.remove(churn['id'] as string);
    }
    assert.ok(matcher.stats().stalePostings < 20_000, `${matcher.stats().stalePostings} stale postings`);
    assert.deepEqual(matchedIds(matcher, [ip(address(7))]), [evaluated[7]?.['id']]);
  });

  it('the raw-line screen forgets the values a sweep drops: a partner revoking distinct values does not grow what it holds, nor what it sends to the parser', () => {
    const matcher = new BulkMatcher();
    const domain = (i: number): string => `churn-${i}.example`;
    const kept = [indicator("[domain-name:value = 'kept.example']"), indicator("[ipv4-addr:value = '192.0.2.77']"), indicator('[file:size = 4242]'), indicator("[url:value = 'http://a.example/' AND url:value LIKE 'http:%']")];
    for (const item of kept) matcher.add(item, { now });
    for (let i = 0; i < 20_000; i++) {
      const churn = indicator(i % 2 === 0 ? `[domain-name:value = '${domain(i)}']` : `[ipv4-addr:value = '${address(i)}']`);
      matcher.add(churn, { now, source: partner });
      matcher.remove(churn['id'] as string);
    }
    const { stalePostings } = matcher.stats();
    const stillScreened = Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? domain(i) : address(i))).filter((value) => matcher.screen.mayEqualString(fingerprintOf(value))).length;
    // Before: all 20,000 stayed in the screen's fingerprints after their postings were swept.
    assert.ok(stillScreened <= stalePostings + 16, `${stillScreened} removed values still sent to the parser, ${stalePostings} stale postings`);
    for (const value of ['kept.example', '192.0.2.77', 'http://a.example/']) assert.equal(matcher.screen.mayEqualString(fingerprintOf(value)), true, value);
    assert.equal(matcher.screen.mayEqualNumber(4242), true);
    assert.deepEqual(matchedIds(matcher, [ip('192.0.2.77')]), [kept[1]?.['id']]);
  });

  it('a sweep keeps every live key screened and matching, whatever was added and removed around it: a value also posted by a removed indicator, an IN, an evaluated leaf, a number', () => {
    // A fixed pseudo-random run: few values, so that live and removed indicators share them.
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      // The high bits: the low ones of this generator repeat with a short period.
      return (seed >>> 12) % n;
    };
    const names = Array.from({ length: 30 }, (_, i) => `d${i}.example`);
    const matcher = new BulkMatcher();
    const live = new Map<string, { readonly values: readonly (string | number)[]; readonly observe: (value: string | number) => JsonRecord[] }>();
    const byIp = (value: string | number): JsonRecord[] => [ip(String(value))];
    const byName = (value: string | number): JsonRecord[] => [{ type: 'domain-name', value }];
    const byPort = (value: string | number): JsonRecord[] => [ip('198.51.100.1'), { type: 'network-traffic', dst_ref: '0', dst_port: value, protocols: ['tcp'] }];
    let sweeps = 0;
    for (let step = 0; step < 12_000; step++) {
      let swept = false;
      if (live.size === 0 || (live.size <= 40 && next(2) === 0)) {
        const kind = next(4);
        const a = names[next(names.length)] as string;
        const b = names[next(names.length)] as string;
        const value = address(next(60));
        const port = 1000 + next(20);
        const [pattern, values, observe] =
          kind === 0 ? [`[ipv4-addr:value = '${value}']`, [value], byIp]
          : kind === 1 ? [`[domain-name:value IN ('${a}', '${b}')]`, [a, b], byName]
          : kind === 2 ? [`[domain-name:value = '${a}' AND domain-name:value != 'zz.example']`, [a], byName]
          : [`[network-traffic:dst_port = ${port}]`, [port], byPort];
        const item = indicator(pattern);
        assert.equal(matcher.add(item, { now, source: partner }).added, true);
        live.set(item['id'] as string, { values, observe });
      } else {
        const ids = [...live.keys()];
        const id = ids[next(ids.length)] as string;
        const stale = matcher.stats().stalePostings;
        matcher.remove(id);
        live.delete(id);
        swept = matcher.stats().stalePostings < stale;
        if (swept) sweeps++;
      }
      // Right after each sweep (an add posts its values anew), and now and then.
      if (!swept && step % 211 !== 0) continue;
      for (const [id, { values, observe }] of live) {
        for (const value of values) {
          assert.ok(typeof value === 'number' ? matcher.screen.mayEqualNumber(value) : matcher.screen.mayEqualString(fingerprintOf(value)), `${value} of ${id} not screened at step ${step}`);
          assert.ok(matchedIds(matcher, observe(value)).includes(id), `${value} of ${id} not matched at step ${step}`);
        }
      }
    }
    assert.ok(sweeps >= 3, `${sweeps} sweeps`);
  });
});
