/**
 * A member's node acts in a circle it mirrors from its coordinator's node with the ordinary
 * commands: `entente circle accept|counter|leave C` (and the same over its own REST API) are carried
 * out on the coordinator's node through the peer link, and the mirror here shows the result at
 * once. Two nodes in this process: A coordinates, B is the member.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { releasesIn } from '../../src/audit/audit-chain.ts';
import { syncPeer, type SyncDeps } from '../../src/federation/sync-peer.ts';
import { openTaxiiClient } from '../../src/taxii/taxii-client.ts';
import { runEntente, temporaryDirectory, type CliRun } from '../cli/cli-kit.ts';
import { formCircleOfTwo, indicator, indicatorTerms, startTestNode, type TestNode } from './two-node-kit.ts';

const CIRCLE = 'alliance';
const B_SECRET = 'ent_b-node-secret-at-a-111111111111111111111';
const PEER = 'cert-a';

describe("a member's node accepts, counters and leaves on its coordinator's node", () => {
  const dirs = temporaryDirectory('member-actions');
  let a: TestNode;
  let b: TestNode;
  let syncB: SyncDeps;

  const onB = (...args: string[]): Promise<CliRun> => runEntente([...args, '--data', b.dataDir]);
  const succeeded = (run: CliRun): CliRun => {
    assert.equal(run.code, 0, run.stderr);
    return run;
  };
  /** B's node's REST API, with its administrator's token. */
  const restOnB = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const token = readFileSync(join(b.dataDir, 'admin.token'), 'utf8').trim();
    const response = await fetch(`${b.node.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const acceptancesOf = async (node: TestNode): Promise<string[]> =>
    (await node.node.store.getAgreementState(CIRCLE)).acceptances.map((acceptance) => `${acceptance.organisationId === a.org ? 'A' : 'B'} v${acceptance.version} ${acceptance.acceptedAt}`).sort();
  const leftAtOf = async (node: TestNode): Promise<string | undefined> => (await node.node.store.getCircle(CIRCLE))?.members.find((member) => member.organisationId === b.org)?.leftAt;

  before(async () => {
    a = await startTestNode(join(dirs.path, 'a'), 'CERT A');
    b = await startTestNode(join(dirs.path, 'b'), 'Grid B');
    // Under these terms what B received is recalled when B leaves.
    await formCircleOfTwo(a, b, { circleId: CIRCLE, memberSecret: B_SECRET, endRule: 'recall' });
    await a.node.store.addObjects(CIRCLE, [indicator(a.org, 'green'), indicator(a.org, 'amber'), indicator(a.org, 'red')]);
    const tokenFile = join(dirs.path, 'a.token');
    writeFileSync(tokenFile, `${B_SECRET}\n`, { mode: 0o600 });
    succeeded(await onB('peer', 'add', PEER, `${a.node.url}/taxii2/`, '--circle', CIRCLE, '--token-file', tokenFile, '--interval', '30s'));
    syncB = { store: b.node.store, clock: () => new Date(), homeOrganisationId: b.org, openClient: openTaxiiClient, releaseSigner: b.node.releaseSigner };
  });

  after(async () => {
    await b?.node.close();
    await a?.node.close();
    dirs.remove();
  });

  it('with the coordinator unreachable: ENT_PEER_UNREACHABLE, and nothing is recorded on either node', async () => {
    const port = Number(new URL(a.node.url).port);
    const beforeB = await acceptancesOf(b);
    assert.equal(beforeB.length, 0, 'before B accepts, the mirror holds no acceptance: A is bound only by terms B accepted too');
    await a.node.close();
    try {
      const terms = join(dirs.path, 'unreachable-terms.json');
      writeFileSync(terms, JSON.stringify(indicatorTerms('retain')));
      for (const args of [['circle', 'accept', CIRCLE], ['circle', 'counter', CIRCLE, '--terms', terms], ['circle', 'leave', CIRCLE]]) {
        const run = await onB(...args);
        assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}`);
        assert.match(run.stderr, /^entente: ENT_PEER_UNREACHABLE: Could not (accept the terms of|counter the terms of|leave) circle alliance on the coordinator's node \(CERT A, identity--[0-9a-f-]+; peer cert-a\): could not reach .*; nothing was recorded here$/m);
      }
      const overRest = await restOnB(`/api/circles/${CIRCLE}/accept`, {});
      assert.equal(overRest.status, 502);
      assert.equal(overRest.body['error_code'], 'ENT_PEER_UNREACHABLE');
      assert.deepEqual(await acceptancesOf(b), beforeB);
      assert.deepEqual(await b.node.store.listCounterProposals(CIRCLE), []);
      assert.equal(await leftAtOf(b), undefined);
    } finally {
      a = await startTestNode(a.dataDir, 'CERT A', port);
    }
    assert.deepEqual(await acceptancesOf(a), [], 'nothing reached A');
    assert.deepEqual(await a.node.store.listCounterProposals(CIRCLE), []);
    assert.equal(await leftAtOf(a), undefined);
  });

  it("accepts with B's own command: A records the acceptance and pins B's keys, and B's mirror shows it at once", async () => {
    const run = succeeded(await onB('circle', 'accept', CIRCLE));
    assert.match(run.stdout, new RegExp(`^${b.org} accepted agreement v1 of circle alliance at \\S+Z on the coordinator's node \\(CERT A, ${a.org}\\) through peer cert-a, with 1 public key\\(s\\) of this node$`, 'm'));
    assert.equal(run.stderr, '', 'the mirror was refreshed: no warning');

    const atA = (await a.node.store.getAgreementState(CIRCLE)).acceptances.filter((acceptance) => acceptance.organisationId === b.org);
    assert.deepEqual(atA.map((acceptance) => acceptance.version), [1]);
    const bKeys = await b.node.store.listNodeKeys();
    assert.deepEqual(
      (await a.node.store.listPinnedKeys(b.org)).map((key) => [key.keyId, key.publicKey, key.source]),
      bKeys.map((key) => [key.keyId, key.publicKey, 'acceptance']),
      "A pins the keys B's node sent with its acceptance",
    );
    // The mirror shows A's acceptance record itself: the same version, the same instant.
    const ofB = (rows: string[]): string[] => rows.filter((row) => row.startsWith('B'));
    assert.deepEqual(ofB(await acceptancesOf(b)), [`B v1 ${atA[0]?.acceptedAt ?? '?'}`]);
    assert.deepEqual(ofB(await acceptancesOf(b)), ofB(await acceptancesOf(a)));

    // Bound by the terms now, B receives what A releases to it under them.
    const report = await syncPeer(syncB, PEER);
    assert.equal(report.error, undefined);
    assert.equal(report.pull.added, 2, 'GREEN and AMBER; RED stays at A');
  });

  it("gives a refusal by the coordinator back with the coordinator's code and message, recording nothing here", async () => {
    const held = await acceptancesOf(b);
    // A version the mirror does not hold is not asked for: its terms were never shown here. (The
    // coordinator's own refusal of an accept comes back after the leave, below; of a counter, here.)
    const unheld = await onB('circle', 'accept', CIRCLE, '--agreement-version', '7');
    assert.equal(unheld.code, 1);
    assert.match(unheld.stderr, /^entente: ENT_AGREEMENT_NOT_FOUND: This node holds version\(s\) 1 of circle alliance, not version 7: sync with peer cert-a .*; nothing was sent or recorded$/m);
    assert.deepEqual(await acceptancesOf(b), held);

    // This node speaks in a mirrored circle for its own organisation only.
    const forOther = await onB('circle', 'accept', CIRCLE, '--org', a.org);
    assert.equal(forOther.code, 1);
    assert.match(forOther.stderr, /ENT_CIRCLE_FORBIDDEN: Circle alliance is mirrored from its coordinator .*: this node acts in it only for its own organisation/);

    // The same through B's REST API: forwarded, answered with where it went.
    const again = await restOnB(`/api/circles/${CIRCLE}/accept`, { version: 1 });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body['forwarded_to'], { peer: PEER, organisation_id: a.org, mirror_refreshed: true });
    assert.equal(again.body['organisation_id'], b.org);
    const badTerms = await restOnB(`/api/circles/${CIRCLE}/counter`, { terms: { scope: 'everything' } });
    assert.equal(badTerms.status, 422);
    assert.equal(badTerms.body['error_code'], 'ENT_POLICY_AGREEMENT_INVALID');
    assert.match(String(badTerms.body['description']), /^The coordinator's node \(CERT A, .*\) refused to counter the terms of circle alliance: /);
    assert.deepEqual(badTerms.body['details'], { circleId: CIRCLE, peer: PEER, coordinator: a.org, from: 'coordinator' });
    assert.deepEqual(await a.node.store.listCounterProposals(CIRCLE), []);
    assert.deepEqual(await b.node.store.listCounterProposals(CIRCLE), []);
  });

  it("forwards a counter-proposal: A holds it, and so does B's node", async () => {
    const terms = join(dirs.path, 'retain-terms.json');
    writeFileSync(terms, JSON.stringify(indicatorTerms('retain')));
    const run = succeeded(await onB('circle', 'counter', CIRCLE, '--terms', terms, '--comment', 'we cannot recall from our SIEM'));
    assert.match(run.stdout, new RegExp(`^${b.org} countered agreement v1 of circle alliance on the coordinator's node \\(CERT A, ${a.org}\\) through peer cert-a; it stays unbound until it accepts a version$`, 'm'));
    const atA = await a.node.store.listCounterProposals(CIRCLE);
    assert.deepEqual(atA.map((counter) => [counter.organisationId, counter.basedOnVersion, counter.terms.endRule, counter.comment]), [[b.org, 1, 'retain', 'we cannot recall from our SIEM']]);
    assert.deepEqual(await b.node.store.listCounterProposals(CIRCLE), atA, "B's node keeps the counter A recorded");
    // A counter binds nobody: B's acceptance of v1 stands on both nodes.
    assert.ok((await acceptancesOf(a)).some((row) => row.startsWith('B v1')));
  });

  it('forwards a leave: A queues the recalls its terms call for, and B records the leave at the same instant', async () => {
    const audit = await a.node.store.readAudit({ recipientOrganisationId: b.org, circleId: CIRCLE, afterSeq: 0, limit: 1000 });
    const releases = audit.flatMap((record) => releasesIn(record.chained.entry));
    const received = new Set(releases.filter((release) => release.decision !== 'withhold').map((release) => `${release.objectId}@${release.objectModified}`));
    assert.equal(received.size, 2);

    const run = succeeded(await onB('circle', 'leave', CIRCLE));
    assert.match(run.stdout, new RegExp(`^${b.org} left circle alliance at \\S+Z on the coordinator's node \\(CERT A, ${a.org}\\) through peer cert-a; the coordinator queued 2 recall notices$`, 'm'));
    const leftAt = await leftAtOf(a);
    assert.ok(leftAt !== undefined, 'A: B left');
    assert.equal(await leftAtOf(b), leftAt, "B's mirror: left at the instant A recorded");
    const recalls = await a.node.store.listRecalls({ circleId: CIRCLE, organisationId: b.org });
    assert.deepEqual(recalls.map((notice) => `${notice.objectId}@${notice.version}`).sort(), [...received].sort());

    // A member that left sees the circle no more: syncs stop refreshing the mirror (and do not fail).
    const report = await syncPeer(syncB, PEER);
    assert.equal(report.error, undefined);
    assert.equal(report.mirror, undefined);
    assert.equal(await leftAtOf(b), leftAt);
    // And the coordinator now refuses what B asks of it.
    const late = await onB('circle', 'accept', CIRCLE);
    assert.equal(late.code, 1);
    assert.match(late.stderr, /^entente: ENT_CIRCLE_NOT_FOUND: The coordinator's node \(CERT A, .*; peer cert-a\) refused to accept the terms of circle alliance: No circle alliance$/m);
  });

  it('without a peer link to the coordinator, says so and records nothing', async () => {
    succeeded(await onB('peer', 'remove', PEER));
    const held = await acceptancesOf(b);
    const run = await onB('circle', 'accept', CIRCLE);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^entente: ENT_PEER_NOT_FOUND: Circle alliance is coordinated by ${a.org}, and no Entente peer of the circle links this node to a coordinator's node: add one \\(entente peer add NAME URL --circle alliance --token-file FILE\\); nothing was recorded$`, 'm'));
    assert.deepEqual(await acceptancesOf(b), held);
  });
});
