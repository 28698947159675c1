/**
 * Recalls decide per version, on facts of this node, and answer the same whatever those facts are
 * (docs/federation.md, "Who may recall what" and "The acknowledgement says nothing of what is
 * held"): a member that neither coordinates nor originated what it names is acknowledged like any
 * other (what it names stays), a circle this node does not have and one the sender is not a member
 * of are refused alike, the home organisation's own versions stay even when a partner sent the same
 * version again, and the acknowledgement is still readable by nodes of earlier builds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { receiveRecall } from '../../src/federation/recall-receive.ts';
import { signMessage } from '../../src/federation/signed-message.ts';
import type { Circle } from '../../src/policy/circle.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { contentVersionOf } from '../../src/stix/versions.ts';
import { signerOf, startAlliance, type Alliance, type AllianceNode } from './flash-alliance-kit.ts';
import { ackBodyOf, held, ip, receiveFrom, sendRecall, type Answer, type Named } from './recall-kit.ts';

const VERSION = '2026-01-01T00:00:00.000Z';
const indicatorId = (n: number): string => `indicator--e471e000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function indicator(n: number, extra: Record<string, unknown> = {}): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id: indicatorId(n), created: VERSION, modified: VERSION,
    name: `Entitlement test ${n}`, pattern: `[ipv4-addr:value = '192.0.2.${n}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', ...extra,
  } as StixObject;
}

/**
 * What a node of a build before the acknowledgement stopped counting requires of a recall-ack body
 * (parseRecallAckBody then): `removed` a count and `kept` a list of versions. It refuses anything
 * else, and its sender then resends the recall for ever.
 */
function readableByEarlierBuilds(body: Record<string, unknown>): boolean {
  const { removed, kept } = body;
  return typeof removed === 'number' && Number.isSafeInteger(removed) && removed >= 0 && Array.isArray(kept);
}

