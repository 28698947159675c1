/**
 * `npm run bench -- sync`: federation between three real nodes (`entente start`, each its own process
 * and SQLite file). Node A holds 1,000,000 × BENCH_SCALE indicators in a circle with B and C; B and C
 * start empty and link to A (`entente peer add`, every 500 ms — the product's shortest interval).
 * A's versions are signed ahead of release when the dataset is built, as the running node does
 * while idle (federation/presign-originated.ts): the figures are those of a node in its steady state.
 *
 * - initial_sync_s: from starting B and C until both hold every object. A signs every page it serves
 *   them (docs/federation.md, "Page vouching"), so B and C verify one signature a page, plus a sample,
 *   instead of one an object. The note gives each node's CPU seconds during it (from /proc), which say
 *   what the sync costs better than wall time when other work shares the cores.
 * - propagation_p99_ms: A gets one new object a second (TAXII POST) for max(20, 60 × BENCH_SCALE) s;
 *   time from the POST's answer until the object is stored on B, and on C.
 * - idle_cycle_ms: one sync cycle with nothing new (POST /api/peers/a/sync on B), median of 20.
 * - flash_p99_ms: A sends a flash to the circle (POST /api/flash); time until its answer, which comes
 *   once B's and C's signed receipts are verified.
 * - baseline: this machine's raw Ed25519 verification rate on one core (crypto.verify with a
 *   prepared key), and what verifying N objects twice (B and C) one by one would take on one core —
 *   the floor of an initial sync before page vouching, and a yardstick for it now: a ratio below 1
 *   means the sync takes less time than per-object verification alone would.
 *
 * A's data directory (and B's and C's, empty, whose keys A has pinned) is built once through the
 * store and cached in <tmp>/entente-bench-cache/sync-<N>-schema<V>/; each run works on a copy.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import canonicalize from 'canonicalize';
import { WorldNode, introduce, issueToken, link, type NodeSpec } from '../test/federation/federation-world.ts';
import { databaseFileName } from '../src/compose.ts';
import { openSqliteObjectStore, SCHEMA_VERSION } from '../src/store/sqlite/sqlite-object-store.ts';
import { createNodeSignerProvider } from '../src/federation/node-signer.ts';
import { OriginatedPresigner } from '../src/federation/presign-originated.ts';
import { createReleaseSigner } from '../src/federation/sign-releases.ts';
import type { StixObject } from '../src/stix/types.ts';
import { createRandom, generateIndicator } from './generate-indicators.ts';
import { benchScale, percentile, reportFigure } from './report-figure.ts';
import { log, median } from './run-stats.ts';

const bench = 'sync';
const circleId = 'bench';
const datasetFormat = 2;
const batchSize = 5000;
const seed = 4_242_001;
const intervalSeconds = 0.5;

// B and C take more flashes from A in an hour than a node would by default (60): the flash figure
// times 200 and more in a row.
const benchFlashLimit = { ENTENTE_FLASH_LIMIT: '10000' };
const specs: Record<'a' | 'b' | 'c', NodeSpec> = {
  a: { name: 'a', orgName: 'Bench CERT A', kind: 'government', country: 'FR' },
  b: { name: 'b', orgName: 'Bench Ministry B', kind: 'government', country: 'DE', env: benchFlashLimit },
  c: { name: 'c', orgName: 'Bench Company C', kind: 'company', country: 'NL', env: benchFlashLimit },
};

interface SyncDataset {
  readonly format: number;
  readonly count: number;
  /** Tokens A issued to B and C (read on the circle's collection). */
  readonly tokenForB: string;
  readonly tokenForC: string;
  /** Tokens B and C issued to A (read on their default collection: the links flashes go through). */
  readonly tokenOfBForA: string;
  readonly tokenOfCForA: string;
  readonly defaultCollectionOfB: string;
  readonly defaultCollectionOfC: string;
}

