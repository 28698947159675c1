import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StixObject } from '../stix/types.ts';
import { decidePullPage, type PageHistory, type PageVouch, type PullBasis } from './decide-pull-page.ts';
import { createKeyDirectory } from './node-key.ts';
import {
  checkPageVouching,
  createPageNonce,
  createPageVoucher,
  PAGE_SIGNATURE_HEADER,
  pageBodySha256,
  type ReceivedPageProof,
} from './page-voucher.ts';
import { testIndicator } from './pull-test-kit.ts';
import { signObject } from './sign-object.ts';
import { SIGNATURE_EXTENSION_ID } from './signature-extension.ts';
import { openTerms, testOrganisation } from './test-support.ts';

// grid serves pages; home asks for them; bank is a third party; grid's old key was rotated out.
const grid = testOrganisation(2);
const gridOldKey = testOrganisation(2, 20, { validFrom: '2020-01-01T00:00:00.000Z', validUntil: '2026-01-15T00:00:00.000Z' });
const bank = testOrganisation(3);
const home = testOrganisation(1);
const NOW = new Date('2026-03-01T12:00:00.000Z');
const COLLECTION = 'wide';
const directory = createKeyDirectory([grid.pinned, gridOldKey.pinned, bank.pinned, home.pinned]);


/** A page served by `server` to `requester`: the body bytes and the proof the requester holds. */
async function servedPage(
  server: { readonly signer: typeof grid.signer },
  options: { readonly requester?: string; readonly collectionId?: string; readonly at?: Date; readonly body?: string } = {},
): Promise<{ body: string; nonce: string; header: string | undefined }> {
  const nonce = createPageNonce();
  const body = options.body ?? JSON.stringify({ more: false, objects: [signObject(testIndicator(1), grid.signer)] });
  const voucher = createPageVoucher({ signers: { current: async () => server.signer }, clock: () => options.at ?? NOW });
  const headers = await voucher({ nonce, requesterOrganisationId: options.requester ?? home.id, collectionId: options.collectionId ?? COLLECTION, body });
  return { body, nonce, header: headers[PAGE_SIGNATURE_HEADER] };
}

function proofOf(page: { body: string; nonce: string; header: string | undefined }, body = page.body): ReceivedPageProof {
  return { nonce: page.nonce, signatureHeader: page.header, bodySha256: pageBodySha256(Buffer.from(body, 'utf8')) };
}

const expected = { peerOrganisationId: grid.id, requesterOrganisationId: home.id, collectionId: COLLECTION, now: NOW };

describe('page signatures (the server side)', () => {
  it('are made only for a requester that sent a well-formed nonce: a plain TAXII client gets no header', async () => {
    const voucher = createPageVoucher({ signers: { current: async () => grid.signer }, clock: () => NOW });
    const page = { requesterOrganisationId: home.id, collectionId: COLLECTION, body: '{}' };
    assert.deepEqual(await voucher({ ...page, nonce: undefined }), {});
    assert.deepEqual(await voucher({ ...page, nonce: 'short' }), {});
    assert.deepEqual(await voucher({ ...page, nonce: 'x'.repeat(30) + '\nsigner' }), {});
    assert.match((await voucher({ ...page, nonce: createPageNonce() }))[PAGE_SIGNATURE_HEADER] ?? '', /^key_id=[\w-]{22}; signed_at=2026-03-01T12:00:00\.000Z; signature=[\w-]{86}$/);
  });

  it('are not made by a node without a usable key (its pages are verified object by object)', async () => {
    const voucher = createPageVoucher({ signers: { current: () => Promise.reject(new Error('no key')) }, clock: () => NOW });
    assert.deepEqual(await voucher({ nonce: createPageNonce(), requesterOrganisationId: home.id, collectionId: COLLECTION, body: '{}' }), {});
  });
});

