import { err, ok, type Result } from '../errors/result.ts';
import type { Circle } from './circle.ts';
import { DocumentReader, type PolicyIssue } from './document-reader.ts';
import { TLP_LEVELS, type TlpLevel } from './tlp.ts';

/** `none`: nothing received may be released again; `organisation`: only inside the receiver; `circles`: into its other circles where markings allow. */
export type OnwardSharing = 'none' | 'organisation' | 'circles';
/** Onward-sharing terms from the strictest to the loosest. */
export const ONWARD_SHARING_LEVELS: readonly OnwardSharing[] = ['none', 'organisation', 'circles'];

/** The stricter of two onward-sharing terms. */
export function stricterOnwardSharing(a: OnwardSharing, b: OnwardSharing): OnwardSharing {
  return ONWARD_SHARING_LEVELS.indexOf(a) <= ONWARD_SHARING_LEVELS.indexOf(b) ? a : b;
}
/** `anonymise`: `created_by_ref` is removed from every released version. */
export type Attribution = 'keep' | 'anonymise';
/** `recall`: when the circle ends or a member leaves, a recall notice is queued for what it received. */
export type EndRule = 'retain' | 'recall';
/**
 * Unsigned objects from plain TAXII peers: `accept` stores them marked unverified, `quarantine`
 * (the default) holds them for a human. Objects from Entente peers must always be signed.
 */
export type UnsignedInput = 'accept' | 'quarantine';
/**
 * What a member's node shares back into the circle when one of the circle's indicators fires on the
 * member's own telemetry. A sighting says "this organisation saw this": who was targeted, when, how
 * often; its observed-data says what was seen — internal addresses, host names, file names. So:
 * `none` (the default: nothing leaves unless the circle agreed to it), `summary` (the sighting with
 * its count and first/last seen, no observed-data), `evidence` (the sighting with its observed-data
 * and the observables in it). See docs/federation.md, "Sightings shared back".
 */
export type SightingSharing = 'none' | 'summary' | 'evidence';
export const SIGHTING_SHARING_LEVELS: readonly SightingSharing[] = ['none', 'summary', 'evidence'];

/** FIRST IEP 2.0 "permitted actions", in its order from least to most visible. */
export const IEP_PERMITTED_ACTIONS = [
  'none',
  'contact-for-instruction',
  'internally-visible-actions',
  'externally-visible-indirect-actions',
  'externally-visible-direct-actions',
] as const;
export type IepPermittedActions = (typeof IEP_PERMITTED_ACTIONS)[number];

/** The IEP 2.0 expectations that fit an alliance; they travel with the terms, Entente does not police use. */
export interface IepExpectations {
  readonly permittedActions: IepPermittedActions;
  readonly affectedPartyNotifications: 'may' | 'must-not';
  readonly providerAttribution: 'may' | 'must' | 'must-not';
}

export interface AgreementScope {
  /** STIX types the circle shares; anything else is out of scope. */
  readonly types: readonly string[];
  /** When present, an object must carry at least one of these labels (topics). */
  readonly labels?: readonly string[];
  /** When present, only member organisations in one of these sectors receive. */
  readonly sectors?: readonly string[];
}

export interface AgreementTerms {
  readonly scope: AgreementScope;
  readonly highestTlp: TlpLevel;
  readonly onwardSharing: OnwardSharing;
  readonly attribution: Attribution;
  readonly expectations: IepExpectations;
  readonly endRule: EndRule;
  /** Absent means `quarantine`. */
  readonly unsignedInput?: UnsignedInput;
  /** Absent means `none`: agreements written before the term share no sightings. */
  readonly sightingSharing?: SightingSharing;
}

/** One version of a circle's terms, as proposed by a coordinator. */
export interface Agreement {
  readonly circleId: string;
  readonly version: number;
  readonly proposedBy: string;
  readonly proposedAt: string;
  readonly terms: AgreementTerms;
}

/** A member's acceptance of one version; a counter-proposal is simply not an acceptance. */
export interface AgreementAcceptance {
  readonly circleId: string;
  readonly organisationId: string;
  readonly version: number;
  readonly acceptedAt: string;
}

/** Everything known about a circle's agreement: every proposed version and every acceptance. */
export interface AgreementState {
  readonly agreements: readonly Agreement[];
  readonly acceptances: readonly AgreementAcceptance[];
}

const AGREEMENT_FIELDS = ['circle_id', 'version', 'proposed_by', 'proposed_at', 'terms'] as const;
const TERMS_FIELDS = ['scope', 'highest_tlp', 'onward_sharing', 'attribution', 'expectations', 'end_rule', 'unsigned_input', 'sighting_sharing'] as const;
const SCOPE_FIELDS = ['types', 'labels', 'sectors'] as const;
const EXPECTATION_FIELDS = ['permitted_actions', 'affected_party_notifications', 'provider_attribution'] as const;
const ACCEPTANCE_FIELDS = ['circle_id', 'organisation_id', 'version', 'accepted_at'] as const;
const MAX_VERSION = 1_000_000;

