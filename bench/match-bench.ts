// `match` benchmark (issue 6): the bulk matcher and the log pipeline of `entente match`, in one process
// (run with --expose-gc in a child so the memory figure is measured on a fresh heap).
//   - 1,000,000 equality indicators (IPv4 / domain / URL / SHA-256, the generator of the other benches)
//     compiled into a BulkMatcher: matcher_mb_per_million (heap after GC, less the heap before);
//   - 5,000,000 observations, ~225-byte JSON lines (observed-data with embedded SCOs: two addresses and a
//     domain, URL or file hash), 0.1 % holding an equality indicator's value (and 0.01 % a complex one's), through the real pipeline (bounded line reader → reader → matcher → alert
//     deduplication; no store): equality_obs_per_s with the equality set, complex_obs_per_s once 10,000
//     complex patterns (LIKE, MATCHES, ISSUBSET, AND/FOLLOWEDBY across observations, WITHIN, a few that
//     no index can witness) are added;
//   - the same observations as Zeek TSV logs (conn, dns, http): zeek_obs_per_s (records no indicator can
//     match are counted by the Zeek record screen without building their SCOs; the note says how many);
//   - patterns_parsed_per_s: parsePattern over the benchmark's own patterns (equality and complex);
//   - alert_p99_ms: after the child, in this process, the measurement of `npm run bench -- alerts` (a
//     node on a real port; a hitting observation POSTed to /api/observations, timed to its SSE event on
//     /api/alerts/stream while two clients POST non-hitting lines without pause).
// JSON lines that no indicator can match are passed over without JSON.parse by the matcher's raw-line
// screen (src/correlate/screen-json-line.ts); the notes say how many were.
// Observation lines are drawn from a pool of distinct lines (1/25 of the total) replayed in order, so the
// run needs no gigabyte file. BENCH_SCALE=0.1 runs a tenth of everything.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BulkMatcher } from '../src/correlate/bulk-matcher.ts';
import { AlertAggregator } from '../src/correlate/alert-aggregator.ts';
import { emptySummary, matchInput } from '../src/correlate/match-input.ts';
import { readLineBatches } from '../src/correlate/read-lines.ts';
import { createObservationReader, type LogFormat } from '../src/correlate/read-observations.ts';
import { parsePattern } from '../src/pattern/parse-pattern.ts';
import { createRandom, generateIndicator, randomUuidV4 } from './generate-indicators.ts';
import { benchScale, reportFigure } from './report-figure.ts';
import { summarizeRuns, benchRepeat, log } from './run-stats.ts';
import { measureAlertDelivery } from './alerts-bench.ts';

const now = new Date('2026-06-01T00:00:00Z');

