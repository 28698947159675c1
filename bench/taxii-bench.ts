/**
 * `npm run bench -- taxii`: the real node (`entente start`) in its own process, loaded over HTTP from
 * this process with undici (keep-alive, 127.0.0.1 only).
 *
 * - objects_per_s / page_p99_ms: 16 clients, each picks a random added_after inside the collection's
 *   date_added range and follows `next` for 20 pages of limit=100. From wrk when it is installed
 *   (one thread and connection a client; the Lua script follows `next` and counts each page's
 *   objects), and always from undici (objects_node_client_per_s), which checks every page's order,
 *   cursor and headers; the reason for wrk is the same as for small requests, below.
 * - deep_to_first_ratio: median latency of pages in the deepest 1 % ÷ median of the first page,
 *   sequential on one connection.
 * - small_requests_per_s: discovery + status (Bearer token), 32 connections, one request in flight
 *   on each, from wrk (bench/wrk-load.ts) when it is installed; ratio against /healthz measured the
 *   same way in the same run. The load generator shares the two cores with the node, and undici
 *   spends about as much CPU per small request as the node serves it with, so its figure
 *   (small_requests_node_client_per_s, also printed) measures both halves; wrk leaves the cores to
 *   the node, as separate client machines would. Without wrk the undici figure is the one reported,
 *   and its note says so.
 *
 * The dataset (1,000,000 indicators × BENCH_SCALE) is built once through the store and cached.
 * BENCH_WORKERS=N serves with `entente start --workers N`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Client } from 'undici';
import { benchScale, percentile, reportFigure } from './report-figure.ts';
import { startServerChild, type ServerChild } from './child-runner.ts';
import { benchRepeat, log, median, summarizeRuns, type RunSummary } from './run-stats.ts';
import { runWrk, runWrkPaging, wrkVersion, type WrkResult } from './wrk-load.ts';
import { ensureTaxiiDataset, type TaxiiDataset } from './taxii-dataset.ts';
import { createRandom, generateIndicator } from './generate-indicators.ts';
import { formatMicroTimestamp, parseMicroTimestamp } from '../src/stix/micro-timestamp.ts';
import { TAXII_MEDIA_TYPE } from '../src/taxii/taxii-media-types.ts';

const bench = 'taxii';
const pageLimit = 100;
const pagesPerDepth = 20;
const pagingClients = 16;
const smallConnections = 32;

class BenchFailure extends Error {}

interface Response {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly ms: number;
  readonly end: number;
}

async function get(client: Client, path: string, token: string | undefined): Promise<Response> {
  const started = performance.now();
  const headers: Record<string, string> = { accept: TAXII_MEDIA_TYPE };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = await client.request({ path, method: 'GET', headers });
  const text = await response.body.text();
  const end = performance.now();
  return { statusCode: response.statusCode, headers: response.headers, text, ms: end - started, end };
}

function header(response: Response, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function headerMicros(response: Response, name: string): number | undefined {
  const value = header(response, name);
  return value === undefined ? undefined : parseMicroTimestamp(value);
}

interface CheckedPage {
  readonly count: number;
  readonly more: boolean;
  readonly next: string | undefined;
  readonly firstMicros: number | undefined;
  readonly lastMicros: number | undefined;
}

/** Fails the bench loudly unless the response is a valid TAXII envelope page that continues from `after`. */
function checkPage(response: Response, path: string, after: number): CheckedPage {
  const fail = (why: string): never => {
    throw new BenchFailure(`GET ${path}: ${why} (status ${response.statusCode}, body ${response.text.slice(0, 300)})`);
  };
  if (response.statusCode !== 200) fail('expected 200');
  if (header(response, 'content-type') !== TAXII_MEDIA_TYPE) fail(`content-type ${String(header(response, 'content-type'))}`);
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return fail('body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('envelope is not an object');
  const envelope = body as Record<string, unknown>;
  const more = envelope['more'];
  const next = envelope['next'];
  const objects = envelope['objects'] ?? [];
  if (typeof more !== 'boolean') fail('"more" is not a boolean');
  if (!Array.isArray(objects)) return fail('"objects" is not an array');
  if (objects.length > pageLimit) fail(`${objects.length} objects on a page of limit ${pageLimit}`);
  for (const object of objects) {
    if (typeof object !== 'object' || object === null || typeof (object as Record<string, unknown>)['id'] !== 'string') fail('an object has no id');
  }
  if (more === true && (typeof next !== 'string' || next === '')) fail('"more" without "next"');
  // Every object of the collection is shared with the reader, so only the last page may be short.
  if (more === true && objects.length !== pageLimit) fail(`a page with more=true holds ${objects.length} objects, not ${pageLimit}`);
  const firstMicros = headerMicros(response, 'x-taxii-date-added-first');
  const lastMicros = headerMicros(response, 'x-taxii-date-added-last');
  if (objects.length > 0) {
    if (firstMicros === undefined || lastMicros === undefined) fail('X-TAXII-Date-Added-First/Last missing');
    if ((firstMicros ?? 0) <= after) fail(`page starts at ${String(firstMicros)}, not after ${after}: the next chain went backwards`);
    if ((lastMicros ?? 0) < (firstMicros ?? 0)) fail('date_added goes backwards within the page');
  }
  return { count: objects.length, more: more === true, next: typeof next === 'string' ? next : undefined, firstMicros, lastMicros };
}

/**
 * CPU time (user + system), ms, of the server and every live process under it (the workers of
 * `--workers`), from /proc; undefined off Linux.
 */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command; clock ticks of 10 ms on Linux.
    let total = (Number(fields[11]) + Number(fields[12])) * 10;
    for (const child of childPids(pid)) total += processCpuMs(child) ?? 0;
    return total;
  } catch {
    return undefined;
  }
}

