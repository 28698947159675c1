// The extractor registry: one row per kind of observable. Each row is a global regex that finds
// candidates cheaply plus a `build` step that validates and normalises them. Regexes are written so
// that no match attempt can backtrack more than a bounded number of characters (bounded
// quantifiers, look-behinds that forbid starting in the middle of a run, character classes that
// exclude their own terminators), which keeps the whole scan linear in the input.
import { domainToASCII } from 'node:url';
import { parseIpv4, parseIpv6 } from '../stix/ip-address.ts';
import { isBase58CheckAddress, isBech32Address } from './checksums.ts';
import { BLANK_CLASS, INVISIBLE_CLASS_BUT_JOINERS, firstRemovedJoiner } from './invisible.ts';
import { createLabelSet } from './label-set.ts';
import type { LabelSet } from './label-set.ts';
import { isAsciiLetter, isHexDigit, POSIX_ROOT_DIRECTORIES, FEATURE_AT, FEATURE_COLONS2, FEATURE_SEPARATORS5, FEATURE_DIGITS4, FEATURE_DOT_WORD, FEATURE_DOTS2, FEATURE_DOTS3 } from './scan-windows.ts';

export type ObservableType =
  | 'ipv4-addr'
  | 'ipv6-addr'
  | 'domain-name'
  | 'url'
  | 'email-addr'
  | 'file'
  | 'cve'
  | 'attack-technique'
  | 'windows-registry-key'
  | 'mac-addr'
  | 'autonomous-system'
  | 'cryptocurrency-wallet'
  | 'ja3'
  | 'ja4'
  | 'yara-rule'
  | 'sigma-rule'
  | 'snort-rule';

/** STIX 2.1 hash algorithm names (hashing-algorithm-ov). */
export type HashAlgorithm = 'MD5' | 'SHA-1' | 'SHA-256' | 'SHA-512' | 'SSDEEP' | 'TLSH';

export interface Suppression {
  readonly reason: string;
}

/** A match in the refanged text, before spans are mapped back and suppression is applied. */
export interface Candidate {
  type: ObservableType;
  value: string;
  start: number;
  end: number;
  confidence: number;
  /** For `file` hashes. */
  hashAlgorithm?: HashAlgorithm;
  /** Sub-kind: `name`/`path`/`hash` for files, `technique`/`group`/… for ids, `bitcoin`/… */
  kind?: string;
  /** Set by the extractor itself when it already knows the match is noise. */
  suppressed?: Suppression;
}

export interface ExtractContext {
  /** Refanged text. */
  readonly text: string;
  /** Lower-case ASCII (punycode) TLDs. */
  readonly tlds: ReadonlySet<string>;
  /** When false, any alphabetic TLD of two or more letters is accepted. */
  readonly strictTld: boolean;
  /** Whether the refanged span [start, end) contains a replaced defang form. */
  defanged(start: number, end: number): boolean;
  /**
   * Characters the block scanners (brace matching) may still read in this call. Unclosed rule
   * headers would otherwise each rescan up to MAX_RULE characters: quadratic on hostile input.
   */
  readonly budget: { remaining: number };
}

/**
 * dotted: tokens with an inner dot (domains, e-mail, IPv4, file names); colon: tokens with a colon
 * before a hex digit (IPv6); hexsep: tokens with ":xx:" or "-xx-" (MAC); longrun: alphanumeric runs
 * of 26+ characters (hashes, wallets); backslash: lines with a backslash (Windows paths); arrow:
 * lines with -> or <> (Snort/Suricata rules); yara: lines with "rule " (YARA rule headers); scheme:
 * line text from just before each "://" (URLs); underscore: tokens with "_" + 12 hex digits (JA4);
 * attack-id: a few characters around each letter of [ACGMST] followed by four digits (ATT&CK and
 * ATLAS ids); address-literal: from each "@[" to where an IPv4 literal would close; registry-root:
 * the characters before each backslash that follows a letter; asn: a few characters around each
 * "AS"; cve: a few characters around each "-" after "cve"; sigma-title: lines starting "title:";
 * posix-root: runs of path characters holding "~/" or "/" + a root directory + "/".
 */
export type ExtractorFamily =
  | 'dotted'
  | 'colon'
  | 'hexsep'
  | 'longrun'
  | 'backslash'
  | 'arrow'
  | 'yara'
  | 'scheme'
  | 'underscore'
  | 'attack-id'
  | 'address-literal'
  | 'registry-root'
  | 'asn'
  | 'cve'
  | 'sigma-title'
  | 'posix-root';

export interface ExtractorRow {
  readonly id: string;
  readonly types: readonly ObservableType[];
  /**
   * Cheap test on the whole text; when false the row's regex is not run at all. It must hold
   * wherever the regex has a match that build() would keep.
   */
  readonly prefilter?: (text: string, ctx: ExtractContext) => boolean;
  /**
   * Rows in a family are not run over the whole text but only over the windows the family's cheap
   * trigger finds (see extract-observables.ts); `prefilter` is then applied to each window.
   */
  readonly family?: ExtractorFamily;
  /** FEATURE_* bits a family window must have for this row to run on it (scan-windows.ts). */
  readonly needs?: number;
  readonly regex: RegExp;
  /** Faster equivalent of `regex` for windows that are pure ASCII (no Unicode property classes). */
  readonly asciiRegex?: RegExp;
  readonly build: (m: RegExpExecArray, ctx: ExtractContext) => Candidate | readonly Candidate[] | null;
  /** When build() ends its candidate before the end of the match, scan the rest of the match again. */
  readonly rescanRest?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Domains

// A label may hold U+200C and U+200D inside it (never first or last): extraction keeps them only
// where IDNA allows them (invisible.ts, isKeptJoiner), and there they are part of the name. They
// are label characters for the look-around too, so a name is neither started nor ended at one.
const DOMAIN_RE =
  /(?<![\p{L}\p{N}\p{M}\u200c-\u200d_@.-])(?:[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}\u200c-\u200d-]{0,61}[\p{L}\p{N}\p{M}])?\.){1,30}(?:[xX][nN]--[a-zA-Z0-9-]{1,59}|\p{L}[\p{L}\p{M}\u200c-\u200d]{0,61}[\p{L}\p{M}])(?![\p{L}\p{N}\p{M}\u200c-\u200d_-]|\.[\p{L}\p{N}])/gu;

// TLDs that are also common file extensions. A bare two-label name with one of these (setup.zip,
// run.sh, notes.md) is reported as a file name and its domain reading is suppressed, unless the
// author defanged it or it sits in a URL or e-mail address. Extensions that are not TLDs at all
// (invoice.pdf, setup.exe) never reach the domain extractor because their TLD check fails.
export const FILE_EXTENSION_TLDS: ReadonlySet<string> = new Set([
  'zip', 'mov', 'py', 'sh', 'md', 'pl', 'rs', 'so', 'one', 'pm', 'ml', 'cc', 'in', 'am', 'la', 'ps', 'rar', 'exe',
]);

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return true;
  return false;
}

