/**
 * What a recall may touch and what its acknowledgement says (docs/federation.md, "Flash messages
 * and recalls"). A recall names versions by id; its sender may name anything — deterministic SCO ids,
 * ids it learnt elsewhere. The receiver acts only on what the sender is entitled to recall (for a
 * coordinator: versions that came into the circle's collection here from another organisation; for
 * an origin: those of its own objects), and its acknowledgement is the same whether or not
 * it holds a named version: it confirms the notice as a whole, never which versions it held, removed
 * or kept.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StixObject } from '../../src/stix/types.ts';
import { startAlliance, type Alliance, type AllianceNode } from './flash-alliance-kit.ts';
import { ackBodyOf, held, ip, receiveFrom, sendRecall, type Answer, type Named } from './recall-kit.ts';

const VERSION = '2026-01-01T00:00:00.000Z';
const indicatorId = (n: number): string => `indicator--d15c0000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function indicator(n: number): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id: indicatorId(n), created: VERSION, modified: VERSION,
    name: `Disclosure test ${n}`, pattern: `[ipv4-addr:value = '203.0.113.${n}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
  } as StixObject;
}

describe('a recall tells its sender nothing about what the receiver holds, and takes back only what the sender may recall', () => {
  let alliance: Alliance;
  let a: AllianceNode;
  let b: AllianceNode;
  let c: AllianceNode;
  /** An SCO B made itself (deterministic id: anyone can name it), in the circle's collection, never released. */
  let ownSco: Named;
  /** The deterministic id of an observable B never saw. */
  let absentScoId: string;

  /** `sender` recalls `versions` from B's copy of the circle; the answer as B gives it. */
  const recall = (sender: AllianceNode, versions: readonly Named[]): Promise<Answer> => sendRecall(alliance, sender, b, versions);

  before(async () => {
    alliance = await startAlliance(['coord-a', 'bank-b', 'grid-c'], 'disclose-2026', { endRule: 'recall' });
    [a, b, c] = alliance.nodes as [AllianceNode, AllianceNode, AllianceNode];
    const store = b.node.store;
    // Indicator 1 came to B through the circle, from the coordinator A (a pull, as a sync stores it).
    await receiveFrom(b, a, alliance.circleId, alliance.circleId, [indicator(1)]);
    // Indicators 2 and 5 came to B from C through another collection (another circle, not the one
    // recalled); B's analysts then put those versions into the circle's collection themselves.
    await store.createCollection({ id: 'elsewhere-2026', title: 'Elsewhere' }, new Date());
    await receiveFrom(b, c, 'elsewhere-2026', undefined, [indicator(2), indicator(5)]);
    await store.addObjects(alliance.circleId, [indicator(2), indicator(5)]);
    // Indicator 6 came to B through the circle from C, a member (not from the coordinator).
    await receiveFrom(b, c, alliance.circleId, alliance.circleId, [indicator(6)]);
    // An observable B recorded itself.
    const sco = ip('198.51.100.3');
    absentScoId = ip('198.51.100.4').id;
    await store.addObjects(alliance.circleId, [sco]);
    const [version] = await held(b, alliance.circleId, sco.id);
    assert.ok(version !== undefined);
    ownSco = { id: sco.id, version };
  });
  after(() => alliance.close());

  /** Two recalls by A, of a version B holds and of one it does not: their acknowledgements are alike. */
  async function assertAlike(what: string, heldHere: Named, notHeld: Named): Promise<void> {
    const heldAck = ackBodyOf(await recall(a, [heldHere]));
    const absentAck = ackBodyOf(await recall(a, [notHeld]));
    assert.deepEqual({ ...heldAck, versions: '(named)' }, { ...absentAck, versions: '(named)' }, `${what}: the acknowledgement must not depend on whether B holds the version`);
    assert.deepEqual(heldAck['versions'], [heldHere]);
    assert.deepEqual(absentAck['versions'], [notHeld]);
  }

  it("a coordinator naming an observable B made itself is answered as if B had never seen it", async () => {
    await assertAlike('an SCO B made itself', ownSco, { id: absentScoId, version: ownSco.version });
  });

  it('a coordinator naming a version B received through another circle is answered as if B had never seen it', async () => {
    await assertAlike('a version B received from C elsewhere', { id: indicatorId(2), version: VERSION }, { id: indicatorId(3), version: VERSION });
  });

  it('the acknowledgement confirms the notice and names the versions it was given, nothing more', async () => {
    const named = [ownSco, { id: indicatorId(2), version: VERSION }, { id: indicatorId(4), version: VERSION }];
    // removed and kept are there for earlier builds, which require them, and always 0 and none.
    assert.deepEqual(ackBodyOf(await recall(a, named)), { circle_id: alliance.circleId, recipient: b.organisationId, versions: named, removed: 0, kept: [] });
  });

  it('a coordinator takes back only what came into the circle here from another organisation', async () => {
    ackBodyOf(await recall(a, [{ id: indicatorId(5), version: VERSION }, ownSco]));
    assert.deepEqual(await held(b, alliance.circleId, indicatorId(5)), [VERSION], 'what B put into the circle itself stays, though it received it elsewhere');
    assert.deepEqual(await held(b, 'elsewhere-2026', indicatorId(5)), [VERSION]);
    assert.deepEqual(await held(b, alliance.circleId, ownSco.id), [ownSco.version]);
    // What A sent through the circle is taken back, and acknowledged the same way.
    const answer = ackBodyOf(await recall(a, [{ id: indicatorId(1), version: VERSION }]));
    assert.deepEqual(answer, { circle_id: alliance.circleId, recipient: b.organisationId, versions: [{ id: indicatorId(1), version: VERSION }], removed: 0, kept: [] });
    assert.deepEqual(await held(b, alliance.circleId, indicatorId(1)), []);
    // B's own record says, for B's eyes, what the recall that took something back did; those that
    // took nothing back (all before it here) leave no record.
    const recorded = await b.node.store.listReceivedRecalls({ circleId: alliance.circleId, limit: 10 });
    assert.deepEqual(recorded.map((recall) => recall.versions.map((version) => [version.id, version.outcome])), [[[indicatorId(1), 'removed']]]);
    // What another member sent through the circle came through the circle too: the coordinator may recall it.
    ackBodyOf(await recall(a, [{ id: indicatorId(6), version: VERSION }]));
    assert.deepEqual(await held(b, alliance.circleId, indicatorId(6)), []);
  });

  it('the origin of an object does not take back what B put into the circle itself, nor anything outside the circle', async () => {
    const answer = ackBodyOf(await recall(c, [{ id: indicatorId(5), version: VERSION }]));
    assert.deepEqual(answer, { circle_id: alliance.circleId, recipient: b.organisationId, versions: [{ id: indicatorId(5), version: VERSION }], removed: 0, kept: [] });
    assert.deepEqual(await held(b, alliance.circleId, indicatorId(5)), [VERSION]);
    assert.deepEqual(await held(b, 'elsewhere-2026', indicatorId(5)), [VERSION]);
  });
});
