import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntenteError } from '../errors/entente-error.ts';
import { parseQuarantineSeq, toQuarantineFilter } from './quarantine-operations.ts';

const usage = (field: string, message: string): EntenteError => new EntenteError('ENT_CLI_USAGE', `${field}: ${message}`);

describe('quarantine sequence numbers and filters', () => {
  it('reads plain positive decimal integers up to 2^53 - 1', () => {
    assert.deepEqual(parseQuarantineSeq('1'), { ok: true, value: 1 });
    assert.deepEqual(parseQuarantineSeq('9007199254740991'), { ok: true, value: 9007199254740991 });
  });

  it('refuses everything else without throwing', () => {
    for (const text of ['', '0', '-1', '+1', '01', '1.0', '1e3', '0x10', ' 1', '1 ', '9007199254740992', '99999999999999999999', 'abc', '１', '1\u0000', 'x'.repeat(10_000)]) {
      const parsed = parseQuarantineSeq(text);
      assert.equal(parsed.ok, false, JSON.stringify(text.slice(0, 20)));
      if (!parsed.ok) assert.ok(parsed.error.length < 200, 'the message does not echo a long input');
    }
  });

  it('builds the store filter: open items by default, a known reason, a bounded limit', () => {
    assert.deepEqual(toQuarantineFilter({}, usage), { limit: 100, unresolvedOnly: true });
    assert.deepEqual(toQuarantineFilter({ peer: 'p', reason: 'revoked', all: true, limit: 5, afterSeq: 9 }, usage), { limit: 5, unresolvedOnly: false, peer: 'p', reason: 'revoked', afterSeq: 9 });
    assert.throws(() => toQuarantineFilter({ reason: 'tampered' }, usage), /unknown reason "tampered"/);
    for (const limit of [0, -1, 10_001, 1.5, Number.NaN]) assert.throws(() => toQuarantineFilter({ limit }, usage), { code: 'ENT_CLI_USAGE' });
  });
});
