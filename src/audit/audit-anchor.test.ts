import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKeyDirectory } from '../federation/node-key.ts';
import { messageSigningInput, signMessage } from '../federation/signed-message.ts';
import { testOrganisation } from '../federation/test-support.ts';
import { anchoredHead, checkAuditAnchor, makeAuditAnchor, readAuditAnchor, type AuditAnchor, type LogView } from './audit-anchor.ts';
import { GENESIS_HASH } from './audit-chain.ts';

const node = testOrganisation(1);
const partner = testOrganisation(2);
const rotatedOut = testOrganisation(1, 7, { validFrom: '2020-01-01T00:00:00.000Z', validUntil: '2026-06-01T00:00:00.000Z' });
const retiredKey = { ...rotatedOut.pinned, organisationId: node.id };
const retiredSigner = { ...rotatedOut.signer, organisationId: node.id };
const ownKeys = createKeyDirectory([node.pinned, retiredKey, partner.pinned]);
const at = new Date('2026-11-24T10:00:00.000Z');

const hashOf = (seq: number): string => seq.toString(16).padStart(64, 'a');
/** A log of entries 1..last whose hashes are hashOf(seq), with one entry changed or missing if asked. */
function logOf(last: number, changes: Readonly<Record<number, string | undefined>> = {}): LogView {
  return { lastSeq: last, hashAt: (seq) => (seq in changes ? changes[seq] : seq >= 1 && seq <= last ? hashOf(seq) : undefined) };
}

/** Through JSON, as a kept file is read back. */
function roundTrip(anchor: unknown): AuditAnchor {
  const read = readAuditAnchor(JSON.parse(JSON.stringify(anchor)));
  assert.ok(read.ok, read.ok ? '' : read.error);
  return read.value;
}

