import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Circle } from '../policy/circle.ts';
import type { RecallNotice } from '../store/object-store.ts';
import { createRecallBody, decideRecallAction, decideRecallAuthority, groupRecallNotices, parseRecallAckBody, parseRecallBody } from './recall-message.ts';

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
    const ack = { circle_id: 'grid-2026', recipient: MEMBER, versions: body.versions, acknowledged_at: '2026-11-23T10:00:01Z' };
    assert.deepEqual(parseRecallAckBody(ack), { ok: true, value: ack });
    assert.equal(parseRecallAckBody({ ...ack, versions: [] }).ok, false);
    assert.equal(parseRecallAckBody({ ...ack, held: [] }).ok, false);
  });

  it("reads an earlier build's acknowledgement, with its counts, and keeps none of them", () => {
    const versions = [{ id: id(1), version: '2026-01-01T00:00:00.000Z' }];
    const ack = { circle_id: 'grid-2026', recipient: MEMBER, versions, acknowledged_at: '2026-11-23T10:00:01Z' };
    assert.deepEqual(parseRecallAckBody({ ...ack, removed: 1, kept: versions }), { ok: true, value: ack });
    assert.equal(parseRecallAckBody({ ...ack, removed: -1, kept: [] }).ok, false);
    assert.equal(parseRecallAckBody({ ...ack, removed: 0, kept: undefined as never }).ok, false);
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

describe('what a recall does to each version it names', () => {
  const HOME = 'identity--00000000-0000-4000-8000-000000000009';
  const facts = (origin: string | undefined, received: boolean, receivedThroughCircle: boolean) => ({ origin, received, receivedThroughCircle });

  it('a coordinator takes back what came into the circle here from another organisation, and nothing else', () => {
    assert.equal(decideRecallAction('coordinator', HOME, facts(OTHER, true, true)), 'remove');
    assert.equal(decideRecallAction('coordinator', HOME, facts(undefined, true, true)), 'remove');
    // Received through another circle, then put into this one by the home organisation: not the coordinator's to recall.
    assert.equal(decideRecallAction('coordinator', HOME, facts(OTHER, true, false)), 'leave');
    // Stored here by the home organisation (an SCO it recorded, a version it made): never received.
    assert.equal(decideRecallAction('coordinator', HOME, facts(undefined, false, false)), 'leave');
  });

  it('an origin takes back the copies this node received of its own objects', () => {
    assert.equal(decideRecallAction('origin', HOME, facts(MEMBER, true, false)), 'remove');
    assert.equal(decideRecallAction('origin', HOME, facts(MEMBER, false, false)), 'leave');
  });

  it("the home organisation's own objects stay, whoever asks", () => {
    assert.equal(decideRecallAction('coordinator', HOME, facts(HOME, true, true)), 'leave');
    assert.equal(decideRecallAction('origin', HOME, facts(HOME, true, true)), 'leave');
  });
});
