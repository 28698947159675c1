/**
 * What changes on the coordinator's side after a member's node linked to it reaches that node on the
 * next cycle (docs/federation.md, "Sync"): cursors move past what the release decision withheld, so
 * when the circle changes so that more may be released (a trial member promoted, wider terms
 * accepted), the collection is read again; and a key rotation the coordinator publishes is followed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promote } from '../../src/circles/circle-operations.ts';
import { rotateNodeKey } from '../../src/federation/node-key-lifecycle.ts';
import { syncPeer, type SyncDeps } from '../../src/federation/sync-peer.ts';
import { openTaxiiClient } from '../../src/taxii/taxii-client.ts';
import { runEntente, temporaryDirectory } from '../cli/cli-kit.ts';
import { acceptOnCoordinator, acceptThroughLink, entriesOf, formCircleOfTwo, indicator, startTestNode, versionsOf, type TestNode } from './two-node-kit.ts';

const CIRCLE = 'trial-circle';
const B_SECRET = 'ent_b-node-secret-widening-00000000000000000';

describe('a decision that widens reaches the member node on the next cycle', () => {
  const dirs = temporaryDirectory('widening');
  let a: TestNode;
  let b: TestNode;
  let syncB: SyncDeps;

  before(async () => {
    a = await startTestNode(join(dirs.path, 'a'), 'CERT A');
    b = await startTestNode(join(dirs.path, 'b'), 'Grid B');
    await formCircleOfTwo(a, b, { circleId: CIRCLE, memberSecret: B_SECRET, endRule: 'retain' });
    // B is a trial member: CLEAR and GREEN indicators only, until promoted.
    const circle = await a.node.store.getCircle(CIRCLE);
    assert.ok(circle !== undefined);
    await a.node.store.updateCircle({ ...circle, members: circle.members.map((member) => (member.organisationId === b.org ? { ...member, trial: true } : member)) }, new Date());
    await acceptOnCoordinator(a, b, CIRCLE, B_SECRET);
    // The AMBER one first: the cursor after the GREEN one is past it.
    const amber = indicator(a.org, 'amber');
    await a.node.store.addObjects(CIRCLE, [amber]);
    await a.node.store.addObjects(CIRCLE, [indicator(a.org, 'green')]);
    const tokenFile = join(dirs.path, 'a.token');
    writeFileSync(tokenFile, `${B_SECRET}\n`, { mode: 0o600 });
    const added = await runEntente(['peer', 'add', 'cert-a', `${a.node.url}/taxii2/`, '--circle', CIRCLE, '--token-file', tokenFile, '--data', b.dataDir]);
    assert.equal(added.code, 0, added.stderr);
    // B's node records B's acceptance only when it accepts itself (A's view does not speak for B).
    await acceptThroughLink(b, CIRCLE);
    syncB = { store: b.node.store, clock: () => new Date(), homeOrganisationId: b.org, openClient: openTaxiiClient, releaseSigner: b.node.releaseSigner };
  });

  after(async () => {
    await b?.node.close();
    await a?.node.close();
    dirs.remove();
  });

  it('a trial member receives GREEN only; once promoted, its next cycle brings the AMBER indicator it was refused', async () => {
    const first = await syncPeer(syncB, 'cert-a');
    assert.equal(first.ok, true, JSON.stringify(first.error));
    const onA = await entriesOf(a.node.store, CIRCLE);
    const green = onA.find((entry) => entry.json.includes('(green)'));
    const amber = onA.find((entry) => entry.json.includes('(amber)'));
    assert.ok(green !== undefined && amber !== undefined);
    assert.deepEqual(versionsOf(await entriesOf(b.node.store, CIRCLE)), versionsOf([green]));

    const idle = await syncPeer(syncB, 'cert-a');
    assert.equal(idle.pull.added, 0, 'nothing changed: nothing new');

    await promote({ store: a.node.store, clock: () => new Date(), homeOrganisationId: a.org }, { organisationId: a.org, admin: true }, CIRCLE, b.org);
    const after = await syncPeer(syncB, 'cert-a');
    assert.equal(after.ok, true, JSON.stringify(after.error));
    assert.deepEqual(versionsOf(await entriesOf(b.node.store, CIRCLE)), versionsOf([green, amber]));
    assert.equal(after.pull.added, 1, 'the GREEN one it held came back as a duplicate, only the AMBER one is new');
  });

  it("follows the coordinator's key rotation: what A signs with its new key is accepted, the old key ends where A said", async () => {
    await rotateNodeKey(a.node.store, { organisationId: a.org, now: new Date(), overlapMs: 60 * 60_000 });
    a.node.signers.invalidate();
    const fresh = { ...indicator(a.org, 'green'), modified: new Date(Date.now() + 1000).toISOString(), created: new Date().toISOString() };
    await a.node.store.addObjects(CIRCLE, [fresh]);
    const cycle = await syncPeer(syncB, 'cert-a');
    assert.equal(cycle.ok, true, JSON.stringify(cycle.error));
    assert.equal(cycle.pull.quarantined, 0, 'signed with the new key, which B pinned through the rotation statement');
    assert.ok((await entriesOf(b.node.store, CIRCLE)).some((entry) => entry.id === fresh.id));
    const pinned = await b.node.store.listPinnedKeys(a.org);
    assert.ok(pinned.some((key) => key.source === 'rotation'), JSON.stringify(pinned));
    const old = pinned.find((key) => key.source !== 'rotation');
    assert.ok(old?.validUntil !== undefined, 'the rotated-out key now ends');
  });
});
