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
//   b  "bad" indicators: a value hits a MISP warninglist, or ANOTHER source reported it as a false
//      positive (a false-positive sighting or a disagreeing opinion signed by someone else);
//   c  "corroborated" indicators that are not bad: the same normalised pattern or observable value
//      was published by at least one other source (patternFacts says what counts as the same).
//
//   bad rate   p = (1 + b) / (20 + n + c)   the mean of a Beta(1 + b, 19 + n − b + c) posterior: a
//              Beta(1, 19) prior (a new source is presumed 5 % bad, weighing as much as 20 indicators)
//              updated with each indicator as one trial, and each corroborated one as a second, sound
//              trial (independent confirmation is worth more than silence);
//   reputation = 1 − 0.8 × min(1, p / 0.5)  in [0.2, 1]: 0.92 for a new source (neutral), towards 1 as
//              clean and corroborated indicators accumulate, 0.2 once half of them or more are bad.
//
// Examples: a new source 0.92; 1 bad of 1 → 0.85; 5 bad of 5 → 0.62; 20 bad of 20 → 0.2; 5 bad of
// 1000 → 0.99; 30 bad of 100 → 0.59, or 0.71 when 50 of the others are corroborated.
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

/** The reputation of a source with no history. */
export const neutralReputation = reputationOf(0, 0, 0);

/**
 * What a source's reputation is computed from. Records of disjoint parts of a node's data add up (the
 * collections one reader may read: correlate/effective-confidence.ts confidenceIn).
 */
export interface SourceRecord {
  readonly indicators: number;
  readonly bad: number;
  /** Corroborated and not bad. */
  readonly corroborated: number;
}

export function reputationOfRecord(record: SourceRecord): number {
  return reputationOf(record.indicators, record.bad, record.corroborated);
}