function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const listed = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (listed !== '') children.push(...listed.split(' ').map(Number));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return children;
}

function cpuShare(server: ServerChild, work: () => Promise<number>): Promise<{ durationMs: number; serverCpuPct: number | undefined; benchCpuPct: number }> {
  const serverBefore = processCpuMs(server.child.pid);
  const benchBefore = process.cpuUsage();
  const started = performance.now();
  return work().then(() => {
    const durationMs = performance.now() - started;
    const serverAfter = processCpuMs(server.child.pid);
    const benchUsed = process.cpuUsage(benchBefore);
    return {
      durationMs,
      serverCpuPct: serverBefore === undefined || serverAfter === undefined ? undefined : ((serverAfter - serverBefore) / durationMs) * 100,
      benchCpuPct: ((benchUsed.user + benchUsed.system) / 1000 / durationMs) * 100,
    };
  });
}

function describeCpu(cpu: { serverCpuPct: number | undefined; benchCpuPct: number }): string {
  return `server CPU ${cpu.serverCpuPct === undefined ? '?' : cpu.serverCpuPct.toFixed(0)} % of a core, load generator ${cpu.benchCpuPct.toFixed(0)} %`;
}

/** The server's share of a core during a wrk run (which costs this process nothing), and its CPU per unit served. */
function describeServerCpu(serverCpuPct: number | undefined, usPerUnit: number | undefined, unit: 'page' | 'request'): string {
  return `server CPU ${serverCpuPct === undefined ? '?' : serverCpuPct.toFixed(0)} % of a core, server ${usPerUnit === undefined ? '?' : usPerUnit.toFixed(0)} µs CPU a ${unit}`;
}

function openClients(url: string, count: number, pipelining = 1): Client[] {
  return Array.from({ length: count }, () => new Client(url, { pipelining, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 }));
}

async function closeClients(clients: readonly Client[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close()));
}

interface PagingResult {
  objects: number;
  pages: number;
  chains: number;
  latencies: number[];
}

