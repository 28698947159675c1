import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, StixObject } from '../stix/types.ts';
import { ONWARD_SHARING_LEVELS, type Agreement, type AgreementState, type AgreementTerms, type OnwardSharing } from './agreement.ts';
import type { Circle, CircleMember } from './circle.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from './classify-marking.ts';
import {
  decideCircleRelease, decideCircleReleaseFor, decideCircleStanding, type CircleReleaseDecision, type ReferenceLookup, type ReleaseSubjectWithObject,
} from './decide-circle-release.ts';
import { ENTENTE_SIGNATURE_EXTENSION_ID } from '../stix/entente-signature.ts';
import { TLP1_MARKING_IDS, TLP2_MARKING_IDS, TLP2_EXTENSION_DEFINITION_ID } from './tlp.ts';
import { scoId } from '../stix/ids.ts';

const org = (n: number): string => `identity--0${n}000000-0000-4000-8000-00000000000${n}`;
const COORD = org(1);
const GOV = org(2);
const BANK = org(3);
const TRIAL = org(4);
const LEFT = org(5);
const LATE = org(6);
const OUTSIDER = org(7);
const SILENT = org(8); // a member that never accepted the agreement

const AT = new Date('2026-04-01T00:00:00Z');
const { clear: CLEAR, green: GREEN, amber: AMBER, 'amber+strict': STRICT, red: RED } = TLP2_MARKING_IDS;

function member(organisationId: string, role: CircleMember['role'], extra: Partial<CircleMember> = {}): CircleMember {
  return { organisationId, role, joinedAt: '2026-01-01T00:00:00Z', trial: false, ...extra };
}

const CIRCLE: Circle = {
  id: 'north-sea', name: 'North Sea grid', kind: 'formal', visibility: 'open', collectionId: 'north-sea',
  defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-12-31T00:00:00Z', reviewAt: '2026-06-30T00:00:00Z',
  members: [
    member(COORD, 'coordinator'),
    member(GOV, 'contributor'),
    member(BANK, 'consumer'),
    member(TRIAL, 'consumer', { trial: true }),
    member(LEFT, 'contributor', { leftAt: '2026-03-01T00:00:00Z' }),
    member(LATE, 'consumer', { joinedAt: '2026-06-01T00:00:00Z' }),
    member(SILENT, 'consumer'),
  ],
};

const TERMS: AgreementTerms = {
  scope: { types: ['indicator', 'malware', 'vulnerability', 'course-of-action', 'note', 'report', 'relationship', 'sighting', 'identity'] },
  highestTlp: 'red',
  onwardSharing: 'circles',
  attribution: 'keep',
  expectations: { permittedActions: 'externally-visible-direct-actions', affectedPartyNotifications: 'may', providerAttribution: 'may' },
  endRule: 'recall',
};

function state(terms: Partial<AgreementTerms> = {}): AgreementState {
  const agreement: Agreement = { circleId: CIRCLE.id, version: 3, proposedBy: COORD, proposedAt: '2026-01-01T12:00:00Z', terms: { ...TERMS, ...terms } };
  return {
    agreements: [agreement],
    acceptances: [COORD, GOV, BANK, TRIAL, LEFT, LATE].map((organisationId) => ({
      circleId: CIRCLE.id, organisationId, version: 3, acceptedAt: '2026-01-02T00:00:00Z',
    })),
  };
}

let serial = 0;
function indicator(extra: JsonObject = {}): StixObject {
  serial += 1;
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: GOV,
    name: 'Grid VPN scanner', description: 'Scans the VPN concentrators of grid operators',
    pattern: "[ipv4-addr:value = '198.51.100.7']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z',
    labels: ['scanning', 'energy'],
    ...extra,
  };
}

function markingDefinition(id: string, extension: JsonObject): JsonObject {
  return {
    type: 'marking-definition', spec_version: '2.1', id, created: '2026-01-01T00:00:00.000Z', name: 'Entente marking',
    extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', ...extension } },
  };
}
const recipientsMarking = (id: string, organisations: string[]): JsonObject =>
  markingDefinition(id, { marking: 'recipients', organisation_refs: organisations });
const weaknessMarking = (id: string, organisations: string[], circles: string[] = []): JsonObject =>
  markingDefinition(id, { marking: 'weakness', organisation_refs: organisations, circle_refs: circles });

const TO_GOV = 'marking-definition--a0000000-0000-4000-8000-000000000001';
const TO_GOV_AND_BANK = 'marking-definition--a0000000-0000-4000-8000-000000000002';
const TO_BANK = 'marking-definition--a0000000-0000-4000-8000-000000000003';
const WEAK_GOV = 'marking-definition--b0000000-0000-4000-8000-000000000001';
const WEAK_CIRCLE = 'marking-definition--b0000000-0000-4000-8000-000000000002';
const WEAK_NOBODY = 'marking-definition--b0000000-0000-4000-8000-000000000003';
const STATEMENT = 'marking-definition--c0000000-0000-4000-8000-000000000001';
const CUSTOM_CLEAR = 'marking-definition--c0000000-0000-4000-8000-000000000002';
const CUSTOM_RED = 'marking-definition--c0000000-0000-4000-8000-000000000003';
const DEFINITIONS = new Map<string, JsonObject>([
  [TO_GOV, recipientsMarking(TO_GOV, [GOV])],
  [TO_GOV_AND_BANK, recipientsMarking(TO_GOV_AND_BANK, [GOV, BANK])],
  [TO_BANK, recipientsMarking(TO_BANK, [BANK])],
  [WEAK_GOV, weaknessMarking(WEAK_GOV, [GOV])],
  [WEAK_CIRCLE, weaknessMarking(WEAK_CIRCLE, [], [CIRCLE.id])],
  [WEAK_NOBODY, weaknessMarking(WEAK_NOBODY, [])],
  [STATEMENT, { type: 'marking-definition', id: STATEMENT, definition_type: 'statement', definition: { statement: '© Gov CERT' } }],
  [CUSTOM_CLEAR, { type: 'marking-definition', id: CUSTOM_CLEAR, extensions: { [TLP2_EXTENSION_DEFINITION_ID]: { extension_type: 'property-extension', tlp_2_0: 'clear' } } }],
  [CUSTOM_RED, { type: 'marking-definition', id: CUSTOM_RED, definition_type: 'tlp', definition: { tlp: 'red' } }],
  // A forged definition under an official id must not change what the id means.
  [RED, { type: 'marking-definition', id: RED, definition_type: 'tlp', definition: { tlp: 'clear' } }],
]);

