// `npm run bench -- alerts-workers`: what relaying the alert bus through the primary process costs
// (`entente start --workers 2`). A real node process with two workers holds 1,000 equality
// indicators; four SSE streams are spread over the workers; a probe posts one hitting observation at
// a time on a fresh connection (so either worker raises it) and times it from the start of the POST
// to its `event: alert` on the *last* of the four streams — whichever worker raised it, the other
// worker's streams get it through the primary. No background load: `alerts` measures that, in one process.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { connectSse, type SseClient } from '../test/alerts/alert-test-kit.ts';
import { startNodeProcess } from '../test/node/node-process.ts';
import { percentile, reportFigure } from './report-figure.ts';

const TAXII = 'application/taxii+json;version=2.1';
const INDICATORS = 1000;
const PROBES = 200;
const STREAMS = 4;
const ipOf = (n: number): string => `10.77.${(n >>> 8) & 255}.${n & 255}`;

export async function runAlertsWorkersBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'entente-alerts-workers-'));
  const node = await startNodeProcess(['--port', '0', '--workers', '2'], { ENTENTE_DATA: dir, ENTENTE_LOG_LEVEL: 'info' });
  const streams: SseClient[] = [];
  try {
    const deadline = Date.now() + 30_000;
    while ((node.output().match(/Server listening at/g) ?? []).length < 2) {
      if (Date.now() > deadline) throw new Error('the second worker did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const headers = { authorization: `Bearer ${token}`, accept: TAXII, 'content-type': TAXII };
    const collections = (await (await fetch(`${node.url}/taxii2/api/collections/`, { headers })).json()) as { collections: { id: string }[] };
    const collection = collections.collections[0]?.id ?? '';
    const indicators = Array.from({ length: INDICATORS }, (_, n) => ({
      type: 'indicator', spec_version: '2.1', id: `indicator--${randomUUID()}`, created: '2026-11-01T00:00:00.000Z', modified: '2026-11-01T00:00:00.000Z',
      pattern: `[ipv4-addr:value = '${ipOf(n)}']`, pattern_type: 'stix', valid_from: '2026-11-01T00:00:00Z', confidence: 80,
    }));
    await fetch(`${node.url}/taxii2/api/collections/${collection}/objects/`, { method: 'POST', headers, body: JSON.stringify({ objects: indicators }) });
    for (let n = 0; n < STREAMS; n++) streams.push(await connectSse(`${node.url}/api/alerts/stream`, { authorization: `Bearer ${token}`, connection: 'close' }));
    const post = (ip: string): Promise<Response> =>
      fetch(`${node.url}/api/observations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', accept: 'application/json', connection: 'close' },
        body: JSON.stringify({ type: 'ipv4-addr', value: ip }),
      });
    // Both matchers compiled before timing.
    for (let n = 0; n < 4; n++) await (await post('192.0.2.1')).text();

    const latencies: number[] = [];
    /** Per probe, the first stream's arrival to the last's: the hop to the other worker, at most. */
    const spreads: number[] = [];
    let timeouts = 0;
    for (let n = 0; n < Math.min(PROBES, INDICATORS); n++) {
      const ip = ipOf(n);
      const started = performance.now();
      const arrived = streams.map((stream) => stream.waitFor((event) => event.event === 'alert' && event.data.includes(`"${ip}"`), 5000).then(() => performance.now()));
      void post(ip).then((response) => response.text());
      try {
        const times = await Promise.all(arrived);
        latencies.push(Math.max(...times) - started);
        spreads.push(Math.max(...times) - Math.min(...times));
      } catch {
        timeouts++;
      }
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const note = `${latencies.length} hitting observations (${timeouts} not on every stream within 5 s), 2 workers, ${STREAMS} streams over them; from the start of the POST to the event at the last stream; p50 ${percentile(sorted, 50).toFixed(2)} ms, max ${(sorted[sorted.length - 1] ?? Number.NaN).toFixed(2)} ms; no background load`;
    reportFigure({ bench: 'alerts-workers', metric: 'alert_workers_p99_ms', value: percentile(sorted, 99), unit: 'ms', target: '<= 50', note });
    reportFigure({ bench: 'alerts-workers', metric: 'alert_workers_p50_ms', value: percentile(sorted, 50), unit: 'ms' });
    const spread = [...spreads].sort((a, b) => a - b);
    reportFigure({ bench: 'alerts-workers', metric: 'alert_workers_spread_p99_ms', value: percentile(spread, 99), unit: 'ms', note: `first stream to last, per alert; p50 ${percentile(spread, 50).toFixed(2)} ms` });
  } finally {
    for (const stream of streams) stream.close();
    node.child.kill('SIGTERM');
    await once(node.child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runAlertsWorkersBench();