function hex(random: () => number, digits: number): string {
  let text = '';
  while (text.length < digits) text += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return text.slice(0, digits);
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** The value an equality pattern of the generator compares with, and its kind. */
function patternValue(pattern: string): { kind: 'ip' | 'domain' | 'url' | 'sha'; value: string } {
  const value = pattern.slice(pattern.indexOf("= '") + 3, pattern.lastIndexOf("'"));
  const kind = pattern.startsWith('[ipv4') ? 'ip' : pattern.startsWith('[domain') ? 'domain' : pattern.startsWith('[url') ? 'url' : 'sha';
  return { kind, value };
}

interface Built {
  readonly matcher: BulkMatcher;
  readonly hits: { kind: string; value: string }[];
  readonly heapMb: number;
  /** Typed-array backing stores (ids, the id table, value fingerprints): outside the V8 heap. */
  readonly arrayBufferMb: number;
  readonly buildSeconds: number;
  readonly patterns: string[];
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function buildEquality(count: number): Built {
  const random = createRandom(1);
  const before = heapUsed();
  const buffersBefore = process.memoryUsage().arrayBuffers;
  const matcher = new BulkMatcher();
  const hits: { kind: string; value: string }[] = [];
  const patterns: string[] = [];
  let addMs = 0;
  for (let i = 0; i < count; i++) {
    const indicator = generateIndicator(i, random);
    const before = performance.now();
    const outcome = matcher.add(indicator, { now });
    addMs += performance.now() - before;
    if (!outcome.added) throw new Error(`indicator ${i} refused: ${outcome.reason}`);
    if (i % 997 === 0) hits.push(patternValue(indicator.pattern as string));
    if (i % 10 === 0 && patterns.length < 100_000) patterns.push(indicator.pattern as string);
  }
  const buildSeconds = addMs / 1000;
  const heapMb = (heapUsed() - before) / 1048576;
  const arrayBufferMb = (process.memoryUsage().arrayBuffers - buffersBefore) / 1048576;
  return { matcher, hits, heapMb, arrayBufferMb, buildSeconds, patterns };
}

const words = ['update', 'secure', 'login', 'cdn', 'static', 'mail', 'portal', 'cloud', 'account', 'verify', 'files', 'api'];
const tlds = ['com', 'net', 'org', 'info', 'ru', 'xyz', 'top', 'io'];

/** Complex patterns; each also returns an observation value that triggers it (for a share of the hits). */
export function complexPatterns(count: number): { patterns: string[]; triggers: { kind: string; value: string }[] } {
  const random = createRandom(2);
  const patterns: string[] = [];
  const triggers: { kind: string; value: string }[] = [];
  for (let i = 0; i < count; i++) {
    const word = pick(random, words);
    const h = hex(random, 6);
    const tld = pick(random, tlds);
    const ip = `${1 + Math.floor(random() * 223)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
    switch (i % 10) {
      case 0:
      case 1:
        patterns.push(`[domain-name:value LIKE '%.${word}-${h}.${tld}']`);
        triggers.push({ kind: 'domain', value: `x.${word}-${h}.${tld}` });
        break;
      case 2:
        patterns.push(`[url:value MATCHES '^https?://[a-z0-9.-]+/${word}/${h}[0-9a-f]*\\\\.php$']`);
        triggers.push({ kind: 'url', value: `https://a.example/${word}/${h}00.php` });
        break;
      case 3:
        patterns.push(`[ipv4-addr:value ISSUBSET '${ip}.0/24']`);
        triggers.push({ kind: 'ip', value: `${ip}.77` });
        break;
      case 4:
        patterns.push(`[ipv4-addr:value = '${ip}.9'] AND [domain-name:value = 'stage-${h}.${tld}']`);
        triggers.push({ kind: 'domain', value: `stage-${h}.${tld}` });
        break;
      case 5:
        patterns.push(`([domain-name:value = 'drop-${h}.${tld}'] FOLLOWEDBY [url:value LIKE 'http://drop-${h}.${tld}/%']) WITHIN 600 SECONDS`);
        triggers.push({ kind: 'domain', value: `drop-${h}.${tld}` });
        break;
      case 6:
        patterns.push(`[domain-name:value = '${word}-${h}.${tld}' OR url:value LIKE '%/${word}-${h}/%']`);
        triggers.push({ kind: 'domain', value: `${word}-${h}.${tld}` });
        break;
      case 7:
        patterns.push(`[file:name LIKE 'invoice-${h}%.exe' AND file:size > 100000]`);
        triggers.push({ kind: 'domain', value: `invoice-${h}.${tld}` });
        break;
      case 8:
        patterns.push(`[ipv4-addr:value IN ('${ip}.1', '${ip}.2', '${ip}.3')] REPEATS 2 TIMES`);
        triggers.push({ kind: 'ip', value: `${ip}.2` });
        break;
      default:
        // One in a thousand patterns can be witnessed by no index: evaluated on every observation.
        if (i % 1000 === 9) patterns.push(`[domain-name:value != 'never-${h}.${tld}' AND domain-name:value MATCHES '^zz[0-9]{6}\\\\.${tld}$']`);
        else patterns.push(`[url:value LIKE 'https://${word}-${h}.${tld}/%' AND url:value MATCHES '\\\\.(exe|dll)$']`);
        triggers.push({ kind: 'url', value: `https://${word}-${h}.${tld}/a.exe` });
    }
  }
  return { patterns, triggers };
}

function randomIp(random: () => number): string {
  return `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;
}

interface PoolValue {
  kind: string;
  value: string;
}

/** Distinct observations: two addresses and a domain, URL or file hash; 0.1 % carry a hit value. */
export function observationValues(count: number, hits: readonly PoolValue[], complexHits: readonly PoolValue[], seed: number): { src: string; dst: string; extra: PoolValue; at: number }[] {
  const random = createRandom(seed);
  const out: { src: string; dst: string; extra: PoolValue; at: number }[] = [];
  const start = Date.UTC(2026, 5, 1) / 1000;
  for (let i = 0; i < count; i++) {
    let dst = `198.18.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;
    const r = random();
    let extra: PoolValue =
      r < 0.5
        ? { kind: 'domain', value: `${pick(random, words)}-${hex(random, 7)}.${pick(random, tlds)}` }
        : r < 0.85
          ? { kind: 'url', value: `https://${pick(random, words)}-${hex(random, 5)}.${pick(random, tlds)}/${pick(random, words)}/${hex(random, 8)}` }
          : { kind: 'sha', value: hex(random, 64) };
    const draw = random();
    if ((draw < 0.001 && hits.length > 0) || (draw > 0.9999 && complexHits.length > 0)) {
      const hit = draw < 0.001 ? pick(random, hits) : pick(random, complexHits);
      if (hit.kind === 'ip') dst = hit.value;
      else extra = hit;
    }
    out.push({ src: randomIp(random), dst, extra, at: start + i * 0.01 });
  }
  return out;
}

