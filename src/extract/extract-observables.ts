// Observable extraction from report text: refang, run the registry, map spans back to the original
// text, attach sentences, and flag known false positives with the reason. Pure: the TLD set and
// warninglists come in through the options (load them with load-extract-data.ts).
import { EntenteError } from '../errors/entente-error.ts';
import { refang } from './refang.ts';
import { stripInvisible } from './invisible.ts';
import type { StrippedText } from './invisible.ts';
import type { RefangResult } from './refang.ts';
import { EXTRACTORS, FILE_IN_PATH_REASON, FILE_NAMED_IN_PATH_REASON, urlHost } from './extractors.ts';
import type { Candidate, ExtractContext, ExtractorFamily, ExtractorRow, HashAlgorithm, ObservableType, Suppression } from './extractors.ts';
import { familyWindows, isWhiteSpaceCode } from './scan-windows.ts';
import { FrozenSet } from './frozen-set.ts';
import { ipv4InCidr, ipv6InCidr, parseIpv4, parseIpv6 } from '../stix/ip-address.ts';
import type { WarninglistHit, WarninglistIndex } from './warninglists.ts';

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** One occurrence of an observable; offsets are UTF-16 indices into the ORIGINAL text. */
export interface Observable {
  readonly type: ObservableType;
  readonly value: string;
  readonly start: number;
  readonly end: number;
  readonly confidence: number;
  readonly suppressed?: Suppression;
  readonly hashAlgorithm?: HashAlgorithm;
  readonly kind?: string;
  /** True when the original text was defanged inside this span. */
  readonly defanged?: boolean;
  /**
   * True when invisible characters (default-ignorable characters such as zero-width, tag characters, bidi controls: invisible.ts) stood
   * inside this span: the value is the span without them, as a reader of the rendered text sees it.
   */
  readonly invisible?: boolean;
  readonly sentence: Span;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface ExtractOptions {
  /** Lower-case ASCII TLDs, e.g. from loadExtractData(). */
  readonly tlds: ReadonlySet<string>;
  readonly warninglists?: WarninglistIndex;
  /** Undo defanging before extraction (default true). */
  readonly refang?: boolean;
  /** Require domain TLDs to be in `tlds` (default true). */
  readonly strictTld?: boolean;
  /** The report publisher's own domains: links to them are suppressed. */
  readonly publisherDomains?: Iterable<string>;
  /** Only these types (default: all). */
  readonly types?: Iterable<ObservableType>;
  /** Most observables one text may hold (default MAX_OBSERVABLES); past it the text is refused. */
  readonly maxObservables?: number;
  /** Names the text in errors (a file name). */
  readonly name?: string;
}

/**
 * Most observables found in one text, repeats included, before duplicates are dropped. A report with
 * an appendix of 20,000 indicators finds about 60,000 (a URL's host is a domain too); a draft keeps
 * 5,000 items. Each one costs an object with its span and sentence, so a text of nothing but
 * indicators ("AS1 " 8 million times in 32 MiB) would cost gigabytes and minutes on the thread that
 * extracts (the server's event loop for POST /api/drafts); 100,000 cost about a second.
 */
export const MAX_OBSERVABLES = 100_000;

export interface ExtractResult {
  readonly observables: Observable[];
  /** Number of defang forms that were refanged. */
  readonly refanged: number;
}

// Reserved for documentation and testing (RFC 2606, RFC 6761): suppressed, never indicators.
const RESERVED_TLDS: ReadonlySet<string> = new Set(['test', 'example', 'invalid', 'localhost']);
const DOC_DOMAINS = ['example.com', 'example.net', 'example.org', 'example.edu'];
const RFC5737: readonly (readonly [number, number])[] = [
  [0xc0000200, 24],
  [0xc6336400, 24],
  [0xcb007100, 24],
];
const RFC3849_BASE = 0x20010db8n << 96n;

// Windows binaries and libraries present on every machine: named in a report they describe
// behaviour (T1218 and friends), not an indicator to block.
const COMMON_FILE_NAMES: ReadonlySet<string> = new Set(
  (
    'svchost.exe explorer.exe cmd.exe powershell.exe pwsh.exe rundll32.exe regsvr32.exe mshta.exe wscript.exe ' +
    'cscript.exe lsass.exe services.exe winlogon.exe csrss.exe smss.exe wininit.exe taskhost.exe taskhostw.exe ' +
    'conhost.exe dllhost.exe spoolsv.exe notepad.exe calc.exe msiexec.exe schtasks.exe certutil.exe bitsadmin.exe ' +
    'wmic.exe net.exe net1.exe whoami.exe ipconfig.exe systeminfo.exe tasklist.exe taskkill.exe reg.exe sc.exe ' +
    'at.exe vssadmin.exe wevtutil.exe netsh.exe nltest.exe ping.exe curl.exe mstsc.exe regedit.exe ' +
    'installutil.exe msbuild.exe wmiprvse.exe winword.exe excel.exe outlook.exe powerpnt.exe iexplore.exe ' +
    'chrome.exe firefox.exe msedge.exe userinit.exe sihost.exe searchindexer.exe ntdll.dll kernel32.dll ' +
    'kernelbase.dll user32.dll advapi32.dll ws2_32.dll wininet.dll winhttp.dll shell32.dll ole32.dll ' +
    'oleaut32.dll msvcrt.dll comctl32.dll gdi32.dll crypt32.dll secur32.dll dbghelp.dll comsvcs.dll ntoskrnl.exe'
  ).split(' '),
);

function sameOrSubdomain(host: string, domain: string): boolean {
  return host === domain || (host.length > domain.length && host.endsWith(domain) && host.charCodeAt(host.length - domain.length - 1) === 46);
}

function reservedHostReason(host: string): string | null {
  for (const d of DOC_DOMAINS) if (sameOrSubdomain(host, d)) return 'documentation domain (RFC 2606)';
  const tld = host.slice(host.lastIndexOf('.') + 1);
  if (RESERVED_TLDS.has(tld)) return `reserved top-level domain .${tld} (RFC 2606/6761)`;
  return null;
}

function reservedIpReason(value: string): string | null {
  const addr = value.split('/')[0] ?? value;
  const v4 = parseIpv4(addr);
  if (v4 !== null) {
    for (const [base, len] of RFC5737) if (ipv4InCidr(v4, base, len)) return 'documentation address range (RFC 5737)';
    return null;
  }
  const v6 = parseIpv6(addr);
  if (v6 !== null && ipv6InCidr(v6, RFC3849_BASE, 32)) return 'documentation address range (RFC 3849)';
  return null;
}

/**
 * Why a host is suppressed whatever the warninglists say: a documentation name or address, or the
 * report's publisher linking to itself.
 */
function reservedOrPublisher(host: string, isIp: boolean, publishers: readonly string[]): string | null {
  const r = isIp ? reservedIpReason(host) : reservedHostReason(host);
  if (r !== null) return r;
  for (const p of publishers) if (sameOrSubdomain(host, p)) return `publisher's own link (${p})`;
  return null;
}

/** The host of a domain name or e-mail address (URLs: see urlSuppression). */
function hostOf(c: Candidate): string | null {
  if (c.type === 'domain-name') return c.value;
  if (c.type === 'email-addr') return c.value.slice(c.value.lastIndexOf('@') + 1);
  return null;
}

/** What a URL's suppression owes to its host alone; a report's URLs share few hosts. */
interface HostVerdict {
  /** Documentation host, reserved address or publisher: decided before any warninglist. */
  readonly reserved: Suppression | null;
  /** The warninglist hit of the host, asked when the whole URL is in no list. */
  readonly listed: WarninglistHit | null;
}

function urlHostVerdict(host: string, publishers: readonly string[], wl: WarninglistIndex | undefined): HostVerdict {
  const v4 = parseIpv4(host) !== null;
  const ipHost = v4 || (host.includes(':') && parseIpv6(host) !== null);
  const r = reservedOrPublisher(host, ipHost, publishers);
  if (r !== null) return { reserved: { reason: r }, listed: null };
  let listed: WarninglistHit | null = null;
  if (wl !== undefined) {
    if (v4 || host.includes(':')) {
      // Private or reserved address hosts (http://192.168.0.1/) are as benign as the bare address.
      const ipHit = wl.match(v4 ? 'ipv4-addr' : 'ipv6-addr', host);
      if (ipHit !== null && /^rfc|multicast|linklocal/.test(ipHit.list)) listed = ipHit;
    }
    listed ??= wl.match('url', host);
  }
  return { reserved: null, listed };
}

function urlSuppression(url: string, publishers: readonly string[], wl: WarninglistIndex | undefined, hosts: Map<string, HostVerdict>): Suppression | null {
  const host = urlHost(url);
  let verdict: HostVerdict | undefined;
  if (host !== null) {
    verdict = hosts.get(host);
    if (verdict === undefined) {
      verdict = urlHostVerdict(host, publishers, wl);
      hosts.set(host, verdict);
    }
    if (verdict.reserved !== null) return verdict.reserved;
  }
  if (wl === undefined) return null;
  // The whole URL's own entry first, then its host's.
  const hit = wl.match('url', url) ?? verdict?.listed ?? null;
  return hit === null ? null : { reason: `MISP warninglist ${hit.list}: ${hit.description}` };
}

function suppressionFor(c: Candidate, publishers: readonly string[], wl: WarninglistIndex | undefined, hosts: Map<string, HostVerdict>): Suppression | null {
  if (c.type === 'url') return urlSuppression(c.value, publishers, wl, hosts);
  if (c.type === 'ipv4-addr' || c.type === 'ipv6-addr') {
    const r = reservedIpReason(c.value);
    if (r !== null) return { reason: r };
  }
  const host = hostOf(c);
  if (host !== null) {
    const r = reservedOrPublisher(host, false, publishers);
    if (r !== null) return { reason: r };
  }
  if (c.type === 'file' && c.kind === 'name' && COMMON_FILE_NAMES.has(c.value.toLowerCase())) {
    return { reason: 'common system file name (benign on its own)' };
  }
  if (wl !== undefined) {
    let hit = null;
    if (c.type === 'file' && c.kind === 'hash') hit = wl.match('file', c.value);
    else if (c.type !== 'file') hit = wl.match(c.type, c.value);
    if (hit !== null) return { reason: `MISP warninglist ${hit.list}: ${hit.description}` };
  }
  return null;
}

// Sentence boundaries: terminal punctuation followed by white space, a blank line, or a line break
// that does not look like prose wrapped mid-sentence (IOC lists put one indicator per line).
function isBoundaryAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c === 10) {
    const prev = text.charCodeAt(i - 1);
    const next = text.charCodeAt(i + 1);
    const prevProse = (prev >= 97 && prev <= 122) || prev === 44;
    const nextProse = next >= 97 && next <= 122;
    return !(prevProse && nextProse);
  }
  if (c === 46 || c === 33 || c === 63) {
    const n = text.charCodeAt(i + 1);
    return n === 32 || n === 10 || n === 13 || n === 9;
  }
  return false;
}

