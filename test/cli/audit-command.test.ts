import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { entente, temporaryDirectory, type CliRun } from './cli-kit.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { AuditEntry, FlashAuditEntry, PageAuditEntry } from '../../src/audit/audit-chain.ts';

const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const NGO = 'identity--0c000000-0000-4000-8000-000000000003';
const GRID = 'identity--0d000000-0000-4000-8000-000000000004';
const GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
const RED = 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1';

function indicator(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
    name: `Indicator ${n}`,
    pattern: `[ipv4-addr:value = '198.51.100.${n}']`,
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00Z',
    ...extra,
  };
}

const objects = [
  indicator(1, { object_marking_refs: [GREEN] }),
  indicator(2),
  indicator(3, { object_marking_refs: [RED] }),
  {
    type: 'malware', spec_version: '2.1', id: 'malware--00000000-0000-4000-8000-0000000000aa',
    created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', name: 'GridWiper', is_family: true,
  },
];

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return run;
}

function refused(run: CliRun, exit: 1 | 2, code: string, message?: RegExp): void {
  assert.equal(run.code, exit, `expected exit ${exit}, got ${run.code}: ${run.stdout}${run.stderr}`);
  assert.match(run.stderr, new RegExp(`^entente: ${code}: `, 'm'));
  if (message !== undefined) assert.match(run.stderr, message);
}

interface Received {
  seq: number;
  item: number;
  objectId: string;
  objectModified: string;
  recipientOrganisationId: string;
  circleId: string;
  agreementVersion?: number;
  decision: string;
  at: string;
}