function isDataset(value: unknown, count: number): value is SyncDataset {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return record['format'] === datasetFormat && record['count'] === count && ['tokenForB', 'tokenForC', 'tokenOfBForA', 'tokenOfCForA', 'defaultCollectionOfB', 'defaultCollectionOfC'].every((key) => typeof record[key] === 'string');
}

async function defaultCollectionOf(node: WorldNode): Promise<string> {
  const collections = JSON.parse(await node.cli('collection', 'list', '--json')) as { id: string; alias?: string }[];
  const found = collections.find((collection) => collection.alias === 'default');
  if (found === undefined) throw new Error(`${node.name} has no default collection`);
  return found.id;
}

/** Builds (once) the three data directories: the circle set up with the CLI, A's objects written straight through the store. */
export async function ensureSyncDataset(count: number): Promise<{ root: string; dataset: SyncDataset }> {
  const root = join(tmpdir(), 'entente-bench-cache', `sync-${count}-schema${SCHEMA_VERSION}`);
  const markerPath = join(root, 'dataset.json');
  if (existsSync(markerPath)) {
    try {
      const stored: unknown = JSON.parse(readFileSync(markerPath, 'utf8'));
      if (isDataset(stored, count)) {
        log(`reusing the cached dataset of ${count} objects in ${root} (delete it to rebuild)`);
        return { root, dataset: stored };
      }
    } catch {
      // Unreadable marker: rebuild below.
    }
  }
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  log(`building the sync dataset of ${count} objects in ${root} (cached for the next run)`);
  const started = performance.now();
  const a = new WorldNode(specs.a, join(root, 'a'));
  const b = new WorldNode(specs.b, join(root, 'b'));
  const c = new WorldNode(specs.c, join(root, 'c'));
  for (const node of [a, b, c]) await node.initialise();
  await introduce([a, b, c]);
  const terms = join(root, 'terms.json');
  writeFileSync(
    terms,
    JSON.stringify({
      scope: { types: ['indicator'] }, highest_tlp: 'amber', onward_sharing: 'none', attribution: 'keep', end_rule: 'retain',
      expectations: { permitted_actions: 'internally-visible-actions', affected_party_notifications: 'may', provider_attribution: 'may' },
    }),
  );
  await a.cli('circle', 'create', circleId, '--name', 'Bench alliance', '--kind', 'tacit', '--default-tlp', 'amber', '--from', '2024-01-01T00:00:00Z', '--until', '2030-12-31T00:00:00Z');
  await a.cli('circle', 'propose', circleId, '--terms', terms);
  for (const member of [b, c]) {
    await a.cli('circle', 'invite', circleId, '--org', member.organisationId, '--role', 'contributor');
    // The members' acceptances and keys, as their own POST /api/circles/bench/accept would record them.
    await a.cli('circle', 'accept', circleId, '--org', member.organisationId);
    const keys = JSON.parse(await member.cli('key', 'show', '--json')) as { keys: { public_key: string }[] };
    for (const key of keys.keys) await a.cli('key', 'pin', member.organisationId, '--public-key', key.public_key);
  }
  await a.cli('circle', 'accept', circleId, '--org', a.organisationId);
  const defaultCollectionOfB = await defaultCollectionOf(b);
  const defaultCollectionOfC = await defaultCollectionOf(c);
  const dataset: SyncDataset = {
    format: datasetFormat,
    count,
    tokenForB: await issueToken(a, b, `${circleId}:r`),
    tokenForC: await issueToken(a, c, `${circleId}:r`),
    tokenOfBForA: await issueToken(b, a, `${defaultCollectionOfB}:r`),
    tokenOfCForA: await issueToken(c, a, `${defaultCollectionOfC}:r`),
    defaultCollectionOfB,
    defaultCollectionOfC,
  };

  const store = openSqliteObjectStore({ path: join(a.dataDir, databaseFileName) });
  try {
    const random = createRandom(seed);
    for (let start = 0; start < count; start += batchSize) {
      const batch: StixObject[] = [];
      for (let index = start; index < Math.min(count, start + batchSize); index += 1) batch.push(generateIndicator(index, random));
      const outcomes = await store.addObjects(circleId, batch);
      const refused = outcomes.find((outcome) => outcome.kind !== 'added');
      if (refused !== undefined) throw new Error(`dataset build: object ${refused.id} was ${refused.kind}`);
      if ((start / batchSize) % 40 === 39) log(`  ${start + batch.length} / ${count}`);
    }
    // Signed ahead of release, as the running node does while idle.
    const keys = createNodeSignerProvider({ store, organisationId: a.organisationId, clock: () => new Date() });
    const presigner = new OriginatedPresigner(store, createReleaseSigner({ store, keys, homeOrganisationId: a.organisationId }), { pageSize: 2000 });
    const signingStarted = performance.now();
    const signed = await presigner.runOnce();
    log(`  signed ${signed} versions ahead of release in ${((performance.now() - signingStarted) / 1000).toFixed(1)} s`);
    store.database.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    await store.close();
  }
  writeFileSync(markerPath, JSON.stringify(dataset), { mode: 0o600 });
  log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { root, dataset };
}

