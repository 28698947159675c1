/**
 * `entente sync` tells what the refresh of a mirrored circle refused and queued: the recall notices
 * queued for a member the coordinator's view shows as left, and a member that view shows as a member
 * again after this node recorded it as left (refused: it stays gone), on its human line and in
 * --json. Two in-process nodes (real HTTP on port 0): A coordinates circle "alliance" with B and a
 * third organisation M (no node of its own); B mirrors it through its peer link to A.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { invite } from '../../src/circles/circle-operations.ts';
import { membershipAt } from '../../src/policy/circle.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import { runEntente, temporaryDirectory, type CliRun } from '../cli/cli-kit.ts';
import { acceptThroughLink, formCircleOfTwo, indicator, startTestNode, type TestNode } from './two-node-kit.ts';

const MEMBER_SECRET = 'ent_b-node-at-a-sync-command-000000000000000';
const M = 'identity--0e000000-0000-4000-8000-00000000000e';

describe('entente sync on a mirrored circle', () => {
  const dirs = temporaryDirectory('sync-command-mirror');
  let a: TestNode;
  let b: TestNode;

  /** A's circle as its node shows it, with M's leaving set (an instant) or taken away (undefined). */
  async function setLeftOnCoordinator(leftAt: string | undefined): Promise<void> {
    const circle = await a.node.store.getCircle('alliance');
    assert.ok(circle !== undefined);
    const members = circle.members.map((member) => {
      if (member.organisationId !== M) return member;
      const { leftAt: _was, ...stays } = member;
      return leftAt === undefined ? stays : { ...stays, leftAt };
    });
    await a.node.store.updateCircle({ ...circle, members }, new Date());
  }

  const sync = (...args: string[]): Promise<CliRun> => runEntente(['sync', 'cert-a', ...args, '--data', b.dataDir]);

  before(async () => {
    a = await startTestNode(join(dirs.path, 'a'), 'CERT A');
    b = await startTestNode(join(dirs.path, 'b'), 'Grid B');
    await formCircleOfTwo(a, b, { circleId: 'alliance', memberSecret: MEMBER_SECRET, endRule: 'recall' });
    const now = new Date().toISOString();
    for (const node of [a, b]) await node.node.store.createOrganisation({ id: M, name: 'Member M', kind: 'company', sectors: [], country: undefined, identityJson: '{}', createdAt: now });
    await invite({ store: a.node.store, clock: () => new Date(), homeOrganisationId: a.org }, { organisationId: a.org, admin: true }, 'alliance', { organisationId: M, role: 'contributor', trial: false });
    await a.node.store.addAcceptance({ circleId: 'alliance', organisationId: M, version: 1, acceptedAt: now });
    const linked = await runEntente(['peer', 'add', 'cert-a', `${a.node.url}/taxii2/`, '--circle', 'alliance', '--data', b.dataDir], { env: { ENTENTE_PEER_TOKEN: MEMBER_SECRET } });
    assert.equal(linked.code, 0, linked.stderr);
    await acceptThroughLink(b, 'alliance');
    // B releases one of its indicators to M (M's node pulled it): what B recalls from M once M has left.
    const circle = await b.node.store.getCircle('alliance');
    assert.ok(circle !== undefined);
    const mine = indicator(b.org, 'green');
    await b.node.store.addObjects(circle.collectionId, [mine]);
    const entries = (await b.node.store.listEntries(circle.collectionId, { ids: [mine.id], versions: [{ kind: 'last' }] }, { limit: 1 })).entries;
    const gate = await openReleaseGate(b.node.store, { name: 'm-node', organisationId: M, admin: false, actsForHome: false, grants: [{ collectionId: circle.collectionId, read: true, write: false }] }, circle.collectionId, new Date());
    assert.equal((await gate.release(entries)).released.length, 1, 'released to M while it is a member');
  });

  after(async () => {
    await b?.node.close();
    await a?.node.close();
    dirs.remove();
  });

  it('prints nothing more than "circle refreshed" when the refresh refused and queued nothing', async () => {
    const synced = await sync();
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout, /^cert-a: circle refreshed, added \d+, duplicates \d+, quarantined \d+$/m);
    const json = await sync('--json');
    assert.deepEqual(pick(JSON.parse(json.stdout) as Record<string, unknown>), { circle_refreshed: true, rejoins_refused: [], recalls_queued: 0 });
  });

  it('prints the recalls queued for a member the view shows as left', async () => {
    await setLeftOnCoordinator(new Date().toISOString());
    const synced = await sync();
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout, /^cert-a: circle refreshed, recalls queued 1, added \d+/m);
    assert.equal((await b.node.store.listRecalls({ circleId: 'alliance', organisationId: M })).length, 1);
    const again = await sync('--json');
    assert.deepEqual(pick(JSON.parse(again.stdout) as Record<string, unknown>), { circle_refreshed: true, rejoins_refused: [], recalls_queued: 0 }, 'queued once');
  });

  it('prints the members the view shows as members again after they left here: refused, kept gone', async () => {
    await setLeftOnCoordinator(undefined);
    const synced = await sync();
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout, new RegExp(`^cert-a: circle refreshed, rejoins refused 1 \\(${M}: left here, kept gone\\), added \\d+`, 'm'));
    const json = await sync('--json');
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(pick(JSON.parse(json.stdout) as Record<string, unknown>), { circle_refreshed: true, rejoins_refused: [M], recalls_queued: 0 });
    const here = await b.node.store.getCircle('alliance');
    assert.ok(here !== undefined);
    assert.equal(membershipAt(here, M, new Date()).kind, 'not-member', 'M stays gone here');
  });
});

function pick(report: Record<string, unknown>): Record<string, unknown> {
  return { circle_refreshed: report['circle_refreshed'], rejoins_refused: report['rejoins_refused'], recalls_queued: report['recalls_queued'] };
}