/** Validates a host name; returns its lower-case form and ASCII TLD, or null. */
export function checkDomain(raw: string, ctx: Pick<ExtractContext, 'tlds' | 'strictTld'>): { value: string; tld: string } | null {
  if (raw.length > 253) return null;
  const value = raw.toLowerCase();
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return null;
  let tld = value.slice(dot + 1);
  if (hasNonAscii(tld)) {
    tld = domainToASCII(tld);
    if (tld === '') return null;
  }
  if (ctx.strictTld ? !ctx.tlds.has(tld) : !/^(?:[a-z]{2,63}|xn--[a-z0-9-]+)$/.test(tld)) return null;
  // Labels: 1–63 characters, neither starting nor ending with a hyphen (a loop, not split: hot path).
  let labelStart = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i < value.length && value.charCodeAt(i) !== 46) continue;
    const len = i - labelStart;
    if (len === 0 || len > 63 || value.charCodeAt(labelStart) === 45 || value.charCodeAt(i - 1) === 45) return null;
    labelStart = i + 1;
  }
  // A joiner IDNA does not allow where it stands (extractObservables removed those; a caller of a
  // row alone may not have): no host name holds it.
  if ((value.includes('\u200c') || value.includes('\u200d')) && firstRemovedJoiner(value, 0, value.length) >= 0) return null;
  if (value.startsWith('xn--') || value.includes('.xn--')) {
    // Punycode must decode; a broken xn-- label is not a host name.
    if (domainToASCII(value) === '') return null;
  }
  return { value, tld };
}

function isCamelCase(s: string): boolean {
  // Code identifiers such as System.IO or Foo.Bar look like host names; lower their confidence.
  return /[a-z][A-Z]|\.[A-Z][a-z]/.test(s);
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Whether `s` ends with a dot, an upper-case letter and two or more lower-case ones (User.Read,
 * form.Name): /\.[A-Z][a-z]{2,}$/ as a loop over the last label, for every host name the domain
 * row builds.
 */
function endsWithTitleCaseLabel(s: string): boolean {
  const dot = s.lastIndexOf('.');
  if (dot < 0 || s.length - dot < 4) return false;
  const first = s.charCodeAt(dot + 1);
  if (first < 65 || first > 90) return false;
  for (let i = dot + 2; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 97 || c > 122) return false;
  }
  return true;
}

