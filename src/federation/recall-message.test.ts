import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Circle } from '../policy/circle.ts';
import type { RecallNotice } from '../store/object-store.ts';
import { createRecallBody, decideRecallAuthority, groupRecallNotices, parseRecallAckBody, parseRecallBody } from './recall-message.ts';

const COORDINATOR = 'identity--00000000-0000-4000-8000-000000000001';
const MEMBER = 'identity--00000000-0000-4000-8000-000000000002';
const OTHER = 'identity--00000000-0000-4000-8000-000000000003';
const id = (n: number): string => `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function notice(circleId: string, organisationId: string, n: number, reason = 'circle ended'): RecallNotice {
  return { circleId, organisationId, objectId: id(n), version: '2026-01-01T00:00:00.000Z', reason, queuedAt: '2026-11-23T10:00:00.000Z' };
}

const circle: Circle = {
  id: 'grid-2026',
  name: 'Grid',
  kind: 'tacit',
  visibility: 'open',
  collectionId: 'grid-2026',
  defaultTlp: 'amber',
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: '2026-12-31T00:00:00.000Z',
  members: [
    { organisationId: COORDINATOR, role: 'coordinator', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
    { organisationId: MEMBER, role: 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
  ],
};

describe('grouping recall notices', () => {
  it('makes one message per circle and organisation, in queue order, with the distinct reasons', () => {
    const groups = groupRecallNotices([notice('a', MEMBER, 1), notice('b', MEMBER, 2), notice('a', OTHER, 3), notice('a', MEMBER, 4, 'member left')]);
    assert.deepEqual(
      groups.map((group) => [group.circleId, group.organisationId, group.versions.map((version) => version.id), group.reason]),
      [
        ['a', MEMBER, [id(1), id(4)], 'circle ended; member left'],
        ['b', MEMBER, [id(2)], 'circle ended'],
        ['a', OTHER, [id(3)], 'circle ended'],
      ],
    );
  });

  it('splits a large group into messages of at most the limit', () => {
    const groups = groupRecallNotices(Array.from({ length: 5 }, (_, n) => notice('a', MEMBER, n)), 2);
    assert.deepEqual(groups.map((group) => group.versions.length), [2, 2, 1]);
  });
});

describe('recall bodies', () => {
  it('reads back what it writes; refuses empty, unknown or malformed parts', () => {
    const [group] = groupRecallNotices([notice('grid-2026', MEMBER, 1)]);
    assert.ok(group !== undefined);
    const body = createRecallBody(group, '2026-11-23T10:00:00.000Z');
    assert.deepEqual(parseRecallBody(body), { ok: true, value: body });
    assert.equal(parseRecallBody({ ...body, versions: [] }).ok, false);
    assert.equal(parseRecallBody({ ...body, versions: [{ id: 'nope', version: 'x' }] }).ok, false);
    assert.equal(parseRecallBody({ ...body, versions: [{ id: id(1), version: '2026-01-01T00:00:00Z', extra: true }] }).ok, false);
    assert.equal(parseRecallBody({ ...body, reason: '' }).ok, false);
    assert.equal(parseRecallBody({ ...body, wipe_everything: true }).ok, false);
    const ack = { circle_id: 'grid-2026', recipient: MEMBER, versions: body.versions, removed: 1, kept: [], acknowledged_at: '2026-11-23T10:00:01Z' };
    assert.equal(parseRecallAckBody(ack).ok, true);
    assert.equal(parseRecallAckBody({ ...ack, removed: -1 }).ok, false);
    assert.equal(parseRecallAckBody({ ...ack, kept: body.versions }).ok, true);
    assert.equal(parseRecallAckBody({ ...ack, kept: undefined as never }).ok, false);
  });
});

describe('who may recall', () => {
  const versions = [{ id: id(1), version: '2026-01-01T00:00:00.000Z' }];

  it("a coordinator of the circle here may recall what went through it", () => {
    assert.deepEqual(decideRecallAuthority(circle, COORDINATOR, versions, new Map()), { kind: 'coordinator' });
  });

  it('another member only objects it originated (a creator revoking)', () => {
    assert.deepEqual(decideRecallAuthority(circle, MEMBER, versions, new Map([[id(1), MEMBER]])), { kind: 'origin' });
    const refused = decideRecallAuthority(circle, MEMBER, versions, new Map([[id(1), COORDINATOR]]));
    assert.equal(refused.kind, 'refused');
  });

  it('nobody outside the circle, nor in a circle this node does not hold, nor a coordinator that left', () => {
    assert.equal(decideRecallAuthority(circle, OTHER, versions, new Map([[id(1), OTHER]])).kind, 'refused');
    assert.equal(decideRecallAuthority(undefined, COORDINATOR, versions, new Map()).kind, 'refused');
    const left: Circle = { ...circle, members: circle.members.map((member) => (member.organisationId === COORDINATOR ? { ...member, leftAt: '2026-06-01T00:00:00.000Z' } : member)) };
    assert.equal(decideRecallAuthority(left, COORDINATOR, versions, new Map()).kind, 'refused');
  });
});
