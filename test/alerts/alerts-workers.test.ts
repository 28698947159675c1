// `entente start --workers 2`: an alert raised by observations posted to one worker reaches the
// streams of both, with one id everywhere, so that a client that reconnects to the other worker
// resumes from its Last-Event-ID without missing or repeating an alert.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporaryDirectory } from '../cli/cli-kit.ts';
import { startNodeProcess, stopNodeProcess, type NodeProcess } from '../node/node-process.ts';
import { connectSse, ipIndicator, type SseClient } from './alert-test-kit.ts';

const TAXII = 'application/taxii+json;version=2.1';
const ALERTS = 6;
const ipOf = (n: number): string => `198.51.100.${n + 1}`;

describe('the alert stream of a node with two workers', () => {
  const data = temporaryDirectory('alerts-workers');
  let node: NodeProcess;
  let token: string;
  const streams: SseClient[] = [];

  before(async () => {
    node = await startNodeProcess(['--port', '0', '--workers', '2'], { ENTENTE_DATA: data.path, ENTENTE_LOG_LEVEL: 'info' });
    const deadline = Date.now() + 30_000;
    while ((node.output().match(/Server listening at/g) ?? []).length < 2) {
      if (Date.now() > deadline) throw new Error(`the second worker did not start:\n${node.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    token = readFileSync(join(data.path, 'admin.token'), 'utf8').trim();
    const headers = { authorization: `Bearer ${token}`, accept: TAXII, 'content-type': TAXII };
    const collections = (await (await fetch(`${node.url}/taxii2/api/collections/`, { headers })).json()) as { collections: { id: string }[] };
    const collection = collections.collections[0]?.id ?? assert.fail('no collection');
    const indicators = Array.from({ length: ALERTS }, (_, n) => ipIndicator(n + 1, ipOf(n)));
    const posted = await fetch(`${node.url}/taxii2/api/collections/${collection}/objects/`, { method: 'POST', headers, body: JSON.stringify({ objects: indicators }) });
    assert.equal(posted.status, 202);
  });

  after(async () => {
    for (const stream of streams) stream.close();
    // Unset when the node did not start (startNodeProcess has stopped it then); the directory goes
    // in every outcome, once the node and its workers have exited.
    if (node !== undefined) await stopNodeProcess(node.child);
    data.remove();
  });

  const open = async (extra: Record<string, string> = {}): Promise<SseClient> => {
    // Fresh connections are spread over the workers.
    const stream = await connectSse(`${node.url}/api/alerts/stream`, { authorization: `Bearer ${token}`, connection: 'close', ...extra });
    streams.push(stream);
    return stream;
  };
  const alertsOn = (stream: SseClient): { id: string | undefined; indicator: string }[] =>
    stream.events.filter((event) => event.event === 'alert').map((event) => ({ id: event.id, indicator: (JSON.parse(event.data) as { indicator_id: string }).indicator_id }));

  /** The ids of the alerts, as every stream shows them, in order. */
  let shown: string[] = [];

  it('shows every alert on every stream, whichever worker raised it, with the same ids', async () => {
    const clients = [];
    for (let n = 0; n < 6; n++) clients.push(await open());
    // One observation per request, each on a fresh connection: both workers raise alerts.
    for (let n = 0; n < ALERTS; n++) {
      const response = await fetch(`${node.url}/api/observations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', accept: 'application/json', connection: 'close' },
        body: JSON.stringify({ type: 'ipv4-addr', value: ipOf(n) }),
      });
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { alerts_raised: number }).alerts_raised, 1);
    }
    await Promise.all(clients.map((client) => client.waitFor(() => alertsOn(client).length === ALERTS, 5000)));
    const first = alertsOn(clients[0] as SseClient);
    shown = first.map((alert) => alert.id ?? assert.fail('an alert without id'));
    assert.equal(new Set(shown).size, ALERTS, 'an id for each alert');
    for (const id of shown) assert.doesNotMatch(id, /^\d+$/, 'shown sealed, not as the number the node counts');
    for (const client of clients) assert.deepEqual(alertsOn(client), first, 'the same alerts, ids and order on every stream');
  });

  it('resumes from Last-Event-ID on either worker: the alerts after it, none twice', async () => {
    const resumed = [];
    for (let n = 0; n < 4; n++) resumed.push(await open({ 'last-event-id': shown[3] ?? '' }));
    await Promise.all(resumed.map((client) => client.waitFor(() => alertsOn(client).length === 2, 5000)));
    for (const client of resumed) assert.deepEqual(alertsOn(client).map((alert) => alert.id), shown.slice(4));
  });
});
