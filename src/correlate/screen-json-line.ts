// Deciding from the raw text of a JSON line, without JSON.parse, that no indicator can match it.
//
// At a 0.1 % hit rate almost every line matches nothing, and JSON.parse of every line alone costs more
// than the whole matching budget. The bulk matcher probes only string and number values (never keys) of
// the SCOs, so a line whose every such value misses every index cannot match. This scanner walks the line
// once: it checks the JSON grammar exactly (a malformed line is never passed over silently), asks the
// matcher's screen about each value under an indexed property name, and notes the top-level shape, so that
// the line can be counted as its one observation without being built.
//
// It answers "clear" only when all of these hold, and "parse" (the full reader decides) otherwise:
// - the line is printable ASCII without a backslash, so every string is exactly the text between two
//   quotes and already in NFC, and no key can be an escaped `type` or `objects` (any other line is
//   parsed: tabs, escapes and non-ASCII text are rare in telemetry, and parsing is always right);
// - it is one JSON object that JSON.parse accepts;
// - it is a bare SCO (any `type` string but `bundle` and `observed-data`), or an observed-data whose
//   embedded `objects` are all objects with a string `type` and whose first/last_observed read as
//   timestamps — exactly the lines jsonl-observations.ts turns into one observation without complaint;
// - no string under an indexed property name (the last key of an indexed path) may equal an indexed value
//   (by fingerprint), lie in an indexed IP block or hold every text some substring anchor requires, no
//   number there may equal an indexed number, and no leaf evaluated on every observation may hold on it:
//   the line does not hold both the type (`"ipv4-addr"`) and the property (`"value"`) that such a leaf
//   needs of an SCO (anywhere in the line, as keys or values: only more lines are parsed).
// Substring anchors are checked by SCO type: a value inside an SCO whose `type` has been read only against
// the anchors of that type's paths (and of paths through a reference, which reach any SCO), so that the
// `.com` a domain-name pattern needs does not send every URL to the parser. "Inside an SCO" means an
// embedded object of an observed-data whose `type` came first, or anywhere in a bare SCO whose `type` came
// first; any other value (its type not yet read, outside the SCOs) is checked against every anchor, and
// a second `type` in the same object sends the line to the parser (JSON.parse keeps the last). Values
// outside the SCOs (timestamps, ids) are screened too when their key is indexed: that can only send a line
// to the parser.
import { toStixTimestamp } from './log-observation.ts';
import { fingerprintSeed } from './value-fingerprints.ts';

/** What the bulk matcher tells the screen about its indexes; see BulkMatcher.screen. */
export interface ValueScreen {
  /**
   * A number that changes whenever any answer below may change (an indicator added or removed): an
   * answer about a value every line holds can be kept until it does.
   */
  generation(): number;
  /**
   * What a line must hold for some leaf evaluated on every observation (no index can witness it) to hold
   * on it, undefined while there is none: for each leaf, the SCO types it tests, each with the first
   * property of its path, as sets of texts between quotes (`"ipv4-addr"` and `"value"`). A leaf holds only
   * on an SCO of its type that has the property: screenJsonLine asks it of the whole line, which writes
   * both so, and screen-zeek-record.ts of each SCO a record makes, written so.
   */
  everyObservationNeeds(): LiteralScreen | undefined;
  /**
   * The property names under which a probed value can sit: the last key of every indexed path (for a
   * path ending in list steps, the list's key). Values under other keys are not looked at.
   */
  indexedProperties(): PropertyNames;
  /** Whether a string value with this fingerprint (value-fingerprints.ts) may equal an indexed value. */
  mayEqualString(fingerprint: number): boolean;
  hasNumberKeys(): boolean;
  mayEqualNumber(value: number): boolean;
  hasIpBlocks(): boolean;
  /** Whether the text, read as an address or block, lies in an indexed block. */
  mayBeInIpBlock(text: string): boolean;
  hasSubstrings(): boolean;
  /** Every substring anchor: for a value whose SCO's type is not known (not yet read, or no SCO). */
  allSubstrings(): LiteralScreen;
  /**
   * The substring anchors a value inside an SCO whose `type` is text[start, end) can satisfy: those on
   * that type's paths, and those on paths that follow a reference (their values lie in any SCO).
   */
  substringsInType(text: string, start: number, end: number): LiteralScreen;
  /**
   * The substring anchors a value in an SCO of any of these types can satisfy: for a value whose SCO may
   * be one of several types. Each set of anchors is scanned for once, however many of the types share it.
   * The answer is kept for the list given (the same array object), so callers pass a constant list.
   */
  substringsInTypes(types: readonly string[]): LiteralScreen;
}

