import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideNextPage, startPageWalk, type PageWalk } from './decide-next-page.ts';

const T1 = '2026-03-01T10:00:00.000001Z';
const T2 = '2026-03-01T10:00:00.000002Z';
const T3 = '2026-03-01T10:00:00.000003Z';
const T4 = '2026-03-01T10:00:00.000004Z';

function following(step: ReturnType<typeof decideNextPage>): PageWalk {
  assert.ok(step.kind !== 'stuck', 'the walk moves on');
  assert.ok(step.following !== undefined, 'the walk goes on');
  return step.following;
}

describe('decideNextPage: a peer that gives next', () => {
  it('follows next, keeping the added_after the next was issued for', () => {
    const walk = startPageWalk({ addedAfter: T1 });
    const step = decideNextPage(walk, { more: true, next: 'n1', dateAddedFirst: T2, dateAddedLast: T3 });
    assert.equal(step.kind, 'page');
    assert.deepEqual(step.kind === 'page' && step.cursor, { addedAfter: T1, next: 'n1' });
    const after = following(step);
    assert.equal(after.addedAfter, T1);
    assert.equal(after.next, 'n1');
  });

  it('ends at more:false with a cursor at the newest date_added seen in the walk', () => {
    let walk = startPageWalk();
    walk = following(decideNextPage(walk, { more: true, next: 'n1', dateAddedFirst: T1, dateAddedLast: T2 }));
    const step = decideNextPage(walk, { more: false, dateAddedFirst: T3, dateAddedLast: T4 });
    assert.deepEqual(step, { kind: 'page', cursor: { addedAfter: T4 }, following: undefined });
  });

  it('keeps the previous date when the last page is empty, and returns an empty cursor for an empty collection', () => {
    const walk = following(decideNextPage(startPageWalk(), { more: true, next: 'n1', dateAddedFirst: T1, dateAddedLast: T2 }));
    assert.deepEqual(decideNextPage(walk, { more: false }), { kind: 'page', cursor: { addedAfter: T2 }, following: undefined });
    assert.deepEqual(decideNextPage(startPageWalk(), { more: false }), { kind: 'page', cursor: {}, following: undefined });
    assert.deepEqual(decideNextPage(startPageWalk({ addedAfter: T1 }), { more: false }), {
      kind: 'page',
      cursor: { addedAfter: T1 },
      following: undefined,
    });
  });

  it('compares dates as instants, not as strings', () => {
    const walk = startPageWalk({ addedAfter: '2026-03-01T10:00:00.5Z' });
    const step = decideNextPage(walk, { more: false, dateAddedLast: '2026-03-01T10:00:00.400000Z' });
    assert.deepEqual(step.kind === 'page' && step.cursor, { addedAfter: '2026-03-01T10:00:00.5Z' });
  });
});

describe('decideNextPage: a peer that honours only added_after', () => {
  it('moves added_after to X-TAXII-Date-Added-Last when more is true without next', () => {
    const step = decideNextPage(startPageWalk(), { more: true, dateAddedFirst: T1, dateAddedLast: T2 });
    assert.deepEqual(step.kind === 'page' && step.cursor, { addedAfter: T2 });
    const after = following(step);
    assert.equal(after.addedAfter, T2);
    assert.equal(after.next, undefined);
  });

  it('is stuck when more is true with neither next nor a date', () => {
    const step = decideNextPage(startPageWalk({ addedAfter: T1 }), { more: true });
    assert.equal(step.kind, 'stuck');
  });

  it('is stuck when the date does not move past added_after', () => {
    const step = decideNextPage(startPageWalk({ addedAfter: T2 }), { more: true, dateAddedFirst: T1, dateAddedLast: T2 });
    assert.equal(step.kind, 'stuck');
    assert.match(step.kind === 'stuck' ? step.reason : '', /not after added_after/);
  });
});

