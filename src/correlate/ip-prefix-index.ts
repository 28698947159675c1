// CIDR blocks by prefix length: for each length present, a hash of network → postings. A lookup masks
// the observed address (or block) to each length present that is not longer than its own prefix and
// probes that hash — at most 33 probes for IPv4 and 129 for IPv6, usually a handful — so it answers
// "which blocks contain this address" (ISSUBSET) exactly, in time independent of the number of blocks.
import { parseIpRange, type IpRange } from '../pattern/parse-ip-range.ts';
import { parseIpv4 } from '../stix/ip-address.ts';

interface Family {
  /** IPv4 networks are numbers, IPv6 ones BigInts. */
  readonly byLength: Map<number, Map<number | bigint, unknown[]>>;
  lengths: number[];
}

export class IpPrefixIndex<T> {
  private readonly families = new Map<4 | 6, Family>();
  private count = 0;

  /** Adds a block given as text (`198.51.100.0/24`, `2001:db8::/32`, a plain address); false when it is not one. */
  add(blockText: string, posting: T): boolean {
    const range = parseIpRange(blockText);
    if (range === undefined) return false;
    let family = this.families.get(range.family);
    if (family === undefined) {
      family = { byLength: new Map(), lengths: [] };
      this.families.set(range.family, family);
    }
    let networks = family.byLength.get(range.prefix);
    if (networks === undefined) {
      networks = new Map();
      family.byLength.set(range.prefix, networks);
      family.lengths = [...family.byLength.keys()].sort((a, b) => a - b);
    }
    const key = networkKey(range);
    const list = networks.get(key);
    if (list === undefined) networks.set(key, [posting]);
    else list.push(posting);
    this.count++;
    return true;
  }

  remove(blockText: string, posting: T): void {
    const range = parseIpRange(blockText);
    if (range === undefined) return;
    const key = networkKey(range);
    const list = this.families.get(range.family)?.byLength.get(range.prefix)?.get(key);
    const at = list?.indexOf(posting) ?? -1;
    if (list !== undefined && at >= 0) {
      list.splice(at, 1);
      this.count--;
      if (list.length === 0) this.families.get(range.family)?.byLength.get(range.prefix)?.delete(key);
    }
  }

  get size(): number {
    return this.count;
  }

  /** Postings of every block that contains all of `valueText` (an address or a block); nothing for non-IP text. */
  lookup(valueText: string, onPosting: (posting: T) => void): void {
    if (this.count === 0) return;
    // The common case, a plain IPv4 address, without BigInt: mask the 32-bit number per length.
    const v4 = parseIpv4(valueText);
    if (v4 !== null) {
      const family = this.families.get(4);
      if (family === undefined) return;
      for (const length of family.lengths) {
        const size = 2 ** (32 - length);
        const list = family.byLength.get(length)?.get(Math.floor(v4 / size) * size);
        if (list !== undefined) for (const posting of list) onPosting(posting as T);
      }
      return;
    }
    const range = parseIpRange(valueText);
    if (range !== undefined) this.lookupRange(range, onPosting);
  }

  lookupRange(range: IpRange, onPosting: (posting: T) => void): void {
    const family = this.families.get(range.family);
    if (family === undefined) return;
    const bits = range.family === 4 ? 32 : 128;
    for (const length of family.lengths) {
      if (length > range.prefix) break;
      const hostBits = BigInt(bits - length);
      const network = (range.network >> hostBits) << hostBits;
      const list = family.byLength.get(length)?.get(range.family === 4 ? Number(network) : network);
      if (list !== undefined) for (const posting of list) onPosting(posting as T);
    }
  }
}

function networkKey(range: IpRange): number | bigint {
  return range.family === 4 ? Number(range.network) : range.network;
}