async function pageChains(
  client: Client,
  objectsPath: string,
  token: string,
  range: { first: number; last: number },
  random: () => number,
  deadline: number,
  result: PagingResult | undefined,
): Promise<void> {
  while (performance.now() < deadline) {
    const addedAfter = range.first + Math.floor(random() * (range.last - range.first));
    const base = `${objectsPath}?limit=${pageLimit}&added_after=${encodeURIComponent(formatMicroTimestamp(addedAfter))}`;
    let path = base;
    let after = addedAfter;
    for (let page = 0; page < pagesPerDepth && performance.now() < deadline; page += 1) {
      const response = await get(client, path, token);
      const checked = checkPage(response, path, after);
      if (result !== undefined && response.end <= deadline) {
        result.objects += checked.count;
        result.pages += 1;
        result.latencies.push(response.ms);
      }
      if (!checked.more || checked.next === undefined || checked.lastMicros === undefined) break;
      path = `${base}&next=${encodeURIComponent(checked.next)}`;
      after = checked.lastMicros;
    }
    if (result !== undefined) result.chains += 1;
  }
}

async function measurePaging(
  server: ServerChild,
  objectsPath: string,
  token: string,
  range: { first: number; last: number },
  durationMs: number,
  runIndex: number,
): Promise<PagingResult & { durationMs: number; cpu: string }> {
  const clients = openClients(server.url, pagingClients);
  try {
    const warmDeadline = performance.now() + 2000;
    await Promise.all(clients.map((client, index) => pageChains(client, objectsPath, token, range, createRandom(1000 + index), warmDeadline, undefined)));
    const result: PagingResult = { objects: 0, pages: 0, chains: 0, latencies: [] };
    const cpu = await cpuShare(server, async () => {
      const deadline = performance.now() + durationMs;
      await Promise.all(
        clients.map((client, index) => pageChains(client, objectsPath, token, range, createRandom(runIndex * 100 + index), deadline, result)),
      );
      return 0;
    });
    // Server CPU per page holds when other processes take the cores and the rate does not.
    const perPageUs = cpu.serverCpuPct === undefined || result.pages === 0 ? undefined : ((cpu.serverCpuPct / 100) * cpu.durationMs * 1000) / result.pages;
    return { ...result, durationMs, cpu: `${describeCpu(cpu)}, server ${perPageUs === undefined ? '?' : perPageUs.toFixed(0)} µs CPU a page` };
  } finally {
    await closeClients(clients);
  }
}

/**
 * The same paging as measurePaging, loaded by wrk: one thread and connection per client, chains from
 * random permille positions that leave `pagesPerDepth` full pages after them (so every page counts
 * `pageLimit` objects, which the script checks).
 */
async function measurePagingWithWrk(
  server: ServerChild,
  objectsPath: string,
  dataset: TaxiiDataset,
  durationMs: number,
): Promise<{ rate: number; p99: number; pages: number; chains: number; cpu: string }> {
  const lastStart = 1000 - Math.ceil((pagesPerDepth * pageLimit * 1000) / dataset.count) - 1;
  const startAfters = dataset.permille.slice(0, Math.max(1, lastStart + 1)).map((micros) => formatMicroTimestamp(micros));
  const options = {
    url: server.url,
    objectsPath,
    headers: { Authorization: `Bearer ${dataset.memberToken}`, Accept: TAXII_MEDIA_TYPE },
    startAfters,
    limit: pageLimit,
    pagesPerChain: pagesPerDepth,
    clients: pagingClients,
  };
  await runWrkPaging({ ...options, durationMs: 2000 });
  let result: Awaited<ReturnType<typeof runWrkPaging>> | undefined;
  const cpu = await cpuShare(server, async () => {
    result = await runWrkPaging({ ...options, durationMs });
    return 0;
  });
  if (result === undefined) throw new BenchFailure('wrk paging returned nothing');
  const done = result;
  if (done.non2xx > 0 || done.socketErrors !== undefined || done.brokenPages > 0 || done.pages === 0) {
    throw new BenchFailure(`wrk paging: ${done.non2xx} non-2xx, ${done.brokenPages} broken pages, ${done.socketErrors ?? 'no socket errors'}, ${done.pages} pages`);
  }
  const perPageUs = cpu.serverCpuPct === undefined ? undefined : ((cpu.serverCpuPct / 100) * cpu.durationMs * 1000) / done.pages;
  return {
    rate: done.objects / (cpu.durationMs / 1000),
    p99: done.p99Ms,
    pages: done.pages,
    chains: done.chains,
    cpu: describeServerCpu(cpu.serverCpuPct, perPageUs, 'page'),
  };
}

