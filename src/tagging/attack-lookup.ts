// Linking text to ATT&CK and ATLAS objects by explicit id (T1059.001, G0016, AML.T0051…) and by
// the names and aliases of groups and software. Pure: the lookup table comes in as parsed JSON
// (data/tagging/attack-lookup.json, written by scripts/train-tagger.ts).

export const ATTACK_LOOKUP_FORMAT = 'entente-attack-lookup/1';

export type AttackKind = 'technique' | 'tactic' | 'group' | 'software' | 'mitigation' | 'campaign';

/** Row of the stored table: [external id, STIX id, name, kind, aliases, replaced-by external id]. */
export type AttackLookupRow = readonly [string, string, string, AttackKind, readonly string[], string | null];

export interface AttackLookupArtefact {
  readonly format: string;
  readonly sources: Readonly<Record<string, string>>;
  readonly objects: readonly AttackLookupRow[];
  /** Lower-case words common in ordinary prose: aliases equal to one are linked only in strict conditions. */
  readonly commonWords: readonly string[];
}

export interface AttackObject {
  readonly id: string;
  readonly stixId: string;
  readonly name: string;
  readonly kind: AttackKind;
  readonly aliases: readonly string[];
  /** Revoked objects: the external id of the object that replaces it. */
  readonly replacedBy: string | null;
}

export interface Mention {
  readonly object: AttackObject;
  readonly start: number;
  readonly end: number;
}

interface NameEntry {
  readonly object: AttackObject;
  /** The alias as ATT&CK spells it. */
  readonly alias: string;
  /** How the surface form must match: exactly, exactly or in capitals, or in any case. */
  readonly caseRule: 'exact' | 'exact-or-upper' | 'any';
  /** An ordinary word too: linked only near a cue word such as "malware" or "group". */
  readonly common: boolean;
}

interface TrieNode {
  readonly next: Map<string, TrieNode>;
  entries: NameEntry[];
}

export interface AttackLookup {
  readonly byId: ReadonlyMap<string, AttackObject>;
  readonly byStixId: ReadonlyMap<string, AttackObject>;
  readonly names: TrieNode;
}

// Aliases that are ordinary words or too generic to link by name alone, whatever their case.
const NEVER_BY_NAME: ReadonlySet<string> = new Set(['at', 'page', 'cmd', 'ping', 'tor', 'sys', 'data', 'shell', 'mis', 'sharp', 'hi', 'ps', 'dns', 'ftp', 'ssh', 'rdp', 'vnc', 'mail', 'file', 'files', 'run', 'task', 'windows', 'linux', 'pass', 'word', 'excel', 'office', 'chrome', 'group', 'team', 'apt', 'agent', 'client', 'server', 'remote', 'admin', 'proxy', 'backdoor', 'trojan', 'loader', 'dropper', 'downloader', 'stealer', 'spy', 'bot', 'worm', 'virus', 'ransomware', 'tool', 'tools', 'unknown', 'none', 'other', 'dark']);

