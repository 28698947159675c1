// What the running node logs of a scheduled sync cycle (syncCycleLog, used by compose.ts): the
// counts, and what the refresh of a mirrored circle refused (members shown as re-joined after they
// left here: a warning) and queued (recalls for members shown as left).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MirrorOutcome } from './mirror-circle.ts';
import { NO_PULL } from './pull-peer.ts';
import { syncCycleLog, syncReportJson, type SyncReport } from './sync-peer.ts';

const MEMBER = 'identity--0e000000-0000-4000-8000-00000000000e';

const mirror = (rejoinsRefused: string[], recallsQueued: number): MirrorOutcome => ({
  circleId: 'alliance', created: false, collectionCreated: false, agreementsAdded: 0, acceptancesAdded: 0, keysPinned: 0, conflictingVersions: [], rejoinsRefused, recallsQueued,
});

const report = (overrides: Partial<SyncReport> = {}): SyncReport => ({
  peer: 'cert-a', ok: true, startedAt: '2026-11-24T00:00:00.000Z', finishedAt: '2026-11-24T00:00:01.000Z', mirror: undefined, pull: { ...NO_PULL, added: 2 }, push: undefined, error: undefined, ...overrides,
});

describe('the log line of a scheduled sync cycle', () => {
  it('is the counts alone, at info, for a peer that does not coordinate the circle', () => {
    assert.deepEqual(syncCycleLog(report()), { level: 'info', fields: { peer: 'cert-a', added: 2, duplicates: 0, quarantined: 0, pushed: undefined }, message: 'peer synced' });
  });

  it('carries the recalls queued for members the view shows as left, at info', () => {
    const line = syncCycleLog(report({ mirror: mirror([], 3) }));
    assert.equal(line.level, 'info');
    assert.deepEqual([line.fields['rejoinsRefused'], line.fields['recallsQueued']], [[], 3]);
  });

  it('warns of members the view shows as members again after they left here, naming them', () => {
    const line = syncCycleLog(report({ mirror: mirror([MEMBER], 0) }));
    assert.equal(line.level, 'warn');
    assert.deepEqual(line.fields['rejoinsRefused'], [MEMBER]);
    assert.match(line.message, /members that left as members again: refused/);
  });

  it('warns of a failed cycle with its error, whatever the refresh did before', () => {
    const line = syncCycleLog(report({ ok: false, error: { code: 'ENT_PEER_UNREACHABLE', message: 'down' }, mirror: mirror([], 1) }));
    assert.deepEqual([line.level, line.message, line.fields['error'], line.fields['recallsQueued']], ['warn', 'peer sync failed', { code: 'ENT_PEER_UNREACHABLE', message: 'down' }, 1]);
  });
});

describe('the JSON report of a cycle (entente sync --json, POST /api/peers/NAME/sync)', () => {
  it('has rejoins_refused and recalls_queued, null when the circle was not refreshed from the peer', () => {
    const refreshed = syncReportJson(report({ mirror: mirror([MEMBER], 2) }));
    assert.deepEqual([refreshed['circle_refreshed'], refreshed['rejoins_refused'], refreshed['recalls_queued']], [true, [MEMBER], 2]);
    const pulled = syncReportJson(report());
    assert.deepEqual([pulled['circle_refreshed'], pulled['rejoins_refused'], pulled['recalls_queued']], [false, null, null]);
  });
});
