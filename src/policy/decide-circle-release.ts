import { ENTENTE_SIGNATURE_EXTENSION_ID, ententeSignatureOf, withoutEntenteSignature } from '../stix/entente-signature.ts';
import { SCO_ID_CONTRIBUTING_PROPERTIES } from '../stix/ids.ts';
import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';
import { bindingAgreement, stricterOnwardSharing, type Agreement, type AgreementAcceptance, type AgreementState, type OnwardSharing } from './agreement.ts';
import { circleClosedReason, membershipAt, type Circle, type CircleMember } from './circle.ts';
import { classifyMarking, type MarkingClass } from './classify-marking.ts';
import { stricterOf, tlpRank, type TlpLevel } from './tlp.ts';

/** One object version with what the decision needs to read its markings. */
export interface ReleaseSubjectWithObject {
  /** The version's JSON, parsed. */
  readonly object: StixObject;
  /** The marking-definition objects this version references (by id), as the node holds them. */
  readonly markingDefinitions: ReadonlyMap<string, JsonObject>;
  /**
   * Set when this node received the version from a circle rather than creating it: releasing it
   * again is onward sharing, governed by the terms it was received under (resolved by the caller).
   */
  readonly receivedVia?: ReceivedVia;
  /**
   * Another organisation than the recipient sent this node the version (through any circle, this
   * one included): its TLP:AMBER+STRICT and TLP:RED content is not released again (rule 8).
   */
  readonly secondHand?: boolean;
  /**
   * The organisations whose contribution put this version into this circle's collection (rule 3a):
   * the partners that sent it here, the recipient alone when it sent it here itself. Absent: the
   * releasing organisation's own version (the standing's `releasingOrganisationId`; nobody is
   * checked when that is not known either). Each must have agreed to terms with the recipient in
   * the circle before the version goes to it.
   */
  readonly contributors?: readonly string[];
}

/** How a version another organisation sent reached this node through other circles than the releasing one. */
export interface ReceivedVia {
  /** The circle whose terms are the strictest it arrived under (`collection:<id>` when outside any circle). */
  readonly circleId: string;
  /** The onward sharing the terms binding the contributor in `circleId` allow now. */
  readonly onwardSharing: OnwardSharing;
  /**
   * The onward sharing the terms binding the contributor allowed when the version arrived (as the
   * store recorded it then). It is released onward only when both these and `onwardSharing` allow
   * it: a circle that loosens its terms later does not loosen them for what partners gave under the
   * stricter ones, and one that tightens them tightens them for everything. Required, so that no
   * caller can describe an arrival and forget the terms it came under.
   */
  readonly arrivalOnwardSharing: OnwardSharing;
  /**
   * The strictest `default_tlp` of every circle it arrived through (not only `circleId`'s), read at
   * decision time; 'red' when one of them is not known (fail closed). Without a published TLP
   * marking the version stood at that level where it arrived, and it stands at no lower level here:
   * required, so that no caller can describe an arrival and forget its level.
   */
  readonly arrivalDefaultTlp: TlpLevel;
}

/** The organisation a release would go to, with the sectors of its STIX identity. */
export interface CircleRecipient {
  readonly organisationId: string;
  readonly sectors: readonly string[];
}

/** What the release decision said about an object that another object refers to; undefined when unknown. */
export type ReferenceLookup = (id: string) => 'share' | 'redact' | 'withhold' | undefined;

export type CircleReleaseDecision =
  | { readonly kind: 'share'; readonly reasons: readonly string[]; readonly agreementVersion: number }
  | {
      readonly kind: 'redact';
      /** JSONPaths of what was removed (`$.description`, `$.object_refs[2]`). */
      readonly fields: readonly string[];
      readonly redacted: StixObject;
      readonly reasons: readonly string[];
      readonly agreementVersion: number;
    }
  | { readonly kind: 'withhold'; readonly reasons: readonly string[]; readonly agreementVersion?: number };