describe('entente audit', () => {
  const data = temporaryDirectory('audit-cli');
  after(() => data.remove());
  const run = (...args: string[]): Promise<CliRun> => entente(data.path, args);
  const receivedBy = async (...args: string[]): Promise<Received[]> =>
    ok(await run('audit', 'received', '--json', ...args)).stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Received);
  /** What an export for a partner put in its bundle: ids only. */
  const exportFor = async (collection: string, org: string): Promise<string[]> => {
    const exported = ok(await run('export', '--collection', collection, '--for', org));
    return (JSON.parse(exported.stdout) as { objects: { id: string }[] }).objects.map((object) => object.id).sort();
  };
  let exportedToBank: string[] = [];
  let exportedToNgo: string[] = [];
  let firstExportAt = '';
  let secondExportFrom = '';

  before(async () => {
    for (const [name, id] of [['Bank', BANK], ['NGO', NGO], ['Grid', GRID]] as const) ok(await run('org', 'add', name, '--kind', 'company', '--id', id));
    ok(await run('circle', 'create', 'grid-2026', '--name', 'Grid 2026', '--until', '2099-01-01T00:00:00Z'));
    ok(await run('circle', 'create', 'side', '--name', 'Side', '--until', '2099-01-01T00:00:00Z'));
    ok(await run('circle', 'invite', 'grid-2026', '--org', BANK));
    ok(await run('circle', 'invite', 'grid-2026', '--org', NGO, '--trial'));
    ok(await run('circle', 'invite', 'side', '--org', BANK));
    const terms = join(data.path, 'terms.json');
    writeFileSync(terms, JSON.stringify({
      scope: { types: ['indicator'] }, highest_tlp: 'amber', onward_sharing: 'none', attribution: 'keep',
      expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' }, end_rule: 'recall',
    }));
    for (const circle of ['grid-2026', 'side']) ok(await run('circle', 'propose', circle, '--terms', terms));
    ok(await run('circle', 'accept', 'grid-2026', '--org', BANK));
    ok(await run('circle', 'accept', 'grid-2026', '--org', NGO));
    ok(await run('circle', 'accept', 'side', '--org', BANK));
    const bundle = join(data.path, 'bundle.json');
    writeFileSync(bundle, JSON.stringify({ type: 'bundle', id: 'bundle--00000000-0000-4000-8000-000000000001', objects }));
    ok(await run('import', bundle, '--collection', 'grid-2026'));
    ok(await run('import', bundle, '--collection', 'side'));

    firstExportAt = new Date().toISOString();
    exportedToBank = await exportFor('grid-2026', BANK);
    exportedToNgo = await exportFor('grid-2026', NGO);
    await new Promise((resolve) => setTimeout(resolve, 5));
    secondExportFrom = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await exportFor('side', BANK);
    // A partner that is in no circle of that collection receives nothing, and nothing is audited for it.
    assert.deepEqual(await exportFor('grid-2026', GRID), []);
  });

  it('has --help with an example for every subcommand', async () => {
    for (const sub of ['verify', 'received']) assert.match(ok(await run('audit', sub, '--help')).stdout, /Example:\n\s+\$ entente audit /);
    // What a script reads from --json lines is said where it looks first.
    const help = ok(await run('audit', 'received', '--help')).stdout;
    assert.match(help, /"seq"/);
    assert.match(help, /"item"/);
  });

  it('exports released what the terms and markings allow: the full member more than the trial member', () => {
    assert.deepEqual(exportedToBank, [indicator(1)['id'], indicator(2)['id']]);
    assert.deepEqual(exportedToNgo, [indicator(1)['id']], 'trial: GREEN indicators only');
  });

  it('lists exactly what each organisation received, through which circle and terms', async () => {
    const bank = await receivedBy('--org', BANK);
    assert.deepEqual(bank.map((entry) => `${entry.circleId} ${entry.objectId}`).sort(), [
      `grid-2026 ${String(indicator(1)['id'])}`, `grid-2026 ${String(indicator(2)['id'])}`,
      `side ${String(indicator(1)['id'])}`, `side ${String(indicator(2)['id'])}`,
    ]);
    for (const entry of bank) {
      assert.equal(entry.recipientOrganisationId, BANK);
      assert.equal(entry.objectModified, '2026-01-01T00:00:00.000Z');
      assert.equal(entry.agreementVersion, 1);
      assert.equal(entry.decision, 'share');
    }
    assert.deepEqual((await receivedBy('--org', NGO)).map((entry) => entry.objectId), exportedToNgo);
    assert.deepEqual(await receivedBy('--org', GRID), []);
    assert.deepEqual((await receivedBy('--org', BANK, '--circle', 'side')).map((entry) => entry.objectId).sort(), exportedToBank);

    const table = ok(await run('audit', 'received', '--org', BANK, '--circle', 'grid-2026'));
    assert.match(table.stdout, /^AT\tCIRCLE\tAGREEMENT\tDECISION\tOBJECT\tVERSION\tREDACTED$/m);
    assert.match(table.stdout, new RegExp(`^\\S+Z\\tgrid-2026\\tv1\\tshare\\t${String(indicator(2)['id'])}\\t2026-01-01T00:00:00.000Z\\t-$`, 'm'));
    assert.match(table.stderr, new RegExp(`^${BANK} received 2 object versions in 2 releases$`, 'm'));
  });

  it('prints a release listed in a page entry as the same JSON line as a release in an entry of its own', async () => {
    // The bank's two versions through grid-2026 were one page entry (kind "page"); the NGO's one version its own entry.
    const [single] = await receivedBy('--org', NGO);
    assert.ok(single !== undefined);
    const keys = Object.keys(single).sort();
    assert.deepEqual(keys, ['agreementVersion', 'at', 'circleId', 'decision', 'item', 'objectId', 'objectModified', 'recipientOrganisationId', 'seq']);
    assert.equal(single.item, 0, 'an entry of one release: its only item');
    const paged = await receivedBy('--org', BANK, '--circle', 'grid-2026');
    assert.equal(paged.length, 2);
    for (const line of paged) assert.deepEqual(Object.keys(line).sort(), keys, 'no kind, no releases: the fields scripts read from each line are kept, item added');
  });

  // The lines of one page entry share its seq: (seq, item) names one release, as releases[item] of that entry.
  it('addresses every --json line by its entry (seq) and its place in it (item)', async () => {
    const lines = await receivedBy('--org', BANK);
    assert.equal(new Set(lines.map((line) => `${line.seq}/${line.item}`)).size, lines.length, 'no two lines share (seq, item)');
    const paged = lines.filter((line) => line.circleId === 'grid-2026');
    assert.equal(new Set(paged.map((line) => line.seq)).size, 1, 'one page entry');
    assert.deepEqual(paged.map((line) => line.item), [0, 1], 'in the order the entry lists them');
    const db = new Database(join(data.path, 'entente.sqlite'), { readonly: true });
    try {
      for (const line of lines) {
        const entry = JSON.parse(db.prepare('SELECT entry FROM audit_log WHERE seq = ?').pluck().get(line.seq) as string) as { objectId?: string; releases?: { objectId: string }[] };
        assert.equal(entry.releases === undefined ? (line.item === 0 ? entry.objectId : undefined) : entry.releases[line.item]?.objectId, line.objectId);
      }
    } finally {
      db.close();
    }
  });

  it('bounds the listing by --from (inclusive) and --to (exclusive)', async () => {
    const all = await receivedBy('--org', BANK);
    const later = await receivedBy('--org', BANK, '--from', secondExportFrom);
    assert.deepEqual(later.map((entry) => entry.circleId), ['side', 'side']);
    const earlier = await receivedBy('--org', BANK, '--from', firstExportAt, '--to', secondExportFrom);
    assert.deepEqual(earlier.map((entry) => entry.circleId), ['grid-2026', 'grid-2026']);
    assert.equal(later.length + earlier.length, all.length);
    const exact = all[0]?.at ?? '';
    assert.equal((await receivedBy('--org', BANK, '--from', exact)).length, all.length);
    assert.equal((await receivedBy('--org', BANK, '--to', exact)).length, 0);
    assert.deepEqual(await receivedBy('--org', BANK, '--to', '2020-01-01T00:00:00Z'), []);
  });

  it('verifies the chain of every release: one entry per page released, a single release as its own entry', async () => {
    // Five releases in three pages: two versions to the bank, one to the NGO, two to the bank through `side`.
    assert.match(ok(await run('audit', 'verify')).stdout, /^Audit log verified: 3 entries, last hash [0-9a-f]{64}$/m);
    const pages = (await receivedBy('--org', BANK)).map((entry) => entry.seq);
    assert.equal(new Set(pages).size, 2, "each page's releases are listed one by one, under the page entry's seq");
  });

  it('lists a flash sent to the organisation with its releases, verifies it in the chain, and recalls nothing for it', async () => {
    // What flash-operations.ts deliverFlash writes before POSTing a copy: here, one without its indicator.
    const flash: FlashAuditEntry = {
      kind: 'flash', flashId: '6da0497b-1ed7-5073-9dbe-80874aae5a02', sentFlashId: '036a37f8-ae2e-5885-ac9b-06d0bb9c1bab', indicatorId: String(indicator(3)['id']),
      indicatorNamed: false, recipientOrganisationId: BANK, circleId: 'side', agreementVersion: 1, at: new Date().toISOString(),
    };
    const store = openSqliteObjectStore({ path: join(data.path, 'entente.sqlite') });
    try {
      await store.appendAudit([flash]);
    } finally {
      await store.close();
    }
    const side = await receivedBy('--org', BANK, '--circle', 'side');
    assert.equal(side.length, 3);
    assert.deepEqual(side.at(-1), { seq: 4, item: 0, ...flash });
    const table = ok(await run('audit', 'received', '--org', BANK, '--circle', 'side'));
    assert.match(table.stdout, new RegExp(`^${flash.at}\\tside\\tv1\\tflash\\t${flash.flashId}\\t-\\tindicator_id$`, 'm'));
    assert.match(table.stderr, new RegExp(`^${BANK} received 2 object versions in 2 releases and 1 flash message$`, 'm'));
    assert.match(ok(await run('audit', 'verify')).stdout, /^Audit log verified: 4 entries, last hash [0-9a-f]{64}$/m);
    // A flash names no object version: leaving the circle recalls the two versions released, nothing more.
    assert.match(ok(await run('circle', 'leave', 'side', '--org', BANK)).stdout, /left circle side; 2 recall notices queued$/m);
  });

  it('refuses bad options with their code and exit status', async () => {
    refused(await run('audit', 'received', '--org', 'identity--0f000000-0000-4000-8000-00000000000f'), 1, 'ENT_ORG_NOT_FOUND');
    refused(await run('audit', 'received', '--org', BANK, '--circle', 'no-such-circle'), 1, 'ENT_CIRCLE_NOT_FOUND');
    for (const time of ['yesterday', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00', '2026-01-01T00:00:00+02:00x']) {
      refused(await run('audit', 'received', '--org', BANK, '--from', time), 2, 'ENT_CLI_USAGE', /--from .* is not an RFC 3339 timestamp/);
      refused(await run('audit', 'received', '--org', BANK, '--to', time), 2, 'ENT_CLI_USAGE', /--to/);
    }
    refused(await run('audit', 'received', '--org', BANK, '--from', '2026-06-01T00:00:00Z', '--to', '2026-01-01T00:00:00Z'), 2, 'ENT_CLI_USAGE', /must be before --to/);
    assert.equal((await run('audit', 'received')).code, 2, '--org is required');
  });

  it('queues recall notices for exactly what the audit says a leaving member received', async () => {
    const left = ok(await run('circle', 'leave', 'grid-2026', '--org', BANK));
    assert.match(left.stdout, /left circle grid-2026; 2 recall notices queued$/m);
    const notices = ok(await run('circle', 'recalls', '--circle', 'grid-2026', '--org', BANK)).stdout.trim().split('\n').map((line) => JSON.parse(line) as { objectId: string; version: string });
    const received = await receivedBy('--org', BANK, '--circle', 'grid-2026');
    assert.deepEqual(notices.map((notice) => `${notice.objectId} ${notice.version}`).sort(), received.map((entry) => `${entry.objectId} ${entry.objectModified}`).sort());
    // Releases stop at once: the next export for the member that left is empty and audits nothing.
    assert.deepEqual(await exportFor('grid-2026', BANK), []);
    assert.equal((await receivedBy('--org', BANK, '--circle', 'grid-2026')).length, 2);
  });

  it('never prints an entry that was tampered with as received', async () => {
    const db = new Database(join(data.path, 'entente.sqlite'));
    try {
      db.exec('DROP TRIGGER audit_log_is_append_only_update');
      const row = db.prepare('SELECT seq, entry FROM audit_log WHERE recipient_organisation_id = ? ORDER BY seq LIMIT 1').get(NGO) as { seq: number; entry: string };
      db.prepare('UPDATE audit_log SET entry = ? WHERE seq = ?').run(JSON.stringify({ ...(JSON.parse(row.entry) as object), objectId: indicator(9)['id'] }), row.seq);
      refused(await run('audit', 'received', '--org', NGO), 1, 'ENT_AUDIT_BROKEN', new RegExp(`audit entry ${row.seq} does not verify`));
      refused(await run('audit', 'verify'), 1, 'ENT_AUDIT_BROKEN', new RegExp(`audit entry ${row.seq} does not verify`));
    } finally {
      db.close();
    }
  });

  // `audit received` reads a recipient's entries a few at a time (AUDIT_READ_ENTRIES, 100): every
  // line is printed once, in log order, across reads, single releases, pages and flashes alike.
  it('lists a recipient with more entries than one read holds, each line once, in log order', async () => {
    const LATE = 'identity--0e000000-0000-4000-8000-000000000005';
    ok(await run('org', 'add', 'Late', '--kind', 'company', '--id', LATE));
    const at = new Date().toISOString();
    const single = (n: number): AuditEntry => ({
      objectId: String(indicator(n)['id']), objectModified: '2026-01-01T00:00:00.000Z', recipientOrganisationId: LATE, circleId: 'side', agreementVersion: 1, decision: 'share', at,
    });
    const page: PageAuditEntry = {
      kind: 'page', recipientOrganisationId: LATE, circleId: 'side', at, releases: [1, 2, 3].map((n) => ({ objectId: String(indicator(1000 + n)['id']), objectModified: '2026-01-01T00:00:00.000Z', agreementVersion: 1, decision: 'share' })),
    };
    const store = openSqliteObjectStore({ path: join(data.path, 'entente.sqlite') });
    try {
      await store.appendAudit([...Array.from({ length: 150 }, (_, n) => single(n + 100)), page, ...Array.from({ length: 60 }, (_, n) => single(n + 300))]);
    } finally {
      await store.close();
    }
    const lines = await receivedBy('--org', LATE);
    assert.equal(lines.length, 213);
    assert.deepEqual(lines.map((line) => line.objectId), [
      ...Array.from({ length: 150 }, (_, n) => String(indicator(n + 100)['id'])),
      ...[1, 2, 3].map((n) => String(indicator(1000 + n)['id'])),
      ...Array.from({ length: 60 }, (_, n) => String(indicator(n + 300)['id'])),
    ]);
    assert.deepEqual(lines.slice(150, 153).map((line) => line.item), [0, 1, 2]);
    assert.equal(new Set(lines.map((line) => `${line.seq}/${line.item}`)).size, 213);
    assert.match(ok(await run('audit', 'received', '--org', LATE)).stderr, new RegExp(`^${LATE} received 213 object versions in 213 releases$`, 'm'));
  });
});

