// The random world of the circle leak tests: organisations, circles, agreements, markings whose
// meaning the tests state themselves, generators of scenarios, and the deliberately simple
// reference policy (issue 3's rules written the most obvious way, apart from the implementation).
// Shared by the pure property test (src/policy/decide-circle-release.property.test.ts) and the
// HTTP leak test over every read path (test/circles/http-leak.property.test.ts).
import fc from 'fast-check';
import type { JsonObject, JsonValue, StixObject } from '../../src/stix/types.ts';
import type { Agreement, AgreementAcceptance, AgreementState } from '../../src/policy/agreement.ts';
import type { Circle, CircleMember } from '../../src/policy/circle.ts';
import type { ReleaseSubjectWithObject } from '../../src/policy/decide-circle-release.ts';

// ---------------------------------------------------------------------------------------------
// The world: five organisations, two circles, a fixed set of markings whose meaning the test
// states itself (it never asks the implementation what a marking means).
// ---------------------------------------------------------------------------------------------

export const ORGS = [1, 2, 3, 4, 5].map((n) => `identity--0000000${n}-0000-4000-8000-00000000000${n}`);
export const CIRCLE_IDS = ['c1', 'c2'];
export const T0 = Date.parse('2026-01-01T00:00:00Z');
export const HOUR = 3_600_000;
export const iso = (hours: number): string => new Date(T0 + hours * HOUR).toISOString();

/** Entente's marking extension, written out rather than imported: the test states the format. */
export const ENTENTE_EXT = 'extension-definition--14470295-cc5e-4c4c-93a3-8759ee5effc0';
export const TLP2_EXT = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

export type Meaning =
  | { readonly kind: 'tlp'; readonly rank: number; readonly official: boolean }
  | { readonly kind: 'recipients'; readonly orgs: readonly string[] }
  | { readonly kind: 'weakness'; readonly orgs: readonly string[]; readonly circles: readonly string[] }
  | { readonly kind: 'harmless' }
  | { readonly kind: 'unreadable' };

// clear 0, green 1, amber 2, amber+strict 3, red 4
export const RANK: Record<string, number> = { clear: 0, green: 1, amber: 2, 'amber+strict': 3, red: 4 };

