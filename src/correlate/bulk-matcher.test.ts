import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher, catchAllRefusal } from './bulk-matcher.ts';
import { evaluatePattern } from '../pattern/evaluate-pattern.ts';
import { parsePattern } from '../pattern/parse-pattern.ts';
import { toObservedData, type JsonRecord, type LogObservation } from './log-observation.ts';
import { createRandom } from '../../bench/generate-indicators.ts';
import { indicator, now, observation } from './test-support.ts';

function matcherWith(...indicators: JsonRecord[]): BulkMatcher {
  const matcher = new BulkMatcher();
  for (const item of indicators) {
    const outcome = matcher.add(item, { now });
    assert.equal(outcome.added, true, JSON.stringify(outcome));
  }
  return matcher;
}

function matchedIds(matcher: BulkMatcher, objects: JsonRecord[], at?: string): string[] {
  return matcher
    .match(observation(objects, at))
    .map((m) => m.indicatorId)
    .sort();
}

const ip = (value: string): JsonRecord => ({ type: 'ipv4-addr', value });
const domain = (value: string): JsonRecord => ({ type: 'domain-name', value });

describe('bulk matcher: exact indicators', () => {
  const byIp = indicator("[ipv4-addr:value = '198.51.100.7']", { name: 'C2 server', confidence: 80 });
  const byDomain = indicator("[domain-name:value = 'update-4f2a.example']");
  const byUrl = indicator("[url:value = 'https://bad.example/x.php']");
  const byHash = indicator(`[file:hashes.'SHA-256' = '${'ab'.repeat(32)}']`);
  const matcher = matcherWith(byIp, byDomain, byUrl, byHash);

  it('an observation holding the indexed value matches, with the indicator, its name, confidence and the observable', () => {
    const [match, ...rest] = matcher.match(observation([ip('203.0.113.1'), ip('198.51.100.7')]));
    assert.equal(rest.length, 0);
    assert.equal(match?.indicatorId, byIp['id']);
    assert.equal(match?.name, 'C2 server');
    assert.equal(match?.confidence, 80);
    assert.deepEqual(match?.observable, { type: 'ipv4-addr', path: 'ipv4-addr:value', value: '198.51.100.7' });
  });

  it('every indexed path is probed: domain, URL and a quoted hash key', () => {
    assert.deepEqual(matchedIds(matcher, [domain('update-4f2a.example')]), [byDomain['id']]);
    assert.deepEqual(matchedIds(matcher, [{ type: 'url', value: 'https://bad.example/x.php' }]), [byUrl['id']]);
    assert.deepEqual(matchedIds(matcher, [{ type: 'file', hashes: { 'SHA-256': 'ab'.repeat(32) } }]), [byHash['id']]);
  });

  it('the same value under another type or path, a near value, or a non-string does not match', () => {
    assert.deepEqual(matchedIds(matcher, [domain('198.51.100.7')]), []);
    assert.deepEqual(matchedIds(matcher, [ip('198.51.100.70')]), []);
    assert.deepEqual(matchedIds(matcher, [ip('198.051.100.7')]), []);
    assert.deepEqual(matchedIds(matcher, [{ type: 'file', hashes: { MD5: 'ab'.repeat(32) } }]), []);
    assert.deepEqual(matchedIds(matcher, [{ type: 'ipv4-addr', value: 3325256711 }]), []);
  });

  it('an indicator matched through two SCOs of one observation is reported once', () => {
    assert.equal(matcher.match(observation([ip('198.51.100.7'), ip('198.51.100.7')])).length, 1);
  });

  it('two indicators on the same value both match', () => {
    const twin = indicator("[ipv4-addr:value = '198.51.100.7']");
    const both = matcherWith(byIp, twin);
    assert.deepEqual(matchedIds(both, [ip('198.51.100.7')]), [byIp['id'], twin['id']].sort());
  });

  it('strings compare after Unicode NFC normalisation, as the evaluator does', () => {
    const composed = indicator("[domain-name:value = 'caf\u00e9.example']");
    assert.deepEqual(matchedIds(matcherWith(composed), [domain('cafe\u0301.example')]), [composed['id']]);
  });
});

