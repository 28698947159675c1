import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { catchAllReason } from './catch-all.ts';
import { parsePattern } from './parse-pattern.ts';

function reasonFor(pattern: string): string | undefined {
  const parsed = parsePattern(pattern);
  if (!parsed.ok) return assert.fail(`${pattern}: ${parsed.error[0]?.message ?? ''}`);
  return catchAllReason(parsed.value);
}

describe('catchAllReason: patterns that match nearly every observation', () => {
  it('refuses wildcard-only LIKE, always-true MATCHES, and tests nearly every value passes', () => {
    for (const pattern of [
      "[domain-name:value LIKE '%']",
      "[domain-name:value LIKE '%%']",
      "[domain-name:value LIKE '_%']",
      // Every domain name holds a dot.
      "[domain-name:value LIKE '%.%']",
      "[url:value MATCHES '.*']",
      "[url:value MATCHES '']",
      "[url:value MATCHES '^']",
      "[url:value MATCHES 'x*']",
      "[url:value MATCHES '.']",
      "[url:value MATCHES '\\\\w']",
      // Every URL holds a lowercase letter.
      "[url:value MATCHES '[a-z]']",
      "[domain-name:value != 'evil.example']",
      "[domain-name:value NOT = 'evil.example']",
      "[domain-name:value NOT IN ('a', 'b')]",
      "[domain-name:value > '']",
      '[EXISTS file:name]',
      "[file:hashes.'SHA-256' LIKE '%']",
      "[ipv4-addr:value ISSUBSET '0.0.0.0/0']",
      '[network-traffic:dst_port > 0]',
      "[domain-name:value = 'evil.example' OR domain-name:value LIKE '%']",
      "[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value LIKE '%']",
      "[domain-name:value LIKE '%'] AND [url:value MATCHES '.'] WITHIN 60 SECONDS",
    ]) {
      assert.match(reasonFor(pattern) ?? 'accepted', /^pattern matches nearly every observation: \[.+\] holds for almost any /, pattern);
    }
  });

  it('names the test that holds for almost anything', () => {
    assert.equal(
      reasonFor("[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value LIKE '%']"),
      "pattern matches nearly every observation: [domain-name:value LIKE '%'] holds for almost any domain-name",
    );
  });

  it('accepts indicators that single out values, even broad ones', () => {
    for (const pattern of [
      "[domain-name:value = 'evil.example']",
      "[domain-name:value LIKE '%.evil.example']",
      "[domain-name:value MATCHES '^[a-z]{16}\\\\.(ru|cn)$']",
      "[url:value MATCHES '/[0-9]{5}/']",
      "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
      "[ipv4-addr:value ISSUBSET '0.0.0.0/1']",
      '[network-traffic:dst_port = 4444]',
      "[file:hashes.'SHA-256' = 'aa']",
      "[domain-name:value != 'x' AND domain-name:value LIKE '%.evil.example']",
      "[domain-name:value LIKE '%'] AND [ipv4-addr:value = '1.2.3.4']",
      "[domain-name:value LIKE '%'] FOLLOWEDBY [url:value = 'http://x.example/']",
      "[network-traffic:dst_ref.value LIKE '%' AND network-traffic:dst_port = 4444]",
    ]) {
      assert.equal(reasonFor(pattern), undefined, pattern);
    }
  });

  it('without exclusions, counts only the wildcards that say "anything" in the pattern itself', () => {
    const wildcardsOnly = (pattern: string): string | undefined => {
      const parsed = parsePattern(pattern);
      return parsed.ok ? catchAllReason(parsed.value, { exclusions: false }) : assert.fail(pattern);
    };
    for (const pattern of ["[domain-name:value LIKE '%']", "[url:value MATCHES '.*']", '[EXISTS file:name]', "[ipv4-addr:value ISSUBSET '0.0.0.0/0']"]) {
      assert.notEqual(wildcardsOnly(pattern), undefined, pattern);
    }
    for (const pattern of ["[domain-name:value != 'x']", "[domain-name:value NOT LIKE 'x%']", "[domain-name:value > '']", "[domain-name:value NOT = 'x' OR domain-name:value = 'y']"]) {
      assert.equal(wildcardsOnly(pattern), undefined, pattern);
    }
  });
});
