// Deciding from the fields of a Zeek record (conn, dns, http; a TSV line or a JSON object), without
// building its SCOs, that no indicator can match it.
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
// values of a group quoted one after the other, one question per group rather than per value: the two
// addresses (only ever ipv4-addr or ipv6-addr SCOs), the names (a domain-name, or an address SCO when the
// text is one), the URL and the protocols. A TSV line's fields are read from the split line: its record
// is made only when the screen cannot pass over it.
//
// It answers with the record's timestamp ("clear") only when all of these hold, and undefined (the
// full reader and the matcher decide) otherwise:
// - no leaf evaluated on every observation may hold on one of its SCOs: none of the SCOs the record makes
//   (scoShapesOf: each one's type and keys, as zeek-observations.ts builds them) has the type and the
//   first key of a path of such a leaf (the matcher's everyObservationNeeds, asked of each SCO apart);
// - the record is conn, dns or http, its `ts` reads as a time and one of its two addresses parses as an
//   IPv4 or IPv6 address, so the full reader makes exactly one observation of it (never a malformed line);
// - every field it reads is text or a list of texts (a port may be a number), and every value it asks
//   about is ASCII (so that the matcher's NFC normalisation leaves it unchanged, as the screen's
//   fingerprints and anchors assume);
// - no value may equal an indexed value, lie in an indexed block or hold every text of a substring anchor
//   of a type it can sit in, and no port may equal an indexed number.
import { parseIpv4, parseIpv6 } from '../stix/ip-address.ts';
import { toStixTimestamp } from './log-observation.ts';
import { mayBeIpText, type LiteralScreen, type ValueScreen } from './screen-json-line.ts';
import { fingerprintOf } from './value-fingerprints.ts';
import { zeekHttpUrl, type ZeekFields, type ZeekLogKind } from './zeek-observations.ts';

/**
 * Texts every record's SCOs may hold whatever its fields: the SCO types, the protocol a traffic without
 * any gets, the protocols dns and http records add, and the reference keys of the first SCOs.
 */
const fixedTexts = ['network-traffic', 'ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'ipv4', 'dns', 'http'];
const fixedKeyCount = 16;
const alwaysHeld = [...fixedTexts, ...Array.from({ length: fixedKeyCount }, (_v, key) => String(key))];
const alwaysHeldQuoted = quotedTogether(alwaysHeld);
const nameTypes = ['domain-name', 'ipv4-addr', 'ipv6-addr'];

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

/** Whether a text may be matched: not ASCII (the screen cannot tell), an equal indexed value, or one in an indexed block. */
function textMayMatch(screen: ValueScreen, text: string, ipBlocks: boolean): boolean {
  if (!isAscii(text) || screen.mayEqualString(fingerprintOf(text))) return true;
  return ipBlocks && mayBeIpText(text, 0, text.length) && screen.mayBeInIpBlock(text);
}

/** The screen's answers that hold for every record, kept while the screen's generation stays the same. */
interface FixedAnswers {
  readonly generation: number;
  /** What an SCO must hold for a leaf evaluated on every observation to hold on it; undefined without one. */
  readonly needs: LiteralScreen | undefined;
  /** Per SCO shape (scoShapesOf), whether it meets a need: a record's SCOs take a few shapes only. */
  readonly shapesMeetingNeeds: Map<string, boolean>;
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
    needs: screen.everyObservationNeeds(),
    shapesMeetingNeeds: new Map(),
    ipBlocks,
    numbers: screen.hasNumberKeys(),
    substrings,
    alwaysHeldMayMatch:
      alwaysHeld.some((text) => textMayMatch(screen, text, ipBlocks)) ||
      (substrings && screen.allSubstrings().occursIn(alwaysHeldQuoted, 0, alwaysHeldQuoted.length)),
  };
  fixedAnswersByScreen.set(screen, answers);
  return answers;
}

/**
 * What one record asks the screen, value by value, as its fields are read: `clear` turns false at the
 * first value that may be matched (or that the screen cannot reason about). Substring anchors are asked
 * at the end, once per group of values quoted together. One instance serves every record in turn.
 */
class RecordQuestions {
  clear = true;
  /** Values of SCOs that are always an ipv4-addr or ipv6-addr (the traffic's two ends). */
  addresses = '';
  /** Queried names, answers and hosts: a domain-name, or an address SCO when the text is one. */
  names = '';
  nameCount = 0;
  urls = '';
  urlCount = 0;
  protocols = '';
  private screen!: ValueScreen;
  private ipBlocks = false;
  private quoting = false;

