// The warninglist index against a straightforward reading of the lists: for an IPv4 address, the
// longest prefix first, the first list that holds a network at that length, and a shorter prefix
// when that list does not apply to the type. The index skips the lengths no network of the
// address's /16 block has; this checks that the skip never changes an answer. Likewise for hosts
// and URLs, whose suffixes the index does not walk when the last label ends no listed suffix: the
// answers must equal the full walk's, and the walk must really be skipped (its absence would
// change no answer, only the time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildWarninglistIndex } from './warninglists.ts';
import type { WarninglistData } from './warninglists.ts';
import { parseIpv4 } from '../stix/ip-address.ts';

const DATA: WarninglistData = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../data/warninglists/warninglists.json', import.meta.url)), 'utf8'),
) as WarninglistData;

interface Network {
  readonly base: number;
  readonly len: number;
  readonly list: string;
  readonly appliesTo: readonly string[];
}

function ipv4Networks(data: WarninglistData): Network[] {
  const out: Network[] = [];
  for (const l of data.lists) {
    if (l.kind !== 'cidr') continue;
    for (const e of l.entries) {
      const [addr = '', lenText] = e.split('/');
      const ip = parseIpv4(addr);
      if (ip === null) continue;
      const len = lenText === undefined ? 32 : Number(lenText);
      const size = 2 ** (32 - len);
      out.push({ base: Math.floor(ip / size) * size, len, list: l.name, appliesTo: l.appliesTo });
    }
  }
  return out;
}

function referenceList(networks: readonly Network[], type: string, ip: number): string | null {
  const lengths = [...new Set(networks.map((n) => n.len))].sort((a, b) => b - a);
  for (const len of lengths) {
    const size = 2 ** (32 - len);
    // The first list to name a network at this length owns it.
    const owner = networks.find((n) => n.len === len && n.base === Math.floor(ip / size) * size);
    if (owner !== undefined && owner.appliesTo.includes(type)) return owner.list;
  }
  return null;
}