const DOMAIN_ASCII_RE =
  /(?<![A-Za-z0-9_@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,30}(?:[xX][nN]--[a-zA-Z0-9-]{1,59}|[A-Za-z]{2,63})(?![A-Za-z0-9_-]|\.[A-Za-z0-9])/g;

const DOTNET_PRODUCT = /^(?:ASP|ADO|VB)\.NET$/i;
const NUMBERED_ITEM = /^\d{1,3}\.[A-Z][a-z]*$/;

/** Why a host-like segment of a Windows path is not reported as a domain. */
export const FILE_IN_PATH_REASON = 'file name that looks like a domain (a segment of a Windows path)';
/** Why the same name elsewhere in a report that writes it in a Windows path is not a domain. */
export const FILE_NAMED_IN_PATH_REASON = 'file name that looks like a domain (the report writes it in a Windows path)';

/**
 * Whether some dot in the window is followed by a run of ASCII letters that is a known TLD (or an
 * xn-- label, or a non-ASCII character, left to the regex). A host name's last label is such a
 * run, and checkDomain() rejects every other: most dotted windows ("e.g.", "Fig.3a", "end.The")
 * have none, and the domain regex, the costliest row on them, need not run.
 */
function mayEndWithKnownTld(window: string, ctx: ExtractContext): boolean {
  if (!ctx.strictTld) return window.includes('.');
  const tlds = tldLabelSet(ctx.tlds);
  for (let dot = window.indexOf('.'); dot >= 0; dot = window.indexOf('.', dot + 1)) {
    let end = dot + 1;
    while (end < window.length && isAsciiLetter(window.charCodeAt(end))) end++;
    if (window.charCodeAt(end) >= 128) return true;
    if (end - dot < 3) continue; // TLDs have two letters or more
    if (((window.charCodeAt(dot + 1) | 32) === 120 && (window.charCodeAt(dot + 2) | 32) === 110) || tlds.has(window, dot + 1, end)) return true;
  }
  return false;
}

const tldLabelSets = new WeakMap<ReadonlySet<string>, LabelSet>();

/** The TLD set as a LabelSet, made once for each set the callers pass. */
function tldLabelSet(tlds: ReadonlySet<string>): LabelSet {
  let set = tldLabelSets.get(tlds);
  if (set === undefined) {
    set = createLabelSet(tlds);
    tldLabelSets.set(tlds, set);
  }
  return set;
}

const domainRow: ExtractorRow = {
  id: 'domain',
  family: 'dotted',
  needs: FEATURE_DOT_WORD,
  asciiRegex: DOMAIN_ASCII_RE,
  types: ['domain-name', 'file'],
  prefilter: mayEndWithKnownTld,
  regex: DOMAIN_RE,
  build(m, ctx) {
    let raw = m[0];
    let start = m.index;
    // "%2Fevil.com" in a percent-encoded URL: the host starts after the escape.
    if (ctx.text.charCodeAt(start - 1) === 37 && /^[0-9a-fA-F]{2}[^.]/.test(raw) && /(?:=|:\/\/)\S*$/.test(ctx.text.slice(Math.max(0, start - 512), start))) {
      raw = raw.slice(2);
      start += 2;
    }
    const d = checkDomain(raw, ctx);
    if (d === null) return null;
    const end = start + raw.length;
    const defanged = ctx.defanged(start, end);
    // Code, not hosts: member access written in Title case (User.Read, xmlhttp.Open, form.Name)
    // and PowerShell type literals ([native.win]::ShowWindow).
    if (!defanged && endsWithTitleCaseLabel(raw)) return null;
    if (ctx.text.startsWith(']::', end)) return null;
    // Microsoft's .NET frameworks written as product names (ASP.NET, ADO.NET, VB.NET).
    if (!defanged && (raw.length === 6 || raw.length === 7) && DOTNET_PRODUCT.test(raw)) return null;
    // A call in code (ARC4.new(key), document.write(s)): a host name is never followed directly
    // by an opening parenthesis, a function name often is.
    if (!defanged && ctx.text.charCodeAt(end) === 40) return null;
    // A numbered list item written without a space ("9.Ls – list files"): a number, a dot and a
    // capitalised word. The Title-case rule above needs three letters; this one any length, but
    // only after a label of digits alone (real hosts such as 163.com are written in lower case).
    if (!defanged && isDigitCode(raw.charCodeAt(0)) && NUMBERED_ITEM.test(raw)) return null;
    // A segment of a Windows path (C:\Windows\Microsoft.NET\Framework, %appdata%\x\cghost.com)
    // names a directory or file, not a host. A UNC path's server (\\host.example.com\share) is
    // led by two backslashes and stays a host name.
    if (!defanged && ctx.text.charCodeAt(start - 1) === 92 && ctx.text.charCodeAt(start - 2) !== 92) {
      return [
        { type: 'domain-name', value: d.value, start, end, confidence: 0.2, suppressed: { reason: FILE_IN_PATH_REASON } },
        { type: 'file', kind: 'name', value: raw, start, end, confidence: 0.6 },
      ];
    }
    const inUrl = ctx.text.startsWith('://', start - 3) || ctx.text.charCodeAt(start - 1) === 47;
    const c: Candidate = {
      type: 'domain-name',
      value: d.value,
      start,
      end,
      // A name without upper-case letters (most) is its own lower case and cannot be camel case.
      confidence: defanged ? 0.95 : raw !== d.value && isCamelCase(raw) ? 0.4 : 0.8,
    };
    const twoLabels = d.value.indexOf('.') === d.value.lastIndexOf('.');
    if (twoLabels && FILE_EXTENSION_TLDS.has(d.tld) && !defanged && !inUrl) {
      c.suppressed = { reason: `file name that looks like a domain (.${d.tld} is also a file extension)` };
      return [c, { type: 'file', kind: 'name', value: raw, start, end, confidence: 0.6 }];
    }
    return c;
  },
};

// ---------------------------------------------------------------------------------------------
// URLs and e-mail

// A URL ends at white space, at the delimiters RFC 3986 keeps out of URLs, and at control and
// invisible formatting characters (C0, DEL, C1, soft hyphen, zero-width and bidi marks): none is
// URL text, and a phishing message that follows its link with one (invisible in a mail client) got
// it into the value, which then was never proposed (a control character) or was published as an
// indicator no traffic matches (U+200B, U+202E). extractObservables now removes the invisible ones
// before any row runs (invisible.ts: the URL is then the one the reader sees), so in practice only
// control characters end a URL here; the class still keeps them out for a caller of the row alone.
// Built from invisible.ts's one set (it was a copy here, without U+061C), and its blanks (Hangul
// fillers, read as spaces) end a URL as a space does. The u flag is the set's condition: it holds
// astral characters (tags), which a class without it cannot hold whole. The scheme's case is spelled
// out rather than left to the i flag, which with u also folds U+017F (ſ) into s and U+212A (Kelvin)
// into k: "httpſ://" would have been proposed as a URL no client opens.
// The joiners are the exception: where IDNA allows them they are kept (invisible.ts) and are part of
// the host, so the class lets them through, and build() ends the URL at any other (a class cannot
// see their context, and a regex that could would cost every URL character a look-around).
const URL_STOP = `\\s<>"'\`\\\\{}|^\\u0000-\\u001f\\u007f-\\u009f${INVISIBLE_CLASS_BUT_JOINERS}${BLANK_CLASS}`;
const URL_RE = new RegExp(
  `\\b(?:[hH][tT][tT][pP][sS]?|[fF][tT][pP][sS]?|[sS][fF][tT][pP]):\\/\\/(?:\\[[0-9a-fA-F:.]{2,45}\\](?::\\d{1,5})?|[^/?#\\[\\]${URL_STOP}]{1,253})(?:[/?#][^${URL_STOP}]{0,4096})?`,
  'gu',
);

/** Cuts a URL at the first ) or ] that closes nothing inside it ("[text](https://a.b/c)[next]"). */
function cutUnbalanced(u: string): string {
  let round = 0;
  let square = 0;
  for (let i = 0; i < u.length; i++) {
    const c = u.charCodeAt(i);
    if (c === 40) round++;
    else if (c === 91) square++;
    else if (c === 41 && --round < 0) return u.slice(0, i);
    else if (c === 93 && --square < 0) return u.slice(0, i);
  }
  return u;
}

function trimUrl(u: string): string {
  let s = u.includes(')') || u.includes(']') ? cutUnbalanced(u) : u;
  for (;;) {
    const last = s.charAt(s.length - 1);
    // Sentence punctuation and closing quotes, typographic ones included ("…/3.txt’)").
    if ('.,;:!?\'"*\u2019\u201d\u00bb\u203a'.includes(last) && s.length > 0) s = s.slice(0, -1);
    else if (last === ')' && !s.includes('(')) s = s.slice(0, -1);
    else if (last === ']' && !s.includes('[')) s = s.slice(0, -1);
    else return s;
  }
}

/** Where the authority that starts at `from` ends: the first "/", "?" or "#", or the end of `url`. */
function authorityEnd(url: string, from: number): number {
  for (let i = from; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35) return i;
  }
  return url.length;
}

/** The host of a URL (lower case, brackets removed), or null when it is not a plausible host. */
export function urlHost(url: string): string | null {
  const i = url.indexOf('://');
  if (i < 0) return null;
  let rest = url.slice(i + 3, authorityEnd(url, i + 3));
  const userinfo = rest.lastIndexOf('@');
  if (userinfo >= 0) rest = rest.slice(userinfo + 1);
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    return close > 0 ? rest.slice(1, close).toLowerCase() : null;
  }
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) rest = rest.slice(0, colon);
  return rest.toLowerCase();
}

const urlRow: ExtractorRow = {
  id: 'url',
  family: 'scheme',
  rescanRest: true,
  types: ['url'],
  regex: URL_RE,
  build(m, ctx) {
    const joiner = m[0].includes('\u200c') || m[0].includes('\u200d') ? firstRemovedJoiner(ctx.text, m.index, m.index + m[0].length) : -1;
    const value = trimUrl(joiner < 0 ? m[0] : m[0].slice(0, joiner - m.index));
    const host = urlHost(value);
    if (host === null || host === '') return null;
    const ok =
      parseIpv4(host) !== null || parseIpv6(host) !== null || checkDomain(host, ctx) !== null || host === 'localhost';
    if (!ok) return null;
    const start = m.index;
    const end = start + value.length;
    const scheme = value.slice(0, value.indexOf(':')).toLowerCase();
    const url: Candidate = {
      type: 'url',
      value: scheme + value.slice(scheme.length),
      start,
      end,
      confidence: ctx.defanged(start, end) ? 0.95 : 0.9,
    };
    // After credentials ("http://user:pw@host/") the host is not seen by the domain scanner, which
    // never starts after "@": report it here.
    const authority = value.slice(scheme.length + 3, authorityEnd(value, scheme.length + 3));
    const at = authority.lastIndexOf('@');
    if (at < 0 || parseIpv4(host) !== null || host.includes(':')) return url;
    const hostStart = start + scheme.length + 3 + at + 1;
    const d = checkDomain(host, ctx);
    if (d === null) return url;
    return [url, { type: 'domain-name', value: d.value, start: hostStart, end: hostStart + host.length, confidence: 0.8 }];
  },
};

