// `npm run bench -- reputation`: what source reputation adds to the alert matcher's start on a node
// holding 100,000 × BENCH_SCALE federated indicators (the generator of the other benches), stored as a
// pull would store them (applySyncBatch, pages of 1,000, signed by two member organisations, each with
// its provenance row), in one SQLite file in a temporary directory.
//   - matcher_start_s: IndicatorLoader.load with the node's reputation sources (the reputation computed
//     first, then every indicator loaded with its source); the baseline is the same load for a node in
//     no federation (no reputation read), and the ratio says what reputation costs.
//   - reputation_s: loadSourceReputation alone (identities, false positives, indicators twice).
//   - source_lookup_us: where one indicator came from, asked a page of 5,000 entries at a time
//     (FederationStore.arrivalsOfEntries); the baseline is how the reputation asked before: provenanceOf
//     keyed by (id, version), then contributionsOf for the versions without provenance.
// Each is the best of BENCH_REPEAT runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BulkMatcher } from '../src/correlate/bulk-matcher.ts';
import { IndicatorLoader } from '../src/correlate/load-indicators.ts';
import { loadSourceReputation, ReputationSources } from '../src/federation/load-source-reputation.ts';
import type { ArrivedObject } from '../src/store/federation-store.ts';
import { versionKey, type StoredEntry } from '../src/store/object-store.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../src/store/sqlite/sqlite-object-store.ts';
import { createRandom, generateIndicator } from './generate-indicators.ts';
import { benchScale, reportFigure } from './report-figure.ts';
import { benchRepeat, log, summarizeRuns } from './run-stats.ts';

const bench = 'reputation';
const collectionId = 'circle';
const memberA = 'identity--0a0a0a0a-0000-4000-8000-00000000000a';
const memberB = 'identity--0b0b0b0b-0000-4000-8000-00000000000b';
const now = new Date('2026-06-01T00:00:00Z');

async function fill(store: SqliteObjectStore, count: number): Promise<void> {
  await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', id: 'identity--0c0c0c0c-0000-4000-8000-00000000000c' }));
  await store.createCollection({ id: collectionId, title: 'Circle' }, now);
  await store.addPeer({
    name: 'member-b', url: 'https://b.example/taxii2/', apiRootUrl: 'https://b.example/api/', token: 'bench', circleId: 'bench', localCollectionId: collectionId,
    remoteCollectionId: 'bench', organisationId: memberB, kind: 'entente', push: false, intervalSeconds: 300, silentAfter: 3, createdAt: now.toISOString(),
  });
  const random = createRandom(4_242_007);
  for (let start = 0; start < count; start += 1000) {
    const accepted: ArrivedObject[] = [];
    for (let index = start; index < Math.min(count, start + 1000); index += 1) {
      const signer = index % 3 === 0 ? memberB : memberA;
      accepted.push({ object: generateIndicator(index, random), signer, keyId: 'AbCdEfGhIjKlMnOpQrStUv', verification: 'verified', hops: signer === memberB ? [memberB] : [memberA, memberB] });
    }
    await store.applySyncBatch({
      collectionId, peer: 'member-b', circleId: 'bench', source: 'pull', contributorOrganisationId: memberB, accepted, quarantined: [],
      receivedAt: new Date(now.getTime() + start).toISOString(),
    });
  }
}

async function seconds(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return (performance.now() - started) / 1000;
}

/** Microseconds per entry to learn where every indicator came from, a page at a time. */
async function lookupMicros(store: SqliteObjectStore, lookup: (page: readonly StoredEntry[]) => Promise<unknown>): Promise<number> {
  let spent = 0;
  let entries = 0;
  for (let after: number | undefined; ; ) {
    const page = await store.listEntries(collectionId, { types: ['indicator'], versions: [{ kind: 'last' }] }, { limit: 5000, ...(after === undefined ? {} : { after }) });
    const started = performance.now();
    await lookup(page.entries);
    spent += performance.now() - started;
    entries += page.entries.length;
    const last = page.entries[page.entries.length - 1];
    if (!page.more || last === undefined) break;
    after = last.dateAdded;
  }
  return (spent * 1000) / Math.max(1, entries);
}

export async function runReputationBench(): Promise<void> {
  const count = Math.max(1000, Math.round(100_000 * benchScale()));
  const dir = mkdtempSync(join(tmpdir(), 'entente-bench-reputation-'));
  const store = openSqliteObjectStore({ path: join(dir, 'entente.db') });
  try {
    log(`storing ${count} federated indicators through applySyncBatch…`);
    log(`stored in ${(await seconds(() => fill(store, count))).toFixed(1)} s`);
    const plainStore = { listEntries: store.listEntries.bind(store) };
    const runs = { start: [] as number[], plain: [] as number[], reputation: [] as number[], lookup: [] as number[], oldLookup: [] as number[] };
    for (let run = 0; run < benchRepeat(); run += 1) {
      // A store that shows no provenance: the loader reads no reputation (a node in no federation).
      runs.plain.push(await seconds(() => new IndicatorLoader(plainStore, [collectionId], new BulkMatcher()).load({ now })));
      runs.start.push(await seconds(() => new IndicatorLoader(store, [collectionId], new BulkMatcher(), new ReputationSources(store)).load({ now })));
      runs.reputation.push(await seconds(() => loadSourceReputation(store, { now })));
      runs.lookup.push(await lookupMicros(store, (page) => store.arrivalsOfEntries(collectionId, page.map((entry) => entry.dateAdded))));
      runs.oldLookup.push(
        await lookupMicros(store, async (page) => {
          // As the reputation asked before arrivalsOfEntries: provenance, then contributors of the versions without any.
          const provenance = await store.provenanceOf(page);
          const rest = page.filter((entry) => (provenance.get(versionKey(entry.id, entry.version)) ?? []).length === 0);
          if (rest.length > 0) await store.contributionsOf(rest);
        }),
      );
    }
    const start = summarizeRuns(runs.start, 'lower');
    const plain = summarizeRuns(runs.plain, 'lower');
    const lookup = summarizeRuns(runs.lookup, 'lower');
    const oldLookup = summarizeRuns(runs.oldLookup, 'lower');
    const note = `${count} indicators received from two members, one collection, SQLite file`;
    reportFigure({ bench, metric: 'matcher_start_s', value: start.best, unit: 's', ratio: start.best / plain.best, baseline: `without reputation ${plain.best.toFixed(2)} s (${plain.text})`, note: `${note}; ${start.text}` });
    reportFigure({ bench, metric: 'reputation_s', value: summarizeRuns(runs.reputation, 'lower').best, unit: 's', note: summarizeRuns(runs.reputation, 'lower').text });
    reportFigure({
      bench, metric: 'source_lookup_us', value: lookup.best, unit: 'µs/indicator', ratio: lookup.best / oldLookup.best,
      baseline: `provenanceOf + contributionsOf ${oldLookup.best.toFixed(1)} µs (${oldLookup.text})`, note: `pages of 5,000 entries; ${lookup.text}`,
    });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
