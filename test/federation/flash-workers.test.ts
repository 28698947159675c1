// A member's node running `entente start --workers 2`: a flash reaches one worker, and every home
// stream shows it, whichever worker serves the stream (the other worker reads it from the store).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectSse, type SseClient } from '../alerts/alert-test-kit.ts';
import { startNodeProcess, stopNodeProcess, type NodeProcess } from '../node/node-process.ts';
import { startAlliance, type Alliance, type AllianceNode } from './flash-alliance-kit.ts';

describe('a flash to a member node with two workers', () => {
  let alliance: Alliance;
  let a: AllianceNode;
  let b: AllianceNode;
  let member: NodeProcess;

  before(async () => {
    alliance = await startAlliance(['sender-a', 'workers-b']);
    [a, b] = alliance.nodes as [AllianceNode, AllianceNode];
    const port = new URL(b.url).port;
    await b.stop();
    member = await startNodeProcess(['--port', port, '--workers', '2'], { ENTENTE_DATA: b.dataDir, ENTENTE_LOG_LEVEL: 'info' });
    // Until both workers listen, the first one takes every connection.
    const deadline = Date.now() + 30_000;
    while ((member.output().match(/Server listening at/g) ?? []).length < 2) {
      if (Date.now() > deadline) throw new Error(`the second worker did not start:\n${member.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  after(async () => {
    // Either may be unset when the set-up failed (a node that did not start has been stopped); the
    // alliance's directory goes in every outcome, once the member's processes have exited.
    if (member !== undefined) await stopNodeProcess(member.child);
    if (alliance !== undefined) await alliance.close();
  });

  it('appears on the streams of both workers', async () => {
    const streams: SseClient[] = [];
    try {
      // Fresh connections are spread over the workers.
      for (let n = 0; n < 6; n++) streams.push(await connectSse(`${member.url}/api/alerts/stream`, { authorization: `Bearer ${b.adminToken}`, connection: 'close' }));
      const sent = await fetch(`${a.url}/api/flash`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ circle_id: alliance.circleId, text: 'Both workers must show this' }),
      });
      assert.equal(sent.status, 201);
      const notices = await Promise.all(streams.map((stream) => stream.waitFor((event) => event.event === 'notice', 3000)));
      assert.ok(notices.every((notice) => notice.data.includes('Both workers must show this')));
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});
