// Character-level checks of STIX 2.1 value syntaxes. They are loops over char codes rather than regexes
// because they run for every identifier and timestamp of every ingested object.

const UUID_LENGTH = 36;
/** `--` + UUID */
const ID_SUFFIX_LENGTH = UUID_LENGTH + 2;

function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isLowerAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export const enum UuidVerdict {
  Ok = 0,
  Malformed = 1,
  /** Syntax is 8-4-4-4-12 hex but the version nibble is not 1..5 or the variant is not RFC 4122's `10xx`. */
  NotRfc4122 = 2,
}

/** Checks the UUID at `s[start .. start+36)`. */
export function checkUuidAt(s: string, start: number): UuidVerdict {
  if (s.length - start !== UUID_LENGTH) return UuidVerdict.Malformed;
  for (let i = 0; i < UUID_LENGTH; i++) {
    const c = s.charCodeAt(start + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return UuidVerdict.Malformed;
    } else if (!isHexCode(c)) {
      return UuidVerdict.Malformed;
    }
  }
  const version = s.charCodeAt(start + 14);
  if (version < 49 || version > 53) return UuidVerdict.NotRfc4122;
  const variant = s.charCodeAt(start + 19) | 0x20;
  if (variant !== 56 && variant !== 57 && variant !== 97 && variant !== 98) return UuidVerdict.NotRfc4122;
  return UuidVerdict.Ok;
}

/** The UUID version digit of a syntactically valid identifier (`4` for random UUIDs). */
export function uuidVersionOf(id: string): number {
  return id.charCodeAt(id.length - UUID_LENGTH + 14) - 48;
}

export function hasUppercaseHex(id: string): boolean {
  for (let i = id.length - UUID_LENGTH; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c >= 65 && c <= 70) return true;
  }
  return false;
}

/**
 * STIX object type names: ASCII lowercase letters, digits and single hyphens, starting with a letter,
 * not ending with a hyphen, 3..250 characters.
 */
export function isTypeName(s: string, start = 0, end = s.length): boolean {
  const len = end - start;
  if (len < 3 || len > 250) return false;
  const first = s.charCodeAt(start);
  if (first < 97 || first > 122) return false;
  let previousHyphen = false;
  for (let i = start + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 45) {
      if (previousHyphen) return false;
      previousHyphen = true;
    } else if (isLowerAlnum(c)) {
      previousHyphen = false;
    } else {
      return false;
    }
  }
  return !previousHyphen;
}

export const enum IdVerdict {
  Ok = 0,
  Malformed = 1,
  BadTypePrefix = 2,
  NotRfc4122 = 3,
}

// Identifiers repeat heavily within a feed (created_by_ref, markings, relationship endpoints), and a Map
// lookup hashes natively, which is several times faster than re-scanning the characters. Bounded so that
// hostile input cannot grow it; it memoizes a pure function, so results never depend on it.
const ID_CACHE_LIMIT = 50_000;
const idCache = new Map<string, IdVerdict>();

/** Checks `type--uuid` syntax; the type prefix is `id.slice(0, id.length - 38)` when the verdict is Ok. */
export function checkIdentifier(id: string): IdVerdict {
  const cached = idCache.get(id);
  if (cached !== undefined) return cached;
  const verdict = scanIdentifier(id);
  if (id.length <= 300) {
    if (idCache.size >= ID_CACHE_LIMIT) idCache.clear();
    idCache.set(id, verdict);
  }
  return verdict;
}

function scanIdentifier(id: string): IdVerdict {
  const sep = id.length - ID_SUFFIX_LENGTH;
  if (sep < 3 || id.charCodeAt(sep) !== 45 || id.charCodeAt(sep + 1) !== 45) return IdVerdict.Malformed;
  const uuid = checkUuidAt(id, sep + 2);
  if (uuid === UuidVerdict.Malformed) return IdVerdict.Malformed;
  if (!isTypeName(id, 0, sep)) return IdVerdict.BadTypePrefix;
  if (uuid === UuidVerdict.NotRfc4122) return IdVerdict.NotRfc4122;
  return IdVerdict.Ok;
}

export function idTypeOf(id: string): string {
  return id.slice(0, id.length - ID_SUFFIX_LENGTH);
}

