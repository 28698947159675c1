/**
 * Two Entente nodes in this process — real HTTP servers on port 0, each with its own SQLite file —
 * linked as docs/federation.md describes: A coordinates a circle with B; B's node mirrors it by
 * adding A as a peer; B pulls what A's release decision allows, resumes from its cursor after a
 * crash, backs off while A is unreachable, and pushes its own objects to A.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprintOf } from '../../src/federation/node-key.ts';
import { recipientForPeer } from '../../src/federation/push-peer.ts';
import { syncPeer, type SyncDeps } from '../../src/federation/sync-peer.ts';
import { openSyncScheduler, type PeerSilentNotice } from '../../src/federation/sync-scheduler.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import type { ObjectStore, StoredEntry } from '../../src/store/object-store.ts';
import { releasesIn } from '../../src/audit/audit-chain.ts';
import { openTaxiiClient } from '../../src/taxii/taxii-client.ts';
import { runEntente, temporaryDirectory } from '../cli/cli-kit.ts';
import { acceptOnCoordinator, acceptThroughLink, entriesOf, formCircleOfTwo, indicator, startTestNode, versionsOf, type TestNode } from './two-node-kit.ts';

const CIRCLE = 'alliance';
const B_SECRET = 'ent_b-node-secret-at-a-000000000000000000000';
const PEER = 'cert-a';

describe('two nodes: circle mirror, pull, cursor resume, backoff, push', () => {
  const dirs = temporaryDirectory('two-nodes');
  let a: TestNode;
  let b: TestNode;
  let syncB: SyncDeps;

  before(async () => {
    a = await startTestNode(join(dirs.path, 'a'), 'CERT A');
    b = await startTestNode(join(dirs.path, 'b'), 'Grid B');
    // A: the circle with B, its terms (indicators up to AMBER), and a token for B's node.
    await formCircleOfTwo(a, b, { circleId: CIRCLE, memberSecret: B_SECRET, endRule: 'retain' });
    // B accepts the terms on A's node, sending its public keys (A pins them: it verifies B's pushes with them).
    await acceptOnCoordinator(a, b, CIRCLE, B_SECRET);
    assert.deepEqual((await a.node.store.listPinnedKeys(b.org)).map((key) => key.source), ['acceptance']);
    // A's intelligence, at every TLP level, one unmarked (the circle's default, AMBER) and one out of scope.
    const objects = [...(['clear', 'green', 'amber', 'amber+strict', 'red'] as const).map((tlp) => indicator(a.org, tlp)), indicator(a.org, undefined), indicator(a.org, 'green', 'malware')];
    await a.node.store.addObjects(CIRCLE, objects);
    syncB = {
      store: b.node.store,
      clock: () => new Date(),
      homeOrganisationId: b.org,
      openClient: openTaxiiClient,
      releaseSigner: b.node.releaseSigner,
      followStatus: { pollMs: 20, deadlineMs: 5000 },
    };
  });

  after(async () => {
    await b?.node.close();
    await a?.node.close();
    dirs.remove();
  });

  /** What A's release decision lets B have of A's collection (decided, not audited). */
  async function releasableToB(): Promise<string[]> {
    const peer = await b.node.store.getPeer(PEER);
    assert.ok(peer !== undefined);
    const gate = await openReleaseGate(a.node.store, { ...recipientForPeer({ ...peer, organisationId: b.org, localCollectionId: CIRCLE }), name: 'test' }, CIRCLE, new Date(), { audit: false });
    const entries = await entriesOf(a.node.store, CIRCLE);
    const allowed: StoredEntry[] = [];
    for (const entry of entries) if ((await gate.decide(entry)).kind !== 'withhold') allowed.push(entry);
    return versionsOf(allowed);
  }

  it("B mirrors the circle from its coordinator when it adds A as a peer, pinning A's key by its fingerprint", async () => {
    const [aKey] = await a.node.store.listNodeKeys();
    assert.ok(aKey !== undefined);
    const tokenFile = join(dirs.path, 'a.token');
    writeFileSync(tokenFile, `${B_SECRET}\n`, { mode: 0o600 });
    const added = await runEntente(['peer', 'add', PEER, `${a.node.url}/taxii2/`, '--circle', CIRCLE, '--token-file', tokenFile, '--push', '--interval', '30s', '--fingerprint', fingerprintOf(aKey.publicKey), '--data', b.dataDir]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Added entente peer "cert-a"/);
    // No acceptance: B's own is recorded only when B's node accepts (A's view saying so is not B's word),
    // and A's proposal binds A here only once B accepted it.
    assert.match(added.stdout, /Mirrored circle alliance from its coordinator: 1 agreement version\(s\), 0 acceptance\(s\)/);
    assert.match(added.stdout, /matches the fingerprint given/);
    assert.doesNotMatch(added.stdout + added.stderr, new RegExp(B_SECRET), 'the token is never printed');

    const circle = await b.node.store.getCircle(CIRCLE);
    assert.deepEqual(circle?.members.map((member) => [member.organisationId, member.role]), [[a.org, 'coordinator'], [b.org, 'contributor']]);
    assert.equal(circle?.collectionId, CIRCLE);
    assert.deepEqual((await b.node.store.getAgreementState(CIRCLE)).acceptances, []);
    // B's node accepts through the link (B accepted on A's node already: that changes nothing there).
    await acceptThroughLink(b, CIRCLE);
    const state = await b.node.store.getAgreementState(CIRCLE);
    assert.deepEqual(state.agreements.map((agreement) => agreement.version), [1]);
    // B's acceptance, and A's proposal recorded as A's acceptance (a coordinator is bound by what it proposed).
    assert.deepEqual(state.acceptances.map((acceptance) => acceptance.organisationId).sort(), [a.org, b.org].sort());
    assert.deepEqual((await b.node.store.listPinnedKeys(a.org)).map((key) => [key.keyId, key.source]), [[aKey.keyId, 'fingerprint']]);
    const peer = await b.node.store.getPeer(PEER);
    assert.equal(peer?.kind, 'entente');
    assert.equal(peer?.organisationId, a.org);
    assert.equal(peer?.push, true);

    const listed = await runEntente(['peer', 'list', '--json', '--data', b.dataDir]);
    assert.doesNotMatch(listed.stdout, new RegExp(B_SECRET));
    const again = await runEntente(['peer', 'add', PEER, `${a.node.url}/taxii2/`, '--circle', CIRCLE, '--token-file', tokenFile, '--data', b.dataDir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ENT_PEER_EXISTS/);
  });

  it("B holds exactly what A's release decision allows, signed by A, and nothing else", async () => {
    const report = await syncPeer(syncB, PEER);
    assert.equal(report.error, undefined);
    assert.ok(report.mirror !== undefined, 'a sync with the coordinator refreshes the mirror');
    const held = await entriesOf(b.node.store, CIRCLE);
    const allowed = await releasableToB();
    assert.deepEqual(versionsOf(held), allowed);
    const levels = held.map((entry) => (JSON.parse(entry.json) as { name: string }).name.replace(/^Indicator \d+ /, '')).sort();
    assert.deepEqual(levels, ['(amber)', '(clear)', '(green)', '(unmarked)'], 'AMBER+STRICT and RED, and the type out of scope, stay at A');
    assert.equal(report.pull.added, held.length);
    assert.equal(report.pull.quarantined, 0);
    assert.ok(report.pull.pages > 0);
    assert.equal(report.pull.vouchedPages, report.pull.pages, "A signed every page it served B, and B's sample of A's signatures held");
    const provenance = await b.node.store.provenanceOf(held.map((entry) => ({ id: entry.id, version: entry.version })));
    for (const rows of provenance.values()) {
      assert.deepEqual(rows.map((row) => [row.peer, row.signer, row.verification, row.hops]), [[PEER, a.org, 'verified', [a.org]]]);
    }
    // A recorded each release to B in its audit log.
    const audit = await a.node.store.readAudit({ recipientOrganisationId: b.org, circleId: CIRCLE, afterSeq: 0, limit: 100 });
    const released = new Set(audit.flatMap((record) => releasesIn(record.chained.entry)).filter((release) => release.decision !== 'withhold').map((release) => `${release.objectId}|${release.objectModified}`));
    for (const entry of held) assert.ok(released.has(`${entry.id}|${entry.version}`), `A's audit records the release of ${entry.id} ${entry.version} to B`);
    const status = await b.node.store.getPeerState(PEER);
    assert.equal(status.objectsIn, held.length);
    assert.equal(status.consecutiveFailures, 0);
    assert.ok(status.pullCursor !== undefined);
  });

  it('a second sync is idle: nothing new, nothing re-stored', async () => {
    const before = versionsOf(await entriesOf(b.node.store, CIRCLE));
    const report = await syncPeer(syncB, PEER);
    assert.equal(report.error, undefined);
    assert.deepEqual([report.pull.added, report.pull.duplicates, report.pull.quarantined, report.pull.received], [0, 0, 0, 0]);
    assert.deepEqual(versionsOf(await entriesOf(b.node.store, CIRCLE)), before);
  });

  it('resumes from the cursor after a crash between pages: nothing lost, nothing duplicated', async () => {
    await a.node.store.addObjects(CIRCLE, Array.from({ length: 6 }, () => indicator(a.org, 'green')));
    let batches = 0;
    let firstPage = 0;
    const crashing = new Proxy(b.node.store, {
      get(target, property, receiver) {
        if (property === 'applySyncBatch') {
          return async (...args: Parameters<ObjectStore['applySyncBatch']>) => {
            batches += 1;
            if (batches === 2) throw new Error('simulated crash while writing the second page');
            firstPage = args[0].accepted.length;
            return target.applySyncBatch(...args);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const crashed = await syncPeer({ ...syncB, store: crashing, pageSize: 2 }, PEER);
    assert.match(crashed.error?.message ?? '', /simulated crash/);
    assert.ok(firstPage > 0 && firstPage < 6);
    assert.equal(crashed.pull.added, firstPage, 'the first page was written, with its cursor');
    assert.equal((await b.node.store.getPeerState(PEER)).consecutiveFailures, 1);

    const resumed = await syncPeer({ ...syncB, pageSize: 2 }, PEER);
    assert.equal(resumed.error, undefined);
    assert.equal(resumed.pull.added, 6 - firstPage);
    assert.equal(resumed.pull.duplicates, 0, 'the cursor was stored with the first page: it is not fetched again');
    const held = await entriesOf(b.node.store, CIRCLE);
    assert.deepEqual(versionsOf(held), await releasableToB());
    assert.equal(new Set(versionsOf(held)).size, held.length);
    assert.equal((await b.node.store.getPeerState(PEER)).consecutiveFailures, 0);
  });

  it('records a peer that is down, backs off exponentially, raises peer-silent, and recovers', async () => {
    // A port nothing listens on.
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 9));
      });
    });
    let down = true;
    const flaky: SyncDeps = { ...syncB, openClient: (options) => openTaxiiClient(down ? { ...options, url: `http://127.0.0.1:${closedPort}/taxii2/api/` } : options) };
    const start = Date.now();
    let now = start;
    const notices: PeerSilentNotice[] = [];
    const scheduler = openSyncScheduler(
      { store: b.node.store, runCycle: (name, signal) => syncPeer(flaky, name, { signal }), clock: () => new Date(now), random: () => 0.5, onPeerSilent: (notice) => notices.push(notice) },
      { tickMs: 0 },
    );
    const step = async (ms: number): Promise<void> => {
      now += ms;
      await scheduler.tick();
      await scheduler.idle();
    };
    try {
      // The last cycle was moments ago: the first one waits its interval (30 s), then fails.
      await step(0);
      await step(30_000);
      let state = await b.node.store.getPeerState(PEER);
      assert.equal(state.lastError?.code, 'ENT_PEER_UNREACHABLE');
      assert.equal(state.consecutiveFailures, 1);
      assert.equal(scheduler.nextRuns().get(PEER), now + 60_000, 'one failure: twice the interval');
      await step(60_000);
      state = await b.node.store.getPeerState(PEER);
      assert.equal(state.consecutiveFailures, 2);
      assert.equal(scheduler.nextRuns().get(PEER), now + 120_000, 'two failures: four times the interval');
      assert.equal(notices.length, 1, 'three intervals without a success: one peer-silent notice');
      assert.equal(notices[0]?.peer, PEER);
      assert.equal(notices[0]?.lastError?.code, 'ENT_PEER_UNREACHABLE');
      down = false;
      await step(120_000);
      state = await b.node.store.getPeerState(PEER);
      assert.equal(state.consecutiveFailures, 0);
      assert.ok(state.lastSuccessAt !== undefined && Date.parse(state.lastSuccessAt) >= start);
      assert.equal(scheduler.nextRuns().get(PEER), now + 30_000, 'back to the interval');
      assert.equal(notices.length, 1);
    } finally {
      await scheduler.close();
    }
  });

  it("pushes B's own objects to A, follows A's status, and moves the push cursor; nothing A sent comes back", async () => {
    const own = indicator(b.org, 'green');
    await b.node.store.addObjects(CIRCLE, [own]);
    const report = await syncPeer(syncB, PEER);
    assert.equal(report.error, undefined);
    assert.equal(report.push?.pushed, 1);
    assert.equal(report.push?.refused, 0);
    const atA = await a.node.store.latestVersions([own.id]);
    assert.ok(atA.has(own.id), 'A holds what B pushed');
    const provenance = await a.node.store.provenanceOf([{ id: own.id, version: '2026-01-01T00:00:00.000Z' }]);
    assert.deepEqual([...provenance.values()].flat().map((row) => [row.signer, row.verification]), [[b.org, 'verified']]);
    const state = await b.node.store.getPeerState(PEER);
    assert.ok(state.pushCursor !== undefined);
    assert.equal(state.objectsOut, 1);
    const again = await syncPeer(syncB, PEER);
    assert.equal(again.push?.pushed, 0, 'the push cursor moved: nothing is sent twice');
  });
});