async function sequentialMedians(client: Client, token: string, firstPath: string, deepPaths: readonly string[], rounds: number, perRound: number): Promise<{ first: number[]; deep: number[] }> {
  const first: number[] = [];
  const deep: number[] = [];
  let deepIndex = 0;
  for (let round = 0; round < rounds; round += 1) {
    for (let index = 0; index < perRound; index += 1) {
      const response = await get(client, firstPath, token);
      if (response.statusCode !== 200) throw new BenchFailure(`GET ${firstPath}: status ${response.statusCode}`);
      first.push(response.ms);
    }
    for (let index = 0; index < perRound; index += 1) {
      const path = deepPaths[deepIndex % deepPaths.length] ?? firstPath;
      deepIndex += 1;
      const response = await get(client, path, token);
      if (response.statusCode !== 200) throw new BenchFailure(`GET ${path}: status ${response.statusCode}`);
      deep.push(response.ms);
    }
  }
  return { first, deep };
}

async function measureDepthRatio(server: ServerChild, objectsPath: string, dataset: TaxiiDataset): Promise<{ ratio: number; firstMedian: number; deepMedian: number }> {
  const client = new Client(server.url, { pipelining: 1, keepAliveTimeout: 60_000 });
  try {
    const first = dataset.permille[0] ?? 0;
    const firstPath = `${objectsPath}?limit=${pageLimit}&added_after=${encodeURIComponent(formatMicroTimestamp(first - 1))}`;
    // Positions 99.0 % … 99.9 % of the collection (the deepest 1 %) that are still followed by a full page.
    const positionOf = (permille: number): number => Math.round((permille * (dataset.count - 1)) / 1000);
    const deepPermilles = Array.from({ length: 10 }, (_, index) => 990 + index).filter((p) => positionOf(p) + pageLimit < dataset.count - 1);
    if (deepPermilles.length === 0) throw new BenchFailure(`${dataset.count} objects is too few for a full page in the deepest 1 %; use a larger BENCH_SCALE`);
    const deepPaths = deepPermilles.map(
      (p) => `${objectsPath}?limit=${pageLimit}&added_after=${encodeURIComponent(formatMicroTimestamp(dataset.permille[p] ?? 0))}`,
    );
    for (const path of [firstPath, ...deepPaths]) {
      const response = await get(client, path, dataset.memberToken);
      const checked = checkPage(response, path, Number.MIN_SAFE_INTEGER);
      if (checked.count !== pageLimit) throw new BenchFailure(`GET ${path}: ${checked.count} objects, expected a full page`);
    }
    await sequentialMedians(client, dataset.memberToken, firstPath, deepPaths, 1, 50);
    const samples = await sequentialMedians(client, dataset.memberToken, firstPath, deepPaths, 10, 50);
    const firstMedian = median(samples.first);
    const deepMedian = median(samples.deep);
    return { ratio: deepMedian / firstMedian, firstMedian, deepMedian };
  } finally {
    await client.close();
  }
}

type SmallTarget = { readonly path: string; readonly token: string | undefined };

