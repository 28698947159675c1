// How much this node trusts each source of indicators, from what the alliance's data says about it:
// independent members publishing the same thing raise it, warninglist hits and other members'
// false-positive reports lower it (docs/federation.md). Pure: the caller reads the store
// (load-source-reputation.ts) and passes facts in.
//
// The unit of a source is the organisation whose node SIGNED what arrived (provenance), never the
// `created_by_ref` or `where_sighted_refs` a member writes: a member can mint identities at will, so
// everything its node signed counts as that member, once (decideSource). A version that arrived
// unverified counts as the organisation of the peer that delivered it (or the partner that POSTed
// it); what was stored here without arriving from anyone counts as the home organisation.
//
// Per source, over the latest version of each indicator it sent:
//   n  indicators;
//   b  "bad" indicators: a value hits a MISP warninglist, or at least TWO other sources (independent of
//      each other and of it) reported it as a false positive (a false-positive sighting or a
//      disagreeing opinion); plus one for each other source that alone reports some of its indicators:
//      one member's word, however many indicators it disputes, counts as one bad indicator, so that a
//      single hostile member cannot sink another (the reports still halve the confidence of the very
//      indicators they name: correlate/effective-confidence.ts);
//   c  "corroborated" indicators that are not bad: the same normalised pattern or observable value
//      was published by another source that did not have it first: its publication arrived here no
//      more than a second before the indicator did (`sameArrivalMicros`), or after. A member copying
//      what another published gains nothing from the copy, and the copy is not corroborated by its
//      original. The original is, unless this node itself had released to that member (shared,
//      redacted or named in a flash, as its audit log records) an indicator carrying the same key,
//      the original's or another source's, before the member's publication of it arrived here (or no
//      more than a second after: the margin errs towards withholding): then the publication may be a
//      copy of what this node gave, and re-publishing a source's values to raise it (a compromised or
//      colluding member inflating a source whose indicators may be poisoned) gains that source
//      nothing, whichever source's indicator it was given the value through (a second colluder that
//      published it too would otherwise pass it on). The same
//      indicator id arriving again as another source is no publication at all: it counts as the source
//      it was first seen from (a verified relay keeps its signer, and so its source, anyway; an
//      unverified one would count as the peer that delivered it). patternFacts says what counts as the
//      same.
//      What the node still cannot tell: whether the member got the value elsewhere: from another
//      member's node (the source's own, or one it was relayed through), which this node's audit log
//      does not see, so a member given the value that way can still re-publish it as corroboration;
//      and whether a member it did release to had the value already on its own, which the rule then
//      does not credit. A release of any version of an indicator counts as carrying its latest keys
//      (the log names versions, not their patterns). The rule is sound for all that: it never adds a
//      corroboration, it only withholds one where this node knows a copy was possible, so no member
//      can use it to raise a source; a source loses at most the credit of members it was given to.
//
//   bad rate   p = (1 + b) / (20 + b + c)   the mean of a Beta(1 + b, 19 + c) posterior: a Beta(1, 19)
//              prior (a new source is presumed 5 % bad, weighing as much as 20 indicators) updated with
//              each bad indicator as a bad trial and each corroborated one as a sound trial. An
//              indicator nobody else published or disputed is no evidence either way (anyone can publish
//              thousands of values nobody else holds): volume alone neither raises a reputation nor
//              washes out the bad ones;
//   reputation = 1 − 0.8 × min(1, p / 0.5)  in [0.2, 1]: 0.92 for a new source (neutral), towards 1 as
//              corroborated indicators accumulate, 0.2 once half of its judged indicators or more are bad.
//
// Examples: a new source, or one with 2,000 indicators nobody else published, 0.92; 1 bad → 0.85; 5 bad
// → 0.62; 20 bad → 0.2; 5 bad and 1,000 corroborated → 0.99; 30 bad and 50 corroborated → 0.5.
// The alert confidence (correlate/effective-confidence.ts) multiplies the stated confidence by the
// reputation of the indicator's source, and lets each corroborating source close part of the gap to 100.
import { urlHost, type ObservableType } from '../extract/extractors.ts';
import type { WarninglistHit, WarninglistIndex } from '../extract/warninglists.ts';
import { parsePattern } from '../pattern/parse-pattern.ts';
import type { ComparisonExpression, ObjectPath, ObservationExpression, PrimitiveLiteral } from '../pattern/pattern-ast.ts';
import { printPattern } from '../pattern/print-pattern.ts';
import type { VersionArrival } from '../store/federation-store.ts';

