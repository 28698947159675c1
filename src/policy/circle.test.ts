import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { circleClosedReason, membershipAt, parseCircle, visibleMembers } from './circle.ts';

const COORD = 'identity--0a000000-0000-4000-8000-000000000001';
const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const NGO = 'identity--0c000000-0000-4000-8000-000000000003';

function circleDoc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'baltic-energy',
    name: 'Baltic energy',
    description: 'Grid operators and their national CERTs',
    kind: 'tacit',
    visibility: 'hidden',
    collection_id: 'baltic-energy-collection',
    default_tlp: 'amber',
    valid_from: '2026-01-01T00:00:00Z',
    valid_until: '2026-07-01T00:00:00Z',
    members: [
      { organisation_id: COORD, role: 'coordinator', joined_at: '2026-01-01T00:00:00Z' },
      { organisation_id: BANK, role: 'contributor', joined_at: '2026-02-01T00:00:00Z', left_at: '2026-03-01T00:00:00Z' },
      { organisation_id: NGO, role: 'consumer', joined_at: '2026-01-15T00:00:00Z', trial: true },
    ],
    ...overrides,
  };
}

function codes(value: unknown): string[] {
  const parsed = parseCircle(value);
  return parsed.ok ? [] : parsed.error.map((issue) => `${issue.path} ${issue.code}`);
}

describe('parseCircle', () => {
  it('reads a tacit, hidden circle with members, roles, windows and a trial member', () => {
    const parsed = parseCircle(circleDoc());
    assert.ok(parsed.ok);
    assert.equal(parsed.value.kind, 'tacit');
    assert.equal(parsed.value.validUntil, '2026-07-01T00:00:00Z');
    assert.deepEqual(parsed.value.members[1], {
      organisationId: BANK, role: 'contributor', joinedAt: '2026-02-01T00:00:00Z', leftAt: '2026-03-01T00:00:00Z', trial: false,
    });
    assert.equal(parsed.value.members[2]?.trial, true);
  });

  it('requires an end for tacit circles and a review date for formal ones', () => {
    assert.deepEqual(codes(circleDoc({ valid_until: undefined })), ['$.valid_until ENT_POLICY_WINDOW']);
    assert.deepEqual(codes(circleDoc({ kind: 'formal', valid_until: undefined })), ['$.review_at ENT_POLICY_WINDOW']);
    assert.ok(parseCircle(circleDoc({ kind: 'formal', valid_until: undefined, review_at: '2027-01-01T00:00:00Z' })).ok);
  });

  it('refuses CLEAR as the default level: an unmarked object is never CLEAR', () => {
    assert.deepEqual(codes(circleDoc({ default_tlp: 'clear' })), ['$.default_tlp ENT_POLICY_BAD_VALUE']);
  });

  it('refuses windows that end before they start', () => {
    assert.deepEqual(codes(circleDoc({ valid_until: '2025-01-01T00:00:00Z' })), ['$.valid_until ENT_POLICY_WINDOW']);
    const members = [
      { organisation_id: COORD, role: 'coordinator', joined_at: '2026-02-01T00:00:00Z', left_at: '2026-02-01T00:00:00Z' },
    ];
    assert.deepEqual(codes(circleDoc({ members })), ['$.members[0].left_at ENT_POLICY_WINDOW']);
  });

  it('needs a coordinator, distinct members and identity ids', () => {
    const members = [
      { organisation_id: BANK, role: 'contributor', joined_at: '2026-02-01T00:00:00Z' },
      { organisation_id: BANK, role: 'consumer', joined_at: '2026-02-01T00:00:00Z' },
      { organisation_id: 'bank', role: 'consumer', joined_at: '2026-02-01T00:00:00Z' },
    ];
    assert.deepEqual(codes(circleDoc({ members })), [
      '$.members[1].organisation_id ENT_POLICY_DUPLICATE',
      '$.members[2].organisation_id ENT_POLICY_BAD_VALUE',
      '$.members ENT_POLICY_NO_COORDINATOR',
    ]);
  });

  it('reports hostile documents as issues, never throws', () => {
    for (const hostile of [null, 7, 'circle', [], { __proto__: { kind: 'tacit' } }]) {
      const parsed = parseCircle(hostile);
      assert.equal(parsed.ok, false);
    }
    const polluted = JSON.parse(JSON.stringify(circleDoc()).replace('{', '{"__proto__":{"x":1},')) as unknown;
    assert.deepEqual(codes(polluted), ['$.__proto__ ENT_POLICY_UNKNOWN_FIELD']);
    assert.deepEqual(codes(circleDoc({ valid_from: '2026-01-01' })), ['$.valid_from ENT_POLICY_BAD_VALUE']);
    assert.deepEqual(codes(circleDoc({ valid_from: '2026-13-45T00:00:00Z' })), ['$.valid_from ENT_POLICY_BAD_VALUE']);
    assert.deepEqual(codes(circleDoc({ name: 'x'.repeat(5000) })), ['$.name ENT_POLICY_BAD_VALUE']);
    assert.deepEqual(codes(circleDoc({ members: new Array(1001).fill({}) })), ['$.members ENT_POLICY_TOO_LARGE']);
    assert.deepEqual(codes(circleDoc({ members: 'everyone' })), ['$.members ENT_POLICY_WRONG_TYPE']);
    assert.deepEqual(codes(circleDoc({ visibility: 'public', extra: 1 })), ['$.extra ENT_POLICY_UNKNOWN_FIELD', '$.visibility ENT_POLICY_BAD_VALUE']);
  });
});

describe('circle windows and membership', () => {
  const parsed = parseCircle(circleDoc());
  assert.ok(parsed.ok);
  const circle = parsed.value;

  it('releases nothing before valid_from and from valid_until on (the end instant included)', () => {
    assert.match(circleClosedReason(circle, new Date('2025-12-31T23:59:59.999Z')) ?? '', /has not started/);
    assert.equal(circleClosedReason(circle, new Date('2026-06-30T23:59:59.999Z')), undefined);
    assert.match(circleClosedReason(circle, new Date('2026-07-01T00:00:00Z')) ?? '', /ended/);
  });

  it('counts a member from joining (inclusive) to leaving (exclusive)', () => {
    assert.equal(membershipAt(circle, BANK, new Date('2026-01-31T23:59:59Z')).kind, 'not-member');
    assert.equal(membershipAt(circle, BANK, new Date('2026-02-01T00:00:00Z')).kind, 'member');
    assert.equal(membershipAt(circle, BANK, new Date('2026-03-01T00:00:00Z')).kind, 'not-member');
    assert.equal(membershipAt(circle, 'identity--unknown', new Date('2026-03-01T00:00:00Z')).kind, 'not-member');
  });

  it('shows a hidden circle member only the coordinators and itself', () => {
    assert.deepEqual(visibleMembers(circle, NGO).map((m) => m.organisationId), [COORD, NGO]);
    assert.deepEqual(visibleMembers({ ...circle, visibility: 'open' }, NGO).length, 3);
    assert.deepEqual(visibleMembers(circle, COORD).length, 3, 'a coordinator sees every member of a hidden circle');
  });
});
