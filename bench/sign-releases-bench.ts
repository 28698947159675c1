// `npx tsx bench/sign-releases-bench.ts` (or `npm run bench -- sign` once registered): the cost of
// signing what leaves for a partner, per released object, through the release gate exactly as a TAXII
// read or a push uses it. 20,000 indicators (BENCH_SCALE scales them) in a circle's collection in a
// SQLite file; pages of 1,000 pass the gate for a partner
//   - without a signer (the baseline: decision, audit),
//   - with the signer, first release (every version signed and kept: canonical JSON, Ed25519, putSignatures),
//   - with the signer again (the kept signatures: one batched lookup per page, text appended),
//   - redacted versions (granular marking), which are re-hashed every time to find their kept derived signature.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNodeKey } from '../src/federation/node-key-lifecycle.ts';
import { createNodeSignerProvider } from '../src/federation/node-signer.ts';
import { createReleaseSigner } from '../src/federation/sign-releases.ts';
import { objectSigningInput } from '../src/federation/sign-object.ts';
import { signBytes } from '../src/federation/node-key.ts';
import { TLP2_MARKING_IDS } from '../src/policy/tlp.ts';
import type { Recipient } from '../src/policy/recipient.ts';
import { openReleaseGate, type ReleaseGateOptions } from '../src/release/open-release-gate.ts';
import { openSqliteObjectStore } from '../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../src/store/object-store.ts';
import type { StixObject } from '../src/stix/types.ts';
import { benchScale, reportFigure } from './report-figure.ts';

const HOME = 'identity--b0b0b0b0-0000-4000-8000-000000000000';
const PARTNER = 'identity--b0b0b0b0-0000-4000-8000-000000000001';
const PAGE = 1000;

