// `npm run bench -- flash`: flash delivery latency between two local nodes. Both are started by
// startNode (each its own SQLite file and port, in this process); the sender's analyst POSTs
// /api/flash one message at a time, and each is timed from the start of the POST to (1) its
// `event: notice` on the member's SSE stream and (2) the POST's answer, which comes once the member's
// signed receipt was verified and recorded. 200 flashes (BENCH_SCALE scales them), 20 warm-up ones first.
import { connectSse } from '../test/alerts/alert-test-kit.ts';
import { startAlliance, type AllianceNode } from '../test/federation/flash-alliance-kit.ts';
import { benchScale, percentile, reportFigure } from './report-figure.ts';

export async function runFlashBench(): Promise<void> {
  const count = Math.max(20, Math.round(200 * benchScale()));
  // B takes more than a node's default 60 new flashes an hour from A: the bench sends them in a row.
  const alliance = await startAlliance(['bench-a', 'bench-b'], 'bench-flash', { flashLimit: 10_000 });
  try {
    const [a, b] = alliance.nodes as [AllianceNode, AllianceNode];
    const stream = await connectSse(`${b.url}/api/alerts/stream`, { authorization: `Bearer ${b.adminToken}` });
    const toStream: number[] = [];
    const toReceipt: number[] = [];
    for (let n = -20; n < count; n++) {
      const text = `Bench flash ${n}`;
      const started = performance.now();
      const arrived = stream.waitFor((event) => event.event === 'notice' && event.data.includes(`"${text}"`), 5000).then(() => performance.now() - started);
      const response = await fetch(`${a.url}/api/flash`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ circle_id: alliance.circleId, text }),
      });
      const answered = performance.now() - started;
      if (response.status !== 201) throw new Error(`POST /api/flash answered ${response.status}: ${await response.text()}`);
      const body = (await response.json()) as { deliveries: { outcome: string }[] };
      if (body.deliveries[0]?.outcome !== 'delivered') throw new Error(`not delivered: ${JSON.stringify(body.deliveries)}`);
      const onStream = await arrived;
      if (n < 0) continue;
      toStream.push(onStream);
      toReceipt.push(answered);
    }
    stream.close();
    toStream.sort((x, y) => x - y);
    toReceipt.sort((x, y) => x - y);
    const note = `${count} flashes, two nodes on loopback in one process, SQLite files (synchronous=FULL)`;
    reportFigure({ bench: 'flash', metric: 'flash_to_member_stream_p50_ms', value: percentile(toStream, 50), unit: 'ms', note });
    reportFigure({ bench: 'flash', metric: 'flash_to_member_stream_p99_ms', value: percentile(toStream, 99), unit: 'ms', target: '< 1000' });
    reportFigure({ bench: 'flash', metric: 'flash_receipt_recorded_p50_ms', value: percentile(toReceipt, 50), unit: 'ms' });
    reportFigure({ bench: 'flash', metric: 'flash_receipt_recorded_p99_ms', value: percentile(toReceipt, 99), unit: 'ms' });
  } finally {
    await alliance.close();
  }
}