// Group and software names that are also English words, read from the ATT&CK 18.1 list of
// single-word capitalised names: they need a cue word nearby, like the corpus' common words.
const ENGLISH_WORD_NAMES: ReadonlySet<string> = new Set(
  ('agenda anchor apostle armageddon aurora avenger axiom bitter blackfly calendar chromium electrum cannon carbon chaos chimera cicada cleaver ' +
    'covenant crimson crutch cuba denis disco donut dragonfly embargo empire epic equation expand explosive ferocious flame ' +
    'flamer gazer havoc inception james kevin leviathan lucifer lurid machete mango mantis matryoshka maze meteor milan ' +
    'mirage mosquito mythic net ninja octopus pandora patchwork photo play pony prestige proton raindrop rancor rattlesnake ' +
    'reaper reaver reg responder route rover royal ruler samurai scorpion shark sidewinder silence sliver snake soldier ' +
    'solar spark strider swallowtail tick trinity waterbug whitefly wiper').split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;

function tokensOf(s: string): string[] {
  return [...s.matchAll(WORD)].map((m) => m[0].toLowerCase());
}

function caseRuleOf(alias: string): NameEntry['caseRule'] {
  // Names with digits, inner capitals (PlugX, PowerShell) or all capitals are distinctive in any case.
  if (/\p{N}/u.test(alias) || /\p{Ll}\p{Lu}/u.test(alias) || (alias.length >= 3 && alias === alias.toUpperCase() && /\p{Lu}/u.test(alias))) return 'any';
  return alias.length >= 4 ? 'exact-or-upper' : 'exact';
}

/** Builds the in-memory lookup from the stored table. */
export function fromAttackLookupArtefact(a: AttackLookupArtefact): AttackLookup {
  if (a.format !== ATTACK_LOOKUP_FORMAT) throw new Error(`attack lookup: format ${a.format}, expected ${ATTACK_LOOKUP_FORMAT}`);
  const common = new Set([...a.commonWords, ...ENGLISH_WORD_NAMES]);
  const byId = new Map<string, AttackObject>();
  const byStixId = new Map<string, AttackObject>();
  const names: TrieNode = { next: new Map(), entries: [] };
  for (const [id, stixId, name, kind, aliases, replacedBy] of a.objects) {
    const object: AttackObject = { id, stixId, name, kind, aliases, replacedBy };
    byId.set(id, object);
    byStixId.set(stixId, object);
    if ((kind !== 'group' && kind !== 'software') || replacedBy !== null) continue;
    for (const alias of new Set([name, ...aliases])) {
      const toks = tokensOf(alias);
      const lower = alias.toLowerCase();
      if (toks.length === 0 || alias.length < 3 || NEVER_BY_NAME.has(lower)) continue;
      const ordinaryWord = toks.length === 1 && common.has(lower);
      const allCaps = alias === alias.toUpperCase();
      // An ordinary word spelt in capitals ("CALENDAR", "BITTER") is a name only in capitals.
      const caseRule = ordinaryWord && allCaps ? 'exact' : caseRuleOf(alias);
      // Shapes such as "PsExec" or "APT29" are names whatever a corpus says about the word.
      const isCommon = ordinaryWord && caseRule !== 'any' && !allCaps;
      let node = names;
      for (const t of toks) {
        let child = node.next.get(t);
        if (child === undefined) {
          child = { next: new Map(), entries: [] };
          node.next.set(t, child);
        }
        node = child;
      }
      node.entries.push({ object, alias, caseRule, common: isCommon });
    }
  }
  return { byId, byStixId, names };
}

// ---- explicit ids -------------------------------------------------------------------------

const EXPLICIT_ID = /(?<![\p{L}\p{N}_.-])(AML\.(?:TA\d{4}|T\d{4}(?:\.\d{3})?|M\d{4})|TA\d{4}|T\d{4}(?:[./]\d{3})?|[GSMC]\d{4})(?![\p{L}\p{N}_]|\.\d)/gu;

/**
 * ATT&CK and ATLAS ids written in the text (T1059.001, T1059/001 as in ATT&CK URLs, TA0001, G0016,
 * S0154, M1036, C0015, AML.T0051.000, AML.TA0002, AML.M0015) that name a known object. A revoked
 * id is linked to the object that replaced it.
 */
export function findExplicitIds(lookup: AttackLookup, text: string): Mention[] {
  const out: Mention[] = [];
  for (const m of text.matchAll(EXPLICIT_ID)) {
    const raw = (m[1] as string).replace('/', '.');
    let object = lookup.byId.get(raw);
    for (let hops = 0; object !== undefined && object.replacedBy !== null && hops < 4; hops++) object = lookup.byId.get(object.replacedBy);
    if (object === undefined || object.replacedBy !== null) continue;
    out.push({ object, start: m.index, end: m.index + (m[1] as string).length });
  }
  return out;
}

// ---- names and aliases --------------------------------------------------------------------

function surfaceMatches(entry: NameEntry, surface: string): boolean {
  if (surface === entry.alias) return true;
  if (entry.caseRule === 'any') return surface.toLowerCase() === entry.alias.toLowerCase();
  if (entry.caseRule === 'exact-or-upper') return surface === entry.alias.toUpperCase();
  return false;
}

// Words that say a name is software or a group: an alias that is also an ordinary word ("Royal",
// "Explosive", "Net") is linked only with one of them within three words.
const CUE_WORDS: ReadonlySet<string> = new Set(
  ('malware ransomware backdoor backdoors trojan rat loader dropper downloader stealer infostealer implant botnet worm wiper ' +
    'family variant variants sample samples payload payloads beacon tool tools toolkit utility framework group groups actor ' +
    'actors apt gang operators operator affiliate affiliates campaign aka alias command commands binary executable').split(' '),
);

function hasCue(words: readonly { lower: string }[], first: number, last: number): boolean {
  for (let k = Math.max(0, first - 3); k <= Math.min(words.length - 1, last + 3); k++) {
    if ((k < first || k > last) && CUE_WORDS.has((words[k] as { lower: string }).lower)) return true;
  }
  return false;
}

// A name glued to a dot, slash, backslash, @, underscore or hyphen is part of a file name, path or
// address ("mde.ps1", "emotet-loader"), not a mention.
function gluedBefore(text: string, start: number): boolean {
  const c = text[start - 1];
  return c === '.' || c === '/' || c === '\\' || c === '@' || c === '_' || c === '-';
}

/**
 * Groups and software named in the text by their ATT&CK name or an alias: whole words only, case
 * as ATT&CK writes it (distinctive names such as "PlugX" or "APT29" in any case), longest name
 * first, tokens separated by at most a space, hyphen, dot or slash, never glued to a file name
 * or path. Aliases that are ordinary words are linked only exactly as capitalised and within three
 * words of a cue such as "malware", "ransomware" or "group".
 */
export function findNames(lookup: AttackLookup, text: string): Mention[] {
  const words = [...text.matchAll(WORD)].map((m) => ({ start: m.index, end: m.index + m[0].length, lower: m[0].toLowerCase() }));
  const out: Mention[] = [];
  let i = 0;
  while (i < words.length) {
    if (gluedBefore(text, (words[i] as (typeof words)[number]).start)) {
      i++;
      continue;
    }
    let node: TrieNode | undefined = lookup.names;
    let best: { entry: NameEntry; end: number; next: number } | undefined;
    for (let j = i; j < words.length; j++) {
      const w = words[j] as (typeof words)[number];
      if (j > i) {
        const gap = text.slice((words[j - 1] as (typeof words)[number]).end, w.start);
        if (!/^(?:[ \-./]|[ ]?[-/][ ]?)$/.test(gap)) break;
      }
      node = node.next.get(w.lower);
      if (node === undefined) break;
      if (node.entries.length === 0) continue;
      const start = (words[i] as (typeof words)[number]).start;
      const surface = text.slice(start, w.end);
      const entry = node.entries.find((e) => surfaceMatches(e, surface) && (!e.common || hasCue(words, i, j)));
      if (entry !== undefined) best = { entry, end: w.end, next: j + 1 };
    }
    if (best === undefined) {
      i++;
      continue;
    }
    const start = (words[i] as (typeof words)[number]).start;
    out.push({ object: best.entry.object, start, end: best.end });
    i = best.next;
  }
  return out;
}