  start(screen: ValueScreen, fixed: FixedAnswers): this {
    this.screen = screen;
    this.ipBlocks = fixed.ipBlocks;
    this.quoting = fixed.substrings;
    this.clear = true;
    this.addresses = this.names = this.urls = this.protocols = '';
    this.nameCount = this.urlCount = 0;
    return this;
  }

  /** Asks about a text; the quoted text to add to its group ('' when anchors are not asked about). */
  private ask(text: string): string {
    if (textMayMatch(this.screen, text, this.ipBlocks)) this.clear = false;
    return this.quoting ? `"${text}"` : '';
  }

  address(value: unknown): void {
    forEachText(value, this, (text, self) => (self.addresses += self.ask(text)));
  }

  /** A name becomes a domain-name without its trailing dot, or an address as it is: both are asked about. */
  name(value: unknown): void {
    forEachText(value, this, (text, self) => {
      self.nameCount++;
      self.names += self.ask(text);
      if (text.endsWith('.')) self.names += self.ask(text.slice(0, -1));
    });
  }

  url(text: string): void {
    this.urlCount++;
    this.urls += this.ask(text);
  }

  /** Protocols are lower-cased; `service` lists several separated by commas. */
  protocol(value: unknown, commaSeparated: boolean): void {
    forEachText(value, this, (text, self) => {
      if (!commaSeparated) self.protocols += self.ask(text.toLowerCase());
      else for (const part of text.split(',')) self.protocols += self.ask(part.toLowerCase());
    });
  }

  /** A port is text in a TSV log and a number in a JSON one. */
  port(value: unknown, numbers: boolean): void {
    if (typeof value === 'number') {
      if (numbers && this.screen.mayEqualNumber(value)) this.clear = false;
      return;
    }
    forEachText(value, this, (text, self) => {
      if (numbers && self.screen.mayEqualNumber(Number(text))) self.clear = false;
    });
  }
}

/** Calls `each` for a field's texts (none when unset); a field that is neither text nor texts is not clear. */
function forEachText(value: unknown, questions: RecordQuestions, each: (text: string, questions: RecordQuestions) => void): void {
  if (value === undefined) return;
  if (typeof value === 'string') each(value, questions);
  else if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      if (typeof item === 'string') each(item, questions);
      else questions.clear = false;
    }
  } else questions.clear = false;
}

const questions = new RecordQuestions();
const addressTypes = ['ipv4-addr', 'ipv6-addr'];
const urlTypes = ['url'];
const trafficTypes = ['network-traffic'];

/**
 * The record's STIX timestamp when no indicator can match the observation the full reader would make of
 * it; undefined when it must be read and matched.
 */
export function screenZeekRecord(kind: ZeekLogKind, fields: ZeekFields, screen: ValueScreen): string | undefined {
  if (kind !== 'conn' && kind !== 'dns' && kind !== 'http') return undefined;
  const fixed = fixedAnswersOf(screen);
  if (fixed.alwaysHeldMayMatch) return undefined;
  const src = fields.field('id.orig_h');
  const dst = fields.field('id.resp_h');
  if (!isAddress(src) && !isAddress(dst)) return undefined;

  const asked = questions.start(screen, fixed);
  asked.address(src);
  asked.address(dst);
  asked.port(fields.field('id.orig_p'), fixed.numbers);
  asked.port(fields.field('id.resp_p'), fixed.numbers);
  asked.protocol(fields.field('proto'), false);
  if (kind === 'conn') asked.protocol(fields.field('service'), true);
  else if (kind === 'dns') {
    asked.name(fields.field('query'));
    asked.name(fields.field('answers'));
  } else {
    const host = fields.field('host');
    asked.name(host);
    const url = zeekHttpUrl(host, fields.field('uri'));
    if (url !== undefined) asked.url(url);
  }
  if (!asked.clear) return undefined;
  if (fixed.needs !== undefined && someShapeMeetsANeed(scoShapesOf(kind, fields), fixed)) return undefined;

  // Reference keys: one per SCO, and a record has no more SCOs than 3 + its names and URLs.
  let extraKeys = '';
  for (let key = fixedKeyCount; key <= 3 + asked.nameCount + asked.urlCount; key++) {
    const text = String(key);
    if (screen.mayEqualString(fingerprintOf(text))) return undefined;
    extraKeys += `"${text}"`;
  }
  if (fixed.substrings) {
    if (extraKeys !== '' && screen.allSubstrings().occursIn(extraKeys, 0, extraKeys.length)) return undefined;
    if (screen.substringsInTypes(addressTypes).occursIn(asked.addresses, 0, asked.addresses.length)) return undefined;
    if (asked.names !== '' && screen.substringsInTypes(nameTypes).occursIn(asked.names, 0, asked.names.length)) return undefined;
    if (asked.urls !== '' && screen.substringsInTypes(urlTypes).occursIn(asked.urls, 0, asked.urls.length)) return undefined;
    if (screen.substringsInTypes(trafficTypes).occursIn(asked.protocols, 0, asked.protocols.length)) return undefined;
  }
  return toStixTimestamp(fields.field('ts'));
}