function readVersion(reader: DocumentReader, record: Record<string, unknown>, path: string): number | undefined {
  const value = reader.field(record, 'version');
  if (value === undefined) return reader.issue(`${path}.version`, 'ENT_POLICY_MISSING', '"version" is required');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_VERSION) {
    return reader.issue(`${path}.version`, 'ENT_POLICY_BAD_VALUE', `must be an integer from 1 to ${MAX_VERSION}`);
  }
  return value;
}

function readTerms(reader: DocumentReader, value: unknown, path: string): AgreementTerms | undefined {
  const terms = reader.object(value, path, TERMS_FIELDS);
  if (terms === undefined) return undefined;
  const scopeValue = reader.field(terms, 'scope');
  const scope =
    scopeValue === undefined
      ? reader.issue(`${path}.scope`, 'ENT_POLICY_MISSING', '"scope" is required')
      : reader.object(scopeValue, `${path}.scope`, SCOPE_FIELDS);
  const types = scope === undefined ? undefined : reader.stringList(scope, 'types', `${path}.scope`, true);
  const labels = scope === undefined ? undefined : reader.stringList(scope, 'labels', `${path}.scope`, false);
  const sectors = scope === undefined ? undefined : reader.stringList(scope, 'sectors', `${path}.scope`, false);
  const highestTlp = reader.oneOf(terms, 'highest_tlp', path, TLP_LEVELS);
  const onwardSharing = reader.oneOf(terms, 'onward_sharing', path, ['none', 'organisation', 'circles'] as const);
  const attribution = reader.oneOf(terms, 'attribution', path, ['keep', 'anonymise'] as const);
  const endRule = reader.oneOf(terms, 'end_rule', path, ['retain', 'recall'] as const);
  const unsignedInput = reader.field(terms, 'unsigned_input') === undefined ? undefined : reader.oneOf(terms, 'unsigned_input', path, ['accept', 'quarantine'] as const);
  const sightingSharing =
    reader.field(terms, 'sighting_sharing') === undefined ? undefined : reader.oneOf(terms, 'sighting_sharing', path, SIGHTING_SHARING_LEVELS);
  const expectationsValue = reader.field(terms, 'expectations');
  const expectations =
    expectationsValue === undefined
      ? reader.issue(`${path}.expectations`, 'ENT_POLICY_MISSING', '"expectations" is required')
      : reader.object(expectationsValue, `${path}.expectations`, EXPECTATION_FIELDS);
  const at = `${path}.expectations`;
  const permittedActions = expectations && reader.oneOf(expectations, 'permitted_actions', at, IEP_PERMITTED_ACTIONS);
  const notifications = expectations && reader.oneOf(expectations, 'affected_party_notifications', at, ['may', 'must-not'] as const);
  const providerAttribution = expectations && reader.oneOf(expectations, 'provider_attribution', at, ['may', 'must', 'must-not'] as const);
  if (
    types === undefined || highestTlp === undefined || onwardSharing === undefined || attribution === undefined ||
    endRule === undefined || permittedActions === undefined || notifications === undefined || providerAttribution === undefined
  ) {
    return undefined;
  }
  return {
    scope: {
      types,
      ...(labels === undefined ? {} : { labels }),
      ...(sectors === undefined ? {} : { sectors }),
    },
    highestTlp,
    onwardSharing,
    attribution,
    expectations: { permittedActions, affectedPartyNotifications: notifications, providerAttribution },
    endRule,
    ...(unsignedInput === undefined ? {} : { unsignedInput }),
    ...(sightingSharing === undefined ? {} : { sightingSharing }),
  };
}

/** Reads one agreement version (snake_case JSON). Never throws; issues carry JSONPaths and ENT_POLICY_ codes. */
export function parseAgreement(value: unknown): Result<Agreement, PolicyIssue[]> {
  const reader = new DocumentReader();
  const doc = reader.object(value, '$', AGREEMENT_FIELDS);
  if (doc === undefined) return err(reader.issues);
  const circleId = reader.plainId(doc, 'circle_id', '$');
  const version = readVersion(reader, doc, '$');
  const proposedBy = reader.identityId(doc, 'proposed_by', '$');
  const proposedAt = reader.timestamp(doc, 'proposed_at', '$', true);
  const termsValue = reader.field(doc, 'terms');
  const terms =
    termsValue === undefined
      ? reader.issue('$.terms', 'ENT_POLICY_MISSING', '"terms" is required')
      : readTerms(reader, termsValue, '$.terms');
  if (
    reader.issues.length > 0 || circleId === undefined || version === undefined || proposedBy === undefined ||
    proposedAt === undefined || terms === undefined
  ) {
    return err(reader.issues);
  }
  return ok({ circleId, version, proposedBy, proposedAt, terms });
}