/** `pipelining` requests in flight on each of the connections, each lane waiting for its answer before the next. */
async function measureSmall(
  server: ServerChild,
  targets: readonly SmallTarget[],
  durationMs: number,
  pipelining = 1,
): Promise<{ perSecond: number; p99: number; cpu: string }> {
  const clients = openClients(server.url, smallConnections, pipelining);
  try {
    const lanes = clients.flatMap((client, index) => Array.from({ length: pipelining }, (_, lane) => ({ client, index: index * pipelining + lane })));
    const hammer = async (client: Client, index: number, deadline: number, latencies: number[] | undefined): Promise<number> => {
      let done = 0;
      let turn = index;
      while (performance.now() < deadline) {
        const target = targets[turn % targets.length];
        turn += 1;
        if (target === undefined) break;
        const response = await get(client, target.path, target.token);
        if (response.statusCode !== 200) throw new BenchFailure(`GET ${target.path}: status ${response.statusCode}: ${response.text.slice(0, 300)}`);
        if (response.end <= deadline) {
          done += 1;
          latencies?.push(response.ms);
        }
      }
      return done;
    };
    const warm = performance.now() + 1000;
    await Promise.all(lanes.map((lane) => hammer(lane.client, lane.index, warm, undefined)));
    const latencies: number[] = [];
    let total = 0;
    const cpu = await cpuShare(server, async () => {
      const deadline = performance.now() + durationMs;
      const counts = await Promise.all(lanes.map((lane) => hammer(lane.client, lane.index, deadline, latencies)));
      total = counts.reduce((sum, count) => sum + count, 0);
      return total;
    });
    latencies.sort((a, b) => a - b);
    const perSecond = total / (durationMs / 1000);
    // CPU per request holds when other processes take the cores and the rate does not.
    const serverUs = cpu.serverCpuPct === undefined || perSecond === 0 ? undefined : (cpu.serverCpuPct / 100) * (1_000_000 / perSecond);
    return { perSecond, p99: percentile(latencies, 99), cpu: `${describeCpu(cpu)}, server ${serverUs === undefined ? '?' : serverUs.toFixed(0)} µs CPU a request` };
  } finally {
    await closeClients(clients);
  }
}

/** Fails the bench unless each small target answers 200 with the resource it names (wrk only counts status codes). */
async function checkSmallTargets(server: ServerChild, targets: readonly SmallTarget[], statusId: string): Promise<void> {
  const client = new Client(server.url);
  try {
    for (const target of targets) {
      const response = await get(client, target.path, target.token);
      const fail = (why: string): never => {
        throw new BenchFailure(`GET ${target.path}: ${why} (status ${response.statusCode}, body ${response.text.slice(0, 300)})`);
      };
      if (response.statusCode !== 200) fail('expected 200');
      const body = JSON.parse(response.text) as Record<string, unknown>;
      if (target.path.includes('/status/') ? body['id'] !== statusId : !Array.isArray(body['api_roots'])) fail('not the resource asked for');
    }
  } finally {
    await client.close();
  }
}

/** The same measure as measureSmall with wrk as the load generator; any non-2xx answer or socket error fails the bench. */
async function measureSmallWithWrk(server: ServerChild, targets: readonly SmallTarget[], durationMs: number): Promise<{ perSecond: number; p99: number; cpu: string }> {
  const wrkTargets = targets.map((target) => ({
    path: target.path,
    headers: { accept: TAXII_MEDIA_TYPE, ...(target.token === undefined ? {} : { authorization: `Bearer ${target.token}` }) },
  }));
  await runWrk({ url: server.url, targets: wrkTargets, connections: smallConnections, durationMs: 1000 });
  let result: WrkResult | undefined;
  const cpu = await cpuShare(server, async () => {
    result = await runWrk({ url: server.url, targets: wrkTargets, connections: smallConnections, durationMs });
    return result.requests;
  });
  if (result === undefined) throw new BenchFailure('wrk gave no result');
  if (result.non2xx > 0) throw new BenchFailure(`wrk: ${result.non2xx} answers were not 2xx`);
  if (result.socketErrors !== undefined) throw new BenchFailure(`wrk: ${result.socketErrors}`);
  const serverUs = cpu.serverCpuPct === undefined || result.perSecond === 0 ? undefined : (cpu.serverCpuPct / 100) * (1_000_000 / result.perSecond);
  return {
    perSecond: result.perSecond,
    p99: result.p99Ms,
    cpu: describeServerCpu(cpu.serverCpuPct, serverUs, 'request'),
  };
}