interface Options {
  readonly circle?: Circle;
  readonly agreements?: AgreementState;
  readonly at?: Date;
  readonly lookup?: ReferenceLookup;
  readonly sectors?: readonly string[];
  readonly receivedVia?: ReleaseSubjectWithObject['receivedVia'];
  readonly secondHand?: boolean;
}

function decide(object: StixObject, organisationId: string, options: Options = {}): CircleReleaseDecision {
  const subject: ReleaseSubjectWithObject = {
    object,
    markingDefinitions: DEFINITIONS,
    ...(options.receivedVia === undefined ? {} : { receivedVia: options.receivedVia }),
    ...(options.secondHand === undefined ? {} : { secondHand: options.secondHand }),
  };
  return decideCircleRelease(
    subject,
    { organisationId, sectors: options.sectors ?? ['energy'] },
    options.circle ?? CIRCLE,
    options.agreements ?? state(),
    options.at ?? AT,
    options.lookup ?? (() => 'share'),
  );
}

function kinds(object: StixObject, organisations: readonly string[], options: Options = {}): Record<string, string> {
  return Object.fromEntries(organisations.map((o) => [o.slice(10, 12), decide(object, o, options).kind]));
}

function reason(decision: CircleReleaseDecision): string {
  return decision.reasons.join(' | ');
}

const FULL = [COORD, GOV, BANK];

describe('decideCircleRelease — TLP 2.0 inside a circle', () => {
  it('TLP:CLEAR: every current member, trial members included; never outsiders (the circle is the channel)', () => {
    const object = indicator({ object_marking_refs: [CLEAR] });
    assert.deepEqual(kinds(object, [...FULL, TRIAL, OUTSIDER]), { '01': 'share', '02': 'share', '03': 'share', '04': 'share', '07': 'withhold' });
    assert.match(reason(decide(object, OUTSIDER)), /^membership: .* is not a member/);
  });

  it('TLP:GREEN: the circle community, trial members included', () => {
    assert.deepEqual(kinds(indicator({ object_marking_refs: [GREEN] }), [...FULL, TRIAL]), { '01': 'share', '02': 'share', '03': 'share', '04': 'share' });
  });

  it('TLP:AMBER: the member organisations (full members; trial members get CLEAR/GREEN only)', () => {
    const object = indicator({ object_marking_refs: [AMBER] });
    assert.deepEqual(kinds(object, [...FULL, TRIAL]), { '01': 'share', '02': 'share', '03': 'share', '04': 'withhold' });
    assert.match(reason(decide(object, TRIAL)), /^tlp\.trial:/);
  });

  it('TLP:AMBER+STRICT: each full member organisation receives it for itself; it is never released onward', () => {
    const object = indicator({ object_marking_refs: [STRICT] });
    assert.deepEqual(kinds(object, [...FULL, TRIAL]), { '01': 'share', '02': 'share', '03': 'share', '04': 'withhold' });
    const relayed = decide(object, BANK, { receivedVia: { circleId: 'other', onwardSharing: 'circles', arrivalOnwardSharing: 'circles', arrivalDefaultTlp: 'amber' } });
    assert.equal(relayed.kind, 'withhold');
    assert.match(reason(relayed), /^tlp\.onward:/);
    // With a recipients marking, only the organisation it names.
    assert.deepEqual(kinds(indicator({ object_marking_refs: [STRICT, TO_BANK] }), FULL), { '01': 'withhold', '02': 'withhold', '03': 'share' });
  });

  it('AMBER+STRICT and RED another organisation sent this node are not released again, even in the circle they came through', () => {
    // The source shares them first-hand with each recipient it chose; a third node passing them on is
    // exactly what FIRST TLP 2.0 forbids ("only with members of their own organisation", "no further").
    const strict = decide(indicator({ object_marking_refs: [STRICT] }), BANK, { secondHand: true });
    assert.equal(strict.kind, 'withhold');
    assert.match(reason(strict), /^tlp\.second-hand:/);
    assert.match(reason(decide(indicator({ object_marking_refs: [RED, TO_BANK] }), BANK, { secondHand: true })), /^tlp\.second-hand:/);
    // AMBER and below still reach the circle's members through this node.
    assert.equal(decide(indicator({ object_marking_refs: [AMBER] }), BANK, { secondHand: true }).kind, 'share');
    // A second-hand object's RED part is removed; the rest travels.
    const partly = decide(indicator({ object_marking_refs: [GREEN], granular_markings: [{ selectors: ['description'], marking_ref: RED }], description: 'red' }), BANK, { secondHand: true });
    assert.equal(partly.kind, 'redact');
  });

  it('TLP:RED: named recipients only — nobody when the object names none', () => {
    assert.deepEqual(kinds(indicator({ object_marking_refs: [RED] }), FULL), { '01': 'withhold', '02': 'withhold', '03': 'withhold' });
    assert.match(reason(decide(indicator({ object_marking_refs: [RED] }), GOV)), /^tlp\.red:/);
    assert.deepEqual(kinds(indicator({ object_marking_refs: [RED, TO_GOV] }), FULL), { '01': 'withhold', '02': 'share', '03': 'withhold' });
    // Two recipients markings: the recipient must be named on both (adding a marking only narrows).
    assert.deepEqual(kinds(indicator({ object_marking_refs: [RED, TO_GOV_AND_BANK, TO_BANK] }), FULL), { '01': 'withhold', '02': 'withhold', '03': 'share' });
    // Named but not a member, or a trial member: still withheld.
    assert.equal(decide(indicator({ object_marking_refs: [RED, TO_GOV] }), GOV, { at: new Date('2027-01-01T00:00:00Z') }).kind, 'withhold');
  });

  it('TLP 1.0 ids mean their TLP 2.0 levels (WHITE = CLEAR)', () => {
    assert.equal(decide(indicator({ object_marking_refs: [TLP1_MARKING_IDS.white] }), TRIAL).kind, 'share');
    assert.equal(decide(indicator({ object_marking_refs: [TLP1_MARKING_IDS.amber] }), TRIAL).kind, 'withhold');
    assert.equal(decide(indicator({ object_marking_refs: [TLP1_MARKING_IDS.red] }), GOV).kind, 'withhold');
  });

  it('an object without TLP takes the circle default, never CLEAR', () => {
    const unmarked = indicator();
    assert.equal(decide(unmarked, BANK).kind, 'share');
    assert.equal(decide(unmarked, TRIAL).kind, 'withhold');
    assert.match(reason(decide(unmarked, BANK)), /circle default/);
    assert.equal(decide(unmarked, BANK, { circle: { ...CIRCLE, defaultTlp: 'red' } }).kind, 'withhold');
    // A statement marking is not a TLP marking: the default still applies.
    assert.equal(decide(indicator({ object_marking_refs: [STATEMENT] }), TRIAL).kind, 'withhold');
  });

  it('the strictest of several TLP markings wins; duplicates change nothing', () => {
    assert.equal(decide(indicator({ object_marking_refs: [CLEAR, AMBER] }), TRIAL).kind, 'withhold');
    assert.equal(decide(indicator({ object_marking_refs: [GREEN, GREEN, GREEN] }), TRIAL).kind, 'share');
    assert.equal(decide(indicator({ object_marking_refs: [GREEN, TLP1_MARKING_IDS.green] }), TRIAL).kind, 'share');
  });

  it('a TLP definition outside the published ids may narrow but never lowers the default', () => {
    assert.equal(decide(indicator({ object_marking_refs: [CUSTOM_CLEAR] }), TRIAL).kind, 'withhold');
    assert.equal(decide(indicator({ object_marking_refs: [GREEN, CUSTOM_RED] }), BANK).kind, 'withhold');
  });

  it('a forged definition object cannot change the meaning of an official TLP id', () => {
    assert.equal(decide(indicator({ object_marking_refs: [RED] }), BANK).kind, 'withhold');
  });
});

