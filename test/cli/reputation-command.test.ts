import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseFileName } from '../../src/compose.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ArrivedObject } from '../../src/store/federation-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { entente, temporaryDirectory } from './cli-kit.ts';

const member = 'identity--1e5c4a3b-0000-4000-8000-00000000000a';
const other = 'identity--1e5c4a3b-0000-4000-8000-00000000000b';
const created = '2026-01-01T00:00:00.000Z';

function indicator(n: number, value: string, createdBy?: string): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--6d3c1a52-5c1f-4e0a-9d2b-${String(n).padStart(12, '0')}`,
    created,
    modified: created,
    pattern: `[ipv4-addr:value = '${value}']`,
    pattern_type: 'stix',
    valid_from: new Date(Date.now() - 3_600_000).toISOString(),
    confidence: 80,
    ...(createdBy === undefined ? {} : { created_by_ref: createdBy }),
  } as StixObject;
}

const signed = (object: StixObject, signer: string): ArrivedObject => ({ object, signer, keyId: 'k'.repeat(22), verification: 'verified', hops: [signer] });

interface ReputationRow {
  organisation: string;
  home: boolean;
  indicators: number;
  warninglist_hits: number;
  false_positives: number;
  corroborated: number;
  reputation: number;
  reasons: string[];
}

describe('entente reputation', () => {
  const dir = temporaryDirectory('reputation');
  const data = join(dir.path, 'data');
  after(() => dir.remove());

  before(async () => {
    const feed = join(dir.path, 'local.jsonl');
    writeFileSync(feed, JSON.stringify(indicator(1, '45.9.20.1')) + '\n');
    assert.equal((await entente(data, ['import', feed])).code, 0);
    // What two members' nodes sent, as a signed bundle file would store it (provenance: who signed each version).
    const store = openSqliteObjectStore({ path: join(data, databaseFileName) });
    try {
      const collectionId = (await store.getMeta('default_collection')) ?? '';
      const accepted = [
        // The member: one value also published by another member, one public DNS resolver, one more.
        ...[indicator(2, '45.9.20.2', member), indicator(3, '8.8.8.8', member), indicator(4, '45.9.20.4', member)].map((o) => signed(o, member)),
        signed(indicator(5, '45.9.20.2', other), other),
      ];
      // A key id belongs to one organisation: each member has its own.
      for (const [index, organisationId] of [member, other].entries()) {
        await store.pinKey({ organisationId, keyId: `${'k'.repeat(21)}${index}`, publicKey: 'p'.repeat(43), validFrom: created, validUntil: undefined, source: 'peer-add', pinnedAt: created });
      }
      await store.applySyncBatch({ collectionId, peer: undefined, circleId: undefined, source: 'file', contributorOrganisationId: member, accepted, quarantined: [], receivedAt: created });
    } finally {
      await store.close();
    }
  });

  it('per source: indicators, warninglist hits, false positives, corroborated, reputation, with reasons', async () => {
    const run = await entente(data, ['reputation', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const rows = JSON.parse(run.stdout) as ReputationRow[];
    const byOrg = new Map(rows.map((row) => [row.organisation, row]));
    const m = byOrg.get(member);
    assert.deepEqual([m?.indicators, m?.warninglist_hits, m?.false_positives, m?.corroborated], [3, 1, 0, 1]);
    assert.ok((m?.reputation ?? 1) < 0.92);
    assert.ok(m?.reasons.some((r) => /1 of 3 indicators hit MISP warninglists \(public-dns/.test(r)));
    assert.deepEqual([byOrg.get(other)?.indicators, byOrg.get(other)?.corroborated], [1, 1]);
    const home = rows.find((row) => row.home);
    assert.equal(home?.indicators, 1);

    const text = await entente(data, ['reputation']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^SOURCE\tNAME\tINDICATORS\tWARNINGLIST\tFALSE_POSITIVES\tCORROBORATED\tREPUTATION$/m);
    assert.match(text.stdout, new RegExp(`^${member}\t-\t3\t1\t0\t1\t0\\.\\d\\d$`, 'm'));
    assert.match(text.stdout, /\(home: not applied\)/);
  });

  it("entente match: alerts on a member's indicators carry its reputation and independent corroboration; the home organisation's are not discounted", async () => {
    const lines = ['45.9.20.1', '45.9.20.2', '45.9.20.4'].map((value) => JSON.stringify({ type: 'ipv4-addr', value })).join('\n');
    const run = await entente(data, ['match', '-', '--no-store'], lines);
    assert.equal(run.code, 0, run.stderr);
    const alerts = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { indicator_id: string; observable: { value: string }; confidence: number });
    const confidence = (value: string, n: number): number | undefined => alerts.find((a) => a.observable.value === value && a.indicator_id.endsWith(String(n).padStart(12, '0')))?.confidence;
    assert.equal(confidence('45.9.20.1', 1), 80, 'stored here: as stated');
    const plain = confidence('45.9.20.4', 4) ?? 0;
    assert.ok(plain < 80, `discounted by the member's reputation: ${plain}`);
    assert.ok((confidence('45.9.20.2', 2) ?? 0) > plain, 'corroborated by another member');
  });
});