/** Raw Ed25519 verifications per second on one core, over the signed bytes of a typical indicator. */
function ed25519VerifyRate(): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const indicator = generateIndicator(0, createRandom(1));
  const message = Buffer.from(`ENTENTE-STIX-SIGNATURE-V1\n${canonicalize(indicator) ?? ''}`, 'utf8');
  const signature = sign(null, message, privateKey);
  for (let i = 0; i < 2000; i += 1) verify(null, message, publicKey, signature);
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < 2000) {
    for (let i = 0; i < 200; i += 1) if (!verify(null, message, publicKey, signature)) throw new Error('baseline signature does not verify');
    done += 200;
  }
  return done / ((performance.now() - started) / 1000);
}

/** Reads a node's SQLite file (read-only) while it runs: how much of the circle it holds, and whether it holds an id. */
function openReader(node: WorldNode): { count(): number; holds(id: string): boolean; close(): void } {
  const database = new Database(join(node.dataDir, databaseFileName), { readonly: true, fileMustExist: true });
  const count = database.prepare('SELECT count(*) FROM entries e JOIN collections c ON c.key = e.collection_key WHERE c.id = ?').pluck();
  const holds = database.prepare('SELECT 1 FROM object_versions WHERE object_id = ? LIMIT 1').pluck();
  return {
    count: () => count.get(circleId) as number,
    holds: (id) => holds.get(id) !== undefined,
    close: () => database.close(),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) a node process has used so far, from /proc; undefined where there is
 * none. On a machine shared with other work, CPU time says what the sync costs better than wall time.
 */
function cpuSecondsOf(node: WorldNode): number | undefined {
  const pid = node.pid;
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state (field 3); utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return undefined;
  }
}

/**
 * Page faults a node process has taken so far (minflt, field 10 of /proc/PID/stat): on the bench
 * machine each fault of fresh memory costs ~15 µs, so they say how much of the CPU time is memory.
 */
function pageFaultsOf(node: WorldNode): number | undefined {
  const pid = node.pid;
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
  } catch {
    return undefined;
  }
}

function cpuNote(before: Partial<Record<'a' | 'b' | 'c', number | undefined>>, nodes: Record<'a' | 'b' | 'c', WorldNode>): string {
  const parts: string[] = [];
  const faults: string[] = [];
  for (const name of ['a', 'b', 'c'] as const) {
    // B and C start with the sync: their whole CPU time counts, start-up included.
    const start = before[name] ?? 0;
    const now = cpuSecondsOf(nodes[name]);
    if (now !== undefined) parts.push(`${name.toUpperCase()} ${(now - start).toFixed(1)}`);
    const taken = pageFaultsOf(nodes[name]);
    if (taken !== undefined) faults.push(`${name.toUpperCase()} ${taken}`);
  }
  return (parts.length === 0 ? '' : `; CPU s during it: ${parts.join(', ')}`) + (faults.length === 0 ? '' : `; page faults since start: ${faults.join(', ')}`);
}

