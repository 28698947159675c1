// The bulk matcher: every active indicator compiled into shared indexes, so that one observation costs a
// few hash probes whatever the number of indicators, and only candidates reach the full evaluator.
//
// - Equality keys per object path (`ipv4-addr:value`, `file:hashes.'SHA-256'`, …): a hash of value →
//   postings. IPv4 values of `ipv4-addr:value` are keyed by their 32-bit number (parseIpv4 accepts only the
//   canonical dotted quad, so equal numbers are equal strings), which halves their memory.
// - IP blocks (ISSUBSET) per path in an IpPrefixIndex; substrings (LIKE fragments, required literals of
//   MATCHES) per path in an Aho–Corasick automaton.
// - Leaves no anchor can witness are evaluated on every observation ("always" list) that holds an SCO
//   they may hold on (scoNeedsOf: one of their types with the first key of their path).
// A posting is either a slot number — an indicator whose pattern is decided by the hit itself, for which
// nothing but its id, name and confidence is kept — or a leaf of a compiled pattern, evaluated when hit.
// Patterns over several observations (AND, FOLLOWEDBY, qualifiers) keep, per indicator, a bounded buffer
// of the recent observations on which one of their leaves held, and are evaluated over that buffer.
// `screen` answers the raw-line screen (screen-json-line.ts), which passes over lines no index can hit
// without parsing them: fingerprints of every string equality key, the number keys, the IP blocks, and
// the substring anchors as sets of required texts per SCO type (a `.com` that only a domain-name's value
// must end with does not send every URL to the parser), and what a line must hold for a leaf evaluated on
// every observation to hold (one partner's `!=` does not send all traffic to the parser).
// Postings of a removed exact indicator, which keeps no pattern, are swept out of the equality keys once
// there are as many as live ones, and its IP blocks removed at once (the few it has are kept for that).
// Patterns are bounded one by one (pattern/pattern-limits.ts), and what the indicators of one partner
// cost together by its source budget (sourceMatchingBudget), so that many just within the limits cannot
// make every observation evaluate all of them; the node's own are never counted.
import { evaluatePattern, holdsOn } from '../pattern/evaluate-pattern.ts';
import { parsePattern } from '../pattern/parse-pattern.ts';
import type { ComparisonExpression, PatternAst } from '../pattern/pattern-ast.ts';
import { selectPathValues, type ResolveReference } from '../pattern/select-path-values.ts';
import { runWithStepBudget, stepBudget, type StepBudget } from '../pattern/match-budget.ts';
import { catchAllReason } from '../pattern/catch-all.ts';
import { patternOverLimit, patternOverLimitCode, patternTextOverLimit, sourceBudgetExceeded, type PatternLimitExceeded } from '../pattern/pattern-limits.ts';
import { parseIpv4 } from '../stix/ip-address.ts';
import { IpPrefixIndex } from './ip-prefix-index.ts';
import { LiteralSets, SubstringIndex } from './aho-corasick.ts';
import { PropertyNames, type LiteralScreen, type ValueScreen } from './screen-json-line.ts';
import { FingerprintSet, fingerprintOf } from './value-fingerprints.ts';
import { inactiveReason } from './is-active-indicator.ts';
import { isRecord, toObservedData, type JsonRecord, type LogObservation } from './log-observation.ts';
import { planPattern, scoNeedsOf, staysInItsSco, type Anchor, type AnchorPath, type MatchPlan, type PlannedLeaf, type ScoNeed } from './plan-pattern.ts';

export interface MatchedObservable {
  readonly type: string;
  /** The object path that matched, e.g. `file:hashes.'SHA-256'`. */
  readonly path: string;
  readonly value: string;
}

export interface IndicatorMatch {
  readonly indicatorId: string;
  /** Which of the versions compiled under this id matched (BulkMatcher.add's `variant`); absent or 0 unless several are. */
  readonly variant?: number;
  readonly name: string | undefined;
  /** The confidence given when the indicator was added (its effective confidence), if any. */
  readonly confidence: number | undefined;
  readonly observable: MatchedObservable;
  /** The observations that make up the match, the triggering one last. */
  readonly observations: readonly LogObservation[];
}

export type AddOutcome =
  | { readonly added: true; readonly mode: 'exact' | 'evaluated' | 'always' }
  | {
      readonly added: false;
      readonly reason: string;
      /**
       * Set when the pattern is valid but past a planning limit (pattern/pattern-limits.ts), or its
       * source's indicators together past the source budget (`source-budget`).
       */
      readonly limit?: PatternLimitExceeded;
    };

export interface BulkMatcherOptions {
  /** How long observations of a multi-observation pattern without WITHIN are kept for it (default 1 h). */
  readonly correlationSeconds?: number;
  /** Observations kept per multi-observation pattern (default 64). */
  readonly bufferLimit?: number;
  /**
   * Steps of MATCHES and LIKE spent on one observation, all its candidates together (default
   * defaultObservationStepBudget): what a tested value costs is its length times the live states of
   * the expression, up to 10,000 a character. Tests left once it is spent do not hold (counted in
   * stats().overBudget). It is divided evenly between the sources with candidates (add()'s `source`,
   * the node's own being one), and each candidate's `[…]` is first tested with a fair share of what its
   * source has left (that divided by its candidates left), partners' first, the node's own then with
   * all they left; one cut short is tested again with what all left once all have been, the node's own first: a costly one cannot leave those tested after it
   * untested, nor one partner's many the node's own. A partner's tests of every kind spend
   * partnerTestSteps each too. The evaluation of a pattern over several observations spends its
   * candidate's share too (pattern/evaluate-pattern.ts).
   */
  readonly observationStepBudget?: number;
  /**
   * Steps of MATCHES and LIKE spent by all the observations matched in one turn of the event loop
   * (none by default): for a caller that matches a batch synchronously between turns (the running
   * node, 16 KB of lines a turn), so that many observations each within their own budget cannot
   * together stall it. Observations matched once it is spent are tested with what is left (counted
   * like any other over budget); it is renewed by the next turn (setImmediate). Partners' candidates
   * (add()'s `source`) together spend at most half of it, so that the node's own are still tested on
   * the turn's later lines.
   */
  readonly turnStepBudget?: number;
  /** Told of each observation whose budget ran out, once it is matched (a log line, a metric). */
  readonly onOverBudget?: (event: OverBudget) => void;
  /**
   * Matching cost units the indicators of one source (add()'s `source`: the partner they came from)
   * may hold together (default defaultSourceMatchingBudget); see matchingCostOf. Past it, that
   * source's next indicators are refused (`source-budget`); the node's own are never counted.
   */
  readonly sourceMatchingBudget?: number;
}

/**
 * Steps one observation may cost in MATCHES and LIKE: ~0.1 s of the engine (100–300 million steps a
 * second), enough for a 1 MB value against a small expression (~18 million steps) and far below the
 * 20 s a 256 KB URL costs against an expression of 8,000 instructions.
 */
export const defaultObservationStepBudget = 20_000_000;

/**
 * What the indicators of one source may cost the matcher together, in the units of matchingCostOf: 1,000
 * tests evaluated on every observation (each observation then costs ~1,000 tests for that partner,
 * where 100,000 indicators each within every pattern limit would cost up to 100 million), or 100,000
 * evaluated when an observation hits their indexes, or a mix. Indicators the indexes decide outright
 * cost nothing, so a partner's feed of a million hashes or addresses is compiled whole.
 */
export const defaultSourceMatchingBudget = 100_000;

/**
 * How many times a test evaluated on every observation (a `[…]` without anchors: `!=`, NOT, a MATCHES
 * without a literal) costs one evaluated only when an observation hits the `[…]`'s index.
 */
export const everyObservationWeight = 100;