describe('decideNextPage: a peer that hands out next but ignores it', () => {
  it('drops a page that starts before the previous one ended, and goes on by added_after from there', () => {
    let walk = following(decideNextPage(startPageWalk(), { more: true, next: 'n1', dateAddedFirst: T1, dateAddedLast: T2 }));
    const step = decideNextPage(walk, { more: true, next: 'n1b', dateAddedFirst: T1, dateAddedLast: T2 });
    assert.equal(step.kind, 'refetch');
    walk = following(step);
    assert.deepEqual({ addedAfter: walk.addedAfter, next: walk.next, addedAfterOnly: walk.addedAfterOnly }, {
      addedAfter: T2,
      next: undefined,
      addedAfterOnly: true,
    });
    // From then on, next is not followed even when given.
    const later = decideNextPage(walk, { more: true, next: 'n2', dateAddedFirst: T3, dateAddedLast: T3 });
    assert.deepEqual(later.kind === 'page' && later.cursor, { addedAfter: T3 });
  });

  it('drops a page that hands back the next it was asked with', () => {
    const walk = startPageWalk({ addedAfter: T1, next: 'same' });
    const step = decideNextPage(walk, { more: true, next: 'same', dateAddedFirst: T2, dateAddedLast: T2 });
    assert.equal(step.kind, 'refetch');
    assert.equal(following(step).addedAfter, T1);
  });
});

describe('decideNextPage: a peer that sends the same objects again under a fresh next', () => {
  const object = (n: number, modified = '2026-03-01T10:00:00.000Z'): Record<string, unknown> => ({
    type: 'indicator',
    id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    modified,
  });

  it('drops a page whose objects (id and version) were all on the page before, and goes on by added_after', () => {
    // The date headers stay put (one date_added for everything is common after a bulk load), so
    // only the objects show that the peer ignored next.
    let walk = following(decideNextPage(startPageWalk(), { more: true, next: 'n1', dateAddedFirst: T1, dateAddedLast: T1, objects: [object(1), object(2)] }));
    const step = decideNextPage(walk, { more: true, next: 'n2', dateAddedFirst: T1, dateAddedLast: T1, objects: [object(2), object(1)] });
    assert.equal(step.kind, 'refetch');
    walk = following(step);
    assert.deepEqual({ addedAfter: walk.addedAfter, next: walk.next, addedAfterOnly: walk.addedAfterOnly }, { addedAfter: T1, next: undefined, addedAfterOnly: true });
  });

  it('is stuck when the same objects come back yet again once only added_after moves', () => {
    // The repro: one object, more:true and a fresh next for ever, the dates never moving forward.
    let walk = startPageWalk();
    let step = decideNextPage(walk, { more: true, next: 'n1', dateAddedFirst: T1, dateAddedLast: T1, objects: [object(1)] });
    walk = following(step);
    step = decideNextPage(walk, { more: true, next: 'n2', dateAddedFirst: T1, dateAddedLast: T1, objects: [object(1)] });
    walk = following(step);
    // Even with a date that moves, the same objects again under added_after are no progress.
    step = decideNextPage(walk, { more: true, next: 'n3', dateAddedFirst: T2, dateAddedLast: T2, objects: [object(1)] });
    assert.equal(step.kind, 'stuck');
    assert.match(step.kind === 'stuck' ? step.reason : '', /same 1 object/);
  });

  it('goes on when a page brings a new version, a new object, or nothing at all', () => {
    const walk = following(decideNextPage(startPageWalk(), { more: true, next: 'n1', dateAddedFirst: T1, dateAddedLast: T1, objects: [object(1)] }));
    for (const objects of [[object(1, '2026-03-02T00:00:00.000Z')], [object(1), object(2)], []]) {
      assert.equal(decideNextPage(walk, { more: true, next: 'n2', dateAddedFirst: T1, dateAddedLast: T1, objects }).kind, 'page');
    }
  });
});
