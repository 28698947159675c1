import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AUDIT_READ_ENTRIES, chainEntry, GENESIS_HASH, MAX_PAGE_ENTRY_RELEASES, releasesIn, type AuditLogEntry, type PageRelease } from '../audit/audit-chain.ts';
import type { AuditQuery, AuditRecord, ObjectStore, RecallNotice } from '../store/object-store.ts';
import { openSqliteObjectStore } from '../store/sqlite/sqlite-object-store.ts';
import { queueRevocationRecalls } from '../federation/recall-revocations.ts';
import { acceptAgreement, createCircle, invite, leave, proposeAgreement, type CircleActor, type CircleDeps } from './circle-operations.ts';

// Recalls read the audit's page entries (kind "page", up to MAX_PAGE_ENTRY_RELEASES releases each):
// every release they list is recalled; a reader of the whole log never holds more releases at once
// than AUDIT_READ_ENTRIES entries can list.

const HOME = 'identity--0a000000-0000-4000-8000-000000000001';
const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const CIRCLE = 'grid-2026';
const admin: CircleActor = { organisationId: HOME, admin: true };

const TERMS = {
  scope: { types: ['indicator'] },
  highest_tlp: 'amber',
  onward_sharing: 'none',
  attribution: 'keep',
  expectations: { permitted_actions: 'internally-visible-actions', affected_party_notifications: 'may', provider_attribution: 'may' },
  end_rule: 'recall',
};

function release(n: number): PageRelease {
  return { objectId: `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, objectModified: '2026-01-01T00:00:00.000Z', agreementVersion: 1, decision: 'share' };
}

/** Pages of `size` releases to the bank, numbered from `from`. */
function pages(count: number, size: number, from: number): AuditLogEntry[] {
  return Array.from({ length: count }, (_, page) => ({
    kind: 'page' as const,
    recipientOrganisationId: BANK,
    circleId: CIRCLE,
    at: '2026-03-10T00:00:00.000Z',
    releases: Array.from({ length: size }, (_, index) => release(from + page * size + index)),
  }));
}

describe('recalls at a leaving read every release of the audit page entries', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  const now = new Date('2026-03-01T00:00:00.000Z');

  beforeEach(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    deps = { store, clock: () => now, homeOrganisationId: HOME };
    await store.createOrganisation({ id: BANK, name: 'Bank', kind: 'company', sectors: [], country: undefined, identityJson: '{}', createdAt: now.toISOString() });
    await createCircle(deps, { id: CIRCLE, name: 'Grid 2026', kind: 'tacit', visibility: 'hidden', default_tlp: 'amber', valid_until: '2026-12-31T00:00:00Z' });
    await invite(deps, admin, CIRCLE, { organisationId: BANK, role: 'consumer', trial: false });
    await proposeAgreement(deps, admin, CIRCLE, TERMS);
    await acceptAgreement(deps, { organisationId: BANK, admin: false }, CIRCLE, BANK, 1);
  });
  afterEach(async () => store.close());

  it('recalls each release of pages and of single entries, mixed, once', async () => {
    const single = { ...release(1_000), recipientOrganisationId: BANK, circleId: CIRCLE, at: '2026-03-10T00:00:00.000Z' };
    await store.appendAudit([...pages(2, 3, 0), single, ...pages(1, 2, 100), { ...single }]);
    const left = await leave(deps, { organisationId: BANK, admin: false }, CIRCLE, BANK);
    assert.equal(left.recalls, 3 + 3 + 1 + 2);
    const recalled = (await store.listRecalls({ organisationId: BANK })).map((notice) => notice.objectId).sort();
    assert.deepEqual(recalled, [0, 1, 2, 3, 4, 5, 100, 101, 1_000].map((n) => release(n).objectId).sort());
  });

  it('recalls every release of 101 full page entries', async () => {
    await store.appendAudit(pages(101, MAX_PAGE_ENTRY_RELEASES, 0));
    const left = await leave(deps, { organisationId: BANK, admin: false }, CIRCLE, BANK);
    assert.equal(left.recalls, 101 * MAX_PAGE_ENTRY_RELEASES);
  });
});

describe('revocation recalls read the whole audit a bounded number of releases at a time', () => {
  it(`recalls the revoked object from every page, never holding more than ${AUDIT_READ_ENTRIES} entries' releases at once`, async () => {
    // 101 full pages to the bank (50,500 releases), one of them naming the revoked object.
    const log: AuditRecord[] = [];
    let previous = GENESIS_HASH;
    for (const entry of pages(101, MAX_PAGE_ENTRY_RELEASES, 0)) {
      const chained = chainEntry(previous, entry);
      log.push({ seq: log.length + 1, chained });
      previous = chained.hash;
    }
    const revokedId = release(100 * MAX_PAGE_ENTRY_RELEASES + 7).objectId;
    let largestRead = 0;
    let queued: readonly RecallNotice[] = [];
    const meta = new Map<string, string>();
    // Only what queueRevocationRecalls asks of a store: one collection holding one revoked home version.
    const store = {
      getMeta: async (key: string) => meta.get(key),
      setMeta: async (key: string, value: string) => void meta.set(key, value),
      listCollections: async () => [{ id: 'collection--1' }],
      scanEntries: async (_collection: string, scan: { after: number }) => ({ entries: [{ id: revokedId, version: '2026-02-01T00:00:00.000Z' }], examined: 1, scannedTo: scan.after + 1, more: false }),
      contributionsOf: async () => new Map(),
      provenanceOf: async () => new Map(),
      originSignersOf: async () => new Map(),
      readAudit: async (query: AuditQuery) => {
        const records = log.filter((record) => record.seq > (query.afterSeq ?? 0)).slice(0, query.limit);
        largestRead = Math.max(largestRead, records.reduce((sum, record) => sum + releasesIn(record.chained.entry).length, 0));
        return records;
      },
      queueRecalls: async (notices: readonly RecallNotice[]) => {
        queued = notices;
        return notices.length;
      },
    } as unknown as ObjectStore;
    const queuedCount = await queueRevocationRecalls({ store, clock: () => new Date('2026-03-20T00:00:00.000Z'), homeOrganisationId: HOME });
    assert.equal(queuedCount, 1);
    assert.deepEqual(queued.map((notice) => [notice.organisationId, notice.objectId, notice.version]), [[BANK, revokedId, '2026-01-01T00:00:00.000Z']]);
    assert.ok(largestRead <= AUDIT_READ_ENTRIES * MAX_PAGE_ENTRY_RELEASES && AUDIT_READ_ENTRIES * MAX_PAGE_ENTRY_RELEASES <= 50_000, `one read of the audit held ${largestRead} releases`);
  });
});