describe('decideCircleRelease — markings Entente cannot read withhold', () => {
  it('an object-level reference to an unknown marking definition', () => {
    const decision = decide(indicator({ object_marking_refs: [CLEAR, 'marking-definition--ffffffff-0000-4000-8000-000000000000'] }), BANK);
    assert.equal(decision.kind, 'withhold');
    assert.match(reason(decision), /^marking\.unknown:/);
  });

  it('malformed marking lists', () => {
    assert.equal(decide(indicator({ object_marking_refs: CLEAR }), BANK).kind, 'withhold');
    assert.equal(decide(indicator({ object_marking_refs: [CLEAR, 7] }), BANK).kind, 'withhold');
    assert.equal(decide(indicator({ granular_markings: { selectors: ['description'], marking_ref: RED } }), BANK).kind, 'withhold');
    assert.equal(decide(indicator({ granular_markings: [{ selectors: [], marking_ref: RED }] }), BANK).kind, 'withhold');
    assert.equal(decide(indicator({ granular_markings: [{ selectors: ['description'] }] }), BANK).kind, 'withhold');
    assert.equal(decide(indicator({ granular_markings: ['description'] }), BANK).kind, 'withhold');
  });

  it('an Entente marking whose lists are malformed', () => {
    const bad = 'marking-definition--d0000000-0000-4000-8000-000000000001';
    const definitions = new Map(DEFINITIONS).set(bad, markingDefinition(bad, { marking: 'recipients', organisation_refs: BANK }));
    const decision = decideCircleRelease(
      { object: indicator({ object_marking_refs: [GREEN, bad] }), markingDefinitions: definitions },
      { organisationId: BANK, sectors: [] }, CIRCLE, state(), AT,
    );
    assert.equal(decision.kind, 'withhold');
  });

  it('a definition supplied under another id than the one referenced', () => {
    const alias = 'marking-definition--d0000000-0000-4000-8000-000000000002';
    const definitions = new Map(DEFINITIONS).set(alias, recipientsMarking(TO_BANK, [BANK]));
    const decision = decideCircleRelease(
      { object: indicator({ object_marking_refs: [GREEN, alias] }), markingDefinitions: definitions },
      { organisationId: BANK, sectors: [] }, CIRCLE, state(), AT,
    );
    assert.equal(decision.kind, 'withhold');
  });
});