const SENTENCE_REACH = 600;

// Character loops that stop at the first boundary: sentences are short, so this touches ~100
// characters per distinct sentence, where searching for each kind of mark would scan the whole reach.
function sentenceStart(text: string, pos: number): number {
  const floor = Math.max(0, pos - SENTENCE_REACH);
  let s = pos;
  while (s > floor && !isBoundaryAt(text, s - 1)) s--;
  return s;
}

function sentenceEnd(text: string, pos: number): number {
  const ceil = Math.min(text.length, pos + SENTENCE_REACH);
  let e = pos;
  while (e < ceil && !isBoundaryAt(text, e)) e++;
  if (e < ceil && text.charCodeAt(e) !== 10) e++; // keep the full stop
  return e;
}

function sentenceAround(text: string, start: number, end: number): Span {
  let s = sentenceStart(text, start);
  let e = sentenceEnd(text, end);
  // A table lookup, not /\s/ on a one-character string: this runs for every new sentence.
  while (s < start && isWhiteSpaceCode(text.charCodeAt(s))) s++;
  while (e > end && isWhiteSpaceCode(text.charCodeAt(e - 1))) e--;
  return { start: Math.min(s, start), end: Math.max(e, end) };
}

const BLOCK_TYPES: ReadonlySet<ObservableType> = new Set(['yara-rule', 'sigma-rule', 'snort-rule']);