describe('an audit anchor', () => {
  it("is the node's signed statement of its log's head: seq, hash and time, signed as kind audit-anchor", () => {
    const anchor = makeAuditAnchor({ seq: 42, hash: hashOf(42) }, node.signer, at);
    assert.equal(anchor.kind, 'audit-anchor');
    assert.deepEqual(anchor.body, { seq: 42, hash: hashOf(42), anchored_at: '2026-11-24T10:00:00.000Z' });
    assert.equal(anchor.signer, node.id);
    assert.ok(messageSigningInput(anchor).toString('utf8').startsWith('ENTENTE-AUDIT-ANCHOR-V1\n'));
    assert.deepEqual(anchoredHead(roundTrip(anchor)), { seq: 42, hash: hashOf(42) });
  });

  it('holds while the log keeps the anchored entry with its hash, however much it grew since', () => {
    const anchor = roundTrip(makeAuditAnchor({ seq: 42, hash: hashOf(42) }, node.signer, at));
    assert.deepEqual(checkAuditAnchor(anchor, node.id, ownKeys, logOf(42)), { kind: 'holds' });
    assert.deepEqual(checkAuditAnchor(anchor, node.id, ownKeys, logOf(10_000)), { kind: 'holds' });
  });

  it('catches a rewritten history: another hash at the anchored entry, or the entry gone while later ones exist', () => {
    const anchor = roundTrip(makeAuditAnchor({ seq: 42, hash: hashOf(42) }, node.signer, at));
    const changed = checkAuditAnchor(anchor, node.id, ownKeys, logOf(100, { 42: 'f'.repeat(64) }));
    assert.equal(changed.kind, 'rewritten');
    assert.match(changed.kind === 'rewritten' ? changed.reason : '', /entry 42 has hash f{64}/);
    assert.equal(checkAuditAnchor(anchor, node.id, ownKeys, logOf(100, { 42: undefined })).kind, 'rewritten');
  });

  it('catches a log cut short below the anchored entry', () => {
    const anchor = roundTrip(makeAuditAnchor({ seq: 42, hash: hashOf(42) }, node.signer, at));
    const verdict = checkAuditAnchor(anchor, node.id, ownKeys, logOf(41));
    assert.deepEqual(verdict, { kind: 'truncated', reason: 'the anchor names entry 42, and the log ends at entry 41' });
  });

  it('of an empty log names the genesis hash and holds for any log', () => {
    const anchor = roundTrip(makeAuditAnchor({ seq: 0, hash: GENESIS_HASH }, node.signer, at));
    assert.deepEqual(checkAuditAnchor(anchor, node.id, ownKeys, logOf(0)), { kind: 'holds' });
    assert.deepEqual(checkAuditAnchor(anchor, node.id, ownKeys, logOf(5)), { kind: 'holds' });
  });

  it('made with a key since rotated out stays checkable, if the key was valid when the anchor was made', () => {
    const before = roundTrip(makeAuditAnchor({ seq: 3, hash: hashOf(3) }, retiredSigner, new Date('2026-05-01T00:00:00.000Z')));
    assert.deepEqual(checkAuditAnchor(before, node.id, ownKeys, logOf(9)), { kind: 'holds' });
    // Dated after the key was retired: the key could not have made it then.
    const late = roundTrip(makeAuditAnchor({ seq: 3, hash: hashOf(3) }, retiredSigner, at));
    assert.equal(checkAuditAnchor(late, node.id, ownKeys, logOf(9)).kind, 'not-ours');
  });

  it("is refused when it is not this node's: another signer, a changed seq, hash or time, a forged signature", () => {
    const anchor = makeAuditAnchor({ seq: 42, hash: hashOf(42) }, node.signer, at);
    const byPartner = roundTrip(makeAuditAnchor({ seq: 42, hash: hashOf(42) }, partner.signer, at));
    assert.equal(checkAuditAnchor(byPartner, node.id, ownKeys, logOf(50)).kind, 'not-ours');
    for (const body of [{ ...anchor.body, seq: 41 }, { ...anchor.body, hash: hashOf(41) }, { ...anchor.body, anchored_at: '2026-11-24T10:00:01.000Z' }]) {
      const verdict = checkAuditAnchor(roundTrip({ ...anchor, body }), node.id, ownKeys, logOf(50));
      assert.equal(verdict.kind, 'not-ours', JSON.stringify(body));
    }
    const otherSignature = makeAuditAnchor({ seq: 7, hash: hashOf(7) }, node.signer, at).signature;
    assert.equal(checkAuditAnchor(roundTrip({ ...anchor, signature: otherSignature }), node.id, ownKeys, logOf(50)).kind, 'not-ours');
  });

  it("refused in this node's name, says to check it against the keys partners pinned: whoever rewrote the log could change the node's keys too", () => {
    // The node's own anchor, checked by a node whose key table no longer holds (or dates differently)
    // the key that made it: the anchor reads as not the node's, where it may be the evidence.
    const anchor = roundTrip(makeAuditAnchor({ seq: 3, hash: hashOf(3) }, node.signer, at));
    const keysChanged = [createKeyDirectory([retiredKey]), createKeyDirectory([{ ...node.pinned, validFrom: '2026-11-25T00:00:00.000Z' }])];
    for (const directory of keysChanged) {
      const verdict = checkAuditAnchor(anchor, node.id, directory, logOf(9));
      assert.equal(verdict.kind, 'not-ours');
      assert.match(verdict.kind === 'not-ours' ? verdict.reason : '', new RegExp(`keys partners pinned for ${node.id}`));
    }
    const byPartner = checkAuditAnchor(roundTrip(makeAuditAnchor({ seq: 3, hash: hashOf(3) }, partner.signer, at)), node.id, ownKeys, logOf(9));
    assert.doesNotMatch(byPartner.kind === 'not-ours' ? byPartner.reason : '', /pinned/, 'another signer is simply not this node');
  });

  it('is not any other signed message: a flash signed by the node does not read as an anchor', () => {
    const flash = signMessage('flash', { seq: 42, hash: hashOf(42), anchored_at: at.toISOString() }, node.signer);
    const read = readAuditAnchor(JSON.parse(JSON.stringify(flash)));
    assert.equal(read.ok, false);
    assert.match(read.ok ? '' : read.error, /kind "audit-anchor", not "flash"/);
    // Relabelled as an anchor, its signature no longer verifies.
    assert.equal(checkAuditAnchor(roundTrip({ ...flash, kind: 'audit-anchor' }), node.id, ownKeys, logOf(50)).kind, 'not-ours');
  });

  it('read from a file names every problem of a damaged one, and never throws', () => {
    const anchor = makeAuditAnchor({ seq: 42, hash: hashOf(42) }, node.signer, at);
    const cases: [unknown, RegExp][] = [
      [null, /must be a JSON object/],
      ['anchor', /must be a JSON object/],
      [{ ...anchor, body: { ...anchor.body, seq: -1 } }, /\$\.body\.seq: must be an entry number/],
      [{ ...anchor, body: { ...anchor.body, seq: 1.5 } }, /\$\.body\.seq/],
      [{ ...anchor, body: { ...anchor.body, seq: '42' } }, /\$\.body\.seq/],
      [{ ...anchor, body: { ...anchor.body, hash: hashOf(42).toUpperCase() } }, /\$\.body\.hash: must be a SHA-256 hash/],
      [{ ...anchor, body: { ...anchor.body, anchored_at: 'yesterday' } }, /\$\.body\.anchored_at/],
      [{ ...anchor, body: { ...anchor.body, note: 'x' } }, /\$\.body\.note: an audit anchor has no such field/],
      [{ ...anchor, body: { seq: 0, hash: hashOf(1), anchored_at: at.toISOString() } }, /genesis hash/],
      [{ ...anchor, signature: 'abc' }, /\$\.signature/],
      [{ ...anchor, extra: 1 }, /\$\.extra/],
    ];
    for (const [value, expected] of cases) {
      const read = readAuditAnchor(value);
      assert.equal(read.ok, false, JSON.stringify(value));
      assert.match(read.ok ? '' : read.error, expected);
    }
  });
});
