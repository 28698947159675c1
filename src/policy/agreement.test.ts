import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindingAgreement, parseAgreement, parseAgreementAcceptance, type Agreement, type AgreementState } from './agreement.ts';
import type { Circle } from './circle.ts';

const COORD = 'identity--0a000000-0000-4000-8000-000000000001';
const BANK = 'identity--0b000000-0000-4000-8000-000000000002';

function agreementDoc(overrides: Record<string, unknown> = {}, terms: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    circle_id: 'baltic-energy',
    version: 1,
    proposed_by: COORD,
    proposed_at: '2026-01-02T00:00:00Z',
    terms: {
      scope: { types: ['indicator', 'malware', 'relationship'], labels: ['ransomware'], sectors: ['energy'] },
      highest_tlp: 'amber',
      onward_sharing: 'organisation',
      attribution: 'anonymise',
      expectations: {
        permitted_actions: 'internally-visible-actions',
        affected_party_notifications: 'may',
        provider_attribution: 'must-not',
      },
      end_rule: 'recall',
      ...terms,
    },
    ...overrides,
  };
}

function codes(value: unknown): string[] {
  const parsed = parseAgreement(value);
  return parsed.ok ? [] : parsed.error.map((issue) => `${issue.path} ${issue.code}`);
}

const circle: Circle = {
  id: 'baltic-energy', name: 'Baltic energy', kind: 'formal', visibility: 'open', collectionId: 'c', defaultTlp: 'amber',
  validFrom: '2026-01-01T00:00:00Z', reviewAt: '2027-01-01T00:00:00Z',
  members: [
    { organisationId: COORD, role: 'coordinator', joinedAt: '2026-01-01T00:00:00Z', trial: false },
    { organisationId: BANK, role: 'contributor', joinedAt: '2026-01-01T00:00:00Z', trial: false },
  ],
};

function version(n: number, proposedBy = COORD, proposedAt = `2026-01-0${n + 1}T00:00:00Z`): Agreement {
  const parsed = parseAgreement(agreementDoc({ version: n, proposed_by: proposedBy, proposed_at: proposedAt }));
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.value;
}

