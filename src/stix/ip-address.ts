// IP address parsing for validation and range membership, shared by the extractor (whose regexes
// only find candidates) and the pattern engine (ISSUBSET/ISSUPERSET). These decide what is a real address (no leading-zero octets, which some
// stacks read as octal, and IPv6 without zone ids, which STIX values cannot carry).

/** IPv4 dotted quad → unsigned 32-bit integer, or null. Leading zeros are rejected. */
export function parseIpv4(s: string): number | null {
  // A character loop rather than split('.'): this runs for every IP, URL host and warninglist probe.
  const n = s.length;
  if (n < 7 || n > 15) return null;
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || octet > 255) return null;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
      if (i < n) dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return null; // leading zero: octal in some stacks
      octet = octet * 10 + (c - 48);
      if (++digits > 3) return null;
    } else return null;
  }
  return dots === 3 ? v : null;
}

/** IPv6 in any textual notation (full, compressed, embedded IPv4) → 128-bit bigint, or null. */
export function parseIpv6(s: string): bigint | null {
  if (s.includes('%')) return null;
  let head = s;
  let tailV4: number | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > 0) {
    tailV4 = parseIpv4(s.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = head.indexOf('::');
  if (dbl >= 0 && head.indexOf('::', dbl + 1) >= 0) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.length === 0 || g.length > 4 || !/^[0-9a-fA-F]+$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (left === null || right === null || left.length + right.length > 7) return null;
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (all === null || all.length !== 8) return null;
    groups = all;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  if (tailV4 !== null) v = (v & ~0xffffffffn) | BigInt(tailV4);
  return v;
}

/** Whether `ip` lies in base/len. */
export function ipv4InCidr(ip: number, base: number, len: number): boolean {
  if (len === 0) return true;
  const size = 2 ** (32 - len);
  const net = Math.floor(base / size) * size;
  return ip >= net && ip < net + size;
}

export function ipv6InCidr(ip: bigint, base: bigint, len: number): boolean {
  const shift = BigInt(128 - len);
  return ip >> shift === base >> shift;
}