export function jsonlLine(o: { src: string; dst: string; extra: PoolValue; at: number }): string {
  const at = new Date(o.at * 1000).toISOString();
  const third =
    o.extra.kind === 'sha' ? `{"type":"file","hashes":{"SHA-256":"${o.extra.value}"}}` : `{"type":"${o.extra.kind === 'url' ? 'url' : 'domain-name'}","value":"${o.extra.value}"}`;
  return `{"type":"observed-data","first_observed":"${at}","objects":{"0":{"type":"ipv4-addr","value":"${o.src}"},"1":{"type":"ipv4-addr","value":"${o.dst}"},"2":${third}}}`;
}

const zeekHeaders: Record<string, string[]> = {
  conn: ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration', 'orig_bytes', 'resp_bytes', 'conn_state'],
  dns: ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'trans_id', 'query', 'qtype_name', 'rcode_name', 'answers'],
  http: ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'method', 'host', 'uri', 'user_agent', 'status_code', 'resp_mime_types'],
};

function zeekHeader(kind: string): string {
  const fields = zeekHeaders[kind] as string[];
  return ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', `#path\t${kind}`, `#fields\t${fields.join('\t')}`].join('\n') + '\n';
}

function zeekLine(kind: string, o: { src: string; dst: string; extra: PoolValue; at: number }, i: number): string {
  const ts = o.at.toFixed(6);
  const uid = `C${hex(createRandom(i), 17)}`;
  if (kind === 'conn') return [ts, uid, o.src, '49152', o.dst, '443', 'tcp', 'ssl', '0.512', '1024', '4096', 'SF'].join('\t');
  if (kind === 'dns') {
    const name = o.extra.kind === 'domain' ? o.extra.value : `${o.extra.value.slice(0, 12)}.example.net`;
    return [ts, uid, o.src, '53124', '10.0.0.53', '53', 'udp', String(i % 65536), name, 'A', 'NOERROR', o.dst].join('\t');
  }
  const url = o.extra.kind === 'url' ? o.extra.value : `http://${o.extra.value.slice(0, 20)}.example.org/index.html`;
  const host = url.slice(url.indexOf('//') + 2, url.indexOf('/', url.indexOf('//') + 2));
  const uri = url.slice(url.indexOf('/', url.indexOf('//') + 2));
  return [ts, uid, o.src, '50123', o.dst, '80', 'GET', host, uri, 'Mozilla/5.0', '200', 'text/html'].join('\t');
}

/** Lines grouped into ~1 MiB chunks, replayed `rounds` times. */
function chunked(lines: readonly string[], header = ''): string[] {
  const chunks: string[] = [];
  let current = header;
  for (const line of lines) {
    current += line + '\n';
    if (current.length >= 1 << 20) {
      chunks.push(current);
      current = '';
    }
  }
  if (current !== '') chunks.push(current);
  return chunks;
}

async function runPipeline(matcher: BulkMatcher, chunks: readonly string[], rounds: number, format: LogFormat, source: string): Promise<{ seconds: number; observations: number; screened: number; matches: number; malformed: number }> {
  const summary = emptySummary();
  const alerts = new AlertAggregator(3600);
  const started = performance.now();
  for (let round = 0; round < rounds; round++) {
    const reader = createObservationReader({ format, source, now: () => now.toISOString() });
    await matchInput(
      (async function* () {
        yield* chunks;
      })(),
      { source, reader, matcher, alerts, summary, onAlert: () => undefined },
    );
    alerts.close();
  }
  return { seconds: (performance.now() - started) / 1000, observations: summary.observations, screened: summary.screened, matches: summary.matches, malformed: summary.malformed };
}

