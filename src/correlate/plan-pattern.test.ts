import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePattern } from '../pattern/parse-pattern.ts';
import { likeRequiredLiteral, planPattern, regexRequiredLiteral, type MatchPlan } from './plan-pattern.ts';

function plan(pattern: string): MatchPlan {
  const parsed = parsePattern(pattern);
  if (!parsed.ok) throw new Error(parsed.error[0]?.message);
  return planPattern(parsed.value);
}

function describeAnchors(pattern: string): string[][] {
  return plan(pattern).leaves.map((leaf) =>
    leaf.anchors === undefined
      ? ['always']
      : leaf.anchors.map((a) => `${a.kind} ${a.path.key} ${a.kind === 'equal' ? String(a.value) : a.kind === 'cidr' ? a.block : a.literal}${leaf.exact ? ' (exact)' : ''}`),
  );
}

describe('planning a pattern for the bulk matcher', () => {
  it('an equality is an exact key on its object path, quoted keys included', () => {
    assert.deepEqual(describeAnchors("[ipv4-addr:value = '198.51.100.7']"), [['equal ipv4-addr:value 198.51.100.7 (exact)']]);
    assert.deepEqual(describeAnchors("[file:hashes.'SHA-256' = 'ab']"), [["equal file:hashes.'SHA-256' ab (exact)"]]);
    assert.deepEqual(describeAnchors('[network-traffic:dst_port = 4444]'), [['equal network-traffic:dst_port 4444 (exact)']]);
  });

  it('IN gives one key per element; ISSUBSET an IP block; LIKE without wildcards a key', () => {
    assert.deepEqual(describeAnchors("[domain-name:value IN ('a.example', 'b.example')]"), [
      ['equal domain-name:value a.example (exact)', 'equal domain-name:value b.example (exact)'],
    ]);
    assert.deepEqual(describeAnchors("[ipv4-addr:value ISSUBSET '10.0.0.0/8']"), [['cidr ipv4-addr:value 10.0.0.0/8 (exact)']]);
    assert.deepEqual(describeAnchors("[domain-name:value LIKE 'exact.example']"), [['equal domain-name:value exact.example (exact)']]);
  });

  it('LIKE and MATCHES give the longest required literal, never exact', () => {
    assert.deepEqual(describeAnchors("[domain-name:value LIKE '%.evil-corp.com']"), [['substring domain-name:value .evil-corp.com']]);
    assert.deepEqual(describeAnchors("[url:value MATCHES '^https?://[a-z]+\\\\.bad-host\\\\.net/']"), [['substring url:value .bad-host.net/']]);
  });

  it('OR needs both sides; AND one side, the more selective, and is never exact', () => {
    assert.deepEqual(describeAnchors("[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value ISSUBSET '10.0.0.0/8']"), [
      ['equal ipv4-addr:value 1.2.3.4 (exact)', 'cidr ipv4-addr:value 10.0.0.0/8 (exact)'],
    ]);
    assert.deepEqual(describeAnchors("[file:name LIKE '%invoice%' AND file:hashes.MD5 = 'aa']"), [['equal file:hashes.MD5 aa']]);
    assert.deepEqual(describeAnchors("[file:size > 10 AND file:name = 'x.exe']"), [['equal file:name x.exe']]);
    assert.deepEqual(describeAnchors("[file:size > 10 OR file:name = 'x.exe']"), [['always']]);
  });

  it('tests no key can witness leave the leaf to be evaluated on every observation', () => {
    for (const pattern of [
      "[ipv4-addr:value != '1.2.3.4']",
      "[ipv4-addr:value NOT = '1.2.3.4']",
      '[file:size > 1000]',
      '[EXISTS file:name]',
      "[domain-name:value LIKE '%ab%']",
      "[url:value MATCHES 'a|bcdef']",
      "[artifact:payload_bin = 'aGVsbG8=']",
    ]) {
      assert.deepEqual(describeAnchors(pattern), [['always']], pattern);
    }
  });

  it('observation expressions: one leaf per [...], the widest WITHIN, and whether one leaf alone is a match', () => {
    const followed = plan("([ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'x.example']) WITHIN 300 SECONDS");
    assert.equal(followed.leaves.length, 2);
    assert.equal(followed.withinSeconds, 300);
    assert.equal(followed.anyLeafMatches, false);
    assert.equal(plan("[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value = 'x.example']").anyLeafMatches, true);
    assert.equal(plan("[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES").anyLeafMatches, false);
  });
});

describe('required literals', () => {
  it('LIKE: the longest run between % and _', () => {
    assert.equal(likeRequiredLiteral('%.evil.com'), '.evil.com');
    assert.equal(likeRequiredLiteral('inv_ice%2026%.ex'), '2026');
    assert.equal(likeRequiredLiteral('%'), '');
  });

  it('MATCHES: plain runs only; optional characters, classes, groups and escapes like \\d end a run', () => {
    assert.equal(regexRequiredLiteral('^evil\\.example$'), 'evil.example');
    assert.equal(regexRequiredLiteral('^https?://x'), 'http');
    assert.equal(regexRequiredLiteral('^https?://xyz12'), '://xyz12');
    assert.equal(regexRequiredLiteral('abcd*ef'), 'abc');
    assert.equal(regexRequiredLiteral('[a-z]+payload(\\d+)?\\.bin'), 'payload');
    assert.equal(regexRequiredLiteral('x{2,3}yz'), 'yz');
  });

  it('MATCHES: alternation at the top level, inline flags and lookaround give nothing', () => {
    assert.equal(regexRequiredLiteral('evil|good'), '');
    assert.equal(regexRequiredLiteral('(?i)evil'), '');
    assert.equal(regexRequiredLiteral('(a|b)evilhost'), 'evilhost');
  });
});