/**
 * Steps of the budget (observationStepBudget, turnStepBudget) each test of a partner's `[…]` spends
 * before it runs, whatever its operator (~0.5 µs of the MATCHES engine, about what a test costs): its
 * source's part of the budget then bounds every kind of test, not only MATCHES and LIKE, so that many
 * candidates of one partner on a common anchor cannot be tested by the thousands on each observation.
 * A partner within its source budget's 1,000 tests on every observation spends 100,000 steps a line.
 */
export const partnerTestSteps = 100;

/**
 * Indicators of one partner matched by one observation, exact and evaluated together: past these, its
 * others are not matched there, and are counted and told as over budget. 40,000 exact ones naming one
 * value (free against the source budget) each raised an alert, and a sighting stored and shared, every
 * time an observation held it; so did 40,000 evaluated ones of 2 tests each (`= 'v' AND != 'x'`,
 * within both the source budget and the partner's part of the step budget). A real feed names one
 * value a handful of times.
 */
export const partnerMatchesPerObservation = 1_000;

/**
 * How add()'s reason for a pattern past a planning limit begins: `pattern over limit: comparisons: …`.
 * The indicator is valid STIX (kept, shared) but not compiled: see pattern/pattern-limits.ts.
 */
export const patternOverLimitRefusal = 'pattern over limit';

function overLimit(limit: PatternLimitExceeded): AddOutcome {
  return { added: false, reason: `${patternOverLimitRefusal}: ${limit.message} (${patternOverLimitCode})`, limit };
}

/** Why add() refuses a pattern that matches nearly every observation (pattern/catch-all.ts tells which test). */
export const catchAllRefusal = 'catch-all pattern (matches nearly every observation)';

/**
 * An observation on which some comparisons went untested (the step budget ran out), or some of a
 * partner's indicators were left unmatched (past partnerMatchesPerObservation).
 */
export interface OverBudget {
  /** Always this, for logs and alerts on it. */
  readonly code: 'ENT_MATCH_OVER_BUDGET';
  readonly source: string;
  readonly line: number;
  /** Comparisons left undecided (each counted as not holding), and a partner's indicators left unmatched. */
  readonly untested: number;
  /** Indicators at least one of whose tests ran out of budget; of a partner's left unmatched, the first 20. */
  readonly indicatorIds: readonly string[];
}

export interface BulkMatcherStats {
  readonly indicators: number;
  readonly exact: number;
  readonly evaluated: number;
  readonly alwaysLeaves: number;
  readonly equalityKeys: number;
  readonly ipBlocks: number;
  readonly substrings: number;
  /**
   * Equality postings left behind by removed exact indicators (filtered out at match time), swept out
   * once there are more than the live ones (of exact indicators and evaluated leaves) and than
   * staleSweepMinimum.
   */
  readonly stalePostings: number;
  /** Observations matched so far that were told as over budget (OverBudget: tests untested, or a partner's matches past its cap). */
  readonly overBudget: number;
  /** Indicators refused so far because their source's indicators together were past its budget. */
  readonly overSourceBudget: number;
}

type Posting = number | LeafEntry;
type Postings = Posting | Posting[];

interface CompiledPattern {
  readonly slot: number;
  /** Where it came from (add()'s `source`), charged `cost`; undefined for the node's own, never charged. */
  readonly source: string | undefined;
  readonly cost: number;
  /** Its source's group (groupOf) in match()'s division of an observation's step budget: 0 for the node's own. */
  readonly group: number;
  readonly ast: PatternAst;
  readonly anyLeafMatches: boolean;
  readonly horizonSeconds: number;
  readonly leaves: LeafEntry[];
  buffer: { observation: LogObservation; seconds: number }[];
}

interface LeafEntry {
  readonly pattern: CompiledPattern;
  readonly planned: PlannedLeaf;
  /** For a leaf without anchors: what an SCO must have for it to hold there (scoNeedsOf); empty otherwise. */
  readonly needs: readonly ScoNeed[];
  /** Steps its test spends of the budget before it runs: partnerTestSteps a test for a partner's, 0 for the node's own. */
  readonly charge: number;
}

interface PathIndex {
  readonly path: AnchorPath;
  /** Set when the path is plain keys without references: read directly instead of selectPathValues. */
  readonly keys: readonly string[] | undefined;
  readonly singleKey: string | undefined;
  readonly ipv4Keys: boolean;
  equal: Map<string | number, Postings> | undefined;
  prefixes: IpPrefixIndex<Posting> | undefined;
  substrings: SubstringIndex<Posting> | undefined;
}

/**
 * Stale equality postings (of removed exact indicators) tolerated before a sweep, whatever the live
 * ones: a sweep walks every equality posting, so it waits for more stale postings than live ones of
 * every kind (exact indicators' and evaluated leaves'), and for this many when there are few.
 */
export const staleSweepMinimum = 1024;