// The host as DOMAIN_RE reads it, kept joiners included, and so is the local part, with its marks
// (an address is not read from inside a Persian or Devanagari word: the virama before a kept joiner
// is a mark).
const EMAIL_RE =
  /(?<![\p{L}\p{N}\p{M}\u200c-\u200d._%+-])[\p{L}\p{N}\p{M}\u200c-\u200d._%+-]{1,64}@(?:[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}\u200c-\u200d-]{0,61}[\p{L}\p{N}\p{M}])?\.){1,30}(?:[xX][nN]--[a-zA-Z0-9-]{1,59}|\p{L}[\p{L}\p{M}\u200c-\u200d]{0,61}[\p{L}\p{M}])(?![\p{L}\p{N}\p{M}\u200c-\u200d_-]|\.[\p{L}\p{N}])/gu;

const EMAIL_ASCII_RE =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,30}(?:[xX][nN]--[a-zA-Z0-9-]{1,59}|[A-Za-z]{2,63})(?![A-Za-z0-9_-]|\.[A-Za-z0-9])/g;

const emailRow: ExtractorRow = {
  id: 'email',
  family: 'dotted',
  needs: FEATURE_AT | FEATURE_DOT_WORD,
  asciiRegex: EMAIL_ASCII_RE,
  types: ['email-addr'],
  prefilter: (t) => t.includes('@'),
  regex: EMAIL_RE,
  build(m, ctx) {
    const raw = m[0];
    const at = raw.lastIndexOf('@');
    const local = raw.slice(0, at);
    if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return null;
    // "http://user:password@host/" holds credentials, not an e-mail address.
    const before = ctx.text.slice(Math.max(0, m.index - 256), m.index);
    const scheme = before.lastIndexOf('://');
    if (scheme >= 0 && before.charCodeAt(before.length - 1) === 58 && !/[\s/]/.test(before.slice(scheme + 3))) return null;
    const d = checkDomain(raw.slice(at + 1), ctx);
    if (d === null) return null;
    const start = m.index;
    const end = start + raw.length;
    return {
      type: 'email-addr',
      value: `${local}@${d.value}`,
      start,
      end,
      confidence: ctx.defanged(start, end) ? 0.95 : 0.85,
    };
  },
};

// An address literal for a domain (RFC 5321 §4.1.3): "user@[192.0.2.1]". Led by the literal "@[",
// rare in prose, so the engine skips to it; the local part is read backwards in build().
const EMAIL_IP_LITERAL_RE = /@\[(\d{1,3}(?:\.\d{1,3}){3})\]/g;
const LOCAL_PART_CHAR = /[A-Za-z0-9._%+-]/;

const emailIpLiteralRow: ExtractorRow = {
  id: 'email-ip-literal',
  family: 'address-literal',
  types: ['email-addr'],
  regex: EMAIL_IP_LITERAL_RE,
  build(m, ctx) {
    if (parseIpv4(m[1] ?? '') === null) return null;
    let start = m.index;
    while (start > m.index - 64 && start > 0 && LOCAL_PART_CHAR.test(ctx.text.charAt(start - 1))) start--;
    if (start === m.index || LOCAL_PART_CHAR.test(ctx.text.charAt(start - 1))) return null;
    const local = ctx.text.slice(start, m.index);
    if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return null;
    const end = m.index + m[0].length;
    return { type: 'email-addr', value: `${local}${m[0]}`, start, end, confidence: ctx.defanged(start, end) ? 0.95 : 0.85 };
  },
};

// ---------------------------------------------------------------------------------------------
// IP addresses

// Windows are tokens, so no need for the engine to look behind at every position: the token
// start is a delimiter; inside a token the look-behind still rejects "1.2.3.4.5".
const IPV4_RE =
  /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?(?!\d|\.\d)/g;

// Words that, just before a dotted quad, say it is a version number, not an address.
const VERSION_CONTEXT = /(?:\bv|\bversions?\s*:?\s*|\bver\.?\s*|\bbuild\s*|\brelease\s*|\bfirmware\s*|\bupdate\s*|\bpatch\s*|\bsdk\s*|\bagent\s*)$/i;

const ipv4Row: ExtractorRow = {
  id: 'ipv4',
  family: 'dotted',
  needs: FEATURE_DIGITS4 | FEATURE_DOTS3,
  types: ['ipv4-addr'],
  regex: IPV4_RE,
  build(m, ctx) {
    const raw = m[0];
    const slash = raw.indexOf('/');
    const addr = slash >= 0 ? raw.slice(0, slash) : raw;
    if (parseIpv4(addr) === null) return null;
    let value = raw;
    let end = m.index + raw.length;
    if (slash >= 0) {
      const len = Number(raw.slice(slash + 1));
      // "10.0.0.1/99" is an address followed by text, not a CIDR.
      if (len > 32) {
        value = addr;
        end = m.index + addr.length;
      }
    }
    const start = m.index;
    const c: Candidate = {
      type: 'ipv4-addr',
      value,
      start,
      end,
      confidence: ctx.defanged(start, end) ? 0.95 : 0.9,
    };
    if (VERSION_CONTEXT.test(ctx.text.slice(Math.max(0, start - 24), start))) {
      c.suppressed = { reason: 'version number that looks like an IPv4 address' };
      c.confidence = 0.2;
    }
    return c;
  },
};

const IPV6_RE =
  /(?<![0-9a-zA-Z:.])(?:[0-9a-fA-F]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{0,4})(?:%[0-9a-zA-Z._-]{1,32})?(?:\/\d{1,3})?(?![0-9a-zA-Z:]|\.\d)/g;

const ipv6Row: ExtractorRow = {
  id: 'ipv6',
  family: 'colon',
  // Two colons at least: "(?:h{0,4}:){2,7}". Most colon windows are URLs with one.
  needs: FEATURE_COLONS2,
  types: ['ipv6-addr'],
  regex: IPV6_RE,
  build(m, ctx) {
    const raw = m[0];
    if (raw.includes('%')) return null; // zone ids are link-local interface names, not indicators
    const slash = raw.indexOf('/');
    const addr = slash >= 0 ? raw.slice(0, slash) : raw;
    if (slash >= 0 && Number(raw.slice(slash + 1)) > 128) return null;
    if (parseIpv6(addr) === null) return null;
    // "a::b" or "std::" parse but are code, not addresses: require three groups or an embedded IPv4.
    const groups = addr.split(':').filter((g) => g.length > 0);
    const hexDigits = groups.join('').length;
    if (groups.length < 3 && !addr.includes('.') && !(groups.length === 2 && hexDigits >= 6) && addr !== '::1') return null;
    if (!/\d/.test(addr)) return null;
    const start = m.index;
    const end = start + raw.length;
    return { type: 'ipv6-addr', value: raw.toLowerCase(), start, end, confidence: ctx.defanged(start, end) ? 0.95 : 0.85 };
  },
};