/** Whether `id` starts with `type` followed by `--`, without allocating the prefix. */
export function idHasType(id: string, type: string): boolean {
  return id.length === type.length + ID_SUFFIX_LENGTH && id.startsWith(type);
}

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * RFC 3339 timestamp in UTC as STIX requires: `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
 * Returns the number of fractional-second digits, or -1 when the syntax or the calendar date is invalid.
 */
export function timestampFractionDigits(s: string): number {
  const len = s.length;
  if (len < 20 || s.charCodeAt(len - 1) !== 90 /* Z */) return -1;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 /* T */) return -1;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return -1;
  for (let i = 0; i < 4; i++) if (!isDigit(s.charCodeAt(i))) return -1;
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  if (month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return -1;
  // 60 is a leap second, which RFC 3339 allows.
  if (second < 0 || second > 60) return -1;
  if (day > (DAYS_IN_MONTH[month - 1] ?? 0)) return -1;
  if (month === 2 && day === 29) {
    const year = Number(s.slice(0, 4));
    if (!(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return -1;
  }
  if (len === 20) return 0;
  if (s.charCodeAt(19) !== 46 || len === 21) return -1;
  for (let i = 20; i < len - 1; i++) if (!isDigit(s.charCodeAt(i))) return -1;
  return len - 21;
}

/**
 * Orders two valid STIX timestamps (negative, 0, positive). Fractions of different lengths compare
 * as numbers: `.5Z` equals `.500Z`.
 */
export function compareTimestamps(a: string, b: string): number {
  for (let i = 0; i < 19; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  const fa = a.length - 21;
  const fb = b.length - 21;
  const n = Math.max(fa, fb);
  for (let i = 0; i < n; i++) {
    const ca = i < fa ? a.charCodeAt(20 + i) : 48;
    const cb = i < fb ? b.charCodeAt(20 + i) : 48;
    if (ca !== cb) return ca - cb;
  }
  return 0;
}

/**
 * STIX property names: lowercase ASCII letters, digits and underscore, 3..250 characters (`id` excepted),
 * starting with a letter (which also keeps `__proto__` out).
 */
export function isPropertyName(s: string): boolean {
  const len = s.length;
  if (len < 3 || len > 250) return s === 'id';
  const first = s.charCodeAt(0);
  if (first < 97 || first > 122) return false;
  for (let i = 1; i < len; i++) {
    const c = s.charCodeAt(i);
    if (!(isLowerAlnum(c) || c === 95)) return false;
  }
  return true;
}

/** Dictionary keys: ASCII letters, digits, hyphen and underscore, at most 250 characters. */
export function isDictionaryKey(s: string, minLength = 0): boolean {
  const len = s.length;
  if (len < minLength || len > 250) return false;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (!(isLowerAlnum(c) || (c >= 65 && c <= 90) || c === 95 || c === 45)) return false;
  }
  return true;
}

export function isHexString(s: string): boolean {
  const len = s.length;
  if (len === 0 || len % 2 !== 0) return false;
  for (let i = 0; i < len; i++) if (!isHexCode(s.charCodeAt(i))) return false;
  return true;
}

/** Hex of exactly `length` characters (hash values). */
export function isHexOfLength(s: string, length: number): boolean {
  if (s.length !== length) return false;
  for (let i = 0; i < length; i++) if (!isHexCode(s.charCodeAt(i))) return false;
  return true;
}

function isBase64Code(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/** Padded RFC 4648 base64 (the `binary` type). */
export function isBase64(s: string): boolean {
  const len = s.length;
  if (len === 0 || len % 4 !== 0) return false;
  let end = len;
  if (s.charCodeAt(len - 1) === 61) end = s.charCodeAt(len - 2) === 61 ? len - 2 : len - 1;
  for (let i = 0; i < end; i++) if (!isBase64Code(s.charCodeAt(i))) return false;
  return true;
}

/** Lowercase words joined by hyphens, the form STIX recommends for vocabulary values and kill chain names. */
export function isLowerHyphenated(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(isLowerAlnum(c) || c === 45 || c === 95)) return false;
  }
  return true;
}

// Characters RFC 3986 allows anywhere in a URI (unreserved, reserved, and '%' for escapes).
const URI_CHARS = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%") {
  URI_CHARS[ch.charCodeAt(0)] = 1;
}

/** An absolute URI per RFC 3986: a scheme, then only URI characters, with well-formed percent escapes. */
export function isUri(s: string): boolean {
  const len = s.length;
  const first = s.charCodeAt(0);
  if (!((first >= 65 && first <= 90) || (first >= 97 && first <= 122))) return false;
  let i = 1;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) break;
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigit(c) || c === 43 || c === 45 || c === 46)) return false;
  }
  if (i === len) return false;
  for (i++; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || URI_CHARS[c] !== 1) return false;
    if (c === 37 && !(isHexCode(s.charCodeAt(i + 1)) && isHexCode(s.charCodeAt(i + 2)))) return false;
  }
  return true;
}

function parseIpv4At(s: string, start: number, end: number): boolean {
  let octets = 0;
  let i = start;
  while (octets < 4) {
    const begin = i;
    let value = 0;
    while (i < end && isDigit(s.charCodeAt(i)) && i - begin < 3) {
      value = value * 10 + s.charCodeAt(i) - 48;
      i++;
    }
    const digits = i - begin;
    if (digits === 0 || value > 255 || (digits > 1 && s.charCodeAt(begin) === 48)) return false;
    octets++;
    if (octets < 4) {
      if (s.charCodeAt(i) !== 46) return false;
      i++;
    }
  }
  return i === end;
}

/** Returns the index of `/` or `s.length`, and checks the prefix length when a `/` is present. */
function cidrSplit(s: string, maxPrefix: number): number {
  const slash = s.indexOf('/');
  if (slash < 0) return s.length;
  const prefix = s.slice(slash + 1);
  if (prefix.length === 0 || prefix.length > 3) return -1;
  for (let i = 0; i < prefix.length; i++) if (!isDigit(prefix.charCodeAt(i))) return -1;
  if ((prefix.length > 1 && prefix.charCodeAt(0) === 48) || Number(prefix) > maxPrefix) return -1;
  return slash;
}

/** Dotted-quad IPv4 address, optionally with a CIDR prefix length. */
export function isIpv4Value(s: string): boolean {
  const end = cidrSplit(s, 32);
  return end > 0 && parseIpv4At(s, 0, end);
}

/** IPv6 address (RFC 4291 text forms, embedded IPv4 allowed), optionally with a CIDR prefix length. */
export function isIpv6Value(s: string): boolean {
  const end = cidrSplit(s, 128);
  if (end <= 0) return false;
  let groups = 0;
  let doubleColon = false;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    doubleColon = true;
    i = 2;
    if (i === end) return true;
  }
  while (i < end) {
    const begin = i;
    while (i < end && isHexCode(s.charCodeAt(i)) && i - begin < 5) i++;
    const digits = i - begin;
    if (i < end && s.charCodeAt(i) === 46) {
      // Embedded IPv4 takes the last two groups.
      if (!parseIpv4At(s, begin, end)) return false;
      groups += 2;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    groups++;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (s.charCodeAt(i) === 58) {
      if (doubleColon) return false;
      doubleColon = true;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false;
    }
  }
  return doubleColon ? groups <= 7 : groups === 8;
}

/** MAC address as STIX requires: six lowercase hex pairs separated by colons. */
export function isMacValue(s: string): boolean {
  if (s.length !== 17) return false;
  for (let i = 0; i < 17; i++) {
    const c = s.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 58) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) {
      return false;
    }
  }
  return true;
}

// Compiled once at load: the validator must not allocate regexes per call.
const EMAIL_PATTERN =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const LANG_TAG_PATTERN = /^[a-zA-Z]{2,8}(?:-[a-zA-Z0-9]{1,8})*$/;
const SOFTWARE_LANGUAGE_PATTERN =
  /^(?:[a-z]{2}(?:-[A-Z]{2})?(?:-[a-z]{4})?(?:-[A-Z]{2}|[0-9]{3})?(?:-[a-z0-9]{5,8}|[0-9][a-z0-9]{3})*(?:-[a-z0-9]{1,8})*|[a-z]{3})$/;
const MIME_TYPE_PATTERN = /^(?:application|audio|font|image|message|model|multipart|text|video)\/[a-zA-Z0-9.+_-]+/;
const CPE23_PATTERN =
  /cpe:2\.3:[aho*-](?::(?:(?:\?*|\*?)(?:[a-zA-Z0-9\-._]|\\[\\*?!"#$%&'()+,/:;<=>@[\]^`{|}~])+(?:\?*|\*?)|[*-])){5}(?::(?:[a-zA-Z]{2,3}(?:-(?:[a-zA-Z]{2}|[0-9]{3}))?|[*-]))(?::(?:(?:\?*|\*?)(?:[a-zA-Z0-9\-._]|\\[\\*?!"#$%&'()+,/:;<=>@[\]^`{|}~])+(?:\?*|\*?)|[*-])){4}/;
const ENCODING_NAME_PATTERN = /^[a-zA-Z0-9/.+_:-]{2,250}$/;
const SSDEEP_PATTERN = /^[a-zA-Z0-9/+:.]{1,128}$/;
const TLSH_PATTERN = /^[a-zA-Z0-9]{70}$/;

export function isEmailAddress(s: string): boolean {
  return s.length <= 320 && EMAIL_PATTERN.test(s);
}
export function isLangTag(s: string): boolean {
  return s.length <= 64 && LANG_TAG_PATTERN.test(s);
}
export function isSoftwareLanguage(s: string): boolean {
  return s.length <= 64 && SOFTWARE_LANGUAGE_PATTERN.test(s);
}
export function isMimeType(s: string): boolean {
  return MIME_TYPE_PATTERN.test(s);
}
export function isCpe23(s: string): boolean {
  return s.length <= 4096 && CPE23_PATTERN.test(s);
}
/** Character-set names (`path_enc`, `name_enc`): IANA names use this alphabet. */
export function isEncodingName(s: string): boolean {
  return ENCODING_NAME_PATTERN.test(s);
}
export function isSsdeep(s: string): boolean {
  return SSDEEP_PATTERN.test(s);
}
export function isTlsh(s: string): boolean {
  return TLSH_PATTERN.test(s);
}

/** Domain names: no whitespace, no URL or e-mail punctuation, labels of 1..63 characters, at most 253 in all. */
export function isPlausibleDomainName(s: string): boolean {
  const len = s.length;
  if (len === 0 || len > 253) return false;
  let labelLength = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 47 || c === 64 || c === 58 || c === 92 || c === 127) return false;
    if (c === 46) {
      if (labelLength === 0 && i !== len - 1) return false;
      labelLength = 0;
    } else if (++labelLength > 63) {
      return false;
    }
  }
  return true;
}