describe('decideCircleRelease — membership, circle window and agreement', () => {
  const object = indicator({ object_marking_refs: [GREEN] });

  it('stops at the instant a member leaves and starts at the instant it joins', () => {
    assert.equal(decide(object, LEFT, { at: new Date('2026-02-28T23:59:59.999Z') }).kind, 'share');
    assert.equal(decide(object, LEFT, { at: new Date('2026-03-01T00:00:00Z') }).kind, 'withhold');
    assert.equal(decide(object, LATE, { at: new Date('2026-05-31T23:59:59.999Z') }).kind, 'withhold');
    assert.equal(decide(object, LATE, { at: new Date('2026-06-01T00:00:00Z') }).kind, 'share');
  });

  it('stops at the instant the circle ends and releases nothing before it starts', () => {
    assert.equal(decide(object, COORD, { at: new Date('2026-12-30T23:59:59.999Z') }).kind, 'share');
    const ended = decide(object, COORD, { at: new Date('2026-12-31T00:00:00Z') });
    assert.equal(ended.kind, 'withhold');
    assert.match(reason(ended), /^circle-window: .* ended/);
    assert.equal(decide(object, COORD, { at: new Date('2025-12-31T23:59:59Z') }).kind, 'withhold');
  });

  it('a member that has not accepted the agreement receives nothing', () => {
    const decision = decide(object, SILENT);
    assert.equal(decision.kind, 'withhold');
    assert.match(reason(decision), /^agreement:/);
  });

  it('scope: types, labels (topics) and the recipient sector', () => {
    const malware: StixObject = { type: 'malware', spec_version: '2.1', id: 'malware--00000000-0000-4000-8000-000000000001', created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z', name: 'GridWiper', is_family: true, object_marking_refs: [GREEN] };
    assert.equal(decide(malware, BANK).kind, 'share');
    assert.match(reason(decide(malware, BANK, { agreements: state({ scope: { types: ['indicator'] } }) })), /^scope\.types:/);
    assert.match(reason(decide(object, BANK, { agreements: state({ scope: { types: ['indicator'], labels: ['ransomware'] } }) })), /^scope\.labels:/);
    assert.equal(decide(object, BANK, { agreements: state({ scope: { types: ['indicator'], labels: ['energy'] } }) }).kind, 'share');
    assert.match(reason(decide(object, BANK, { agreements: state({ scope: { types: ['indicator'], sectors: ['finance'] } }) })), /^scope\.sectors:/);
    assert.equal(decide(object, BANK, { sectors: ['finance'], agreements: state({ scope: { types: ['indicator'], sectors: ['finance'] } }) }).kind, 'share');
  });

  it('highest TLP of the agreement', () => {
    const amber = indicator({ object_marking_refs: [AMBER] });
    const decision = decide(amber, BANK, { agreements: state({ highestTlp: 'green' }) });
    assert.equal(decision.kind, 'withhold');
    assert.match(reason(decision), /^tlp\.highest:/);
    assert.equal(decide(amber, BANK, { agreements: state({ highestTlp: 'amber' }) }).kind, 'share');
  });

  it('trial members receive CLEAR and GREEN indicators only', () => {
    const malware: StixObject = { type: 'malware', spec_version: '2.1', id: 'malware--00000000-0000-4000-8000-000000000002', created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z', name: 'GridWiper', is_family: true, object_marking_refs: [CLEAR] };
    assert.match(reason(decide(malware, TRIAL)), /^trial:/);
    assert.equal(decide(indicator({ object_marking_refs: [CLEAR] }), TRIAL).kind, 'share');
  });

  it('onward sharing: only CLEAR/GREEN received under "circles" terms travel on', () => {
    const via = (onwardSharing: OnwardSharing) => ({ receivedVia: { circleId: 'baltic', onwardSharing, arrivalOnwardSharing: onwardSharing, arrivalDefaultTlp: 'green' as const } });
    assert.equal(decide(object, BANK, via('circles')).kind, 'share');
    assert.match(reason(decide(object, BANK, via('organisation'))), /^onward:/);
    assert.match(reason(decide(object, BANK, via('none'))), /^onward:/);
    assert.match(reason(decide(indicator({ object_marking_refs: [AMBER] }), BANK, via('circles'))), /^tlp\.onward:/);
  });

  it('onward sharing: released only when both the terms it arrived under and those in force now say "circles"', () => {
    const via = (arrivalOnwardSharing: OnwardSharing, onwardSharing: OnwardSharing) => ({
      receivedVia: { circleId: 'baltic', onwardSharing, arrivalOnwardSharing, arrivalDefaultTlp: 'green' as const },
    });
    for (const arrived of ONWARD_SHARING_LEVELS) {
      for (const now of ONWARD_SHARING_LEVELS) {
        assert.equal(decide(object, BANK, via(arrived, now)).kind, arrived === 'circles' && now === 'circles' ? 'share' : 'withhold', `${arrived} then ${now}`);
      }
    }
    // Given under "none", the terms loosened since: the reason says which terms held it back.
    assert.match(reason(decide(object, BANK, via('none', 'circles'))), /^onward: received through circle baltic under terms that allowed onward sharing "none" only; the terms in force now \("circles"\)/);
    assert.match(reason(decide(object, BANK, via('circles', 'organisation'))), /^onward: received through circle baltic whose terms allow onward sharing "organisation" only/);
  });

  it('records the binding agreement version on the decision', () => {
    const decision = decide(object, BANK);
    assert.equal(decision.kind === 'share' && decision.agreementVersion, 3);
  });
});

describe('decideCircleRelease — an unmarked object stands at the strictest default of the circles it arrived through', () => {
  // A partner's unmarked object is, where it arrived, at that circle's default TLP: the arrival checks
  // judged it there. Released through another circle, it must not fall to the releasing circle's
  // (laxer) default — the same object marked explicitly at the arrival default would be withheld.
  const GREEN_CIRCLE: Circle = { ...CIRCLE, defaultTlp: 'green' };
  const via = (arrivalDefaultTlp: 'green' | 'amber' | 'amber+strict' | 'red') => ({
    circle: GREEN_CIRCLE,
    receivedVia: { circleId: 'strict', onwardSharing: 'circles' as const, arrivalOnwardSharing: 'circles' as const, arrivalDefaultTlp },
    secondHand: true,
  });

  it('arrived through an AMBER+STRICT circle: withheld from a GREEN circle, as if marked AMBER+STRICT', () => {
    const unmarked = decide(indicator(), BANK, via('amber+strict'));
    assert.equal(unmarked.kind, 'withhold');
    assert.match(reason(unmarked), /^tlp\.onward: TLP:AMBER\+STRICT /);
    assert.equal(decide(indicator({ object_marking_refs: [STRICT] }), BANK, via('amber+strict')).kind, 'withhold');
  });

  it('arrived through an AMBER circle: judged at AMBER, not at the GREEN default of the releasing circle', () => {
    const unmarked = decide(indicator(), BANK, via('amber'));
    assert.equal(unmarked.kind, 'withhold');
    assert.match(reason(unmarked), /^tlp\.onward: TLP:AMBER /);
    // A trial member, allowed GREEN only, is refused it too.
    assert.equal(decide(indicator(), TRIAL, via('amber')).kind, 'withhold');
  });

  it('arrived through a GREEN circle: released through another GREEN circle at GREEN', () => {
    const decision = decide(indicator(), BANK, via('green'));
    assert.equal(decision.kind, 'share');
    assert.match(reason(decision), /tlp: TLP:GREEN \(default of this circle and the circles it arrived through; /);
  });

  it('the releasing circle default still counts when it is the stricter one', () => {
    const decision = decide(indicator(), BANK, { ...via('green'), circle: CIRCLE });
    assert.match(reason(decision), /^tlp\.onward: TLP:AMBER /);
  });

  it('an explicit TLP marking is what the object is, wherever it arrived', () => {
    assert.equal(decide(indicator({ object_marking_refs: [GREEN] }), BANK, via('amber+strict')).kind, 'share');
    assert.equal(decide(indicator({ object_marking_refs: [CLEAR] }), BANK, via('red')).kind, 'share');
  });

  it('not received through another circle (a home original, or sent through this one): the releasing circle default', () => {
    const home = decide(indicator(), BANK, { circle: GREEN_CIRCLE });
    assert.equal(home.kind, 'share');
    assert.match(reason(home), /tlp: TLP:GREEN \(circle default; /);
    assert.equal(decide(indicator(), BANK, { circle: GREEN_CIRCLE, secondHand: true }).kind, 'share');
  });
});

describe('decideCircleRelease — granular markings redact fields, not objects', () => {
  it('removes a field marked more strictly than the recipient may see, and keeps the rest', () => {
    const object = indicator({ object_marking_refs: [GREEN], granular_markings: [{ selectors: ['description'], marking_ref: RED }] });
    const bank = decide(object, BANK);
    assert.equal(bank.kind, 'redact');
    assert.ok(bank.kind === 'redact');
    assert.deepEqual(bank.fields, ['$.description']);
    assert.equal(bank.redacted['description'], undefined);
    assert.equal(bank.redacted['pattern'], object['pattern']);
    assert.equal(bank.redacted['granular_markings'], undefined, 'the marking that only covered the removed field goes with it');
    assert.match(reason(bank), /granular: \$\.description removed \(tlp\.red:/);
    assert.equal(object['description'], 'Scans the VPN concentrators of grid operators', 'the input is not mutated');
  });

  it('shows the field to a recipient allowed to see it', () => {
    const object = indicator({ object_marking_refs: [GREEN, TO_GOV_AND_BANK], granular_markings: [{ selectors: ['description'], marking_ref: RED }] });
    assert.equal(decide(object, GOV).kind, 'share');
    const trial = indicator({ object_marking_refs: [GREEN], granular_markings: [{ selectors: ['name'], marking_ref: AMBER }] });
    assert.equal(decide(trial, BANK).kind, 'share');
    assert.equal(decide(trial, TRIAL).kind, 'redact');
  });

  it('withholds instead when the marked field is required', () => {
    const object = indicator({ object_marking_refs: [GREEN], granular_markings: [{ selectors: ['pattern'], marking_ref: RED }] });
    const decision = decide(object, BANK);
    assert.equal(decision.kind, 'withhold');
    assert.match(reason(decision), /^granular\.required:/);
    const markings = indicator({ object_marking_refs: [GREEN], granular_markings: [{ selectors: ['object_marking_refs'], marking_ref: RED }] });
    assert.equal(decide(markings, BANK).kind, 'withhold');
  });

  it('a list element or nested selector removes the whole top-level property, and the other markings stay valid', () => {
    const object = indicator({
      object_marking_refs: [GREEN],
      kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'reconnaissance' }],
      granular_markings: [
        { selectors: ['labels.[1]', 'kill_chain_phases.[0].phase_name'], marking_ref: AMBER },
        { selectors: ['name', 'labels.[0]'], marking_ref: STATEMENT },
      ],
    });
    const decision = decide(object, TRIAL);
    assert.ok(decision.kind === 'redact');
    assert.deepEqual(decision.fields, ['$.kill_chain_phases', '$.labels']);
    assert.deepEqual(decision.redacted['granular_markings'], [{ selectors: ['name'], marking_ref: STATEMENT }]);
  });

  it('withholds when a selector selects nothing or the granular marking cannot be read', () => {
    for (const selectors of [['no_such_property'], ['labels.[7]'], ['description.[0]'], ['labels.x'], [''], ['__proto__'], ['labels..[0]']]) {
      const decision = decide(indicator({ granular_markings: [{ selectors, marking_ref: GREEN }] }), BANK);
      assert.equal(decision.kind, 'withhold', JSON.stringify(selectors));
      assert.match(reason(decision), /^granular\.selector:/);
    }
    const unknown = indicator({ granular_markings: [{ selectors: ['description'], marking_ref: 'marking-definition--ffffffff-0000-4000-8000-000000000001' }] });
    assert.match(reason(decide(unknown, BANK)), /^marking\.unknown:/);
  });

  it('ignores language markings, which restrict nobody', () => {
    assert.equal(decide(indicator({ object_marking_refs: [GREEN], granular_markings: [{ selectors: ['description'], lang: 'de' }] }), TRIAL).kind, 'share');
  });

  it('granular recipients and weakness markings redact for everyone they do not name', () => {
    const object = indicator({
      object_marking_refs: [GREEN],
      granular_markings: [{ selectors: ['description'], marking_ref: TO_BANK }, { selectors: ['name'], marking_ref: WEAK_GOV }],
    });
    const bank = decide(object, BANK);
    assert.ok(bank.kind === 'redact');
    assert.deepEqual(bank.fields, ['$.name']);
    const gov = decide(object, GOV);
    assert.ok(gov.kind === 'redact');
    assert.deepEqual(gov.fields, ['$.description']);
  });
});

describe('decideCircleRelease — a type named after a property of every object', () => {
  it("redacts a granular marking on a custom 'constructor' object as on any type without required properties of its own", () => {
    const object = {
      ...indicator({ object_marking_refs: [GREEN], granular_markings: [{ selectors: ['description'], marking_ref: TO_BANK }] }),
      type: 'constructor', id: 'constructor--00000000-0000-4000-8000-0000000000c1',
    };
    const agreements = state({ scope: { types: [...TERMS.scope.types, 'constructor'] } });
    const gov = decide(object, GOV, { agreements });
    assert.ok(gov.kind === 'redact', JSON.stringify(gov));
    assert.deepEqual(gov.fields, ['$.description']);
  });
});

describe('decideCircleRelease — relationships, sightings and containers never reveal withheld objects', () => {
  const relationship: StixObject = {
    type: 'relationship', spec_version: '2.1', id: 'relationship--00000000-0000-4000-8000-000000000001',
    created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z', relationship_type: 'indicates',
    source_ref: 'indicator--00000000-0000-4000-8000-00000000aaaa', target_ref: 'malware--00000000-0000-4000-8000-00000000bbbb',
    object_marking_refs: [GREEN],
  };

  it('withholds a relationship when either end is withheld or unknown, shares it when both are released', () => {
    assert.equal(decide(relationship, BANK, { lookup: () => 'share' }).kind, 'share');
    assert.equal(decide(relationship, BANK, { lookup: (id) => (id.startsWith('malware') ? 'redact' : 'share') }).kind, 'share');
    const withheld = decide(relationship, BANK, { lookup: (id) => (id.startsWith('malware') ? 'withhold' : 'share') });
    assert.equal(withheld.kind, 'withhold');
    assert.match(reason(withheld), /^reference: target_ref/);
    assert.equal(decide(relationship, BANK, { lookup: () => undefined }).kind, 'withhold');
  });

  it('withholds a sighting when its sighted object or a place it was sighted is withheld', () => {
    const sighting: StixObject = {
      type: 'sighting', spec_version: '2.1', id: 'sighting--00000000-0000-4000-8000-000000000001',
      created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z',
      sighting_of_ref: 'indicator--00000000-0000-4000-8000-00000000aaaa', where_sighted_refs: [GOV, BANK], object_marking_refs: [GREEN],
    };
    assert.equal(decide(sighting, COORD).kind, 'share');
    assert.equal(decide(sighting, COORD, { lookup: (id) => (id === BANK ? 'withhold' : 'share') }).kind, 'withhold');
    assert.equal(decide({ ...sighting, where_sighted_refs: [GOV, 7] }, COORD).kind, 'withhold');
  });

  it('withholds observed-data when one of the observations it groups is withheld', () => {
    const observed: StixObject = {
      type: 'observed-data', spec_version: '2.1', id: 'observed-data--00000000-0000-4000-8000-000000000001',
      created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z', first_observed: '2026-01-01T00:00:00Z',
      last_observed: '2026-01-01T00:00:00Z', number_observed: 1, object_marking_refs: [GREEN],
      object_refs: ['ipv4-addr--00000000-0000-5000-8000-000000000001', 'network-traffic--00000000-0000-5000-8000-000000000002'],
    };
    const agreements = state({ scope: { types: ['observed-data'] } });
    assert.equal(decide(observed, BANK, { agreements }).kind, 'share');
    assert.equal(decide(observed, BANK, { agreements, lookup: (id) => (id.startsWith('network') ? 'withhold' : 'share') }).kind, 'withhold');
  });

  it('a report loses the references it may not reveal; with none left it is withheld', () => {
    const report: StixObject = {
      type: 'report', spec_version: '2.1', id: 'report--00000000-0000-4000-8000-000000000001', created: '2026-01-01T00:00:00Z',
      modified: '2026-01-01T00:00:00Z', name: 'Grid campaign', published: '2026-01-01T00:00:00Z', object_marking_refs: [GREEN],
      object_refs: ['indicator--00000000-0000-4000-8000-00000000aaaa', 'malware--00000000-0000-4000-8000-00000000bbbb'],
    };
    const decision = decide(report, BANK, { lookup: (id) => (id.startsWith('malware') ? 'withhold' : 'share') });
    assert.ok(decision.kind === 'redact');
    assert.deepEqual(decision.fields, ['$.object_refs[1]']);
    assert.deepEqual(decision.redacted['object_refs'], ['indicator--00000000-0000-4000-8000-00000000aaaa']);
    assert.equal(decide(report, BANK, { lookup: () => 'withhold' }).kind, 'withhold');
  });
});

describe('decideCircleRelease — weakness disclosures are default-deny', () => {
  const vulnerability = (refs: string[]): StixObject => ({
    type: 'vulnerability', spec_version: '2.1', id: 'vulnerability--00000000-0000-4000-8000-000000000001',
    created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z', name: 'Unpatched SCADA gateway at substation 4',
    object_marking_refs: refs,
  });

  it('goes only to the organisations named on the weakness marking', () => {
    assert.deepEqual(kinds(vulnerability([AMBER, WEAK_GOV]), FULL), { '01': 'withhold', '02': 'share', '03': 'withhold' });
    assert.match(reason(decide(vulnerability([AMBER, WEAK_GOV]), BANK)), /^marking\.weakness:/);
  });

  it('or through the circles named on it', () => {
    assert.deepEqual(kinds(vulnerability([AMBER, WEAK_CIRCLE]), FULL), { '01': 'share', '02': 'share', '03': 'share' });
    assert.equal(decide(vulnerability([AMBER, WEAK_CIRCLE]), BANK, { circle: { ...CIRCLE, id: 'elsewhere' }, agreements: { ...state(), agreements: [] } }).kind, 'withhold');
  });

  it('a weakness marking that names nobody releases to nobody', () => {
    assert.deepEqual(kinds(vulnerability([CLEAR, WEAK_NOBODY]), FULL), { '01': 'withhold', '02': 'withhold', '03': 'withhold' });
  });
});

describe('decideCircleRelease — attribution and hidden membership', () => {
  it('anonymise removes created_by_ref from the released copy', () => {
    const decision = decide(indicator({ object_marking_refs: [GREEN] }), BANK, { agreements: state({ attribution: 'anonymise' }) });
    assert.ok(decision.kind === 'redact');
    assert.deepEqual(decision.fields, ['$.created_by_ref']);
    assert.equal(Object.hasOwn(decision.redacted, 'created_by_ref'), false);
  });

  describe('anonymise and the Entente signature, whose `signer` names the organisation that signed', () => {
    const SIGNATURE = `$.extensions['${ENTENTE_SIGNATURE_EXTENSION_ID}']`;
    const OTHER_EXTENSION = 'extension-definition--11111111-1111-4111-8111-111111111111';
    const signedBy = (signer: string, extra: JsonObject = {}): StixObject => {
      const { created_by_ref: _creator, ...unattributed } = indicator({ object_marking_refs: [GREEN], ...extra });
      const extensions = (extra['extensions'] ?? {}) as JsonObject;
      const signature = { extension_type: 'property-extension', algorithm: 'Ed25519', signer, key_id: 'AAAAAAAAAAAAAAAAAAAAAA', signature: 'A'.repeat(86) };
      return { ...unattributed, extensions: { ...extensions, [ENTENTE_SIGNATURE_EXTENSION_ID]: signature } };
    };
    /** The decision of a node whose home organisation is COORD (or unknown), as the release gate takes it. */
    const decideAt = (object: StixObject, organisationId: string, releasing: string | undefined): CircleReleaseDecision =>
      decideCircleReleaseFor(
        { object, markingDefinitions: DEFINITIONS },
        decideCircleStanding({ organisationId, sectors: ['energy'] }, CIRCLE, state({ attribution: 'anonymise' }), AT, 0, releasing),
      );

    it('removes the signature of another organisation, whether or not the version names its creator', () => {
      for (const object of [signedBy(GOV), signedBy(GOV, { created_by_ref: GOV })]) {
        const decision = decideAt(object, BANK, COORD);
        assert.ok(decision.kind === 'redact', 'redacted: the node signs the copy as a derived version when it leaves');
        assert.deepEqual(decision.fields, [...(Object.hasOwn(object, 'created_by_ref') ? ['$.created_by_ref'] : []), SIGNATURE]);
        assert.equal(JSON.stringify(decision.redacted).includes(GOV), false, 'nothing in the copy names the signer');
        assert.equal(Object.hasOwn(decision.redacted, 'extensions'), false, 'no extensions left empty');
        assert.match(reason(decision), /attribution: agreement v3 anonymises releases; the Entente signature naming its signer is removed/);
      }
    });

    it('keeps the other extensions, and drops granular selectors that pointed into the signature', () => {
      const object = signedBy(GOV, {
        extensions: { [OTHER_EXTENSION]: { extension_type: 'property-extension', rank: 3 } },
        granular_markings: [{ selectors: [`extensions.${ENTENTE_SIGNATURE_EXTENSION_ID}.signer`, 'name'], marking_ref: GREEN }],
      });
      const decision = decideAt(object, BANK, COORD);
      assert.ok(decision.kind === 'redact', 'the signature is removed');
      assert.deepEqual(decision.redacted['extensions'], { [OTHER_EXTENSION]: { extension_type: 'property-extension', rank: 3 } });
      assert.deepEqual(decision.redacted['granular_markings'], [{ selectors: ['name'], marking_ref: GREEN }]);
    });

    it("keeps the recipient's own signature and this node's, which name no one the recipient may not know", () => {
      assert.equal(decideAt(signedBy(BANK), BANK, COORD).kind, 'share', 'the recipient knows what it signed');
      assert.equal(decideAt(signedBy(COORD), BANK, COORD).kind, 'share', 'the recipient knows which node it receives from');
      assert.equal(decideAt(signedBy(COORD), BANK, undefined).kind, 'redact', 'with this node unknown, every other signer is removed (fail closed)');
    });

    it('a malformed signature goes too: it cannot be told whose it is', () => {
      const object = { ...signedBy(GOV), extensions: { [ENTENTE_SIGNATURE_EXTENSION_ID]: 'signed by Gov CERT' } } as StixObject;
      const decision = decideAt(object, BANK, COORD);
      assert.ok(decision.kind === 'redact', 'the malformed signature is removed');
      assert.deepEqual(decision.fields, [SIGNATURE]);
    });

    it('under `keep` the signature stays: signatures survive re-sharing', () => {
      assert.equal(decide(signedBy(GOV), BANK).kind, 'share');
    });
  });

  it('a hidden circle does not reveal which members contribute', () => {
    const hidden: Circle = { ...CIRCLE, visibility: 'hidden' };
    const object = indicator({ object_marking_refs: [GREEN] });
    const bank = decide(object, BANK, { circle: hidden });
    assert.ok(bank.kind === 'redact');
    assert.deepEqual(bank.fields, ['$.created_by_ref']);
    assert.equal(decide(object, GOV, { circle: hidden }).kind, 'share', 'the creator sees its own attribution');
    assert.equal(decide(indicator({ object_marking_refs: [GREEN], created_by_ref: COORD }), BANK, { circle: hidden }).kind, 'share');
    const identity: StixObject = {
      type: 'identity', spec_version: '2.1', id: GOV, created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z',
      name: 'Gov CERT', identity_class: 'organization', object_marking_refs: [GREEN],
    };
    assert.equal(decide(identity, BANK, { circle: hidden }).kind, 'withhold');
    assert.equal(decide(identity, BANK).kind, 'share');
  });
});

describe('decideCircleRelease — an SCO id derived from a marked property is never released', () => {
  // STIX 2.1 §2.9: an SCO's id is UUIDv5 over its ID Contributing Properties, so the id of an
  // address names the address: all of 10.0.0.0/8 is tried in seconds.
  const sco = (type: string, properties: JsonObject, extra: JsonObject = {}): StixObject => {
    const id = scoId(type, properties);
    assert.ok(id.ok);
    return { type, spec_version: '2.1', id: id.value, ...properties, ...extra };
  };
  const address = sco('ipv4-addr', { value: '10.20.30.44' }, { object_marking_refs: [GREEN], granular_markings: [{ selectors: ['value'], marking_ref: RED }] });
  const scos = state({ scope: { types: ['ipv4-addr', 'domain-name', 'file', 'network-traffic', 'email-message', 'malware', 'observed-data', 'report', 'sighting', 'relationship', 'indicator'] } });

  it('withholds an SCO whose ID contributing property the recipient may not see, naming the property and why', () => {
    const decision = decide(address, BANK, { agreements: scos });
    assert.equal(decision.kind, 'withhold');
    assert.match(reason(decision), /^granular\.id-contributing: tlp\.red: .*; value is an ID contributing property of ipv4-addr: its id is derived from it/);
    assert.equal(JSON.stringify(decision).includes('10.20.30.44'), false);
  });

  it('every ID contributing property counts, whatever the selector reaches into', () => {
    const file = sco('file', { hashes: { 'SHA-256': 'a'.repeat(64) }, name: 'payroll.xlsx' }, {
      object_marking_refs: [GREEN], size: 4096,
      granular_markings: [{ selectors: ['name'], marking_ref: RED }],
    });
    assert.match(reason(decide(file, BANK, { agreements: scos })), /^granular\.id-contributing: .*name is an ID contributing property of file/);
    const hashes = { ...file, granular_markings: [{ selectors: ['hashes.SHA-256'], marking_ref: AMBER }] };
    assert.match(reason(decide(hashes, TRIAL, { agreements: scos })), /^trial:/, 'a trial member gets no SCO anyway');
    const strict = { ...file, granular_markings: [{ selectors: ['hashes.SHA-256'], marking_ref: TO_GOV }] };
    assert.match(reason(decide(strict, BANK, { agreements: scos })), /^granular\.id-contributing: marking\.recipients: .*hashes is an ID contributing property of file/);
    assert.equal(decide(strict, GOV, { agreements: scos }).kind, 'share');
  });

  it('a recipient entitled to the marked property receives the SCO whole', () => {
    const named = { ...address, object_marking_refs: [GREEN, TO_GOV_AND_BANK] };
    assert.equal(decide(named, BANK, { agreements: scos }).kind, 'share');
    const amber = { ...address, granular_markings: [{ selectors: ['value'], marking_ref: AMBER }] };
    assert.equal(decide(amber, BANK, { agreements: scos }).kind, 'share');
  });

  it('a granular marking on a property that is not ID contributing still redacts only that property', () => {
    const file = sco('file', { hashes: { 'SHA-256': 'b'.repeat(64) }, name: 'invoice.pdf' }, {
      object_marking_refs: [GREEN], size: 4096, granular_markings: [{ selectors: ['size'], marking_ref: RED }],
    });
    const decision = decide(file, BANK, { agreements: scos });
    assert.ok(decision.kind === 'redact');
    assert.deepEqual(decision.fields, ['$.size']);
    assert.equal(decision.redacted.id, file.id);
    assert.equal(decision.redacted['name'], 'invoice.pdf');
  });

  describe('what points at an SCO the recipient does not receive carries its id, which names it', () => {
    const lookup: ReferenceLookup = (id) => (id === address.id ? 'withhold' : 'share');

    it('observed-data and sightings are withheld, relationships too; a report loses the entry', () => {
      const observed: StixObject = {
        type: 'observed-data', spec_version: '2.1', id: 'observed-data--00000000-0000-4000-8000-0000000000d1', created: '2026-01-01T00:00:00Z',
        modified: '2026-01-01T00:00:00Z', first_observed: '2026-01-01T00:00:00Z', last_observed: '2026-01-01T00:00:00Z', number_observed: 1,
        object_marking_refs: [GREEN], object_refs: [address.id],
      };
      assert.match(reason(decide(observed, BANK, { agreements: scos, lookup })), /^reference: object_refs points to ipv4-addr--/);
      const report: StixObject = {
        type: 'report', spec_version: '2.1', id: 'report--00000000-0000-4000-8000-0000000000d2', created: '2026-01-01T00:00:00Z',
        modified: '2026-01-01T00:00:00Z', name: 'r', published: '2026-01-01T00:00:00Z', object_marking_refs: [GREEN],
        object_refs: [address.id, 'indicator--00000000-0000-4000-8000-00000000aaaa'],
      };
      const redacted = decide(report, BANK, { agreements: scos, lookup });
      assert.ok(redacted.kind === 'redact');
      assert.equal(JSON.stringify(redacted.redacted).includes(address.id), false);
    });

    it('a reference that contributes to the referring SCO id withholds that SCO too (its id is derived from the withheld id)', () => {
      const traffic = sco('network-traffic', { src_ref: address.id, dst_port: 443, protocols: ['tcp'] }, { object_marking_refs: [GREEN] });
      const decision = decide(traffic, BANK, { agreements: scos, lookup });
      assert.equal(decision.kind, 'withhold');
      assert.match(reason(decision), /^reference\.sco-id: src_ref points to ipv4-addr--.*not released to .*; src_ref is an ID contributing property of network-traffic/);
      assert.equal(decide(traffic, BANK, { agreements: scos }).kind, 'share');
    });

    it('any other property carrying the id is removed, wherever the id sits in it', () => {
      const message = sco('email-message', { subject: 'hello' }, {
        object_marking_refs: [GREEN], is_multipart: true, body_multipart: [{ body_raw_ref: address.id, content_type: 'text/plain' }], to_refs: [address.id],
      });
      const decision = decide(message, BANK, { agreements: scos, lookup });
      assert.ok(decision.kind === 'redact');
      assert.deepEqual(decision.fields, ['$.body_multipart', '$.to_refs']);
      assert.equal(JSON.stringify(decision.redacted).includes(address.id), false);
      assert.match(reason(decision), /reference\.sco-id: \$\.to_refs removed \(it names ipv4-addr--/);
      const malware: StixObject = {
        type: 'malware', spec_version: '2.1', id: 'malware--00000000-0000-4000-8000-0000000000d3', created: '2026-01-01T00:00:00Z',
        modified: '2026-01-01T00:00:00Z', name: 'm', is_family: false, object_marking_refs: [GREEN], sample_refs: [address.id],
      };
      const unknown = decide(malware, BANK, { agreements: scos, lookup: () => undefined });
      assert.ok(unknown.kind === 'redact', 'an SCO not held here is not known to be releasable: its id stays too');
      assert.deepEqual(unknown.fields, ['$.sample_refs']);
      assert.equal(decide(malware, BANK, { agreements: scos }).kind, 'share');
    });
  });
});

describe('decideCircleRelease — a member added later receives a contributor\'s versions once it agreed to terms with it in (rule 3a)', () => {
  const NEWBIE = org(9);
  const FORMER = 'identity--0a000000-0000-4000-8000-00000000000a'; // a co-coordinator that left before NEWBIE joined
  const circle: Circle = {
    ...CIRCLE,
    members: [
      member(COORD, 'coordinator'),
      member(FORMER, 'coordinator', { leftAt: '2026-02-01T00:00:00Z' }),
      member(GOV, 'contributor'),
      member(BANK, 'consumer'),
      member(NEWBIE, 'contributor', { joinedAt: '2026-03-01T00:00:00Z' }),
    ],
  };
  const v3: Agreement = { circleId: circle.id, version: 3, proposedBy: COORD, proposedAt: '2026-01-01T12:00:00Z', terms: TERMS };
  const v4: Agreement = { ...v3, version: 4, proposedAt: '2026-03-05T00:00:00Z' };
  const accepted = (organisationId: string, version: number, acceptedAt: string) => ({ circleId: circle.id, organisationId, version, acceptedAt });
  const before: AgreementState = {
    agreements: [v3, v4],
    acceptances: [accepted(GOV, 3, '2026-01-02T00:00:00Z'), accepted(BANK, 3, '2026-01-02T00:00:00Z'), accepted(NEWBIE, 3, '2026-03-02T00:00:00Z')],
  };
  const green = { object_marking_refs: [GREEN] };

  function decide(recipient: string, contributors: readonly string[] | undefined, agreements = before, releasing?: string): CircleReleaseDecision {
    const standing = decideCircleStanding({ organisationId: recipient, sectors: [] }, circle, agreements, AT, 0, releasing);
    return decideCircleReleaseFor({ object: indicator(green), markingDefinitions: new Map(), ...(contributors === undefined ? {} : { contributors }) }, standing);
  }

  it('withholds from the newcomer what a member contributed under terms it accepted before the newcomer joined, and says how to lift it', () => {
    const decision = decide(NEWBIE, [GOV]);
    assert.equal(decision.kind, 'withhold');
    assert.deepEqual(decision.reasons, [
      `newcomer: the version was contributed by ${GOV}, which has not agreed to terms with ${NEWBIE} in the circle (${GOV} accepted agreement v3 at 2026-01-02T00:00:00Z, before ${NEWBIE} joined circle north-sea at 2026-03-01T00:00:00Z); it goes to ${NEWBIE} once ${GOV} accepts terms after that (the next version a coordinator proposes; the same terms will do)`,
    ]);
    assert.equal(decision.agreementVersion, 3);
  });

  it('releases it to the members that were in when the contributor accepted, and to the newcomer its own and the coordinator\'s', () => {
    assert.equal(decide(BANK, [GOV]).kind, 'share');
    assert.equal(decide(GOV, [NEWBIE]).kind, 'share', 'the newcomer accepted after Gov joined');
    assert.equal(decide(NEWBIE, [NEWBIE]).kind, 'share');
    assert.equal(decide(NEWBIE, [COORD]).kind, 'share', 'coordinators decide who is in');
  });

  it('releases it to the newcomer once the contributor accepted a version after the newcomer joined', () => {
    const after: AgreementState = { ...before, acceptances: [...before.acceptances, accepted(GOV, 4, '2026-03-06T00:00:00Z')] };
    assert.equal(decide(NEWBIE, [GOV], after).kind, 'share');
  });

  it('needs every contributor of the version to have agreed: one re-sending another\'s version does not consent for it', () => {
    assert.equal(decide(NEWBIE, [COORD, GOV]).kind, 'withhold');
  });

  it('withholds what a coordinator that left before the newcomer joined, or an organisation bound by no terms, contributed', () => {
    assert.match(decide(NEWBIE, [FORMER]).reasons[0] ?? '', /^newcomer: .*has accepted no valid agreement version/);
    assert.match(decide(NEWBIE, [OUTSIDER]).reasons[0] ?? '', /^newcomer: the version was contributed by identity--07/);
  });

  it('without contributors the version is the releasing organisation\'s own: a member\'s node releases its own to the newcomer once it agreed with it in', () => {
    // Gov's own node, the circle mirrored from the coordinator's.
    assert.equal(decide(NEWBIE, undefined, before, GOV).kind, 'withhold');
    assert.equal(decide(BANK, undefined, before, GOV).kind, 'share');
    // The coordinator's node, and a decision told of no releasing organisation.
    assert.equal(decide(NEWBIE, undefined, before, COORD).kind, 'share');
    assert.equal(decide(NEWBIE, undefined).kind, 'share');
  });
});
