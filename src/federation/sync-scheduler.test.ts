import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntenteError } from '../errors/entente-error.ts';
import type { PeerRecord, PeerState } from '../store/federation-store.ts';
import type { SyncReport } from './sync-peer.ts';
import { NO_PULL } from './pull-peer.ts';
import { openSyncScheduler, type PeerSilentNotice, type SyncSchedulerDeps } from './sync-scheduler.ts';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');

function peer(name: string, overrides: Partial<PeerRecord> = {}): PeerRecord {
  return {
    name,
    url: 'https://peer.example/taxii2/',
    apiRootUrl: 'https://peer.example/taxii2/api/',
    token: 'secret',
    circleId: 'wide',
    localCollectionId: 'wide',
    remoteCollectionId: 'wide',
    organisationId: 'identity--0b000000-0000-4000-8000-000000000002',
    kind: 'entente',
    push: false,
    intervalSeconds: 60,
    silentAfter: 3,
    createdAt: new Date(T0).toISOString(),
    ...overrides,
  };
}

const NEVER_SYNCED: PeerState = {
  pullCursor: undefined,
  pushCursor: undefined,
  lastAttemptAt: undefined,
  lastSuccessAt: undefined,
  lastError: undefined,
  consecutiveFailures: 0,
  objectsIn: 0,
  objectsOut: 0,
  quarantined: 0,
};

function report(name: string, ok: boolean, at: number): SyncReport {
  return {
    peer: name,
    ok,
    startedAt: new Date(at).toISOString(),
    finishedAt: new Date(at).toISOString(),
    mirror: undefined,
    pull: NO_PULL,
    push: undefined,
    error: ok ? undefined : { code: 'ENT_PEER_UNREACHABLE', message: 'connection refused' },
  };
}

/** A scheduler over a fake clock whose cycles succeed or fail as `outcome` says. */
function harness(peers: PeerRecord[], outcome: (name: string, call: number) => boolean | 'hang', states: Record<string, PeerState> = {}) {
  let now = T0;
  const calls: { name: string; at: number }[] = [];
  const notices: PeerSilentNotice[] = [];
  const aborted: string[] = [];
  const deps: SyncSchedulerDeps = {
    store: {
      listPeers: async () => peers,
      getPeerState: async (name) => states[name] ?? NEVER_SYNCED,
    },
    runCycle: (name, signal) => {
      calls.push({ name, at: now });
      const result = outcome(name, calls.filter((call) => call.name === name).length);
      if (result === 'hang') {
        return new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted.push(name);
            resolve(report(name, false, now));
          });
        });
      }
      return Promise.resolve(report(name, result, now));
    },
    clock: () => new Date(now),
    random: () => 0.5,
    onPeerSilent: (notice) => notices.push(notice),
  };
  const scheduler = openSyncScheduler(deps, { tickMs: 0 });
  return {
    scheduler,
    calls,
    notices,
    aborted,
    async advance(ms: number) {
      now += ms;
      await scheduler.tick();
      await scheduler.idle();
    },
  };
}