const reservedAdded = new WeakMap<ReadonlySet<string>, { readonly size: number; readonly tlds: ReadonlySet<string> }>();

/**
 * The TLDs with the reserved ones added: those must be recognised to be suppressed with a reason
 * rather than silently dropped. Made once per TLD set, so the rows' per-set caches keep working from
 * one call to the next, and made again when the caller's set no longer holds the same TLDs (same
 * size and each one still in the copy: a swap that keeps the size must not leave a stale copy,
 * which refang, reading the caller's set, would then contradict).
 */
function withReservedTlds(tlds: ReadonlySet<string>): ReadonlySet<string> {
  const cached = reservedAdded.get(tlds);
  // A frozen set (the bundled one) cannot have changed since its copy was made.
  if (cached !== undefined && (tlds instanceof FrozenSet || (cached.size === tlds.size && isSubsetOf(tlds, cached.tlds)))) return cached.tlds;
  const out = new Set(tlds);
  for (const t of RESERVED_TLDS) out.add(t);
  reservedAdded.set(tlds, { size: tlds.size, tlds: out });
  return out;
}

function isSubsetOf(items: ReadonlySet<string>, of: ReadonlySet<string>): boolean {
  for (const item of items) if (!of.has(item)) return false;
  return true;
}

export function extractObservables(text: string, options: ExtractOptions): ExtractResult {
  // Invisible characters go first, for every kind of document (invisible.ts says why they are
  // removed rather than ending a token): a defang form or an indicator split by one is then read
  // whole. Spans are mapped back through refanging, then through this, to `text`.
  const visible = stripInvisible(text);
  const r: RefangResult =
    options.refang === false
      ? { text: visible.text, replacements: 0, toOriginal: (o) => o, defangedWithin: () => false }
      : refang(visible.text, { tlds: options.tlds });
  const only = options.types === undefined ? null : new Set(options.types);
  const ctxWithReserved: ExtractContext = {
    text: r.text,
    tlds: withReservedTlds(options.tlds),
    strictTld: options.strictTld !== false,
    defanged: (s, e) => r.defangedWithin(s, e),
    budget: { remaining: 4 * r.text.length + 1_000_000 },
  };
  const found = findCandidates(r.text, ctxWithReserved, only, options.maxObservables ?? MAX_OBSERVABLES, options.name ?? 'the text');
  // Longest first among candidates that start together.
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  return { observables: toObservables(text, visible, r, found, options), refanged: r.replacements };
}

