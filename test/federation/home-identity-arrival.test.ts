// A partner cannot write a version of the home organisation's identity into its circle's collection,
// as a plain partner or as an Entente peer, whole or derived, whatever the node holds of it: an
// organisation's identity is accepted only as that organisation signed it (arrival rule
// signer-not-creator; the home organisation's own keys are in the arrival checks' key directory).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { signObject } from '../../src/federation/sign-object.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { forged, HOME, homeIdentity, PEER, startHomeIdentityNode, type HomeIdentityNode } from './home-identity-kit.ts';

describe("a partner's version of the home organisation's identity, into its circle's collection", () => {
  let node: HomeIdentityNode;
  before(async () => {
    node = await startHomeIdentityNode();
  });
  after(() => node.close());

  it('from a plain partner, where no collection it reads holds the identity: refused, in words that name nothing held', async () => {
    const status = await node.post('plain', 'alpha', [forged]);
    assert.deepEqual([status.success_count, status.failure_count], [0, 1]);
    const message = status.failures?.[0]?.message ?? '';
    assert.match(message, /^quarantined/);
    assert.doesNotMatch(message, /beta|2026-01-01|Home/, 'nothing the node holds elsewhere');
    assert.deepEqual(await node.versionsIn('alpha', HOME), []);
  });

  it('from an Entente peer, signed by itself, whole or as a derived version: refused', async () => {
    for (const version of [signObject(forged as StixObject, PEER.signer), signObject(forged as StixObject, PEER.signer, { derived: true })]) {
      const status = await node.post('peer', 'beta', [version]);
      assert.deepEqual([status.success_count, status.failure_count], [0, 1], JSON.stringify(status));
    }
    assert.deepEqual(await node.versionsIn('beta', HOME), [homeIdentity.modified]);
  });

  it('the version the home organisation signed, coming back: stored', async () => {
    const released = await node.releasedHomeIdentity();
    for (const [partner, collection] of [['peer', 'beta'], ['plain', 'alpha']] as const) {
      const status = await node.post(partner, collection, [released]);
      assert.deepEqual([status.success_count, status.failure_count], [1, 0], `${collection}: ${JSON.stringify(status)}`);
    }
  });
});
