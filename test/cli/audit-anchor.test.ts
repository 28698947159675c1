import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cliWorkspace, succeeded, type CliRun } from './cli-kit.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { AuditEntry } from '../../src/audit/audit-chain.ts';
import { makeAuditAnchor } from '../../src/audit/audit-anchor.ts';
import { testOrganisation } from '../../src/federation/test-support.ts';

const BANK = 'identity--0b000000-0000-4000-8000-000000000002';

function release(n: number, objectId = `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`): AuditEntry {
  return {
    objectId,
    objectModified: '2026-01-01T00:00:00.000Z',
    recipientOrganisationId: BANK,
    circleId: 'grid-2026',
    agreementVersion: 1,
    decision: 'share',
    at: `2026-11-24T10:00:${String(n % 60).padStart(2, '0')}.000Z`,
  };
}

function refused(run: CliRun, code: string, message?: RegExp): void {
  assert.equal(run.code, 1, `expected exit 1, got ${run.code}: ${run.stdout}${run.stderr}`);
  assert.match(run.stderr, new RegExp(`^entente: ${code}: `, 'm'));
  if (message !== undefined) assert.match(run.stderr, message);
}

describe('entente audit anchor: the log pinned outside the node', () => {
  const node = cliWorkspace('audit-anchor');
  after(() => node.remove());
  const database = (): string => join(node.data, 'entente.sqlite');
  async function append(entries: readonly AuditEntry[]): Promise<void> {
    const store = openSqliteObjectStore({ path: database() });
    try {
      await store.appendAudit(entries);
    } finally {
      await store.close();
    }
  }
  /** What someone who controls the node's files can do: the append-only triggers dropped, raw SQL. */
  function withRawLog(change: (db: Database.Database) => void): void {
    const db = new Database(database());
    try {
      db.exec('DROP TRIGGER IF EXISTS audit_log_is_append_only_update; DROP TRIGGER IF EXISTS audit_log_is_append_only_delete');
      change(db);
    } finally {
      db.close();
    }
  }
  let anchorAt1 = '';
  let anchorAt3 = '';

  before(async () => {
    succeeded(await node.run('org', 'add', 'Bank', '--kind', 'company', '--id', BANK));
    await append([release(1)]);
    anchorAt1 = node.file('anchor-1.json', succeeded(await node.run('audit', 'anchor')).stdout);
    await append([release(2), release(3)]);
    anchorAt3 = node.file('anchor-3.json', succeeded(await node.run('audit', 'anchor')).stdout);
  });

  it('has --help with an example', async () => {
    assert.match(succeeded(await node.run('audit', 'anchor', '--help')).stdout, /Example:\n\s+\$ entente audit anchor/);
    assert.match(succeeded(await node.run('audit', 'verify', '--help')).stdout, /--anchor <file>/);
  });

  it("prints the node's signed statement of the log's last entry", async () => {
    const anchor = JSON.parse(readFileSync(anchorAt3, 'utf8')) as { kind: string; signer: string; body: { seq: number; hash: string } };
    assert.equal(anchor.kind, 'audit-anchor');
    assert.equal(anchor.body.seq, 3);
    const verified = succeeded(await node.run('audit', 'verify')).stdout;
    assert.match(verified, new RegExp(`^Audit log verified: 3 entries, last hash ${anchor.body.hash}$`, 'm'));
    const keys = JSON.parse(succeeded(await node.run('key', 'show', '--json')).stdout) as { organisation_id: string };
    assert.equal(anchor.signer, keys.organisation_id);
  });

  it('writes it to a file with --out', async () => {
    const out = join(node.data, '..', 'anchor-out.json');
    const run = succeeded(await node.run('audit', 'anchor', '--out', out));
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /anchored entry 3/);
    assert.equal((JSON.parse(readFileSync(out, 'utf8')) as { body: { seq: number } }).body.seq, 3);
    assert.ok(statSync(out).isFile());
  });

  it('never overwrites a file with --out: an anchor kept there may be the only record of the log then', async () => {
    const out = join(node.data, '..', 'anchor-kept.json');
    succeeded(await node.run('audit', 'anchor', '--out', out));
    const kept = readFileSync(out, 'utf8');
    const again = await node.run('audit', 'anchor', '--out', out);
    assert.equal(again.code, 2, 'a usage error');
    assert.match(again.stderr, /^entente: ENT_CLI_USAGE: --out .*anchor-kept\.json already exists/m);
    assert.equal(readFileSync(out, 'utf8'), kept, 'the earlier anchor is left as it was');
  });

  it('holds as the log grows', async () => {
    await append([release(4), release(5)]);
    const run = succeeded(await node.run('audit', 'verify', '--anchor', anchorAt3));
    assert.match(run.stdout, /^Audit log verified: 5 entries/m);
    assert.match(run.stdout, /^Anchor .*anchor-3\.json: entry 3 holds$/m);
  });

  it('catches a history rewritten and chained again, which the chain alone cannot', async () => {
    const anchorAt5 = node.file('anchor-5.json', succeeded(await node.run('audit', 'anchor')).stdout);
    // Entry 2 said BANK received indicator 2; the rewrite says it received something else, and every
    // entry after it is chained again, so the log verifies on its own.
    withRawLog((db) => db.prepare('DELETE FROM audit_log WHERE seq >= 2').run());
    await append([release(2, 'indicator--00000000-0000-4000-8000-0000000000ff'), release(3), release(4), release(5)]);
    assert.match(succeeded(await node.run('audit', 'verify')).stdout, /^Audit log verified: 5 entries/m);
    refused(await node.run('audit', 'verify', '--anchor', anchorAt3), 'ENT_AUDIT_ANCHOR_MISMATCH', /anchor-3\.json.*entry 3 has hash [0-9a-f]{64}, and the anchor states [0-9a-f]{64}/);
    refused(await node.run('audit', 'verify', '--anchor', anchorAt5), 'ENT_AUDIT_ANCHOR_MISMATCH', /entry 5 has hash/);
    // Every anchor is checked and every failing one named, whatever their order: which hold bounds
    // where the history was rewritten (here entry 1's anchor holds; 2 on were rewritten).
    const all = await node.run('audit', 'verify', '--anchor', anchorAt5, '--anchor', anchorAt1, '--anchor', anchorAt3);
    refused(all, 'ENT_AUDIT_ANCHOR_MISMATCH', /anchor-5\.json.*entry 5 has hash.*anchor-3\.json.*entry 3 has hash/s);
    assert.match(all.stdout, /^Anchor .*anchor-1\.json: entry 1 holds$/m);
  });

  it('catches a log cut short below the anchored entry', async () => {
    const anchorNow = node.file('anchor-now.json', succeeded(await node.run('audit', 'anchor')).stdout);
    withRawLog((db) => db.prepare('DELETE FROM audit_log WHERE seq >= 4').run());
    assert.match(succeeded(await node.run('audit', 'verify')).stdout, /^Audit log verified: 3 entries/m);
    refused(await node.run('audit', 'verify', '--anchor', anchorNow), 'ENT_AUDIT_ANCHOR_MISMATCH', /names entry 5, and the log ends at entry 3/);
  });

  it('refuses an anchor that is not this node’s, or not an anchor, naming the file and the problem', async () => {
    const stranger = testOrganisation(9);
    const foreign = node.file('foreign.json', JSON.stringify(makeAuditAnchor({ seq: 1, hash: 'a'.repeat(64) }, stranger.signer, new Date())));
    refused(await node.run('audit', 'verify', '--anchor', foreign), 'ENT_AUDIT_ANCHOR_INVALID', /foreign\.json.*signed by identity--00000000-0000-4000-8000-000000000009, not by this node/);
    const mine = JSON.parse(readFileSync(anchorAt3, 'utf8')) as { body: Record<string, unknown> };
    const edited = node.file('edited.json', JSON.stringify({ ...mine, body: { ...mine.body, seq: 2 } }));
    refused(await node.run('audit', 'verify', '--anchor', edited), 'ENT_AUDIT_ANCHOR_INVALID', /edited\.json.*does not verify/);
    refused(await node.run('audit', 'verify', '--anchor', node.file('text.json', 'not json')), 'ENT_AUDIT_ANCHOR_INVALID', /text\.json.*not JSON/);
    refused(await node.run('audit', 'verify', '--anchor', node.file('empty.json', '{}')), 'ENT_AUDIT_ANCHOR_INVALID', /\$\.kind/);
    refused(await node.run('audit', 'verify', '--anchor', join(node.data, 'missing.json')), 'ENT_AUDIT_ANCHOR_INVALID', /missing\.json.*cannot be read/);
  });

  it('is never made over a broken chain', async () => {
    withRawLog((db) => db.prepare('UPDATE audit_log SET entry = replace(entry, ?, ?) WHERE seq = 2').run('"share"', '"withhold"'));
    refused(await node.run('audit', 'anchor'), 'ENT_AUDIT_BROKEN', /audit entry 2 does not verify/);
  });
});
