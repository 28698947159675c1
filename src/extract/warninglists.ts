// Matching observables against the compact MISP warninglists (see scripts/build-warninglists.mjs).
// Pure: the caller loads the JSON (load-extract-data.ts) and passes it in.
import type { ObservableType } from './extractors.ts';
import { parseIpv4, parseIpv6 } from '../stix/ip-address.ts';

export interface WarninglistList {
  readonly name: string;
  readonly kind: 'cidr' | 'hostname' | 'string';
  readonly appliesTo: readonly string[];
  readonly description?: string;
  readonly entries: readonly string[];
}

export interface WarninglistData {
  readonly lists: readonly WarninglistList[];
}

export interface WarninglistHit {
  readonly list: string;
  readonly description: string;
}

export interface WarninglistIndex {
  /** The first list that contains `value` for observables of `type`, or null. */
  match(type: ObservableType, value: string): WarninglistHit | null;
  readonly size: number;
}

interface Hit extends WarninglistHit {
  readonly appliesTo: ReadonlySet<string>;
}

const V4_BLOCK_SIZE = 65536;
const V4_BLOCKS = 65536;
const NO_LENGTHS: readonly number[] = [];

export function buildWarninglistIndex(data: WarninglistData): WarninglistIndex {
  // Per prefix length, network → hit: a lookup is one map probe per distinct length present.
  const v4 = new Map<number, Map<number, Hit>>();
  const v6 = new Map<number, Map<bigint, Hit>>();
  const exact = new Map<string, Hit[]>();
  const suffix = new Map<string, Hit[]>();
  let size = 0;
  const push = <K,>(m: Map<K, Hit[]>, k: K, h: Hit): void => {
    const a = m.get(k);
    if (a === undefined) m.set(k, [h]);
    else a.push(h);
  };
  for (const l of data.lists) {
    const hit: Hit = { list: l.name, description: l.description ?? l.name, appliesTo: new Set(l.appliesTo) };
    for (const e of l.entries) {
      size++;
      if (l.kind === 'cidr') {
        const slash = e.indexOf('/');
        const addr = slash >= 0 ? e.slice(0, slash) : e;
        const ip4 = parseIpv4(addr);
        if (ip4 !== null) {
          const len = slash >= 0 ? Number(e.slice(slash + 1)) : 32;
          const size4 = 2 ** (32 - len);
          const byLen = v4.get(len) ?? new Map<number, Hit>();
          v4.set(len, byLen);
          const net = Math.floor(ip4 / size4) * size4;
          if (!byLen.has(net)) byLen.set(net, hit);
          continue;
        }
        const ip6 = parseIpv6(addr);
        if (ip6 !== null) {
          const len = slash >= 0 ? Number(e.slice(slash + 1)) : 128;
          const byLen = v6.get(len) ?? new Map<bigint, Hit>();
          v6.set(len, byLen);
          const net = ip6 >> BigInt(128 - len);
          if (!byLen.has(net)) byLen.set(net, hit);
        }
      } else if (l.kind === 'hostname') {
        push(suffix, e.replace(/^\.+/, ''), hit);
      } else if (e.startsWith('.')) {
        // MISP string lists use a leading dot for "this domain and its subdomains".
        push(suffix, e.slice(1), hit);
      } else {
        push(exact, e, hit);
      }
    }
  }
  // Most observable types (CVE and ATT&CK ids, rule blocks of kilobytes) are in no list at all.
  const listedTypes = new Set<string>();
  for (const l of data.lists) for (const t of l.appliesTo) listedTypes.add(t);
  const suffixLastLabels = new Set<string>();
  for (const key of suffix.keys()) suffixLastLabels.add(key.slice(key.lastIndexOf('.') + 1));
  const v4Lens = [...v4.keys()].sort((a, b) => b - a);
  // Most addresses in a report are in no list, and trying every prefix length (two dozen map
  // probes) cost microseconds each. For each /16 block of the address space, the prefix lengths
  // of the networks that overlap it, longest first; undefined for the ~85% of blocks no network
  // touches. A length missing from a block's list has no network there, so skipping it changes
  // no answer.
  const v4LensByBlock: (readonly number[] | undefined)[] = new Array<readonly number[] | undefined>(V4_BLOCKS).fill(undefined);
  for (const len of v4Lens) {
    const size4 = 2 ** (32 - len);
    for (const net of v4.get(len)?.keys() ?? []) {
      const last = Math.floor((net + size4 - 1) / V4_BLOCK_SIZE);
      for (let block = Math.floor(net / V4_BLOCK_SIZE); block <= last; block++) {
        const lens = v4LensByBlock[block];
        // Lengths are visited longest first, so each list stays in that order.
        if (lens === undefined) v4LensByBlock[block] = [len];
        else if (lens[lens.length - 1] !== len) (lens as number[]).push(len);
      }
    }
  }
  const v6Lens = [...v6.keys()].sort((a, b) => b - a);
  const pick = (hits: readonly Hit[] | undefined, type: string): Hit | null => {
    if (hits === undefined) return null;
    for (const h of hits) if (h.appliesTo.has(type)) return h;
    return null;
  };
  const out = (h: Hit | null): WarninglistHit | null => (h === null ? null : { list: h.list, description: h.description });

  return {
    size,
    match(type, value) {
      if (!listedTypes.has(type)) return null;
      const v = value.toLowerCase();
      if (type === 'ipv4-addr' || type === 'ipv6-addr') {
        const addr = v.split('/')[0] ?? v;
        const ip4 = parseIpv4(addr);
        if (ip4 !== null) {
          for (const len of v4LensByBlock[Math.floor(ip4 / V4_BLOCK_SIZE)] ?? NO_LENGTHS) {
            const size4 = 2 ** (32 - len);
            const h = v4.get(len)?.get(Math.floor(ip4 / size4) * size4);
            if (h !== undefined && h.appliesTo.has(type)) return out(h);
          }
          return null;
        }
        const ip6 = parseIpv6(addr);
        if (ip6 === null) return null;
        for (const len of v6Lens) {
          const h = v6.get(len)?.get(ip6 >> BigInt(128 - len));
          if (h !== undefined && h.appliesTo.has(type)) return out(h);
        }
        return null;
      }
      if (type === 'domain-name' || type === 'url') {
        const ex = pick(exact.get(v), type);
        if (ex !== null) return out(ex);
        // Every suffix tried below ends with v's last label, and so must a list entry equal to it:
        // a URL ending in ".php" or "/" (most of them) needs no walk, which slices at every dot.
        if (!suffixLastLabels.has(v.slice(v.lastIndexOf('.') + 1))) return null;
        for (let d = v; d.length > 0; ) {
          const h = pick(suffix.get(d), type);
          if (h !== null) return out(h);
          const dot = d.indexOf('.');
          if (dot < 0) break;
          d = d.slice(dot + 1);
        }
        return null;
      }
      return out(pick(exact.get(v), type));
    },
  };
}
