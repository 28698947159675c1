import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isEntenteError } from '../errors/entente-error.ts';
import type { PullCursor } from '../store/federation-store.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { StixObject } from '../stix/types.ts';
import type { CursoredPage, PagesOptions, TaxiiClient } from '../taxii/taxii-client.ts';
import { MAX_PULL_PAGES, NO_PULL, PULL_PAGE_SIZE, pullPeer, type PullDeps } from './pull-peer.ts';
import { HOME, pullWorld } from './pull-test-kit.ts';
import { signObject } from './sign-object.ts';
import { testOrganisation } from './test-support.ts';

const grid = testOrganisation(2);

function indicator(n: number, modified = '2026-02-01T00:00:00.000Z', address = `198.51.100.${n}`): StixObject {
  return signObject(
    {
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      created: '2026-02-01T00:00:00.000Z',
      modified,
      pattern: `[ipv4-addr:value = '${address}']`,
      pattern_type: 'stix',
      valid_from: '2026-02-01T00:00:00Z',
    } as StixObject,
    grid.signer,
  );
}

/** A peer serving fixed pages; it records the cursor each walk starts from. */
function pagedClient(pages: readonly { objects: unknown[]; cursor: PullCursor }[]): TaxiiClient & { starts: (PullCursor | undefined)[] } {
  const starts: (PullCursor | undefined)[] = [];
  const client = {
    starts,
    close() {},
    async *pages(_collectionId: string, options: PagesOptions): AsyncGenerator<CursoredPage, void, undefined> {
      starts.push(options.cursor);
      // Resume after the page whose cursor was stored, as a TAXII server would.
      const from = options.cursor === undefined ? 0 : pages.findIndex((page) => page.cursor.addedAfter === options.cursor?.addedAfter) + 1;
      for (const page of pages.slice(from)) yield { objects: page.objects, more: true, cursor: page.cursor };
    },
  };
  return client as unknown as TaxiiClient & { starts: (PullCursor | undefined)[] };
}

/** A node with one circle (indicators up to AMBER) whose terms Grid accepted, and an Entente peer to Grid's node. */
function world(): Promise<{ store: ObjectStore; deps: PullDeps }> {
  return pullWorld({
    partner: grid,
    partnerName: 'Grid',
    circle: { id: 'wide', name: 'Wide' },
    peer: { name: 'grid', url: 'https://grid.example/taxii2/', remoteCollectionId: 'feed' },
    kind: 'entente',
  });
}

const PAGES = [
  { objects: [indicator(1), indicator(2)], cursor: { addedAfter: '2026-02-01T00:00:00.000001Z', next: 'n1' } },
  { objects: [indicator(3), { type: 'indicator', id: 'broken' }], cursor: { addedAfter: '2026-02-01T00:00:00.000002Z', next: 'n2' } },
  { objects: [indicator(4)], cursor: { addedAfter: '2026-02-01T00:00:00.000003Z' } },
];