/** Substring anchors, each a set of texts a matching value must all contain. */
export interface LiteralScreen {
  /**
   * Whether every text of some anchor occurs in text[start, end): a string value with its two quotes, so
   * that a text that must start or end the value is looked for as `"text` or `text"`.
   */
  occursIn(text: string, start: number, end: number): boolean;
}

/** A small set of property names, asked about a range of a line without making a string of it. */
export class PropertyNames {
  /** Per length, the names' UTF-16 units one after the other: compared without a call per name. */
  private readonly byLength: (Uint16Array | undefined)[] = [];
  /** Per length, where each name of byLength came in the constructor's distinct names. */
  private readonly positionsByLength: (number[] | undefined)[] = [];

  constructor(names: Iterable<string>) {
    const grouped: string[][] = [];
    [...new Set(names)].forEach((name, position) => {
      (grouped[name.length] ??= []).push(name);
      (this.positionsByLength[name.length] ??= []).push(position);
    });
    grouped.forEach((group, length) => {
      const units = new Uint16Array(group.length * length);
      group.forEach((name, n) => {
        for (let k = 0; k < length; k++) units[n * length + k] = name.charCodeAt(k);
      });
      this.byLength[length] = units;
    });
  }

  has(text: string, start: number, end: number): boolean {
    const length = end - start;
    const units = this.byLength[length];
    if (units === undefined) return false;
    if (length === 0) return true; // the empty name (`x:''`), which has no units to compare
    for (let at = 0; at < units.length; at += length) {
      let k = 0;
      while (k < length && text.charCodeAt(start + k) === units[at + k]) k++;
      if (k === length) return true;
    }
    return false;
  }

  /** The position of text[start, end) among the distinct names given to the constructor, or -1. */
  indexOf(text: string, start: number, end: number): number {
    const length = end - start;
    const units = this.byLength[length];
    const positions = this.positionsByLength[length];
    if (units === undefined || positions === undefined) return -1;
    if (length === 0) return positions[0] as number;
    for (let at = 0, n = 0; at < units.length; at += length, n++) {
      let k = 0;
      while (k < length && text.charCodeAt(start + k) === units[at + k]) k++;
      if (k === length) return positions[n] as number;
    }
    return -1;
  }
}

/** Whether text[start, end) is `type`, written out: it is asked of every key of every SCO. */
function isTypeKey(text: string, start: number, end: number): boolean {
  return end - start === 4 && text.charCodeAt(start) === 116 && text.charCodeAt(start + 1) === 121 && text.charCodeAt(start + 2) === 112 && text.charCodeAt(start + 3) === 101;
}

/** Whether text[start, end) is `name`: most ranges differ in length or first character, checked first. */
function rangeIs(text: string, start: number, end: number, name: string): boolean {
  return end - start === name.length && text.charCodeAt(start) === name.charCodeAt(0) && text.startsWith(name, start);
}

export type JsonLineVerdict =
  /** One observation that no indicator can match; `lastObserved` undefined for a bare SCO (observed when read). */
  | { readonly kind: 'clear'; readonly lastObserved: string | undefined }
  | { readonly kind: 'parse' };

const parse: JsonLineVerdict = { kind: 'parse' };
const clearBareSco: JsonLineVerdict = { kind: 'clear', lastObserved: undefined };

/** Any character but printable ASCII (the backslash is looked for apart: one range is a faster regex). */
const notPrintableAscii = /[^\x20-\x7e]/;

