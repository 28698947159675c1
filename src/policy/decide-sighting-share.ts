// May the home organisation's sighting of one of a circle's indicators go back into that circle —
// and in what form? Pure: the circle, its agreement state and the time are passed in.
//
// This decides what the home organisation *puts into* the circle's collection; what then leaves for
// each member is still the release decision's (decide-circle-release.ts), as for anything else in
// the collection. The rules, in order:
//
// 1. the circle is open and the home organisation a member at `at`;
// 2. the terms that bind the home organisation (the version it accepted; on a coordinator's own node,
//    the newest version it proposed) say `sighting_sharing` other than `none` (absent: none);
// 3. `sighting` is in the agreement's scope (the release decision would withhold it anyway);
// 4. the sighting's TLP is the stricter of the indicator's (every TLP marking it carries, object-level
//    or granular, else the circle's default) and the circle's default: a sighting reveals the
//    indicator it names and that this organisation was hit by it, so it is never more open than
//    either; RED is not shared, nor a level above the agreement's `highest_tlp`. The indicator's other
//    markings (recipients, weakness, statements, TLP definitions of its own) go on everything the
//    share creates (`markings`): they narrow who may learn of the indicator, and so of its sighting
//    and the evidence holding its value. A marking this node cannot read in the circle's collection
//    keeps the sighting home (it might narrow further than can be told);
// 5. the observed-data goes too only under `evidence`, and only when `observed-data` and every
//    observable type in it are in scope (else a reference the release decision withholds would
//    withhold the whole sighting): otherwise the summary alone is shared;
// 6. `where_sighted_refs` names the home organisation only when the agreement keeps attribution and
//    `identity` is in scope (the release decision releases a sighting only when its identity goes
//    with it); under `anonymise` it is left out, as `created_by_ref` is removed on release.
import { bindingAgreement, type Agreement, type AgreementState, type Attribution, type BindingAgreement } from './agreement.ts';
import { circleClosedReason, membershipAt, type Circle } from './circle.ts';
import { classifyMarking } from './classify-marking.ts';
import { stricterOf, tlpRank, type TlpLevel } from './tlp.ts';
import { addMarkingRefs } from '../stix/add-marking-refs.ts';
import type { JsonObject } from '../stix/types.ts';

export interface SightingShareRequest {
  readonly circle: Circle;
  readonly agreements: AgreementState;
  readonly homeOrganisationId: string;
  /** The latest version of the indicator sighted, as the circle's collection holds it. */
  readonly indicator: Readonly<Record<string, unknown>>;
  /** The types of the sighting's observed-data and of the observables in it (empty when it has none). */
  readonly evidenceTypes: readonly string[];
  /**
   * The definitions of the indicator's markings that the circle's collection holds (as the release
   * gate reads them there); official TLP ids need none. Absent: none, so any other marking keeps it home.
   */
  readonly markingDefinitions?: ReadonlyMap<string, JsonObject>;
  readonly at: Date;
}

export type SightingShareDecision =
  | {
      readonly kind: 'share';
      readonly tlp: TlpLevel;
      /** The indicator's markings other than official TLP ids: the sighting and its evidence carry them too. */
      readonly markings: readonly string[];
      /** Share the observed-data and its observables with the sighting. */
      readonly evidence: boolean;
      /** Name the home organisation in `where_sighted_refs`. */
      readonly whereSighted: boolean;
      /** The agreement's scope labels the indicator carries: the shared sighting carries them too. */
      readonly labels: readonly string[];
      readonly agreementVersion: number;
      readonly reasons: readonly string[];
    }
  | { readonly kind: 'keep'; readonly reasons: readonly string[] };

const keep = (reason: string): SightingShareDecision => ({ kind: 'keep', reasons: [reason] });

