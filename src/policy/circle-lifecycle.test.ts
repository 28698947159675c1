import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { membershipAt, parseCircle, type Circle } from './circle.ts';
import { toCircleDocument } from './circle-documents.ts';
import { currentMembers, endCircle, inviteMember, leaveCircle, promoteMember } from './circle-lifecycle.ts';
import { POLICY_LIMITS } from './document-reader.ts';

const COORD = 'identity--0a000000-0000-4000-8000-000000000001';
const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const NGO = 'identity--0c000000-0000-4000-8000-000000000003';
const GRID = 'identity--0d000000-0000-4000-8000-000000000004';

const T = (text: string): Date => new Date(text);

function circle(overrides: Partial<Circle> = {}): Circle {
  return {
    id: 'grid-2026',
    name: 'Grid operators 2026',
    kind: 'tacit',
    visibility: 'hidden',
    collectionId: 'grid-2026',
    defaultTlp: 'amber',
    validFrom: '2026-02-01T00:00:00.000Z',
    validUntil: '2026-12-31T00:00:00.000Z',
    members: [{ organisationId: COORD, role: 'coordinator', joinedAt: '2026-02-01T00:00:00.000Z', trial: false }],
    ...overrides,
  };
}

function changed(result: ReturnType<typeof inviteMember>): Circle {
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

function refusal(result: ReturnType<typeof inviteMember>): string {
  assert.equal(result.ok, false, 'the change should have been refused');
  return result.ok ? '' : `${result.error.code}: ${result.error.message}`;
}

/** Every circle a lifecycle function returns must read back as the same circle: it is what the store keeps. */
function assertReadsBack(value: Circle): void {
  const parsed = parseCircle(JSON.parse(JSON.stringify(toCircleDocument(value))));
  assert.ok(parsed.ok, `the changed circle no longer reads: ${JSON.stringify(parsed)}`);
  assert.deepEqual(parsed.value, value);
}

describe('inviteMember', () => {
  it('adds a member from the invitation instant, with its role and trial flag', () => {
    const next = changed(inviteMember(circle(), { organisationId: BANK, role: 'contributor', trial: true }, T('2026-03-01T10:00:00Z')));
    assert.deepEqual(next.members[1], { organisationId: BANK, role: 'contributor', joinedAt: '2026-03-01T10:00:00.000Z', trial: true });
    assert.equal(membershipAt(next, BANK, T('2026-03-01T09:59:59.999Z')).kind, 'not-member');
    assert.equal(membershipAt(next, BANK, T('2026-03-01T10:00:00Z')).kind, 'member');
    assertReadsBack(next);
  });

  it('never backdates: an invitation before the circle starts joins at valid_from', () => {
    const next = changed(inviteMember(circle(), { organisationId: BANK, role: 'consumer', trial: false }, T('2026-01-01T00:00:00Z')));
    assert.equal(next.members[1]?.joinedAt, '2026-02-01T00:00:00.000Z');
    assert.equal(membershipAt(next, BANK, T('2026-01-31T23:59:59.999Z')).kind, 'not-member');
  });

  it('refuses a current member and a member that left (one membership window per circle)', () => {
    const joined = changed(inviteMember(circle(), { organisationId: BANK, role: 'consumer', trial: false }, T('2026-03-01T00:00:00Z')));
    assert.match(refusal(inviteMember(joined, { organisationId: BANK, role: 'coordinator', trial: false }, T('2026-03-02T00:00:00Z'))), /^ENT_CIRCLE_MEMBER_EXISTS: .*already a member/);
    const left = changed(leaveCircle(joined, BANK, T('2026-04-01T00:00:00Z')));
    // The attacker's move: leave, then come back with a fresh joined_at (and a better role) to blur the audit.
    assert.match(refusal(inviteMember(left, { organisationId: BANK, role: 'coordinator', trial: false }, T('2026-05-01T00:00:00Z'))), /^ENT_CIRCLE_MEMBER_EXISTS: .*cannot rejoin/);
  });

  it('lets nobody join an ended circle, at the end instant or after it', () => {
    const ended = circle({ validUntil: '2026-06-01T00:00:00.000Z' });
    assert.match(refusal(inviteMember(ended, { organisationId: BANK, role: 'consumer', trial: false }, T('2026-06-01T00:00:00Z'))), /^ENT_CIRCLE_ENDED/);
    assert.match(refusal(inviteMember(ended, { organisationId: BANK, role: 'consumer', trial: false }, T('2027-01-01T00:00:00Z'))), /^ENT_CIRCLE_ENDED/);
    assert.ok(inviteMember(ended, { organisationId: BANK, role: 'consumer', trial: false }, T('2026-05-31T23:59:59.999Z')).ok);
  });

  it('refuses the member past the document limit instead of storing a circle nobody can read back', () => {
    const members = Array.from({ length: POLICY_LIMITS.maxList }, (_, index) => ({
      organisationId: `identity--0e000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
      role: index === 0 ? ('coordinator' as const) : ('consumer' as const),
      joinedAt: '2026-02-01T00:00:00.000Z',
      trial: false,
    }));
    const full = circle({ members });
    assert.ok(parseCircle(toCircleDocument(full)).ok);
    assert.match(refusal(inviteMember(full, { organisationId: BANK, role: 'consumer', trial: false }, T('2026-03-01T00:00:00Z'))), /^ENT_POLICY_TOO_LARGE/);
  });

  it('refuses an organisation id the circle document cannot hold (upper-case, not an identity)', () => {
    for (const organisationId of ['identity--0B000000-0000-4000-8000-000000000002', 'indicator--0b000000-0000-4000-8000-000000000002', 'x'.repeat(5000)]) {
      const result = inviteMember(circle(), { organisationId, role: 'consumer', trial: false }, T('2026-03-01T00:00:00Z'));
      assert.match(refusal(result), /^ENT_POLICY_CIRCLE_INVALID: .*organisation_id/);
    }
  });
});

describe('leaveCircle', () => {
  const base = changed(inviteMember(circle(), { organisationId: BANK, role: 'contributor', trial: false }, T('2026-03-01T00:00:00Z')));

  it('sets left_at to the instant: releases stop exactly then', () => {
    const left = changed(leaveCircle(base, BANK, T('2026-04-01T12:00:00Z')));
    assert.equal(left.members[1]?.leftAt, '2026-04-01T12:00:00.000Z');
    assert.equal(membershipAt(left, BANK, T('2026-04-01T11:59:59.999Z')).kind, 'member');
    assert.equal(membershipAt(left, BANK, T('2026-04-01T12:00:00Z')).kind, 'not-member');
    assert.equal(membershipAt(left, BANK, T('2026-04-01T12:00:00.001Z')).kind, 'not-member');
    assert.deepEqual(currentMembers(left, T('2026-05-01T00:00:00Z')).map((member) => member.organisationId), [COORD]);
    assertReadsBack(left);
  });

  it('refuses an organisation that is not, or no longer, a member', () => {
    assert.match(refusal(leaveCircle(base, NGO, T('2026-04-01T00:00:00Z'))), /^ENT_CIRCLE_NOT_MEMBER/);
    const left = changed(leaveCircle(base, BANK, T('2026-04-01T00:00:00Z')));
    assert.match(refusal(leaveCircle(left, BANK, T('2026-05-01T00:00:00Z'))), /^ENT_CIRCLE_NOT_MEMBER/);
  });

  it('keeps the circle readable when a member leaves in the very instant it joined', () => {
    const left = changed(leaveCircle(base, BANK, T('2026-03-01T00:00:00Z')));
    assertReadsBack(left);
    // The window it had is empty or as short as the document allows; never longer than one millisecond.
    const leftAt = Date.parse(left.members[1]?.leftAt ?? '');
    assert.ok(leftAt - Date.parse('2026-03-01T00:00:00Z') <= 1);
  });

  it('refuses to let the last coordinator leave a running circle, but allows it with another coordinator', () => {
    assert.match(refusal(leaveCircle(base, COORD, T('2026-04-01T00:00:00Z'))), /^ENT_CIRCLE_LAST_COORDINATOR/);
    const two = changed(inviteMember(base, { organisationId: GRID, role: 'coordinator', trial: false }, T('2026-03-05T00:00:00Z')));
    const left = changed(leaveCircle(two, COORD, T('2026-04-01T00:00:00Z')));
    assert.match(refusal(leaveCircle(left, GRID, T('2026-04-02T00:00:00Z'))), /^ENT_CIRCLE_LAST_COORDINATOR/);
  });

  it('does not count a coordinator that has left as the remaining one', () => {
    const two = changed(inviteMember(base, { organisationId: GRID, role: 'coordinator', trial: false }, T('2026-03-05T00:00:00Z')));
    const gridLeft = changed(leaveCircle(two, GRID, T('2026-03-10T00:00:00Z')));
    assert.match(refusal(leaveCircle(gridLeft, COORD, T('2026-04-01T00:00:00Z'))), /^ENT_CIRCLE_LAST_COORDINATOR/);
  });
});

describe('endCircle', () => {
  it('sets valid_until to the instant: nothing is released from then on', () => {
    const ended = changed(endCircle(circle(), T('2026-06-01T00:00:00Z')));
    assert.equal(ended.validUntil, '2026-06-01T00:00:00.000Z');
    assertReadsBack(ended);
  });

  it('gives a formal circle without an end one', () => {
    const formal = circle({ kind: 'formal', reviewAt: '2027-01-01T00:00:00.000Z' });
    const { validUntil: _drop, ...open } = formal;
    const ended = changed(endCircle(open, T('2026-06-01T00:00:00Z')));
    assert.equal(ended.validUntil, '2026-06-01T00:00:00.000Z');
    assertReadsBack(ended);
  });

  it('never extends an earlier end, and an ended circle cannot end again', () => {
    const early = circle({ validUntil: '2026-06-01T00:00:00.000Z' });
    const later = endCircle(early, T('2026-09-01T00:00:00Z'));
    if (later.ok) assert.equal(later.value.validUntil, '2026-06-01T00:00:00.000Z');
    else assert.match(later.error.code, /^ENT_CIRCLE_ENDED$/);
    const ended = changed(endCircle(circle(), T('2026-06-01T00:00:00Z')));
    assert.match(refusal(endCircle(ended, T('2026-06-01T00:00:00Z'))), /^ENT_CIRCLE_ENDED/);
    assert.match(refusal(endCircle(ended, T('2026-07-01T00:00:00Z'))), /^ENT_CIRCLE_ENDED/);
  });

  it('ends a circle that has not started yet just after its start, still readable', () => {
    const ended = changed(endCircle(circle(), T('2026-01-01T00:00:00Z')));
    assert.ok(Date.parse(ended.validUntil ?? '') > Date.parse(ended.validFrom));
    assertReadsBack(ended);
  });

  it('lets nobody join after the end and keeps members from acting through it', () => {
    const ended = changed(endCircle(circle(), T('2026-06-01T00:00:00Z')));
    assert.match(refusal(inviteMember(ended, { organisationId: BANK, role: 'consumer', trial: false }, T('2026-06-02T00:00:00Z'))), /^ENT_CIRCLE_ENDED/);
    assert.match(refusal(promoteMember(ended, COORD, T('2026-06-02T00:00:00Z'))), /^ENT_CIRCLE_ENDED/);
  });
});

describe('promoteMember', () => {
  it('clears the trial flag and keeps the role and window', () => {
    const trial = changed(inviteMember(circle(), { organisationId: NGO, role: 'consumer', trial: true }, T('2026-03-01T00:00:00Z')));
    const promoted = changed(promoteMember(trial, NGO, T('2026-04-01T00:00:00Z')));
    assert.deepEqual(promoted.members[1], { organisationId: NGO, role: 'consumer', joinedAt: '2026-03-01T00:00:00.000Z', trial: false });
    assertReadsBack(promoted);
  });

  it('refuses someone who is not a current member', () => {
    const trial = changed(inviteMember(circle(), { organisationId: NGO, role: 'consumer', trial: true }, T('2026-03-01T00:00:00Z')));
    assert.match(refusal(promoteMember(trial, BANK, T('2026-04-01T00:00:00Z'))), /^ENT_CIRCLE_NOT_MEMBER/);
    const left = changed(leaveCircle(trial, NGO, T('2026-03-15T00:00:00Z')));
    assert.match(refusal(promoteMember(left, NGO, T('2026-04-01T00:00:00Z'))), /^ENT_CIRCLE_NOT_MEMBER/);
  });
});

describe('every sequence of lifecycle changes', () => {
  const ORGS = [COORD, BANK, NGO, GRID];
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('invite' as const), org: fc.constantFrom(...ORGS), role: fc.constantFrom('coordinator' as const, 'contributor' as const, 'consumer' as const), trial: fc.boolean() }),
    fc.record({ kind: fc.constant('leave' as const), org: fc.constantFrom(...ORGS) }),
    fc.record({ kind: fc.constant('promote' as const), org: fc.constantFrom(...ORGS) }),
    fc.record({ kind: fc.constant('end' as const) }),
  );
  const step = fc.record({ op: operation, advanceMs: fc.constantFrom(0, 1, 1000, 86_400_000) });

  it('produces circles that read back, keeps one coordinator while running, and never reopens a window', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 25 }), fc.integer({ min: -5, max: 5 }), (steps, startDays) => {
        let current = circle({ validUntil: '2027-06-01T00:00:00.000Z' });
        let time = Date.parse('2026-02-01T00:00:00Z') + startDays * 86_400_000;
        for (const { op, advanceMs } of steps) {
          time += advanceMs;
          const at = new Date(time);
          const result =
            op.kind === 'invite' ? inviteMember(current, { organisationId: op.org, role: op.role, trial: op.trial }, at)
              : op.kind === 'leave' ? leaveCircle(current, op.org, at)
                : op.kind === 'promote' ? promoteMember(current, op.org, at)
                  : endCircle(current, at);
          if (!result.ok) continue;
          const before = current;
          current = result.value;
          assertReadsBack(current);
          // An end only ever moves earlier; a left member stays left at the same instant.
          if (before.validUntil !== undefined) assert.ok(Date.parse(current.validUntil ?? '') <= Date.parse(before.validUntil));
          for (const member of before.members) {
            const after = current.members.find((candidate) => candidate.organisationId === member.organisationId);
            assert.ok(after !== undefined, 'a member never disappears from the record');
            assert.equal(after.joinedAt, member.joinedAt);
            if (member.leftAt !== undefined) assert.equal(after.leftAt, member.leftAt);
          }
          if (Date.parse(current.validUntil ?? '') > time) {
            assert.ok(currentMembers(current, at).some((member) => member.role === 'coordinator') || Date.parse(current.validFrom) > time,
              'a running circle keeps a coordinator');
          }
        }
      }),
      { seed: 20261123, numRuns: 400 },
    );
  });
});
