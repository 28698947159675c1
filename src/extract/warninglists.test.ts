// The warninglist index against a straightforward reading of the lists: for an IPv4 address, the
// longest prefix first, the first list that holds a network at that length, and a shorter prefix
// when that list does not apply to the type. The index skips the lengths no network of the
// address's /16 block has; this checks that the skip never changes an answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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

test('host and URL answers equal the plain suffix walk (the last-label shortcut changes none)', () => {
  const data: WarninglistData = {
    lists: [
      { name: 'hosts', kind: 'hostname', appliesTo: ['url', 'domain-name'], entries: ['cdn.example-host.net', '.googleapis.com', 'php', 'x.y'] },
      { name: 'dotted-strings', kind: 'string', appliesTo: ['domain-name'], entries: ['.corp.test', 'exact.test', 'http://a.b/c.php'] },
      { name: 'url-strings', kind: 'string', appliesTo: ['url'], entries: ['http://a.b/c.php', '.tracker.org'] },
    ],
  };
  const index = buildWarninglistIndex(data);
  const labels = ['cdn', 'example-host', 'net', 'googleapis', 'com', 'php', 'x', 'y', 'corp', 'test', 'exact', 'tracker', 'org', 'a', 'b'];
  const glue = ['.', '.', '.', '/', '/c.', ':8080/', '?q=', ''];
  let seed = 3;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const values = ['http://a.b/c.php', 'HTTP://A.B/C.PHP', 'sub.cdn.example-host.net', 'x.y', 'php', '', '.', 'a.php', 'storage.googleapis.com/b.php'];
  for (let i = 0; i < 3000; i++) {
    let v = next() % 2 === 0 ? 'http://' : '';
    const parts = 1 + (next() % 5);
    for (let k = 0; k < parts; k++) v += (labels[next() % labels.length] ?? '') + (k < parts - 1 ? (glue[next() % glue.length] ?? '') : '');
    values.push(v);
  }
  for (const v of values) {
    for (const type of ['url', 'domain-name'] as const) {
      assert.equal(index.match(type, v)?.list ?? null, referenceHostList(data, type, v), `${type} ${v}`);
    }
  }
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
