// The confidence an alert should carry for an indicator, from what the node knows about it: the
// producer's stated confidence (STIX 2.1 §3.2, 0–100), corroboration by sightings from distinct
// organisations, reports that it was a false positive, and age. Pure: time is passed in.
//
//   start      stated confidence, or 50 when the producer stated none (the middle of the scale),
//              × the reputation of the source it came from when given (federation/source-reputation.ts,
//              0.2–1; absent: 1);
//   + sightings each distinct organisation that sighted it (other than the producer) closes a fifth of
//              the remaining gap to 100: 60 → 68 → 74.4 …; so does each distinct organisation that
//              published the same pattern or value independently (`corroboratingSources`), once even
//              when it also sighted it. Organisations are counted after `organisationOf` (the member
//              whose node signed what names them: identities one member mints count as that member);
//   × false positives each distinct organisation reporting a false positive halves it;
//   × age      it halves every `halfLifeDays` (default 180) since it was last corroborated: the later
//              of its valid_from / modified and its latest true sighting.
// What a reader who may not read every collection is shown counts only what the collections it reads
// hold: the evidence, and the reputation and corroboration computed from them (confidenceIn).
// Severity follows the STIX "High, Medium, Low" scale (Appendix A): 70–100 high, 30–69 medium, 1–29 low,
// 0 none.

import { reputationOfRecord, type SourceRecord } from '../federation/source-reputation.ts';

export interface SightingEvidence {
  /** The organisation that reports it (created_by_ref, else where_sighted_refs[0]). */
  readonly organisation: string | undefined;
  /** The sighting (or an opinion) says the indicator fired on benign activity. */
  readonly falsePositive: boolean;
  /** last_seen (else first_seen, else created) of the sighting; epoch ms. */
  readonly seenAt: number | undefined;
}

export interface ConfidenceInputs {
  readonly statedConfidence: number | undefined;
  /** The indicator's producer: its own sightings do not corroborate it. */
  readonly producer: string | undefined;
  /** Epoch ms of valid_from (or modified): when the producer last vouched for it. */
  readonly since: number;
  readonly sightings: readonly SightingEvidence[];
  readonly now: number;
  readonly halfLifeDays?: number;
  /** The reputation of the organisation the indicator came from, a multiplier in [0.2, 1]; absent: 1. */
  readonly sourceReputation?: number;
  /** Organisations other than the producer that published the same pattern or observable value. */
  readonly corroboratingSources?: readonly string[];
  /** Maps an organisation a sighting or the producer names to the organisation counted; absent: itself. */
  readonly organisationOf?: (organisation: string) => string;
}

export type Severity = 'none' | 'low' | 'medium' | 'high';

const corroborationStep = 0.2;
const dayMs = 86_400_000;

export function effectiveConfidence(inputs: ConfidenceInputs): number {
  const stated = inputs.statedConfidence;
  let confidence = typeof stated === 'number' && Number.isFinite(stated) ? Math.max(0, Math.min(100, stated)) : 50;
  const reputation = inputs.sourceReputation;
  if (typeof reputation === 'number' && Number.isFinite(reputation)) confidence *= Math.max(0, Math.min(1, reputation));
  const organisationOf = inputs.organisationOf ?? ((organisation: string): string => organisation);
  const producer = inputs.producer === undefined ? undefined : organisationOf(inputs.producer);
  const corroborating = new Set<string>();
  const disputing = new Set<string>();
  let lastVouched = inputs.since;
  let anonymousFalsePositives = 0;
  for (const sighting of inputs.sightings) {
    const organisation = sighting.organisation === undefined ? undefined : organisationOf(sighting.organisation);
    if (sighting.falsePositive) {
      if (organisation === undefined) anonymousFalsePositives++;
      else disputing.add(organisation);
      continue;
    }
    if (sighting.seenAt !== undefined && sighting.seenAt > lastVouched) lastVouched = sighting.seenAt;
    if (organisation !== undefined && organisation !== producer) corroborating.add(organisation);
  }
  for (const source of inputs.corroboratingSources ?? []) {
    const organisation = organisationOf(source);
    if (organisation !== producer) corroborating.add(organisation);
  }
  for (const organisation of corroborating) if (!disputing.has(organisation)) confidence += (100 - confidence) * corroborationStep;
  confidence *= 0.5 ** (disputing.size + Math.min(anonymousFalsePositives, 1));
  const halfLife = inputs.halfLifeDays ?? 180;
  const ageDays = Math.max(0, inputs.now - lastVouched) / dayMs;
  if (halfLife > 0) confidence *= 0.5 ** (ageDays / halfLife);
  return Math.round(confidence);
}