describe('pullPeer', () => {
  // Two pulls of one peer at once: `entente sync` beside the running node's own cycle, or two workers
  // (each process only keeps its own cycles apart). They interleave here at the store's awaits.
  it('writes nothing when another pull of the peer moved the cursor after this one read it: no item quarantined twice', async () => {
    const { store, deps } = await world();
    const peer = await store.getPeer('grid');
    assert.ok(peer !== undefined);
    const other = pagedClient(PAGES);
    const racing = {
      close() {},
      async *pages(collectionId: string, options: PagesOptions): AsyncGenerator<CursoredPage, void, undefined> {
        // The other pull runs whole after this one read the cursor and before it writes.
        await pullPeer(deps, peer, other);
        yield* pagedClient(PAGES).pages(collectionId, options);
      },
    } as unknown as TaxiiClient;
    await assert.rejects(pullPeer(deps, peer, racing), (error: unknown) => isEntenteError(error) && error.code === 'ENT_SYNC_BUSY');
    assert.deepEqual((await store.listQuarantine({ limit: 10 })).map((item) => item.objectId), ['broken'], 'the broken object is held once');
    const state = await store.getPeerState('grid');
    assert.deepEqual([state.objectsIn, state.pullCursor], [4, PAGES[2]?.cursor], 'counted and placed once');
  });

  it('stops after maxPages pages, with their cursor stored, and the next pull goes on from there', async () => {
    const { store, deps } = await world();
    const peer = await store.getPeer('grid');
    assert.ok(peer !== undefined);
    const counts = await pullPeer(deps, peer, pagedClient(PAGES), { maxPages: 2 });
    assert.deepEqual(counts, { pages: 2, received: 4, added: 3, duplicates: 0, quarantined: 1, vouchedPages: 0, more: true });
    assert.deepEqual((await store.getPeerState('grid')).pullCursor, PAGES[1]?.cursor);
    const next = pagedClient(PAGES);
    const rest = await pullPeer(deps, peer, next, { maxPages: 2 });
    assert.deepEqual(next.starts, [PAGES[1]?.cursor]);
    assert.deepEqual([rest.pages, rest.added, rest.more], [1, 1, undefined]);
    await store.close();
  });

  it('ends a pull from a peer that never stops saying more at MAX_PULL_PAGES, far beyond an initial sync of millions of objects', async () => {
    // A peer can hand out fresh objects and a fresh next for ever; the cycle must end for the push
    // and the other peers. The cap is per cycle: the next one resumes from the stored cursor.
    assert.ok(MAX_PULL_PAGES * PULL_PAGE_SIZE >= 5_000_000, `${MAX_PULL_PAGES} pages of ${PULL_PAGE_SIZE}`);
    const { store, deps } = await world();
    const peer = await store.getPeer('grid');
    assert.ok(peer !== undefined);
    let served = 0;
    const endless = {
      close() {},
      async *pages(): AsyncGenerator<CursoredPage, void, undefined> {
        for (;;) {
          served += 1;
          yield { objects: [{ type: 'indicator', id: `junk-${served}` }], more: true, cursor: { addedAfter: `2026-02-01T00:00:00.${String(served).padStart(6, '0')}Z` } };
        }
      },
    } as unknown as TaxiiClient;
    const counts = await pullPeer(deps, peer, endless, { maxPages: 30 });
    assert.deepEqual([counts.pages, counts.quarantined, counts.more], [30, 30, true]);
    assert.equal(served, 30, 'no page is asked for beyond the cap');
    assert.deepEqual((await store.getPeerState('grid')).pullCursor, { addedAfter: '2026-02-01T00:00:00.000030Z' });
    await store.close();
  });

  it("stores each page with the peer's cursor after it, and starts the next pull from the stored cursor", async () => {
    const { store, deps } = await world();
    const peer = await store.getPeer('grid');
    assert.ok(peer !== undefined);
    const first = pagedClient(PAGES);
    const counts = await pullPeer(deps, peer, first);
    assert.deepEqual(counts, { pages: 3, received: 5, added: 4, duplicates: 0, quarantined: 1, vouchedPages: 0 });
    assert.deepEqual(first.starts, [undefined]);
    assert.deepEqual((await store.getPeerState('grid')).pullCursor, { addedAfter: '2026-02-01T00:00:00.000003Z' });
    const provenance = await store.provenanceOf([{ id: indicator(1).id, version: '2026-02-01T00:00:00.000Z' }]);
    assert.deepEqual([...provenance.values()].flat().map((row) => [row.peer, row.signer, row.verification, row.hops]), [['grid', grid.id, 'verified', [grid.id]]]);
    assert.deepEqual((await store.listQuarantine({ limit: 10 })).map((item) => [item.objectId, item.reason, item.peer]), [['broken', 'malformed', 'grid']]);

    const second = pagedClient(PAGES);
    assert.deepEqual(await pullPeer(deps, peer, second), NO_PULL);
    assert.deepEqual(second.starts, [{ addedAfter: '2026-02-01T00:00:00.000003Z' }]);
    await store.close();
  });

  it('never moves the cursor past a page that was not written: after a failure the pull resumes at that page', async () => {
    const { store, deps } = await world();
    const peer = await store.getPeer('grid');
    assert.ok(peer !== undefined);
    const failing = failingAtSecondWrite(store);
    // Every page written on its own: the second write fails.
    await assert.rejects(pullPeer({ ...deps, store: failing }, peer, pagedClient(PAGES), { writeObjects: 1 }), /disk full/);
    assert.deepEqual((await store.getPeerState('grid')).pullCursor, PAGES[0]?.cursor);
    assert.equal((await store.latestVersions([indicator(3).id])).size, 0);
    const counts = await pullResumingAt(deps, peer, PAGES[0]?.cursor);
    assert.deepEqual([counts.added, counts.duplicates, counts.quarantined], [2, 0, 1]);
    await store.close();
  });

  it('writes several pages in one transaction with the cursor of the last, deciding each page against the unwritten ones before it', async () => {
    // Across pages of one write: a newer version then an older one (rollback), the same version with
    // other content (conflict), the same version again (duplicate), a new version after a held one.
    const crossPages = [
      { objects: [indicator(1, '2026-02-03T00:00:00.000Z'), indicator(2)], cursor: { addedAfter: '2026-02-01T00:00:00.000001Z', next: 'n1' } },
      { objects: [indicator(1, '2026-02-02T00:00:00.000Z'), indicator(2, '2026-02-01T00:00:00.000Z', '203.0.113.9')], cursor: { addedAfter: '2026-02-01T00:00:00.000002Z', next: 'n2' } },
      { objects: [indicator(2), indicator(1, '2026-02-04T00:00:00.000Z'), indicator(3)], cursor: { addedAfter: '2026-02-01T00:00:00.000003Z' } },
    ];
    const outcomes = [];
    for (const writeObjects of [1, 100]) {
      const { store, deps } = await world();
      const peer = await store.getPeer('grid');
      assert.ok(peer !== undefined);
      let writes = 0;
      const counting = new Proxy(store, {
        get(target, property) {
          if (property === 'applySyncBatch') {
            return async (...args: Parameters<ObjectStore['applySyncBatch']>) => {
              writes += 1;
              return target.applySyncBatch(...args);
            };
          }
          const value: unknown = Reflect.get(target, property);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const counts = await pullPeer({ ...deps, store: counting }, peer, pagedClient(crossPages), { writeObjects });
      assert.equal(writes, writeObjects === 1 ? 3 : 1);
      assert.deepEqual((await store.getPeerState('grid')).pullCursor, crossPages[2]?.cursor);
      const quarantine = (await store.listQuarantine({ limit: 10 })).map((item) => [item.objectId, item.version, item.reason]);
      const versions = [...(await store.storedVersionsOf([indicator(1).id, indicator(2).id, indicator(3).id])).entries()].map(([id, held]) => [id, held.map((version) => version.version)]);
      const stored = await store.latestVersions([indicator(2).id]);
      outcomes.push({ counts, quarantine, versions, address: stored.get(indicator(2).id)?.json.includes('198.51.100.2') });
      await store.close();
    }
    const [eachPage, together] = outcomes;
    assert.deepEqual(together, eachPage);
    assert.deepEqual(together?.counts, { pages: 3, received: 7, added: 4, duplicates: 1, quarantined: 2, vouchedPages: 0 });
    assert.deepEqual(together?.quarantine.sort(), [
      [indicator(1).id, '2026-02-02T00:00:00.000Z', 'rollback'],
      [indicator(2).id, '2026-02-01T00:00:00.000Z', 'content-conflict'],
    ]);
    assert.deepEqual(together?.versions.sort(), [
      [indicator(1).id, ['2026-02-03T00:00:00.000Z', '2026-02-04T00:00:00.000Z']],
      [indicator(2).id, ['2026-02-01T00:00:00.000Z']],
      [indicator(3).id, ['2026-02-01T00:00:00.000Z']],
    ]);
    assert.equal(together?.address, true);
  });

  it('writes the pages decided before a peer failure with their cursor, and resumes after them without losing or repeating an object', async () => {
    const { store, deps } = await world();
    const peer = await store.getPeer('grid');
    assert.ok(peer !== undefined);
    const served = pagedClient(PAGES);
    const failsAtThirdPage = {
      ...served,
      close() {},
      async *pages(collectionId: string, options: PagesOptions): AsyncGenerator<CursoredPage, void, undefined> {
        let n = 0;
        for await (const page of served.pages(collectionId, options)) {
          n += 1;
          if (n === 3) throw new Error('peer went away');
          yield page;
        }
      },
    } as unknown as TaxiiClient;
    await assert.rejects(pullPeer(deps, peer, failsAtThirdPage), /peer went away/);
    assert.deepEqual((await store.getPeerState('grid')).pullCursor, PAGES[1]?.cursor);
    assert.equal((await store.latestVersions([indicator(3).id])).size, 1);
    assert.equal((await store.latestVersions([indicator(4).id])).size, 0);
    const counts = await pullResumingAt(deps, peer, PAGES[1]?.cursor);
    assert.deepEqual([counts.added, counts.duplicates, counts.quarantined], [1, 0, 0]);
    await store.close();
  });

  it('writes nothing of a batch whose transaction fails, and moves the cursor no further than the last write that held', async () => {
    const { store, deps } = await world();
    const peer = await store.getPeer('grid');
    assert.ok(peer !== undefined);
    const failing = failingAtSecondWrite(store);
    // Pages 1 and 2 (4 objects) make the first write; page 3 the second, which fails.
    await assert.rejects(pullPeer({ ...deps, store: failing }, peer, pagedClient(PAGES), { writeObjects: 3 }), /disk full/);
    assert.deepEqual((await store.getPeerState('grid')).pullCursor, PAGES[1]?.cursor);
    assert.equal((await store.latestVersions([indicator(4).id])).size, 0);
    const counts = await pullResumingAt(deps, peer, PAGES[1]?.cursor);
    assert.deepEqual([counts.added, counts.duplicates, counts.quarantined], [1, 0, 0]);
    await store.close();
  });

  it('judges the few held ids of a page of new ones against what the node holds: rollback, and the origin a kept signature names', async () => {
    const { store, deps } = await world();
    const peer = await store.getPeer('grid');
    assert.ok(peer !== undefined);
    // Held: a newer version of indicator 1; of indicator 2 only a signature this node made (its version deleted since).
    await pullPeer(deps, peer, pagedClient([{ objects: [indicator(1, '2026-02-05T00:00:00.000Z')], cursor: { addedAfter: '2026-02-01T00:00:00.000001Z' } }]));
    await store.putSignatures([{ id: indicator(2).id, version: '2026-01-15T00:00:00.000Z', variant: '', extensionJson: '{}', signer: HOME }]);
    const page = [...Array.from({ length: 40 }, (_, n) => indicator(100 + n)), indicator(1), indicator(2)];
    const counts = await pullPeer(deps, peer, pagedClient([{ objects: page, cursor: { addedAfter: '2026-02-01T00:00:00.000009Z' } }]));
    assert.deepEqual([counts.added, counts.quarantined], [40, 2]);
    assert.deepEqual(
      (await store.listQuarantine({ limit: 10 })).map((item) => [item.objectId, item.reason]).sort(),
      [
        [indicator(1).id, 'rollback'],
        [indicator(2).id, 'not-origin'],
      ].sort(),
    );
    await store.close();
  });
});

/** The store, except that its second applySyncBatch (the pull's second write) fails with "disk full". */
function failingAtSecondWrite(store: ObjectStore): ObjectStore {
  let calls = 0;
  return new Proxy(store, {
    get(target, property) {
      if (property === 'applySyncBatch') {
        return async (...args: Parameters<ObjectStore['applySyncBatch']>) => {
          calls += 1;
          if (calls === 2) throw new Error('disk full');
          return target.applySyncBatch(...args);
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A pull over PAGES again, which must start at `cursor` (where the failed pull's last write left it). */
async function pullResumingAt(deps: Parameters<typeof pullPeer>[0], peer: Parameters<typeof pullPeer>[1], cursor: unknown): Promise<Awaited<ReturnType<typeof pullPeer>>> {
  const resumed = pagedClient(PAGES);
  const counts = await pullPeer(deps, peer, resumed);
  assert.deepEqual(resumed.starts, [cursor]);
  return counts;
}