export const reputationFloor = 0.2;
/** Beta prior: one bad indicator in twenty. */
const priorBad = 1;
const priorSound = 19;
/** The bad rate at which the reputation reaches the floor. */
const badRateAtFloor = 0.5;
/**
 * Publications of the same value that arrived this close together (microseconds, as dateAdded) arrived
 * together: neither is a copy of the other as far as this node can tell (one sync batch, one file).
 */
export const sameArrivalMicros = 1_000_000;
/** How many independent other sources must report an indicator for it to count as bad on its own. */
const reportersToConfirm = 2;

/** The reputation of a source with no history. */
export const neutralReputation = reputationOf(0, 0);

/**
 * What a source's reputation is computed from. Records of disjoint parts of a node's data add up (the
 * collections one reader may read: correlate/effective-confidence.ts confidenceIn).
 */
export interface SourceRecord {
  /** Shown, not weighed: indicators nobody else published or disputed are no evidence. */
  readonly indicators: number;
  readonly bad: number;
  /** Corroborated and not bad. */
  readonly corroborated: number;
}

export function reputationOfRecord(record: SourceRecord): number {
  return reputationOf(record.bad, record.corroborated);
}

function reputationOf(bad: number, corroboratedSound: number): number {
  const rate = (priorBad + bad) / (priorBad + priorSound + bad + corroboratedSound);
  const value = 1 - (1 - reputationFloor) * Math.min(1, rate / badRateAtFloor);
  return Math.round(Math.max(reputationFloor, Math.min(1, value)) * 1000) / 1000;
}

// ---- Who stands behind a stored version ----

export type SourceKind = 'verified' | 'derived' | 'unverified' | 'contributor';

export interface SourceAttribution {
  /** The organisation (identity id) counted as the source. */
  readonly organisation: string;
  /** verified / derived: it signed; unverified: the peer that delivered it; contributor: the partner that POSTed it. */
  readonly how: SourceKind;
}

const rank: Record<VersionArrival['verification'], number> = { verified: 0, derived: 1, unverified: 2 };

/**
 * The source of one stored version from its arrivals (its provenance rows, one per peer it came
 * through) and the partner organisations recorded as its contributors. A verified signature names the
 * signer; a derived version its redacting signer; an unverified arrival the organisation of the
 * delivering peer (from `peerOrganisations`, else the last hop). Undefined: it did not arrive from
 * anyone (stored here).
 */