describe('parseAgreement', () => {
  it('reads every term: scope, highest TLP, onward sharing, attribution, IEP 2.0 expectations, end rule', () => {
    const parsed = parseAgreement(agreementDoc());
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value.terms, {
      scope: { types: ['indicator', 'malware', 'relationship'], labels: ['ransomware'], sectors: ['energy'] },
      highestTlp: 'amber',
      onwardSharing: 'organisation',
      attribution: 'anonymise',
      expectations: { permittedActions: 'internally-visible-actions', affectedPartyNotifications: 'may', providerAttribution: 'must-not' },
      endRule: 'recall',
    });
  });

  it('reads whether unsigned input from plain TAXII peers is accepted (absent: quarantined)', () => {
    const accepting = parseAgreement(agreementDoc({}, { unsigned_input: 'accept' }));
    assert.ok(accepting.ok);
    assert.equal(accepting.value.terms.unsignedInput, 'accept');
    const silent = parseAgreement(agreementDoc());
    assert.ok(silent.ok);
    assert.equal(silent.value.terms.unsignedInput, undefined);
    assert.deepEqual(codes(agreementDoc({}, { unsigned_input: 'sometimes' })), ['$.terms.unsigned_input ENT_POLICY_BAD_VALUE']);
  });

  it('reads how much of a member\'s sightings may be shared back (absent: none, so older agreements share none)', () => {
    for (const level of ['none', 'summary', 'evidence'] as const) {
      const parsed = parseAgreement(agreementDoc({}, { sighting_sharing: level }));
      assert.ok(parsed.ok);
      assert.equal(parsed.value.terms.sightingSharing, level);
    }
    const silent = parseAgreement(agreementDoc());
    assert.ok(silent.ok);
    assert.equal(silent.value.terms.sightingSharing, undefined);
    assert.deepEqual(codes(agreementDoc({}, { sighting_sharing: 'everything' })), ['$.terms.sighting_sharing ENT_POLICY_BAD_VALUE']);
    assert.deepEqual(codes(agreementDoc({}, { sighting_sharing: true })), ['$.terms.sighting_sharing ENT_POLICY_BAD_VALUE']);
  });

  it('names each invalid term by its path', () => {
    assert.deepEqual(codes(agreementDoc({}, { highest_tlp: 'TLP:PURPLE', onward_sharing: 'anyone' })), [
      '$.terms.highest_tlp ENT_POLICY_BAD_VALUE',
      '$.terms.onward_sharing ENT_POLICY_BAD_VALUE',
    ]);
    assert.deepEqual(codes(agreementDoc({}, { scope: { types: [] } })), ['$.terms.scope.types ENT_POLICY_BAD_VALUE']);
    assert.deepEqual(codes(agreementDoc({}, { scope: { types: ['indicator', 'indicator'] } })), ['$.terms.scope.types[1] ENT_POLICY_DUPLICATE']);
    assert.deepEqual(codes(agreementDoc({ version: 0 })), ['$.version ENT_POLICY_BAD_VALUE']);
    assert.deepEqual(codes(agreementDoc({ version: 1.5 })), ['$.version ENT_POLICY_BAD_VALUE']);
    assert.deepEqual(codes(agreementDoc({ proposed_by: 'the coordinator' })), ['$.proposed_by ENT_POLICY_BAD_VALUE']);
    assert.deepEqual(codes(agreementDoc({}, { expectations: undefined })), ['$.terms.expectations ENT_POLICY_MISSING']);
  });

  it('reports hostile documents as issues and never throws', () => {
    for (const hostile of [undefined, null, '', 0, [], { terms: [] }, { terms: { scope: { types: 'indicator' } } }]) {
      assert.equal(parseAgreement(hostile).ok, false);
    }
    const polluted = JSON.parse(JSON.stringify(agreementDoc()).replace('"scope":{', '"scope":{"__proto__":{"types":["*"]},')) as unknown;
    assert.deepEqual(codes(polluted), ['$.terms.scope.__proto__ ENT_POLICY_UNKNOWN_FIELD']);
    assert.deepEqual(codes(agreementDoc({}, { scope: { types: new Array(5000).fill('indicator') } })), ['$.terms.scope.types ENT_POLICY_TOO_LARGE']);
    assert.deepEqual(codes(agreementDoc({}, { scope: { types: ['indicator', 7, null] } })), [
      '$.terms.scope.types[1] ENT_POLICY_WRONG_TYPE',
      '$.terms.scope.types[2] ENT_POLICY_WRONG_TYPE',
    ]);
    assert.deepEqual(codes(agreementDoc({}, { allow_everything: true })), ['$.terms.allow_everything ENT_POLICY_UNKNOWN_FIELD']);
  });

  it('reads acceptances', () => {
    const parsed = parseAgreementAcceptance({ circle_id: 'baltic-energy', organisation_id: BANK, version: 2, accepted_at: '2026-01-05T00:00:00Z' });
    assert.ok(parsed.ok);
    assert.equal(parsed.value.version, 2);
    assert.equal(parseAgreementAcceptance({ circle_id: 'baltic-energy', organisation_id: BANK, version: '2' }).ok, false);
  });
});