async function createStatus(server: ServerChild, dataset: TaxiiDataset): Promise<string> {
  const client = new Client(server.url);
  try {
    const object = generateIndicator(0, createRandom(99));
    const response = await client.request({
      path: `/taxii2/api/collections/${dataset.defaultCollectionId}/objects/`,
      method: 'POST',
      headers: { accept: TAXII_MEDIA_TYPE, 'content-type': TAXII_MEDIA_TYPE, authorization: `Bearer ${dataset.memberToken}` },
      body: JSON.stringify({ objects: [object] }),
    });
    const text = await response.body.text();
    if (response.statusCode !== 202) throw new BenchFailure(`POST objects: status ${response.statusCode}: ${text.slice(0, 300)}`);
    const status = JSON.parse(text) as { id?: unknown };
    if (typeof status.id !== 'string') throw new BenchFailure(`POST objects: no status id in ${text.slice(0, 300)}`);
    return status.id;
  } finally {
    await client.close();
  }
}

/** Reads the collection's date_added range from the server and checks it against the dataset. */
async function readRange(server: ServerChild, objectsPath: string, dataset: TaxiiDataset): Promise<{ first: number; last: number }> {
  const client = new Client(server.url);
  try {
    const firstResponse = await get(client, `${objectsPath}?limit=1`, dataset.memberToken);
    const first = headerMicros(firstResponse, 'x-taxii-date-added-first');
    const expectedLast = dataset.permille[1000];
    if (first === undefined || expectedLast === undefined) throw new BenchFailure(`no X-TAXII-Date-Added-First on the first page (status ${firstResponse.statusCode})`);
    const lastPath = `${objectsPath}?limit=10&added_after=${encodeURIComponent(formatMicroTimestamp(expectedLast - 1))}`;
    const lastResponse = await get(client, lastPath, dataset.memberToken);
    const checked = checkPage(lastResponse, lastPath, expectedLast - 1);
    const last = headerMicros(lastResponse, 'x-taxii-date-added-last');
    if (last === undefined || checked.count !== 1 || checked.more || first !== dataset.permille[0]) {
      throw new BenchFailure(`the served collection does not match the cached dataset (first ${first}, last ${String(last)}); delete the cache`);
    }
    // The admin token (from <data>/admin.token) sees the collection too.
    const admin = await get(client, `/taxii2/api/collections/${dataset.collectionId}/`, dataset.adminToken);
    if (admin.statusCode !== 200) throw new BenchFailure(`admin GET collection: status ${admin.statusCode}`);
    return { first, last };
  } finally {
    await client.close();
  }
}