export function decideSource(
  rows: readonly VersionArrival[] | undefined,
  contributors: readonly string[] | undefined,
  peerOrganisations: ReadonlyMap<string, string>,
): SourceAttribution | undefined {
  const ordered = [...(rows ?? [])].sort(
    (a, b) => rank[a.verification] - rank[b.verification] || compare(a.receivedAt, b.receivedAt) || compare(a.peer ?? '', b.peer ?? ''),
  );
  for (const row of ordered) {
    if (row.verification !== 'unverified') {
      if (row.signer !== undefined) return { organisation: row.signer, how: row.verification };
      continue;
    }
    const delivered = (row.peer === undefined ? undefined : peerOrganisations.get(row.peer)) ?? row.deliveredBy;
    if (delivered !== undefined) return { organisation: delivered, how: 'unverified' };
  }
  const contributor = [...(contributors ?? [])].sort(compare)[0];
  return contributor === undefined ? undefined : { organisation: contributor, how: 'contributor' };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- What an indicator's pattern publishes ----

export interface PatternFacts {
  /**
   * What another source must publish for this indicator to count as corroborated: each observable
   * value the pattern names on its own (`=` or `IN`, through OR only, e.g. `ipv4-addr:value = 45.9.1.2`,
   * normalised: lower-case domains, e-mail addresses and hashes, no /32), or else its canonical text.
   * Empty for a pattern that does not parse.
   */
  readonly keys: readonly string[];
  /** The first warninglist one of those values is on. */
  readonly warninglist: WarninglistHit | null;
}

interface Observable {
  readonly objectType: string;
  readonly path: string;
  readonly value: string;
}

/** The corroboration keys and warninglist hit of a STIX pattern. */
export function patternFacts(pattern: string, warninglists: WarninglistIndex | undefined): PatternFacts {
  const parsed = parsePattern(pattern);
  if (!parsed.ok) return { keys: [], warninglist: null };
  const observables: Observable[] = [];
  collectObservations(parsed.value, observables);
  if (observables.length === 0) return { keys: [`pattern ${printPattern(parsed.value)}`], warninglist: null };
  const keys = [...new Set(observables.map((o) => `${o.path} = ${o.value}`))].sort(compare);
  let warninglist: WarninglistHit | null = null;
  if (warninglists !== undefined) {
    for (const observable of observables) {
      warninglist = warninglistHit(observable, warninglists);
      if (warninglist !== null) break;
    }
  }
  return { keys, warninglist };
}

function collectObservations(node: ObservationExpression, out: Observable[]): void {
  if (node.kind === 'observation') collectComparisons(node.comparison, out);
  else if (node.kind === 'observation-or') {
    collectObservations(node.left, out);
    collectObservations(node.right, out);
  } else if (node.kind === 'qualified') collectObservations(node.expression, out);
  // AND and FOLLOWEDBY: no value stands on its own.
}

function collectComparisons(node: ComparisonExpression, out: Observable[]): void {
  if (node.kind === 'comparison-or') {
    collectComparisons(node.left, out);
    collectComparisons(node.right, out);
    return;
  }
  if (node.kind !== 'comparison' || node.negated) return;
  const path = pathText(node.path);
  const add = (literal: PrimitiveLiteral): void => {
    if (literal.kind === 'boolean') return;
    out.push({ objectType: node.path.objectType, path, value: normaliseValue(node.path, String(literal.value)) });
  };
  if (node.operator === '=') add(node.value);
  else if (node.operator === 'IN') node.value.elements.forEach(add);
  else if (node.operator === 'ISSUBSET' && (node.path.objectType === 'ipv4-addr' || node.path.objectType === 'ipv6-addr')) add(node.value);
}

function pathText(path: ObjectPath): string {
  const hashes = path.steps[0]?.kind === 'key' && path.steps[0].name === 'hashes';
  let text = `${path.objectType}:`;
  path.steps.forEach((step, index) => {
    if (step.kind === 'key') {
      // Hash names as written vary (SHA-256, SHA256, sha256): one spelling.
      const name = hashes && index === 1 ? step.name.toUpperCase().replace(/[-_]/g, '') : step.name;
      text += index === 0 ? name : `.${name}`;
    } else text += step.kind === 'index' ? `[${step.index}]` : '[*]';
  });
  return text;
}

function normaliseValue(path: ObjectPath, value: string): string {
  const first = path.steps[0];
  const firstName = first?.kind === 'key' ? first.name : '';
  switch (path.objectType) {
    case 'ipv4-addr':
      return value.endsWith('/32') ? value.slice(0, -3) : value;
    case 'ipv6-addr':
      return (value.endsWith('/128') ? value.slice(0, -4) : value).toLowerCase();
    case 'domain-name':
      return value.toLowerCase().replace(/\.$/, '');
    case 'email-addr':
      return value.toLowerCase();
    default:
      return firstName === 'hashes' ? value.toLowerCase() : value;
  }
}

function warninglistHit(observable: Observable, index: WarninglistIndex): WarninglistHit | null {
  const { objectType, path, value } = observable;
  const as = (type: ObservableType): WarninglistHit | null => index.match(type, value);
  switch (path) {
    case 'ipv4-addr:value':
    case 'ipv6-addr:value':
    case 'domain-name:value':
    case 'email-addr:value':
      return as(objectType as ObservableType);
    case 'url:value': {
      const host = urlHost(value);
      return as('url') ?? (host === null ? null : index.match('url', host));
    }
    default:
      // File hashes, and certificate fingerprints (the CA lists are hashes of certificates).
      return (objectType === 'file' || objectType === 'x509-certificate') && path.includes(':hashes.') ? as('file') : null;
  }
}

// ---- Counting ----

export interface IndicatorFacts extends PatternFacts {
  readonly id: string;
  /** The organisation it came from (decideSource), or the home organisation for what was stored here. */
  readonly source: string;
}

/** An indicator with the time it first arrived here: which of several publications of a value came first. */
export interface ArrivedIndicator extends IndicatorFacts {
  /** Microseconds since the epoch: the dateAdded of its first stored version (not its latest: an update is not a new arrival). */
  readonly arrivedAt: number;
}

export interface SourceReputation {
  readonly source: string;
  readonly indicators: number;
  readonly warninglistHits: number;
  /** Indicators that another source reported as false positives (counted as bad: see the file's head). */
  readonly falsePositives: number;
  /** Indicators not bad whose pattern or a value of which another source published too, no earlier than it arrived. */
  readonly corroborated: number;
  /** In [0.2, 1]; `neutralReputation` for a source with no history. */
  readonly reputation: number;
  readonly reasons: readonly string[];
}

interface Counts {
  indicators: number;
  warninglistHits: number;
  falsePositives: number;
  /** Warninglisted, or reported by `reportersToConfirm` other sources or more. */
  confirmedBad: number;
  /** Of the false positives, those reported by `reportersToConfirm` other sources or more. */
  confirmedFalsePositives: number;
  corroborated: number;
  readonly lists: Map<string, number>;
  readonly disputers: Set<string>;
  /** The other sources that alone reported some of its indicators (not otherwise bad): one bad indicator each. */
  readonly loneReporters: Set<string>;
  readonly corroborators: Set<string>;
}

const emptyCounts = (): Counts => ({
  indicators: 0, warninglistHits: 0, falsePositives: 0, confirmedBad: 0, confirmedFalsePositives: 0, corroborated: 0,
  lists: new Map(), disputers: new Set(), loneReporters: new Set(), corroborators: new Set(),
});

const badOf = (counts: Counts): number => counts.confirmedBad + counts.loneReporters.size;

/**
 * Counts sources in steps, so that the store can be read page by page: every false-positive report first
 * (they are few); then every indicator once (`addIndicator`: which source published which value); then
 * the indicators whose values several sources published (`mayBeCorroborated` says which) with the time
 * each first arrived (`addArrival`), and what this node released of them to whom (`addRelease`, in any
 * order with the arrivals); then those again (`corroboratorsOf`: who else published its values, no
 * earlier than it arrived, and not after this node gave them its values). An indicator id given twice
 * (several collections) counts once, as the source it was first given as, arriving when it first
 * arrived anywhere. `decide()` gives the reputations.
 */
export class ReputationTally {
  readonly #falsePositives = new Map<string, Set<string>>();
  /** key → the source publishing it, or the set of them once there are several. */
  readonly #publishers = new Map<string, string | Set<string>>();
  /** key (several publishers) → each publishing source → when it first arrived from it. */
  readonly #arrivals = new Map<string, Map<string, number>>();
  /** Indicator id → when it first arrived (only those given to addArrival). */
  readonly #arrivedAt = new Map<string, number>();
  /**
   * key → recipient → when this node first released to that recipient an indicator carrying the key
   * (microseconds), whichever source's: a publication of the key by the recipient arriving later may
   * be a copy of it, and so corroborates no source.
   */
  readonly #releases = new Map<string, Map<string, number>>();
  readonly #sources = new Map<string, Counts>();
  /** Indicator id → the source it was first added as: the same id arriving as another (an unverified relay) is no new publication. */
  readonly #added = new Map<string, string>();
  readonly #corroborated = new Set<string>();
  #step: 'reports' | 'indicators' | 'arrivals' | 'corroboration' = 'reports';

  /** A false-positive sighting or disagreeing opinion about an indicator, by the source that sent it. */
  addFalsePositive(indicatorId: string, reporter: string): void {
    if (this.#step !== 'reports') throw new Error('false-positive reports come before the indicators');
    const reporters = this.#falsePositives.get(indicatorId);
    if (reporters === undefined) this.#falsePositives.set(indicatorId, new Set([reporter]));
    else reporters.add(reporter);
  }

  addIndicator(facts: IndicatorFacts): void {
    if (this.#step !== 'reports' && this.#step !== 'indicators') throw new Error('every indicator is added before corroboration is asked');
    this.#step = 'indicators';
    if (this.#added.has(facts.id)) return;
    this.#added.set(facts.id, facts.source);
    const counts = this.#countsOf(facts.source);
    counts.indicators++;
    if (facts.warninglist !== null) {
      counts.warninglistHits++;
      counts.lists.set(facts.warninglist.list, (counts.lists.get(facts.warninglist.list) ?? 0) + 1);
    }
    const disputers = this.#disputersOf(facts);
    if (disputers.length > 0) {
      counts.falsePositives++;
      for (const disputer of disputers) counts.disputers.add(disputer);
    }
    const confirmed = disputers.length >= reportersToConfirm;
    if (confirmed) counts.confirmedFalsePositives++;
    if (facts.warninglist !== null || confirmed) counts.confirmedBad++;
    else if (disputers.length === 1) counts.loneReporters.add(disputers[0] as string);
    for (const key of facts.keys) {
      const publishers = this.#publishers.get(key);
      if (publishers === undefined) this.#publishers.set(key, facts.source);
      else if (typeof publishers === 'string') {
        if (publishers !== facts.source) this.#publishers.set(key, new Set([publishers, facts.source]));
      } else publishers.add(facts.source);
    }
  }

  /** Whether several sources published one of these keys (else corroboratorsOf is empty whatever the source): lets a reader skip looking up sources and arrivals. */
  mayBeCorroborated(keys: readonly string[]): boolean {
    if (this.#step === 'reports' || this.#step === 'indicators') {
      this.#step = 'arrivals';
      // Keys one source alone publishes corroborate nothing: let them go.
      for (const [key, publishers] of this.#publishers) if (typeof publishers === 'string') this.#publishers.delete(key);
    }
    return keys.some((key) => this.#publishers.has(key));
  }

  /** When an indicator whose values several sources published first arrived (the earliest of the times given for its id counts). */
  addArrival(facts: ArrivedIndicator): void {
    if (!this.mayBeCorroborated(facts.keys)) return;
    if (this.#step !== 'arrivals') throw new Error('every arrival is added before corroboration is asked');
    const known = this.#arrivedAt.get(facts.id);
    if (known === undefined || facts.arrivedAt < known) this.#arrivedAt.set(facts.id, facts.arrivedAt);
    const source = this.#sourceOf(facts);
    for (const key of facts.keys) {
      if (!this.#publishers.has(key)) continue;
      let bySource = this.#arrivals.get(key);
      if (bySource === undefined) this.#arrivals.set(key, (bySource = new Map()));
      const first = bySource.get(source);
      if (first === undefined || facts.arrivedAt < first) bySource.set(source, facts.arrivedAt);
    }
  }

  /**
   * This node released (shared or redacted) a version of `original` to `recipient` at `releasedAt`
   * (microseconds): a publication of one of its keys by the recipient that arrived here later
   * corroborates no source (see the file's head); its own indicators given back to it say nothing.
   * The earliest release counts. Given before corroboration is asked.
   */
  addRelease(original: IndicatorFacts, recipient: string, releasedAt: number): void {
    if (!this.mayBeCorroborated(original.keys)) return;
    if (this.#step !== 'arrivals') throw new Error('every release is added before corroboration is asked');
    const source = this.#sourceOf(original);
    if (source === recipient) return;
    for (const key of original.keys) {
      if (!this.#publishers.has(key)) continue;
      let byRecipient = this.#releases.get(key);
      if (byRecipient === undefined) this.#releases.set(key, (byRecipient = new Map()));
      const first = byRecipient.get(recipient);
      if (first === undefined || releasedAt < first) byRecipient.set(recipient, releasedAt);
    }
  }

  /**
   * The other sources (sorted) that published one of the indicator's keys no earlier than a second
   * before it first arrived, and had not been released by this node an indicator carrying that key
   * before their publication of it arrived: what it may have been copied from, or what may be
   * a copy of what this node gave, does not corroborate it. Counted for its source's reputation the
   * first time it is asked for an id (when the indicator is not bad). Asked once every arrival and
   * release was added.
   */
  corroboratorsOf(facts: IndicatorFacts): readonly string[] {
    if (this.#step !== 'corroboration') {
      this.mayBeCorroborated([]);
      this.#step = 'corroboration';
    }
    const arrivedAt = this.#arrivedAt.get(facts.id);
    if (arrivedAt === undefined) return [];
    const of = this.#sourceOf(facts);
    const others = new Set<string>();
    for (const key of facts.keys) {
      const released = this.#releases.get(key);
      for (const [source, at] of this.#arrivals.get(key) ?? []) {
        if (source === of || at < arrivedAt - sameArrivalMicros) continue;
        const releasedAt = released?.get(source);
        // Both times are this node's clock, but read by different writers (the release gate's `at`, to
        // the millisecond; the store's dateAdded), and a clock stepped back can put a copy's arrival
        // before the release it copies: a release up to a second after the publication arrived still
        // withholds, as publications within a second of each other arrived together. The rule only
        // withholds, so the margin errs towards withholding.
        if (releasedAt === undefined || releasedAt >= at + sameArrivalMicros) others.add(source);
      }
    }
    if (others.size > 0 && this.#added.has(facts.id) && !this.#corroborated.has(facts.id)) {
      this.#corroborated.add(facts.id);
      const bad = facts.warninglist !== null || this.#disputersOf(facts).length >= reportersToConfirm;
      const counts = this.#countsOf(of);
      if (!bad) counts.corroborated++;
      for (const other of others) counts.corroborators.add(other);
    }
    return [...others].sort(compare);
  }

  /** Each source's record so far (complete once corroboratorsOf was asked for every indicator). */
  records(): Map<string, SourceRecord> {
    return new Map([...this.#sources].map(([source, counts]) => [source, { indicators: counts.indicators, bad: badOf(counts), corroborated: counts.corroborated }]));
  }

  /** One entry per source seen, sorted by organisation id. */
  decide(): SourceReputation[] {
    return [...this.#sources.keys()].sort(compare).map((source) => describe(source, this.#sources.get(source) ?? emptyCounts()));
  }

  #disputersOf(facts: IndicatorFacts): string[] {
    const source = this.#sourceOf(facts);
    return [...(this.#falsePositives.get(facts.id) ?? [])].filter((reporter) => reporter !== source);
  }

  /** The source an indicator id counts as: the one it was first added as, whichever collection later holds it as another. */
  #sourceOf(facts: IndicatorFacts): string {
    return this.#added.get(facts.id) ?? facts.source;
  }

  #countsOf(source: string): Counts {
    let counts = this.#sources.get(source);
    if (counts === undefined) this.#sources.set(source, (counts = emptyCounts()));
    return counts;
  }
}

/**
 * The reputation of one source from its counts, with the reasons in words. `bad` defaults to every
 * warninglist hit and false positive (reports confirmed by independent sources).
 */
export function decideSourceReputation(
  source: string,
  counts: { readonly indicators: number; readonly warninglistHits: number; readonly falsePositives: number; readonly bad?: number; readonly corroborated: number },
): SourceReputation {
  const confirmedBad = counts.bad ?? Math.min(counts.indicators, counts.warninglistHits + counts.falsePositives);
  return describe(source, { ...emptyCounts(), ...counts, confirmedBad, confirmedFalsePositives: counts.falsePositives });
}

function describe(source: string, counts: Counts): SourceReputation {
  const { indicators: n, warninglistHits, falsePositives, corroborated } = counts;
  const bad = badOf(counts);
  const reputation = reputationOf(bad, corroborated);
  const reasons: string[] = [];
  if (warninglistHits > 0) {
    const lists = [...counts.lists].sort((a, b) => b[1] - a[1] || compare(a[0], b[0]));
    const named = lists.length === 0 ? '' : ` (${lists.slice(0, 3).map(([list, count]) => `${list} ${count}`).join(', ')}${lists.length > 3 ? ', …' : ''})`;
    reasons.push(`${warninglistHits} of ${n} indicators hit MISP warninglists${named}`);
  }
  if (falsePositives > 0) {
    const by = counts.disputers.size;
    const confirmed = counts.confirmedFalsePositives;
    const lone = counts.loneReporters.size;
    const how = [
      ...(confirmed > 0 ? [`${confirmed} of them by two or more independent sources`] : []),
      ...(lone > 0 ? [`a source reporting alone counts as one bad indicator (${lone} such source${lone === 1 ? '' : 's'})`] : []),
    ];
    reasons.push(`${falsePositives} of ${n} indicators reported as false positives by ${by === 0 ? 'other sources' : `${by} other source${by === 1 ? '' : 's'}`}${how.length > 0 ? `; ${how.join('; ')}` : ''}`);
  }
  if (corroborated > 0) {
    const by = counts.corroborators.size;
    reasons.push(`${corroborated} of ${n} indicators also published by ${by === 0 ? 'other sources' : `${by} independent source${by === 1 ? '' : 's'}`}`);
  }
  if (bad + corroborated < priorBad + priorSound) {
    reasons.push(
      n === 0
        ? `no indicators yet: neutral ${neutralReputation}`
        : `little evidence (${n} indicator${n === 1 ? '' : 's'}, ${bad + corroborated} bad or corroborated; others count neither way): held near the neutral ${neutralReputation}`,
    );
  } else if (reasons.length === 0) reasons.push(`${n} indicators, none on a warninglist or disputed`);
  return { source, indicators: n, warninglistHits, falsePositives, corroborated, reputation, reasons };
}

/** Everything at once, for data that fits in memory: reputations, and who corroborates each indicator (only those corroborated). */
export function decideSourceReputations(
  indicators: readonly ArrivedIndicator[],
  falsePositives: readonly { readonly indicatorId: string; readonly reporter: string }[],
  /** What this node released of those indicators to whom, when (microseconds): ReputationTally.addRelease. */
  releases: readonly { readonly indicatorId: string; readonly recipient: string; readonly releasedAt: number }[] = [],
): { readonly sources: readonly SourceReputation[]; readonly corroboration: ReadonlyMap<string, readonly string[]> } {
  const tally = new ReputationTally();
  for (const report of falsePositives) tally.addFalsePositive(report.indicatorId, report.reporter);
  for (const facts of indicators) tally.addIndicator(facts);
  for (const facts of indicators) tally.addArrival(facts);
  const byId = new Map(indicators.map((facts) => [facts.id, facts]));
  for (const release of releases) {
    const original = byId.get(release.indicatorId);
    if (original !== undefined) tally.addRelease(original, release.recipient, release.releasedAt);
  }
  const corroboration = new Map<string, readonly string[]>();
  for (const facts of indicators) {
    const others = tally.corroboratorsOf(facts);
    if (others.length > 0) corroboration.set(facts.id, others);
  }
  return { sources: tally.decide(), corroboration };
}
