// Sync under faults, with real node processes (docs/federation.md, "Sync"): a peer that goes down in
// the middle of a multi-page pull; a node killed with SIGKILL while it applies pages; a TAXII server
// that delivers pages duplicated, reordered, truncated and with forged objects; a node whose clock is
// five minutes ahead of, or behind, its coordinator's. Each time: nothing lost, nothing stored twice, what is bad
// quarantined, and the nodes converge once the fault is gone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWorld, forwardedHeaders, listenBetween, passAnswer, readBody, waitFor, type World, type WorldNode } from './federation-world.ts';
import { indicatorTerms } from './two-node-kit.ts';
import { openTaxiiClient } from '../../src/taxii/taxii-client.ts';
import { PULL_PAGE_SIZE, PULL_WRITE_OBJECTS } from '../../src/federation/pull-peer.ts';

const SIGNATURE_EXTENSION = 'extension-definition--014e3473-d4e7-4544-b76b-4fde9209e1b4';
const GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
/** The page size the node pulls with (src/federation/pull-peer.ts). */
const PULL_PAGE = PULL_PAGE_SIZE;
/** The most objects one store write of a pull holds: whole pages, at least PULL_WRITE_OBJECTS. */
const PULL_WRITE = Math.ceil(PULL_WRITE_OBJECTS / PULL_PAGE) * PULL_PAGE;
const FIVE_MINUTES_MS = 5 * 60 * 1000;
/**
 * Objects asked of A for a page the stub adds objects to (duplicates, forgeries): the page it sends
 * then stays within the limit B asked for, as TAXII requires (the client refuses a longer page).
 */
const SHORTENED_PAGE = PULL_PAGE - 100;

const terms = indicatorTerms('retain');

let serial = 0;
/** `count` GREEN indicators with fresh ids, tagged for the circle they are published in. */
function indicators(count: number, tag: string): Record<string, unknown>[] {
  return Array.from({ length: count }, () => {
    serial += 1;
    const n = String(serial).padStart(12, '0');
    return {
      type: 'indicator', spec_version: '2.1', id: `indicator--5f1a7c00-0000-4000-8000-${n}`, created: '2026-11-01T00:00:00.000Z', modified: '2026-11-01T00:00:00.000Z',
      name: `${tag} ${n}`, pattern: `[ipv4-addr:value = '10.${(serial >> 16) & 255}.${(serial >> 8) & 255}.${serial & 255}']`, pattern_type: 'stix', valid_from: '2026-11-01T00:00:00Z',
      object_marking_refs: [GREEN],
    };
  });
}

const sorted = (values: readonly string[]): string[] => [...values].sort();
const duplicatesIn = (values: readonly string[]): string[] => sorted(values).filter((value, index, all) => index > 0 && all[index - 1] === value);

// ---- A TAXII server in front of A that passes everything through but the object pages, which it spoils as told ----
type Fault = 'pass' | 'duplicate-and-reorder' | 'truncate' | 'forge';
interface Envelope {
  objects?: Record<string, unknown>[];
  more?: boolean;
  next?: string;
}
interface Stub {
  readonly url: string;
  /** Object pages asked for so far. */
  pages(): number;
  close(): Promise<void>;
}

/** Copies of genuine objects that must each be quarantined: a changed name under the old signature, one unsigned, one malformed, one signed with a key nobody pinned. */
function forgeries(genuine: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const [first, second, third, fourth] = genuine;
  assert.ok(first !== undefined && second !== undefined && third !== undefined && fourth !== undefined);
  const { extensions: _dropped, ...unsigned } = second;
  const { pattern: _pattern, ...malformed } = third;
  const extensions = fourth['extensions'] as Record<string, Record<string, unknown>>;
  const unknownKey = { ...fourth, extensions: { [SIGNATURE_EXTENSION]: { ...extensions[SIGNATURE_EXTENSION], key_id: 'AAAAAAAAAAAAAAAAAAAAAA' } } };
  return [{ ...first, name: `${String(first['name'])} (changed on the way)` }, unsigned, malformed, unknownKey];
}

