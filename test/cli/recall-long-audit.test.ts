import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cliWorkspace, succeeded } from './cli-kit.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { AUDIT_READ_ENTRIES, type AuditEntry, type PageAuditEntry } from '../../src/audit/audit-chain.ts';

const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const indicatorId = (n: number): string => `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

// Recall notices at a member's leaving are drawn from the audit log, read a few entries at a time:
// every release the log holds for the member is recalled once, however many reads it takes.
describe('recalls of a member whose releases fill many reads of the audit log', () => {
  const node = cliWorkspace('recall-long-audit');
  after(() => node.remove());

  before(async () => {
    succeeded(await node.run('org', 'add', 'Bank', '--kind', 'company', '--id', BANK));
    succeeded(await node.run('circle', 'create', 'grid', '--name', 'Grid', '--until', '2099-01-01T00:00:00Z'));
    succeeded(await node.run('circle', 'invite', 'grid', '--org', BANK));
    const terms = node.file('terms.json', JSON.stringify({
      scope: { types: ['indicator'] }, highest_tlp: 'amber', onward_sharing: 'none', attribution: 'keep',
      expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' }, end_rule: 'recall',
    }));
    succeeded(await node.run('circle', 'propose', 'grid', '--terms', terms));
    succeeded(await node.run('circle', 'accept', 'grid', '--org', BANK));
  });

  it('queues one notice per version released, across more entries than one read holds, pages and repeats included', async () => {
    const at = new Date().toISOString();
    const single = (n: number): AuditEntry => ({ objectId: indicatorId(n), objectModified: '2026-01-01T00:00:00.000Z', recipientOrganisationId: BANK, circleId: 'grid', agreementVersion: 1, decision: 'share', at });
    const page: PageAuditEntry = {
      kind: 'page', recipientOrganisationId: BANK, circleId: 'grid', at,
      releases: Array.from({ length: 300 }, (_, n) => ({ objectId: indicatorId(10_000 + n), objectModified: '2026-01-01T00:00:00.000Z', agreementVersion: 1, decision: 'share' as const })),
    };
    const singles = 2 * AUDIT_READ_ENTRIES + 50;
    const store = openSqliteObjectStore({ path: join(node.data, 'entente.sqlite') });
    try {
      // The same version released twice (a re-sync) is recalled once; a withheld one is not recalled.
      const withheld: AuditEntry = { ...single(99_999), decision: 'withhold' };
      await store.appendAudit([...Array.from({ length: singles }, (_, n) => single(n)), page, single(0), withheld]);
    } finally {
      await store.close();
    }
    const left = succeeded(await node.run('circle', 'leave', 'grid', '--org', BANK)).stdout;
    assert.match(left, new RegExp(`left circle grid; ${singles + 300} recall notices queued$`, 'm'));
  });
});