describe('checkPageVouching (the requester side)', () => {
  it('vouches for a page its sender signed with a pinned key for this requester, collection and nonce, now', async () => {
    const verdict = checkPageVouching(proofOf(await servedPage(grid)), expected, directory);
    assert.equal(verdict.kind, 'vouched');
    assert.equal(verdict.kind === 'vouched' ? verdict.key.keyId : '', grid.pinned.keyId);
  });

  it('refuses a page whose body changed on the way by one byte (a man in the middle)', async () => {
    const page = await servedPage(grid);
    const tampered = page.body.replace('198.51.100.1', '198.51.100.9');
    assert.notEqual(tampered, page.body);
    const verdict = checkPageVouching(proofOf(page, tampered), expected, directory);
    assert.deepEqual(verdict.kind, 'unvouched');
  });

  it('refuses a page signed with the key of another organisation, even one pinned here', async () => {
    const verdict = checkPageVouching(proofOf(await servedPage(bank)), expected, directory);
    assert.equal(verdict.kind, 'unvouched');
    assert.match(verdict.kind === 'unvouched' ? verdict.reason : '', /pinned for identity--0+-0000-4000-8000-000000000003, not for the signer/);
  });

  it('refuses a page served to another requester, replayed to this one', async () => {
    const verdict = checkPageVouching(proofOf(await servedPage(grid, { requester: bank.id })), expected, directory);
    assert.equal(verdict.kind, 'unvouched');
  });

  it('refuses an old page replayed in answer to a new request (another nonce)', async () => {
    const old = await servedPage(grid);
    const verdict = checkPageVouching({ ...proofOf(old), nonce: createPageNonce() }, expected, directory);
    assert.equal(verdict.kind, 'unvouched');
  });

  it('refuses a page of another collection, and one signed more than five minutes away from now', async () => {
    assert.equal(checkPageVouching(proofOf(await servedPage(grid, { collectionId: 'narrow' })), expected, directory).kind, 'unvouched');
    const stale = await servedPage(grid, { at: new Date(NOW.getTime() - 6 * 60 * 1000) });
    assert.equal(checkPageVouching(proofOf(stale), expected, directory).kind, 'unvouched');
  });

  it('refuses a page signed with a key rotated out, and a page with no signature or an unreadable one', async () => {
    assert.equal(checkPageVouching(proofOf(await servedPage(gridOldKey)), expected, directory).kind, 'unvouched');
    const page = await servedPage(grid);
    assert.equal(checkPageVouching({ ...proofOf(page), signatureHeader: undefined }, expected, directory).kind, 'unvouched');
    assert.equal(checkPageVouching({ ...proofOf(page), signatureHeader: `${page.header ?? ''}; key_id=x` }, expected, directory).kind, 'unvouched');
    assert.equal(checkPageVouching(undefined, expected, directory).kind, 'unvouched');
  });
});

const basis: PullBasis = { peer: { organisationId: grid.id, kind: 'entente' }, terms: openTerms(), defaultTlp: 'amber', directory, now: NOW };
const nothingHeld: PageHistory = { versions: new Map(), originSigners: new Map(), markingDefinitions: new Map() };
/** The first candidates are sampled: random() = 0 always takes the first one left. */
const vouchedByGrid: PageVouch = { key: { signer: grid.id, key: grid.pinned }, random: () => 0 };

/** A copy whose embedded signature is a well-formed signature by the same key, over something else. */
function withForeignSignature(object: StixObject, other: StixObject): StixObject {
  const extensions = object['extensions'] as Record<string, Record<string, unknown>>;
  const otherSignature = (other['extensions'] as Record<string, Record<string, unknown>>)[SIGNATURE_EXTENSION_ID]?.['signature'];
  return { ...object, extensions: { ...extensions, [SIGNATURE_EXTENSION_ID]: { ...extensions[SIGNATURE_EXTENSION_ID], signature: otherSignature } } } as StixObject;
}

function pageOf(count: number, signer = grid.signer): StixObject[] {
  return Array.from({ length: count }, (_, n) => signObject(testIndicator(n + 1), signer));
}