describe('entente audit verify and the index --from/--to windows are read through', () => {
  const data = temporaryDirectory('audit-cli-hours');
  after(() => data.remove());
  const run = (...args: string[]): Promise<CliRun> => entente(data.path, args);

  // audit_hours is outside the hash chain: a row deleted by hand hides its hour's entries from
  // `audit received --from/--to`, and a verified chain alone would say nothing of it.
  it("fails naming the first entry a window would skip, when the index no longer places it", async () => {
    ok(await run('org', 'add', 'Bank', '--kind', 'company', '--id', BANK));
    const store = openSqliteObjectStore({ path: join(data.path, 'entente.sqlite') });
    try {
      await store.appendAudit(['2026-03-01T10:15:00.000Z', '2026-03-01T11:15:00.000Z'].map((at, n) => ({
        objectId: String(indicator(n + 1)['id']), objectModified: '2026-01-01T00:00:00.000Z', recipientOrganisationId: BANK, circleId: 'grid-2026', agreementVersion: 1, decision: 'share', at,
      })));
    } finally {
      await store.close();
    }
    assert.match(ok(await run('audit', 'verify')).stdout, /^Audit log verified: 2 entries/m);
    const db = new Database(join(data.path, 'entente.sqlite'));
    try {
      db.exec('DROP TRIGGER audit_hours_keeps_its_rows');
      db.prepare("DELETE FROM audit_hours WHERE hour = '2026-03-01T11'").run();
    } finally {
      db.close();
    }
    assert.deepEqual(ok(await run('audit', 'received', '--json', '--org', BANK, '--from', '2026-03-01T11:00:00Z')).stdout, '', 'the entry of 11:15 is skipped');
    refused(await run('audit', 'verify'), 1, 'ENT_AUDIT_BROKEN', /audit entry 2 does not verify \(an index kept beside the log does not place it: the one --from\/--to windows are read through/);
  });
});