export async function runTaxiiBench(): Promise<void> {
  const scale = benchScale();
  const repeat = benchRepeat();
  const count = Math.max(2000, Math.round(1_000_000 * scale));
  const dataset = await ensureTaxiiDataset(count);
  // BENCH_WORKERS=2 runs `entente start --workers 2` (one process per core); the CPU figures then
  // add up the primary and its workers.
  const workers = Math.max(1, Number(process.env['BENCH_WORKERS'] ?? 1));
  const server = await startServerChild(dataset.dataDir, { label: 'taxii-server', timeoutMs: 120_000, workers });
  log(`scale ${scale}, ${count} objects, ${repeat} runs per figure, node at ${server.url} (pid ${String(server.child.pid)}, ${workers} worker${workers === 1 ? '' : 's'})`);
  try {
    const objectsPath = `/taxii2/api/collections/${dataset.collectionId}/objects/`;
    const range = await readRange(server, objectsPath, dataset);

    // ---- Paging ----
    const durationMs = Math.max(5000, 20_000 * scale);
    const wrk = wrkVersion();
    const paging: (PagingResult & { durationMs: number; cpu: string; rate: number; p99: number })[] = [];
    for (let run = 0; run < repeat; run += 1) {
      const result = await measurePaging(server, objectsPath, dataset.memberToken, range, durationMs, run);
      const sorted = [...result.latencies].sort((a, b) => a - b);
      const measured = { ...result, rate: result.objects / (durationMs / 1000), p99: percentile(sorted, 99) };
      log(
        `paging run ${run + 1} (undici): ${measured.rate.toFixed(0)} objects/s, ${result.pages} pages in ${result.chains} chains, ` +
          `p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${measured.p99.toFixed(2)} ms; ${result.cpu}`,
      );
      paging.push(measured);
    }
    const pagingViaWrk: { rate: number; p99: number; cpu: string }[] = [];
    if (wrk !== undefined) {
      for (let run = 0; run < repeat; run += 1) {
        const result = await measurePagingWithWrk(server, objectsPath, dataset, durationMs);
        log(`paging run ${run + 1} (wrk): ${result.rate.toFixed(0)} objects/s, ${result.pages} pages in ${result.chains} chains, p99 ${result.p99.toFixed(2)} ms; ${result.cpu}`);
        pagingViaWrk.push(result);
      }
    }
    const pagingWhat = `${count} objects; ${pagingClients} clients, random added_after, ${pagesPerDepth} pages of ${pageLimit} via next, ${(durationMs / 1000).toFixed(0)} s`;
    const undiciRate = summarizeRuns(paging.map((p) => p.rate), 'higher');
    const undiciP99 = summarizeRuns(paging.map((p) => p.p99), 'lower');
    const undiciNote = paging.map((p) => p.cpu).join(' / ');
    const rate = pagingViaWrk.length > 0 ? summarizeRuns(pagingViaWrk.map((p) => p.rate), 'higher') : undiciRate;
    const p99 = pagingViaWrk.length > 0 ? summarizeRuns(pagingViaWrk.map((p) => p.p99), 'lower') : undiciP99;
    const loadFrom =
      wrk === undefined
        ? 'load from undici in this process: wrk is not installed (apt-get install wrk), and this Node load generator takes a core of its own'
        : `load from ${wrk}, one thread and connection a client`;
    reportFigure({
      bench,
      metric: 'objects_per_s',
      value: rate.best,
      unit: 'objects/s',
      target: '>= 150000',
      note: `${pagingWhat}, ${loadFrom}; ${rate.text}; ${pagingViaWrk.length > 0 ? pagingViaWrk.map((p) => p.cpu).join(' / ') : undiciNote}`,
    });
    reportFigure({
      bench,
      metric: 'page_p99_ms',
      value: p99.best,
      unit: 'ms',
      target: '<= 25',
      note: `p99 of every page of the objects_per_s runs (${pagingClients} concurrent), ${loadFrom}; ${p99.text}`,
    });
    if (pagingViaWrk.length > 0) {
      reportFigure({
        bench,
        metric: 'objects_node_client_per_s',
        value: undiciRate.best,
        unit: 'objects/s',
        note: `the same paging from undici in this process (every page's order, cursor and headers checked), which shares the cores with the node; page p99 ${undiciP99.best.toFixed(2)} ms; ${undiciRate.text}; ${undiciNote}`,
      });
    }

    // ---- Depth ----
    const depth: { ratio: number; firstMedian: number; deepMedian: number }[] = [];
    for (let run = 0; run < repeat; run += 1) {
      const result = await measureDepthRatio(server, objectsPath, dataset);
      log(`depth run ${run + 1}: first page median ${result.firstMedian.toFixed(3)} ms, deepest 1 % median ${result.deepMedian.toFixed(3)} ms, ratio ${result.ratio.toFixed(3)}`);
      depth.push(result);
    }
    const ratio = summarizeRuns(depth.map((d) => d.ratio), 'lower');
    const bestDepth = depth.find((d) => d.ratio === ratio.best);
    reportFigure({
      bench,
      metric: 'deep_to_first_ratio',
      value: ratio.best,
      unit: 'ratio',
      baseline: 'first_page_median_ms',
      target: '<= 1.10',
      note: `median page latency in the deepest 1 % (positions 99.0-99.9 %) ÷ first page, ${pageLimit} objects a page, 500 each, sequential on one connection; first ${bestDepth?.firstMedian.toFixed(3) ?? '?'} ms, deep ${bestDepth?.deepMedian.toFixed(3) ?? '?'} ms; ${ratio.text}`,
    });

    // ---- Small requests ----
    const statusId = await createStatus(server, dataset);
    const smallMs = Math.max(4000, 10_000 * Math.min(1, scale));
    const mixed: SmallTarget[] = [
      { path: '/taxii2/', token: dataset.memberToken },
      { path: `/taxii2/api/status/${statusId}/`, token: dataset.memberToken },
    ];
    await checkSmallTargets(server, mixed, statusId);
    const runSmall = async (
      measure: (targets: readonly SmallTarget[]) => Promise<{ perSecond: number; p99: number; cpu: string }>,
      label: string,
    ): Promise<{ small: RunSummary; health: RunSummary; notes: string; healthNotes: string }> => {
      const small: { perSecond: number; p99: number; cpu: string }[] = [];
      const health: { perSecond: number; p99: number; cpu: string }[] = [];
      for (let run = 0; run < repeat; run += 1) {
        const result = await measure(mixed);
        const baseline = await measure([{ path: '/healthz', token: undefined }]);
        log(
          `small run ${run + 1} (${label}): discovery+status ${result.perSecond.toFixed(0)} req/s (p99 ${result.p99.toFixed(2)} ms; ${result.cpu}); ` +
            `healthz ${baseline.perSecond.toFixed(0)} req/s (p99 ${baseline.p99.toFixed(2)} ms; ${baseline.cpu})`,
        );
        small.push(result);
        health.push(baseline);
      }
      return {
        small: summarizeRuns(small.map((s) => s.perSecond), 'higher'),
        health: summarizeRuns(health.map((s) => s.perSecond), 'higher'),
        notes: small.map((s) => `p99 ${s.p99.toFixed(2)} ms, ${s.cpu}`).join(' / '),
        healthNotes: health.map((h) => h.cpu).join(' / '),
      };
    };
    const how = `${smallConnections} connections, one request in flight on each, ${(smallMs / 1000).toFixed(0)} s`;
    const what = 'GET /taxii2/ and GET status alternately, Bearer member token';
    const nodeClient = await runSmall((targets) => measureSmall(server, targets, smallMs), 'undici');
    const viaWrk = wrk === undefined ? undefined : await runSmall((targets) => measureSmallWithWrk(server, targets, smallMs), 'wrk');
    reportFigure({
      bench,
      metric: 'healthz_requests_per_s',
      value: (viaWrk ?? nodeClient).health.best,
      unit: 'requests/s',
      note: `baseline: GET /healthz (no auth, same server), ${how}, load from ${wrk ?? 'undici (wrk is not installed)'}; ${(viaWrk ?? nodeClient).health.text}; ${(viaWrk ?? nodeClient).healthNotes}`,
    });
    reportFigure({
      bench,
      metric: 'small_requests_per_s',
      value: (viaWrk ?? nodeClient).small.best,
      unit: 'requests/s',
      ratio: (viaWrk ?? nodeClient).small.best / (viaWrk ?? nodeClient).health.best,
      baseline: 'healthz_requests_per_s',
      target: '>= 12000',
      note:
        `${what}, ${how}, load from ${wrk ?? 'undici: wrk is not installed (apt-get install wrk), and this Node load generator takes about as much CPU a request as the node'}; ` +
        `${(viaWrk ?? nodeClient).small.text}; ${(viaWrk ?? nodeClient).notes}`,
    });
    if (viaWrk !== undefined) {
      reportFigure({
        bench,
        metric: 'small_requests_node_client_per_s',
        value: nodeClient.small.best,
        unit: 'requests/s',
        ratio: nodeClient.small.best / nodeClient.health.best,
        baseline: 'GET /healthz with the same client',
        note: `the same requests from undici in this process (${how}), which shares the cores with the node: healthz ${nodeClient.health.text}; discovery+status ${nodeClient.small.text}; ${nodeClient.notes}`,
      });
    }
  } finally {
    await server.stop();
  }
}