// ---------------------------------------------------------------------------------------------
// Hashes and fingerprints

const HEX_HASH_RE =
  /(?<![0-9A-Za-z])[0-9a-fA-F]{32}(?:[0-9a-fA-F]{8}(?:[0-9a-fA-F]{24}(?:[0-9a-fA-F]{64})?)?)?(?![0-9A-Za-z])/g;

const HASH_BY_LENGTH: ReadonlyMap<number, HashAlgorithm> = new Map([
  [32, 'MD5'],
  [40, 'SHA-1'],
  [64, 'SHA-256'],
  [128, 'SHA-512'],
]);

function hexConfidence(h: string): number {
  // A real digest of 32+ hex digits essentially always mixes letters and digits.
  const letters = /[a-fA-F]/.test(h);
  const digits = /\d/.test(h);
  return letters && digits ? 0.9 : 0.3;
}

// The greedy prefix makes the last mention win ("JA3 … , JA3S hash <md5>" is a JA3S).
const JA3_CONTEXT = /[^\n]*\bja3(s)?\b[^\n]{0,48}$/i;

// Longrun windows are whole alphanumeric runs, and every longrun row's regex is bounded by
// non-alphanumerics on both sides: a match is the whole window, so its length alone rules most
// windows out before any regex runs.
const hashRow: ExtractorRow = {
  id: 'hash',
  family: 'longrun',
  prefilter: (t) => HASH_BY_LENGTH.has(t.length),
  types: ['file', 'ja3'],
  regex: HEX_HASH_RE,
  build(m, ctx) {
    const raw = m[0];
    const algo = HASH_BY_LENGTH.get(raw.length);
    if (algo === undefined) return null;
    const start = m.index;
    const end = start + raw.length;
    // An import hash or Authenticode hash names a property of a file, not the file itself.
    const near = ctx.text.slice(Math.max(0, start - 40), start);
    const hm = /hash/i.test(near) ? /\b(imphash|import hash|authentihash)\b[\s:=,'"-]{0,24}$/i.exec(near) : null;
    if (hm !== null && (algo === 'MD5' || algo === 'SHA-256')) {
      const kind = (hm[1] ?? '').toLowerCase() === 'authentihash' ? 'authentihash' : 'imphash';
      return { type: 'file', kind, value: raw.toLowerCase(), start, end, confidence: 0.8 };
    }
    if (algo === 'MD5') {
      const before = ctx.text.slice(Math.max(0, start - 56), start);
      const jm = /ja3/i.test(before) ? JA3_CONTEXT.exec(before) : null;
      if (jm !== null) {
        return { type: 'ja3', kind: jm[1] === undefined ? 'ja3' : 'ja3s', value: raw.toLowerCase(), start, end, confidence: 0.9 };
      }
    }
    return { type: 'file', kind: 'hash', hashAlgorithm: algo, value: raw.toLowerCase(), start, end, confidence: hexConfidence(raw) };
  },
};

const TLSH_RE = /(?<![0-9A-Za-z])(?:T1)?[0-9A-Fa-f]{70}(?![0-9A-Za-z])/g;

const tlshRow: ExtractorRow = {
  id: 'tlsh',
  family: 'longrun',
  prefilter: (t) => t.length === 70 || t.length === 72,
  types: ['file'],
  regex: TLSH_RE,
  build(m) {
    const raw = m[0];
    return {
      type: 'file',
      kind: 'hash',
      hashAlgorithm: 'TLSH',
      value: raw.startsWith('T1') ? raw : raw.toUpperCase(),
      start: m.index,
      end: m.index + raw.length,
      // Without the T1 version prefix a 70-digit hex string is only probably TLSH.
      confidence: raw.startsWith('T1') ? 0.9 : 0.7,
    };
  },
};

const SSDEEP_RE = /(?<![\w/+:])(\d{1,10}):([A-Za-z0-9/+]{3,64}):([A-Za-z0-9/+]{3,64})(?![\w/+:])/g;

const ssdeepRow: ExtractorRow = {
  id: 'ssdeep',
  family: 'colon',
  needs: FEATURE_COLONS2, // blocksize:hash:hash

  types: ['file'],
  regex: SSDEEP_RE,
  build(m) {
    const block = Number(m[1]);
    const h1 = m[2] ?? '';
    // ssdeep block sizes are 3·2^k; anything else is a time stamp or a port list.
    let b = block / 3;
    if (!Number.isInteger(b) || b < 1) return null;
    while (b > 1 && b % 2 === 0) b /= 2;
    if (b !== 1 || h1.length < 8 || !/[A-Za-z]/.test(h1)) return null;
    return { type: 'file', kind: 'hash', hashAlgorithm: 'SSDEEP', value: m[0], start: m.index, end: m.index + m[0].length, confidence: 0.9 };
  },
};

const JA4_RE = /(?<![\w])[tqd]\d{2}[di]\d{4}[a-z0-9]{2}_[0-9a-f]{12}_[0-9a-f]{12}(?!\w)/g;

const ja4Row: ExtractorRow = {
  id: 'ja4',
  family: 'underscore',
  types: ['ja4'],
  regex: JA4_RE,
  build: (m) => ({ type: 'ja4', value: m[0], start: m.index, end: m.index + m[0].length, confidence: 0.9 }),
};

// ---------------------------------------------------------------------------------------------
// Vulnerability and ATT&CK/ATLAS identifiers

const CVE_RE = /\bCVE-(\d{4})-(\d{4,7})\b/gi;

const cveRow: ExtractorRow = {
  id: 'cve',
  family: 'cve',
  types: ['cve'],
  regex: CVE_RE,
  build: (m) => ({ type: 'cve', value: m[0].toUpperCase(), start: m.index, end: m.index + m[0].length, confidence: 0.95 }),
};

// No leading \b: a regex that starts with an assertion is tried at every position; the
// preceding character is checked in build() instead.
const ATTACK_RE = /(AML\.)?(TA|CS|[TGSM])(\d{4})(\.\d{3})?\b/g;

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function attackKind(atlas: boolean, prefix: string, num: number, sub: boolean): string | null {
  if (atlas) {
    if (num > 999) return null;
    if (prefix === 'T') return sub ? 'sub-technique' : 'technique';
    if (sub) return null;
    return prefix === 'TA' ? 'tactic' : prefix === 'M' ? 'mitigation' : prefix === 'CS' ? 'case-study' : null;
  }
  if (prefix === 'T') {
    // Enterprise/Mobile T1xxx; ICS T08xx. Only T1xxx have sub-techniques.
    if (num >= 1000 && num <= 1999) return sub ? 'sub-technique' : 'technique';
    if (num >= 800 && num <= 899 && !sub) return 'technique';
    return null;
  }
  if (sub) return null;
  if (prefix === 'TA') return num >= 1 && num <= 199 ? 'tactic' : null;
  if (prefix === 'G') return num >= 1 && num <= 1999 ? 'group' : null;
  if (prefix === 'S') return num >= 1 && num <= 1999 ? 'software' : null;
  if (prefix === 'M') return (num >= 1000 && num <= 1999) || (num >= 800 && num <= 999) ? 'mitigation' : null;
  return null;
}

const attackRow: ExtractorRow = {
  id: 'attack',
  family: 'attack-id',
  types: ['attack-technique'],
  regex: ATTACK_RE,
  build(m, ctx) {
    const before = ctx.text.charCodeAt(m.index - 1);
    if (isWordChar(before)) return null;
    const atlas = m[1] !== undefined;
    const prefix = m[2] ?? '';
    const kind = attackKind(atlas, prefix, Number(m[3]), m[4] !== undefined);
    if (kind === null) return null;
    const conf = kind === 'technique' || kind === 'sub-technique' || kind === 'tactic' || atlas ? 0.95 : 0.8;
    return {
      type: 'attack-technique',
      kind: atlas ? `atlas-${kind}` : kind,
      value: m[0],
      start: m.index,
      end: m.index + m[0].length,
      confidence: conf,
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Windows registry keys and file system paths

const REGISTRY_RE = /\b(?:HKEY_LOCAL_MACHINE|HKEY_CURRENT_USER|HKEY_CLASSES_ROOT|HKEY_USERS|HKEY_CURRENT_CONFIG|HKLM|HKCU|HKCR|HKU|HKCC)(?=\\)/gi;

const SPACED_NAMES = [
  'image file execution options',
  'user shell folders',
  'shell folders',
  'volatile environment',
  'session manager',
  'internet settings',
  'control panel',
  'terminal server',
  'windows nt',
  'program files (x86)',
  'program files',
  'common files',
  'application data',
  'local settings',
  'start menu',
  'windows defender',
  'windows error reporting',
  'windows messaging subsystem',
  'app paths',
  'active setup',
  'installed components',
];
const LONGEST_SPACED_NAME = Math.max(...SPACED_NAMES.map((n) => n.length));

// A path segment may contain spaces (Program Files, Windows NT) only when another backslash follows
// on the same line, and at most two of them (so "x.exe and %APPDATA%\y" is two paths, not one);
// the last segment stops at the first space.
function walkBackslashPath(text: string, from: number): number {
  const lineEnd = Math.min(text.length, from + 1024);
  let i = from;
  let lastSep = -1;
  let spaces = 0;
  while (i < lineEnd) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13 || c === 34 || c === 39 || c === 60 || c === 62 || c === 124 || c === 96) break;
    if (i > from && (c === 58 || c === 37)) break; // ":" or "%" starts another root
    if (c === 92) {
      lastSep = i;
      spaces = 0;
    } else if (c === 32 && ++spaces > 2) break;
    // A sentence boundary ends the path even if a later line segment has a backslash.
    if ((c === 44 || c === 46 || c === 59) && text.charCodeAt(i + 1) === 32) break;
    i++;
  }
  if (lastSep < 0) return from;
  let end = lastSep + 1;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c <= 32 || c === 34 || c === 39 || c === 60 || c === 62 || c === 124 || c === 96 || c === 92) break;
    end++;
  }
  // Drop trailing punctuation that ends the sentence rather than the key.
  while (end > lastSep + 1 && '.,;:)]'.includes(text.charAt(end - 1))) end--;
  // A last segment with spaces cannot be told from the prose after it, except for the well-known
  // key and folder names that have them.
  const tail = text.slice(lastSep + 1, lastSep + 1 + LONGEST_SPACED_NAME).toLowerCase();
  for (const name of SPACED_NAMES) {
    if (tail.startsWith(name) && !/[\w-]/.test(text.charAt(lastSep + 1 + name.length))) {
      return Math.max(end, lastSep + 1 + name.length);
    }
  }
  return end;
}

