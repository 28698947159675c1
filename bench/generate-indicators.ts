import { closeSync, openSync, writeSync } from 'node:fs';
import type { StixObject } from '../src/stix/types.ts';

/**
 * Deterministic, feed-like STIX 2.1 indicators for the benchmarks: ~450 bytes of JSON each, random
 * (seeded) UUIDv4 ids, a mix of IPv4 / domain / URL / SHA-256 patterns, created_by_ref one of a few
 * producers, a TLP marking, labels, and a name on about one in ten (so the search index gets some work).
 */

/** mulberry32: small, fast, good enough to spread ids and values; the same seed gives the same set. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(random: () => number, digits: number): string {
  let text = '';
  while (text.length < digits) text += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return text.slice(0, digits);
}

export function randomUuidV4(random: () => number): string {
  const variant = '89ab'[Math.floor(random() * 4)] ?? '8';
  return `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-${variant}${hex(random, 3)}-${hex(random, 12)}`;
}

const producers = [
  'identity--f431f809-377b-45e0-aa1c-6a4751cae5ff',
  'identity--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061',
  'identity--7e3f1f0b-2f3c-4a59-9b2c-6b0a3d1f4e21',
  'identity--c3b5b7a1-5d7e-4e33-8d3c-2a1f9e4b6c70',
];
const tlpMarkings = [
  'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9', // TLP:WHITE
  'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', // TLP:GREEN
  'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82', // TLP:AMBER
];
const labelSets = [['botnet', 'c2'], ['phishing'], ['malware'], ['scanning'], ['ransomware']];
const tlds = ['com', 'net', 'org', 'info', 'ru', 'xyz', 'top', 'io'];
const words = ['update', 'secure', 'login', 'cdn', 'static', 'mail', 'portal', 'cloud', 'account', 'verify', 'files', 'api'];

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new RangeError('pick from an empty list');
  return item;
}

function domain(random: () => number): string {
  return `${pick(random, words)}-${hex(random, 5)}.${pick(random, tlds)}`;
}

function observation(random: () => number): { pattern: string; what: string } {
  const kind = random();
  if (kind < 0.45) {
    const ip = [1 + Math.floor(random() * 223), Math.floor(random() * 256), Math.floor(random() * 256), 1 + Math.floor(random() * 254)].join('.');
    return { pattern: `[ipv4-addr:value = '${ip}']`, what: `C2 server ${ip}` };
  }
  if (kind < 0.75) {
    const name = domain(random);
    return { pattern: `[domain-name:value = '${name}']`, what: `Phishing domain ${name}` };
  }
  if (kind < 0.9) {
    const url = `https://${domain(random)}/${pick(random, words)}/${hex(random, 10)}.php`;
    return { pattern: `[url:value = '${url}']`, what: `Malware download URL` };
  }
  const sha = hex(random, 64);
  return { pattern: `[file:hashes.'SHA-256' = '${sha}']`, what: `Dropper sample ${sha.slice(0, 12)}` };
}

const base = Date.UTC(2025, 0, 1);

/** Indicator number `index` of the stream drawn from `random` (call in order: it consumes randomness). */
export function generateIndicator(index: number, random: () => number): StixObject {
  const created = new Date(base + index * 1000 + Math.floor(random() * 1000)).toISOString();
  const { pattern, what } = observation(random);
  const named = random() < 0.1;
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${randomUuidV4(random)}`,
    created,
    modified: created,
    created_by_ref: pick(random, producers),
    ...(named ? { name: what } : {}),
    pattern,
    pattern_type: 'stix',
    valid_from: created,
    labels: pick(random, labelSets),
    object_marking_refs: [pick(random, tlpMarkings)],
  };
}

/** Writes `count` indicators, one JSON document a line; returns the bytes written. */
export function writeIndicatorsJsonl(path: string, count: number, seed: number): number {
  const random = createRandom(seed);
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    const chunkSize = 10_000;
    for (let start = 0; start < count; start += chunkSize) {
      let chunk = '';
      const end = Math.min(count, start + chunkSize);
      for (let index = start; index < end; index += 1) chunk += JSON.stringify(generateIndicator(index, random)) + '\n';
      bytes += writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}