describe('decidePullPage on a vouched page', () => {
  it('accepts the sender\'s own objects as verified without checking each signature, and still checks every other rule', () => {
    const page = pageOf(10);
    const vouched = decidePullPage(page, basis, nothingHeld, vouchedByGrid);
    assert.equal(vouched.vouching, 'vouched');
    assert.equal(vouched.accepted.length, 10);
    assert.ok(vouched.accepted.every((arrived) => arrived.signer === grid.id && arrived.verification === 'verified' && arrived.keyId === grid.pinned.keyId));
    // Vouching replaces one check only: a creator with pinned keys must still sign its own objects.
    const claimed = signObject(testIndicator(11, { created_by_ref: bank.id }), grid.signer);
    const rules = decidePullPage([...page, claimed], basis, nothingHeld, vouchedByGrid);
    assert.deepEqual(rules.quarantined.map((item) => [item.objectId, item.reason]), [[claimed.id, 'signer-not-creator']]);
  });

  it('verifies a third party\'s objects one by one: a forged one inside a vouched page is quarantined', () => {
    const forged = withForeignSignature(signObject(testIndicator(20), bank.signer), signObject(testIndicator(21), bank.signer));
    const decision = decidePullPage([...pageOf(5), forged], basis, nothingHeld, vouchedByGrid);
    assert.equal(decision.vouching, 'vouched');
    assert.deepEqual(decision.quarantined.map((item) => [item.objectId, item.reason]), [[forged.id, 'bad-signature']]);
  });

  it('verifies one by one what the sender signed with another of its keys (a page key cannot vouch for a backdated object)', () => {
    const old = signObject(testIndicator(30, { modified: '2026-01-10T00:00:00.000Z', created: '2026-01-10T00:00:00.000Z' }), gridOldKey.signer);
    const forgedOld = withForeignSignature(old, signObject(testIndicator(31), gridOldKey.signer));
    const decision = decidePullPage([...pageOf(5), old, forgedOld], basis, nothingHeld, vouchedByGrid);
    assert.deepEqual(decision.accepted.filter((arrived) => arrived.object.id === old.id).length, 1);
    assert.deepEqual(decision.quarantined.map((item) => [item.objectId, item.reason]), [[forgedOld.id, 'bad-signature']]);
  });

  it('catches a bad embedded signature of the sender in the sample: the whole page is then verified object by object', () => {
    const page = pageOf(10);
    const bad = withForeignSignature(page[0] as StixObject, page[1] as StixObject);
    const decision = decidePullPage([bad, ...page.slice(1)], basis, nothingHeld, vouchedByGrid);
    assert.equal(decision.vouching, 'sample-failed');
    assert.deepEqual(decision.quarantined.map((item) => [item.objectId, item.reason]), [[bad.id, 'bad-signature']]);
    assert.equal(decision.accepted.length, 9);
  });

  it('lets an unsampled bad embedded signature through, and the next node, to which the sender is a third party, quarantines it', () => {
    const page = pageOf(10);
    const bad = withForeignSignature(page[9] as StixObject, page[0] as StixObject);
    const atB = decidePullPage([...page.slice(0, 9), bad], basis, nothingHeld, vouchedByGrid);
    assert.equal(atB.vouching, 'vouched');
    assert.equal(atB.accepted.length, 10);
    // The relay keeps the embedded signatures unchanged; the next node verifies grid's objects itself,
    // even on a page the relay (bank) vouched for.
    const relayed = atB.accepted.map((arrived) => arrived.object);
    const atC = decidePullPage(relayed, { ...basis, peer: { organisationId: bank.id, kind: 'entente' } }, nothingHeld, { key: { signer: bank.id, key: bank.pinned }, random: () => 0 });
    assert.deepEqual(atC.quarantined.map((item) => [item.objectId, item.reason]), [[bad.id, 'bad-signature']]);
  });

  it('without a page signature verifies every object, as before', () => {
    const page = pageOf(3);
    const bad = withForeignSignature(page[2] as StixObject, page[0] as StixObject);
    const decision = decidePullPage([...page.slice(0, 2), bad], basis, nothingHeld);
    assert.equal(decision.vouching, 'unvouched');
    assert.deepEqual(decision.quarantined.map((item) => [item.objectId, item.reason]), [[bad.id, 'bad-signature']]);
  });
});

describe('decidePullPage on a member\'s own objects coming back', () => {
  const atHome: PullBasis = { ...basis, homeOrganisationId: home.id };
  const mine = signObject(testIndicator(40), home.signer);
  const heldMine: PageHistory = {
    versions: new Map([[mine.id, [{ version: mine.modified as string, json: JSON.stringify(mine) }]]]),
    originSigners: new Map([[mine.id, home.id]]),
    markingDefinitions: new Map(),
  };

  it('does not verify again the signature it keeps for a version it holds with the same content: it accepts it as the duplicate it is', () => {
    // The kept signature is spoiled too: its acceptance shows that no check ran, only the comparison with what this node keeps.
    const spoiled = withForeignSignature(mine, signObject(testIndicator(41), home.signer));
    const kept = JSON.stringify((spoiled['extensions'] as Record<string, unknown>)[SIGNATURE_EXTENSION_ID]);
    const heldWithKept: PageHistory = { ...heldMine, versions: new Map([[mine.id, [{ version: mine.modified as string, json: JSON.stringify(mine), originSignature: kept }]]]) };
    const decision = decidePullPage([spoiled], atHome, heldWithKept);
    assert.deepEqual(decision.accepted.map((arrived) => [arrived.object.id, arrived.signer, arrived.verification]), [[mine.id, home.id, 'verified']]);
  });

  it('verifies a copy naming it as signer with other bytes than the signature it keeps, or when it keeps none', () => {
    const spoiled = withForeignSignature(mine, signObject(testIndicator(41), home.signer));
    const kept = JSON.stringify((mine['extensions'] as Record<string, unknown>)[SIGNATURE_EXTENSION_ID]);
    const heldWithKept: PageHistory = { ...heldMine, versions: new Map([[mine.id, [{ version: mine.modified as string, json: JSON.stringify(mine), originSignature: kept }]]]) };
    for (const held of [heldWithKept, heldMine]) {
      const decision = decidePullPage([spoiled], atHome, held);
      assert.deepEqual(decision.quarantined.map((item) => [item.objectId, item.reason]), [[mine.id, 'bad-signature']]);
    }
  });

  it('verifies its own signature on a version it does not hold, or holds with other content', () => {
    const unknown = withForeignSignature(signObject(testIndicator(42), home.signer), mine);
    const changed = withForeignSignature({ ...mine, name: 'changed on the way' } as StixObject, mine);
    const decision = decidePullPage([unknown, changed], atHome, heldMine);
    assert.deepEqual(decision.quarantined.map((item) => [item.objectId, item.reason]), [
      [unknown.id, 'bad-signature'],
      [changed.id, 'bad-signature'],
    ]);
  });
});