const uuidPattern = /^indicator--([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/;

function normalise(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return s.normalize('NFC');
  return s;
}

/**
 * FNV-1a from an offset of its own: the id table is keyed by this node's seed, since partners choose
 * their indicators' ids (BulkMatcher.hashSeed).
 */
function fnv(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * The id table's hash of a UUID's four words, mixed with a seed: the first word alone, which a partner
 * chooses, put 20,000 ids sharing it on one run of the table, each add probing all the others.
 */
function mixWords(a: number, b: number, c: number, d: number, seed: number): number {
  let h = Math.imul(seed ^ a, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16) ^ d, 0x27d4eb2f);
  return (h ^ (h >>> 15)) | 0;
}

/** Two hex digits per byte value: Number#toString(16) is slow on numbers beyond 31 bits. */
const hexBytes = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex8(n: number): string {
  return (hexBytes[(n >>> 24) & 255] as string) + (hexBytes[(n >>> 16) & 255] as string) + (hexBytes[(n >>> 8) & 255] as string) + (hexBytes[n & 255] as string);
}

/** The four 32-bit words of an `indicator--<uuid>` matched by uuidPattern. */
function uuidWordsOf(m: RegExpExecArray): [number, number, number, number] {
  const [, a, b, c, d, e] = m as unknown as [string, string, string, string, string, string];
  return [parseInt(a, 16), parseInt(b + c, 16), parseInt(d + e.slice(0, 4), 16), parseInt(e.slice(4), 16)];
}

export class BulkMatcher {
  // Per-slot data in flat arrays: an indicator id `indicator--<uuid>` is four 32-bit words.
  private capacity = 1024;
  private slots = 0;
  private live = 0;
  private uuidWords = new Uint32Array(this.capacity * 4);
  private confidences = new Int16Array(this.capacity);
  private alive = new Uint8Array(this.capacity);
  /** slot → the last observation (round) an exact hit of it was delivered in: each is matched once a round, in constant time. */
  private hitRound = new Uint32Array(this.capacity);
  private round = 0;
  /** slot → the group of the partner an exact indicator came from (groupOf), 0 for the node's own. */
  private slotGroups = new Uint16Array(this.capacity);
  private readonly otherIds = new Map<number, string>();
  private readonly names = new Map<number, string>();
  /** slot → its variant, when not 0: kept apart because few indicators have more than one version compiled. */
  private readonly variants = new Map<number, number>();
  /**
   * id → slot, for remove() and has(): open addressing over a typed array (slot + 1; 0 empty, -1 removed),
   * hashed by the UUID's first 32 bits — a few bytes per indicator where a Map would take tens.
   */
  private idTable = new Int32Array(2048);
  private idTableUsed = 0;
  /**
   * Keys the id table's hash (mixWords): partners choose their ids, and a fixed hash lets them choose
   * ids that all fall on one run of the table. Per matcher, unknown outside it.
   */
  private readonly hashSeed = Math.floor(Math.random() * 0x100000000) | 0;
  private readonly compiled = new Map<number, CompiledPattern>();
  private readonly paths = new Map<string, PathIndex>();
  private readonly pathsByType = new Map<string, PathIndex[]>();
  private readonly always = new Set<LeafEntry>();
  /**
   * What a line must hold for some leaf of `always` to hold on it: per need, its type and its property
   * as the raw-line screen reads them, between quotes (screen.everyObservationNeeds).
   */
  private readonly alwaysNeeds = new LiteralSets();
  private exactCount = 0;
  /** Equality postings of removed exact indicators still in the indexes (sweepStalePostings). */
  private staleCount = 0;
  /**
   * Equality postings in the indexes, of every kind (exact indicators' slots, stale ones among them, and
   * leaves of evaluated patterns): what a sweep walks, so what the stale ones must outnumber first.
   */
  private equalPostings = 0;
  /**
   * slot → the equality postings of an exact indicator when not 1 (an IN, an OR): counted stale when it
   * is removed. Most have one, and keep nothing here.
   */
  private readonly equalPostingCounts = new Map<number, number>();
  /** slot → the IP blocks of an exact indicator that has some, unposted when it is removed. */
  private readonly exactBlocks = new Map<number, Anchor[]>();
  // For the screen: kept beside the per-path indexes, never narrower than them (withdrawn keys stay
  // until a sweep of stale postings, which makes them anew from the keys left).
  private keyFingerprints = new FingerprintSet();
  private readonly numberKeys = new Set<number>();
  /** Required-text sets of every substring anchor: for values whose SCO's type the screen does not know. */
  private readonly screenAllSubstrings = new LiteralSets();
  /** Those of anchors on paths that follow a reference: their values lie in an SCO of any type. */
  private readonly screenSubstringsAnywhere = new LiteralSets();
  /** Those of anchors on paths that stay inside their SCO, by the SCO type the path names. */
  private readonly screenSubstringsByType = new Map<string, LiteralSets>();
  /** The screens of the types above, found by the type's text in a line; rebuilt when a type is added. */
  private typeScreens: { readonly names: PropertyNames; readonly screens: readonly LiteralScreen[]; readonly groups: WeakMap<readonly string[], LiteralScreen> } | undefined;
  private readonly prefixIndexes: IpPrefixIndex<Posting>[] = [];
  /** Counts the changes to what the screen answers (every post, unpost, and change of `always`). */
  private screenGeneration = 0;
  /** The last key of every path indexed; rebuilt when a path is added. */
  private propertyNames: PropertyNames | undefined;
  private readonly correlationSeconds: number;
  private readonly bufferLimit: number;
  private readonly observationStepBudget: number;
  private readonly onOverBudget: ((event: OverBudget) => void) | undefined;
  private overBudgetCount = 0;
  private readonly sourceMatchingBudget: number;
  /** source → what its compiled indicators cost together (matchingCostOf), while it has some compiled. */
  private readonly sourceCosts = new Map<string, number>();
  private overSourceBudgetCount = 0;
  /** source → its group in match()'s division of an observation's step budget (0 is the node's own). */
  private readonly sourceGroups = new Map<string, number>();
  /**
   * Compiled patterns charged to a partner (CompiledPattern.source): while there are none, every
   * candidate is the node's own and match() skips counting them by group. Not sourceGroups.size, which
   * never shrinks and counts partners with exact indicators alone (a hash feed), whose hits are never
   * candidates.
   */
  private partnerPatterns = 0;
  /** Per group, while an observation is matched: its candidates not yet tested, and the steps it has left. */
  private groupLeft = new Int32Array(1);
  private groupSteps = new Float64Array(1);
  /** The groups with candidates on the observation being matched. */
  private readonly presentGroups: number[] = [];
  /** Per group, the matches of its partner in the round (groupHitRound) that groupHits counts. */
  private groupHits = new Int32Array(1);
  private groupHitRound = new Uint32Array(1);
  /** Indicators of the observation left unmatched: their partner had partnerMatchesPerObservation already. */
  private roundSkipped = 0;
  private readonly turnStepBudget: number | undefined;
  /** Steps spent in the current turn of the event loop (with turnStepBudget), reset by a setImmediate. */
  private turnSpent = 0;
  /** What partners' candidates spent of it: together at most half of turnStepBudget. */
  private partnersTurnSpent = 0;
  private turnResetScheduled = false;

  constructor(options: BulkMatcherOptions = {}) {
    this.correlationSeconds = options.correlationSeconds ?? 3600;
    this.bufferLimit = options.bufferLimit ?? 64;
    this.observationStepBudget = options.observationStepBudget ?? defaultObservationStepBudget;
    this.onOverBudget = options.onOverBudget;
    this.turnStepBudget = options.turnStepBudget;
    this.sourceMatchingBudget = options.sourceMatchingBudget ?? defaultSourceMatchingBudget;
  }

  /**
   * What any observation must hold for match() to find something: a value whose fingerprint is an
   * equality key's, an indexed number, a value in an indexed block or containing an indexed substring —
   * unless some leaf is evaluated on every observation.
   */
  readonly screen: ValueScreen = {
    generation: () => this.screenGeneration,
    everyObservationNeeds: () => (this.alwaysNeeds.size > 0 ? this.alwaysNeeds : undefined),
    indexedProperties: () => (this.propertyNames ??= new PropertyNames([...this.paths.values()].map((index) => lastKeyOf(index.path)))),
    mayEqualString: (fingerprint) => this.keyFingerprints.has(fingerprint),
    hasNumberKeys: () => this.numberKeys.size > 0,
    mayEqualNumber: (value) => this.numberKeys.has(value),
    hasIpBlocks: () => this.prefixIndexes.some((index) => index.size > 0),
    mayBeInIpBlock: (text) => {
      let found = false;
      for (const index of this.prefixIndexes) {
        index.lookup(text, () => (found = true));
        if (found) return true;
      }
      return false;
    },
    hasSubstrings: () => this.screenAllSubstrings.size > 0,
    allSubstrings: () => this.screenAllSubstrings,
    substringsInType: (text, start, end) => {
      const { names, screens } = (this.typeScreens ??= this.buildTypeScreens());
      const at = names.indexOf(text, start, end);
      return at < 0 ? this.screenSubstringsAnywhere : (screens[at] as LiteralScreen);
    },
    substringsInTypes: (types) => {
      const { groups } = (this.typeScreens ??= this.buildTypeScreens());
      // Kept per list: a caller asks with the same constant list for every record.
      let group = groups.get(types);
      if (group === undefined) {
        const sets: LiteralSets[] = [this.screenSubstringsAnywhere];
        for (const type of types) {
          const own = this.screenSubstringsByType.get(type);
          if (own !== undefined && !sets.includes(own)) sets.push(own);
        }
        group = {
          occursIn: (text, start, end) => {
            for (const set of sets) if (set.occursIn(text, start, end)) return true;
            return false;
          },
        };
        groups.set(types, group);
      }
      return group;
    },
  };

  private buildTypeScreens(): { names: PropertyNames; screens: LiteralScreen[]; groups: WeakMap<readonly string[], LiteralScreen> } {
    const types = [...this.screenSubstringsByType.keys()];
    const anywhere = this.screenSubstringsAnywhere;
    const screens = types.map((type): LiteralScreen => {
      const own = this.screenSubstringsByType.get(type) as LiteralSets;
      return { occursIn: (text, start, end) => own.occursIn(text, start, end) || anywhere.occursIn(text, start, end) };
    });
    return { names: new PropertyNames(types), screens, groups: new WeakMap() };
  }

  /** Where the screen keeps a substring anchor's required texts: by its SCO's type, or for any SCO. */
  private screenSubstringsOf(path: AnchorPath): LiteralSets {
    if (!staysInItsSco(path)) return this.screenSubstringsAnywhere;
    let sets = this.screenSubstringsByType.get(path.objectType);
    if (sets === undefined) {
      sets = new LiteralSets();
      this.screenSubstringsByType.set(path.objectType, sets);
      this.typeScreens = undefined;
    }
    return sets;
  }

  /**
   * Compiles one indicator in. An indicator already present under the same id and variant is replaced
   * (a newer version); an inactive one (revoked, expired, not yet valid, not stix) removes the older
   * version. `variant` (0 by default) lets several versions of one id be compiled side by side (the
   * latest of different collections): each match tells which one matched.
   * `source`: the organisation it came from (its provenance), whose indicators together may cost at
   * most sourceMatchingBudget; absent for the node's own, never refused for what others cost.
   */
  add(
    indicator: JsonRecord,
    options: {
      now: Date;
      /** Overrides the indicator's own `confidence` (e.g. its effective confidence). */
      confidence?: number | undefined;
      variant?: number;
      source?: string | undefined;
    },
  ): AddOutcome {
    const id = indicator['id'];
    if (typeof id !== 'string') return { added: false, reason: 'no id' };
    const variant = options.variant ?? 0;
    this.remove(id, variant);
    const inactive = inactiveReason(indicator, options.now);
    if (inactive !== undefined) return { added: false, reason: inactive };
    const text = indicator['pattern'];
    // Before parsing: megabytes of pattern are not worth reading to be left out.
    const tooLong = typeof text === 'string' ? patternTextOverLimit(text) : undefined;
    if (tooLong !== undefined) return overLimit(tooLong);
    const parsed = parsePattern(text as string);
    if (!parsed.ok) return { added: false, reason: `invalid pattern: ${parsed.error[0]?.message ?? ''}` };
    // Before anything walks the tree (the catch-all test, the planner): what is past a limit costs nothing more.
    const over = patternOverLimit(parsed.value);
    if (over !== undefined) return overLimit(over);
    // An indicator whose wildcard matches nearly everything (`LIKE '%'`, `MATCHES '.*'`) singles nothing
    // out: compiled, it would make an alert, and a sighting with the value as evidence, of every
    // distinct value seen. Those that hold by exclusion (`!= 'x'`, NOT) are still compiled — the
    // screen and its tests rely on them as leaves evaluated on every observation — and their
    // evidence, like every catch-all's, is never shared (share-sightings.ts). One reason for all, so
    // that the loader's summary counts them together.
    if (catchAllReason(parsed.value, { exclusions: false }) !== undefined) return { added: false, reason: catchAllRefusal };
    const plan = planPattern(parsed.value);
    const exact = plan.anyLeafMatches && plan.leaves.every((leaf) => leaf.exact && leaf.anchors !== undefined);
    // One partner's indicators, each within every limit, must not together cost every observation
    // without bound: past its budget, its next ones are left out (the first compiled stay). An exact
    // indicator costs nothing (a hash probe finds it or not), and the node's own are never counted.
    const source = exact ? undefined : options.source;
    const cost = source === undefined ? 0 : matchingCostOf(plan);
    const spent = source === undefined ? 0 : (this.sourceCosts.get(source) ?? 0) + cost;
    if (source !== undefined && spent > this.sourceMatchingBudget) {
      this.overSourceBudgetCount++;
      return overLimit(sourceBudgetExceeded(source, spent, this.sourceMatchingBudget));
    }
    const stated = typeof indicator['confidence'] === 'number' ? indicator['confidence'] : undefined;
    const slot = this.allocate(id, typeof indicator['name'] === 'string' ? indicator['name'] : undefined, options.confidence ?? stated, variant);
    if (exact) {
      if (options.source !== undefined) this.slotGroups[slot] = this.groupOf(options.source);
      let equalPostings = 0;
      let blocks: Anchor[] | undefined;
      for (const leaf of plan.leaves) {
        for (const anchor of leaf.anchors ?? []) {
          if (!this.post(anchor, slot)) continue;
          if (anchor.kind === 'equal') equalPostings++;
          else (blocks ??= []).push(anchor);
        }
      }
      if (equalPostings !== 1) this.equalPostingCounts.set(slot, equalPostings);
      if (blocks !== undefined) this.exactBlocks.set(slot, blocks);
      this.exactCount++;
      return { added: true, mode: 'exact' };
    }
    if (source !== undefined) {
      this.sourceCosts.set(source, spent);
      this.partnerPatterns++;
    }
    const pattern: CompiledPattern = {
      slot,
      source,
      cost,
      group: source === undefined ? 0 : this.groupOf(source),
      ast: parsed.value,
      anyLeafMatches: plan.anyLeafMatches,
      horizonSeconds: plan.withinSeconds ?? this.correlationSeconds,
      leaves: [],
      buffer: [],
    };
    let anyAlways = false;
    for (const planned of plan.leaves) {
      const needs = planned.anchors === undefined ? scoNeedsOf(planned.node.comparison) : [];
      const entry: LeafEntry = { pattern, planned, needs, charge: source === undefined || planned.exact ? 0 : testsIn(planned.node.comparison) * partnerTestSteps };
      pattern.leaves.push(entry);
      if (planned.anchors === undefined) {
        this.always.add(entry);
        for (const need of needs) this.alwaysNeeds.add(quotedNeed(need));
        this.screenGeneration++;
        anyAlways = true;
      } else for (const anchor of planned.anchors) this.post(anchor, entry);
    }
    this.compiled.set(slot, pattern);
    return { added: true, mode: anyAlways ? 'always' : 'evaluated' };
  }

  /** The group of a source's candidates (match), given at its first indicator and kept: partners are few. */
  private groupOf(source: string): number {
    let group = this.sourceGroups.get(source);
    if (group === undefined) {
      group = this.sourceGroups.size + 1;
      this.sourceGroups.set(source, group);
      if (group >= this.groupLeft.length) {
        const size = this.groupLeft.length * 2;
        this.groupLeft = grown(this.groupLeft, size);
        this.groupSteps = grown(this.groupSteps, size);
        this.groupHits = grown(this.groupHits, size);
        this.groupHitRound = grown(this.groupHitRound, size);
      }
    }
    return group;
  }

  /**
   * Withdraws an indicator (revoked, deleted, superseded): one variant of it, or every variant when
   * none is named; false when none was present.
   */
  remove(indicatorId: string, variant?: number): boolean {
    if (variant !== undefined) return this.removeSlot(indicatorId, this.findSlot(indicatorId, variant));
    let removed = false;
    while (this.removeSlot(indicatorId, this.findSlot(indicatorId))) removed = true;
    return removed;
  }

  private removeSlot(indicatorId: string, slot: number | undefined): boolean {
    if (slot === undefined) return false;
    this.alive[slot] = 0;
    this.live--;
    this.names.delete(slot);
    this.variants.delete(slot);
    const pattern = this.compiled.get(slot);
    if (pattern === undefined) {
      // Exact indicators keep no pattern: their equality postings stay, pointing at a dead slot (never
      // reused), until enough have for a sweep to cost no more than the removals did: a sweep walks every
      // equality posting, an evaluated pattern's too, so it waits for the stale ones to outnumber all the
      // live ones. Their few IP blocks were kept, and go now: an IpPrefixIndex cannot be swept.
      this.exactCount--;
      this.staleCount += this.equalPostingCounts.get(slot) ?? 1;
      this.equalPostingCounts.delete(slot);
      for (const anchor of this.exactBlocks.get(slot) ?? []) this.unpost(anchor, slot);
      this.exactBlocks.delete(slot);
      if (this.staleCount > staleSweepMinimum && this.staleCount > this.equalPostings - this.staleCount) this.sweepStalePostings();
    } else {
      for (const entry of pattern.leaves) {
        if (entry.planned.anchors === undefined) {
          this.always.delete(entry);
          for (const need of entry.needs) this.alwaysNeeds.remove(quotedNeed(need));
          this.screenGeneration++;
        } else for (const anchor of entry.planned.anchors) this.unpost(anchor, entry);
      }
      if (pattern.source !== undefined) {
        this.partnerPatterns--;
        const left = (this.sourceCosts.get(pattern.source) ?? 0) - pattern.cost;
        if (left > 0) this.sourceCosts.set(pattern.source, left);
        else this.sourceCosts.delete(pattern.source);
      }
      this.compiled.delete(slot);
    }
    const mask = this.idTable.length - 1;
    for (let i = this.idHash(indicatorId) & mask; this.idTable[i] !== 0; i = (i + 1) & mask) {
      if (this.idTable[i] === slot + 1) {
        this.idTable[i] = -1;
        break;
      }
    }
    this.otherIds.delete(slot);
    return true;
  }

  /**
   * Drops every equality posting of a removed exact indicator (a dead slot), and makes the screen's
   * fingerprints and number keys anew from the keys left: they held every key ever posted, so a partner
   * revoking distinct values grew them without end and sent ever more lines to the parser. Walking the
   * keys is what the sweep does anyway.
   */
  private sweepStalePostings(): void {
    const alive = this.alive;
    const fingerprints = new FingerprintSet();
    this.numberKeys.clear();
    for (const index of this.paths.values()) {
      const equal = index.equal;
      if (equal === undefined) continue;
      // Deleting and replacing entries of a Map while iterating it visits each remaining one once.
      for (const [key, held] of equal) {
        if (Array.isArray(held)) {
          let kept = 0;
          for (const posting of held) if (typeof posting !== 'number' || alive[posting] === 1) held[kept++] = posting;
          this.equalPostings -= held.length - kept;
          held.length = kept;
          if (kept === 0) equal.delete(key);
          else if (kept === 1) equal.set(key, held[0] as Posting);
        } else if (typeof held === 'number' && alive[held] !== 1) {
          equal.delete(key);
          this.equalPostings--;
          continue;
        }
        if (!equal.has(key)) continue;
        // As post() told the screen of it: an address key (a number) by its dotted quad, which parseIpv4
        // accepts only in canonical form, so the text is the one posted.
        if (typeof key === 'string') fingerprints.add(fingerprintOf(key));
        else if (index.ipv4Keys) fingerprints.add(fingerprintOf(ipv4Text(key)));
        else this.numberKeys.add(key);
      }
    }
    this.keyFingerprints = fingerprints;
    this.staleCount = 0;
    this.screenGeneration++;
  }

  /** Whether some variant of the indicator is compiled. */
  has(indicatorId: string): boolean {
    return this.findSlot(indicatorId) !== undefined;
  }

  stats(): BulkMatcherStats {
    let equalityKeys = 0;
    let ipBlocks = 0;
    let substrings = 0;
    for (const path of this.paths.values()) {
      equalityKeys += path.equal?.size ?? 0;
      ipBlocks += path.prefixes?.size ?? 0;
      substrings += path.substrings?.size ?? 0;
    }
    return {
      indicators: this.live,
      exact: this.exactCount,
      evaluated: this.compiled.size,
      alwaysLeaves: this.always.size,
      equalityKeys,
      ipBlocks,
      substrings,
      stalePostings: this.staleCount,
      overBudget: this.overBudgetCount,
      overSourceBudget: this.overSourceBudgetCount,
    };
  }

  /** One candidate's share of an observation's step budget (match), reused: the hot loop allocates none. */
  private readonly share = stepBudget(0);

  // State of the observation being matched, kept on the instance so the hot loop creates no closures.
  private roundObservation: LogObservation | undefined;
  private roundMatches: IndicatorMatch[] | undefined;
  private roundCandidates: Map<LeafEntry, MatchedObservable> | undefined;
  /** Patterns of the observation already matched, or found not to hold: each is tested once. */
  private readonly roundDone = new Set<CompiledPattern>();
  /** Indicators of the observation on whose tests the budget ran out. */
  private roundOverBudget: string[] | undefined;
  private roundType = '';
  private roundPath = '';

  /** Every indicator the observation matches (with the observations of multi-observation matches). */
  match(observation: LogObservation): IndicatorMatch[] {
    this.roundObservation = observation;
    this.roundMatches = undefined;
    this.roundOverBudget = undefined;
    this.roundSkipped = 0;
    // A new round: no exact hit delivered in it yet (once in 4 billion, the marks are cleared, and the
    // partners' counts of matches with them: one kept from the old round 1 would be taken for round 1's).
    this.round = (this.round + 1) >>> 0;
    if (this.round === 0) {
      this.hitRound.fill(0);
      this.groupHitRound.fill(0);
      this.round = 1;
    }
    this.roundCandidates = undefined;
    const objects = observation.objects;
    for (const ref in objects) {
      const sco = objects[ref] as JsonRecord;
      const type = sco['type'];
      if (typeof type !== 'string') continue;
      const indexes = this.pathsByType.get(type);
      if (indexes === undefined) continue;
      this.roundType = type;
      for (let i = 0; i < indexes.length; i++) {
        const index = indexes[i] as PathIndex;
        this.roundPath = index.path.key;
        const keys = index.keys;
        if (index.singleKey !== undefined) {
          // A one-key path (`value`, `name`) whose key no prototype holds: a plain property read.
          const value = sco[index.singleKey];
          if (value !== undefined) this.probe(index, value);
        } else if (keys !== undefined) {
          let value: unknown = sco;
          for (let k = 0; k < keys.length; k++) {
            const key = keys[k] as string;
            if (!isRecord(value) || !Object.prototype.hasOwnProperty.call(value, key)) {
              value = undefined;
              break;
            }
            value = value[key];
          }
          if (value !== undefined) this.probe(index, value);
        } else {
          const resolve = (key: string): JsonRecord | undefined => {
            const target = Object.prototype.hasOwnProperty.call(objects, key) ? objects[key] : undefined;
            return isRecord(target) ? target : undefined;
          };
          for (const value of selectPathValues(sco, index.path.steps, resolve)) this.probe(index, value);
        }
      }
    }
    let candidates = this.roundCandidates as Map<LeafEntry, MatchedObservable> | undefined;
    let untested = 0;
    if (this.always.size > 0) {
      // Only where it may hold: a leaf that no SCO of the observation meets a need of is not a
      // candidate, so it spends nothing of the budget (its partner's part stays for the others).
      for (const entry of this.always) {
        if (candidates?.has(entry) === true || !meetsANeed(entry.needs, objects)) continue;
        (candidates ??= new Map()).set(entry, describeObservable(observation, entry.planned.node.comparison));
      }
    }
    if (candidates !== undefined) {
      const allowed = this.turnStepBudget === undefined ? this.observationStepBudget : Math.min(this.observationStepBudget, this.turnStepBudget - this.turnSpent);
      const budget = stepBudget(allowed);
      const share = this.share;
      this.roundDone.clear();
      // The budget is divided evenly between the sources with candidates (the node's own is one), so
      // that one partner's many costly candidates, within its source budget, cannot spend what the
      // node's own or another partner's need. With one source, as usual, it has the whole. Partners'
      // candidates are tested first, and the node's own then have all they left, their part at least:
      // a test cut short is retried from its start, so a fixed part would leave the node's own costly
      // test untested beside a partner's that needed next to nothing.
      const groupLeft = this.groupLeft;
      const groupSteps = this.groupSteps;
      const groups = this.presentGroups;
      groups.length = 0;
      if (this.partnerPatterns === 0) {
        // No partner's pattern is compiled (or the node does not federate): every candidate is the node's own.
        groupLeft[0] = candidates.size;
        groups.push(0);
      } else {
        groupLeft.fill(0);
        for (const entry of candidates.keys()) if ((groupLeft[entry.pattern.group] as number)++ === 0) groups.push(entry.pattern.group);
      }
      const part = Math.floor(Math.max(0, allowed) / groups.length);
      // In one turn the partners' candidates together spend at most half its budget: the rest stays
      // for the node's own on the turn's later lines, which partners' costly candidates on every line
      // would otherwise leave with nothing.
      const partnersAllowed = this.turnStepBudget === undefined ? Infinity : Math.max(0, this.turnStepBudget / 2 - this.partnersTurnSpent);
      const partnerGroups = groups.length - (groups.includes(0) ? 1 : 0);
      const partnerPart = partnerGroups === 0 ? 0 : Math.min(part, Math.floor(partnersAllowed / partnerGroups));
      for (const group of groups) groupSteps[group] = group === 0 ? part : partnerPart;
      let partnersSpent = 0;
      /** Candidates whose leaf test ran out of its share: tested again once every other has had its own. */
      let cut: [LeafEntry, MatchedObservable][] | undefined;
      /** Partners' candidates in a pass of their own, before the node's own (which have some). */
      const ownLast = partnerGroups > 0 && partnerGroups < groups.length;
      for (let pass = ownLast ? 0 : 1; pass < 2; pass++) {
        if (ownLast && pass === 1) groupSteps[0] = Math.max(part, budget.remaining);
        for (const [entry, observable] of candidates) {
          const group = entry.pattern.group;
          if (ownLast && (pass === 0) === (group === 0)) continue;
          const left = --(groupLeft[group] as number);
          // A fair share of what its source has left: one costly candidate tested first must not spend
          // what the candidates after it need.
          share.remaining = Math.ceil((groupSteps[group] as number) / (left + 1));
          share.exhausted = 0;
          const given = share.remaining;
          const tested = this.testCandidate(entry, observable, observation, share, true);
          groupSteps[group] = (groupSteps[group] as number) - (given - share.remaining);
          budget.remaining -= given - share.remaining;
          if (group !== 0) partnersSpent += given - share.remaining;
          if (tested) budget.exhausted += share.exhausted;
          else (cut ??= []).push([entry, observable]);
        }
      }
      // With what all left, the node's own first: what runs out now is counted and told, as for any other.
      if (cut !== undefined && groups.length > 1) cut.sort(([a], [b]) => (a.pattern.group === 0 ? 0 : 1) - (b.pattern.group === 0 ? 0 : 1));
      /** What the partners' retried tests may spend: what is left once the node's own are retried, within their part of the turn. */
      let partnersRetry: StepBudget | undefined;
      let partnersGiven = 0;
      for (const [entry, observable] of cut ?? []) {
        if (entry.pattern.group === 0) {
          this.testCandidate(entry, observable, observation, budget, false);
          continue;
        }
        if (partnersRetry === undefined) {
          partnersGiven = Math.max(0, Math.min(budget.remaining, partnersAllowed - partnersSpent));
          partnersRetry = stepBudget(partnersGiven);
        }
        this.testCandidate(entry, observable, observation, partnersRetry, false);
      }
      if (partnersRetry !== undefined) {
        budget.remaining -= partnersGiven - partnersRetry.remaining;
        budget.exhausted += partnersRetry.exhausted;
        partnersSpent += partnersGiven - partnersRetry.remaining;
      }
      if (this.turnStepBudget !== undefined) this.partnersTurnSpent += partnersSpent;
      untested += budget.exhausted;
      if (this.turnStepBudget !== undefined) this.spendInTurn(allowed - budget.remaining);
      this.roundDone.clear();
    }
    untested += this.roundSkipped;
    if (untested > 0) this.reportOverBudget(observation, untested, this.roundOverBudget ?? []);
    const matches = this.roundMatches;
    this.roundObservation = undefined;
    this.roundMatches = undefined;
    return matches ?? [];
  }

  /**
   * Tests one candidate with `spend` (its share of the observation's budget, or on the second pass what
   * the others left): its `[…]`, then a pattern over several observations over those kept for it.
   * Returns false, having recorded nothing, when `mayCut` and the `[…]` does not hold for want of steps:
   * its caller tries it again once every other candidate has been tested. A correlation cut short is
   * not tried again (it has kept the observation for the next one). Otherwise records its match (a
   * partner's only within partnerMatchesPerObservation: past it, not even tested), and its id when the
   * budget ran out on it.
   */
  private testCandidate(entry: LeafEntry, observable: MatchedObservable, observation: LogObservation, spend: StepBudget, mayCut: boolean): boolean {
    const pattern = entry.pattern;
    if (this.roundDone.has(pattern) || this.alive[pattern.slot] !== 1) return true;
    const group = pattern.group;
    // A partner with all its matches of the observation already: whatever its test says, this one would
    // not be matched. Not tested, so its part is left to the others' tests; counted and named as unmatched.
    if (group !== 0 && this.groupHitRound[group] === this.round && (this.groupHits[group] as number) >= partnerMatchesPerObservation) {
      this.roundDone.add(pattern);
      this.pastPartnerMatches(group, pattern.slot);
      return true;
    }
    const before = spend.exhausted;
    let holds = entry.planned.exact;
    if (holds) {
      // Decided by its anchor: nothing to test.
    } else if (entry.charge > 0 && entry.charge > spend.remaining) {
      // A partner's test its source's part cannot pay for is left untested, as one cut short.
      spend.exhausted++;
    } else {
      spend.remaining -= entry.charge;
      holds = runWithStepBudget(spend, () => leafHolds(entry.planned.node.comparison, observation));
    }
    if (!holds && mayCut && spend.exhausted > before) return false;
    const found = !holds ? undefined : pattern.anyLeafMatches ? [observation] : runWithStepBudget(spend, () => this.correlate(pattern, observation));
    if (spend.exhausted > before) (this.roundOverBudget ??= []).push(this.idOf(pattern.slot));
    if (!holds) return true;
    this.roundDone.add(pattern);
    if (found === undefined || (group !== 0 && this.pastPartnerMatches(group, pattern.slot))) return true;
    (this.roundMatches ??= []).push(this.matchOf(pattern.slot, observable, found));
    return true;
  }

  private spendInTurn(steps: number): void {
    this.turnSpent += Math.max(0, steps);
    if (this.turnResetScheduled) return;
    this.turnResetScheduled = true;
    setImmediate(() => {
      this.turnSpent = 0;
      this.partnersTurnSpent = 0;
      this.turnResetScheduled = false;
    });
  }

  private reportOverBudget(observation: LogObservation, untested: number, indicatorIds: readonly string[]): void {
    this.overBudgetCount++;
    this.onOverBudget?.({ code: 'ENT_MATCH_OVER_BUDGET', source: observation.source, line: observation.line, untested, indicatorIds: [...new Set(indicatorIds)] });
  }

  private deliver(posting: Posting, value: string | number): void {
    if (typeof posting === 'number') {
      if (this.alive[posting] !== 1 || this.hitRound[posting] === this.round) return;
      this.hitRound[posting] = this.round;
      const group = this.slotGroups[posting] as number;
      if (group !== 0 && this.pastPartnerMatches(group, posting)) return;
      const observable = { type: this.roundType, path: this.roundPath, value: String(value) };
      (this.roundMatches ??= []).push(this.matchOf(posting, observable, [this.roundObservation as LogObservation]));
    } else {
      const candidates = (this.roundCandidates ??= new Map());
      if (!candidates.has(posting)) candidates.set(posting, { type: this.roundType, path: this.roundPath, value: String(value) });
    }
  }

  /** Counts a match of a partner's indicator in the round; true past partnerMatchesPerObservation (then counted as untested). */
  private pastPartnerMatches(group: number, slot: number): boolean {
    if (this.groupHitRound[group] !== this.round) {
      this.groupHitRound[group] = this.round;
      this.groupHits[group] = 0;
    }
    const hits = this.groupHits[group] as number;
    this.groupHits[group] = hits + 1;
    if (hits < partnerMatchesPerObservation) return false;
    this.roundSkipped++;
    // A few to name in the warning: 40,000 ids would make a log line of a megabyte.
    const named = (this.roundOverBudget ??= []);
    if (named.length < 20) named.push(this.idOf(slot));
    return true;
  }

  private deliverAll(postings: Postings, value: string | number): void {
    if (Array.isArray(postings)) for (const posting of postings) this.deliver(posting, value);
    else this.deliver(postings, value);
  }

  private readonly deliverSubstring = (posting: Posting): void => this.deliver(posting, this.probedValue);
  private probedValue = '';

  /** Adds the observation to the pattern's buffer and evaluates the whole pattern over the buffer. */
  private correlate(pattern: CompiledPattern, observation: LogObservation): LogObservation[] | undefined {
    const seconds = Date.parse(observation.lastObserved) / 1000;
    const horizon = seconds - pattern.horizonSeconds;
    let buffer = pattern.buffer.filter((item) => item.seconds >= horizon);
    buffer.push({ observation, seconds });
    if (buffer.length > this.bufferLimit) buffer = buffer.slice(buffer.length - this.bufferLimit);
    const result = evaluatePattern(
      pattern.ast,
      buffer.map((item) => toObservedData(item.observation)),
    );
    if (!result.matched) {
      pattern.buffer = buffer;
      return undefined;
    }
    // Observations that made up a match are consumed: each takes part in at most one match of a pattern.
    const used = new Set(result.observationIndices);
    pattern.buffer = buffer.filter((_item, index) => !used.has(index));
    return result.observationIndices.map((index) => (buffer[index] as { observation: LogObservation }).observation);
  }

  private probe(index: PathIndex, value: unknown): void {
    if (typeof value === 'string') {
      if (index.equal !== undefined) {
        let key: string | number = index.ipv4Keys ? (parseIpv4(value) ?? value) : normalise(value);
        if (index.ipv4Keys && typeof key === 'string') key = normalise(key);
        const postings = index.equal.get(key);
        if (postings !== undefined) this.deliverAll(postings, value);
      }
      if (index.prefixes !== undefined || index.substrings !== undefined) {
        this.probedValue = value;
        if (index.prefixes !== undefined) index.prefixes.lookup(value, this.deliverSubstring);
        if (index.substrings !== undefined) index.substrings.search(normalise(value), this.deliverSubstring);
      }
    } else if (typeof value === 'number' && index.equal !== undefined && !index.ipv4Keys) {
      const postings = index.equal.get(value);
      if (postings !== undefined) this.deliverAll(postings, value);
    }
  }

  private pathIndex(path: AnchorPath): PathIndex {
    let index = this.paths.get(path.key);
    if (index === undefined) {
      const plainKeys = path.steps.every((step, i) => step.kind === 'key' && (i === path.steps.length - 1 || !step.name.endsWith('_ref')));
      index = {
        path,
        keys: plainKeys ? path.steps.map((step) => (step as { name: string }).name) : undefined,
        singleKey:
          plainKeys && path.steps.length === 1 && !((path.steps[0] as { name: string }).name in Object.prototype) ? (path.steps[0] as { name: string }).name : undefined,
        ipv4Keys: path.key === 'ipv4-addr:value',
        equal: undefined,
        prefixes: undefined,
        substrings: undefined,
      };
      this.paths.set(path.key, index);
      this.propertyNames = undefined;
      const list = this.pathsByType.get(path.objectType);
      if (list === undefined) this.pathsByType.set(path.objectType, [index]);
      else list.push(index);
    }
    return index;
  }

  private equalKey(index: PathIndex, value: string | number): string | number {
    return index.ipv4Keys && typeof value === 'string' ? (parseIpv4(value) ?? value) : value;
  }

  /** Indexes the anchor for the posting; false when there is nothing to index (it can never be hit). */
  private post(anchor: Anchor, posting: Posting): boolean {
    this.screenGeneration++;
    const index = this.pathIndex(anchor.path);
    if (anchor.kind === 'equal') {
      // A number on ipv4-addr:value would collide with the numeric keys of addresses: never equal a string anyway.
      if (index.ipv4Keys && typeof anchor.value === 'number') return false;
      index.equal ??= new Map();
      if (typeof anchor.value === 'string') this.keyFingerprints.add(fingerprintOf(anchor.value));
      else this.numberKeys.add(anchor.value);
      const key = this.equalKey(index, anchor.value);
      const held = index.equal.get(key);
      this.equalPostings++;
      if (held === undefined) index.equal.set(key, posting);
      else if (Array.isArray(held)) held.push(posting);
      else index.equal.set(key, [held, posting]);
    } else if (anchor.kind === 'cidr') {
      if (index.prefixes === undefined) {
        index.prefixes = new IpPrefixIndex<Posting>();
        this.prefixIndexes.push(index.prefixes);
      }
      index.prefixes.add(anchor.block, posting);
    } else {
      (index.substrings ??= new SubstringIndex<Posting>()).add(anchor.literal, posting);
      const required = quotedRequiredTexts(anchor);
      this.screenAllSubstrings.add(required);
      this.screenSubstringsOf(anchor.path).add(required);
    }
    return true;
  }

  private unpost(anchor: Anchor, posting: Posting): void {
    this.screenGeneration++;
    const index = this.paths.get(anchor.path.key);
    if (index === undefined) return;
    if (anchor.kind === 'equal') {
      const key = this.equalKey(index, anchor.value);
      const held = index.equal?.get(key);
      if (held === posting) {
        index.equal?.delete(key);
        this.equalPostings--;
      } else if (Array.isArray(held)) {
        const rest = held.filter((p) => p !== posting);
        this.equalPostings -= held.length - rest.length;
        if (rest.length === 0) index.equal?.delete(key);
        else index.equal?.set(key, rest.length === 1 ? (rest[0] as Posting) : rest);
      }
    } else if (anchor.kind === 'cidr') index.prefixes?.remove(anchor.block, posting);
    else {
      index.substrings?.remove(anchor.literal, posting);
      const required = quotedRequiredTexts(anchor);
      this.screenAllSubstrings.remove(required);
      this.screenSubstringsOf(anchor.path).remove(required);
    }
  }

  private idHash(id: string): number {
    const m = uuidPattern.exec(id);
    if (m !== null) {
      const [a, b, c, d] = uuidWordsOf(m);
      return mixWords(a, b, c, d, this.hashSeed);
    }
    return fnv(id, this.hashSeed);
  }

  private slotHash(slot: number): number {
    const other = this.otherIds.get(slot);
    if (other !== undefined) return fnv(other, this.hashSeed);
    const w = this.uuidWords;
    return mixWords(w[slot * 4] as number, w[slot * 4 + 1] as number, w[slot * 4 + 2] as number, w[slot * 4 + 3] as number, this.hashSeed);
  }

  /** The live slot of the id, of that variant when one is named. */
  private findSlot(id: string, variant?: number): number | undefined {
    const mask = this.idTable.length - 1;
    const m = uuidPattern.exec(id);
    const words = m === null ? undefined : uuidWordsOf(m);
    const hash = words === undefined ? fnv(id, this.hashSeed) : mixWords(words[0], words[1], words[2], words[3], this.hashSeed);
    for (let i = hash & mask; this.idTable[i] !== 0; i = (i + 1) & mask) {
      const entry = this.idTable[i] as number;
      if (entry <= 0 || this.alive[entry - 1] !== 1) continue;
      const slot = entry - 1;
      if (variant !== undefined && (this.variants.get(slot) ?? 0) !== variant) continue;
      if (words === undefined) {
        if (this.otherIds.get(slot) === id) return slot;
      } else if (!this.otherIds.has(slot) && this.uuidWords[slot * 4] === words[0] && this.uuidWords[slot * 4 + 1] === words[1] && this.uuidWords[slot * 4 + 2] === words[2] && this.uuidWords[slot * 4 + 3] === words[3]) {
        return slot;
      }
    }
    return undefined;
  }

  private indexId(slot: number): void {
    if ((this.idTableUsed + 1) * 2 > this.idTable.length) {
      let size = 2048;
      while (size < this.live * 4) size *= 2;
      const table = new Int32Array(size);
      const mask = size - 1;
      this.idTableUsed = 0;
      for (const entry of this.idTable) {
        if (entry <= 0 || this.alive[entry - 1] !== 1 || entry - 1 === slot) continue;
        let i = this.slotHash(entry - 1) & mask;
        while (table[i] !== 0) i = (i + 1) & mask;
        table[i] = entry;
        this.idTableUsed++;
      }
      this.idTable = table;
    }
    const mask = this.idTable.length - 1;
    let i = this.slotHash(slot) & mask;
    while ((this.idTable[i] as number) > 0) i = (i + 1) & mask;
    if (this.idTable[i] === 0) this.idTableUsed++;
    this.idTable[i] = slot + 1;
  }

  private allocate(id: string, name: string | undefined, confidence: number | undefined, variant: number): number {
    if (this.slots === this.capacity) this.grow();
    const slot = this.slots++;
    const m = uuidPattern.exec(id);
    if (m !== null) this.uuidWords.set(uuidWordsOf(m), slot * 4);
    else this.otherIds.set(slot, id);
    this.confidences[slot] = confidence === undefined ? -1 : Math.max(0, Math.min(100, Math.round(confidence)));
    this.alive[slot] = 1;
    this.live++;
    if (name !== undefined) this.names.set(slot, name);
    if (variant !== 0) this.variants.set(slot, variant);
    this.indexId(slot);
    return slot;
  }

  private grow(): void {
    this.capacity *= 2;
    this.uuidWords = grown(this.uuidWords, this.capacity * 4);
    this.confidences = grown(this.confidences, this.capacity);
    this.alive = grown(this.alive, this.capacity);
    this.hitRound = grown(this.hitRound, this.capacity);
    this.slotGroups = grown(this.slotGroups, this.capacity);
  }

  private idOf(slot: number): string {
    const other = this.otherIds.get(slot);
    if (other !== undefined) return other;
    const w = this.uuidWords;
    const a = hex8(w[slot * 4] as number);
    const bc = hex8(w[slot * 4 + 1] as number);
    const de = hex8(w[slot * 4 + 2] as number);
    const e = hex8(w[slot * 4 + 3] as number);
    return `indicator--${a}-${bc.slice(0, 4)}-${bc.slice(4)}-${de.slice(0, 4)}-${de.slice(4)}${e}`;
  }

  private matchOf(slot: number, observable: MatchedObservable, observations: readonly LogObservation[]): IndicatorMatch {
    const confidence = this.confidences[slot] as number;
    return { indicatorId: this.idOf(slot), variant: this.variants.get(slot) ?? 0, name: this.names.get(slot), confidence: confidence < 0 ? undefined : confidence, observable, observations };
  }
}

/**
 * What an indicator the indexes do not decide outright costs the matcher, against its source's budget:
 * each test of each `[…]` (a comparison or EXISTS, an IN one per element since it is scanned), counted
 * everyObservationWeight times in a `[…]` without anchors, which is evaluated on every observation, and
 * once in one evaluated only when an observation hits its anchors. MATCHES and LIKE are counted like
 * any test: what they cost on a value is bounded by the step budget of each observation.
 */
function matchingCostOf(plan: MatchPlan): number {
  let cost = 0;
  for (const leaf of plan.leaves) cost += testsIn(leaf.node.comparison) * (leaf.anchors === undefined ? everyObservationWeight : 1);
  return cost;
}

/** The tests of a comparison expression; recursive, as its depth is within patternLimits.depth (checked before). */
function testsIn(node: ComparisonExpression): number {
  if (node.kind === 'exists') return 1;
  if (node.kind === 'comparison') return node.operator === 'IN' ? Math.max(1, node.value.elements.length) : 1;
  return testsIn(node.left) + testsIn(node.right);
}

/**
 * A substring anchor's required texts as the screen looks for them in a line: it reads each string value
 * with its quotes, and a line it reads holds no other `"` inside a string (it has no backslash), so a text
 * that must start the value is looked for after a `"`, one that must end it before a `"`.
 */
function quotedRequiredTexts(anchor: Extract<Anchor, { kind: 'substring' }>): string[] {
  return anchor.required.map(({ text, atStart, atEnd }) => `${atStart ? '"' : ''}${text}${atEnd ? '"' : ''}`);
}

/** The typed arrays the matcher keeps per slot or per group, grown by `grown`. */
type GrowableArray = Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Float64Array;

/** A copy of the array of `length` elements: its own first, zeros after. */
function grown<A extends GrowableArray>(array: A, length: number): A {
  const longer = new (array.constructor as new (length: number) => A)(length);
  longer.set(array);
  return longer;
}

/** The dotted quad of an address key (parseIpv4's number). */
function ipv4Text(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

/**
 * A need of a leaf evaluated on every observation as the raw-line screen looks for it in a line: its type
 * and its property, each between quotes (a line it reads holds every string and key so, and no `"` inside one).
 */
function quotedNeed(need: ScoNeed): string[] {
  return need.property === undefined ? [`"${need.objectType}"`] : [`"${need.objectType}"`, `"${need.property}"`];
}

/** Whether some SCO of the observation meets one of the needs: its type, with the property as its own. */
function meetsANeed(needs: readonly ScoNeed[], objects: LogObservation['objects']): boolean {
  for (const ref in objects) {
    const sco = objects[ref] as JsonRecord;
    for (const need of needs) if (sco['type'] === need.objectType && (need.property === undefined || Object.prototype.hasOwnProperty.call(sco, need.property))) return true;
  }
  return false;
}

/**
 * The property name a value selected by the path sits under in its JSON: the last key step (list steps
 * after it select elements of that property's list). A path starts with a key, so there is always one.
 */
function lastKeyOf(path: AnchorPath): string {
  for (let i = path.steps.length - 1; i >= 0; i--) {
    const step = path.steps[i] as AnchorPath['steps'][number];
    if (step.kind === 'key') return step.name;
  }
  throw new Error(`object path without a property: ${path.key}`);
}

/**
 * Whether one `[…]` holds on an observation: some SCO satisfies the comparison expression, AND and OR
 * on that same SCO. The evaluator's own rule (pattern/evaluate-pattern.ts), applied straight to the
 * SCOs: a candidate is checked thousands of times a second, without the evaluator's per-call set-up
 * of timestamps and bindings. The tests check both agree.
 */
function leafHolds(comparison: ComparisonExpression, observation: LogObservation): boolean {
  const objects = observation.objects;
  const resolve: ResolveReference = (key) => {
    const target = Object.prototype.hasOwnProperty.call(objects, key) ? objects[key] : undefined;
    return isRecord(target) ? target : undefined;
  };
  for (const ref in objects) if (holdsOn(comparison, objects[ref] as JsonRecord, resolve)) return true;
  return false;
}

/** A readable observable for a leaf matched without an anchor: the first SCO of a type the leaf tests. */
function describeObservable(observation: LogObservation, comparison: ComparisonExpression): MatchedObservable {
  const types = new Set<string>();
  const visit = (node: ComparisonExpression): void => {
    if (node.kind === 'comparison' || node.kind === 'exists') types.add(node.path.objectType);
    else {
      visit(node.left);
      visit(node.right);
    }
  };
  visit(comparison);
  for (const ref in observation.objects) {
    const sco = observation.objects[ref] as JsonRecord;
    if (typeof sco['type'] === 'string' && types.has(sco['type'])) return describeSco(sco);
  }
  return { type: [...types][0] ?? 'unknown', path: '', value: '' };
}

/** The value an analyst knows an SCO by: `value`, a hash (SHA-256 first), `name`, `key`. */
export function describeSco(sco: JsonRecord): MatchedObservable {
  const type = String(sco['type']);
  if (typeof sco['value'] === 'string') return { type, path: `${type}:value`, value: sco['value'] };
  const hashes = sco['hashes'];
  if (isRecord(hashes)) {
    for (const algorithm of ['SHA-256', 'SHA-1', 'MD5', ...Object.keys(hashes)]) {
      const hash = hashes[algorithm];
      if (typeof hash === 'string') return { type, path: `${type}:hashes.'${algorithm}'`, value: hash };
    }
  }
  for (const property of ['name', 'key', 'serial_number', 'subject']) {
    const value = sco[property];
    if (typeof value === 'string') return { type, path: `${type}:${property}`, value };
  }
  return { type, path: '', value: '' };
}