function dotted(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

test('IPv4 warninglist answers equal the reference at every network edge and on random addresses', () => {
  const index = buildWarninglistIndex(DATA);
  const networks = ipv4Networks(DATA);
  assert.ok(networks.length > 1000, 'the bundled lists hold IPv4 networks');
  const probes: number[] = [];
  for (const n of networks) {
    const last = n.base + 2 ** (32 - n.len) - 1;
    for (const ip of [n.base - 1, n.base, n.base + 1, last - 1, last, last + 1]) if (ip >= 0 && ip <= 0xffffffff) probes.push(ip);
  }
  let seed = 7;
  for (let i = 0; i < 3000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    probes.push(seed);
  }
  for (const ip of probes) {
    for (const type of ['ipv4-addr', 'ipv6-addr'] as const) {
      const got = index.match(type, dotted(ip))?.list ?? null;
      assert.equal(got, referenceList(networks, type, ip), `${type} ${dotted(ip)}`);
    }
  }
});

test('a list that does not apply to the type lets a shorter prefix of another list answer', () => {
  const data: WarninglistData = {
    lists: [
      { name: 'narrow-domains-only', kind: 'cidr', appliesTo: ['domain-name'], entries: ['10.1.2.0/24'] },
      { name: 'wide', kind: 'cidr', appliesTo: ['ipv4-addr'], entries: ['10.0.0.0/8'] },
    ],
  };
  const index = buildWarninglistIndex(data);
  assert.equal(index.match('ipv4-addr', '10.1.2.3')?.list, 'wide');
  assert.equal(index.match('ipv4-addr', '11.1.2.3'), null);
  assert.equal(index.match('ipv4-addr', '10.255.255.255')?.list, 'wide');
});

/** The suffix walk without any shortcut: the value itself, then what follows each of its dots. */
function referenceHostList(data: WarninglistData, type: string, value: string): string | null {
  const v = value.toLowerCase();
  const owners = (key: string): string | null => {
    for (const l of data.lists) {
      if (l.kind === 'cidr' || !l.appliesTo.includes(type)) continue;
      for (const e of l.entries) {
        const isSuffix = l.kind === 'hostname' || e.startsWith('.');
        if (!isSuffix && e === key) return l.name;
      }
    }
    return null;
  };
  const exact = owners(v);
  if (exact !== null) return exact;
  for (let d = v; d.length > 0; ) {
    for (const l of data.lists) {
      if (l.kind === 'cidr') continue;
      const hit = l.entries.some((e) => (l.kind === 'hostname' ? e.replace(/^\.+/, '') === d : e.startsWith('.') && e.slice(1) === d));
      // The index keeps, for a key, the lists in file order and answers with the first that applies.
      if (hit && l.appliesTo.includes(type)) return l.name;
    }
    const dot = d.indexOf('.');
    if (dot < 0) break;
    d = d.slice(dot + 1);
  }
  return null;
}

const HOST_TYPES = ['url', 'domain-name'] as const;

// Few labels, so that generated values and entries share their suffixes; "" and "Com" for empty
// labels and upper-case entries, which no lower-cased value can equal.
const label = fc.constantFrom('com', 'net', 'php', 'example', 'cdn', 'x', 'y', 'Com', '');
const hostLike = fc
  .tuple(label, fc.array(fc.tuple(fc.constantFrom('.', '.', '.', '/', '/c.', ':8080/', '?q=', '..'), label), { maxLength: 4 }))
  .map(([first, rest]) => first + rest.map(([glue, l]) => glue + l).join(''));
const entry = fc.tuple(fc.constantFrom('', '', '.', '..'), hostLike, fc.constantFrom('', '', '.')).map(([lead, host, trail]) => lead + host + trail);
const lists = fc.array(
  fc.record({
    name: fc.constantFrom('a', 'b', 'c'),
    kind: fc.constantFrom('hostname' as const, 'string' as const),
    appliesTo: fc.subarray([...HOST_TYPES], { minLength: 1 }),
    entries: fc.array(entry, { minLength: 1, maxLength: 6 }),
  }),
  { minLength: 1, maxLength: 3 },
);
/** Values that end some entries, written as they stand in reports (scheme, upper case, a path). */
const valueAround = fc
  .tuple(fc.constantFrom('', 'http://', 'HTTP://sub.'), hostLike, fc.constantFrom('', '', '/', '/c.php', '.com', '.PHP'))
  .map(([before, host, after]) => before + host + after);

test('host and URL answers equal the plain suffix walk on generated lists and values (the last-label shortcut changes none)', () => {
  fc.assert(
    fc.property(lists, fc.array(valueAround, { maxLength: 12 }), (generated, values) => {
      const data: WarninglistData = { lists: generated };
      const index = buildWarninglistIndex(data);
      const entries = generated.flatMap((l) => l.entries);
      // The entries themselves, and the entries under a subdomain and before a path, hit.
      for (const v of [...values, ...entries, ...entries.map((e) => `sub.${e}`), ...entries.map((e) => `http://${e}/c.php`)]) {
        for (const type of HOST_TYPES) assert.equal(index.match(type, v)?.list ?? null, referenceHostList(data, type, v), `${type} ${JSON.stringify(v)}`);
      }
    }),
    { numRuns: 400, seed: 3 },
  );
});

/**
 * How many Map lookups `run` makes. The index keeps its entries in Maps and the walk is one lookup
 * per suffix; an index that kept them elsewhere would fail the walk's own check below, not pass.
 */
function mapLookups(run: () => void): number {
  const get = Map.prototype.get;
  let lookups = 0;
  Map.prototype.get = function (this: Map<unknown, unknown>, key: unknown) {
    lookups++;
    return get.call(this, key);
  };
  try {
    run();
  } finally {
    Map.prototype.get = get;
  }
  return lookups;
}

test('a host or URL whose last label ends no listed suffix is answered without walking its suffixes', () => {
  const index = buildWarninglistIndex({
    lists: [
      { name: 'hosts', kind: 'hostname', appliesTo: ['url', 'domain-name'], entries: ['cdn.example-host.net', '.googleapis.com'] },
      { name: 'strings', kind: 'string', appliesTo: ['url'], entries: ['.tracker.org', 'http://a.b/c.php'] },
    ],
  });
  const lookups = (type: 'url' | 'domain-name', value: string): number => mapLookups(() => index.match(type, value));
  const deep = 'a.b.c.d.e.f.g.h.';
  // Where the last label could end an entry, every suffix is looked up: the count sees the walk.
  assert.ok(lookups('url', `${deep}googleapis.com`) > lookups('url', 'googleapis.com') + 5);
  assert.ok(lookups('domain-name', `${deep}tracker.org`) > lookups('domain-name', 'tracker.org') + 5);
  // Where it cannot (most URLs end with a path, a file name or "/"), the dots cost nothing.
  for (const [shallow, deeper] of [
    ['http://host/x.php', `http://${deep}host/x.php`],
    ['http://host/', `http://${deep}host/`],
    ['evil.top', `${deep}evil.top`],
  ] as const) {
    for (const type of HOST_TYPES) assert.equal(lookups(type, deeper), lookups(type, shallow), `${type} ${deeper}`);
  }
  assert.equal(index.match('url', `${deep}googleapis.com`)?.list, 'hosts');
  assert.equal(index.match('url', `http://${deep}host/x.php`), null);
});

test('a value is never listed for a type no list applies to, even when a list holds the same string', () => {
  const index = buildWarninglistIndex({
    lists: [
      { name: 'names', kind: 'string', appliesTo: ['domain-name'], entries: ['cve-2021-44228', 't1059'] },
      { name: 'hosts', kind: 'hostname', appliesTo: ['url'], entries: ['cve-2021-44228'] },
    ],
  });
  assert.equal(index.match('cve', 'CVE-2021-44228'), null);
  assert.equal(index.match('attack-technique', 'T1059'), null);
  assert.deepEqual(index.match('domain-name', 'CVE-2021-44228'), { list: 'names', description: 'names' });
  assert.deepEqual(index.match('url', 'cve-2021-44228'), { list: 'hosts', description: 'hosts' });
});
