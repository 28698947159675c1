/**
 * Push to a `--push` peer (docs/federation.md, "Sync"): "entries of the circle's collection added
 * after the push cursor pass the release gate for the peer's organisation, are POSTed as an
 * envelope, and the status resource is followed until `complete`; the push cursor moves only then.
 * Retrying a POST is idempotent on the receiver (same id and version is a duplicate)."
 *
 * Two Entente nodes in this process (real HTTP servers on port 0): A coordinates a circle with B, B
 * mirrors it and pushes its own indicators to A. Between B's TAXII client and A sits a small HTTP
 * server that passes everything through, except what a test tells it to spoil: it can make A's
 * answer to a POST say `pending` and keep the status pending for a few reads, or let A store an
 * envelope and then drop the connection, so that B never learns that A stored it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushPeer, type PushDeps } from '../../src/federation/push-peer.ts';
import type { PeerRecord } from '../../src/store/federation-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { openTaxiiClient, type TaxiiClient } from '../../src/taxii/taxii-client.ts';
import { runEntente, temporaryDirectory } from '../cli/cli-kit.ts';
import { forwardedHeaders, listenBetween, passAnswer, readBody } from './federation-world.ts';
import { acceptOnCoordinator, acceptThroughLink, entriesOf, formCircleOfTwo, indicator, startTestNode, versionsOf, type TestNode } from './two-node-kit.ts';

const CIRCLE = 'push-alliance';
const B_SECRET = 'ent_b-push-secret-at-a-00000000000000000000';
const PEER = 'cert-a';
const FOLLOW = { pollMs: 10, deadlineMs: 5000 };

/** What the server between B and A does to the next POST of objects and the status reads after it. */
type PostFault =
  | { readonly kind: 'pass' }
  /** A's answer says pending; the next `pendingReads` reads of the status say pending too, then A's own status passes. */
  | { readonly kind: 'pending'; readonly pendingReads: number }
  /** The POST reaches A, which stores the envelope and answers; the answer is dropped (the connection is destroyed). */
  | { readonly kind: 'lose-answer' };

interface Between {
  readonly url: string;
  /** Faults for the coming POSTs of objects, taken one per POST; a POST with none left passes. */
  readonly faults: PostFault[];
  /** The ids of the objects of each POST that reached A, in order. */
  readonly posts: string[][];
  /** B's push cursor as it stood at each status read answered pending. */
  readonly cursorsWhilePending: (number | undefined)[];
  /** Status reads that were passed to A (its own answer). */
  statusReadsPassed: number;
  close(): Promise<void>;
}

/** A status resource rewritten to say that nothing of it is done yet. */
function pendingForm(status: Record<string, unknown>): Record<string, unknown> {
  const all = [...((status['successes'] as unknown[] | undefined) ?? []), ...((status['failures'] as unknown[] | undefined) ?? []), ...((status['pendings'] as unknown[] | undefined) ?? [])];
  return { ...status, status: 'pending', success_count: 0, failure_count: 0, pending_count: status['total_count'], successes: [], failures: [], pendings: all };
}

async function startBetween(target: string, cursorOfB: () => Promise<number | undefined>): Promise<Between> {
  let origin = '';
  let pendingReadsLeft = 0;
  const between: Omit<Between, 'url' | 'close'> = { faults: [], posts: [], cursorsWhilePending: [], statusReadsPassed: 0 };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const body = await readBody(request);
      const url = request.url ?? '/';
      const isPost = request.method === 'POST' && /\/collections\/[^/]+\/objects\/$/.test(url);
      const isStatusRead = request.method === 'GET' && /\/status\/[^/]+\/$/.test(url);
      if (isStatusRead && pendingReadsLeft > 0) {
        pendingReadsLeft -= 1;
        between.cursorsWhilePending.push(await cursorOfB());
        const upstream = await fetch(`${target}${url}`, { headers: forwardedHeaders(request) });
        response.writeHead(200, { 'content-type': upstream.headers.get('content-type') ?? 'application/taxii+json;version=2.1' });
        response.end(JSON.stringify(pendingForm((await upstream.json()) as Record<string, unknown>)));
        return;
      }
      if (isStatusRead) between.statusReadsPassed += 1;
      const fault: PostFault = isPost ? (between.faults.shift() ?? { kind: 'pass' }) : { kind: 'pass' };
      // A new POST ends whatever the one before made the status reads say.
      if (isPost) pendingReadsLeft = 0;
      if (isPost) between.posts.push(((JSON.parse(body.toString('utf8')) as { objects: { id: string }[] }).objects).map((object) => object.id));
      const upstream = await fetch(`${target}${url}`, { method: request.method ?? 'GET', headers: forwardedHeaders(request), ...(body.length === 0 ? {} : { body }) });
      // Read to the end: A has answered, so whatever it stored is stored.
      let text = (await upstream.text()).split(target).join(origin);
      if (fault.kind === 'lose-answer') {
        response.destroy();
        return;
      }
      if (fault.kind === 'pending' && upstream.ok) {
        pendingReadsLeft = fault.pendingReads;
        text = JSON.stringify(pendingForm(JSON.parse(text) as Record<string, unknown>));
      }
      passAnswer(response, upstream, text);
    })().catch(() => response.destroy());
  });
  const listening = await listenBetween(server);
  origin = listening.origin;
  return Object.assign(between, { url: `${origin}/taxii2/`, close: listening.close });
}