describe('sync scheduler', () => {
  it('runs a new peer at once, then every interval', async () => {
    const run = harness([peer('a')], () => true);
    await run.advance(0);
    await run.advance(59_000);
    await run.advance(1_000);
    await run.advance(60_000);
    assert.deepEqual(run.calls.map((call) => (call.at - T0) / 1000), [0, 60, 120]);
    await run.scheduler.close();
  });

  it('backs off exponentially after failures and returns to the interval after a success', async () => {
    const run = harness([peer('a')], (_name, call) => call > 3);
    for (let second = 0; second <= 1000; second += 10) await run.advance(second === 0 ? 0 : 10_000);
    const times = run.calls.map((call) => (call.at - T0) / 1000);
    // Failures at 0, 120 and 360 s (then 1, 2, 3 consecutive: waits of 120, 240, 480 s), success at 840 s, then every 60 s again.
    assert.deepEqual(times.slice(0, 6), [0, 120, 360, 840, 900, 960]);
    await run.scheduler.close();
  });

  it('a peer that restarts with a recent attempt waits for its turn instead of running at once', async () => {
    const states = { a: { ...NEVER_SYNCED, lastAttemptAt: new Date(T0 - 20_000).toISOString(), lastSuccessAt: new Date(T0 - 20_000).toISOString() } };
    const run = harness([peer('a')], () => true, states);
    await run.advance(0);
    assert.equal(run.calls.length, 0);
    await run.advance(40_000);
    assert.deepEqual(run.calls.map((call) => call.at - T0), [40_000]);
    await run.scheduler.close();
  });

  it('raises one peer-silent notice after silentAfter intervals without a success, and again only after the peer answered', async () => {
    let up = false;
    const run = harness([peer('a')], () => up);
    for (let step = 0; step <= 30; step += 1) await run.advance(step === 0 ? 0 : 10_000);
    assert.equal(run.notices.length, 1);
    const notice = run.notices[0];
    assert.equal(notice?.peer, 'a');
    assert.equal(notice?.lastSuccessAt, undefined);
    assert.equal(notice?.lastError?.code, 'ENT_PEER_UNREACHABLE');
    assert.ok((notice?.silentForSeconds ?? 0) >= 180);
    up = true;
    for (let step = 0; step < 60; step += 1) await run.advance(10_000);
    up = false;
    for (let step = 0; step < 60; step += 1) await run.advance(10_000);
    assert.equal(run.notices.length, 2);
    await run.scheduler.close();
  });

  it('close() aborts the cycle in flight and waits for it', async () => {
    const run = harness([peer('a')], () => 'hang');
    await run.scheduler.tick();
    assert.equal(run.calls.length, 1);
    await run.scheduler.close();
    assert.deepEqual(run.aborted, ['a']);
    await run.scheduler.tick();
    assert.equal(run.calls.length, 1, 'nothing starts after close');
  });

  it('a peer removed meanwhile is dropped; a busy peer waits for its next turn', async () => {
    const peers = [peer('a'), peer('b')];
    let now = T0;
    const errors: unknown[] = [];
    const scheduler = openSyncScheduler(
      {
        store: { listPeers: async () => peers, getPeerState: async () => NEVER_SYNCED },
        runCycle: async (name) => {
          if (name === 'a') throw new EntenteError('ENT_PEER_NOT_FOUND', 'gone');
          throw new EntenteError('ENT_SYNC_BUSY', 'busy');
        },
        clock: () => new Date(now),
        random: () => 0.5,
        onPeerSilent: () => undefined,
        onError: (error) => errors.push(error),
      },
      { tickMs: 0 },
    );
    await scheduler.tick();
    await scheduler.idle();
    assert.deepEqual([...scheduler.nextRuns().keys()], ['b']);
    assert.equal(scheduler.nextRuns().get('b'), T0 + 60_000);
    assert.deepEqual(errors, []);
    now += 1;
    await scheduler.close();
  });

  // `entente sync` (or a worker's POST /api/peers/:name/sync) pulls the peer beside the node: the
  // store refuses the node's overlapping pull (ENT_SYNC_BUSY in the report) and the other process
  // records its success in the store.
  it('a cycle overtaken by another process is no failure, and the success that process stored keeps the peer from silence', async () => {
    let now = T0;
    const calls: number[] = [];
    const notices: PeerSilentNotice[] = [];
    const scheduler = openSyncScheduler(
      {
        store: {
          listPeers: async () => [peer('a')],
          getPeerState: async () => ({ ...NEVER_SYNCED, lastSuccessAt: new Date(now - 1_000).toISOString() }),
        },
        runCycle: async (name) => {
          calls.push((now - T0) / 1000);
          return { ...report(name, false, now), error: { code: 'ENT_SYNC_BUSY', message: 'Another pull of peer a moved its cursor meanwhile' } };
        },
        clock: () => new Date(now),
        random: () => 0.5,
        onPeerSilent: (notice) => notices.push(notice),
      },
      { tickMs: 0 },
    );
    for (let step = 0; step <= 30; step += 1) {
      if (step > 0) now += 10_000;
      await scheduler.tick();
      await scheduler.idle();
    }
    assert.deepEqual(calls, [0, 60, 120, 180, 240, 300], 'every interval: no backoff');
    assert.deepEqual(notices, [], 'never silent: the peer answered the other process');
    await scheduler.close();
  });
});