/** Every row's candidates in the refanged text, unsorted (rows over the whole text, then family windows). */
function findCandidates(text: string, ctxWithReserved: ExtractContext, only: ReadonlySet<ObservableType> | null, max: number, name: string): Candidate[] {
  const found: Candidate[] = [];
  // Rule blocks, registry keys and paths are consumed whole so that their own lines or segments are
  // not re-read as new matches (and hostile repetitions cost one walk, not one per repetition).
  // Indexed by the row's place in EXTRACTORS (a map lookup per row and window was measurable).
  const consumedUntil: number[] = new Array<number>(EXTRACTORS.length).fill(0);
  const keep = (c: Candidate, rowIndex: number): void => {
    if (only !== null && !only.has(c.type)) return;
    // Counted as found, repeats of a value included: the cost is per occurrence.
    if (found.length >= max) {
      throw new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${name}: more than ${max} observables (repeats included); a report this dense is a feed or a hostile file: split it, or import a feed as STIX`, { file: name });
    }
    found.push(c);
    if (BLOCK_TYPES.has(c.type) || c.type === 'windows-registry-key' || c.kind === 'path') {
      consumedUntil[rowIndex] = Math.max(consumedUntil[rowIndex] ?? 0, c.end);
    }
  };
  /** Builds the candidates of one match; returns where the row's regex should go on from. */
  const accept = (row: ExtractorRow, rowIndex: number, m: RegExpExecArray): number => {
    const matchEnd = m.index + m[0].length;
    if (m.index < (consumedUntil[rowIndex] ?? 0)) return matchEnd;
    const out = row.build(m, ctxWithReserved);
    if (out === null) return matchEnd;
    // Most matches build one candidate: no array is made for it.
    let end: number;
    if (Array.isArray(out)) {
      end = -Infinity;
      for (const c of out as readonly Candidate[]) {
        keep(c, rowIndex);
        if (c.end > end) end = c.end;
      }
    } else {
      keep(out as Candidate, rowIndex);
      end = (out as Candidate).end;
    }
    // A row that cut its match short (a URL ended at "](") reads on from where the candidate ended.
    return row.rescanRest === true && end > m.index && end < matchEnd ? end : matchEnd;
  };
  /** Each family's rows, as their places in EXTRACTORS. */
  const families = new Map<ExtractorFamily, number[]>();
  for (let rowIndex = 0; rowIndex < EXTRACTORS.length; rowIndex++) {
    const row = EXTRACTORS[rowIndex];
    if (row === undefined || (only !== null && !row.types.some((t) => only.has(t)))) continue;
    if (row.family !== undefined) {
      const rows = families.get(row.family) ?? [];
      rows.push(rowIndex);
      families.set(row.family, rows);
      continue;
    }
    if (row.prefilter !== undefined && !row.prefilter(text, ctxWithReserved)) continue;
    const re = row.regex;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0].length === 0) re.lastIndex++;
      const resume = accept(row, rowIndex, m);
      if (resume < re.lastIndex) re.lastIndex = resume;
    }
  }
  // One pass per family: its trigger finds the windows, each window is sliced once, and every row
  // of the family runs on the slice.
  for (const [family, rowIndices] of families) {
    const rows = rowIndices.map((i) => EXTRACTORS[i] as ExtractorRow);
    for (const [ws0, we, ascii, features] of familyWindows(text, family)) {
      const slice = text.slice(ws0, we);
      for (let k = 0; k < rows.length; k++) {
        const row = rows[k] as ExtractorRow;
        const rowIndex = rowIndices[k] as number;
        if (row.needs !== undefined && (features & row.needs) !== row.needs) continue;
        if (we <= (consumedUntil[rowIndex] ?? 0)) continue;
        if (row.prefilter !== undefined && !row.prefilter(slice, ctxWithReserved)) continue;
        const re = ascii && row.asciiRegex !== undefined ? row.asciiRegex : row.regex;
        re.lastIndex = 0;
        for (let m = re.exec(slice); m !== null; m = re.exec(slice)) {
          if (m[0].length === 0) re.lastIndex++;
          m.index += ws0;
          const resume = accept(row, rowIndex, m) - ws0;
          if (resume < re.lastIndex) re.lastIndex = resume;
          // Windows are short and most rows match once: spare the failing exec at the end.
          if (re.lastIndex >= slice.length) break;
        }
      }
    }
  }
  return found;
}

/**
 * The candidates (sorted by start, longest first) as observables: duplicates dropped, spans mapped
 * back to the original text, suppressions decided (once per distinct value), sentences attached.
 */
function toObservables(text: string, visible: StrippedText, r: RefangResult, found: readonly Candidate[], options: ExtractOptions): Observable[] {
  const suppressions = new SuppressionDecisions(options);
  const observables: Observable[] = [];
  let sentence: Span = { start: -1, end: -1 };
  // A name the report writes as a segment of a Windows path (%appdata%\cghost\cghost.com) is that
  // file wherever else it stands in the same report ("cghost.com - copy of the interpreter"), unless
  // the author marked a mention as a host by defanging it or putting it in a URL.
  const namesInPaths = new Set<string>();
  for (const c of found) if (c.type === 'domain-name' && c.suppressed?.reason === FILE_IN_PATH_REASON) namesInPaths.add(c.value);
  for (let i = 0; i < found.length; i++) {
    const c = found[i];
    if (c === undefined) continue;
    // Duplicates (same type, kind and span) are adjacent after the sort, within the same span.
    let duplicate = false;
    for (let j = i - 1; j >= 0; j--) {
      const p = found[j];
      if (p === undefined || p.start !== c.start || p.end !== c.end) break;
      if (p.type === c.type && p.kind === c.kind) {
        duplicate = true;
        break;
      }
    }
    if (duplicate) continue;
    const visibleStart = r.toOriginal(c.start);
    const visibleEnd = r.toOriginal(c.end);
    const start = visible.toOriginalStart(visibleStart);
    const end = visible.toOriginalEnd(visibleEnd);
    const invisible = visible.removed > 0 && visible.removedWithin(visibleStart, visibleEnd);
    const defanged = r.replacements > 0 && r.defangedWithin(c.start, c.end);
    let suppressed: Suppression | null | undefined = c.suppressed;
    if (suppressed === undefined && c.type === 'domain-name' && namesInPaths.has(c.value) && !defanged && r.text.charCodeAt(c.start - 1) !== 47) {
      suppressed = { reason: FILE_NAMED_IN_PATH_REASON };
    }
    if (suppressed === undefined) suppressed = suppressions.decide(c);
    if (BLOCK_TYPES.has(c.type)) sentence = { start, end };
    else if (!(start >= sentence.start && end <= sentence.end)) sentence = sentenceAround(text, start, end);
    // Optional properties are set only when present (no spreads of temporary objects: hot path).
    const o: Mutable<Observable> = { type: c.type, value: c.value, start, end, confidence: Math.round(c.confidence * 100) / 100, sentence };
    if (suppressed !== null) o.suppressed = suppressed;
    if (c.hashAlgorithm !== undefined) o.hashAlgorithm = c.hashAlgorithm;
    if (c.kind !== undefined) o.kind = c.kind;
    if (defanged) o.defanged = true;
    if (invisible) o.invisible = true;
    observables.push(o);
  }
  return observables;
}

/**
 * Why a candidate is suppressed (null: it is not), decided once for each distinct value: reports
 * repeat their indicators. Keyed by type, kind and value (type and kind are literals whose hashes V8
 * keeps: no string is built for the key).
 */
class SuppressionDecisions {
  readonly #publishers: readonly string[];
  readonly #warninglists: WarninglistIndex | undefined;
  readonly #hostVerdicts = new Map<string, HostVerdict>();
  readonly #decided = new Map<ObservableType, Map<string | undefined, Map<string, Suppression | null>>>();

  constructor(options: ExtractOptions) {
    this.#publishers = [...(options.publisherDomains ?? [])].map((d) => d.toLowerCase().replace(/^\.+|\.+$/g, ''));
    this.#warninglists = options.warninglists;
  }

  decide(c: Candidate): Suppression | null {
    let byKind = this.#decided.get(c.type);
    if (byKind === undefined) {
      byKind = new Map();
      this.#decided.set(c.type, byKind);
    }
    let byValue = byKind.get(c.kind);
    if (byValue === undefined) {
      byValue = new Map();
      byKind.set(c.kind, byValue);
    }
    let suppressed = byValue.get(c.value);
    if (suppressed === undefined) {
      suppressed = suppressionFor(c, this.#publishers, this.#warninglists, this.#hostVerdicts);
      byValue.set(c.value, suppressed);
    }
    return suppressed;
  }
}