describe('bindingAgreement: only accepted terms bind, and only the member who accepted them', () => {
  const at = new Date('2026-03-01T00:00:00Z');

  it('with a clock-skew tolerance, binds on an acceptance stamped a little in the future by another node\'s clock, and no further', () => {
    const state: AgreementState = { agreements: [version(1)], acceptances: [{ circleId: 'baltic-energy', organisationId: BANK, version: 1, acceptedAt: '2026-02-01T00:04:00Z' }] };
    const now = new Date('2026-02-01T00:00:00Z');
    assert.equal(bindingAgreement(state, circle, BANK, now).kind, 'unbound');
    assert.equal(bindingAgreement(state, circle, BANK, now, 5 * 60_000).kind, 'bound');
    assert.equal(bindingAgreement(state, circle, BANK, new Date('2026-01-31T23:58:00Z'), 5 * 60_000).kind, 'unbound');
  });

  it('binds nobody before acceptance', () => {
    const state: AgreementState = { agreements: [version(1)], acceptances: [] };
    assert.equal(bindingAgreement(state, circle, BANK, at).kind, 'unbound');
  });

  it('binds the highest version the member accepted, not a newer one it has not', () => {
    const state: AgreementState = {
      agreements: [version(1), version(2)],
      acceptances: [
        { circleId: 'baltic-energy', organisationId: BANK, version: 1, acceptedAt: '2026-01-10T00:00:00Z' },
        { circleId: 'baltic-energy', organisationId: COORD, version: 2, acceptedAt: '2026-01-10T00:00:00Z' },
      ],
    };
    const bank = bindingAgreement(state, circle, BANK, at);
    assert.equal(bank.kind === 'bound' && bank.agreement.version, 1);
    const coord = bindingAgreement(state, circle, COORD, at);
    assert.equal(coord.kind === 'bound' && coord.agreement.version, 2);
    assert.equal(bindingAgreement(state, circle, BANK, new Date('2026-01-09T00:00:00Z')).kind, 'unbound');
  });

  it('ignores versions not proposed by a coordinator, acceptances of other circles, and ambiguous versions', () => {
    const byContributor = version(1, BANK);
    const accepted = { circleId: 'baltic-energy', organisationId: BANK, version: 1, acceptedAt: '2026-01-10T00:00:00Z' };
    assert.equal(bindingAgreement({ agreements: [byContributor], acceptances: [accepted] }, circle, BANK, at).kind, 'unbound');
    assert.equal(
      bindingAgreement({ agreements: [version(1)], acceptances: [{ ...accepted, circleId: 'other' }] }, circle, BANK, at).kind,
      'unbound',
    );
    const forged: Agreement = { ...version(1), terms: { ...version(1).terms, highestTlp: 'red' } };
    assert.equal(bindingAgreement({ agreements: [version(1), forged], acceptances: [accepted] }, circle, BANK, at).kind, 'unbound');
    // Accepting before the version was proposed accepts nothing.
    const early = { ...accepted, acceptedAt: '2026-01-01T00:00:00Z' };
    assert.equal(bindingAgreement({ agreements: [version(1)], acceptances: [early] }, circle, BANK, at).kind, 'unbound');
  });

  describe('for a release by another member (agreedBy): only terms that member accepted or proposed too', () => {
    const HOME = 'identity--0c000000-0000-4000-8000-000000000003';
    const withHome: Circle = { ...circle, members: [...circle.members, { organisationId: HOME, role: 'contributor', joinedAt: '2026-01-01T00:00:00Z', trial: false }] };
    const accepts = (organisationId: string, n: number, acceptedAt = '2026-01-10T00:00:00Z') => ({ circleId: 'baltic-energy', organisationId, version: n, acceptedAt });

    it('a wider version only the recipient accepted (as the coordinator says) does not bind the release: the one both accepted does', () => {
      const state: AgreementState = { agreements: [version(1), version(2)], acceptances: [accepts(BANK, 1), accepts(BANK, 2), accepts(HOME, 1)] };
      const bank = bindingAgreement(state, withHome, BANK, at, 0, HOME);
      assert.equal(bank.kind === 'bound' && bank.agreement.version, 1);
      // Without the other side, the recipient's own highest acceptance binds (its view of its own terms).
      const alone = bindingAgreement(state, withHome, BANK, at);
      assert.equal(alone.kind === 'bound' && alone.agreement.version, 2);
    });

    it('a recipient that accepted only versions the releasing member did not is bound by none, and the reason says so', () => {
      const state: AgreementState = { agreements: [version(1), version(2)], acceptances: [accepts(BANK, 2), accepts(HOME, 1)] };
      const bank = bindingAgreement(state, withHome, BANK, at, 0, HOME);
      assert.equal(bank.kind, 'unbound');
      assert.match(bank.kind === 'unbound' ? bank.reason : '', /that identity--0c000000-0000-4000-8000-000000000003 accepted or proposed too$/);
      // Accepted later than the instant decided: not yet agreed.
      const later: AgreementState = { agreements: [version(1)], acceptances: [accepts(BANK, 1), accepts(HOME, 1, '2026-04-01T00:00:00Z')] };
      assert.equal(bindingAgreement(later, withHome, BANK, at, 0, HOME).kind, 'unbound');
    });

    it('a version the releasing member proposed as coordinator counts as agreed by it; a member that neither accepted nor proposed it agreed to nothing', () => {
      const accepted: AgreementState = { agreements: [version(1)], acceptances: [accepts(BANK, 1)] };
      const coord = bindingAgreement(accepted, circle, BANK, at, 0, COORD);
      assert.equal(coord.kind === 'bound' && coord.agreement.version, 1);
      assert.equal(bindingAgreement(accepted, withHome, BANK, at, 0, HOME).kind, 'unbound');
    });
  });
});