// What a container is.
const objectContainer = 1;
const listContainer = 2;
// Where an object sits, which decides which of its keys the shape check notes.
const otherObject = 0;
const topObject = 1;
const embeddedObjects = 2;
const embeddedSco = 3;
// Which top-level member a value is.
const notNoted = 0;
const typeMember = 1;
const firstObservedMember = 2;
const lastObservedMember = 3;
const objectsMember = 4;
/** The `type` of an embedded SCO of an observed-data (not a top-level member; never noted in Shape). */
const scoTypeMember = 5;
// What the top-level object is, as far as its `type` has been read.
const topUnknown = 0;
const topObservedData = 1;
const topBareSco = 2;
// What a noted value was.
const absent = 0;
const stringValue = 1;
const numberValue = 2;
const otherValue = 3;

/** Nesting beyond this is left to JSON.parse. */
const maxDepth = 64;
/** The longest text an address or block can be: IPv6 with an IPv4 tail and a /128. */
const longestIpText = 49;

/** What the top level says about the line's shape; as in JSON.parse, the last occurrence of a key wins. */
class Shape {
  typeKind = absent;
  typeStart = 0;
  typeEnd = 0;
  firstKind = absent;
  firstStart = 0;
  firstEnd = 0;
  lastKind = absent;
  lastStart = 0;
  lastEnd = 0;
  /** undefined: no `objects`; false: not an object whose members are objects with a string `type`. */
  objectsValid: boolean | undefined;

  reset(): void {
    this.typeKind = absent;
    this.firstKind = absent;
    this.lastKind = absent;
    this.objectsValid = undefined;
  }

  /** A value of a noted member: its kind and text (for a string, without the quotes). */
  note(member: number, kind: number, start: number, end: number): void {
    if (member === typeMember) {
      this.typeKind = kind;
      this.typeStart = start;
      this.typeEnd = end;
    } else if (member === firstObservedMember) {
      this.firstKind = kind;
      this.firstStart = start;
      this.firstEnd = end;
    } else if (member === lastObservedMember) {
      this.lastKind = kind;
      this.lastStart = start;
      this.lastEnd = end;
    } else if (member === objectsMember) this.objectsValid = false;
  }

  verdict(text: string): JsonLineVerdict {
    if (this.typeKind !== stringValue || rangeIs(text, this.typeStart, this.typeEnd, 'bundle')) return parse;
    if (!rangeIs(text, this.typeStart, this.typeEnd, 'observed-data')) return clearBareSco;
    if (this.objectsValid !== true) return parse;
    const first = timestampOf(text, this.firstKind, this.firstStart, this.firstEnd);
    if (first === undefined) return parse;
    const last = this.lastKind === absent ? first : timestampOf(text, this.lastKind, this.lastStart, this.lastEnd);
    return last === undefined ? parse : { kind: 'clear', lastObserved: last };
  }
}

/** As jsonl-observations.ts reads first/last_observed: a timestamp string or epoch seconds. */
function timestampOf(text: string, kind: number, start: number, end: number): string | undefined {
  if (kind === stringValue) return toStixTimestamp(text.slice(start, end));
  if (kind === numberValue) return toStixTimestamp(Number(text.slice(start, end)));
  return undefined;
}

function topLevelMember(text: string, start: number, end: number): number {
  switch (end - start) {
    case 4:
      return isTypeKey(text, start, end) ? typeMember : notNoted;
    case 7:
      return rangeIs(text, start, end, 'objects') ? objectsMember : notNoted;
    case 13:
      return rangeIs(text, start, end, 'last_observed') ? lastObservedMember : notNoted;
    case 14:
      return rangeIs(text, start, end, 'first_observed') ? firstObservedMember : notNoted;
    default:
      return notNoted;
  }
}

/**
 * One loop over the line with an explicit stack rather than recursive descent: per token a few
 * comparisons, strings skipped with indexOf, nothing allocated unless a value needs a closer look.
 */
class JsonLineScanner {
  private readonly containers = new Uint8Array(maxDepth + 1);
  private readonly roles = new Uint8Array(maxDepth + 1);
  /** For a list: whether its elements sit under an indexed property name. */
  private readonly indexedLists = new Uint8Array(maxDepth + 1);
  /** For an embedded SCO: whether its (last) `type` is a string. */
  private readonly typed = new Uint8Array(maxDepth + 1);
  private readonly shape = new Shape();