const COMMON_REQUIRED = ['type', 'id', 'spec_version', 'created', 'modified'];
/** Never redacted: removing them would drop markings from the released copy or break its meaning. */
const NEVER_REDACTED = ['object_marking_refs', 'granular_markings', 'extensions'];
/** STIX 2.1 required properties per type; a redaction touching one of these withholds instead. */
const REQUIRED_BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  'attack-pattern': ['name'],
  campaign: ['name'],
  'course-of-action': ['name'],
  grouping: ['context', 'object_refs'],
  identity: ['name'],
  incident: ['name'],
  indicator: ['pattern', 'pattern_type', 'valid_from'],
  infrastructure: ['name'],
  'intrusion-set': ['name'],
  location: ['region', 'country', 'latitude', 'longitude'],
  malware: ['is_family'],
  'malware-analysis': ['product'],
  note: ['content', 'object_refs'],
  'observed-data': ['first_observed', 'last_observed', 'number_observed', 'object_refs'],
  opinion: ['opinion', 'object_refs'],
  report: ['name', 'published', 'object_refs'],
  'threat-actor': ['name'],
  tool: ['name'],
  vulnerability: ['name'],
  relationship: ['relationship_type', 'source_ref', 'target_ref'],
  sighting: ['sighting_of_ref'],
  'marking-definition': ['name', 'definition_type', 'definition'],
};
const CONTAINERS = new Set(['report', 'grouping', 'note', 'opinion']);
const REFERENCE_KEY = /_refs?$/;
const NOT_REVEALING = new Set(['created_by_ref', 'object_marking_refs']);
const MAX_SELECTOR_LENGTH = 512;
/** Never scanned for SCO ids: the object's own id, and properties that name no observable. */
const NOT_NAMING_SCOS = new Set(['id', 'created_by_ref', 'object_marking_refs', 'granular_markings']);
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** The redaction field of an Entente signature removed from the copy. */
const SIGNATURE_FIELD = `$.extensions['${ENTENTE_SIGNATURE_EXTENSION_ID}']`;

/** The ID Contributing Properties of a STIX 2.1 SCO type; none for any other type. */
function idContributingProperties(type: string): readonly string[] {
  // Own entries only: a type is the sender's text, and `constructor` must find no list.
  return Object.hasOwn(SCO_ID_CONTRIBUTING_PROPERTIES, type) ? (SCO_ID_CONTRIBUTING_PROPERTIES[type] ?? []) : [];
}

/**
 * True for the id of an SCO whose type derives its id from its content (STIX 2.1 §2.9: UUIDv5 over
 * its ID Contributing Properties). Such an id names the observable: an address's id is found by
 * trying addresses. `process` has none (its ids are random), and custom SCO types cannot be told
 * from SDOs by their type.
 */
function isContentDerivedScoId(text: string): boolean {
  // Every string of every released object is asked: the length and the "--" before a 36-character
  // UUID are checked first, so that a description is never scanned.
  const separator = text.length - 38;
  if (separator <= 0 || separator > LONGEST_SCO_TYPE || text.charCodeAt(separator) !== HYPHEN || text.charCodeAt(separator + 1) !== HYPHEN) return false;
  return idContributingProperties(text.slice(0, separator)).length > 0 && UUID.test(text.slice(separator + 2));
}

const HYPHEN = 0x2d;
const LONGEST_SCO_TYPE = Math.max(...Object.keys(SCO_ID_CONTRIBUTING_PROPERTIES).map((type) => type.length));

/** Adds the content-derived SCO ids found in `value` to `into` (made on the first one found). */
function collectScoIds(value: JsonValue | undefined, into: Set<string> | undefined): Set<string> | undefined {
  if (typeof value === 'string') {
    if (!isContentDerivedScoId(value)) return into;
    const found = into ?? new Set<string>();
    found.add(value);
    return found;
  }
  let found = into;
  if (Array.isArray(value)) {
    for (const item of value) found = collectScoIds(item, found);
  } else if (isRecord(value)) {
    for (const key in value) if (Object.hasOwn(value, key)) found = collectScoIds(value[key], found);
  }
  return found;
}

/**
 * The ids of content-derived SCOs (isContentDerivedScoId) this object names, by the top-level
 * property they sit in, anywhere in it (`to_refs`, `body_multipart.[0].body_raw_ref`, an extension),
 * but its own id, its creator and its markings. What the release gate must look up so that no such
 * id leaves unless its SCO does (src/release/open-release-gate.ts).
 */
export function scoIdsNamedBy(object: StixObject): ReadonlyMap<string, readonly string[]> {
  const named = new Map<string, string[]>();
  for (const key in object) {
    if (!Object.hasOwn(object, key) || NOT_NAMING_SCOS.has(key)) continue;
    const ids = collectScoIds(object[key], undefined);
    if (ids !== undefined) named.set(key, [...ids]);
  }
  return named;
}

