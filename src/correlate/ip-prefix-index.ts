// CIDR blocks by prefix length: for each length present, a hash of network → postings. A lookup masks
// the observed address (or block) to each length present that is not longer than its own prefix and
// probes that hash — at most 33 probes for IPv4 and 129 for IPv6, usually a handful — so it answers
// "which blocks contain this address" (ISSUBSET) exactly, in time independent of the number of blocks.
import { parseIpRange, type IpRange } from '../pattern/parse-ip-range.ts';

interface Family {
  readonly byLength: Map<number, Map<bigint, unknown[]>>;
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
    const list = networks.get(range.network);
    if (list === undefined) networks.set(range.network, [posting]);
    else list.push(posting);
    this.count++;
    return true;
  }

  remove(blockText: string, posting: T): void {
    const range = parseIpRange(blockText);
    if (range === undefined) return;
    const list = this.families.get(range.family)?.byLength.get(range.prefix)?.get(range.network);
    const at = list?.indexOf(posting) ?? -1;
    if (list !== undefined && at >= 0) {
      list.splice(at, 1);
      this.count--;
      if (list.length === 0) this.families.get(range.family)?.byLength.get(range.prefix)?.delete(range.network);
    }
  }

  get size(): number {
    return this.count;
  }

  /** Postings of every block that contains all of `valueText` (an address or a block); nothing for non-IP text. */
  lookup(valueText: string, onPosting: (posting: T) => void): void {
    if (this.count === 0) return;
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
      const list = family.byLength.get(length)?.get((range.network >> hostBits) << hostBits);
      if (list !== undefined) for (const posting of list) onPosting(posting as T);
    }
  }
}