  run(text: string, screen: ValueScreen): JsonLineVerdict {
    if (text.includes('\\') || notPrintableAscii.test(text)) return parse;
    // A leaf evaluated on every observation sends only the lines that may hold it to the parser: those
    // with an SCO of its type and property. As every check below, a text looked for in the raw line
    // stands for itself only once the line has no escape and no other character than printable ASCII.
    if (screen.everyObservationNeeds()?.occursIn(text, 0, text.length) === true) return parse;
    const properties = screen.indexedProperties();
    const ipBlocks = screen.hasIpBlocks();
    const numbers = screen.hasNumberKeys();
    const substrings = screen.hasSubstrings();
    const { containers, roles, indexedLists, typed, shape } = this;
    shape.reset();
    // Which substring anchors a value can satisfy depends on the SCO it sits in (the header says how):
    // every anchor until a type is known; topScope for the top object, scoScope inside an embedded SCO.
    const everyAnchor = substrings ? screen.allSubstrings() : undefined;
    let topKind = topUnknown;
    let topTypeSeen = false;
    let topScope = everyAnchor;
    let scoScope = everyAnchor;
    let scoTypeSeen = false;
    let scoScoped = false;
    let i = 0;
    while (text.charCodeAt(i) === 32) i++;
    if (text.charCodeAt(i) !== 123 /* { */) return parse;
    i++;
    let depth = 1;
    containers[1] = objectContainer;
    roles[1] = topObject;
    let opened = true; // just after `{` or `[`, where the container may close at once
    for (;;) {
      while (text.charCodeAt(i) === 32) i++;
      let c = text.charCodeAt(i);
      const container = containers[depth] as number;
      const role = roles[depth] as number;
      let closing = opened && c === (container === objectContainer ? 125 : 93); /* } ] */
      if (!closing) {
        // A member's key (noting the ones the shape depends on), or a list element's place.
        let indexed = false;
        let member = notNoted;
        if (container === objectContainer) {
          if (c !== 34 /* " */) return parse;
          const keyStart = i + 1;
          const keyEnd = text.indexOf('"', keyStart);
          if (keyEnd < 0) return parse;
          indexed = properties.has(text, keyStart, keyEnd);
          if (role === topObject) member = topLevelMember(text, keyStart, keyEnd);
          i = keyEnd + 1;
          while (text.charCodeAt(i) === 32) i++;
          if (text.charCodeAt(i) !== 58 /* : */) return parse;
          i++;
          while (text.charCodeAt(i) === 32) i++;
          c = text.charCodeAt(i);
          if (role === embeddedObjects && c !== 123) shape.objectsValid = false;
          else if (role === embeddedSco && isTypeKey(text, keyStart, keyEnd)) {
            typed[depth] = c === 34 ? 1 : 0;
            // Values before were screened as of the first type; JSON.parse keeps the last.
            if (scoTypeSeen && substrings) return parse;
            scoTypeSeen = true;
            if (scoScoped && c === 34) member = scoTypeMember;
          } else if (member === typeMember) {
            if (topTypeSeen && substrings) return parse;
            topTypeSeen = true;
          }
        } else indexed = indexedLists[depth] === 1;

        // The value at i: a container opens a level; a string, number or word is read (and screened).
        if (c === 123 /* { */ || c === 91 /* [ */) {
          if (depth === maxDepth) return parse;
          depth++;
          containers[depth] = c === 123 ? objectContainer : listContainer;
          roles[depth] = c !== 123 ? otherObject : member === objectsMember ? embeddedObjects : role === embeddedObjects ? embeddedSco : otherObject;
          indexedLists[depth] = indexed ? 1 : 0;
          typed[depth] = 0;
          if (roles[depth] === embeddedSco) {
            // Its own type decides only inside a known observed-data: in a bare SCO it is a nested object.
            scoScope = topScope;
            scoTypeSeen = false;
            scoScoped = topKind === topObservedData;
          }
          if (member === objectsMember) shape.objectsValid = c === 123;
          else shape.note(member, otherValue, 0, 0);
          i++;
          opened = true;
          continue;
        }
        const start = i;
        if (c === 34) {
          const end = text.indexOf('"', start + 1);
          if (end < 0) return parse;
          i = end + 1;
          if (member === scoTypeMember) scoScope = screen.substringsInType(text, start + 1, end);
          else if (member !== notNoted) {
            shape.note(member, stringValue, start + 1, end);
            if (member === typeMember && substrings) {
              if (rangeIs(text, start + 1, end, 'observed-data')) topKind = topObservedData;
              else {
                topKind = topBareSco;
                topScope = screen.substringsInType(text, start + 1, end);
              }
            }
          }
          if (indexed) {
            let hash = fingerprintSeed;
            for (let k = start + 1; k < end; k++) hash = Math.imul(hash ^ text.charCodeAt(k), 0x01000193); // stepFingerprint, inline
            if (screen.mayEqualString(hash)) return parse;
            if (ipBlocks && mayBeIpText(text, start + 1, end) && screen.mayBeInIpBlock(text.slice(start + 1, end))) return parse;
            if (substrings && (depth >= 3 && roles[3] === embeddedSco ? scoScope : topScope)?.occursIn(text, start, end + 1) === true) return parse;
          }
        } else if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
          i = numberEnd(text, start);
          if (i < 0) return parse;
          if (member !== notNoted) shape.note(member, numberValue, start, i);
          // 1e3, 1000 and 1000.0 are one number, as JSON.parse reads them.
          if (indexed && numbers && screen.mayEqualNumber(Number(text.slice(start, i)))) return parse;
        } else {
          const word = c === 116 ? 'true' : c === 102 ? 'false' : c === 110 ? 'null' : '';
          if (word === '' || !rangeIs(text, start, start + word.length, word)) return parse;
          i = start + word.length;
          if (member !== notNoted) shape.note(member, otherValue, 0, 0);
        }
      }

      // After a value (or at a closing bracket): the next member or element, or the end of containers.
      for (;;) {
        if (!closing) {
          while (text.charCodeAt(i) === 32) i++;
          c = text.charCodeAt(i);
          if (c === 44 /* , */) break;
          if (c !== ((containers[depth] as number) === objectContainer ? 125 : 93)) return parse;
        }
        i++;
        closing = false;
        if (roles[depth] === embeddedSco && typed[depth] !== 1) shape.objectsValid = false;
        depth--;
        if (depth === 0) {
          while (text.charCodeAt(i) === 32) i++;
          return i === text.length ? shape.verdict(text) : parse;
        }
      }
      i++; // the comma
      opened = false;
    }
  }
}