function isRecord(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(record: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Resolves a STIX granular-marking selector (`description`, `labels.[1]`,
 * `kill_chain_phases.[0].phase_name`) against the object; returns its top-level property, or
 * undefined when the selector does not resolve (the STIX spec makes that an error).
 */
function selectedTopLevel(object: JsonObject, selector: string): string | undefined {
  if (selector.length === 0 || selector.length > MAX_SELECTOR_LENGTH) return undefined;
  const segments = selector.split('.');
  let current: JsonValue | undefined = object;
  for (const segment of segments) {
    const index = /^\[(0|[1-9][0-9]{0,5})\]$/.exec(segment);
    if (index !== null) {
      if (!Array.isArray(current)) return undefined;
      current = current[Number(index[1])];
    } else {
      if (!isRecord(current) || segment.length === 0 || !Object.hasOwn(current, segment)) return undefined;
      current = current[segment];
    }
    if (current === undefined) return undefined;
  }
  return segments[0];
}

interface Context {
  readonly circle: Circle;
  readonly member: CircleMember;
  readonly recipient: CircleRecipient;
  readonly highestTlp: TlpLevel;
  readonly relay: boolean;
  readonly secondHand: boolean;
  /** The recipient is named on at least one object-level recipients marking, and on all of them. */
  readonly named: boolean;
}

/** Why content at this TLP level may not go to the recipient, or undefined when it may. */
function tlpRefusal(level: TlpLevel, context: Context, agreementVersion: number): string | undefined {
  const label = `TLP:${level.toUpperCase()}`;
  if (tlpRank(level) > tlpRank(context.highestTlp)) {
    return `tlp.highest: ${label} is above TLP:${context.highestTlp.toUpperCase()}, the highest agreement v${agreementVersion} allows`;
  }
  if (context.member.trial && tlpRank(level) > tlpRank('green')) {
    return `tlp.trial: ${context.recipient.organisationId} is a trial member; ${label} needs full membership`;
  }
  if (context.relay && tlpRank(level) > tlpRank('green')) {
    return `tlp.onward: ${label} received from a circle is never released again (only CLEAR and GREEN travel on)`;
  }
  if (context.secondHand && (level === 'amber+strict' || level === 'red')) {
    return `tlp.second-hand: ${label} another organisation sent this node is not passed on; its source shares it first-hand`;
  }
  if (level === 'red' && !context.named) {
    return `tlp.red: TLP:RED goes only to recipients named on the object, and ${context.recipient.organisationId} is not`;
  }
  return undefined;
}

/** Why content under this (non-TLP) marking may not go to the recipient, or undefined when it may. */
function markingRefusal(marking: MarkingClass, ref: string, context: Context): string | undefined {
  switch (marking.kind) {
    case 'unknown':
      return `marking.unknown: ${marking.reason}`;
    case 'recipients':
      return marking.organisationIds.includes(context.recipient.organisationId)
        ? undefined
        : `marking.recipients: ${ref} does not name ${context.recipient.organisationId}`;
    case 'weakness':
      return marking.organisationIds.includes(context.recipient.organisationId) || marking.circleIds.includes(context.circle.id)
        ? undefined
        : `marking.weakness: weakness disclosure ${ref} names neither ${context.recipient.organisationId} nor circle ${context.circle.id}`;
    case 'statement':
    case 'tlp':
      return undefined;
  }
}

function withhold(reasons: readonly string[], agreementVersion?: number): CircleReleaseDecision {
  return agreementVersion === undefined ? { kind: 'withhold', reasons } : { kind: 'withhold', reasons, agreementVersion };
}

/**
 * What the circle rules conclude about the recipient alone, through one circle at one instant: the
 * rules that read no object (circle window, membership, binding agreement). Computed once for a
 * page of objects (src/release/open-release-gate.ts) instead of once per object; every object still
 * goes through decideCircleReleaseFor, which applies the refusal or the object rules.
 */
export type CircleStanding =
  | { readonly kind: 'refused'; readonly decision: CircleReleaseDecision }
  | {
      readonly kind: 'bound';
      readonly circle: Circle;
      readonly recipient: CircleRecipient;
      readonly member: CircleMember;
      readonly agreement: Agreement;
      /** The first reason of every decision taken under this standing. */
      readonly agreementReason: string;
      /** The circle's coordinators (seen by every member even in a hidden circle). */
      readonly coordinators: ReadonlySet<string>;
      /** This node's organisation, when known: the recipient knows it receives from it. */
      readonly releasingOrganisationId?: string;
      /**
       * Why a version contributed through the circle by this organisation may not go to the
       * recipient (rule 3a, a member added after the contributor last agreed to terms), or undefined
       * when it may. Worked out once per contributor for the standing.
       */
      readonly contributorRefusal: (contributorId: string) => string | undefined;
    };

export function decideCircleStanding(
  recipient: CircleRecipient,
  circle: Circle,
  agreements: AgreementState,
  at: Date,
  agreementClockSkewMs = 0,
  /**
   * The organisation releasing (this node's): only terms it accepted or proposed too bind the
   * recipient (bindingAgreement), and anonymising terms leave its own signature in place. Absent:
   * every signature but the recipient's is removed under anonymising terms.
   */
  releasingOrganisationId?: string,
): CircleStanding {
  const org = recipient.organisationId;
  const closed = circleClosedReason(circle, at);
  if (closed !== undefined) return { kind: 'refused', decision: withhold([`circle-window: ${closed}`]) };
  const membership = membershipAt(circle, org, at);
  if (membership.kind === 'not-member') return { kind: 'refused', decision: withhold([`membership: ${membership.reason}`]) };
  const binding = bindingAgreement(agreements, circle, org, at, agreementClockSkewMs, releasingOrganisationId);
  if (binding.kind === 'unbound') return { kind: 'refused', decision: withhold([`agreement: ${binding.reason}`]) };
  const member = membership.member;
  const refusals = new Map<string, string | undefined>();
  // Rule 3a asks each contributor's binding acceptance, which reads only that organisation's and the
  // releasing one's acceptances: grouped once, so that asking every member of a wide circle (the gate
  // does, to know whether relayed versions need their originators) costs the acceptances once, not
  // once a member (200 members with 5 versions each: 3.6 ms a request before, 1.4 ms after).
  let byOrganisation: Map<string, AgreementAcceptance[]> | undefined;
  const acceptancesOf = (organisationId: string): readonly AgreementAcceptance[] => {
    if (byOrganisation === undefined) {
      byOrganisation = new Map();
      for (const acceptance of agreements.acceptances) {
        const list = byOrganisation.get(acceptance.organisationId);
        if (list === undefined) byOrganisation.set(acceptance.organisationId, [acceptance]);
        else list.push(acceptance);
      }
    }
    return byOrganisation.get(organisationId) ?? [];
  };
  const narrowedTo = (contributorId: string): AgreementState => ({
    agreements: agreements.agreements,
    acceptances:
      releasingOrganisationId === undefined || releasingOrganisationId === contributorId
        ? acceptancesOf(contributorId)
        : [...acceptancesOf(contributorId), ...acceptancesOf(releasingOrganisationId)],
  });
  return {
    kind: 'bound',
    circle,
    recipient,
    member,
    agreement: binding.agreement,
    agreementReason: `agreement: v${binding.agreement.version} accepted by ${org} at ${binding.acceptance.acceptedAt}`,
    coordinators: new Set(circle.members.filter((m) => m.role === 'coordinator').map((m) => m.organisationId)),
    ...(releasingOrganisationId === undefined ? {} : { releasingOrganisationId }),
    contributorRefusal(contributorId) {
      if (!refusals.has(contributorId)) {
        refusals.set(contributorId, newcomerRefusal(circle, narrowedTo(contributorId), member, contributorId, at, agreementClockSkewMs, releasingOrganisationId));
      }
      return refusals.get(contributorId);
    },
  };
}

/**
 * Rule 3a: why what `contributorId` contributed through the circle may not go to `member`, or
 * undefined when it may. A coordinator adds members alone; the others accepted terms that said
 * nothing of who would join later, and a two-member circle made wider by its coordinator must not
 * hand one member's intelligence to a third party it never agreed to share with. So a contributor
 * covers a member only once it agreed to terms with that member in the circle: the acceptance that
 * binds it (bindingAgreement, as this node agreed to the terms too) was made at or after the member
 * joined. A coordinator covers every member that joined while it coordinated (coordinators decide
 * who is in); the member covers itself. What the contributor sent before and after the newcomer
 * joined is treated alike: a contribution records no time, and terms accepted with the newcomer in
 * are the contributor's word that the circle, as it is, may have what it shares.
 */
function newcomerRefusal(
  circle: Circle,
  agreements: AgreementState,
  member: CircleMember,
  contributorId: string,
  at: Date,
  agreementClockSkewMs: number,
  releasingOrganisationId: string | undefined,
): string | undefined {
  if (contributorId === member.organisationId) return undefined;
  const joined = Date.parse(member.joinedAt);
  const contributor = circle.members.find((candidate) => candidate.organisationId === contributorId);
  if (contributor?.role === 'coordinator' && (contributor.leftAt === undefined || joined < Date.parse(contributor.leftAt))) return undefined;
  const binding = bindingAgreement(agreements, circle, contributorId, at, agreementClockSkewMs, releasingOrganisationId);
  if (binding.kind === 'bound' && Date.parse(binding.acceptance.acceptedAt) >= joined) return undefined;
  const why =
    binding.kind === 'unbound'
      ? binding.reason
      : `${contributorId} accepted agreement v${binding.agreement.version} at ${binding.acceptance.acceptedAt}, before ${member.organisationId} joined circle ${circle.id} at ${member.joinedAt}`;
  return `newcomer: the version was contributed by ${contributorId}, which has not agreed to terms with ${member.organisationId} in the circle (${why}); it goes to ${member.organisationId} once ${contributorId} accepts terms after that (the next version a coordinator proposes; the same terms will do)`;
}

/** The types whose every reference must itself be released before they are: they reveal what they point to. */
export function revealsReferences(type: string): boolean {
  return type === 'relationship' || type === 'sighting' || type === 'observed-data';
}

/**
 * The rule that a relationship, a sighting or an observed-data is released only when every object it
 * reveals is (every `*_ref(s)` but its creator and markings): why `object` may not go to `org` under
 * `lookup` (the decisions about what it names), or undefined when it may. A sighting names its
 * indicator by id and its evidence holds the value matched: released without the indicator, it
 * would give both away. The circle rules apply it, and so does the home sightings collection's
 * decision for the home's own readers (decide-release.ts decideHomeSightingsRelease).
 */
export function revealedReferenceRefusal(object: StixObject, lookup: ReferenceLookup, org: string): string | undefined {
  for (const [key, value] of Object.entries(object)) {
    if (!REFERENCE_KEY.test(key) || NOT_REVEALING.has(key)) continue;
    const ids = Array.isArray(value) ? value : [value];
    for (const id of ids) {
      if (typeof id !== 'string') return `reference: ${key} is malformed`;
      const referenced = lookup(id);
      if (referenced !== 'share' && referenced !== 'redact') {
        return `reference: ${key} points to ${id}, which ${referenced === undefined ? 'is unknown here' : 'is withheld'} for ${org}`;
      }
    }
  }
  return undefined;
}

/** Properties a redaction of this object may not remove: the common and type-required ones, and a relationship's references. */
function requiredProperties(object: StixObject, isRelationshipLike: boolean): ReadonlySet<string> {
  // Own properties only: a type is the sender's text, and `constructor` would read Object (not iterable).
  const ofType = Object.hasOwn(REQUIRED_BY_TYPE, object.type) ? (REQUIRED_BY_TYPE[object.type] ?? []) : [];
  const required = new Set([...COMMON_REQUIRED, ...NEVER_REDACTED, ...ofType]);
  if (isRelationshipLike) for (const key of Object.keys(object)) if (REFERENCE_KEY.test(key)) required.add(key);
  return required;
}

/** True when a hidden circle hides organisation `id` from the recipient (neither itself nor a coordinator). */
function hiddenFrom(standing: Extract<CircleStanding, { kind: 'bound' }>, id: string): boolean {
  return standing.circle.visibility === 'hidden' && id !== standing.recipient.organisationId && !standing.coordinators.has(id);
}

/**
 * May this object version go to this organisation through this circle at this instant, in full,
 * redacted, or not at all — and why. Pure: the time, the agreement state and the decisions about
 * referenced objects are passed in.
 *
 * Every rule can only turn a share into a redaction or a withhold (never the reverse), and each
 * input a rule reads narrows as markings are added, members removed or the circle ended — so the
 * decision is monotonic by construction. Anything Entente cannot read (an unknown marking, a
 * selector that selects nothing, a malformed list) withholds.
 */
export function decideCircleRelease(
  subject: ReleaseSubjectWithObject,
  recipient: CircleRecipient,
  circle: Circle,
  agreements: AgreementState,
  at: Date,
  lookup: ReferenceLookup = () => undefined,
  agreementClockSkewMs = 0,
): CircleReleaseDecision {
  return decideCircleReleaseFor(subject, decideCircleStanding(recipient, circle, agreements, at, agreementClockSkewMs), lookup);
}

/** decideCircleRelease for a recipient whose standing (decideCircleStanding) is already known. */
export function decideCircleReleaseFor(
  subject: ReleaseSubjectWithObject,
  standing: CircleStanding,
  lookup: ReferenceLookup = () => undefined,
): CircleReleaseDecision {
  const object = subject.object;
  if (!isRecord(object) || typeof own(object, 'type') !== 'string' || typeof own(object, 'id') !== 'string') {
    return withhold(['object: not a STIX object with a type and an id']);
  }
  if (standing.kind === 'refused') return standing.decision;
  const type = object.type;
  const { circle, recipient, member } = standing;
  const org = recipient.organisationId;
  const version = standing.agreement.version;
  const terms = standing.agreement.terms;
  const reasons: string[] = [standing.agreementReason];

  const contributors = subject.contributors ?? (standing.releasingOrganisationId === undefined ? [] : [standing.releasingOrganisationId]);
  for (const contributor of contributors) {
    const refusal = standing.contributorRefusal(contributor);
    if (refusal !== undefined) return withhold([refusal], version);
  }

  if (!terms.scope.types.includes(type)) {
    return withhold([`scope.types: ${type} is outside the scope of agreement v${version}`], version);
  }
  if (terms.scope.labels !== undefined) {
    const labels = own(object, 'labels');
    const scoped = terms.scope.labels;
    if (!Array.isArray(labels) || !labels.some((label) => typeof label === 'string' && scoped.includes(label))) {
      return withhold([`scope.labels: the object carries none of the labels agreement v${version} shares`], version);
    }
  }
  if (terms.scope.sectors !== undefined) {
    const sectors = terms.scope.sectors;
    if (!recipient.sectors.some((sector) => sectors.includes(sector))) {
      return withhold([`scope.sectors: ${org} is in none of the sectors agreement v${version} serves`], version);
    }
  }
  if (member.trial && type !== 'indicator') {
    return withhold([`trial: ${org} is a trial member and receives indicators only`], version);
  }
  const via = subject.receivedVia;
  const onward = via === undefined ? undefined : stricterOnwardSharing(via.onwardSharing, via.arrivalOnwardSharing);
  if (via !== undefined && onward !== 'circles') {
    return withhold(
      [
        via.onwardSharing === onward
          ? `onward: received through circle ${via.circleId} whose terms allow onward sharing "${onward}" only`
          : `onward: received through circle ${via.circleId} under terms that allowed onward sharing "${onward}" only; the terms in force now ("${via.onwardSharing}") do not widen what was given under stricter ones`,
      ],
      version,
    );
  }

  // Object-level markings.
  const refs = own(object, 'object_marking_refs');
  if (refs !== undefined && (!Array.isArray(refs) || !refs.every((ref) => typeof ref === 'string'))) {
    return withhold(['marking.malformed: object_marking_refs is not a list of identifiers'], version);
  }
  const markings = ((refs ?? []) as string[]).map((ref) => ({ ref, marking: classifyMarking(ref, subject.markingDefinitions) }));
  let officialLevel: TlpLevel | undefined;
  let narrowingLevel: TlpLevel | undefined;
  const recipientsMarkings: Extract<MarkingClass, { kind: 'recipients' }>[] = [];
  for (const { marking } of markings) {
    if (marking.kind === 'tlp' && marking.official) officialLevel = officialLevel === undefined ? marking.level : stricterOf(officialLevel, marking.level);
    if (marking.kind === 'tlp' && !marking.official) narrowingLevel = narrowingLevel === undefined ? marking.level : stricterOf(narrowingLevel, marking.level);
    if (marking.kind === 'recipients') recipientsMarkings.push(marking);
  }
  // An unmarked version stands at the default of the circle it is in — and, when it arrived through
  // other circles, at theirs too: their default is the level its sender shared it at (the level
  // the arrival checks judged it at), so a laxer default here must not lower it. Unchanged by
  // where it arrived: an explicit published TLP, which is what the object is.
  const arrivalDefault = subject.receivedVia?.arrivalDefaultTlp;
  const defaultLevel: TlpLevel = arrivalDefault === undefined ? circle.defaultTlp : stricterOf(circle.defaultTlp, arrivalDefault);
  // A TLP definition that is not one of the published ids may narrow but never replace the default.
  let level: TlpLevel = officialLevel ?? defaultLevel;
  if (narrowingLevel !== undefined) level = stricterOf(level, narrowingLevel);
  const context: Context = {
    circle,
    member,
    recipient,
    highestTlp: terms.highestTlp,
    relay: subject.receivedVia !== undefined,
    secondHand: subject.secondHand === true,
    named: recipientsMarkings.length > 0 && recipientsMarkings.every((marking) => marking.organisationIds.includes(org)),
  };
  for (const { ref, marking } of markings) {
    const refusal = markingRefusal(marking, ref, context);
    if (refusal !== undefined) return withhold([refusal], version);
  }
  const tlpRefused = tlpRefusal(level, context, version);
  if (tlpRefused !== undefined) return withhold([tlpRefused], version);
  reasons.push(
    `tlp: TLP:${level.toUpperCase()}${officialLevel === undefined ? ` (${arrivalDefault === undefined ? 'circle default' : 'default of this circle and the circles it arrived through'}; the object carries no published TLP marking)` : ''} may go to ${context.named ? 'named recipient ' : 'member '}${org}`,
  );

  if (type === 'identity' && own(object, 'identity_class') === 'organization' && hiddenFrom(standing, object.id)) {
    return withhold([`hidden-membership: circle ${circle.id} hides its members; organisation identities other than ${org} and the coordinators are withheld`], version);
  }

  // Relationships, sightings and observed-data reveal what they point to: every reference must itself be released.
  const isRelationshipLike = revealsReferences(type);
  if (isRelationshipLike) {
    const refusal = revealedReferenceRefusal(object, lookup, org);
    if (refusal !== undefined) return withhold([refusal], version);
  }

  // Granular markings: a field marked more strictly than the recipient may see is removed.
  const removedTopLevel = new Set<string>();
  const granular = own(object, 'granular_markings');
  if (granular !== undefined && !Array.isArray(granular)) {
    return withhold(['granular.malformed: granular_markings is not a list'], version);
  }
  // The properties a redaction may not remove, worked out only when a granular marking would remove one.
  let required: ReadonlySet<string> | undefined;
  for (const [index, entry] of (granular ?? []).entries()) {
    if (!isRecord(entry)) return withhold([`granular.malformed: granular_markings[${index}] is not an object`], version);
    const selectors = own(entry, 'selectors');
    if (!Array.isArray(selectors) || selectors.length === 0 || !selectors.every((s) => typeof s === 'string')) {
      return withhold([`granular.malformed: granular_markings[${index}].selectors is not a non-empty list of strings`], version);
    }
    const markingRef = own(entry, 'marking_ref');
    if (typeof markingRef !== 'string' && (markingRef !== undefined || typeof own(entry, 'lang') !== 'string')) {
      return withhold([`granular.malformed: granular_markings[${index}] has neither a marking_ref nor a lang`], version);
    }
    const marking = typeof markingRef === 'string' ? classifyMarking(markingRef, subject.markingDefinitions) : undefined;
    if (marking?.kind === 'unknown') return withhold([`marking.unknown: ${marking.reason}`], version);
    // A selector that selects nothing means the producer marked something we cannot locate.
    const targets: string[] = [];
    for (const selector of selectors as string[]) {
      const top = selectedTopLevel(object, selector);
      if (top === undefined) {
        return withhold([`granular.selector: granular_markings[${index}] selector ${JSON.stringify(selector.slice(0, 80))} selects nothing`], version);
      }
      targets.push(top);
    }
    if (marking === undefined || typeof markingRef !== 'string') continue; // a language marking restricts nobody
    // Granular markings only narrow: a field's level is the stricter of the object's and its own.
    const refusal =
      marking.kind === 'tlp' ? tlpRefusal(stricterOf(level, marking.level), context, version) : markingRefusal(marking, markingRef, context);
    if (refusal === undefined) continue;
    for (const top of targets) {
      // Redacting it would leave the id, which is derived from it and so gives it away.
      if (idContributingProperties(type).includes(top)) {
        return withhold(
          [`granular.id-contributing: ${refusal}; ${top} is an ID contributing property of ${type}: its id is derived from it (UUIDv5), so releasing the ${type} without it would still give it away`],
          version,
        );
      }
      required ??= requiredProperties(object, isRelationshipLike);
      if (required.has(top)) {
        return withhold([`granular.required: ${refusal}; the marked property ${top} cannot be removed from a ${type}`], version);
      }
      if (!removedTopLevel.has(top)) reasons.push(`granular: $.${top} removed (${refusal})`);
      removedTopLevel.add(top);
    }
  }

  // An SCO's id names its content: wherever it sits, it leaves only with the SCO. Relationships,
  // sightings and observed-data were withheld above for such references; a container's object_refs
  // lose the entry below.
  for (const [key, ids] of scoIdsNamedBy(object)) {
    if (removedTopLevel.has(key) || (isRelationshipLike && REFERENCE_KEY.test(key)) || (CONTAINERS.has(type) && key === 'object_refs')) continue;
    const hidden = ids.find((id) => {
      const referenced = lookup(id);
      return referenced !== 'share' && referenced !== 'redact';
    });
    if (hidden === undefined) continue;
    const why = `which ${lookup(hidden) === undefined ? 'is unknown here' : 'is withheld'}`;
    if (idContributingProperties(type).includes(key)) {
      return withhold(
        [`reference.sco-id: ${key} points to ${hidden}, ${why}, so it is not released to ${org}; ${key} is an ID contributing property of ${type}: its id is derived from it`],
        version,
      );
    }
    required ??= requiredProperties(object, isRelationshipLike);
    if (required.has(key)) {
      return withhold([`reference.sco-id: ${key} points to ${hidden}, ${why}, so it is not released to ${org}; ${key} cannot be removed from a ${type}`], version);
    }
    removedTopLevel.add(key);
    reasons.push(`reference.sco-id: $.${key} removed (it names ${hidden}, ${why}: an SCO's id gives its ID contributing properties away)`);
  }

  // Containers keep their release but lose references to what the recipient may not see.
  const removedRefIndexes: number[] = [];
  const objectRefs = own(object, 'object_refs');
  if (CONTAINERS.has(type) && Array.isArray(objectRefs)) {
    objectRefs.forEach((id, index) => {
      const referenced = typeof id === 'string' ? lookup(id) : undefined;
      if (referenced !== 'share' && referenced !== 'redact') removedRefIndexes.push(index);
    });
    if (removedRefIndexes.length > 0) {
      if (removedRefIndexes.length === objectRefs.length) {
        return withhold([`reference: every object_refs entry is withheld or unknown for ${org}`], version);
      }
      const selectsObjectRefs = (granular ?? []).some(
        (entry) => isRecord(entry) && Array.isArray(own(entry, 'selectors')) && (own(entry, 'selectors') as JsonValue[]).some((s) => typeof s === 'string' && s.split('.')[0] === 'object_refs'),
      );
      if (selectsObjectRefs) {
        return withhold(['reference: object_refs would lose entries but granular markings select into it'], version);
      }
      reasons.push(`reference: ${removedRefIndexes.length} object_refs entries withheld or unknown for ${org} removed`);
    }
  }

  const createdBy = own(object, 'created_by_ref');
  if (createdBy !== undefined && !removedTopLevel.has('created_by_ref')) {
    if (terms.attribution === 'anonymise') {
      removedTopLevel.add('created_by_ref');
      reasons.push(`attribution: agreement v${version} anonymises releases`);
    } else if (typeof createdBy !== 'string' || hiddenFrom(standing, createdBy)) {
      removedTopLevel.add('created_by_ref');
      reasons.push(`hidden-membership: created_by_ref names an organisation circle ${circle.id} hides from ${org}`);
    }
  }

  // The Entente signature names the organisation that signed (`signer`, docs/federation.md, "Object
  // signatures"), a version without created_by_ref too: anonymising terms remove it as well, unless
  // it names the recipient or this node, which the recipient knows already. One that cannot be read
  // goes: whose it is cannot be told. What leaves is signed again by this node as a derived version
  // (federation/sign-releases.ts signs every redacted copy so).
  let unsign = false;
  if (terms.attribution === 'anonymise') {
    const signature = ententeSignatureOf(object);
    const signer = isRecord(signature) ? own(signature, 'signer') : undefined;
    if (signature !== undefined && signer !== org && (signer === undefined || signer !== standing.releasingOrganisationId)) {
      unsign = true;
      reasons.push(`attribution: agreement v${version} anonymises releases; the Entente signature naming its signer is removed`);
    }
  }

  if (removedTopLevel.size === 0 && removedRefIndexes.length === 0 && !unsign) return { kind: 'share', reasons, agreementVersion: version };

  let redacted = JSON.parse(JSON.stringify(object)) as StixObject;
  for (const key of removedTopLevel) delete redacted[key];
  if (unsign) redacted = withoutEntenteSignature(redacted);
  if (removedRefIndexes.length > 0 && Array.isArray(objectRefs)) {
    redacted['object_refs'] = objectRefs.filter((_id, index) => !removedRefIndexes.includes(index));
  }
  if (Array.isArray(redacted['granular_markings'])) {
    // Drop selectors that select nothing in the copy (they pointed at a removed property or into the
    // removed signature) so the copy stays valid STIX; every selector selected in the original.
    const copy = redacted;
    const kept = (redacted['granular_markings'] as JsonValue[]).flatMap((entry) => {
      if (!isRecord(entry) || !Array.isArray(entry['selectors'])) return [entry];
      const selectors = entry['selectors'].filter((s) => typeof s !== 'string' || selectedTopLevel(copy, s) !== undefined);
      return selectors.length === 0 ? [] : [{ ...entry, selectors }];
    });
    if (kept.length === 0) delete redacted['granular_markings'];
    else redacted['granular_markings'] = kept;
  }
  const fields = [
    ...[...removedTopLevel].sort().map((key) => `$.${key}`),
    ...(unsign ? [SIGNATURE_FIELD] : []),
    ...removedRefIndexes.map((index) => `$.object_refs[${index}]`),
  ];
  return { kind: 'redact', fields, redacted, reasons, agreementVersion: version };
}
