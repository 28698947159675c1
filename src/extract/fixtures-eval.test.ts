// Precision and recall per type on the third-party IOC-extractor fixtures (test/fixtures/
// ioc-extraction, MIT). These are another tool's expectations, not a neutral gold standard; the
// divergences we accept on purpose are listed in DIVERGENCES and explained there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extractObservables } from './extract-observables.ts';
import type { Observable } from './extract-observables.ts';
import { loadExtractData } from './load-extract-data.ts';

const data = loadExtractData();
const FIXTURES = new URL('../../test/fixtures/ioc-extraction/', import.meta.url);

interface Case {
  id: string;
  input?: string;
  input_file?: string;
  options: { strict?: boolean; refang?: boolean };
  expected: Record<string, string[]>;
}

// Fixture key → how to pick our observables and normalise values for comparison.
const KEYS: Record<string, { pick: (o: Observable) => boolean; norm?: (v: string) => string }> = {
  md5s: { pick: (o) => o.hashAlgorithm === 'MD5' },
  sha1s: { pick: (o) => o.hashAlgorithm === 'SHA-1' },
  sha256s: { pick: (o) => o.hashAlgorithm === 'SHA-256' },
  sha512s: { pick: (o) => o.hashAlgorithm === 'SHA-512' },
  asns: { pick: (o) => o.type === 'autonomous-system', norm: (v) => v.replace(/^ASN?\s?/i, '') },
  ipv4s: { pick: (o) => o.type === 'ipv4-addr' },
  ipv6s: { pick: (o) => o.type === 'ipv6-addr' },
  domains: { pick: (o) => o.type === 'domain-name' },
  urls: { pick: (o) => o.type === 'url' },
  emails: { pick: (o) => o.type === 'email-addr' },
  btcs: { pick: (o) => o.type === 'cryptocurrency-wallet' && o.kind === 'bitcoin' },
  eths: { pick: (o) => o.type === 'cryptocurrency-wallet' && o.kind === 'ethereum' },
  cves: { pick: (o) => o.type === 'cve' },
};

// Deliberate differences from ioc-extractor's expectations, per case and key. `extra`: values we
// extract on purpose that the fixture omits; `missing`: fixture values we deliberately do not
// produce. Both raw and adjusted figures are printed; thresholds apply to the adjusted ones.
// - IDN: ioc-extractor has no IDN support and cuts テスト.example.com down to example.com; we keep
//   the whole internationalised host (the issue asks for IDN), in domains, URLs and e-mail.
// - A URL with a bracketed IPv6 host and a port is a valid URL (RFC 3986); ioc-extractor misses it.
const DIVERGENCES: Record<string, Record<string, { extra?: string[]; missing?: string[] }>> = {
  'complex-input': { urls: { extra: ['http://[fdc4:2581:575b:5a72:0000:0000:0000:0001]:80/path'] } },
  'simple-input': {
    domains: { extra: ['テスト.example.com'], missing: ['example.com'] },
    urls: { extra: ['http://テスト.example.com'] },
    emails: { extra: ['test@テスト.example.com'] },
  },
  'non-strict-tld': {
    domains: { extra: ['テスト.nope'] },
    urls: { extra: ['http://テスト.nope'] },
    emails: { extra: ['test@テスト.nope'] },
  },
};
// Types we do not extract at all (Monero xmrs, Google Analytics ids) are not scored.
const UNSUPPORTED = new Set(['xmrs', 'gaTrackIDs']);

interface Tally {
  tp: number;
  fp: number;
  fn: number;
  /** Adjusted for DIVERGENCES. */
  adjFp: number;
  adjFn: number;
}

