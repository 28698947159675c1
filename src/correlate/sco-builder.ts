// Collects the SCOs of one log record under local keys `0`, `1`, …, so that `_ref` properties can name
// them; IP addresses and domain names are added once per record whatever the number of fields holding them.
import { parseIpv4, parseIpv6 } from '../stix/ip-address.ts';
import type { JsonRecord } from './log-observation.ts';

export class ScoBuilder {
  readonly objects: Record<string, JsonRecord> = {};
  private next = 0;
  // A record has a handful of SCOs: a short list beats a Map here.
  private readonly seenKeys: string[] = [];
  private readonly seenRefs: string[] = [];

  add(sco: JsonRecord): string {
    const key = String(this.next++);
    this.objects[key] = sco;
    return key;
  }

  /** An ipv4-addr or ipv6-addr for the text, or undefined when it is no address. */
  ip(text: unknown): string | undefined {
    if (typeof text !== 'string' || text === '') return undefined;
    const type = parseIpv4(text) !== null ? 'ipv4-addr' : text.includes(':') && parseIpv6(text) !== null ? 'ipv6-addr' : undefined;
    if (type === undefined) return undefined;
    return this.once(type, text);
  }

  /** A domain-name for the text (an address becomes an IP SCO instead). */
  domain(text: unknown): string | undefined {
    if (typeof text !== 'string' || text === '') return undefined;
    const ip = this.ip(text);
    if (ip !== undefined) return ip;
    const value = text.endsWith('.') ? text.slice(0, -1) : text;
    return this.once('domain-name', value);
  }

  url(text: unknown): string | undefined {
    if (typeof text !== 'string' || text === '') return undefined;
    return this.once('url', text);
  }

  /** network-traffic between two addresses, with ports and protocols when known. */
  traffic(fields: { src?: unknown; dst?: unknown; srcPort?: unknown; dstPort?: unknown; protocols: readonly unknown[] }): string | undefined {
    const src = this.ip(fields.src);
    const dst = this.ip(fields.dst);
    if (src === undefined && dst === undefined) return undefined;
    const protocols = [...new Set(fields.protocols.filter((p): p is string => typeof p === 'string' && p !== '' && p !== '-').map((p) => p.toLowerCase()))];
    const sco: Record<string, unknown> = { type: 'network-traffic', protocols: protocols.length > 0 ? protocols : ['ipv4'] };
    if (src !== undefined) sco['src_ref'] = src;
    if (dst !== undefined) sco['dst_ref'] = dst;
    const srcPort = port(fields.srcPort);
    const dstPort = port(fields.dstPort);
    if (srcPort !== undefined) sco['src_port'] = srcPort;
    if (dstPort !== undefined) sco['dst_port'] = dstPort;
    return this.add(sco);
  }

  get size(): number {
    return this.next;
  }

  private once(type: string, value: string): string {
    const key = `${type}:${value}`;
    const at = this.seenKeys.indexOf(key);
    if (at >= 0) return this.seenRefs[at] as string;
    const ref = this.add({ type, value });
    this.seenKeys.push(key);
    this.seenRefs.push(ref);
    return ref;
  }
}

function port(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

/** `hashes` from whichever of MD5, SHA-1, SHA-256 are present (hex of the right length). */
export function hashesOf(md5: unknown, sha1: unknown, sha256: unknown): Record<string, string> | undefined {
  const hashes: Record<string, string> = {};
  const put = (algorithm: string, value: unknown, length: number): void => {
    if (typeof value === 'string' && value.length === length && /^[0-9a-fA-F]+$/.test(value)) hashes[algorithm] = value;
  };
  put('MD5', md5, 32);
  put('SHA-1', sha1, 40);
  put('SHA-256', sha256, 64);
  return Object.keys(hashes).length > 0 ? hashes : undefined;
}