/**
 * What federation adds to an indicator's confidence as one collection's data alone tells it
 * (federation/load-source-reputation.ts, CollectionReputation).
 */
export interface CollectionFederation {
  /** The record of the indicator's source (another member) from this collection's indicators and reports. */
  readonly producerRecord?: SourceRecord;
  /** Other sources that published one of its values in this collection. */
  readonly corroboratingSources?: readonly string[];
  /** Identity → the member whose node sent that identity here, for the organisations the basis names. */
  readonly identities?: Readonly<Record<string, string>>;
}

/** What a basis asks federation about: its source (`reputed`: another member's), and the organisations it names. */
export interface FederationAbout {
  readonly producer: string | undefined;
  readonly reputed: boolean;
  readonly organisations: ReadonlySet<string>;
}

/**
 * What an alert's confidence is computed from, kept with the alert so that each token is shown the
 * confidence of what it may read (one matcher serves every collection of the node): the inputs that
 * come from the version matched; per collection, the sightings and opinions it holds about the
 * indicator, summarised to what effectiveConfidence counts (one per organisation and kind, the latest
 * seen); and per collection what federation adds from that collection's data alone (the source's
 * record, corroborating sources, which member stands behind an identity). The node-wide reputation,
 * corroboration and identities are not in it: they count collections a reader may not read. Plain
 * data: it crosses the workers' IPC channel with the alert.
 */
export interface ConfidenceBasis {
  readonly inputs: Omit<ConfidenceInputs, 'sightings' | 'organisationOf' | 'sourceReputation' | 'corroboratingSources'>;
  /** The indicator came from another member: its source's reputation applies. Absent: no. */
  readonly reputed?: boolean;
  readonly byCollection: Readonly<Record<string, readonly SightingEvidence[]>>;
  /** Absent: nothing (a node in no federation). */
  readonly federation?: Readonly<Record<string, CollectionFederation>>;
}

/**
 * Whether readers of different collections may be shown different confidences even with no evidence
 * held: the node-wide inputs count a source's reputation or other members' copies.
 */
export function dependsOnReader(inputs: Omit<ConfidenceInputs, 'sightings'>): boolean {
  return inputs.sourceReputation !== undefined || inputs.corroboratingSources !== undefined;
}

/**
 * The basis of a confidence from its inputs (node-wide: only whether a reputation applies is kept),
 * the evidence held, each with the collection holding it, and what federation adds per collection.
 */
export function confidenceBasis(
  inputs: Omit<ConfidenceInputs, 'sightings'>,
  held: Iterable<{ readonly collectionId: string; readonly evidence: SightingEvidence }>,
  federation?: (about: FederationAbout) => Readonly<Record<string, CollectionFederation>>,
): ConfidenceBasis {
  const { organisationOf: _nodeWide, sourceReputation, corroboratingSources, ...rest } = inputs;
  const organisations = new Set<string>(rest.producer === undefined ? [] : [rest.producer]);
  const byCollection = new Map<string, Map<string, SightingEvidence>>();
  for (const { collectionId, evidence } of held) {
    // As named: who stands behind an identity is the reader's to learn from the collections it reads.
    const organisation = evidence.organisation;
    if (organisation !== undefined) organisations.add(organisation);
    // A false positive's time is not counted; a true sighting's latest time is (lastVouched).
    const key = `${evidence.falsePositive ? 'fp' : 'seen'}\u0000${organisation === undefined ? '' : `=${organisation}`}`;
    const summary = byCollection.get(collectionId) ?? new Map<string, SightingEvidence>();
    byCollection.set(collectionId, summary);
    const kept = summary.get(key);
    if (kept === undefined || (evidence.seenAt !== undefined && (kept.seenAt === undefined || evidence.seenAt > kept.seenAt))) {
      summary.set(key, { organisation, falsePositive: evidence.falsePositive, seenAt: evidence.seenAt });
    }
  }
  const reputed = sourceReputation !== undefined;
  const federated = federation === undefined || (!reputed && corroboratingSources === undefined && organisations.size === 0) ? {} : federation({ producer: rest.producer, reputed, organisations });
  return {
    inputs: rest,
    reputed,
    byCollection: Object.fromEntries([...byCollection].map(([collectionId, summary]) => [collectionId, [...summary.values()]])),
    federation: federated,
  };
}