describe('bulk matcher: IP blocks, substrings and evaluated leaves', () => {
  it('ISSUBSET blocks match every address inside them, IPv4 and IPv6', () => {
    const v4 = indicator("[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
    const v6 = indicator("[ipv6-addr:value ISSUBSET '2001:db8::/32']");
    const matcher = matcherWith(v4, v6);
    assert.deepEqual(matchedIds(matcher, [ip('10.200.3.4')]), [v4['id']]);
    assert.deepEqual(matchedIds(matcher, [ip('11.0.0.1')]), []);
    assert.deepEqual(matchedIds(matcher, [{ type: 'ipv6-addr', value: '2001:db8::1' }]), [v6['id']]);
  });

  it('LIKE: the substring index finds candidates, the evaluator decides', () => {
    const like = indicator("[domain-name:value LIKE '%.evil-corp.com']");
    const matcher = matcherWith(like);
    assert.deepEqual(matchedIds(matcher, [domain('mail.evil-corp.com')]), [like['id']]);
    assert.deepEqual(matchedIds(matcher, [domain('mail.evil-corp.com.example')]), [], 'contains the literal, but LIKE wants it at the end');
  });

  it('MATCHES: the required literal finds candidates, the linear-time engine decides', () => {
    const regex = indicator("[url:value MATCHES '^https?://[a-z0-9.]+/gate\\\\.php$']");
    const matcher = matcherWith(regex);
    assert.deepEqual(matchedIds(matcher, [{ type: 'url', value: 'http://x1.example/gate.php' }]), [regex['id']]);
    assert.deepEqual(matchedIds(matcher, [{ type: 'url', value: 'ftp://x1.example/gate.php' }]), []);
  });

  it('AND inside brackets: an anchor on one side, both sides evaluated on the same SCO', () => {
    const both = indicator("[network-traffic:dst_port = 4444 AND network-traffic:dst_ref.value = '203.0.113.9']");
    const matcher = matcherWith(both);
    const traffic = (port: number): JsonRecord[] => [ip('203.0.113.9'), { type: 'network-traffic', dst_ref: '0', dst_port: port, protocols: ['tcp'] }];
    assert.deepEqual(matchedIds(matcher, traffic(4444)), [both['id']]);
    assert.deepEqual(matchedIds(matcher, traffic(443)), []);
  });

  it('leaves no index can witness (!=, <, NOT) are evaluated on every observation', () => {
    const notEqual = indicator("[domain-name:value != 'good.example']");
    const matcher = matcherWith(notEqual);
    assert.equal(matcher.stats().alwaysLeaves, 1);
    assert.deepEqual(matchedIds(matcher, [domain('other.example')]), [notEqual['id']]);
    assert.deepEqual(matchedIds(matcher, [domain('good.example')]), []);
    assert.deepEqual(matchedIds(matcher, [ip('1.2.3.4')]), []);
  });

  it('agrees with evaluating every pattern one by one, on random single-observation patterns and observations', () => {
    const random = createRandom(11);
    const values = ['a.example', 'b.example', 'ab.example', '10.0.0.1', '10.0.1.1', '192.0.2.1'];
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const comparisons = [
      () => `domain-name:value = '${pick(values)}'`,
      () => `domain-name:value != '${pick(values)}'`,
      () => `domain-name:value LIKE '%${pick(['.example', 'ab.', 'b.ex'])}'`,
      () => `domain-name:value MATCHES '${pick(['^a\\\\.', 'ample$', 'b\\\\.exa'])}'`,
      () => `ipv4-addr:value ISSUBSET '${pick(['10.0.0.0/8', '10.0.0.0/24', '192.0.2.0/30'])}'`,
      () => `ipv4-addr:value IN ('${pick(values)}', '${pick(values)}')`,
      () => `ipv4-addr:value = '${pick(values)}'`,
    ];
    const patterns = Array.from({ length: 150 }, () => {
      const a = (pick(comparisons) as () => string)();
      const shape = random();
      if (shape < 0.5) return `[${a}]`;
      const b = (pick(comparisons) as () => string)();
      if (shape < 0.65) return `[${a} OR ${b}]`;
      if (shape < 0.8) {
        // AND inside brackets tests one SCO: both sides on the type of the first.
        const sameType = comparisons.filter((make) => make().split(':')[0] === a.split(':')[0]);
        return `[${a} AND ${(pick(sameType) as () => string)()}]`;
      }
      return `[${a}] OR [${b}]`;
    });
    const indicators = patterns.map((p) => indicator(p));
    const matcher = matcherWith(...indicators);
    for (let round = 0; round < 200; round++) {
      const objects = Array.from({ length: 1 + Math.floor(random() * 3) }, () => (random() < 0.5 ? domain(pick(values)) : ip(pick(values))));
      const observed = observation(objects);
      const expected = indicators
        .filter((item) => {
          const ast = parsePattern(item['pattern'] as string);
          return ast.ok && evaluatePattern(ast.value, [toObservedData(observed)]).matched;
        })
        .map((item) => item['id'] as string)
        .sort();
      assert.deepEqual(
        matcher
          .match(observed)
          .map((m) => m.indicatorId)
          .sort(),
        expected,
        JSON.stringify(objects),
      );
    }
  });
});

describe('bulk matcher: patterns over several observations', () => {
  it('[A] AND [B] matches once both have been observed, reporting both observations', () => {
    const pair = indicator("[ipv4-addr:value = '198.51.100.7'] AND [domain-name:value = 'c2.example']");
    const matcher = matcherWith(pair);
    assert.deepEqual(matcher.match(observation([ip('198.51.100.7')], '2026-06-01T12:00:00Z')), []);
    const [match] = matcher.match(observation([domain('c2.example')], '2026-06-01T12:00:30Z'));
    assert.equal(match?.indicatorId, pair['id']);
    assert.equal(match?.observations.length, 2);
  });

  it('FOLLOWEDBY needs the order; WITHIN drops observations that are too far apart', () => {
    const ordered = indicator("([domain-name:value = 'first.example'] FOLLOWEDBY [domain-name:value = 'second.example']) WITHIN 60 SECONDS");
    const matcher = matcherWith(ordered);
    assert.deepEqual(matchedIds(matcher, [domain('second.example')], '2026-06-01T12:00:00Z'), []);
    assert.deepEqual(matchedIds(matcher, [domain('first.example')], '2026-06-01T12:00:10Z'), []);
    assert.deepEqual(matchedIds(matcher, [domain('second.example')], '2026-06-01T12:00:20Z'), [ordered['id']]);
    assert.deepEqual(matchedIds(matcher, [domain('first.example')], '2026-06-01T13:00:00Z'), []);
    assert.deepEqual(matchedIds(matcher, [domain('second.example')], '2026-06-01T13:05:00Z'), [], 'five minutes later: outside WITHIN 60 SECONDS');
  });

  it('REPEATS n TIMES needs n observations; those that made a match are not counted again', () => {
    const thrice = indicator("[ipv4-addr:value = '203.0.113.5'] REPEATS 3 TIMES");
    const matcher = matcherWith(thrice);
    const hits = [1, 2, 3, 4, 5, 6].map((second) => matchedIds(matcher, [ip('203.0.113.5')], `2026-06-01T12:00:0${second}Z`).length);
    assert.deepEqual(hits, [0, 0, 1, 0, 0, 1]);
  });
});

describe('bulk matcher: incremental updates', () => {
  it('a removed indicator stops matching, an added one starts, without a rebuild', () => {
    const first = indicator("[ipv4-addr:value = '198.51.100.7']");
    const matcher = matcherWith(first);
    assert.equal(matcher.remove(first['id'] as string), true);
    assert.deepEqual(matchedIds(matcher, [ip('198.51.100.7')]), []);
    assert.equal(matcher.remove(first['id'] as string), false);
    const second = indicator("[domain-name:value LIKE '%.evil.example']");
    matcher.add(second, { now });
    assert.deepEqual(matchedIds(matcher, [domain('x.evil.example')]), [second['id']]);
    matcher.remove(second['id'] as string);
    assert.deepEqual(matchedIds(matcher, [domain('x.evil.example')]), []);
    assert.equal(matcher.stats().indicators, 0);
  });

  it('a newer version replaces the older one; a revoked version withdraws it', () => {
    const v1 = indicator("[ipv4-addr:value = '198.51.100.7']");
    const matcher = matcherWith(v1);
    const v2 = { ...v1, modified: '2026-02-01T00:00:00.000Z', pattern: "[ipv4-addr:value = '198.51.100.8']" };
    assert.equal(matcher.add(v2, { now }).added, true);
    assert.deepEqual(matchedIds(matcher, [ip('198.51.100.7')]), []);
    assert.deepEqual(matchedIds(matcher, [ip('198.51.100.8')]), [v1['id']]);
    const revoked = { ...v2, modified: '2026-03-01T00:00:00.000Z', revoked: true };
    assert.deepEqual(matcher.add(revoked, { now }), { added: false, reason: 'revoked' });
    assert.deepEqual(matchedIds(matcher, [ip('198.51.100.8')]), []);
  });

  it('only active STIX indicators are compiled in, each refusal with its reason', () => {
    const matcher = new BulkMatcher();
    const refuse = (overrides: Record<string, unknown>): string => {
      const outcome = matcher.add(indicator("[ipv4-addr:value = '1.2.3.4']", overrides), { now });
      return outcome.added ? 'added' : outcome.reason;
    };
    assert.equal(refuse({ valid_until: '2026-05-01T00:00:00Z' }), 'expired at 2026-05-01T00:00:00Z');
    assert.equal(refuse({ valid_until: '2026-06-01T00:00:00Z' }), 'expired at 2026-06-01T00:00:00Z', 'valid_until is the first instant it is not valid');
    assert.equal(refuse({ valid_from: '2026-07-01T00:00:00Z' }), 'not valid before 2026-07-01T00:00:00Z');
    assert.equal(refuse({ pattern_type: 'sigma' }), 'pattern_type is "sigma", not stix');
    assert.equal(refuse({ revoked: true }), 'revoked');
    assert.match(refuse({ pattern: '[ipv4-addr:value = ' }), /^invalid pattern: at \d+/);
    assert.equal(refuse({}), 'added');
    assert.equal(matcher.stats().indicators, 1);
  });

  it('thousands of additions and removals: every id is still found, every survivor still matches', () => {
    const matcher = new BulkMatcher();
    const items = Array.from({ length: 5000 }, (_, i) => indicator(`[ipv4-addr:value = '10.${(i >> 8) & 255}.${i & 255}.1']`));
    for (const item of items) matcher.add(item, { now });
    items.forEach((item, i) => {
      if (i % 2 === 0) assert.equal(matcher.remove(item['id'] as string), true);
    });
    items.forEach((item, i) => assert.equal(matcher.has(item['id'] as string), i % 2 === 1));
    assert.equal(matcher.stats().indicators, 2500);
    assert.deepEqual(matchedIds(matcher, [ip('10.0.7.1')]), [items[7]?.['id']]);
    assert.deepEqual(matchedIds(matcher, [ip('10.0.8.1')]), []);
  });

  it('ids that are not UUID-shaped are kept as they are', () => {
    const odd = indicator("[ipv4-addr:value = '1.2.3.4']", { id: 'indicator--not-a-uuid' });
    const matcher = matcherWith(odd);
    assert.deepEqual(matchedIds(matcher, [ip('1.2.3.4')]), ['indicator--not-a-uuid']);
    assert.equal(matcher.has('indicator--not-a-uuid'), true);
  });
});

describe('bulk matcher: versions of one indicator side by side (variants)', () => {
  it('keeps each variant, tells which matched, and replaces or removes one without the others', () => {
    const first = indicator("[ipv4-addr:value = '198.51.100.81']", { name: 'version 1' });
    const second = { ...first, modified: '2026-06-01T00:00:00.000Z', name: 'version 2', pattern: "[domain-name:value = 'v2.example' OR ipv4-addr:value = '198.51.100.81']" };
    const matcher = new BulkMatcher();
    assert.equal(matcher.add(first, { now }).added, true);
    assert.equal(matcher.add(second, { now, variant: 3 }).added, true);
    const seen = (objects: JsonRecord[]): string[] => matcher.match(observation(objects)).map((m) => `${m.variant ?? 0}:${m.name ?? ''}`).sort();
    assert.deepEqual(seen([ip('198.51.100.81')]), ['0:version 1', '3:version 2']);
    assert.deepEqual(seen([domain('v2.example')]), ['3:version 2']);
    assert.equal(matcher.stats().indicators, 2);

    assert.equal(matcher.remove(String(first['id']), 0), true);
    assert.deepEqual(seen([ip('198.51.100.81')]), ['3:version 2']);
    assert.equal(matcher.has(String(first['id'])), true, 'variant 3 is still compiled');

    // Adding variant 0 again leaves variant 3 alone; removing without a variant removes both.
    assert.equal(matcher.add(first, { now }).added, true);
    assert.deepEqual(seen([ip('198.51.100.81')]), ['0:version 1', '3:version 2']);
    assert.equal(matcher.remove(String(first['id'])), true);
    assert.deepEqual(seen([ip('198.51.100.81'), domain('v2.example')]), []);
    assert.equal(matcher.has(String(first['id'])), false);
  });
});

describe('bulk matcher: the step budget of one observation', () => {
  // Within the engine's limits (7,996 instructions), yet ~20 s on a 256 KB URL without a budget.
  const costly = indicator("[url:value MATCHES 'a(?:.{0,999}){4}xy']");
  const url = (value: string): JsonRecord => ({ type: 'url', value });

  it('a long value against a costly expression is cut short quickly, counted, and told with a stable code', () => {
    const told: unknown[] = [];
    const matcher = new BulkMatcher({ onOverBudget: (event) => told.push(event) });
    assert.equal(matcher.add(costly, { now }).added, true);
    const started = performance.now();
    const found = matcher.match(observation([url('http://q.test/xy' + 'a'.repeat(256_000))], undefined, 7));
    assert.ok(performance.now() - started < 2000, `took ${Math.round(performance.now() - started)} ms`);
    assert.deepEqual(found, []);
    assert.equal(matcher.stats().overBudget, 1);
    assert.deepEqual(told, [{ code: 'ENT_MATCH_OVER_BUDGET', source: 'test', line: 7, untested: 1, indicatorIds: [costly['id']] }]);
  });

  it('values the budget covers are matched as before, and nothing is counted', () => {
    const matcher = matcherWith(costly);
    assert.deepEqual(matchedIds(matcher, [url('http://q.test/a-then-xy')]), [costly['id']]);
    assert.deepEqual(matchedIds(matcher, [url('http://q.test/' + 'b'.repeat(100_000))]), []);
    assert.equal(matcher.stats().overBudget, 0);
  });

  it('the budget is per observation: the next one gets a full budget again', () => {
    const matcher = new BulkMatcher({ observationStepBudget: 2_000_000 });
    matcher.add(costly, { now });
    matcher.match(observation([url('http://q.test/xy' + 'a'.repeat(64_000))]));
    assert.deepEqual(
      matcher.match(observation([url('http://q.test/a-then-xy')])).map((m) => m.indicatorId),
      [costly['id']],
    );
    assert.equal(matcher.stats().overBudget, 1);
  });
});

describe('bulk matcher: catch-all indicators', () => {
  it('refuses a pattern whose wildcard matches nearly everything, with one reason for all of them', () => {
    const matcher = new BulkMatcher();
    for (const pattern of ["[domain-name:value LIKE '%']", "[url:value MATCHES '.*']", "[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value LIKE '_%']"]) {
      assert.deepEqual(matcher.add(indicator(pattern), { now }), { added: false, reason: catchAllRefusal }, pattern);
    }
    assert.equal(matcher.stats().indicators, 0);
    assert.deepEqual(matcher.match(observation([domain('payroll.corp.internal')])), []);
  });

  it('a refused new version withdraws the older one compiled under the same id', () => {
    const matcher = matcherWith(indicator("[domain-name:value = 'evil.example']", { id: 'indicator--00000000-0000-4000-8000-0000000000c1' }));
    const outcome = matcher.add(indicator("[domain-name:value LIKE '%']", { id: 'indicator--00000000-0000-4000-8000-0000000000c1' }), { now });
    assert.equal(outcome.added, false);
    assert.equal(matcher.has('indicator--00000000-0000-4000-8000-0000000000c1'), false);
  });
});

describe('bulk matcher: the step budget of one turn of the event loop', () => {
  const costly = indicator("[url:value MATCHES 'a(?:.{0,999}){4}xy']");
  const url = (value: string): JsonRecord => ({ type: 'url', value });
  // ~4,000 live states over ~1,000 characters: about 8 million steps, within one observation's budget.
  const kilobyte = (): LogObservation => observation([url('http://q.test/a' + 'a'.repeat(1000) + 'xy')]);

  it('observations matched in one turn share its budget; the next turn has it whole again', async () => {
    const matcher = new BulkMatcher({ turnStepBudget: 30_000_000 });
    matcher.add(costly, { now });
    const found = Array.from({ length: 10 }, () => matcher.match(kilobyte()).length);
    assert.ok(found.slice(0, 3).every((n) => n === 1), JSON.stringify(found));
    assert.ok(found.slice(-3).every((n) => n === 0), JSON.stringify(found));
    assert.ok(matcher.stats().overBudget >= 3);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(matcher.match(kilobyte()).length, 1);
  });

  it('without a turn budget, each observation has its own alone', () => {
    const matcher = matcherWith(costly);
    assert.deepEqual(
      Array.from({ length: 10 }, () => matcher.match(kilobyte()).length),
      Array.from({ length: 10 }, () => 1),
    );
    assert.equal(matcher.stats().overBudget, 0);
  });
});
