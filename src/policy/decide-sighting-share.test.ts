import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Agreement, AgreementState, AgreementTerms } from './agreement.ts';
import type { Circle, CircleMember } from './circle.ts';
import { decideSightingShare, type SightingShareRequest } from './decide-sighting-share.ts';
import { TLP2_MARKING_IDS } from './tlp.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from './classify-marking.ts';

const COORD = 'identity--01000000-0000-4000-8000-000000000001';
const HOME = 'identity--02000000-0000-4000-8000-000000000002';
const AT = new Date('2026-04-01T00:00:00Z');

function member(organisationId: string, role: CircleMember['role'], extra: Partial<CircleMember> = {}): CircleMember {
  return { organisationId, role, joinedAt: '2026-01-01T00:00:00Z', trial: false, ...extra };
}

const CIRCLE: Circle = {
  id: 'north-sea', name: 'North Sea grid', kind: 'formal', visibility: 'open', collectionId: 'north-sea',
  defaultTlp: 'green', validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-12-31T00:00:00Z', reviewAt: '2026-06-30T00:00:00Z',
  members: [member(COORD, 'coordinator'), member(HOME, 'contributor')],
};

const TERMS: AgreementTerms = {
  scope: { types: ['indicator', 'sighting', 'identity', 'observed-data', 'ipv4-addr'] },
  highestTlp: 'amber+strict',
  onwardSharing: 'none',
  attribution: 'keep',
  expectations: { permittedActions: 'internally-visible-actions', affectedPartyNotifications: 'may', providerAttribution: 'may' },
  endRule: 'retain',
  sightingSharing: 'evidence',
};

function agreements(terms: Partial<AgreementTerms> = {}, acceptedBy: readonly string[] = [COORD, HOME]): AgreementState {
  const agreement: Agreement = { circleId: CIRCLE.id, version: 2, proposedBy: COORD, proposedAt: '2026-01-01T12:00:00Z', terms: { ...TERMS, ...terms } };
  return { agreements: [agreement], acceptances: acceptedBy.map((organisationId) => ({ circleId: CIRCLE.id, organisationId, version: 2, acceptedAt: '2026-01-02T00:00:00Z' })) };
}

function request(overrides: Partial<SightingShareRequest> = {}): SightingShareRequest {
  return {
    circle: CIRCLE,
    agreements: agreements(),
    homeOrganisationId: HOME,
    indicator: { type: 'indicator', id: 'indicator--0a000000-0000-4000-8000-000000000001', object_marking_refs: [TLP2_MARKING_IDS.green] },
    evidenceTypes: ['observed-data', 'ipv4-addr'],
    at: AT,
    ...overrides,
  };
}