async function childMain(): Promise<void> {
  const scale = benchScale();
  const repeat = benchRepeat();
  const indicatorCount = Math.round(1_000_000 * scale);
  const complexCount = Math.round(10_000 * scale);
  const observationCount = Math.round(5_000_000 * scale);
  const rounds = 25;
  const poolSize = Math.ceil(observationCount / rounds);

  log(`building the matcher: ${indicatorCount} equality indicators`);
  const built = buildEquality(indicatorCount);
  const stats = built.matcher.stats();
  reportFigure({
    bench: 'match',
    metric: 'matcher_mb_per_million',
    value: built.heapMb / (indicatorCount / 1e6),
    unit: 'MB',
    target: '<= 150',
    note: `heap after GC with ${indicatorCount} equality indicators less the heap before (${built.heapMb.toFixed(1)} MB); typed arrays outside the heap not counted: ${built.arrayBufferMb.toFixed(1)} MB more (${(built.arrayBufferMb / (indicatorCount / 1e6)).toFixed(1)} MB per million); ${stats.equalityKeys} keys; compiled in ${built.buildSeconds.toFixed(1)} s (${Math.round(indicatorCount / built.buildSeconds)} indicators/s: parse, plan, index; generating them not counted)`,
  });

  const { patterns: complex, triggers } = complexPatterns(complexCount);
  const parseSample = [...built.patterns, ...complex];
  const parseRuns: number[] = [];
  for (const pattern of parseSample.slice(0, 20_000)) parsePattern(pattern); // warm-up: JIT
  for (let r = 0; r < Math.max(3, repeat); r++) {
    const started = performance.now();
    for (const pattern of parseSample) if (!parsePattern(pattern).ok) throw new Error(`does not parse: ${pattern}`);
    parseRuns.push(parseSample.length / ((performance.now() - started) / 1000));
  }
  const parsed = summarizeRuns(parseRuns, 'higher');
  reportFigure({ bench: 'match', metric: 'patterns_parsed_per_s', value: parsed.best, unit: 'patterns/s', target: '>= 100000', note: `${parseSample.length} patterns of this benchmark (${complex.length} complex); ${parsed.text}` });

  log(`observations: ${observationCount} (${poolSize} distinct lines replayed ${rounds} times)`);
  const pool = observationValues(poolSize, built.hits, triggers, 3);
  const lines = pool.map(jsonlLine);
  const averageBytes = lines.reduce((sum, line) => sum + line.length + 1, 0) / lines.length;
  const jsonlChunks = chunked(lines);

  // Same-run baseline: reading the lines (as the pipeline reads them) and JSON.parse alone: what any
  // pipeline that parses every line cannot beat.
  const parseOnlyRuns: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const started = performance.now();
    let count = 0;
    for (let round = 0; round < rounds; round++) {
      for await (const lines of readLineBatches(
        (async function* () {
          yield* jsonlChunks;
        })(),
      )) {
        for (const line of lines) {
          if (line.overlong !== true && line.text !== '') {
            JSON.parse(line.text);
            count++;
          }
        }
      }
    }
    parseOnlyRuns.push(count / ((performance.now() - started) / 1000));
  }
  const parseOnly = summarizeRuns(parseOnlyRuns, 'higher');

  const equalityRuns: number[] = [];
  let equalityMatches = 0;
  let equalityScreened = 0;
  for (let r = 0; r < repeat; r++) {
    const result = await runPipeline(built.matcher, jsonlChunks, rounds, 'jsonl', 'bench.jsonl');
    if (result.malformed > 0) throw new Error(`${result.malformed} malformed bench lines`);
    equalityRuns.push(result.observations / result.seconds);
    equalityMatches = result.matches;
    equalityScreened = result.screened;
  }
  const equality = summarizeRuns(equalityRuns, 'higher');
  reportFigure({
    bench: 'match',
    metric: 'equality_obs_per_s',
    value: equality.best,
    unit: 'observations/s',
    target: '>= 250000',
    ratio: Number((equality.best / parseOnly.best).toFixed(3)),
    baseline: `reading the same lines and JSON.parse alone: ${Math.round(parseOnly.best)} lines/s (${parseOnly.text})`,
    note: `${observationCount} JSON lines of ${averageBytes.toFixed(0)} bytes on average, ${indicatorCount} equality indicators, ${equalityMatches} matches (${((equalityMatches / observationCount) * 100).toFixed(2)} %); read, screen (${((equalityScreened / observationCount) * 100).toFixed(2)} % passed over unparsed), parse the rest, match, deduplicate; ${equality.text}; shared machine: timings are noisy`,
  });

  for (const pattern of complex) {
    const outcome = built.matcher.add({ type: 'indicator', id: `indicator--${randomUuidV4(Math.random)}`, pattern, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z' }, { now });
    if (!outcome.added) throw new Error(`complex pattern refused: ${outcome.reason}: ${pattern}`);
  }
  const withComplex = built.matcher.stats();
  const complexRuns: number[] = [];
  let complexMatches = 0;
  let complexScreened = 0;
  for (let r = 0; r < repeat; r++) {
    const result = await runPipeline(built.matcher, jsonlChunks, rounds, 'jsonl', 'bench.jsonl');
    complexRuns.push(result.observations / result.seconds);
    complexMatches = result.matches;
    complexScreened = result.screened;
  }
  const complexRate = summarizeRuns(complexRuns, 'higher');
  reportFigure({
    bench: 'match',
    metric: 'complex_obs_per_s',
    value: complexRate.best,
    unit: 'observations/s',
    target: '>= 100000',
    note: `the same observations with ${complexCount} complex patterns added (${withComplex.evaluated} evaluated on candidates, ${withComplex.alwaysLeaves} leaves evaluated on every observation, ${withComplex.substrings} substrings, ${withComplex.ipBlocks} IP blocks); ${complexMatches} matches; ${((complexScreened / observationCount) * 100).toFixed(2)} % passed over unparsed; ${complexRate.text}; shared machine: timings are noisy`,
  });

  const zeekRuns: number[] = [];
  const perKind = Math.ceil(poolSize / 3);
  const zeekChunks = Object.keys(zeekHeaders).map((kind, k) => ({
    kind,
    chunks: chunked(
      pool.slice(k * perKind, (k + 1) * perKind).map((o, i) => zeekLine(kind, o, i)),
      zeekHeader(kind),
    ),
  }));
  let zeekObservations = 0;
  let zeekScreened = 0;
  for (let r = 0; r < repeat; r++) {
    let seconds = 0;
    let observations = 0;
    let screened = 0;
    for (const { kind, chunks } of zeekChunks) {
      const result = await runPipeline(built.matcher, chunks, rounds, 'zeek', `${kind}.log`);
      if (result.malformed > 0) throw new Error(`${result.malformed} malformed Zeek lines`);
      seconds += result.seconds;
      observations += result.observations;
      screened += result.screened;
    }
    zeekRuns.push(observations / seconds);
    zeekObservations = observations;
    zeekScreened = screened;
  }
  const zeek = summarizeRuns(zeekRuns, 'higher');
  reportFigure({
    bench: 'match',
    metric: 'zeek_obs_per_s',
    value: zeek.best,
    unit: 'observations/s',
    note: `${zeekObservations} Zeek TSV records (conn, dns, http in equal parts) against ${indicatorCount} equality + ${complexCount} complex indicators; ${((zeekScreened / Math.max(1, zeekObservations)) * 100).toFixed(2)} % passed over without building their SCOs (screen-zeek-record.ts); ${zeek.text}; shared machine: timings are noisy`,
  });
}

/** Runs the measurement in a child with --expose-gc (for the heap figure) and its own heap. */
export async function runMatchBench(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=6144', '--import', 'tsx', self, '--child'], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`match bench child exited with ${code}`))));
  });
  log('alert delivery on the SSE stream (the measurement of `npm run bench -- alerts`)');
  const delivery = await measureAlertDelivery();
  reportFigure({ bench: 'match', metric: 'alert_p99_ms', value: delivery.p99Ms, unit: 'ms', target: '<= 50', note: `p99 from the POST of a hitting observation to its event on /api/alerts/stream: ${delivery.note}` });
}

if (process.argv.includes('--child')) await childMain();
else if (import.meta.url === `file://${process.argv[1]}`) await runMatchBench();
