// A version that arrived signed counts in the weakness totals for the organisation that signed it,
// not for the member node that delivered it. In a circle of three or more, a member's AMBER
// disclosure reaches this node from the member and, second-hand (AMBER allows it), from another
// member's node: counted per deliverer, the two deliveries made it count for nobody, and any member
// that received a disclosure could cancel it on purpose by sending it again. A copy that names no
// originator (unsigned or redacted, with no verified version of it held) counts for nobody when it
// came through federation; only a partner's own TAXII POST falls back to the contributor rule.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { CircleDeps } from '../../src/circles/circle-operations.ts';
import { alphaCircleStore, AT, cveRowsFor, disclosure, HOME, weaknessMarking } from './weakness-kit.ts';
import type { Verification } from '../../src/store/federation-store.ts';

const A = 'identity--0a0a0a0a-0000-4000-8000-0000000000aa';
const B = 'identity--0a0a0a0a-0000-4000-8000-0000000000a0';
const C = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';
const N = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';

const markA = weaknessMarking('a');
const markB = weaknessMarking('d');
const markN = weaknessMarking('b');
const disclosedByB = disclosure(2, 'CVE-2026-1111', B, markB);

describe('weakness totals count a signed version for its signer, not for the node that delivered it', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  const rowsFor = (organisationId: string): Promise<[string, number][]> => cveRowsFor(deps, organisationId);
  /** A federation arrival: signed by `signer` (when verified), handed over by `deliveredBy`, recorded as its contributor. */
  const arrive = async (objects: readonly StixObject[], deliveredBy: string, signer: string | undefined, verification: Verification = 'verified', collectionId = 'alpha'): Promise<void> => {
    await store.applySyncBatch({
      collectionId, peer: undefined, circleId: 'alpha', source: 'file', contributorOrganisationId: deliveredBy,
      accepted: objects.map((object) => ({ object, signer, keyId: undefined, verification, hops: signer === undefined || signer === deliveredBy ? [deliveredBy] : [signer, deliveredBy] })),
      quarantined: [], receivedAt: AT.toISOString(),
    });
  };

  beforeEach(async () => {
    // from-b: B's own link's collection, where its versions may stay the latest whatever alpha holds.
    ({ store, deps } = await alphaCircleStore([A, B, C, N], { after: ['from-b'] }));
    // A alone disclosed CVE-2026-1111, signed, from its own node.
    await arrive([markA, disclosure(1, 'CVE-2026-1111', A, markA)], A, A);
  });
  afterEach(async () => {
    await store.close();
  });

  it("keeps counting a member's disclosure that another member's node relayed as well", async () => {
    await arrive([markB, disclosedByB], B, B);
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'A and B');
    await arrive([markB, disclosedByB], N, B);
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'still A and B: N relayed what B signed');
    assert.deepEqual(await rowsFor(HOME), [['CVE-2026-1111', 2]]);
  });

  it('counts a relayed disclosure for its signer, not for the relaying member', async () => {
    // N disclosed CVE-2026-1111 itself: counted for the relay, B's version would add nobody beside A and N.
    await arrive([markN, disclosure(3, 'CVE-2026-1111', N, markN)], N, N);
    await arrive([markB, disclosedByB], N, B);
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 3]], 'A, B and N');
  });

  it("does not let a member cancel another's signed disclosure by posting it again", async () => {
    await arrive([markB, disclosedByB], B, B);
    await store.addObjects('alpha', [markB, disclosedByB], undefined, C);
    assert.deepEqual(await rowsFor(N), [['CVE-2026-1111', 2]], 'A and B');
  });

  it('withdraws a disclosure for its signer when only another member relayed the revocation', async () => {
    await arrive([markB, disclosedByB], B, B, 'verified', 'from-b');
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'A and B');
    await arrive([disclosure(2, 'CVE-2026-1111', B, markB, { modified: '2026-03-01T00:00:00.000Z', revoked: true })], N, B);
    assert.deepEqual(await rowsFor(C), [], 'B withdrew it: A alone is left');
  });

  it('counts unsigned content a node relayed for nobody: the relay is neither credited nor charged with it', async () => {
    // N's node hands over B's disclosure unsigned (a plain feed, or unsigned input the terms accept):
    // nothing says who wrote it, and counted for N it would tell the circle N has B's gap.
    await arrive([markB, disclosedByB], N, undefined, 'unverified');
    assert.deepEqual(await rowsFor(C), [], 'A alone: N only delivered it');
    await arrive([markB, disclosedByB], B, undefined, 'unverified');
    assert.deepEqual(await rowsFor(C), [], 'nor when B delivers it unsigned too');
  });

  it("counts a partner's own TAXII POST for that partner, and for nobody when two posted it", async () => {
    // A POST with the partner's own token is the partner writing, first-hand (no federation arrival).
    await store.addObjects('alpha', [markB, disclosedByB], undefined, N);
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'A and N, which posted it');
    await store.addObjects('alpha', [markB, disclosedByB], undefined, B);
    assert.deepEqual(await rowsFor(C), [], 'N and B both posted it unsigned: the store cannot tell who was first');
  });

  it('counts a redacted copy no verified version backs for nobody, not for the member that redacted it', async () => {
    // N's node signs B's disclosure as a derived (redacted) version: N's signature says N produced
    // these bytes from someone's version, not whose.
    await arrive([markB, disclosedByB], N, N, 'derived');
    assert.deepEqual(await rowsFor(C), [], 'A alone');
  });

  it('counts a derived copy for the signer of the version it is a copy of, whichever arrives first', async () => {
    await arrive([markB, disclosedByB], N, N, 'derived');
    await arrive([markB, disclosedByB], B, B, 'verified', 'from-b');
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'A and B, never N');
    assert.deepEqual(await rowsFor(N), [['CVE-2026-1111', 2]], 'N is not its owner: A and B count towards showing the row to it');
  });

  it('counts an unsigned copy for the signer of the version it is a copy of, never for the relay', async () => {
    await arrive([markB, disclosedByB], N, undefined, 'unverified');
    await arrive([markB, disclosedByB], B, B, 'verified', 'from-b');
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'A and B, never N');
  });

  it('counts a derived copy naming another organisation as its creator for nobody: its signature covers no claim for another', async () => {
    const markC = weaknessMarking('e');
    await arrive([markC, disclosure(4, 'CVE-2026-1111', C, markC)], N, N, 'derived');
    assert.deepEqual(await rowsFor(B), [], 'A alone: neither N, which signed the copy, nor C, which it names');
  });

  it('counts a derived copy that names its own signer as creator for that signer: its word, as a signed version is', async () => {
    // A member's node re-signs its own disclosure as derived when the release redacted it (granular
    // markings): the signature covers the creator it names.
    await arrive([markN, disclosure(3, 'CVE-2026-1111', N, markN)], N, N, 'derived');
    assert.deepEqual(await rowsFor(C), [['CVE-2026-1111', 2]], 'A and N');
  });
});