describe('decideSightingShare: what of a sighting goes back into the indicator\'s circle', () => {
  it('keeps every sighting on the node when the terms say nothing about sightings (the default)', () => {
    const { sightingSharing: _omitted, ...silent } = TERMS;
    const decision = decideSightingShare(request({ agreements: { ...agreements(), agreements: [{ ...agreements().agreements[0] as Agreement, terms: silent }] } }));
    assert.equal(decision.kind, 'keep');
    assert.match(decision.reasons.join(), /sighting_sharing: none/);
  });

  it('keeps it when the terms say none', () => {
    assert.equal(decideSightingShare(request({ agreements: agreements({ sightingSharing: 'none' }) })).kind, 'keep');
  });

  it('shares the summary without observed-data under summary', () => {
    const decision = decideSightingShare(request({ agreements: agreements({ sightingSharing: 'summary' }) }));
    assert.equal(decision.kind, 'share');
    assert.equal(decision.kind === 'share' && decision.evidence, false);
  });

  it('shares the observed-data under evidence only when it and every observable type are in scope', () => {
    const whole = decideSightingShare(request());
    assert.ok(whole.kind === 'share' && whole.evidence);
    const partly = decideSightingShare(request({ evidenceTypes: ['observed-data', 'ipv4-addr', 'network-traffic'] }));
    assert.ok(partly.kind === 'share');
    assert.equal(partly.evidence, false, 'an out-of-scope observable would make the release decision withhold the whole sighting');
    assert.match(partly.reasons.join(), /network-traffic outside the scope/);
  });

  it('keeps sightings of a circle whose scope has no sighting type', () => {
    const decision = decideSightingShare(request({ agreements: agreements({ scope: { types: ['indicator', 'identity'] } }) }));
    assert.equal(decision.kind, 'keep');
  });

  it('binds the home organisation only to terms it accepted', () => {
    assert.equal(decideSightingShare(request({ agreements: agreements({}, [COORD]) })).kind, 'keep');
  });

  it("binds a coordinator on its own node to the newest version it proposed (it accepts nothing there)", () => {
    const coordinating: Circle = { ...CIRCLE, members: [member(HOME, 'coordinator'), member(COORD, 'contributor')] };
    const proposed = (sightingSharing: NonNullable<AgreementTerms['sightingSharing']>, version: number): Agreement => ({
      circleId: CIRCLE.id, version, proposedBy: HOME, proposedAt: `2026-01-0${version}T12:00:00Z`, terms: { ...TERMS, sightingSharing },
    });
    const shares = decideSightingShare(request({ circle: coordinating, agreements: { agreements: [proposed('none', 1), proposed('summary', 2)], acceptances: [] } }));
    assert.equal(shares.kind, 'share');
    const withdrawn = decideSightingShare(request({ circle: coordinating, agreements: { agreements: [proposed('summary', 1), proposed('none', 2)], acceptances: [] } }));
    assert.equal(withdrawn.kind, 'keep');
  });

  it('keeps sightings once the home organisation has left or the circle has ended', () => {
    const left: Circle = { ...CIRCLE, members: [member(COORD, 'coordinator'), member(HOME, 'contributor', { leftAt: '2026-03-01T00:00:00Z' })] };
    assert.equal(decideSightingShare(request({ circle: left })).kind, 'keep');
    assert.equal(decideSightingShare(request({ at: new Date('2027-01-01T00:00:00Z') })).kind, 'keep');
  });

  it('marks the sighting no more openly than the indicator nor the circle default', () => {
    const clear = decideSightingShare(request({ indicator: { type: 'indicator', object_marking_refs: [TLP2_MARKING_IDS.clear] } }));
    assert.ok(clear.kind === 'share');
    assert.equal(clear.tlp, 'green', 'a CLEAR indicator\'s sighting still says who was hit: the circle default');
    const amber = decideSightingShare(request({ indicator: { type: 'indicator', object_marking_refs: [TLP2_MARKING_IDS.amber] } }));
    assert.ok(amber.kind === 'share');
    assert.equal(amber.tlp, 'amber');
    const unmarked = decideSightingShare(request({ indicator: { type: 'indicator' } }));
    assert.ok(unmarked.kind === 'share');
    assert.equal(unmarked.tlp, 'green');
  });

  it('keeps a sighting that would be RED or above the agreement\'s highest TLP', () => {
    assert.equal(decideSightingShare(request({ indicator: { type: 'indicator', object_marking_refs: [TLP2_MARKING_IDS.red] } })).kind, 'keep');
    const strict = decideSightingShare(request({ indicator: { type: 'indicator', object_marking_refs: [TLP2_MARKING_IDS['amber+strict']] } , agreements: agreements({ highestTlp: 'amber' }) }));
    assert.equal(strict.kind, 'keep');
    assert.match(strict.reasons.join(), /tlp.highest/);
  });

  it("carries the indicator's other markings, and keeps the sighting when one of them cannot be read", () => {
    const recipients = 'marking-definition--0c000000-0000-4000-8000-000000000001';
    const definition = {
      type: 'marking-definition', spec_version: '2.1', id: recipients, created: '2026-01-01T00:00:00.000Z',
      extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'recipients', organisation_refs: [COORD] } },
    };
    const indicator = { type: 'indicator', object_marking_refs: [TLP2_MARKING_IDS.amber, recipients] };
    const narrowed = decideSightingShare(request({ indicator, markingDefinitions: new Map([[recipients, definition]]) }));
    assert.ok(narrowed.kind === 'share');
    assert.equal(narrowed.tlp, 'amber');
    assert.deepEqual(narrowed.markings, [recipients], 'the official TLP id is replaced by the decided level; the rest go as they are');
    const unread = decideSightingShare(request({ indicator }));
    assert.equal(unread.kind, 'keep');
    assert.match(unread.reasons.join(), /marking\.unknown/);
  });

  it('takes the TLP of a granular marking on the indicator too: it governs the value the evidence holds', () => {
    const granular = decideSightingShare(request({ indicator: { type: 'indicator', object_marking_refs: [TLP2_MARKING_IDS.green], granular_markings: [{ marking_ref: TLP2_MARKING_IDS.red, selectors: ['pattern'] }] } }));
    assert.equal(granular.kind, 'keep');
    assert.match(granular.reasons.join(), /tlp\.red/);
  });

  it('names the home organisation where sighted only when attribution is kept and identities are in scope', () => {
    const kept = decideSightingShare(request());
    assert.ok(kept.kind === 'share' && kept.whereSighted);
    const anonymised = decideSightingShare(request({ agreements: agreements({ attribution: 'anonymise' }) }));
    assert.ok(anonymised.kind === 'share');
    assert.equal(anonymised.whereSighted, false);
    const noIdentities = decideSightingShare(request({ agreements: agreements({ scope: { types: ['indicator', 'sighting'] } }) }));
    assert.ok(noIdentities.kind === 'share');
    assert.equal(noIdentities.whereSighted, false);
  });

  it('carries the scope labels the indicator has, and keeps the sighting when it has none of them', () => {
    const labelled = decideSightingShare(request({
      agreements: agreements({ scope: { types: TERMS.scope.types, labels: ['energy'] } }),
      indicator: { type: 'indicator', labels: ['scanning', 'energy'] },
    }));
    assert.ok(labelled.kind === 'share');
    assert.deepEqual(labelled.labels, ['energy']);
    const unlabelled = decideSightingShare(request({ agreements: agreements({ scope: { types: TERMS.scope.types, labels: ['energy'] } }) }));
    assert.equal(unlabelled.kind, 'keep');
  });
});