function evaluate(): Map<string, Tally> {
  const cases = (JSON.parse(readFileSync(new URL('ioc-extractor/expected.json', FIXTURES), 'utf8')) as { cases: Case[] }).cases;
  const tallies = new Map<string, Tally>();
  for (const c of cases) {
    const text = c.input ?? readFileSync(new URL(`ioc-extractor/${c.input_file ?? ''}`, FIXTURES), 'utf8');
    const obs = extractObservables(text, {
      tlds: data.tlds,
      warninglists: data.warninglists,
      strictTld: c.options.strict !== false,
      refang: c.options.refang !== false,
    }).observables;
    for (const [key, expectedValues] of Object.entries(c.expected)) {
      if (UNSUPPORTED.has(key)) continue;
      const spec = KEYS[key];
      assert.ok(spec, `unknown fixture key ${key}`);
      const norm = spec.norm ?? ((v: string) => v);
      // Suppressed observables count as extracted: suppression flags, it does not drop.
      const got = new Set(obs.filter(spec.pick).map((o) => norm(o.value)));
      const want = new Set(expectedValues.map(norm));
      const t = tallies.get(key) ?? { tp: 0, fp: 0, fn: 0, adjFp: 0, adjFn: 0 };
      const div = DIVERGENCES[c.id]?.[key] ?? {};
      for (const v of got) {
        if (want.has(v)) t.tp++;
        else {
          t.fp++;
          if (!(div.extra ?? []).includes(v)) t.adjFp++;
        }
      }
      for (const v of want) {
        if (got.has(v)) continue;
        t.fn++;
        if (!(div.missing ?? []).includes(v)) t.adjFn++;
      }
      tallies.set(key, t);
    }
  }
  return tallies;
}

// Thresholds: the fixture sets are tiny (1–10 values per type), so a single miss moves a figure by
// 0.1–0.5 and any threshold below 1 would let a real bug through. After the documented
// divergences we therefore require perfect precision and recall on every scored type.
test('ioc-extractor fixtures: precision and recall per type', () => {
  const tallies = evaluate();
  const lines: string[] = [];
  const ratio = (a: number, b: number): number => (b === 0 ? 1 : a / b);
  for (const [key, t] of [...tallies].sort()) {
    const p = ratio(t.tp, t.tp + t.fp);
    const r = ratio(t.tp, t.tp + t.fn);
    const ap = ratio(t.tp, t.tp + t.adjFp);
    const ar = ratio(t.tp, t.tp + t.adjFn);
    lines.push(`${key}: precision ${p.toFixed(3)} recall ${r.toFixed(3)} (tp ${t.tp}, fp ${t.fp}, fn ${t.fn}); adjusted ${ap.toFixed(3)}/${ar.toFixed(3)}`);
    assert.equal(ap, 1, `${key} adjusted precision ${ap.toFixed(3)}`);
    assert.equal(ar, 1, `${key} adjusted recall ${ar.toFixed(3)}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
});

function tsvValues(file: string, kind: string): string[] {
  return readFileSync(new URL(`iocsearcher/${file}`, FIXTURES), 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((f) => f[0] === kind && f[1] !== undefined)
    .map((f) => (f[1] ?? '').trim());
}

test('iocsearcher fixtures: every valid Bitcoin and Ethereum address and registry key is found in prose', () => {
  const cases: [string, string, (o: Observable) => boolean][] = [
    ...tsvValues('blockchain_valid.txt', 'bitcoin').map((v): [string, string, (o: Observable) => boolean] => [v, 'bitcoin', (o) => o.kind === 'bitcoin']),
    ...tsvValues('blockchain_valid.txt', 'ethereum').map((v): [string, string, (o: Observable) => boolean] => [v, 'ethereum', (o) => o.kind === 'ethereum']),
    ...tsvValues('registry_valid.txt', 'registry').map((v): [string, string, (o: Observable) => boolean] => [v, 'registry', (o) => o.type === 'windows-registry-key']),
  ];
  assert.ok(cases.length > 40);
  const missed: string[] = [];
  for (const [value, kind, pick] of cases) {
    const text = `During the intrusion the value ${value} was observed.`;
    const obs = extractObservables(text, { tlds: data.tlds }).observables.filter(pick);
    // A key is a key with or without the trailing backslash some tools print.
    const want = kind === 'registry' ? value.replace(/\\+$/, '') : value;
    if (!obs.some((o) => o.value === want)) missed.push(`${kind} ${value} → ${JSON.stringify(obs.map((o) => o.value))}`);
  }
  assert.deepEqual(missed, []);
});