function reputationOf(indicators: number, bad: number, corroboratedSound: number): number {
  const rate = (priorBad + bad) / (priorBad + priorSound + indicators + corroboratedSound);
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

export interface SourceReputation {
  readonly source: string;
  readonly indicators: number;
  readonly warninglistHits: number;
  /** Indicators that another source reported as false positives. */
  readonly falsePositives: number;
  /** Indicators not bad whose pattern or a value of which another source published too. */
  readonly corroborated: number;
  /** In [0.2, 1]; `neutralReputation` for a source with no history. */
  readonly reputation: number;
  readonly reasons: readonly string[];
}

interface Counts {
  indicators: number;
  warninglistHits: number;
  falsePositives: number;
  bad: number;
  corroborated: number;
  readonly lists: Map<string, number>;
  readonly disputers: Set<string>;
  readonly corroborators: Set<string>;
}

const emptyCounts = (): Counts => ({ indicators: 0, warninglistHits: 0, falsePositives: 0, bad: 0, corroborated: 0, lists: new Map(), disputers: new Set(), corroborators: new Set() });

/**
 * Counts sources in three steps, so that the store can be read page by page: every false-positive
 * report first (they are few), then every indicator once (`addIndicator`: which source published which
 * value), then every indicator again (`corroboratorsOf`: who else published its values). An indicator
 * id given twice (several collections) counts once. `decide()` gives the reputations.
 */
export class ReputationTally {
  readonly #falsePositives = new Map<string, Set<string>>();
  /** key → the source publishing it, or the set of them once there are several. */
  readonly #publishers = new Map<string, string | Set<string>>();
  readonly #sources = new Map<string, Counts>();
  readonly #added = new Set<string>();
  readonly #corroborated = new Set<string>();
  #step: 'reports' | 'indicators' | 'corroboration' = 'reports';

  /** A false-positive sighting or disagreeing opinion about an indicator, by the source that sent it. */
  addFalsePositive(indicatorId: string, reporter: string): void {
    if (this.#step !== 'reports') throw new Error('false-positive reports come before the indicators');
    const reporters = this.#falsePositives.get(indicatorId);
    if (reporters === undefined) this.#falsePositives.set(indicatorId, new Set([reporter]));
    else reporters.add(reporter);
  }

  addIndicator(facts: IndicatorFacts): void {
    if (this.#step === 'corroboration') throw new Error('every indicator is added before corroboration is asked');
    this.#step = 'indicators';
    if (this.#added.has(facts.id)) return;
    this.#added.add(facts.id);
    const counts = this.#countsOf(facts.source);
    counts.indicators++;
    if (facts.warninglist !== null) {
      counts.warninglistHits++;
      counts.lists.set(facts.warninglist.list, (counts.lists.get(facts.warninglist.list) ?? 0) + 1);
    }
    const disputers = [...(this.#falsePositives.get(facts.id) ?? [])].filter((reporter) => reporter !== facts.source);
    if (disputers.length > 0) {
      counts.falsePositives++;
      for (const disputer of disputers) counts.disputers.add(disputer);
    }
    if (facts.warninglist !== null || disputers.length > 0) counts.bad++;
    for (const key of facts.keys) {
      const publishers = this.#publishers.get(key);
      if (publishers === undefined) this.#publishers.set(key, facts.source);
      else if (typeof publishers === 'string') {
        if (publishers !== facts.source) this.#publishers.set(key, new Set([publishers, facts.source]));
      } else publishers.add(facts.source);
    }
  }

  /**
   * The other sources (sorted) that published one of the indicator's keys; counted for its source's
   * reputation the first time it is asked for an id (when the indicator is not bad).
   */
  corroboratorsOf(facts: IndicatorFacts): readonly string[] {
    if (!this.mayBeCorroborated(facts.keys)) return [];
    const others = new Set<string>();
    for (const key of facts.keys) {
      const publishers = this.#publishers.get(key);
      if (publishers !== undefined && typeof publishers !== 'string') for (const source of publishers) if (source !== facts.source) others.add(source);
    }
    if (others.size > 0 && this.#added.has(facts.id) && !this.#corroborated.has(facts.id)) {
      this.#corroborated.add(facts.id);
      const bad = facts.warninglist !== null || [...(this.#falsePositives.get(facts.id) ?? [])].some((reporter) => reporter !== facts.source);
      const counts = this.#countsOf(facts.source);
      if (!bad) counts.corroborated++;
      for (const other of others) counts.corroborators.add(other);
    }
    return [...others].sort(compare);
  }

  /** Whether several sources published one of these keys (else corroboratorsOf is empty whatever the source): lets a reader skip looking up sources. */
  mayBeCorroborated(keys: readonly string[]): boolean {
    if (this.#step !== 'corroboration') {
      this.#step = 'corroboration';
      // Keys one source alone publishes corroborate nothing: let them go.
      for (const [key, publishers] of this.#publishers) if (typeof publishers === 'string') this.#publishers.delete(key);
    }
    return keys.some((key) => this.#publishers.has(key));
  }

  /** Each source's record so far (complete once corroboratorsOf was asked for every indicator). */
  records(): Map<string, SourceRecord> {
    return new Map([...this.#sources].map(([source, counts]) => [source, { indicators: counts.indicators, bad: counts.bad, corroborated: counts.corroborated }]));
  }

  /** One entry per source seen, sorted by organisation id. */
  decide(): SourceReputation[] {
    return [...this.#sources.keys()].sort(compare).map((source) => describe(source, this.#sources.get(source) ?? emptyCounts()));
  }

  #countsOf(source: string): Counts {
    let counts = this.#sources.get(source);
    if (counts === undefined) this.#sources.set(source, (counts = emptyCounts()));
    return counts;
  }
}

/** The reputation of one source from its counts, with the reasons in words. */
export function decideSourceReputation(
  source: string,
  counts: { readonly indicators: number; readonly warninglistHits: number; readonly falsePositives: number; readonly bad?: number; readonly corroborated: number },
): SourceReputation {
  const bad = counts.bad ?? Math.min(counts.indicators, counts.warninglistHits + counts.falsePositives);
  return describe(source, { ...emptyCounts(), ...counts, bad });
}

function describe(source: string, counts: Counts): SourceReputation {
  const { indicators: n, warninglistHits, falsePositives, corroborated, bad } = counts;
  const reputation = reputationOf(n, bad, corroborated);
  const reasons: string[] = [];
  if (warninglistHits > 0) {
    const lists = [...counts.lists].sort((a, b) => b[1] - a[1] || compare(a[0], b[0]));
    const named = lists.length === 0 ? '' : ` (${lists.slice(0, 3).map(([list, count]) => `${list} ${count}`).join(', ')}${lists.length > 3 ? ', …' : ''})`;
    reasons.push(`${warninglistHits} of ${n} indicators hit MISP warninglists${named}`);
  }
  if (falsePositives > 0) {
    const by = counts.disputers.size;
    reasons.push(`${falsePositives} of ${n} indicators reported as false positives by ${by === 0 ? 'other sources' : `${by} other source${by === 1 ? '' : 's'}`}`);
  }
  if (corroborated > 0) {
    const by = counts.corroborators.size;
    reasons.push(`${corroborated} of ${n} indicators also published by ${by === 0 ? 'other sources' : `${by} independent source${by === 1 ? '' : 's'}`}`);
  }
  if (n + corroborated < priorBad + priorSound) {
    reasons.push(n === 0 ? `no indicators yet: neutral ${neutralReputation}` : `little history (${n} indicator${n === 1 ? '' : 's'}): held near the neutral ${neutralReputation}`);
  } else if (reasons.length === 0) reasons.push(`${n} indicators, none on a warninglist or disputed`);
  return { source, indicators: n, warninglistHits, falsePositives, corroborated, reputation, reasons };
}

/** Everything at once, for data that fits in memory: reputations, and who corroborates each indicator (only those corroborated). */
export function decideSourceReputations(
  indicators: readonly IndicatorFacts[],
  falsePositives: readonly { readonly indicatorId: string; readonly reporter: string }[],
): { readonly sources: readonly SourceReputation[]; readonly corroboration: ReadonlyMap<string, readonly string[]> } {
  const tally = new ReputationTally();
  for (const report of falsePositives) tally.addFalsePositive(report.indicatorId, report.reporter);
  for (const facts of indicators) tally.addIndicator(facts);
  const corroboration = new Map<string, readonly string[]>();
  for (const facts of indicators) {
    const others = tally.corroboratorsOf(facts);
    if (others.length > 0) corroboration.set(facts.id, others);
  }
  return { sources: tally.decide(), corroboration };
}