describe('push to a peer: status followed to completion, cursor, idempotent retries, refusals', () => {
  const dirs = temporaryDirectory('push-to-peer');
  let a: TestNode;
  let b: TestNode;
  let peer: PeerRecord;
  let between: Between;
  let client: TaxiiClient;
  let deps: PushDeps;

  const cursorOfB = async (): Promise<number | undefined> => (await b.node.store.getPeerState(PEER)).pushCursor;
  /** B's own indicators, new, added to the circle's collection at B: the last one's date_added is where a complete push leaves the cursor. */
  async function publishAtB(count: number): Promise<{ objects: StixObject[]; lastDateAdded: number }> {
    const objects = Array.from({ length: count }, () => indicator(b.org, 'green'));
    await b.node.store.addObjects(CIRCLE, objects);
    const last = (await entriesOf(b.node.store, CIRCLE)).at(-1);
    assert.ok(last !== undefined);
    return { objects, lastDateAdded: last.dateAdded };
  }
  /** Each version of these objects as A's collection holds it (a version held twice would be listed twice). */
  async function heldAtA(objects: readonly StixObject[]): Promise<string[]> {
    const ids = new Set(objects.map((object) => object.id));
    return versionsOf((await entriesOf(a.node.store, CIRCLE)).filter((entry) => ids.has(entry.id)));
  }
  const versionsSent = (objects: readonly StixObject[]): string[] => objects.map((object) => `${object.id}@${object.modified}`).sort();

  before(async () => {
    a = await startTestNode(join(dirs.path, 'a'), 'CERT A');
    b = await startTestNode(join(dirs.path, 'b'), 'Grid B');
    await formCircleOfTwo(a, b, { circleId: CIRCLE, memberSecret: B_SECRET, endRule: 'retain' });
    await acceptOnCoordinator(a, b, CIRCLE, B_SECRET);
    const tokenFile = join(dirs.path, 'a.token');
    writeFileSync(tokenFile, `${B_SECRET}\n`, { mode: 0o600 });
    const added = await runEntente(['peer', 'add', PEER, `${a.node.url}/taxii2/`, '--circle', CIRCLE, '--token-file', tokenFile, '--push', '--data', b.dataDir]);
    assert.equal(added.code, 0, added.stderr);
    // B's node records B's acceptance only when it accepts itself (A's view does not speak for B).
    await acceptThroughLink(b, CIRCLE);
    const record = await b.node.store.getPeer(PEER);
    assert.ok(record !== undefined && record.push);
    peer = record;
    between = await startBetween(a.node.url, cursorOfB);
    client = openTaxiiClient({ url: between.url, token: B_SECRET });
    deps = { store: b.node.store, clock: () => new Date(), releaseSigner: b.node.releaseSigner };
  });

  after(async () => {
    client?.close();
    await between?.close();
    await b?.node.close();
    await a?.node.close();
    dirs.remove();
  });

  it('follows a status that stays pending for a while to completion, and moves the push cursor only once it is complete', async () => {
    const before = await cursorOfB();
    const { objects, lastDateAdded } = await publishAtB(3);
    between.faults.push({ kind: 'pending', pendingReads: 3 });
    const passedBefore = between.statusReadsPassed;

    const counts = await pushPeer(deps, peer, client, { followStatus: FOLLOW });

    assert.deepEqual(between.posts.at(-1)?.sort(), objects.map((object) => object.id).sort(), 'one envelope with the three new indicators');
    assert.deepEqual(between.cursorsWhilePending, [before, before, before], 'while the status said pending, the cursor had not moved');
    assert.equal(between.statusReadsPassed - passedBefore, 1, 'the status was read again until it said complete');
    assert.deepEqual([counts.pushed, counts.refused], [3, 0], "the successes are the complete status's, not the pending answer's");
    assert.equal(await cursorOfB(), lastDateAdded, 'complete: the cursor moved past the entries pushed');
    assert.deepEqual(await heldAtA(objects), versionsSent(objects));
  });

  it('keeps the cursor where it was when the status is still pending at the deadline; the next push sends the envelope again', async () => {
    const before = await cursorOfB();
    const { objects, lastDateAdded } = await publishAtB(2);
    between.faults.push({ kind: 'pending', pendingReads: 1000 });
    await assert.rejects(pushPeer(deps, peer, client, { followStatus: { pollMs: 10, deadlineMs: 100 } }), { code: 'ENT_PEER_TIMEOUT' });
    assert.equal(await cursorOfB(), before, 'not known to be complete: not moved');

    const sentBefore = between.posts.length;
    const retry = await pushPeer(deps, peer, client, { followStatus: FOLLOW });
    assert.deepEqual(between.posts.slice(sentBefore).flat().sort(), objects.map((object) => object.id).sort(), 'the retry sends the same objects');
    assert.equal(retry.pushed, 2, 'what A had stored already counts as a success');
    assert.equal(await cursorOfB(), lastDateAdded);
    assert.deepEqual(await heldAtA(objects), versionsSent(objects));
  });

  it('an answer lost after A stored the envelope: the cursor stays before it, the retry sends it again, A holds each version once', async () => {
    const before = await cursorOfB();
    // Two batches of two: the first completes, A's answer to the second is lost.
    const first = await publishAtB(2);
    const second = await publishAtB(2);
    const secondIds = second.objects.map((object) => object.id).sort();
    const sentBefore = between.posts.length;
    between.faults.push({ kind: 'pass' }, { kind: 'lose-answer' });

    await assert.rejects(pushPeer(deps, peer, client, { batchSize: 2, followStatus: FOLLOW }), { code: 'ENT_PEER_UNREACHABLE' });
    assert.deepEqual(await heldAtA([...first.objects, ...second.objects]), versionsSent([...first.objects, ...second.objects]), 'A stored both envelopes');
    assert.notEqual(first.lastDateAdded, before);
    assert.equal(await cursorOfB(), first.lastDateAdded, 'the cursor moved past the confirmed batch, and not past the one whose answer was lost');

    const retry = await pushPeer(deps, peer, client, { batchSize: 2, followStatus: FOLLOW });
    assert.deepEqual(between.posts.slice(sentBefore).map((ids) => [...ids].sort()), [first.objects.map((object) => object.id).sort(), secondIds, secondIds], 'the retry sent the second envelope again, and only it');
    assert.deepEqual([retry.pushed, retry.refused], [2, 0], 'the versions A held already count as successes');
    assert.equal(await cursorOfB(), second.lastDateAdded);
    // Nothing lost, nothing twice.
    assert.deepEqual(await heldAtA([...first.objects, ...second.objects]), versionsSent([...first.objects, ...second.objects]));
    assert.equal((await a.node.store.listQuarantine({ limit: 100 })).length, 0, 'the repeat is a duplicate, not a conflict');

    const idle = await pushPeer(deps, peer, client, { batchSize: 2, followStatus: FOLLOW });
    assert.deepEqual([idle.examined, idle.pushed], [0, 0], 'the cursor is past everything: nothing is sent again');
  });

  it("reports the versions A refuses with A's reason, and moves the cursor past them: a refusal is not retried", async () => {
    const { objects, lastDateAdded } = await publishAtB(3);
    const [, refusedObject] = objects;
    assert.ok(refusedObject !== undefined);
    // A holds another content under the id and version of the second: A quarantines B's as a content conflict.
    await a.node.store.addObjects(CIRCLE, [{ ...refusedObject, name: 'the same version, other content' } as StixObject]);
    const sentBefore = between.posts.length;

    const counts = await pushPeer(deps, peer, client, { followStatus: FOLLOW });

    assert.equal(between.posts.length - sentBefore, 1);
    assert.deepEqual([counts.examined, counts.pushed, counts.refused], [3, 2, 1]);
    assert.equal(counts.refusals.length, 1);
    assert.equal(counts.refusals[0]?.id, refusedObject.id);
    assert.equal(counts.refusals[0]?.version, refusedObject.modified);
    // A's words name nothing A holds: the reason stays in A's quarantine record.
    assert.match(counts.refusals[0]?.message ?? '', /cannot be stored on this node$/, "A's refusal is reported");
    assert.deepEqual(
      (await a.node.store.listQuarantine({ limit: 100 })).map((item) => [item.objectId, item.reason]),
      [[refusedObject.id, 'content-conflict']],
    );
    assert.equal(await cursorOfB(), lastDateAdded, 'complete, refusals included: the cursor moves past the batch');

    const again = await pushPeer(deps, peer, client, { followStatus: FOLLOW });
    assert.equal(between.posts.length - sentBefore, 1, 'the refused version is not sent again');
    assert.deepEqual([again.examined, again.pushed, again.refused], [0, 0, 0]);
  });
});