/**
 * The confidence shown to a reader: from the evidence, and what federation adds, of the collections
 * `reads` accepts only. The source's reputation is that of its records there, summed (neutral where
 * they hold none); an identity counts as the member that sent it into one of them (the first by
 * collection id).
 */
export function confidenceIn(basis: ConfidenceBasis, reads: (collectionId: string) => boolean): number {
  const sightings = Object.entries(basis.byCollection).flatMap(([collectionId, evidence]) => (reads(collectionId) ? evidence : []));
  const federation = basis.federation ?? {};
  const readable = Object.keys(federation).filter(reads).sort();
  const identities = new Map<string, string>();
  const corroborating = new Set<string>();
  const record = { indicators: 0, bad: 0, corroborated: 0 };
  for (const collectionId of readable) {
    const here = federation[collectionId];
    if (here === undefined) continue;
    for (const [identity, member] of Object.entries(here.identities ?? {})) if (!identities.has(identity)) identities.set(identity, member);
    for (const source of here.corroboratingSources ?? []) corroborating.add(source);
    if (here.producerRecord !== undefined) {
      record.indicators += here.producerRecord.indicators;
      record.bad += here.producerRecord.bad;
      record.corroborated += here.producerRecord.corroborated;
    }
  }
  return effectiveConfidence({
    ...basis.inputs,
    sightings,
    ...(identities.size === 0 ? {} : { organisationOf: (organisation: string): string => identities.get(organisation) ?? organisation }),
    ...(corroborating.size === 0 ? {} : { corroboratingSources: [...corroborating] }),
    ...(basis.reputed === true ? { sourceReputation: reputationOfRecord(record) } : {}),
  });
}

export function severityOf(confidence: number): Severity {
  if (confidence >= 70) return 'high';
  if (confidence >= 30) return 'medium';
  if (confidence >= 1) return 'low';
  return 'none';
}

type JsonRecord = Readonly<Record<string, unknown>>;

/**
 * What a stored object says about an indicator: a sighting of it (`sighting_of_ref`), or an opinion on
 * it. A sighting counts as a false positive when it carries `x_entente_false_positive: true` or the label
 * `false-positive`; an opinion does when it disagrees (`disagree`, `strongly-disagree`).
 */
export function sightingEvidence(object: JsonRecord, indicatorId: string): SightingEvidence | undefined {
  const time = (value: unknown): number | undefined => {
    const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    return Number.isNaN(ms) ? undefined : ms;
  };
  const creator = typeof object['created_by_ref'] === 'string' ? object['created_by_ref'] : undefined;
  if (object['type'] === 'sighting' && object['sighting_of_ref'] === indicatorId) {
    const where = Array.isArray(object['where_sighted_refs']) ? object['where_sighted_refs'][0] : undefined;
    const labels = Array.isArray(object['labels']) ? object['labels'] : [];
    return {
      organisation: creator ?? (typeof where === 'string' ? where : undefined),
      falsePositive: object['x_entente_false_positive'] === true || labels.includes('false-positive'),
      seenAt: time(object['last_seen']) ?? time(object['first_seen']) ?? time(object['created']),
    };
  }
  if (object['type'] === 'opinion' && Array.isArray(object['object_refs']) && object['object_refs'].includes(indicatorId)) {
    const opinion = object['opinion'];
    if (opinion !== 'disagree' && opinion !== 'strongly-disagree') return undefined;
    return { organisation: creator, falsePositive: true, seenAt: time(object['created']) };
  }
  return undefined;
}