export function decideSightingShare(request: SightingShareRequest): SightingShareDecision {
  const { circle, at, homeOrganisationId: home } = request;
  const closed = circleClosedReason(circle, at);
  if (closed !== undefined) return keep(`circle-window: ${closed}`);
  const membership = membershipAt(circle, home, at);
  if (membership.kind === 'not-member') return keep(`membership: ${membership.reason}`);
  const binding = termsBindingHome(request.agreements, circle, home, membership.member.role, at);
  if (binding.kind === 'unbound') return keep(`agreement: ${binding.reason}`);
  const { version, terms } = binding.agreement;
  const sharing = terms.sightingSharing ?? 'none';
  if (sharing === 'none') return keep(`sighting-sharing: agreement v${version} keeps sightings on the member's node (sighting_sharing: none)`);
  const types = terms.scope.types;
  if (!types.includes('sighting')) return keep(`scope.types: sighting is outside the scope of agreement v${version}`);

  const governing = indicatorMarkings(request.indicator, request.markingDefinitions ?? new Map(), circle.defaultTlp);
  if (governing.kind === 'unknown') return keep(`marking.unknown: ${governing.reason}; the sighting would carry a marking this node cannot read`);
  const { level, markings } = governing;
  if (level === 'red') return keep('tlp.red: a sighting of a TLP:RED indicator would need its named recipients; it stays here');
  if (tlpRank(level) > tlpRank(terms.highestTlp)) {
    return keep(`tlp.highest: the sighting would be TLP:${level.toUpperCase()}, above TLP:${terms.highestTlp.toUpperCase()} that agreement v${version} allows`);
  }

  const reasons = [`sighting-sharing: agreement v${version} shares sightings (${sharing})`, `tlp: TLP:${level.toUpperCase()}`];
  if (markings.length > 0) reasons.push(`markings: the indicator's ${markings.join(', ')} go with it`);
  let evidence = false;
  if (sharing === 'evidence' && request.evidenceTypes.length > 0) {
    const outside = request.evidenceTypes.filter((type) => !types.includes(type));
    evidence = outside.length === 0;
    reasons.push(evidence ? 'evidence: observed-data shared' : `evidence: summary only, ${[...new Set(outside)].join(', ')} outside the scope`);
  }
  const whereSighted = whereSightedAllowed(terms.attribution, types);
  const scopeLabels = terms.scope.labels;
  const labels = scopeLabels === undefined ? [] : labelsOf(request.indicator).filter((label) => scopeLabels.includes(label));
  if (scopeLabels !== undefined && labels.length === 0) return keep(`scope.labels: the indicator carries none of the labels agreement v${version} shares`);
  return { kind: 'share', tlp: level, markings, evidence, whereSighted, labels, agreementVersion: version, reasons };
}

type GoverningMarkings = { readonly kind: 'known'; readonly level: TlpLevel; readonly markings: readonly string[] } | { readonly kind: 'unknown'; readonly reason: string };

/**
 * The strictest TLP among the indicator's markings (granular ones too: a granular marking on its
 * pattern governs the value its evidence holds) and the circle's default, and the markings other than
 * official TLP ids, carried as they are.
 */
function indicatorMarkings(indicator: Readonly<Record<string, unknown>>, definitions: ReadonlyMap<string, JsonObject>, defaultTlp: TlpLevel): GoverningMarkings {
  const refs = new Set<string>();
  addMarkingRefs(indicator, refs);
  let level = defaultTlp;
  const markings: string[] = [];
  for (const ref of refs) {
    const marking = classifyMarking(ref, definitions);
    if (marking.kind === 'unknown') return { kind: 'unknown', reason: marking.reason };
    if (marking.kind === 'tlp') level = stricterOf(level, marking.level);
    if (marking.kind !== 'tlp' || !marking.official) markings.push(ref);
  }
  return { kind: 'known', level, markings };
}

/**
 * A member is bound by the highest version it accepted; a coordinator accepts nothing on its own node
 * (it wrote the terms), so there it is bound by the newest version it proposed — the same rule the
 * member's mirror applies to the coordinator (docs/federation.md, "Circle mirror").
 */
function termsBindingHome(state: AgreementState, circle: Circle, home: string, role: string, at: Date): BindingAgreement | { kind: 'proposed'; agreement: Agreement } {
  const accepted = bindingAgreement(state, circle, home, at);
  if (accepted.kind === 'bound' || role !== 'coordinator') return accepted;
  const proposed = state.agreements
    .filter((agreement) => agreement.circleId === circle.id && agreement.proposedBy === home && Date.parse(agreement.proposedAt) <= at.getTime())
    .sort((x, y) => y.version - x.version)[0];
  return proposed === undefined ? accepted : { kind: 'proposed', agreement: proposed };
}

function whereSightedAllowed(attribution: Attribution, types: readonly string[]): boolean {
  return attribution === 'keep' && types.includes('identity');
}

function labelsOf(object: Readonly<Record<string, unknown>>): string[] {
  const labels = object['labels'];
  return Array.isArray(labels) ? labels.filter((label): label is string => typeof label === 'string') : [];
}