export function parseAgreementAcceptance(value: unknown): Result<AgreementAcceptance, PolicyIssue[]> {
  const reader = new DocumentReader();
  const doc = reader.object(value, '$', ACCEPTANCE_FIELDS);
  if (doc === undefined) return err(reader.issues);
  const circleId = reader.plainId(doc, 'circle_id', '$');
  const organisationId = reader.identityId(doc, 'organisation_id', '$');
  const version = readVersion(reader, doc, '$');
  const acceptedAt = reader.timestamp(doc, 'accepted_at', '$', true);
  if (
    reader.issues.length > 0 || circleId === undefined || organisationId === undefined || version === undefined ||
    acceptedAt === undefined
  ) {
    return err(reader.issues);
  }
  return ok({ circleId, organisationId, version, acceptedAt });
}

export type BindingAgreement =
  | { readonly kind: 'bound'; readonly agreement: Agreement; readonly acceptance: AgreementAcceptance }
  | { readonly kind: 'unbound'; readonly reason: string };

function proposedByCoordinator(circle: Circle, agreement: Agreement): boolean {
  const proposedAt = Date.parse(agreement.proposedAt);
  return circle.members.some(
    (member) =>
      member.organisationId === agreement.proposedBy &&
      member.role === 'coordinator' &&
      Date.parse(member.joinedAt) <= proposedAt &&
      (member.leftAt === undefined || proposedAt < Date.parse(member.leftAt)),
  );
}

/**
 * The terms that bind one member at an instant: the highest version it accepted by then, provided
 * a coordinator of this circle proposed that version before the acceptance. Only accepted terms
 * bind, and only for the member who accepted them; a member that accepted nothing receives nothing.
 * Two different documents claiming the same version make that version void (fail closed).
 * `clockSkewMs` tolerates acceptances stamped by a clock that is ahead of this one.
 *
 * `agreedBy`, when given, is the organisation on the other side (the home organisation releasing to
 * the member): only a version it accepted by then too, or proposed as a coordinator, binds. In a
 * circle mirrored from its coordinator's node, the other members' acceptances are the coordinator's
 * word: without this, a coordinator could list a member as bound by wider terms than this node's
 * organisation ever accepted, and this node would release to that member under them.
 */
export function bindingAgreement(state: AgreementState, circle: Circle, organisationId: string, at: Date, clockSkewMs = 0, agreedBy?: string): BindingAgreement {
  // Acceptances recorded on another node's clock (a mirrored circle) may lie up to the skew in
  // this node's future; they bind already.
  const time = at.getTime() + clockSkewMs;
  const agreed = agreedBy === undefined || agreedBy === organisationId ? undefined : versionsAgreedBy(state, circle, agreedBy, time);
  const acceptances = state.acceptances
    .filter(
      (acceptance) =>
        acceptance.circleId === circle.id &&
        acceptance.organisationId === organisationId &&
        Date.parse(acceptance.acceptedAt) <= time,
    )
    .sort((a, b) => b.version - a.version);
  for (const acceptance of acceptances) {
    if (agreed !== undefined && !agreed.has(acceptance.version)) continue;
    const versions = state.agreements.filter(
      (agreement) => agreement.circleId === circle.id && agreement.version === acceptance.version,
    );
    const agreement = versions[0];
    if (agreement === undefined || versions.length > 1) continue;
    if (!proposedByCoordinator(circle, agreement)) continue;
    if (Date.parse(agreement.proposedAt) > Date.parse(acceptance.acceptedAt)) continue;
    return { kind: 'bound', agreement, acceptance };
  }
  return {
    kind: 'unbound',
    reason: `${organisationId} has accepted no valid agreement version of circle ${circle.id}${agreed === undefined ? '' : ` that ${agreedBy ?? ''} accepted or proposed too`}`,
  };
}

/** The versions an organisation accepted by `time`, or proposed as a coordinator of the circle. */
function versionsAgreedBy(state: AgreementState, circle: Circle, organisationId: string, time: number): ReadonlySet<number> {
  const versions = new Set<number>();
  for (const acceptance of state.acceptances) {
    if (acceptance.circleId === circle.id && acceptance.organisationId === organisationId && Date.parse(acceptance.acceptedAt) <= time) versions.add(acceptance.version);
  }
  for (const agreement of state.agreements) {
    if (agreement.circleId === circle.id && agreement.proposedBy === organisationId && Date.parse(agreement.proposedAt) <= time && proposedByCoordinator(circle, agreement)) versions.add(agreement.version);
  }
  return versions;
}