const registryRow: ExtractorRow = {
  id: 'registry',
  family: 'registry-root',
  types: ['windows-registry-key'],
  regex: REGISTRY_RE,
  build(m, ctx) {
    const start = m.index;
    let end = walkBackslashPath(ctx.text, start + m[0].length);
    let value = ctx.text.slice(start, end);
    while (value.endsWith('\\')) {
      value = value.slice(0, -1);
      end--;
    }
    if (value.length <= m[0].length + 1) return null;
    return { type: 'windows-registry-key', value, start, end, confidence: 0.85 };
  },
};

const WIN_PATH_RE = /(?<![\w\\])(?:[A-Za-z]:|%[A-Za-z_()]{2,32}%|\\\\[\w.$-]{1,64})\\/g;

const winPathRow: ExtractorRow = {
  id: 'windows-path',
  family: 'backslash',
  types: ['file'],
  prefilter: (t) => t.includes('\\'),
  regex: WIN_PATH_RE,
  build(m, ctx) {
    const start = m.index;
    let end = walkBackslashPath(ctx.text, start + m[0].length - 1);
    if (end <= start + m[0].length) {
      // Only the root ("C:\"), or a first segment without further backslashes.
      end = start + m[0].length;
      while (end < ctx.text.length && !/[\s"'<>|`]/.test(ctx.text.charAt(end))) end++;
      while (end > start + m[0].length && '.,;:)]'.includes(ctx.text.charAt(end - 1))) end--;
    }
    const value = ctx.text.slice(start, end);
    if (value.length <= m[0].length) return null;
    return { type: 'file', kind: 'path', value, start, end, confidence: 0.75 };
  },
};

// Starts with the "/" or "~" itself (no look-behind: a regex that begins with one is tried at every
// position); the character before is checked in build().
const POSIX_PATH_RE = new RegExp(`(?:~|\\/(?:${POSIX_ROOT_DIRECTORIES.join('|')}))(?:\\/[\\w.@+-]{1,255}){1,64}\\/?`, 'g');

const posixPathRow: ExtractorRow = {
  id: 'posix-path',
  family: 'posix-root',
  types: ['file'],
  regex: POSIX_PATH_RE,
  build(m, ctx) {
    const before = ctx.text.charAt(m.index - 1);
    if (before !== '' && /[\w./~:-]/.test(before)) return null;
    let value = m[0];
    while (value.length > 1 && '.,;:'.includes(value.charAt(value.length - 1))) value = value.slice(0, -1);
    return { type: 'file', kind: 'path', value, start: m.index, end: m.index + value.length, confidence: 0.7 };
  },
};

const EXECUTABLE_EXT =
  'exe|dll|sys|drv|ocx|cpl|scr|bat|cmd|ps1|psm1|psd1|vbs|vbe|js|jse|wsf|wsh|hta|lnk|msi|msp|msc|jar|apk|ipa|dmg|pkg|deb|rpm|elf|dylib|py|pyc|rb|php|asp|aspx|ashx|jsp|jspx|war|sct|xll|wll|inf|reg|chm|iqy|slk|appx|msix|scf|gadget|library-ms|settingcontent-ms|pif|bin|so|sh';
const DOCUMENT_EXT =
  'doc|docx|docm|dot|dotm|xls|xlsx|xlsm|xlsb|xlam|ppt|pptx|pptm|pdf|rtf|one|iso|img|vhd|vhdx|zip|rar|7z|gz|tgz|tar|cab|ace|arj|lzh|txt|log|dat|tmp|ini|cfg|conf|eml|msg|htm|html|svg|xml|json|csv|db|sqlite|key|pem|crt|pfx|ovpn|lnk';

const FILE_NAME_ASCII_RE = new RegExp(
  `(?<![A-Za-z0-9_.\\\\/$%@-])[A-Za-z0-9_$~-][A-Za-z0-9_$~.-]{0,200}?\\.(?:(${EXECUTABLE_EXT})|(${DOCUMENT_EXT}))(?![A-Za-z0-9_-]|\\.[A-Za-z0-9])`,
  'gi',
);
// A kept joiner (invisible.ts, isKeptJoiner) is part of a name in Persian or an Indic script, and
// so are the marks around it (a virama, a vowel sign): neither starts a name.
const FILE_NAME_RE = new RegExp(
  `(?<![\\p{L}\\p{N}\\p{M}\\u200c-\\u200d_.\\\\/$%@-])[\\p{L}\\p{N}_$~-][\\p{L}\\p{N}\\p{M}\\u200c-\\u200d_$~.-]{0,200}?\\.(?:(${EXECUTABLE_EXT})|(${DOCUMENT_EXT}))(?![\\p{L}\\p{N}_-]|\\.[\\p{L}\\p{N}])`,
  'giu',
);

const FILE_EXTENSIONS: LabelSet = createLabelSet(`${EXECUTABLE_EXT}|${DOCUMENT_EXT}`.split('|'));

function isExtensionChar(c: number): boolean {
  return (c >= 48 && c <= 57) || isAsciiLetter(c) || c === 95 || c === 45;
}

/**
 * Whether some dot in the window is followed by a known extension and then by no further name
 * character, as the file-name regex requires (a non-ASCII character is left to the regex: with the
 * u flag, case folding maps a few of them to ASCII letters). Two thirds of the dotted windows the
 * regex ran on have none.
 */
function mayHoldFileExtension(window: string): boolean {
  for (let dot = window.indexOf('.'); dot >= 0; dot = window.indexOf('.', dot + 1)) {
    let end = dot + 1;
    while (end < window.length && isExtensionChar(window.charCodeAt(end))) end++;
    if (window.charCodeAt(end) >= 128) return true;
    if (end - dot >= 3 && FILE_EXTENSIONS.has(window, dot + 1, end)) return true;
  }
  return false;
}

const fileNameRow: ExtractorRow = {
  id: 'file-name',
  family: 'dotted',
  needs: FEATURE_DOT_WORD,
  asciiRegex: FILE_NAME_ASCII_RE,
  types: ['file'],
  prefilter: mayHoldFileExtension,
  regex: FILE_NAME_RE,
  build(m) {
    const value = m[0];
    // Version-like "1.2.sh" or pure numbers with an extension are rarely file indicators.
    if (/^[\d.]+\./.test(value)) return null;
    return { type: 'file', kind: 'name', value, start: m.index, end: m.index + value.length, confidence: m[1] !== undefined ? 0.7 : 0.4 };
  },
};

// ---------------------------------------------------------------------------------------------
// MAC addresses, ASNs, wallets

const MAC_RE = /(?<![0-9A-Za-z:.-])[0-9a-fA-F]{2}([:-])(?:[0-9a-fA-F]{2}\1){4}[0-9a-fA-F]{2}(?![0-9A-Za-z:-]|\.[0-9A-Za-z])/g;
const CISCO_MAC_RE = /(?<![0-9A-Za-z:.-])[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}(?![0-9A-Za-z:-]|\.[0-9A-Za-z])/g;

function buildMac(m: RegExpExecArray): Candidate | null {
    const raw = m[0];
    const hex = raw.replace(/[:.-]/g, '').toLowerCase();
    // Cisco dotted form without a letter is far more often a number than a MAC.
    if (raw.includes('.') && !/[a-f]/.test(hex)) return null;
    const value = hex.match(/../g)?.join(':') ?? hex;
    return { type: 'mac-addr', value, start: m.index, end: m.index + raw.length, confidence: raw.includes('.') ? 0.5 : 0.8 };
}

const macRow: ExtractorRow = { id: 'mac', types: ['mac-addr'], family: 'hexsep', regex: MAC_RE, build: buildMac };
// Five separators of one kind, colons or (in a token that also has a colon) dashes.
const colonMacRow: ExtractorRow = { id: 'mac-colon', types: ['mac-addr'], family: 'colon', needs: FEATURE_SEPARATORS5, regex: MAC_RE, build: buildMac };

/**
 * Whether the window holds "hhhh.hhhh.hhhh" anywhere: without it the Cisco regex cannot match.
 * Every dotted window of two dots or more (version numbers, host names, URLs) used to run it.
 */
function hasDottedHexQuads(window: string): boolean {
  for (let dot = window.indexOf('.', 4); dot >= 0 && dot + 9 < window.length; dot = window.indexOf('.', dot + 1)) {
    if (window.charCodeAt(dot + 5) !== 46) continue;
    let quads = true;
    for (let k = 1; k <= 4 && quads; k++) {
      quads = isHexDigit(window.charCodeAt(dot - k)) && isHexDigit(window.charCodeAt(dot + k)) && isHexDigit(window.charCodeAt(dot + 5 + k));
    }
    if (quads) return true;
  }
  return false;
}

const ciscoMacRow: ExtractorRow = {
  id: 'mac-dotted',
  types: ['mac-addr'],
  family: 'dotted',
  needs: FEATURE_DOTS2,
  prefilter: hasDottedHexQuads,
  regex: CISCO_MAC_RE,
  build: buildMac,
};

const ASN_RE = /\bAS(?:N ?)?(\d{1,10})\b/g;

const asnRow: ExtractorRow = {
  id: 'asn',
  family: 'asn',
  types: ['autonomous-system'],
  regex: ASN_RE,
  build(m) {
    const n = Number(m[1]);
    if (n < 1 || n > 4294967295) return null;
    // AS400 is an IBM platform far more often than a network in prose.
    const confidence = m[0] === 'AS400' ? 0.3 : 0.8;
    return { type: 'autonomous-system', kind: String(n), value: `AS${n}`, start: m.index, end: m.index + m[0].length, confidence };
  },
};

const BTC_RE = /(?<![A-Za-z0-9])(?:[13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[02-9ac-hj-np-z]{11,87}|BC1[02-9AC-HJ-NP-Z]{11,87})(?![A-Za-z0-9])/g;

const btcRow: ExtractorRow = {
  id: 'bitcoin',
  family: 'longrun',
  // A longrun window is one alphanumeric run, so a match is the whole window: base58 addresses are
  // 26–35 characters led by 1 or 3; only bech32 ones (bc1…) are longer.
  prefilter: (t) => (t.length <= 35 && (t.startsWith('1') || t.startsWith('3'))) || t.startsWith('bc1') || t.startsWith('BC1'),
  types: ['cryptocurrency-wallet'],
  regex: BTC_RE,
  build(m) {
    const raw = m[0];
    const ok = raw.toLowerCase().startsWith('bc1') ? isBech32Address(raw) : isBase58CheckAddress(raw);
    if (!ok) return null;
    return { type: 'cryptocurrency-wallet', kind: 'bitcoin', value: raw, start: m.index, end: m.index + raw.length, confidence: 0.95 };
  },
};

const ETH_RE = /(?<![A-Za-z0-9])0x[0-9a-fA-F]{40}(?![A-Za-z0-9])/g;

const ethRow: ExtractorRow = {
  id: 'ethereum',
  family: 'longrun',
  types: ['cryptocurrency-wallet'],
  prefilter: (t) => t.length === 42 && t.startsWith('0x'),
  regex: ETH_RE,
  build: (m) => ({ type: 'cryptocurrency-wallet', kind: 'ethereum', value: m[0], start: m.index, end: m.index + m[0].length, confidence: 0.85 }),
};

// ---------------------------------------------------------------------------------------------
// Detection rules embedded in reports, extracted as whole blocks

const MAX_RULE = 100_000;

const YARA_RE = /^[ \t]*(?:(?:private|global)[ \t]+){0,2}rule[ \t]+[A-Za-z_]\w{0,127}(?:[ \t]*:[ \t]*[A-Za-z_][\w \t]{0,255})?\s{0,64}\{/gm;

/** Index just past the brace that closes the one at `open`, skipping strings, regexes and comments. */
function matchBrace(text: string, open: number, budget: { remaining: number }): number {
  let depth = 0;
  const limit = Math.min(text.length, open + MAX_RULE, open + budget.remaining);
  budget.remaining -= limit - open;
  for (let i = open; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < limit && text.charCodeAt(i) !== 34 && text.charCodeAt(i) !== 10; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      while (i < limit && text.charCodeAt(i) !== 10) i++;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0 || close > limit) return -1;
      i = close + 1;
    } else if (c === 123) depth++;
    else if (c === 125) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const yaraRow: ExtractorRow = {
  id: 'yara',
  family: 'yara',
  types: ['yara-rule'],
  regex: YARA_RE,
  build(m, ctx) {
    const open = m.index + m[0].length - 1;
    const end = matchBrace(ctx.text, open, ctx.budget);
    if (end < 0) return null;
    let start = m.index;
    while (ctx.text.charCodeAt(start) === 32 || ctx.text.charCodeAt(start) === 9) start++;
    const value = ctx.text.slice(start, end);
    if (!/\bcondition\s*:/.test(value)) return null;
    return { type: 'yara-rule', value, start, end, confidence: 0.95 };
  },
};

const SIGMA_RE = /^title:[ \t]*\S[^\n]*$/gm;
const YAML_LINE = /^(?:[ \t]+\S|-|[A-Za-z_][\w.-]*:|#|[ \t]*$)/;

const sigmaRow: ExtractorRow = {
  id: 'sigma',
  family: 'sigma-title',
  types: ['sigma-rule'],
  regex: SIGMA_RE,
  build(m, ctx) {
    const text = ctx.text;
    const start = m.index;
    let pos = start;
    let end = start;
    let blank = 0;
    const limit = Math.min(text.length, start + MAX_RULE);
    while (pos < limit) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0 || nl > limit) nl = limit;
      const line = text.slice(pos, nl);
      if (!YAML_LINE.test(line)) break;
      if (line.trim() === '') {
        if (++blank >= 2) break;
      } else {
        blank = 0;
        // A second rule starts a new block.
        if (pos !== start && line.startsWith('title:')) break;
        end = nl;
      }
      pos = nl + 1;
    }
    const value = text.slice(start, end).replace(/\r$/, '');
    if (!/^detection:/m.test(value) || !/^[ \t]+condition:/m.test(value)) return null;
    return { type: 'sigma-rule', value, start, end: start + value.length, confidence: 0.95 };
  },
};

const SNORT_RE =
  /^[ \t]*(?:alert|drop|reject|pass|log|sdrop|rejectsrc|rejectdst|rejectboth)[ \t]+[a-z0-9-]{2,16}[ \t]+\S{1,256}[ \t]+\S{1,256}[ \t]+(?:->|<>)[ \t]+\S{1,256}[ \t]+\S{1,256}[ \t]+\([^\n]*\)[ \t]*$/gm;
const SURICATA_ONLY = /\b(?:http\.[a-z_]+|tls\.[a-z_]+|dns\.query|ja3\.hash|ja3s\.hash|file\.data|app-layer-[a-z]+|dotprefix|pcre_xbits|xbits|tls_sni|dns_query)\b/;

const snortRow: ExtractorRow = {
  id: 'snort',
  family: 'arrow',
  types: ['snort-rule'],
  prefilter: (t) => /\b(?:sid|msg)\s*:/.test(t),
  regex: SNORT_RE,
  build(m) {
    let start = m.index;
    const value = m[0].trim();
    if (!/\b(?:sid|msg)\s*:/.test(value)) return null;
    while (m[0].charCodeAt(start - m.index) === 32 || m[0].charCodeAt(start - m.index) === 9) start++;
    return {
      type: 'snort-rule',
      kind: SURICATA_ONLY.test(value) ? 'suricata' : 'snort',
      value,
      start,
      end: start + value.length,
      confidence: 0.95,
    };
  },
};

/** The registry, in the order results are reported for equal spans. */
export const EXTRACTORS: readonly ExtractorRow[] = [
  urlRow,
  domainRow,
  emailRow,
  emailIpLiteralRow,
  ipv4Row,
  ipv6Row,
  hashRow,
  tlshRow,
  ssdeepRow,
  ja4Row,
  cveRow,
  attackRow,
  registryRow,
  winPathRow,
  posixPathRow,
  fileNameRow,
  macRow,
  colonMacRow,
  ciscoMacRow,
  asnRow,
  btcRow,
  ethRow,
  yaraRow,
  sigmaRow,
  snortRow,
];