describe('a recall is decided per version and answered the same whatever this node holds', () => {
  let alliance: Alliance;
  let a: AllianceNode;
  let b: AllianceNode;
  let c: AllianceNode;

  /** `sender` recalls `versions` of circle `circleId` from B; the answer as B gives it. */
  const recall = (sender: AllianceNode, versions: readonly Named[], circleId = alliance.circleId): Promise<Answer> => sendRecall(alliance, sender, b, versions, circleId);

  /** The acknowledgement's body without its time and the versions it repeats. */
  function ackOf(answer: Answer): Record<string, unknown> {
    const { versions, ...rest } = ackBodyOf(answer);
    assert.ok(Array.isArray(versions));
    return rest;
  }

  /** C sends `objects` to B through `collectionId`, as a pull stores it (signed by C). */
  // Through the circle's collection the arrival names the circle; through another collection, none.
  const fromC = (collectionId: string, objects: readonly StixObject[]) =>
    receiveFrom(b, c, collectionId, collectionId === alliance.circleId ? alliance.circleId : undefined, objects);

  before(async () => {
    alliance = await startAlliance(['coord-a', 'bank-b', 'grid-c'], 'entitle-2026', { endRule: 'recall' });
    [a, b, c] = alliance.nodes as [AllianceNode, AllianceNode, AllianceNode];
    const store = b.node.store;
    await store.createCollection({ id: 'elsewhere-2026', title: 'Elsewhere' }, new Date());
    await store.createCollection({ id: 'mine-2026', title: 'Mine' }, new Date());
    // Indicator 20: C's, received by B through another collection only.
    await fromC('elsewhere-2026', [indicator(20)]);
    // Indicator 7: C's, received by B through the circle.
    await fromC(alliance.circleId, [indicator(7)]);
  });
  after(() => alliance.close());

  it('the acknowledgement still carries removed and kept, fixed (0 and none), so that earlier builds read it', async () => {
    const answer = await recall(a, [{ id: indicatorId(7), version: VERSION }]);
    const body = answer.json['body'] as Record<string, unknown>;
    assert.ok(readableByEarlierBuilds(body), JSON.stringify(body));
    assert.deepEqual([body['removed'], body['kept']], [0, []]);
  });

  it("a member's recall is acknowledged alike whether or not it originated, or B holds, what it names; B takes back only its copies through the circle", async () => {
    await fromC(alliance.circleId, [indicator(8)]);
    const received = ackOf(await recall(c, [{ id: indicatorId(20), version: VERSION }]));
    const never = await recall(c, [{ id: indicatorId(21), version: VERSION }]);
    const mixed = await recall(c, [{ id: indicatorId(20), version: VERSION }, { id: indicatorId(22), version: VERSION }, { id: indicatorId(21), version: VERSION }]);
    // Indicator 7 was taken back already (by the coordinator, above); indicator 8 is held and is C's.
    const heldHere = await recall(c, [{ id: indicatorId(7), version: VERSION }, { id: indicatorId(8), version: VERSION }]);
    for (const answer of [never, mixed, heldHere]) assert.deepEqual(ackOf(answer), received);
    assert.deepEqual(await held(b, 'elsewhere-2026', indicatorId(20)), [VERSION], 'outside the circle: untouched');
    assert.deepEqual(await held(b, alliance.circleId, indicatorId(8)), [], "C's own object that came to B through the circle is taken back");
  });

  it('an origin does not take back what B put into the circle itself, nor what another organisation originated', async () => {
    const store = b.node.store;
    await fromC('elsewhere-2026', [indicator(23)]);
    await store.addObjects(alliance.circleId, [indicator(23)]);
    const fromA = { ...indicator(24), name: 'from A' } as StixObject;
    await receiveFrom(b, a, alliance.circleId, alliance.circleId, [fromA]);
    ackOf(await recall(c, [{ id: indicatorId(23), version: VERSION }, { id: indicatorId(24), version: VERSION }]));
    assert.deepEqual(await held(b, alliance.circleId, indicatorId(23)), [VERSION]);
    assert.deepEqual(await held(b, alliance.circleId, indicatorId(24)), [VERSION]);
  });

  it('a circle B does not have and one the sender is not a member of are refused in the same words', async () => {
    const store = b.node.store;
    const shared = await store.getCircle(alliance.circleId);
    assert.ok(shared !== undefined);
    const privateCircle: Circle = { ...shared, id: 'private-2026', collectionId: 'private-2026', members: shared.members.filter((member) => member.organisationId !== c.organisationId) };
    await store.createCollection({ id: 'private-2026', title: 'Private' }, new Date());
    await store.createCircle(privateCircle, new Date());
    const named = [{ id: indicatorId(21), version: VERSION }];
    const shape = (answer: { status: number; json: Record<string, unknown> }, circleId: string): string =>
      JSON.stringify({ ...answer.json, error_id: '(random)' }).split(circleId).join('(circle)');
    const notMember = await recall(c, named, 'private-2026');
    const noCircle = await recall(c, named, 'nosuch-2026');
    assert.equal(notMember.status, 400);
    assert.equal(notMember.json['error_code'], 'ENT_RECALL_INVALID');
    assert.equal(shape(notMember, 'private-2026'), shape(noCircle, 'nosuch-2026'));
  });

  it("a member takes back its own copy of an SCO, and not another member's copy of the same observable", async () => {
    // Each content of an SCO is a version of its own: C's copy and A's copy of one address differ
    // (in markings here) and each came signed by its member. That C sent a content of the id first
    // does not make it the origin of A's.
    const fromC = ip('192.0.2.210');
    const fromA = { ...ip('192.0.2.210'), object_marking_refs: ['marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb'] } as StixObject;
    await receiveFrom(b, c, alliance.circleId, alliance.circleId, [fromC]);
    await receiveFrom(b, a, alliance.circleId, alliance.circleId, [fromA]);
    const [versionOfA, versionOfC] = [contentVersionOf(fromA), contentVersionOf(fromC)];
    assert.deepEqual((await held(b, alliance.circleId, fromC.id)).sort(), [versionOfA, versionOfC].sort(), 'two contents, two versions');
    ackOf(await recall(c, [{ id: fromA.id, version: versionOfA }]));
    assert.deepEqual((await held(b, alliance.circleId, fromC.id)).sort(), [versionOfA, versionOfC].sort(), "C may not take back A's copy");
    ackOf(await recall(c, [{ id: fromC.id, version: versionOfC }]));
    assert.deepEqual(await held(b, alliance.circleId, fromC.id), [versionOfA], 'C takes back its own');
  });

  it("the home organisation's own version stays when a partner sends the same version again, whoever recalls it", async () => {
    const store = b.node.store;
    const sco = ip('192.0.2.200');
    await store.addObjects(alliance.circleId, [sco]);
    const [version] = await held(b, alliance.circleId, sco.id);
    assert.ok(version !== undefined);
    // C sends the very same SCO through the circle: a duplicate of what B recorded itself.
    const arrival = await fromC(alliance.circleId, [sco]);
    assert.deepEqual(arrival.outcomes.map((outcome) => outcome.kind), ['duplicate']);
    assert.notEqual((await store.originSignersOf([sco.id])).get(sco.id), c.organisationId, 'a duplicate does not make C its origin');
    ackOf(await recall(a, [{ id: sco.id, version }]));
    ackOf(await recall(c, [{ id: sco.id, version }]));
    assert.deepEqual(await held(b, alliance.circleId, sco.id), [version]);
    // The same through a partner's POST (a contribution, no provenance).
    const posted = ip('192.0.2.201');
    await store.addObjects(alliance.circleId, [posted]);
    const [postedVersion] = await held(b, alliance.circleId, posted.id);
    assert.ok(postedVersion !== undefined);
    await store.addObjects(alliance.circleId, [posted], undefined, a.organisationId);
    ackOf(await recall(a, [{ id: posted.id, version: postedVersion }]));
    assert.deepEqual(await held(b, alliance.circleId, posted.id), [postedVersion]);
  });

  it('a version B signed itself, or one created by B, stays even when it came back into the circle from a partner', async () => {
    const store = b.node.store;
    // Indicator 30: B made and signed it; C sends it into the circle (where B did not hold it).
    await store.addObjects('mine-2026', [indicator(30)]);
    await store.putSignatures([{ id: indicatorId(30), version: VERSION, variant: '', extensionJson: '{}', signer: b.organisationId }]);
    assert.deepEqual((await fromC(alliance.circleId, [indicator(30)])).outcomes.map((outcome) => outcome.kind), ['added']);
    // Indicator 31: created by B (created_by_ref), first reached B through the circle from C.
    await fromC(alliance.circleId, [indicator(31, { created_by_ref: b.organisationId })]);
    ackOf(await recall(a, [{ id: indicatorId(30), version: VERSION }, { id: indicatorId(31), version: VERSION }]));
    ackOf(await recall(c, [{ id: indicatorId(30), version: VERSION }, { id: indicatorId(31), version: VERSION }]));
    assert.deepEqual(await held(b, alliance.circleId, indicatorId(30)), [VERSION]);
    assert.deepEqual(await held(b, alliance.circleId, indicatorId(31)), [VERSION]);
  });

  it('the acknowledgement is dated when the recall arrived, not after the removals', async () => {
    await fromC(alliance.circleId, [indicator(40)]);
    const start = new Date();
    let reads = 0;
    const clock = (): Date => {
      reads += 1;
      return reads === 1 ? start : new Date(start.getTime() + 3_600_000);
    };
    const message = signMessage(
      'recall',
      { circle_id: alliance.circleId, reason: 'circle ended', versions: [{ id: indicatorId(40), version: VERSION }], sent_at: start.toISOString() },
      await signerOf(a),
    );
    const ack = await receiveRecall(
      { store: b.node.store, clock, homeOrganisationId: b.organisationId, signer: () => signerOf(b) },
      { name: 'coord-a-partner', organisationId: a.organisationId, admin: false, actsForHome: false, grants: [] },
      message,
    );
    assert.equal(ack.body.acknowledged_at, start.toISOString());
    assert.deepEqual(await held(b, alliance.circleId, indicatorId(40)), []);
  });

  it('a recall that takes back nothing leaves no record, so naming made-up ids cannot grow the table', async () => {
    const before = (await b.node.store.listReceivedRecalls({ limit: 1000 })).length;
    for (let n = 100; n < 105; n += 1) ackOf(await recall(a, [{ id: indicatorId(n), version: VERSION }]));
    ackOf(await recall(c, [{ id: indicatorId(106), version: VERSION }]));
    assert.equal((await b.node.store.listReceivedRecalls({ limit: 1000 })).length, before);
    // One that takes something back is on record, with what it did to each version.
    await fromC(alliance.circleId, [indicator(50)]);
    ackOf(await recall(a, [{ id: indicatorId(50), version: VERSION }, { id: indicatorId(107), version: VERSION }]));
    const [last] = await b.node.store.listReceivedRecalls({ limit: 1 });
    assert.deepEqual(last?.versions.map((version) => [version.id, version.outcome]), [[indicatorId(50), 'removed'], [indicatorId(107), 'absent']]);
  });
});