export async function runSyncBench(): Promise<void> {
  const scale = benchScale();
  const count = Math.round(1_000_000 * scale);
  const { root, dataset } = await ensureSyncDataset(count);
  const work = mkdtempSync(join(tmpdir(), 'entente-sync-bench-'));
  for (const name of ['a', 'b', 'c']) cpSync(join(root, name), join(work, name), { recursive: true });
  const a = new WorldNode(specs.a, join(work, 'a'));
  const b = new WorldNode(specs.b, join(work, 'b'));
  const c = new WorldNode(specs.c, join(work, 'c'));
  const load = `load average ${loadavg().map((value) => value.toFixed(2)).join(' ')} at the start`;
  try {
    for (const node of [a, b, c]) await node.initialise();

    const verifyRate = ed25519VerifyRate();
    const perObjectVerifySeconds = (2 * count) / verifyRate;
    reportFigure({ bench, metric: 'ed25519_verify_per_s', value: verifyRate, unit: 'verifications/s', note: 'crypto.verify on one core, prepared public key, ~450-byte indicator' });

    await a.start();
    await link(b, a, { name: 'a', circle: circleId, token: dataset.tokenForB, intervalSeconds });
    await link(c, a, { name: 'a', circle: circleId, token: dataset.tokenForC, intervalSeconds });
    // Each member's own node accepts through its link: it takes its organisation's acceptance from no
    // coordinator's view, and without one it would quarantine everything A sends (no-agreement).
    for (const member of [b, c]) await member.cli('circle', 'accept', circleId);

    // Initial sync: B and C start with the links and pull everything.
    const cpuBefore = { a: cpuSecondsOf(a) };
    const started = performance.now();
    await Promise.all([b.start(), c.start()]);
    const readers = { b: openReader(b), c: openReader(c) };
    const doneAt: Partial<Record<'b' | 'c', number>> = {};
    const deadline = started + Math.max(300_000, count * 5);
    while (doneAt.b === undefined || doneAt.c === undefined) {
      if (performance.now() > deadline) throw new Error(`initial sync not done in ${Math.round((deadline - started) / 1000)} s: B ${readers.b.count()}, C ${readers.c.count()} of ${count}`);
      await sleep(250);
      for (const name of ['b', 'c'] as const) if (doneAt[name] === undefined && readers[name].count() >= count) doneAt[name] = performance.now();
    }
    const initialSeconds = (Math.max(doneAt.b, doneAt.c) - started) / 1000;
    reportFigure({
      bench, metric: 'initial_sync_s', value: initialSeconds, unit: 's',
      ratio: initialSeconds / perObjectVerifySeconds,
      baseline: `verifying every object one by one: ${perObjectVerifySeconds.toFixed(2)} s (2 × ${count} verifications at ${Math.round(verifyRate)}/s on one core; pages are vouched instead)`,
      note: `${count} indicators from A to B and C at once (B ${((doneAt.b - started) / 1000).toFixed(1)} s, C ${((doneAt.c - started) / 1000).toFixed(1)} s), process start included${cpuNote(cpuBefore, { a, b, c })}; ${load}`,
    });
    for (const name of ['b', 'c'] as const) {
      if (readers[name].count() !== count) throw new Error(`${name} holds ${readers[name].count()} entries, not ${count}`);
    }

    // Propagation: one new object a second on A; when does each appear on B and on C?
    const seconds = Math.max(20, Math.round(60 * scale));
    const pending = new Map<string, { postedAt: number; left: Set<'b' | 'c'> }>();
    const delays: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling || pending.size > 0) {
        for (const [id, entry] of pending) {
          for (const name of entry.left) {
            if (readers[name].holds(id)) {
              delays.push(performance.now() - entry.postedAt);
              entry.left.delete(name);
            }
          }
          if (entry.left.size === 0) pending.delete(id);
        }
        await sleep(20);
      }
    })();
    const random = createRandom(seed + 1);
    for (let n = 0; n < seconds; n += 1) {
      const tick = performance.now();
      const object = generateIndicator(count + n, random);
      const answer = await a.request(`/taxii2/api/collections/${circleId}/objects/`, {
        body: { objects: [object] },
        accept: 'application/taxii+json;version=2.1',
        contentType: 'application/taxii+json;version=2.1',
      });
      if (answer.status !== 202) throw new Error(`POST to A answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      pending.set(object.id, { postedAt: performance.now(), left: new Set(['b', 'c']) });
      await sleep(Math.max(0, 1000 - (performance.now() - tick)));
    }
    polling = false;
    const propagationDeadline = performance.now() + Math.max(10_000, 6 * intervalSeconds * 1000);
    while (pending.size > 0 && performance.now() < propagationDeadline) await sleep(100);
    if (pending.size > 0) throw new Error(`${pending.size} new objects never reached B or C`);
    await poller;
    delays.sort((x, y) => x - y);
    const propagationNote = `${seconds} objects, one a second, to B and C (${delays.length} arrivals); sync interval ${intervalSeconds} s`;
    reportFigure({ bench, metric: 'propagation_p50_ms', value: percentile(delays, 50), unit: 'ms', note: propagationNote });
    reportFigure({ bench, metric: 'propagation_p99_ms', value: percentile(delays, 99), unit: 'ms', target: `≤ 1000 ms (interval ${intervalSeconds * 1000} ms + one cycle)` });

    // An idle cycle: nothing new on A.
    const cycles: number[] = [];
    while (cycles.length < 20) {
      const before = performance.now();
      const answer = await b.syncNow('a');
      const ms = performance.now() - before;
      if (answer.status === 200) cycles.push(ms);
      else if (answer.status !== 409) throw new Error(`POST /api/peers/a/sync on B answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      else await sleep(50);
    }
    cycles.sort((x, y) => x - y);
    reportFigure({ bench, metric: 'idle_cycle_ms', value: median(cycles), unit: 'ms', note: `median of ${cycles.length} cycles (mirror refresh and one empty page), p99 ${percentile(cycles, 99).toFixed(1)} ms; A holds ${count} objects` });

    // Flash: A links to B's and C's nodes (their default collections, empty) and sends flashes to the circle.
    await link(a, b, { name: 'b', circle: circleId, token: dataset.tokenOfBForA, collection: dataset.defaultCollectionOfB, intervalSeconds: 7 * 86_400 });
    await link(a, c, { name: 'c', circle: circleId, token: dataset.tokenOfCForA, collection: dataset.defaultCollectionOfC, intervalSeconds: 7 * 86_400 });
    const flashes = Math.max(20, Math.round(200 * scale));
    const flashMs: number[] = [];
    for (let n = -5; n < flashes; n += 1) {
      const before = performance.now();
      const answer = await a.request('/api/flash', { body: { circle_id: circleId, text: `Bench flash ${n}` } });
      const ms = performance.now() - before;
      const deliveries = (answer.body as { deliveries?: { outcome: string }[] } | undefined)?.deliveries ?? [];
      if (answer.status !== 201 || deliveries.length !== 2 || deliveries.some((delivery) => delivery.outcome !== 'delivered')) {
        throw new Error(`POST /api/flash answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 500)}`);
      }
      if (n >= 0) flashMs.push(ms);
    }
    flashMs.sort((x, y) => x - y);
    reportFigure({ bench, metric: 'flash_p50_ms', value: percentile(flashMs, 50), unit: 'ms', note: `${flashes} flashes from A, each answered once B's and C's signed receipts were verified` });
    reportFigure({ bench, metric: 'flash_p99_ms', value: percentile(flashMs, 99), unit: 'ms' });
    readers.b.close();
    readers.c.close();
  } finally {
    await Promise.all([a.stop(), b.stop(), c.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}
