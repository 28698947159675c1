// Deciding from the fields of a Zeek TSV record (conn, dns, http), without building its SCOs, that no
// indicator can match it.
//
// Building the SCOs and the observation and running the matcher costs most of a Zeek record's time,
// and at a 0.1 % hit rate almost every record matches nothing. The SCOs of these kinds hold only values
// known from the fields (zeek-observations.ts): the addresses, ports and protocols (`proto`, the
// comma-separated `service`, lower-cased), the queried name and answers (trailing dot stripped, or the
// text itself when it is an address), the host and the URL made of host and URI, plus the SCO types
// and the local reference keys (`0`, `1`, …). This screen asks the matcher's screen about every one of
// those values, for the SCO types it can sit in, with the same questions as the JSON-line screen
// (fingerprint equality, numbers, IP blocks, substring anchors), and about no property name: it asks
// about more values than the matcher would probe, never fewer. Substring anchors are asked about the
// values of a type group quoted one after the other, one question per group rather than per value.
//
// It answers with the record's timestamp ("clear") only when all of these hold, and undefined (the
// full reader and the matcher decide) otherwise:
// - no leaf is evaluated on every observation;
// - the record is conn, dns or http, its `ts` reads as a time and one of its two addresses parses as an
//   IPv4 or IPv6 address, so the full reader makes exactly one observation of it (never a malformed line);
// - every field it reads is text or a list of texts, and every value it asks about is ASCII (so that the
//   matcher's NFC normalisation leaves it unchanged, as the screen's fingerprints and anchors assume);
// - no value may equal an indexed value, lie in an indexed block or hold every text of a substring anchor
//   of a type it can sit in, and no port may equal an indexed number.
import { parseIpv4, parseIpv6 } from '../stix/ip-address.ts';
import { toStixTimestamp, type JsonRecord } from './log-observation.ts';
import { mayBeIpText, type LiteralScreen, type ValueScreen } from './screen-json-line.ts';
import { fingerprintOf } from './value-fingerprints.ts';
import { zeekHttpUrl, type ZeekLogKind } from './zeek-observations.ts';

/**
 * Texts every record's SCOs may hold whatever its fields: the SCO types, the protocol a traffic without
 * any gets, the protocols dns and http records add, and the reference keys of the first SCOs.
 */
const fixedTexts = ['network-traffic', 'ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'ipv4', 'dns', 'http'];
const fixedKeyCount = 16;
const alwaysHeld = [...fixedTexts, ...Array.from({ length: fixedKeyCount }, (_v, key) => String(key))];
const alwaysHeldQuoted = quotedTogether(alwaysHeld);
const nameTypes = ['domain-name', 'ipv4-addr', 'ipv6-addr'];

/** The texts of a field: none when unset, the list of a set, or undefined when it is neither. */
function textsOf(value: unknown): readonly string[] | undefined {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item): item is string => typeof item === 'string')) return value;
  return undefined;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) return false;
  return true;
}

/**
 * The texts, each between quotes, one after the other: one question about substring anchors for all of
 * them. Every literal that occurs in one of the quoted texts occurs in the whole, so an anchor one text
 * satisfies is found (the whole may also satisfy an anchor no single text does: only a needless read).
 */
function quotedTogether(texts: readonly string[]): string {
  let quoted = '';
  for (const text of texts) quoted += `"${text}"`;
  return quoted;
}

/** Whether a value among the texts may be matched: an equal indexed value, or one in an indexed block. */
function mayEqualOrBeInBlock(screen: ValueScreen, texts: readonly string[], ipBlocks: boolean): boolean {
  for (const text of texts) {
    if (!isAscii(text)) return true;
    if (screen.mayEqualString(fingerprintOf(text))) return true;
    if (ipBlocks && mayBeIpText(text, 0, text.length) && screen.mayBeInIpBlock(text)) return true;
  }
  return false;
}

/** Whether the quoted texts may hold every text of a substring anchor of one of the SCO types. */
function mayHoldAnchor(screen: ValueScreen, quoted: string, types: readonly string[]): boolean {
  const asked: LiteralScreen[] = [];
  for (const type of types) {
    // Types without anchors of their own share one screen (the anchors on paths through references).
    const anchors = screen.substringsInType(type, 0, type.length);
    if (asked.includes(anchors)) continue;
    asked.push(anchors);
    if (anchors.occursIn(quoted, 0, quoted.length)) return true;
  }
  return false;
}

/** The screen's answers that hold for every record, kept while the screen's generation stays the same. */
interface FixedAnswers {
  readonly generation: number;
  readonly evaluatesEveryObservation: boolean;
  readonly ipBlocks: boolean;
  readonly numbers: boolean;
  readonly substrings: boolean;
  /** Whether a text every record's SCOs may hold (alwaysHeld) may be matched. */
  readonly alwaysHeldMayMatch: boolean;
}

const fixedAnswersByScreen = new WeakMap<ValueScreen, FixedAnswers>();

