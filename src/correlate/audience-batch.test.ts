import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AudienceBatch, type AlertAudience, type AudienceQuestion } from './audience-batch.ts';

/** A question about one indicator version (the fields the reader needs). */
function question(n: number): AudienceQuestion {
  return { alert: { indicator_id: `indicator--${n}` } as AudienceQuestion['alert'], version: '2026-01-01T00:00:00.000Z' };
}

/** A reader that answers each question with the collection named after its indicator, and records every read. */
function recordingReader(): { reads: string[][]; read: (events: readonly AudienceQuestion[]) => Promise<AlertAudience[]> } {
  const reads: string[][] = [];
  return {
    reads,
    read: async (events) => {
      reads.push(events.map((event) => event.alert.indicator_id));
      return events.map((event) => ({ collections: [event.alert.indicator_id.replace('indicator--', 'c')], newerIn: [] }));
    },
  };
}

describe('AudienceBatch: who alerts are for at send time, one read per turn', () => {
  it('answers the questions asked in one turn — by several senders — with one read, each sender its own answers in order', async () => {
    const { reads, read } = recordingReader();
    const batch = new AudienceBatch(read);
    const [stream, otherStream, webhook] = await Promise.all([
      batch.audiencesNow([question(1), question(2)]),
      batch.audiencesNow([question(2)]),
      batch.audienceNow(question(3)),
    ]);
    assert.deepEqual(reads, [['indicator--1', 'indicator--2', 'indicator--2', 'indicator--3']]);
    assert.deepEqual(stream.map((a) => a.collections), [['c1'], ['c2']]);
    assert.deepEqual(otherStream.map((a) => a.collections), [['c2']]);
    assert.deepEqual(webhook.collections, ['c3']);
  });

  it('never answers a question with a read that started before it was asked', async () => {
    let release: () => void = () => undefined;
    const reads: string[][] = [];
    const batch = new AudienceBatch(async (events) => {
      reads.push(events.map((event) => event.alert.indicator_id));
      if (reads.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return events.map(() => ({ collections: [`read ${reads.length}`] }));
    });
    const early = batch.audienceNow(question(1));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reads.length, 1, 'the first read has started');
    const late = batch.audienceNow(question(2));
    release();
    assert.deepEqual((await early).collections, ['read 1']);
    assert.deepEqual((await late).collections, ['read 2'], 'asked while the first read ran: answered by a read of its own');
  });

  it('rejects every question of a read that fails, or throws, so that nothing is sent on a guess', async () => {
    const failing = new AudienceBatch(() => Promise.reject(new Error('database is locked')));
    const throwing = new AudienceBatch(() => {
      throw new Error('no store');
    });
    await Promise.all([
      assert.rejects(failing.audiencesNow([question(1)]), /database is locked/),
      assert.rejects(failing.audienceNow(question(2)), /database is locked/),
      assert.rejects(throwing.audienceNow(question(3)), /no store/),
    ]);
  });

  it('takes an answer missing from the reader as for no one, and reads nothing for no question', async () => {
    const short = new AudienceBatch(async () => [{ collections: ['a'] }]);
    assert.deepEqual(await short.audiencesNow([question(1), question(2)]), [{ collections: ['a'] }, { collections: [] }]);
    const { reads, read } = recordingReader();
    const batch = new AudienceBatch(read);
    assert.deepEqual(await batch.audiencesNow([]), []);
    assert.deepEqual(reads, []);
  });
});
