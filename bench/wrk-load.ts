/**
 * HTTP load from wrk (Debian and most distributions package it as `wrk`), a load generator written in
 * C. On a machine where the node and its load share two cores, a Node load generator (undici) spends
 * about as much CPU per small request as the node does to serve it, so what it measures is the two
 * halves together; wrk spends a fraction of that, which leaves the cores to the node, as separate
 * client machines would. The bench says which generator produced each figure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WrkTarget {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface WrkResult {
  readonly requests: number;
  readonly perSecond: number;
  readonly p99Ms: number;
  /** Responses outside 2xx/3xx; a run with any is a failed run. */
  readonly non2xx: number;
  /** wrk's "Socket errors" line when it printed one. */
  readonly socketErrors: string | undefined;
}

/** wrk's version line, or undefined when wrk is not installed. */
export function wrkVersion(): string | undefined {
  const probe = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (probe.error !== undefined || typeof probe.stdout !== 'string') return undefined;
  const line = probe.stdout.split('\n')[0]?.trim();
  return line !== undefined && line.startsWith('wrk ') ? line : undefined;
}

const luaString = (text: string): string => JSON.stringify(text);

/** A wrk script that cycles through the targets, each request formatted once per thread. */
export function wrkScript(targets: readonly WrkTarget[]): string {
  if (targets.length === 0) throw new RangeError('wrk needs at least one target');
  const formatted = targets.map((target) => {
    const headers = Object.entries(target.headers).map(([name, value]) => `[${luaString(name)}] = ${luaString(value)}`);
    return `  wrk.format("GET", ${luaString(target.path)}, { ${headers.join(', ')} })`;
  });
  // Formatted in init(): wrk knows the Host header only once the thread starts.
  return [
    'local requests = {}',
    'init = function(args)',
    '  requests = {',
    formatted.join(',\n'),
    '  }',
    'end',
    'local turn = 0',
    'request = function()',
    '  turn = turn + 1',
    '  return requests[(turn % #requests) + 1]',
    'end',
    '',
  ].join('\n');
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Parses wrk's report (run with --latency). */
export function parseWrkReport(report: string): WrkResult {
  const requestsLine = /^\s*(\d+) requests in /m.exec(report);
  const rateLine = /^Requests\/sec:\s*([\d.]+)/m.exec(report);
  const p99Line = /^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(report);
  if (requestsLine?.[1] === undefined || rateLine?.[1] === undefined || p99Line?.[1] === undefined || p99Line[2] === undefined) {
    throw new Error(`unexpected wrk report:\n${report}`);
  }
  const non2xx = /^\s*Non-2xx or 3xx responses:\s*(\d+)/m.exec(report)?.[1];
  return {
    requests: Number(requestsLine[1]),
    perSecond: Number(rateLine[1]),
    p99Ms: Number(p99Line[1]) * (UNIT_MS[p99Line[2]] ?? Number.NaN),
    non2xx: non2xx === undefined ? 0 : Number(non2xx),
    socketErrors: /^\s*Socket errors:.*$/m.exec(report)?.[0]?.trim(),
  };
}

/** One wrk run: one thread, `connections` keep-alive connections each with one request in flight. */
export async function runWrk(options: { url: string; targets: readonly WrkTarget[]; connections: number; durationMs: number }): Promise<WrkResult> {
  const { stdout } = await runWrkProcess(wrkScript(options.targets), 1, options.connections, options.durationMs, options.url);
  return parseWrkReport(stdout);
}

async function runWrkProcess(script: string, threads: number, connections: number, durationMs: number, url: string): Promise<{ stdout: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'entente-wrk-'));
  try {
    const scriptPath = join(dir, 'load.lua');
    writeFileSync(scriptPath, script);
    const seconds = Math.max(1, Math.round(durationMs / 1000));
    const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '-s', scriptPath, url];
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`wrk exited with ${String(code)}: ${stderr}${stdout}`);
    return { stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface WrkPagingOptions {
  readonly url: string;
  /** The objects endpoint, e.g. /taxii2/api/collections/<id>/objects/. */
  readonly objectsPath: string;
  readonly headers: Readonly<Record<string, string>>;
  /** `added_after` values (RFC 3339, as the server formats them) a chain may start from. */
  readonly startAfters: readonly string[];
  readonly limit: number;
  readonly pagesPerChain: number;
  /** One wrk thread per client: a thread's one connection pages one chain at a time. */
  readonly clients: number;
  readonly durationMs: number;
}

export interface WrkPagingResult {
  readonly pages: number;
  readonly objects: number;
  readonly chains: number;
  readonly pagesPerSecond: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly socketErrors: string | undefined;
  /** Pages that said `more` but held fewer than `limit` objects, or had no `next`: a broken walk. */
  readonly brokenPages: number;
}

/**
 * A wrk script for TAXII paging: each thread (one connection) starts a chain at a random
 * `added_after`, follows `next` (with the same filters, as TAXII requires) for `pagesPerChain` pages,
 * then starts another. A thread's Lua state is its connection's, which is why the chain can live in
 * it; the counts are read from every thread at the end (`done`) and printed on one line.
 */
export function wrkPagingScript(options: Omit<WrkPagingOptions, 'url' | 'clients' | 'durationMs'>): string {
  if (options.startAfters.length === 0) throw new RangeError('wrk paging needs at least one start');
  const headers = Object.entries(options.headers).map(([name, value]) => `[${luaString(name)}] = ${luaString(value)}`);
  const starts = options.startAfters.map((after) => luaString(encodeURIComponent(after)));
  return [
    `local starts = { ${starts.join(', ')} }`,
    `local prefix = ${luaString(`${options.objectsPath}?limit=${options.limit}&added_after=`)}`,
    `local limit = ${options.limit}`,
    `local pagesPerChain = ${options.pagesPerChain}`,
    'local threads = {}',
    'local created = 0',
    'setup = function(thread)',
    '  created = created + 1',
    '  thread:set("seed", created)',
    '  table.insert(threads, thread)',
    'end',
    'local headers, base, path, page',
    'pages, objects, chains, broken = 0, 0, 0, 0',
    'init = function(args)',
    '  math.randomseed(7919 * seed)',
    `  headers = { ${headers.join(', ')} }`,
    'end',
    'request = function()',
    '  if path == nil then',
    '    base = prefix .. starts[math.random(#starts)]',
    '    path = base',
    '    page = 0',
    '  end',
    '  return wrk.format("GET", path, headers)',
    'end',
    'response = function(status, responseHeaders, body)',
    '  if status ~= 200 then path = nil return end',
    '  pages = pages + 1',
    '  page = page + 1',
    '  local count, at = 0, 1',
    '  while true do',
    '    local found = string.find(body, \'"spec_version":\', at, true)',
    '    if found == nil then break end',
    '    count = count + 1',
    '    at = found + 15',
    '  end',
    '  objects = objects + count',
    '  local more = string.find(body, \'"more":true\', 1, true) ~= nil',
    '  local nextCursor = string.match(body, \'"next":"([A-Za-z0-9_-]+)"\')',
    '  if more and (nextCursor == nil or count ~= limit) then broken = broken + 1 end',
    '  if more and nextCursor ~= nil and page < pagesPerChain then',
    '    path = base .. "&next=" .. nextCursor',
    '  else',
    '    chains = chains + 1',
    '    path = nil',
    '  end',
    'end',
    'done = function(summary, latency, requests)',
    '  local total = { pages = 0, objects = 0, chains = 0, broken = 0 }',
    '  for _, thread in ipairs(threads) do',
    '    for name, _ in pairs(total) do total[name] = total[name] + thread:get(name) end',
    '  end',
    '  io.write(string.format("PAGING pages=%d objects=%d chains=%d broken=%d\\n", total.pages, total.objects, total.chains, total.broken))',
    'end',
    '',
  ].join('\n');
}

/** Paging load from wrk: `clients` threads with one connection each. */
export async function runWrkPaging(options: WrkPagingOptions): Promise<WrkPagingResult> {
  const { stdout } = await runWrkProcess(wrkPagingScript(options), options.clients, options.clients, options.durationMs, options.url);
  const report = parseWrkReport(stdout);
  const counts = /^PAGING pages=(\d+) objects=(\d+) chains=(\d+) broken=(\d+)$/m.exec(stdout);
  if (counts === null) throw new Error(`wrk paging printed no counts:\n${stdout}`);
  const pages = Number(counts[1]);
  return {
    pages,
    objects: Number(counts[2]),
    chains: Number(counts[3]),
    brokenPages: Number(counts[4]),
    pagesPerSecond: report.perSecond,
    p99Ms: report.p99Ms,
    non2xx: report.non2xx,
    socketErrors: report.socketErrors,
  };
}
