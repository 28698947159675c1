// `npm run bench -- alerts`: alert delivery latency in the running node. A node (SQLite file store,
// 100,000 equality indicators, BENCH_SCALE scales them) serves POST /api/observations and
// /api/alerts/stream on a real port; background clients post batches of non-hitting observations
// (~225-byte JSON lines) without pause while a probe posts one hitting observation at a time and
// times it from the start of its POST to its `event: alert` at an SSE subscriber. The clients share
// the node's process (and its two cores), so the figure includes their cost too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createHttpApp } from '../src/server/create-http-app.ts';
import { hashTokenSecret } from '../src/policy/token-secret.ts';
import { openSqliteObjectStore } from '../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../src/stix/types.ts';
import type { AlertJson } from '../src/correlate/alert-bus.ts';
import { connectSse } from '../test/alerts/alert-test-kit.ts';
import { benchScale, percentile, reportFigure } from './report-figure.ts';
import { log } from './run-stats.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const SECRET = 'ent_bench-alerts-secret-00000000000000000000';

function ipOf(n: number): string {
  return `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function indicatorOf(n: number): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${randomUUID()}`,
    created: '2026-11-01T00:00:00.000Z',
    modified: '2026-11-01T00:00:00.000Z',
    pattern: `[ipv4-addr:value = '${ipOf(n)}']`,
    pattern_type: 'stix',
    valid_from: '2026-11-01T00:00:00Z',
    confidence: 80,
  } as StixObject;
}

/** A ~225-byte JSON line that hits nothing (192.168/16 is not indicated). */
function backgroundLine(n: number): string {
  return JSON.stringify({
    type: 'observed-data',
    first_observed: '2026-11-23T01:00:00.000Z',
    last_observed: '2026-11-23T01:00:00.000Z',
    number_observed: 1,
    objects: { '0': { type: 'ipv4-addr', value: `192.168.${(n >>> 8) & 255}.${n & 255}` }, '1': { type: 'domain-name', value: `host-${n % 100000}.example.net` } },
  });
}

/** What one measurement of alert delivery found. */
export interface AlertDelivery {
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Of the hitting observations, what the note says about them and their background. */
  readonly note: string;
  readonly backgroundObsPerS: number;
}

/** Alert delivery latency under background load, as `npm run bench -- alerts` and `match` report it. */
export async function measureAlertDelivery(): Promise<AlertDelivery> {
  const scale = benchScale();
  const indicatorCount = Math.max(1000, Math.round(100_000 * scale));
  const probes = Math.max(100, Math.round(1000 * scale));
  const dir = mkdtempSync(join(tmpdir(), 'entente-alerts-bench-'));
  const store = openSqliteObjectStore({ path: join(dir, 'store.sqlite') });
  const collection = await store.createCollection({ id: randomUUID(), title: 'bench', alias: 'default' }, new Date());
  await store.setMeta('default_collection', collection.id);
  for (let start = 0; start < indicatorCount; start += 5000) {
    const batch: StixObject[] = [];
    for (let n = start; n < Math.min(indicatorCount, start + 5000); n++) batch.push(indicatorOf(n));
    await store.addObjects(collection.id, batch);
  }
  await store.createToken({ name: 'bench', secretHash: hashTokenSecret(SECRET), admin: true, grants: [], organisationId: undefined, createdAt: new Date().toISOString(), revokedAt: undefined });
  const compileStart = performance.now();
  const app = await createHttpApp({
    store,
    logger: pino({ level: 'warn' }),
    limits: { maxBodyBytes: 64 * 1024 * 1024, maxJsonDepth: 64 },
    clock: () => new Date(),
    randomUuid: randomUUID,
    homeOrganisationId: HOME,
    node: { title: 'bench', apiRootPath: 'api' },
  });
  log(`${indicatorCount} indicators compiled in ${((performance.now() - compileStart) / 1000).toFixed(1)} s`);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const headers = { authorization: `Bearer ${SECRET}` };
  const subscriber = await connectSse(`${base}/api/alerts/stream`, headers);

  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const arrived = new Map<string, () => void>();
  subscriber.onEvent = (event) => {
    if (event.event !== 'alert') return;
    const value = (JSON.parse(event.data) as AlertJson).observable.value;
    const started = sentAt.get(value);
    if (started === undefined) return;
    latencies.push(performance.now() - started);
    arrived.get(value)?.();
  };

  const post = async (body: string): Promise<void> => {
    const response = await fetch(`${base}/api/observations`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-ndjson' }, body });
    if (response.status !== 200) throw new Error(`POST /api/observations: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };

  // Background load: two clients posting batches of 1,000 lines back to back.
  let running = true;
  let background = 0;
  const batchLines = 1000;
  const loaders = [0, 1].map(async (client) => {
    let n = client * 1_000_000;
    while (running) {
      const lines: string[] = [];
      for (let i = 0; i < batchLines; i++) lines.push(backgroundLine(n++));
      await post(lines.join('\n'));
      background += batchLines;
    }
  });

  await new Promise((r) => setTimeout(r, 500));
  const loadStart = performance.now();
  const backgroundAtStart = background;
  let timeouts = 0;
  for (let i = 0; i < probes; i++) {
    const value = ipOf((i * 7919) % indicatorCount);
    const seen = new Promise<void>((resolve) => arrived.set(value, resolve));
    sentAt.set(value, performance.now());
    await post(JSON.stringify({ type: 'ipv4-addr', value }));
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000));
    if ((await Promise.race([seen, timer])) === 'timeout') timeouts++;
    arrived.delete(value);
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - loadStart) / 1000;
  const backgroundRate = (background - backgroundAtStart) / seconds;
  running = false;
  await Promise.all(loaders);
  subscriber.close();
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  const sorted = [...latencies].sort((a, b) => a - b);
  const note = `${latencies.length} hitting observations (${timeouts} not delivered within 5 s), each a new alert, under ${Math.round(backgroundRate)} background observations/s (2 clients, ${batchLines}-line batches, same process); ${indicatorCount} equality indicators; p50 ${percentile(sorted, 50).toFixed(2)} ms, max ${(sorted[sorted.length - 1] ?? Number.NaN).toFixed(2)} ms; from the start of the POST to the event at the subscriber (the sighting is stored when the batch ends)`;
  return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), note, backgroundObsPerS: backgroundRate };
}

export async function runAlertsBench(): Promise<void> {
  const delivery = await measureAlertDelivery();
  reportFigure({ bench: 'alerts', metric: 'alert_p99_ms', value: delivery.p99Ms, unit: 'ms', target: '<= 50', note: delivery.note });
  reportFigure({ bench: 'alerts', metric: 'alert_p50_ms', value: delivery.p50Ms, unit: 'ms' });
  reportFigure({ bench: 'alerts', metric: 'alerts_background_obs_per_s', value: delivery.backgroundObsPerS, unit: 'observations/s', note: 'POST /api/observations throughput while alerts were timed' });
}

if (import.meta.url === `file://${process.argv[1]}`) await runAlertsBench();
