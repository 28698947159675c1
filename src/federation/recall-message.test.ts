import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Circle } from '../policy/circle.ts';
import type { RecallNotice } from '../store/object-store.ts';
import { createRecallAckBody, createRecallBody, decideRecallAction, decideRecallAuthority, groupRecallNotices, parseRecallAckBody, parseRecallBody } from './recall-message.ts';

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
    const ack = createRecallAckBody('grid-2026', MEMBER, body.versions, '2026-11-23T10:00:01Z');
    assert.deepEqual(parseRecallAckBody(ack), { ok: true, value: ack });
    assert.equal(parseRecallAckBody({ ...ack, versions: [] }).ok, false);
    assert.equal(parseRecallAckBody({ ...ack, held: [] }).ok, false);
  });

  it('the acknowledgement keeps the fields earlier builds require, with fixed values that say nothing', () => {
    const versions = [{ id: id(1), version: '2026-01-01T00:00:00.000Z' }];
    const ack = createRecallAckBody('grid-2026', MEMBER, versions, '2026-11-23T10:00:01Z');
    // What earlier builds' parseRecallAckBody required: removed a count, kept a list of versions.
    assert.ok(typeof ack.removed === 'number' && Number.isSafeInteger(ack.removed) && ack.removed >= 0);
    assert.ok(Array.isArray(ack.kept));
    assert.deepEqual(ack, { circle_id: 'grid-2026', recipient: MEMBER, versions, removed: 0, kept: [], acknowledged_at: '2026-11-23T10:00:01Z' });
  });

  it("reads an earlier build's acknowledgement, and one without the vestigial fields, and keeps none of their values", () => {
    const versions = [{ id: id(1), version: '2026-01-01T00:00:00.000Z' }];
    const ack = { circle_id: 'grid-2026', recipient: MEMBER, versions, acknowledged_at: '2026-11-23T10:00:01Z' };
    const read = { ...ack, removed: 0, kept: [] };
    assert.deepEqual(parseRecallAckBody({ ...ack, removed: 1, kept: versions }), { ok: true, value: read });
    assert.deepEqual(parseRecallAckBody(ack), { ok: true, value: read });
    assert.equal(parseRecallAckBody({ ...ack, removed: -1, kept: [] }).ok, false);
    assert.equal(parseRecallAckBody({ ...ack, removed: 0, kept: undefined as never }).ok, false);
  });
});

describe('who may recall', () => {
  it('a coordinator of the circle here recalls as coordinator, any other member as the origin of what it names', () => {
    assert.deepEqual(decideRecallAuthority(circle.id, circle, COORDINATOR), { kind: 'coordinator' });
    // Whether it originated what it names is decided per version (decideRecallAction), never by a refusal.
    assert.deepEqual(decideRecallAuthority(circle.id, circle, MEMBER), { kind: 'origin' });
    const left: Circle = { ...circle, members: circle.members.map((member) => (member.organisationId === COORDINATOR ? { ...member, leftAt: '2026-06-01T00:00:00.000Z' } : member)) };
    assert.deepEqual(decideRecallAuthority(left.id, left, COORDINATOR), { kind: 'origin' }, 'a coordinator that left recalls only what it originated');
  });

  it('a circle this node does not have and one the sender is not a member of are refused in the same words', () => {
    const notMember = decideRecallAuthority(circle.id, circle, OTHER);
    const noCircle = decideRecallAuthority(circle.id, undefined, OTHER);
    assert.equal(notMember.kind, 'refused');
    assert.deepEqual(notMember, noCircle);
  });
});

describe('what a recall does to each version it names', () => {
  const HOME = 'identity--00000000-0000-4000-8000-000000000009';
  const facts = (origin: string | undefined, receivedThroughCircle: boolean, homeOwn = false) => ({ origin, receivedThroughCircle, homeOwn });

  it('a coordinator takes back what came into the circle here from another organisation, and nothing else', () => {
    assert.equal(decideRecallAction('coordinator', COORDINATOR, HOME, facts(OTHER, true)), 'remove');
    assert.equal(decideRecallAction('coordinator', COORDINATOR, HOME, facts(undefined, true)), 'remove');
    // Received through another circle, then put into this one by the home organisation: not the coordinator's to recall.
    assert.equal(decideRecallAction('coordinator', COORDINATOR, HOME, facts(OTHER, false)), 'leave');
    assert.equal(decideRecallAction('coordinator', COORDINATOR, HOME, facts(undefined, false)), 'leave');
  });

  it('another member takes back the copies of its own objects that came into the circle here, and nothing else', () => {
    assert.equal(decideRecallAction('origin', MEMBER, HOME, facts(MEMBER, true)), 'remove');
    assert.equal(decideRecallAction('origin', MEMBER, HOME, facts(MEMBER, false)), 'leave', 'put into the circle by the home organisation');
    assert.equal(decideRecallAction('origin', MEMBER, HOME, facts(OTHER, true)), 'leave', 'another organisation originated it');
    assert.equal(decideRecallAction('origin', MEMBER, HOME, facts(undefined, true)), 'leave', 'origin unknown');
  });

  it("the home organisation's own versions stay, whoever asks: its origin, its signature or created_by_ref", () => {
    for (const authority of ['coordinator', 'origin'] as const) {
      assert.equal(decideRecallAction(authority, MEMBER, HOME, facts(HOME, true)), 'leave');
      assert.equal(decideRecallAction(authority, MEMBER, HOME, facts(MEMBER, true, true)), 'leave');
    }
  });
});