/** Whether one of the record's SCOs, by its shape, has the type and key a leaf evaluated on every observation needs. */
function someShapeMeetsANeed(shapes: readonly string[], fixed: FixedAnswers): boolean {
  const needs = fixed.needs as LiteralScreen;
  for (const shape of shapes) {
    let meets = fixed.shapesMeetingNeeds.get(shape);
    if (meets === undefined) {
      meets = needs.occursIn(shape, 0, shape.length);
      fixed.shapesMeetingNeeds.set(shape, meets);
    }
    if (meets) return true;
  }
  return false;
}

/** An SCO's shape as the needs are asked of it: its type and each of its keys, between quotes. */
const trafficShape = '"network-traffic""type""protocols"';
const addressShapes: Readonly<Record<string, string>> = { 'ipv4-addr': '"ipv4-addr""type""value"', 'ipv6-addr': '"ipv6-addr""type""value"' };
const domainShape = '"domain-name""type""value"';
const resolvingDomainShape = '"domain-name""type""value""resolves_to_refs"';
const urlShape = '"url""type""value"';

/**
 * The shapes of the SCOs the full reader makes of a conn, dns or http record with an address at one end
 * (zeekRecordObservation, ScoBuilder), each its type and its keys between quotes: so that a need, its
 * type and key quoted (BulkMatcher.screen.everyObservationNeeds), is met by a shape only if one SCO has
 * both. Exact but for ports, where it is wider: a port field that is set gives its key even when it is
 * no port (the builder drops it). Exported for the test that holds it to the SCOs made.
 */
export function scoShapesOf(kind: 'conn' | 'dns' | 'http', fields: ZeekFields): string[] {
  const src = addressShapeOf(fields.field('id.orig_h'));
  const dst = addressShapeOf(fields.field('id.resp_h'));
  let traffic = trafficShape;
  if (src !== undefined) traffic += '"src_ref"';
  if (dst !== undefined) traffic += '"dst_ref"';
  if (fields.field('id.orig_p') !== undefined) traffic += '"src_port"';
  if (fields.field('id.resp_p') !== undefined) traffic += '"dst_port"';
  const shapes = [traffic];
  const add = (shape: string | undefined): void => {
    if (shape !== undefined && !shapes.includes(shape)) shapes.push(shape);
  };
  add(src);
  add(dst);
  if (kind === 'dns') {
    const query = fields.field('query');
    if (typeof query === 'string' && query !== '') {
      // Answers make SCOs only beside a query's; a domain-name query resolves to those that are other SCOs.
      const queryAddress = addressShapeOf(query);
      const queryName = withoutTrailingDot(query);
      let resolves = false;
      forEachName(fields.field('answers'), (text) => {
        const address = addressShapeOf(text);
        const sameAsQuery = address !== undefined ? queryAddress !== undefined && text === query : queryAddress === undefined && withoutTrailingDot(text) === queryName;
        if (!sameAsQuery) {
          add(address ?? domainShape);
          resolves = true;
        }
      });
      add(queryAddress ?? (resolves ? resolvingDomainShape : domainShape));
    }
  } else if (kind === 'http') {
    const host = fields.field('host');
    if (typeof host === 'string' && host !== '') add(addressShapeOf(host) ?? domainShape);
    const url = zeekHttpUrl(host, fields.field('uri'));
    if (url !== undefined && url !== '') add(urlShape);
  }
  return shapes;
}

/** The shape of the ipv4-addr or ipv6-addr SCO the text makes, undefined when it is no address. */
function addressShapeOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (parseIpv4(value) !== null) return addressShapes['ipv4-addr'];
  return value.includes(':') && parseIpv6(value) !== null ? addressShapes['ipv6-addr'] : undefined;
}

/** The texts of a list field that make an SCO (ScoBuilder.domain skips all but non-empty texts). */
function forEachName(value: unknown, each: (text: string) => void): void {
  for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) if (typeof item === 'string' && item !== '') each(item);
}

/** A domain-name's value as ScoBuilder.domain makes it. */
function withoutTrailingDot(text: string): string {
  return text.endsWith('.') ? text.slice(0, -1) : text;
}

/** Whether the field makes an ipv4-addr or ipv6-addr (ScoBuilder.ip), so that the record has a traffic. */
function isAddress(value: unknown): boolean {
  return addressShapeOf(value) !== undefined;
}
