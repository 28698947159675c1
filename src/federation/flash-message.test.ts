import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createFlashBody,
  flashIdOf,
  flashTextLength,
  flashTextProblem,
  isIndicatorId,
  MAX_FLASH_TEXT,
  nextRetryAt,
  parseFlashAckBody,
  parseFlashBody,
  parseFlashReceiptBody,
} from './flash-message.ts';

const SENDER = 'identity--00000000-0000-4000-8000-000000000001';
const OTHER = 'identity--00000000-0000-4000-8000-000000000002';
const ID = '0b6f3c8e-5d5e-4f53-9f5b-3c1d2e4f5a6b';
const INDICATOR = 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f';

describe('flash text', () => {
  it('takes 1 to 4,000 characters counted as a human counts them', () => {
    assert.equal(flashTextProblem('x'), undefined);
    assert.equal(flashTextProblem('é'.repeat(MAX_FLASH_TEXT)), undefined);
    assert.equal(flashTextProblem('🚨'.repeat(MAX_FLASH_TEXT)), undefined, 'an emoji is one character, not two UTF-16 units');
    assert.equal(flashTextLength('🚨a'), 2);
    assert.match(flashTextProblem('x'.repeat(MAX_FLASH_TEXT + 1)) ?? '', /4001 characters; at most 4000/);
  });

  it('refuses empty or blank text, control characters and lone surrogates, keeps tabs and line breaks', () => {
    assert.match(flashTextProblem('') ?? '', /empty/);
    assert.match(flashTextProblem(' \n\t') ?? '', /empty/);
    assert.match(flashTextProblem('bell\u0007') ?? '', /control/);
    assert.match(flashTextProblem('escape \u001b[31m red') ?? '', /control/);
    assert.match(flashTextProblem('half \ud83d') ?? '', /surrogate/);
    assert.equal(flashTextProblem('line 1\r\nline 2\tend'), undefined);
    assert.match(flashTextProblem(42) ?? '', /string/);
  });
});

describe('flash bodies', () => {
  const body = createFlashBody({ circleId: 'grid-2026', sender: SENDER, text: 'Patch now', indicatorId: INDICATOR, sentAt: '2026-11-23T10:00:00.000Z' });

  it('reads back what createFlashBody wrote, and leaves out an absent indicator', () => {
    assert.deepEqual(parseFlashBody(body), { ok: true, value: body });
    const plain = createFlashBody({ circleId: 'grid-2026', sender: SENDER, text: 'Patch now', sentAt: '2026-11-23T10:00:00.000Z' });
    assert.equal('indicator_id' in plain, false);
    assert.equal(parseFlashBody(plain).ok, true);
  });

  it('derives the id from the content, so that no one can reuse another message\'s id', () => {
    assert.equal(body.id, createFlashBody({ circleId: 'grid-2026', sender: SENDER, text: 'Patch now', indicatorId: INDICATOR, sentAt: '2026-11-23T10:00:00.000Z' }).id, 'the same message, the same id');
    assert.equal(body.id, flashIdOf(body));
    const squatted = parseFlashBody({ ...body, sender: OTHER });
    assert.equal(squatted.ok, false, 'another sender keeping the id');
    if (!squatted.ok) assert.deepEqual(squatted.error.map((issue) => issue.path), ['$.body.id']);
    for (const change of [{ text: 'Patch later' }, { circle_id: 'grid-2027' }, { sent_at: '2026-11-23T10:00:00.001Z' }, { indicator_id: undefined }]) {
      const altered: Record<string, unknown> = { ...body, ...change };
      if (change.indicator_id === undefined && 'indicator_id' in change) delete altered['indicator_id'];
      assert.equal(parseFlashBody(altered as typeof body).ok, false, `id kept after changing ${Object.keys(change)[0]}`);
    }
  });

  it('names every problem of a hostile body with its path', () => {
    const parsed = parseFlashBody({ ...body, id: 'ID', circle_id: '../x', sender: 'identity--nope', text: '', indicator_id: 'malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', sent_at: 'yesterday', extra: 1 });
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.deepEqual(parsed.error.map((issue) => issue.path).sort(), [
      '$.body.circle_id', '$.body.extra', '$.body.id', '$.body.indicator_id', '$.body.sender', '$.body.sent_at', '$.body.text',
    ]);
  });

  it('reads receipts and acknowledgements strictly', () => {
    assert.equal(parseFlashReceiptBody({ flash_id: ID, recipient: SENDER, received_at: '2026-11-23T10:00:01Z' }).ok, true);
    assert.equal(parseFlashReceiptBody({ flash_id: ID, recipient: SENDER }).ok, false);
    assert.equal(parseFlashAckBody({ flash_id: ID, recipient: SENDER, acknowledged_by: 'duty officer', acknowledged_at: '2026-11-23T10:05:00Z' }).ok, true);
    assert.equal(parseFlashAckBody({ flash_id: ID, recipient: SENDER, acknowledged_by: '', acknowledged_at: '2026-11-23T10:05:00Z' }).ok, false);
    assert.equal(parseFlashAckBody({ flash_id: ID, recipient: SENDER, acknowledged_by: 'x', acknowledged_at: '2026-11-23T10:05:00Z', admin: true }).ok, false);
  });

  it('recognises indicator ids only', () => {
    assert.equal(isIndicatorId(INDICATOR), true);
    assert.equal(isIndicatorId('indicator--not-a-uuid'), false);
    assert.equal(isIndicatorId('malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f'), false);
  });
});

describe('retry schedule', () => {
  it('waits each delay in turn after a failure, then gives up', () => {
    const delays = [2000, 10_000];
    assert.equal(nextRetryAt(1, 1000, delays), 3000);
    assert.equal(nextRetryAt(2, 5000, delays), 15_000);
    assert.equal(nextRetryAt(3, 5000, delays), undefined);
  });
});