export const MARKINGS: { id: string; meaning: Meaning; definition?: JsonObject }[] = [
  { id: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487', meaning: { kind: 'tlp', rank: 0, official: true } },
  { id: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb', meaning: { kind: 'tlp', rank: 1, official: true } },
  { id: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421', meaning: { kind: 'tlp', rank: 2, official: true } },
  { id: 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003', meaning: { kind: 'tlp', rank: 3, official: true } },
  {
    id: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
    meaning: { kind: 'tlp', rank: 4, official: true },
    // A forged definition claiming CLEAR under the official RED id: the id still means RED.
    definition: { type: 'marking-definition', id: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1', definition_type: 'tlp', definition: { tlp: 'clear' } },
  },
  { id: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9', meaning: { kind: 'tlp', rank: 0, official: true } },
  { id: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', meaning: { kind: 'tlp', rank: 1, official: true } },
  { id: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82', meaning: { kind: 'tlp', rank: 2, official: true } },
  { id: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed', meaning: { kind: 'tlp', rank: 4, official: true } },
  custom('e1', { kind: 'tlp', rank: 0, official: false }, { extensions: { [TLP2_EXT]: { extension_type: 'property-extension', tlp_2_0: 'clear' } } }),
  custom('e2', { kind: 'tlp', rank: 4, official: false }, { definition_type: 'tlp', definition: { tlp: 'red' } }),
  entente('f1', { kind: 'recipients', orgs: [ORGS[0] as string] }),
  entente('f2', { kind: 'recipients', orgs: [ORGS[1] as string, ORGS[2] as string] }),
  entente('f3', { kind: 'recipients', orgs: ORGS }),
  entente('f4', { kind: 'recipients', orgs: [] }),
  entente('f5', { kind: 'weakness', orgs: [ORGS[1] as string], circles: [] }),
  entente('f6', { kind: 'weakness', orgs: [], circles: ['c1'] }),
  entente('f7', { kind: 'weakness', orgs: [], circles: [] }),
  custom('a1', { kind: 'harmless' }, { definition_type: 'statement', definition: { statement: 'Copyright Org 2' } }),
  // Referenced but never defined, and defined in a way no reader understands.
  { id: 'marking-definition--dddddddd-0000-4000-8000-000000000001', meaning: { kind: 'unreadable' } },
  custom('b1', { kind: 'unreadable' }, { definition_type: 'acme-classification', definition: { level: 'open' } }),
];

export function custom(tag: string, meaning: Meaning, body: JsonObject): { id: string; meaning: Meaning; definition: JsonObject } {
  const id = `marking-definition--${tag}000000-0000-4000-8000-000000000000`;
  return { id, meaning, definition: { type: 'marking-definition', spec_version: '2.1', id, created: '2026-01-01T00:00:00Z', ...body } };
}

export function entente(tag: string, meaning: Meaning & { kind: 'recipients' | 'weakness' }): { id: string; meaning: Meaning; definition: JsonObject } {
  const extension: JsonObject =
    meaning.kind === 'recipients'
      ? { extension_type: 'property-extension', marking: 'recipients', organisation_refs: [...meaning.orgs] }
      : { extension_type: 'property-extension', marking: 'weakness', organisation_refs: [...meaning.orgs], circle_refs: [...meaning.circles] };
  return custom(tag, meaning, { name: 'entente', extensions: { [ENTENTE_EXT]: extension } });
}

export const MEANING = new Map(MARKINGS.map((m) => [m.id, m.meaning]));
export const DEFINITIONS = new Map(MARKINGS.flatMap((m) => (m.definition === undefined ? [] : [[m.id, m.definition] as const])));
export const MARKING_IDS = MARKINGS.map((m) => m.id);
export const SELECTORS = [
  'name', 'description', 'labels', 'labels.[0]', 'labels.[5]', 'created_by_ref', 'pattern', 'is_family',
  'external_references.[0].url', 'external_references.[1]', 'nope', 'object_refs.[0]', 'source_ref', 'where_sighted_refs.[0]', 'value',
];
export const TYPES = ['indicator', 'malware', 'vulnerability', 'identity', 'ipv4-addr', 'report', 'relationship', 'sighting'] as const;
export const LABELS = ['a', 'b', 'c'];
export const SECTORS = ['energy', 'finance'];

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/** Mostly `common`, sometimes `rare`: random inputs rarely line up into a release on their own. */
export function mostly<T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<T>, weight = 4): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: common, weight }, { arbitrary: rare, weight: 1 });
}
export const sometimes = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => mostly(fc.constant(undefined), arbitrary, 6);
export const TLP_IDS = MARKING_IDS.slice(0, 9);
export const GOOD_SELECTORS = ['name', 'description', 'labels', 'labels.[0]', 'created_by_ref', 'external_references.[0].url', 'object_refs.[0]', 'value'];

export const memberArb = fc.record({
  org: fc.constantFrom(...ORGS),
  role: fc.constantFrom('coordinator', 'contributor', 'consumer') as fc.Arbitrary<CircleMember['role']>,
  trial: mostly(fc.constant(false), fc.constant(true), 6),
  joined: fc.integer({ min: 0, max: 60 }),
  stay: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
});

export const circleArb: fc.Arbitrary<Circle> = fc
  .record({
    id: fc.constantFrom(...CIRCLE_IDS),
    visibility: fc.constantFrom('open', 'hidden') as fc.Arbitrary<Circle['visibility']>,
    defaultTlp: fc.constantFrom('green', 'amber', 'amber+strict', 'red') as fc.Arbitrary<Circle['defaultTlp']>,
    start: fc.integer({ min: 0, max: 10 }),
    length: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
    members: fc.uniqueArray(memberArb, { selector: (m) => m.org, minLength: 1, maxLength: 5 }),
  })
  .map((c) => ({
    id: c.id, name: 'circle', kind: c.length === undefined ? 'formal' : 'tacit', visibility: c.visibility, collectionId: c.id,
    defaultTlp: c.defaultTlp, validFrom: iso(c.start),
    ...(c.length === undefined ? { reviewAt: iso(500) } : { validUntil: iso(c.start + c.length) }),
    members: c.members.map((m) => ({
      organisationId: m.org, role: m.role, trial: m.trial, joinedAt: iso(m.joined),
      ...(m.stay === undefined ? {} : { leftAt: iso(m.joined + m.stay) }),
    })),
  }));

export const termsArb = fc.record({
  scope: fc.record({
    types: mostly<string[]>(fc.constant<string[]>([...TYPES]), fc.subarray<string>([...TYPES], { minLength: 1 })),
    labels: sometimes(fc.subarray(LABELS, { minLength: 1 })),
    sectors: sometimes(fc.subarray(SECTORS, { minLength: 1 })),
  }),
  highestTlp: mostly(fc.constant('red'), fc.constantFrom('clear', 'green', 'amber', 'amber+strict', 'red'), 2),
  onwardSharing: fc.constantFrom('none', 'organisation', 'circles'),
  attribution: fc.constantFrom('keep', 'anonymise'),
  endRule: fc.constantFrom('retain', 'recall'),
});

export const agreementArb = fc.record({
  version: fc.integer({ min: 1, max: 3 }), proposedBy: fc.constantFrom(...ORGS), proposedAt: fc.integer({ min: 0, max: 30 }), terms: termsArb,
});

export const stateArb = (circleId: string): fc.Arbitrary<AgreementState> =>
  fc
    .record({
      agreements: mostly(
        fc.uniqueArray(agreementArb, { selector: (a) => a.version, minLength: 1, maxLength: 3 }),
        // Sometimes two documents claim the same version: that version binds nobody.
        fc.array(agreementArb, { minLength: 1, maxLength: 3 }),
      ),
      acceptances: fc.array(
        fc.record({ org: fc.constantFrom(...ORGS), version: fc.integer({ min: 1, max: 3 }), acceptedAt: fc.integer({ min: 0, max: 60 }), elsewhere: fc.boolean() }),
        { maxLength: 8 },
      ),
    })
    .map((s) => ({
      agreements: s.agreements.map((a): Agreement => ({
        circleId, version: a.version, proposedBy: a.proposedBy, proposedAt: iso(a.proposedAt),
        terms: {
          scope: {
            types: a.terms.scope.types,
            ...(a.terms.scope.labels === undefined ? {} : { labels: a.terms.scope.labels }),
            ...(a.terms.scope.sectors === undefined ? {} : { sectors: a.terms.scope.sectors }),
          },
          highestTlp: a.terms.highestTlp as Agreement['terms']['highestTlp'],
          onwardSharing: a.terms.onwardSharing as Agreement['terms']['onwardSharing'],
          attribution: a.terms.attribution as Agreement['terms']['attribution'],
          expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' },
          endRule: a.terms.endRule as Agreement['terms']['endRule'],
        },
      })),
      acceptances: s.acceptances.map((a): AgreementAcceptance => ({
        circleId: a.elsewhere && s.acceptances.length > 4 ? 'c-other' : circleId, organisationId: a.org, version: a.version, acceptedAt: iso(a.acceptedAt),
      })),
    }));

export const markingsArb = fc.record({
  refs: fc.array(mostly(fc.constantFrom(...TLP_IDS), fc.constantFrom(...MARKING_IDS), 2), { maxLength: 3 }),
  granular: fc.array(
    fc.record({
      selectors: mostly(fc.subarray(GOOD_SELECTORS, { minLength: 1, maxLength: 2 }), fc.subarray(SELECTORS, { minLength: 1, maxLength: 2 })),
      ref: mostly(fc.constantFrom(...TLP_IDS), fc.constantFrom(...MARKING_IDS, 'lang'), 2),
    }),
    { maxLength: 2 },
  ),
  labels: fc.option(fc.subarray(LABELS, { minLength: 1 }), { nil: undefined }),
  createdBy: fc.option(fc.constantFrom(...ORGS), { nil: undefined }),
  description: fc.boolean(),
});

export type MarkingsPlan = typeof markingsArb extends fc.Arbitrary<infer T> ? T : never;
export type ObjectPlan = MarkingsPlan & { type: (typeof TYPES)[number]; org: string; targets: number[]; places: string[] };

export const planArb = (types: readonly (typeof TYPES)[number][]): fc.Arbitrary<ObjectPlan> =>
  fc
    .record({
      markings: markingsArb,
      type: fc.constantFrom(...types),
      org: fc.constantFrom(...ORGS),
      targets: fc.array(fc.integer({ min: -1, max: 3 }), { minLength: 1, maxLength: 3 }),
      places: fc.subarray(ORGS, { minLength: 1, maxLength: 2 }),
    })
    .map((p) => ({ ...p.markings, type: p.type, org: p.org, targets: p.targets, places: p.places }));

export function build(plan: ObjectPlan, index: number, pool: readonly StixObject[]): StixObject {
  // An SCO's id is UUIDv5 over its ID contributing properties (STIX 2.1 §2.9): it names its value.
  const version = plan.type === 'ipv4-addr' ? 5 : 4;
  const id = plan.type === 'identity' ? plan.org : `${plan.type}--00000000-0000-${version}000-8000-${String(index).padStart(12, '0')}`;
  const object: StixObject = {
    type: plan.type, spec_version: '2.1', id, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
    external_references: [{ source_name: 'ref', url: 'https://example.org/a' }],
  };
  const target = (n: number): string => (n < 0 || pool[n] === undefined ? 'malware--ffffffff-0000-4000-8000-000000000000' : (pool[n] as StixObject).id);
  switch (plan.type) {
    case 'indicator': Object.assign(object, { name: 'i', pattern: "[ipv4-addr:value = '203.0.113.9']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z' }); break;
    case 'malware': Object.assign(object, { name: 'm', is_family: true }); break;
    case 'vulnerability': Object.assign(object, { name: 'v' }); break;
    case 'identity': Object.assign(object, { name: 'org', identity_class: 'organization' }); break;
    case 'ipv4-addr': Object.assign(object, { value: `203.0.113.${index}` }); break;
    case 'report': Object.assign(object, { name: 'r', published: '2026-01-01T00:00:00Z', object_refs: plan.targets.map(target) }); break;
    case 'relationship': Object.assign(object, { relationship_type: 'indicates', source_ref: target(plan.targets[0] ?? -1), target_ref: target(plan.targets[1] ?? 0) }); break;
    case 'sighting': Object.assign(object, { sighting_of_ref: target(plan.targets[0] ?? 0), where_sighted_refs: plan.places }); break;
  }
  if (plan.description) object['description'] = 'secret description';
  if (plan.labels !== undefined) object['labels'] = plan.labels;
  if (plan.createdBy !== undefined) object['created_by_ref'] = plan.createdBy;
  if (plan.refs.length > 0) object['object_marking_refs'] = plan.refs;
  if (plan.granular.length > 0) {
    object['granular_markings'] = plan.granular.map((g) => (g.ref === 'lang' ? { selectors: g.selectors, lang: 'en' } : { selectors: g.selectors, marking_ref: g.ref }));
  }
  return object;
}

export interface Scenario {
  readonly circle: Circle;
  readonly state: AgreementState;
  readonly at: Date;
  readonly recipient: { readonly organisationId: string; readonly sectors: readonly string[] };
  readonly receivedVia: ReleaseSubjectWithObject['receivedVia'];
  readonly pool: readonly StixObject[];
  readonly dependents: readonly StixObject[];
}

export const scenarioArb: fc.Arbitrary<Scenario> = circleArb.chain((circle) =>
  fc
    .record({
      state: stateArb(circle.id),
      org: fc.constantFrom(...ORGS),
      sectors: fc.subarray(SECTORS),
      via: sometimes(fc.record({ circleId: fc.constantFrom(...CIRCLE_IDS), onwardSharing: fc.constantFrom('none', 'organisation', 'circles'), arrivalOnwardSharing: fc.constantFrom('none', 'organisation', 'circles'), arrivalDefaultTlp: fc.constantFrom('green', 'amber', 'amber+strict', 'red') })),
      // Most scenarios are lined up so that something can be released: the recipient is a member
      // that accepted a version a coordinator proposed. The rest stay fully random.
      lineUp: mostly(fc.constant(true), fc.constant(false), 5),
      at: fc.integer({ min: -5, max: 140 }),
      base: fc.array(planArb(['indicator', 'malware', 'vulnerability', 'identity', 'ipv4-addr']), { minLength: 1, maxLength: 4 }),
      dependents: fc.array(planArb(['report', 'relationship', 'sighting']), { maxLength: 2 }),
    })
    .map((s) => {
      const pool = s.base.map((plan, index) => build(plan, index, []));
      let lined = { circle, state: s.state, org: s.org, at: s.at };
      const first = s.state.agreements[0];
      if (s.lineUp && circle.members.length > 0 && first !== undefined) {
        const [head, ...rest] = circle.members as [CircleMember, ...CircleMember[]];
        const coordinator: CircleMember = { organisationId: head.organisationId, role: 'coordinator', trial: head.trial, joinedAt: iso(0) };
        const recipient = (circle.members[Math.abs(s.at) % circle.members.length] as CircleMember).organisationId;
        const at = (Math.abs(s.at) % 60) + 11;
        // The recipient is in the circle at `at`, and the circle runs then.
        const members = [coordinator, ...rest].map((m) =>
          m.organisationId === recipient && m !== coordinator
            ? { organisationId: m.organisationId, role: m.role, trial: m.trial, joinedAt: iso(Math.min(Date.parse(m.joinedAt) - T0, 10 * HOUR) / HOUR) }
            : m,
        );
        const validUntil = circle.validUntil !== undefined && Date.parse(circle.validUntil) <= T0 + at * HOUR ? iso(at + 24) : circle.validUntil;
        lined = {
          circle: { ...circle, members, ...(validUntil === undefined ? {} : { validUntil }) },
          state: {
            agreements: [{ ...first, proposedBy: coordinator.organisationId, proposedAt: iso(1) }, ...s.state.agreements.slice(1)],
            acceptances: [...s.state.acceptances, { circleId: circle.id, organisationId: recipient, version: first.version, acceptedAt: iso(2) }],
          },
          org: recipient,
          at,
        };
      }
      return {
        circle: lined.circle,
        state: lined.state,
        at: new Date(T0 + lined.at * HOUR),
        recipient: { organisationId: lined.org, sectors: s.sectors },
        receivedVia: s.via === undefined ? undefined : { circleId: s.via.circleId, onwardSharing: s.via.onwardSharing as 'none' | 'organisation' | 'circles', arrivalOnwardSharing: s.via.arrivalOnwardSharing as 'none' | 'organisation' | 'circles', arrivalDefaultTlp: s.via.arrivalDefaultTlp as Circle['defaultTlp'] },
        pool,
        dependents: s.dependents.map((plan, index) => build(plan, 100 + index, pool)),
      };
    }),
);

// ---------------------------------------------------------------------------------------------
// The reference policy: the rules of issue 3, written the most obvious way.
// ---------------------------------------------------------------------------------------------

export type Verdict = { readonly see: false } | { readonly see: true; readonly hide: ReadonlySet<string>; readonly hideRefs: ReadonlySet<string> };
export const NO: Verdict = { see: false };

export const ALWAYS_REQUIRED = ['type', 'id', 'spec_version', 'created', 'modified', 'object_marking_refs', 'granular_markings', 'extensions'];
export const REQUIRED: Record<string, string[]> = {
  indicator: ['pattern', 'pattern_type', 'valid_from'], malware: ['is_family'], vulnerability: ['name'], identity: ['name'],
  report: ['name', 'published', 'object_refs'], relationship: ['relationship_type'], sighting: [], 'ipv4-addr': [],
};
/**
 * What an SCO's id is derived from (STIX 2.1 §2.9): removing it would leave the id, which still
 * names it, so an SCO with such a property hidden is not released at all.
 */
export const ID_CONTRIBUTING: Record<string, string[]> = { 'ipv4-addr': ['value'] };

export function selects(object: JsonObject, selector: string): boolean {
  let here: JsonValue | undefined = object;
  for (const step of selector.split('.')) {
    if (step.startsWith('[') && step.endsWith(']')) {
      if (!Array.isArray(here)) return false;
      here = here[Number(step.slice(1, -1))];
    } else {
      if (here === null || typeof here !== 'object' || Array.isArray(here) || !Object.hasOwn(here, step)) return false;
      here = here[step];
    }
    if (here === undefined) return false;
  }
  return true;
}

export function referencePolicy(object: StixObject, s: Scenario, seen: (id: string) => boolean): Verdict {
  const t = s.at.getTime();
  const org = s.recipient.organisationId;
  const c = s.circle;
  if (t < Date.parse(c.validFrom)) return NO;
  if (c.validUntil !== undefined && t >= Date.parse(c.validUntil)) return NO;
  const me = c.members.find((m) => m.organisationId === org);
  if (me === undefined || t < Date.parse(me.joinedAt) || (me.leftAt !== undefined && t >= Date.parse(me.leftAt))) return NO;

  // The terms: the highest version this member accepted by now that a coordinator proposed
  // before the acceptance; a version claimed by two documents counts for nothing.
  let terms: Agreement['terms'] | undefined;
  let best = 0;
  for (const acceptance of s.state.acceptances) {
    if (acceptance.circleId !== c.id || acceptance.organisationId !== org || Date.parse(acceptance.acceptedAt) > t) continue;
    const docs = s.state.agreements.filter((a) => a.circleId === c.id && a.version === acceptance.version);
    if (docs.length !== 1) continue;
    const doc = docs[0] as Agreement;
    const proposer = c.members.find((m) => m.organisationId === doc.proposedBy);
    const p = Date.parse(doc.proposedAt);
    if (proposer === undefined || proposer.role !== 'coordinator' || p < Date.parse(proposer.joinedAt)) continue;
    if (proposer.leftAt !== undefined && p >= Date.parse(proposer.leftAt)) continue;
    if (p > Date.parse(acceptance.acceptedAt)) continue;
    if (doc.version > best) { best = doc.version; terms = doc.terms; }
  }
  if (terms === undefined) return NO;
  if (!terms.scope.types.includes(object.type)) return NO;
  const labels = Array.isArray(object['labels']) ? (object['labels'] as string[]) : [];
  if (terms.scope.labels !== undefined && !labels.some((l) => terms.scope.labels?.includes(l))) return NO;
  if (terms.scope.sectors !== undefined && !s.recipient.sectors.some((x) => terms.scope.sectors?.includes(x))) return NO;
  if (me.trial && object.type !== 'indicator') return NO;
  // Onward only when both the terms it arrived under and those in force now allow it.
  if (s.receivedVia !== undefined && (s.receivedVia.onwardSharing !== 'circles' || s.receivedVia.arrivalOnwardSharing !== 'circles')) return NO;

  const refs = (object['object_marking_refs'] ?? []) as string[];
  const meanings = refs.map((r) => MEANING.get(r) ?? { kind: 'unreadable' as const });
  if (meanings.some((m) => m.kind === 'unreadable')) return NO;
  const recipientsLists = meanings.flatMap((m) => (m.kind === 'recipients' ? [m.orgs] : []));
  if (recipientsLists.some((list) => !list.includes(org))) return NO;
  const named = recipientsLists.length > 0;
  for (const m of meanings) if (m.kind === 'weakness' && !m.orgs.includes(org) && !m.circles.includes(c.id)) return NO;

  const officialRanks = meanings.flatMap((m) => (m.kind === 'tlp' && m.official ? [m.rank] : []));
  const otherRanks = meanings.flatMap((m) => (m.kind === 'tlp' && !m.official ? [m.rank] : []));
  // Unmarked: the circle's default, or the default of the circles it arrived through if stricter.
  const defaultRank = Math.max(RANK[c.defaultTlp] as number, s.receivedVia === undefined ? 0 : (RANK[s.receivedVia.arrivalDefaultTlp] as number));
  const level = Math.max(officialRanks.length > 0 ? Math.max(...officialRanks) : defaultRank, ...otherRanks);
  const maySee = (rank: number): boolean =>
    rank <= (RANK[terms.highestTlp] as number) &&
    !(me.trial && rank > 1) &&
    !(s.receivedVia !== undefined && rank > 1) &&
    !(rank === 4 && !named);
  if (!maySee(level)) return NO;

  const coordinators = c.members.filter((m) => m.role === 'coordinator').map((m) => m.organisationId);
  const concealed = (id: unknown): boolean => c.visibility === 'hidden' && id !== org && !coordinators.includes(id as string);
  if (object.type === 'identity' && object['identity_class'] === 'organization' && concealed(object.id)) return NO;

  const isLink = object.type === 'relationship' || object.type === 'sighting';
  if (isLink) {
    for (const key of Object.keys(object)) {
      if (!(key.endsWith('_ref') || key.endsWith('_refs')) || key === 'created_by_ref' || key === 'object_marking_refs') continue;
      const value = object[key];
      for (const id of Array.isArray(value) ? value : [value]) if (!seen(id as string)) return NO;
    }
  }

  const hide = new Set<string>();
  const required = [...ALWAYS_REQUIRED, ...(REQUIRED[object.type] ?? [])];
  if (isLink) required.push(...Object.keys(object).filter((k) => k.endsWith('_ref') || k.endsWith('_refs')));
  const granular = (object['granular_markings'] ?? []) as JsonObject[];
  for (const g of granular) {
    const selectors = g['selectors'] as string[];
    if (g['marking_ref'] === undefined) {
      if (!selectors.every((x) => selects(object, x))) return NO;
      continue;
    }
    const m = MEANING.get(g['marking_ref'] as string) ?? { kind: 'unreadable' as const };
    if (m.kind === 'unreadable') return NO;
    if (!selectors.every((x) => selects(object, x))) return NO;
    const visible =
      m.kind === 'tlp' ? maySee(Math.max(level, m.rank))
        : m.kind === 'recipients' ? m.orgs.includes(org)
          : m.kind === 'weakness' ? m.orgs.includes(org) || m.circles.includes(c.id)
            : true;
    if (visible) continue;
    for (const x of selectors) {
      const top = x.split('.')[0] as string;
      if (required.includes(top) || (ID_CONTRIBUTING[object.type] ?? []).includes(top)) return NO;
      hide.add(top);
    }
  }

  const hideRefs = new Set<string>();
  if (object.type === 'report') {
    const objectRefs = object['object_refs'] as string[];
    for (const id of objectRefs) if (!seen(id)) hideRefs.add(id);
    if (objectRefs.every((id) => !seen(id))) return NO;
    if (hideRefs.size > 0 && granular.some((g) => (g['selectors'] as string[]).some((x) => x.startsWith('object_refs')))) return NO;
  }
  if (terms.attribution === 'anonymise' || concealed(object['created_by_ref'])) hide.add('created_by_ref');
  return { see: true, hide, hideRefs };
}