function indicator(n: number, redact: boolean): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--b0b0b0b0-${redact ? '1111' : '0000'}-4000-8000-${String(n).padStart(12, '0')}`,
    created: '2026-02-01T00:00:00.000Z',
    modified: '2026-02-01T00:00:00.000Z',
    name: `bench indicator ${n}`,
    description: `Seen beaconing to 198.51.${Math.floor(n / 256) % 256}.${n % 256} during the incident of February; blocked at the perimeter.`,
    pattern: `[ipv4-addr:value = '198.51.${Math.floor(n / 256) % 256}.${n % 256}']`,
    pattern_type: 'stix',
    valid_from: '2026-02-01T00:00:00Z',
    labels: ['malicious-activity'],
    object_marking_refs: [TLP2_MARKING_IDS.green],
    ...(redact ? { granular_markings: [{ selectors: ['description'], marking_ref: TLP2_MARKING_IDS.red }] } : {}),
  } as StixObject;
}

async function setUp(store: ObjectStore, count: number): Promise<void> {
  const at = new Date('2026-01-01T00:00:00Z');
  await ensureNodeKey(store, at);
  await store.createOrganisation({ id: PARTNER, name: 'partner', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: at.toISOString() });
  for (const id of ['plain', 'redacted']) {
    await store.createCollection({ id, title: id }, at);
    await store.createCircle(
      {
        id, name: id, kind: 'formal', visibility: 'open', collectionId: id, defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
        members: [
          { organisationId: HOME, role: 'coordinator', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
          { organisationId: PARTNER, role: 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false },
        ],
      },
      at,
    );
    await store.addAgreement({
      circleId: id, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z',
      terms: { scope: { types: ['indicator'] }, highestTlp: 'amber', onwardSharing: 'none', attribution: 'keep', expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' }, endRule: 'retain' },
    });
    await store.addAcceptance({ circleId: id, organisationId: PARTNER, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
  }
  for (let start = 0; start < count; start += 5000) {
    const n = Math.min(5000, count - start);
    await store.addObjects('plain', Array.from({ length: n }, (_, i) => indicator(start + i, false)));
    await store.addObjects('redacted', Array.from({ length: n }, (_, i) => indicator(start + i, true)));
  }
}

/** Every entry of a collection through one gate, page by page; returns CPU µs per released object. */
async function releaseAll(store: ObjectStore, collectionId: string, options: ReleaseGateOptions): Promise<{ usPerObject: number; released: number }> {
  const recipient: Recipient = { name: 'bench-partner', organisationId: PARTNER, admin: false, actsForHome: false, grants: [{ collectionId, read: true, write: false }] };
  const cpu = process.cpuUsage();
  const gate = await openReleaseGate(store, recipient, collectionId, new Date('2026-06-01T00:00:00Z'), options);
  let released = 0;
  let after: number | undefined;
  for (;;) {
    const page = await store.listEntries(collectionId, {}, { limit: PAGE, ...(after === undefined ? {} : { after }) });
    released += (await gate.release(page.entries)).released.length;
    const last = page.entries.at(-1);
    if (!page.more || last === undefined) break;
    after = last.dateAdded;
  }
  // CPU time of this process (user + system), not wall time: other work on the machine does not count.
  const used = process.cpuUsage(cpu);
  return { usPerObject: (used.user + used.system) / Math.max(1, released), released };
}

export async function runSignReleasesBench(): Promise<void> {
  const count = Math.max(1000, Math.round(20_000 * benchScale()));
  const dir = mkdtempSync(join(tmpdir(), 'entente-sign-bench-'));
  const store = openSqliteObjectStore({ path: join(dir, 'bench.sqlite') });
  try {
    await setUp(store, count);
    const keys = createNodeSignerProvider({ store, organisationId: HOME, clock: () => new Date('2026-06-01T00:00:00Z') });
    const signer = createReleaseSigner({ store, keys, homeOrganisationId: HOME });
    const note = `${count} indicators (about 600 bytes each), pages of ${PAGE}, SQLite file (synchronous=FULL), audit on; CPU time per released object, medians of 5 alternating runs`;

    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
    await releaseAll(store, 'plain', {}); // warm-up: page cache, JIT
    await releaseAll(store, 'redacted', {});
    // The first release signs everything: measured once (a second run would find the kept signatures).
    const first = await releaseAll(store, 'plain', { signer });
    const redactedFirst = await releaseAll(store, 'redacted', { signer });
    // Then baseline and kept-signature runs alternate, so that drift (the growing audit log, the page cache) hits both alike.
    const plain: number[] = [];
    const kept: number[] = [];
    const redactedPlain: number[] = [];
    const redactedKept: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      plain.push((await releaseAll(store, 'plain', {})).usPerObject);
      kept.push((await releaseAll(store, 'plain', { signer })).usPerObject);
      redactedPlain.push((await releaseAll(store, 'redacted', {})).usPerObject);
      redactedKept.push((await releaseAll(store, 'redacted', { signer })).usPerObject);
    }
    const baseline = median(plain);
    const redactedBaseline = median(redactedPlain);
    reportFigure({ bench: 'sign-releases', metric: 'gate_without_signer', value: baseline, unit: 'us/object', note });
    reportFigure({ bench: 'sign-releases', metric: 'gate_first_release_signed', value: first.usPerObject, unit: 'us/object', ratio: first.usPerObject / baseline, baseline: 'gate_without_signer' });
    reportFigure({ bench: 'sign-releases', metric: 'signing_cost_first_release', value: first.usPerObject - baseline, unit: 'us/object' });
    reportFigure({ bench: 'sign-releases', metric: 'gate_kept_signature', value: median(kept), unit: 'us/object', ratio: median(kept) / baseline, baseline: 'gate_without_signer' });
    reportFigure({ bench: 'sign-releases', metric: 'signing_cost_kept_signature', value: median(kept) - baseline, unit: 'us/object' });
    reportFigure({ bench: 'sign-releases', metric: 'gate_redacted_without_signer', value: redactedBaseline, unit: 'us/object' });
    reportFigure({ bench: 'sign-releases', metric: 'derived_cost_first_release', value: redactedFirst.usPerObject - redactedBaseline, unit: 'us/object' });
    reportFigure({ bench: 'sign-releases', metric: 'derived_cost_kept_signature', value: median(redactedKept) - redactedBaseline, unit: 'us/object' });

    // The two steps of a signature alone, in this process: RFC 8785 form and Ed25519.
    const current = await keys.current();
    const sample = Array.from({ length: 2000 }, (_, i) => indicator(i, false));
    const cpuUs = (since: NodeJS.CpuUsage): number => {
      const used = process.cpuUsage(since);
      return (used.user + used.system) / sample.length;
    };
    let started = process.cpuUsage();
    const inputs = sample.map((object) => objectSigningInput(object));
    const canonicalUs = cpuUs(started);
    started = process.cpuUsage();
    for (const input of inputs) signBytes(current, input);
    const ed25519Us = cpuUs(started);
    reportFigure({ bench: 'sign-releases', metric: 'canonical_json', value: canonicalUs, unit: 'us/object' });
    reportFigure({ bench: 'sign-releases', metric: 'ed25519_sign', value: ed25519Us, unit: 'us/object' });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await runSignReleasesBench();