function fixedAnswersOf(screen: ValueScreen): FixedAnswers {
  const generation = screen.generation();
  const kept = fixedAnswersByScreen.get(screen);
  if (kept !== undefined && kept.generation === generation) return kept;
  const ipBlocks = screen.hasIpBlocks();
  const substrings = screen.hasSubstrings();
  const answers: FixedAnswers = {
    generation,
    evaluatesEveryObservation: screen.evaluatesEveryObservation(),
    ipBlocks,
    numbers: screen.hasNumberKeys(),
    substrings,
    alwaysHeldMayMatch:
      mayEqualOrBeInBlock(screen, alwaysHeld, ipBlocks) ||
      (substrings && screen.allSubstrings().occursIn(alwaysHeldQuoted, 0, alwaysHeldQuoted.length)),
  };
  fixedAnswersByScreen.set(screen, answers);
  return answers;
}

/**
 * The record's STIX timestamp when no indicator can match the observation the full reader would make of
 * it; undefined when it must be read and matched.
 */
export function screenZeekRecord(kind: ZeekLogKind, record: JsonRecord, screen: ValueScreen): string | undefined {
  if (kind !== 'conn' && kind !== 'dns' && kind !== 'http') return undefined;
  const fixed = fixedAnswersOf(screen);
  if (fixed.evaluatesEveryObservation || fixed.alwaysHeldMayMatch) return undefined;
  const timestamp = toStixTimestamp(record['ts']);
  if (timestamp === undefined) return undefined;
  const src = record['id.orig_h'];
  const dst = record['id.resp_h'];
  if (!isAddress(src) && !isAddress(dst)) return undefined;

  const srcTexts = textsOf(src);
  const dstTexts = textsOf(dst);
  const srcPorts = textsOf(record['id.orig_p']);
  const dstPorts = textsOf(record['id.resp_p']);
  const proto = textsOf(record['proto']);
  // Domains (and the addresses that stand in for them) and URLs, per kind.
  let names: readonly string[] | undefined = [];
  let urls: string[] = [];
  let services: readonly string[] | undefined = [];
  if (kind === 'conn') {
    const service = textsOf(record['service']);
    services = service === undefined ? undefined : service.join(',').split(',');
  } else if (kind === 'dns') {
    const query = textsOf(record['query']);
    const answers = textsOf(record['answers']);
    names = query === undefined || answers === undefined ? undefined : [...query, ...answers];
  } else {
    const host = record['host'];
    names = textsOf(host);
    const url = zeekHttpUrl(host, record['uri']);
    if (url !== undefined) urls = [url];
  }
  if (srcTexts === undefined || dstTexts === undefined || srcPorts === undefined || dstPorts === undefined) return undefined;
  if (proto === undefined || services === undefined || names === undefined) return undefined;

  // A name becomes a domain-name without its trailing dot, or an address as it is: both are asked about.
  const nameValues = [...srcTexts, ...dstTexts];
  for (const name of names) {
    nameValues.push(name);
    if (name.endsWith('.')) nameValues.push(name.slice(0, -1));
  }
  const protocols = [...proto, ...services].map((protocol) => protocol.toLowerCase());
  // Reference keys: one per SCO, and a record has no more SCOs than 3 + its names and URLs.
  const extraKeys: string[] = [];
  for (let key = fixedKeyCount; key <= 3 + names.length + urls.length; key++) extraKeys.push(String(key));

  const ipBlocks = fixed.ipBlocks;
  if (mayEqualOrBeInBlock(screen, nameValues, ipBlocks) || mayEqualOrBeInBlock(screen, urls, ipBlocks)) return undefined;
  if (mayEqualOrBeInBlock(screen, protocols, ipBlocks) || mayEqualOrBeInBlock(screen, extraKeys, ipBlocks)) return undefined;
  if (fixed.numbers) for (const text of [...srcPorts, ...dstPorts]) if (screen.mayEqualNumber(Number(text))) return undefined;
  if (fixed.substrings) {
    const extraKeysQuoted = quotedTogether(extraKeys);
    if (extraKeys.length > 0 && screen.allSubstrings().occursIn(extraKeysQuoted, 0, extraKeysQuoted.length)) return undefined;
    if (mayHoldAnchor(screen, quotedTogether(nameValues), nameTypes)) return undefined;
    if (urls.length > 0 && mayHoldAnchor(screen, quotedTogether(urls), ['url'])) return undefined;
    if (mayHoldAnchor(screen, quotedTogether(protocols), ['network-traffic'])) return undefined;
  }
  return timestamp;
}

/** Whether the field makes an ipv4-addr or ipv6-addr (ScoBuilder.ip), so that the record has a traffic. */
function isAddress(value: unknown): boolean {
  return typeof value === 'string' && value !== '' && (parseIpv4(value) !== null || (value.includes(':') && parseIpv6(value) !== null));
}