async function startStub(target: () => string, plan: (page: number) => Promise<Fault> | Fault): Promise<Stub> {
  let pages = 0;
  let previous: Record<string, unknown>[] = [];
  let origin = '';
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const body = await readBody(request);
      const url = request.url ?? '/';
      const isPage = request.method === 'GET' && /\/collections\/[^/]+\/objects\/(\?|$)/.test(url);
      let fault: Fault = 'pass';
      if (isPage) {
        pages += 1;
        fault = await plan(pages);
      }
      let upstream: Response;
      try {
        const asked = fault === 'duplicate-and-reorder' || fault === 'forge' ? url.replace(/([?&]limit=)\d+/, `$1${SHORTENED_PAGE}`) : url;
        upstream = await fetch(`${target()}${asked}`, { method: request.method ?? 'GET', headers: forwardedHeaders(request), ...(body.length === 0 ? {} : { body }) });
      } catch {
        // The peer behind is down: so is this server, as far as the client can tell.
        response.destroy();
        return;
      }
      let text = (await upstream.text()).split(target()).join(origin);
      if (isPage && upstream.status === 200) {
        const envelope = JSON.parse(text) as Envelope;
        const objects = envelope.objects ?? [];
        if (fault === 'duplicate-and-reorder') {
          // The end of the page before, this page with its start twice over, all in reverse order.
          envelope.objects = [...previous.slice(-50), ...objects, ...objects.slice(0, 50)].reverse();
        } else if (fault === 'forge') {
          envelope.objects = [...forgeries(objects), ...previous.slice(-20), ...objects];
        }
        previous = objects;
        text = JSON.stringify(envelope);
        if (fault === 'truncate') text = text.slice(0, Math.floor(text.length / 2));
      }
      passAnswer(response, upstream, text);
    })().catch(() => response.destroy());
  });
  const listening = await listenBetween(server);
  origin = listening.origin;
  return { url: `${origin}/taxii2/`, pages: () => pages, close: listening.close };
}

