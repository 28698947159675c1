// IPv4/IPv6 addresses and CIDR blocks as exact bit ranges, for ISSUBSET and ISSUPERSET. Addresses are
// BigInts so that IPv6 /0 … /128 need no special cases.
import { parseIpv4, parseIpv6 } from '../stix/ip-address.ts';

export interface IpRange {
  readonly family: 4 | 6;
  /** The network address: the address with every bit past the prefix cleared. */
  readonly network: bigint;
  /** 0..32 for IPv4, 0..128 for IPv6; a plain address is a /32 or /128. */
  readonly prefix: number;
}

/** Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address (RFC 4291 text forms) or `ipv6/n`; undefined otherwise. */
export function parseIpRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const family = addressText.includes(':') ? 6 : 4;
  const bits = family === 4 ? 32 : 128;
  const address = family === 4 ? toBigInt(parseIpv4(addressText)) : parseIpv6(addressText);
  if (address === null) return undefined;
  let prefix = bits;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > bits) return undefined;
  }
  return { family, network: maskTo(address, prefix, bits), prefix };
}

/** True when every address of `inner` is in `outer` (same family, wider or equal prefix, same network bits). */
export function ipRangeContains(outer: IpRange, inner: IpRange): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  const bits = outer.family === 4 ? 32 : 128;
  return maskTo(inner.network, outer.prefix, bits) === outer.network;
}

function maskTo(address: bigint, prefix: number, bits: number): bigint {
  const hostBits = BigInt(bits - prefix);
  return (address >> hostBits) << hostBits;
}

function toBigInt(value: number | null): bigint | null {
  return value === null ? null : BigInt(value);
}