/** Where the JSON number starting at `start` ends, or -1 when it is not one (`01`, `1.`, `-`, `1e`). */
function numberEnd(text: string, start: number): number {
  let i = start;
  if (text.charCodeAt(i) === 45) i++;
  const lead = text.charCodeAt(i);
  if (lead === 48) i++;
  else if (lead >= 49 && lead <= 57) i = skipDigits(text, i);
  else return -1;
  if (text.charCodeAt(i) === 46 /* . */) {
    const after = skipDigits(text, i + 1);
    if (after === i + 1) return -1;
    i = after;
  }
  const e = text.charCodeAt(i);
  if (e === 101 || e === 69 /* e E */) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    const after = skipDigits(text, i);
    if (after === i) return -1;
    i = after;
  }
  return i;
}

function skipDigits(text: string, from: number): number {
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) i++;
    else return i;
  }
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Whether text[start, end) can be an address or block: only hex digits, `.`, `:`, `/`, with a `.` or `:`. */
export function mayBeIpText(text: string, start: number, end: number): boolean {
  if (end - start < 2 || end - start > longestIpText) return false;
  let separator = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 || c === 58) separator = true;
    else if (c !== 47 && !isHexDigit(c)) return false;
  }
  return separator;
}

const scanner = new JsonLineScanner();

/** Whether a JSON line can be counted as one observation that no indicator matches, without parsing it. */
export function screenJsonLine(text: string, screen: ValueScreen): JsonLineVerdict {
  return scanner.run(text, screen);
}