describe('sync under faults (real node processes)', () => {
  let world: World;
  let A: WorldNode;
  let B: WorldNode;
  let token = '';
  const circles = ['down', 'crash', 'stub', 'ahead', 'behind'] as const;

  async function describeB(collection: string, peer: string): Promise<string> {
    const status = await B.peerStatus(peer).catch((error: unknown) => String(error));
    const quarantined = await B.cli('quarantine', 'list').catch(() => '');
    return `B holds ${B.storedVersions(collection).length} of ${A.storedVersions(collection).length}; ${peer}: ${JSON.stringify(status)}\n${quarantined}\n${B.output().slice(-2000)}`;
  }

  /** B holds exactly what A holds in the collection: the same id@version pairs, each once. */
  async function convergedOn(collection: string, peer: string, deadlineMs: number): Promise<void> {
    await waitFor(
      `B holds what A holds in ${collection}`,
      async () => {
        const held = B.storedVersions(collection);
        return sorted(held).join() === sorted(A.storedVersions(collection)).join() ? true : undefined;
      },
      { deadlineMs, everyMs: 200, describe: () => describeB(collection, peer) },
    );
    assert.deepEqual(duplicatesIn(B.storedVersions(collection)), []);
  }

  before(async () => {
    world = await createWorld('sync-faults');
    A = await world.node({ name: 'a', orgName: 'CERT Alpha', kind: 'government', country: 'FR' });
    B = await world.node({ name: 'b', orgName: 'Ministry Beta', kind: 'government', country: 'DE' });
    await world.introduce([A, B]);
    const file = join(world.root, 'terms.json');
    writeFileSync(file, JSON.stringify(terms));
    for (const circle of circles) {
      await A.cli('circle', 'create', circle, '--name', `Circle ${circle}`, '--kind', 'tacit', '--default-tlp', 'amber', '--until', '2027-12-31T00:00:00Z', '--from', '2026-11-01T00:00:00Z');
      await A.cli('circle', 'propose', circle, '--terms', file);
      await A.cli('circle', 'invite', circle, '--org', B.organisationId, '--role', 'contributor');
      await A.cli('circle', 'accept', circle, '--org', A.organisationId);
    }
    token = await world.issueToken(A, B, circles.map((circle) => `${circle}:rw`).join(','));
    await A.publish('down', indicators(4 * PULL_PAGE, 'down'));
    await A.publish('crash', indicators(8 * PULL_PAGE, 'crash'));
    await A.publish('stub', indicators(3 * PULL_PAGE, 'stub'));
    await A.start();
    // B's node accepts on A's node (sending its keys, which A pins) before B runs: each test links B to A for its circle itself.
    for (const circle of circles) await world.acceptThroughLink(B, A, circle, token);
    await B.start();
  });

  after(async () => {
    await world?.close();
  });

  it('the peer goes down in the middle of a multi-page pull: after its restart the pull resumes and converges', async () => {
    let killedAt = -1;
    const stub = await startStub(
      () => A.url,
      async (page): Promise<Fault> => {
        // A dies as B asks for the third page.
        if (page === 3) {
          killedAt = B.storedVersions('down').length;
          await A.kill();
        }
        return 'pass';
      },
    );
    try {
      await world.link(B, A, { name: 'a-down', circle: 'down', token, url: stub.url });
      const failed = await waitFor('B notices that A is gone', async () => {
        const status = await B.peerStatus('a-down');
        return status.last_error === null ? undefined : status;
      }, { deadlineMs: 30_000, describe: () => describeB('down', 'a-down') });
      assert.equal(failed.last_error?.code, 'ENT_PEER_UNREACHABLE', JSON.stringify(failed.last_error));
      // B asks for the next page while it decides the one before, and writes several pages at a time:
      // when A died none, one or both of the first two pages were stored; whole pages only, never
      // part of one. The failure then writes the pages B had decided, with their cursor.
      assert.ok(killedAt % PULL_PAGE === 0 && killedAt <= 2 * PULL_PAGE, `whole pages were stored when A died (${killedAt})`);
      assert.equal(B.storedVersions('down').length, 2 * PULL_PAGE, 'the two pages B had received, and nothing more');
      await A.start();
      // The scheduler retries on its own, after its backoff.
      await convergedOn('down', 'a-down', 40_000);
      const recovered = await B.peerStatus('a-down');
      assert.equal(recovered.consecutive_failures, 0);
      assert.equal(recovered.objects_in, 4 * PULL_PAGE, 'every object counted in once');
    } finally {
      await stub.close();
    }
  });

  it('B is killed with SIGKILL while it applies pages: after its restart, 0 lost, 0 duplicated, and the cursor was never ahead of the data', async () => {
    const total = A.storedVersions('crash').length;
    await world.link(B, A, { name: 'a-crash', circle: 'crash', token });
    await waitFor('B has stored part of the collection', async () => {
      const held = B.storedVersions('crash').length;
      return held > 0 ? held : undefined;
    }, { deadlineMs: 30_000, everyMs: 5, describe: () => describeB('crash', 'a-crash') });
    await B.kill();
    const held = B.storedVersions('crash');
    assert.ok(held.length < total, `the kill came before the end of the pull (${held.length} of ${total})`);
    assert.deepEqual(duplicatesIn(held), []);

    // Whatever the kill interrupted, the cursor B kept plus what A serves after it covers everything: no gap.
    const status = await B.peerStatus('a-crash');
    const cursor = status.pull_cursor;
    const client = openTaxiiClient({ url: A.discoveryUrl, token });
    const after = new Set<string>();
    try {
      for await (const page of client.pages('crash', {
        limit: PULL_PAGE,
        ...(cursor === null ? {} : { cursor: { ...(cursor.added_after === null ? {} : { addedAfter: cursor.added_after }), ...(cursor.next === null ? {} : { next: cursor.next }) } }),
      })) {
        for (const object of page.objects as { id: string; modified: string }[]) after.add(`${object.id}@${object.modified}`);
      }
    } finally {
      client.close();
    }
    const heldSet = new Set(held);
    const missing = A.storedVersions('crash').filter((version) => !heldSet.has(version) && !after.has(version));
    assert.deepEqual(missing, [], 'nothing falls between the data and the cursor');
    const refetched = held.filter((version) => after.has(version)).length;
    assert.ok(refetched <= PULL_WRITE, `at most one write's pages are fetched again (${refetched})`);

    await B.start();
    await convergedOn('crash', 'a-crash', 30_000);
    const done = await B.peerStatus('a-crash');
    assert.equal(done.objects_in, total, 'the counters were written with the data: every object counted once');
    assert.equal(done.quarantined, 0);
  });

  it('pages duplicated, reordered, truncated and with forged objects: nothing lost, nothing twice, the forgeries quarantined, convergence once the server behaves', async () => {
    // B syncs with `entente sync` here, one cycle at a time, so that each cycle meets the faults planned for it.
    await B.stop();
    const faults: Fault[] = ['pass', 'duplicate-and-reorder', 'truncate', 'forge'];
    const stub = await startStub(() => A.url, (page) => faults[page - 1] ?? 'pass');
    try {
      await world.link(B, A, { name: 'a-stub', circle: 'stub', token, url: stub.url });
      const first = await B.cliRun(['sync', 'a-stub', '--json']);
      assert.equal(first.code, 1, `the cycle with the truncated page fails\n${first.stdout}${first.stderr}`);
      assert.equal((JSON.parse(first.stdout) as { ok: boolean }).ok, false);
      assert.equal(B.storedVersions('stub').length, PULL_PAGE + SHORTENED_PAGE, 'the two pages before the truncated one are stored, once');
      assert.equal((await B.peerStatus('a-stub')).last_error?.code, 'ENT_PEER_BAD_RESPONSE');

      await B.cli('sync', 'a-stub');
      await A.publish('stub', indicators(200, 'stub, later'));
      await B.cli('sync', 'a-stub');
      // The second cycle needs two pages: its first (forged) page brought fewer of A's objects.
      assert.equal(stub.pages(), 6);

      assert.deepEqual(sorted(B.storedVersions('stub')), sorted(A.storedVersions('stub')));
      assert.deepEqual(duplicatesIn(B.storedVersions('stub')), []);
      const quarantined = (await B.cli('quarantine', 'list', '--peer', 'a-stub', '--json')).trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { reason: string });
      assert.deepEqual(quarantined.map((item) => item.reason).sort(), ['bad-signature', 'malformed', 'unknown-key', 'unsigned']);
      const status = await B.peerStatus('a-stub');
      assert.equal(status.consecutive_failures, 0);
      assert.ok(Date.parse(status.last_success_at ?? '') > Date.parse(status.last_error?.at ?? ''), 'the last cycle succeeded after the failed one');
      assert.equal(status.objects_in, 3 * PULL_PAGE + 200);
      assert.equal(status.quarantined, 4);
    } finally {
      await stub.close();
    }
  });

  for (const [circle, offsetMs] of [['ahead', FIVE_MINUTES_MS], ['behind', -FIVE_MINUTES_MS]] as const) {
    it(`a node whose clock is five minutes ${circle === 'ahead' ? 'ahead of' : 'behind'} its coordinator's mirrors the circle, pulls, pushes and converges`, async () => {
      await B.stop();
      B.env = { ENTENTE_CLOCK_OFFSET_MS: String(offsetMs) };
      await B.start();
      const health = (await B.request('/healthz')).body as { time: string };
      assert.ok(Math.abs(Date.parse(health.time) - Date.now() - offsetMs) < 60_000, `B's clock is five minutes ${circle}: it says ${health.time}`);
      await A.publish(circle, indicators(60, `${circle}, from A`));
      await world.link(B, A, { name: `a-${circle}`, circle, token, push: true });
      await B.publish(circle, indicators(20, `${circle}, from B`));
      await waitFor(`A and B hold the same in ${circle}`, async () => {
        const onA = sorted(A.storedVersions(circle));
        return onA.length === 80 && onA.join() === sorted(B.storedVersions(circle)).join() ? true : undefined;
      }, { deadlineMs: 25_000, everyMs: 200, describe: () => describeB(circle, `a-${circle}`) });
      const status = await B.peerStatus(`a-${circle}`);
      assert.equal(status.quarantined, 0);
      assert.equal(status.consecutive_failures, 0);
    });
  }
});
