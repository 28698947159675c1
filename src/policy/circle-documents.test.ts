import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAgreement, parseAgreementAcceptance, type Agreement, type AgreementAcceptance } from './agreement.ts';
import { parseCircle, type Circle } from './circle.ts';
import { toAcceptanceDocument, toAgreementDocument, toCircleDocument } from './circle-documents.ts';

const COORD = 'identity--0a000000-0000-4000-8000-000000000001';
const BANK = 'identity--0b000000-0000-4000-8000-000000000002';

const hidden: Circle = {
  id: 'grid-2026',
  name: 'Grid operators 2026',
  description: 'TSOs and their CERTs',
  kind: 'tacit',
  visibility: 'hidden',
  collectionId: 'grid-2026-collection',
  defaultTlp: 'amber+strict',
  validFrom: '2026-02-01T00:00:00.000Z',
  validUntil: '2026-12-31T00:00:00Z',
  members: [
    { organisationId: COORD, role: 'coordinator', joinedAt: '2026-02-01T00:00:00.000Z', trial: false },
    { organisationId: BANK, role: 'consumer', joinedAt: '2026-03-01T00:00:00Z', leftAt: '2026-04-01T00:00:00.5Z', trial: true },
  ],
};

const agreement: Agreement = {
  circleId: 'grid-2026',
  version: 3,
  proposedBy: COORD,
  proposedAt: '2026-02-02T00:00:00.000Z',
  terms: {
    scope: { types: ['indicator', 'malware'], labels: ['ransomware'], sectors: ['energy'] },
    highestTlp: 'amber',
    onwardSharing: 'organisation',
    attribution: 'anonymise',
    expectations: { permittedActions: 'internally-visible-actions', affectedPartyNotifications: 'must-not', providerAttribution: 'may' },
    endRule: 'recall',
  },
};

const acceptance: AgreementAcceptance = { circleId: 'grid-2026', organisationId: BANK, version: 3, acceptedAt: '2026-03-02T00:00:00.000Z' };

/** What goes over the wire: a JSON text, read back as untrusted input. */
function wire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

describe('circle documents', () => {
  it('writes the snake_case exchange form and reads back the same circle', () => {
    const document = toCircleDocument(hidden);
    assert.deepEqual(Object.keys(document), ['id', 'name', 'description', 'kind', 'visibility', 'collection_id', 'default_tlp', 'valid_from', 'valid_until', 'members']);
    assert.deepEqual(document.members[1], { organisation_id: BANK, role: 'consumer', joined_at: '2026-03-01T00:00:00Z', left_at: '2026-04-01T00:00:00.5Z', trial: true });
    const parsed = parseCircle(wire(document));
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.deepEqual(parsed.value, hidden);
  });

  it('leaves out absent optional fields instead of writing null or undefined', () => {
    const { description: _d, validUntil: _u, ...formal } = hidden;
    const circle: Circle = { ...formal, kind: 'formal', reviewAt: '2027-01-01T00:00:00Z', members: [hidden.members[0] ?? assert.fail()] };
    const text = JSON.stringify(toCircleDocument(circle));
    assert.doesNotMatch(text, /null|description|valid_until|left_at/);
    const parsed = parseCircle(JSON.parse(text));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, circle);
  });

  it('writes only the fields of the format, whatever else the object carries', () => {
    const smuggled = { ...hidden, secretNotes: 'TLP:RED do not share', members: hidden.members.map((member) => ({ ...member, token: 'ent_x' })) } as Circle;
    const text = JSON.stringify(toCircleDocument(smuggled));
    assert.doesNotMatch(text, /secretNotes|TLP:RED|token|ent_x/);
    assert.ok(parseCircle(JSON.parse(text)).ok);
  });

  it('round-trips agreements and acceptances through their parsers', () => {
    const agreementBack = parseAgreement(wire(toAgreementDocument(agreement)));
    assert.ok(agreementBack.ok, JSON.stringify(agreementBack));
    assert.deepEqual(agreementBack.value, agreement);
    const acceptanceBack = parseAgreementAcceptance(wire(toAcceptanceDocument(acceptance)));
    assert.ok(acceptanceBack.ok);
    assert.deepEqual(acceptanceBack.value, acceptance);
  });

  it('carries the sighting-sharing term through the document when set', () => {
    const sharing: Agreement = { ...agreement, terms: { ...agreement.terms, sightingSharing: 'summary' } };
    const document = toAgreementDocument(sharing) as { terms: Record<string, unknown> };
    assert.equal(document.terms['sighting_sharing'], 'summary');
    const back = parseAgreement(wire(document));
    assert.ok(back.ok);
    assert.deepEqual(back.value, sharing);
  });

  it('omits scope labels and sectors when the terms set none (absent means no restriction, empty would mean none)', () => {
    const plain: Agreement = { ...agreement, terms: { ...agreement.terms, scope: { types: ['indicator'] } } };
    const document = toAgreementDocument(plain) as { terms: { scope: Record<string, unknown> } };
    assert.deepEqual(document.terms.scope, { types: ['indicator'] });
    const back = parseAgreement(wire(document));
    assert.ok(back.ok);
    assert.deepEqual(back.value, plain);
  });

  it('reads back every valid circle it writes (random circles)', () => {
    const timestamp = fc.integer({ min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') });
    const org = fc.integer({ min: 1, max: 0xffff }).map((n) => `identity--0f000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`);
    const arbitrary = fc
      .record({
        id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:~-]{0,30}$/),
        name: fc.string({ minLength: 1, maxLength: 40 }),
        description: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
        visibility: fc.constantFrom('open' as const, 'hidden' as const),
        defaultTlp: fc.constantFrom('green' as const, 'amber' as const, 'amber+strict' as const, 'red' as const),
        from: timestamp,
        length: fc.integer({ min: 1, max: 10 ** 10 }),
        members: fc.uniqueArray(fc.record({ org, offset: fc.nat(10 ** 9), stay: fc.option(fc.integer({ min: 1, max: 10 ** 9 }), { nil: undefined }), trial: fc.boolean(), role: fc.constantFrom('coordinator' as const, 'contributor' as const, 'consumer' as const) }), { selector: (member) => member.org, maxLength: 8 }),
      })
      .map((raw): Circle => {
        const iso = (ms: number): string => new Date(ms).toISOString();
        return {
          id: raw.id,
          name: raw.name,
          ...(raw.description === undefined ? {} : { description: raw.description }),
          kind: 'tacit',
          visibility: raw.visibility,
          collectionId: `${raw.id}-c`.slice(0, 200),
          defaultTlp: raw.defaultTlp,
          validFrom: iso(raw.from),
          validUntil: iso(raw.from + raw.length),
          members: [
            { organisationId: COORD, role: 'coordinator', joinedAt: iso(raw.from), trial: false },
            ...raw.members.map((member) => ({
              organisationId: member.org,
              role: member.role,
              joinedAt: iso(raw.from + member.offset),
              ...(member.stay === undefined ? {} : { leftAt: iso(raw.from + member.offset + member.stay) }),
              trial: member.trial,
            })),
          ],
        };
      });
    fc.assert(
      fc.property(arbitrary, (circle) => {
        const parsed = parseCircle(wire(toCircleDocument(circle)));
        assert.ok(parsed.ok, JSON.stringify(parsed));
        assert.deepEqual(parsed.value, circle);
      }),
      { seed: 3, numRuns: 300 },
    );
  });
});
