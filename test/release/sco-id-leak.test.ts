// An SCO's id is UUIDv5 over its ID Contributing Properties (STIX 2.1 §2.9): the id of an address
// names the address (10.0.0.0/8 is tried in seconds). A granular marking on such a property
// therefore cannot be honoured by removing the property: the SCO is withheld, and its id leaves
// nowhere else either (observed-data, network traffic from it, reports, anything naming it).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTerms } from '../../src/federation/test-support.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from '../../src/policy/classify-marking.ts';
import type { Recipient } from '../../src/policy/recipient.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import { scoId } from '../../src/stix/ids.ts';
import type { JsonObject, StixObject } from '../../src/stix/types.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const READER = 'identity--dddddddd-0000-4000-8000-00000000000c';
const ENTITLED = 'identity--eeeeeeee-0000-4000-8000-00000000000e';
const COLLECTION = 'green-c';
const { green: GREEN, red: RED } = TLP2_MARKING_IDS;
const TO_ENTITLED = 'marking-definition--a0000000-0000-4000-8000-0000000000e1';
const AT = new Date('2026-11-24T10:00:00Z');

function sco(type: string, properties: JsonObject, extra: JsonObject = {}): StixObject {
  const id = scoId(type, properties);
  assert.ok(id.ok);
  return { type, spec_version: '2.1', id: id.value, ...properties, ...extra };
}

const SECRET = '10.20.30.44';
const OTHER_SECRET = '10.20.30.45';
/** The native 2.1 repro: GREEN, its address RED. */
const redAddress = sco('ipv4-addr', { value: SECRET }, { object_marking_refs: [GREEN], granular_markings: [{ marking_ref: RED, selectors: ['value'] }] });
/** GREEN, its address for ENTITLED only. */
const namedAddress = sco('ipv4-addr', { value: OTHER_SECRET }, { object_marking_refs: [GREEN], granular_markings: [{ marking_ref: TO_ENTITLED, selectors: ['value'] }] });
const file = sco('file', { hashes: { 'SHA-256': 'c'.repeat(64) }, name: 'invoice.pdf' }, {
  object_marking_refs: [GREEN], size: 4096, granular_markings: [{ marking_ref: RED, selectors: ['size'] }],
});
const observed: StixObject = {
  type: 'observed-data', spec_version: '2.1', id: 'observed-data--11111111-1111-4111-8111-111111111114', created: '2026-01-05T00:00:00.000Z',
  modified: '2026-01-05T00:00:00.000Z', first_observed: '2026-01-05T00:00:00Z', last_observed: '2026-01-05T00:00:00Z', number_observed: 1,
  object_marking_refs: [GREEN], object_refs: [redAddress.id, namedAddress.id],
};
const traffic = sco('network-traffic', { src_ref: redAddress.id, dst_port: 443, protocols: ['tcp'] }, { object_marking_refs: [GREEN] });
const indicator: StixObject = {
  type: 'indicator', spec_version: '2.1', id: 'indicator--11111111-1111-4111-8111-111111111115', created: '2026-01-05T00:00:00.000Z',
  modified: '2026-01-05T00:00:00.000Z', pattern: "[file:name = 'invoice.pdf']", pattern_type: 'stix', valid_from: '2026-01-05T00:00:00Z',
  object_marking_refs: [GREEN],
};
const report: StixObject = {
  type: 'report', spec_version: '2.1', id: 'report--11111111-1111-4111-8111-111111111116', created: '2026-01-05T00:00:00.000Z',
  modified: '2026-01-05T00:00:00.000Z', name: 'Scanning', published: '2026-01-05T00:00:00Z', object_marking_refs: [GREEN],
  object_refs: [redAddress.id, namedAddress.id, traffic.id, indicator.id, file.id],
};
const toEntitled: StixObject = {
  type: 'marking-definition', spec_version: '2.1', id: TO_ENTITLED, created: '2026-01-01T00:00:00.000Z', name: 'for entitled only',
  extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'recipients', organisation_refs: [ENTITLED] } },
};

function member(organisationId: string): Recipient {
  return { name: organisationId, organisationId, admin: false, actsForHome: false, grants: [{ collectionId: COLLECTION, read: true, write: false }] };
}

describe('release: an SCO whose id is derived from a property the recipient may not see', () => {
  let store: SqliteObjectStore;

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2026-01-01T00:00:00Z');
    for (const id of [READER, ENTITLED]) {
      await store.createOrganisation({ id, name: id, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    }
    await store.createCollection({ id: COLLECTION, title: COLLECTION }, created);
    await store.createCircle({
      id: COLLECTION, name: COLLECTION, kind: 'formal', visibility: 'open', collectionId: COLLECTION, defaultTlp: 'green',
      validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, READER, ENTITLED].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    }, created);
    await store.addAgreement({
      circleId: COLLECTION, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z',
      terms: openTerms({ scope: { types: ['observed-data', 'ipv4-addr', 'network-traffic', 'file', 'indicator', 'report', 'marking-definition'] } }),
    });
    for (const organisationId of [READER, ENTITLED]) {
      await store.addAcceptance({ circleId: COLLECTION, organisationId, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    }
    await store.addObjects(COLLECTION, [toEntitled, redAddress, namedAddress, file, observed, traffic, indicator, report]);
  });

  after(async () => {
    await store.close();
  });

  async function released(organisationId: string): Promise<Map<string, StixObject>> {
    const gate = await openReleaseGate(store, member(organisationId), COLLECTION, AT, { audit: false });
    const page = await store.listEntries(COLLECTION, { versions: [{ kind: 'last' }] }, { limit: 100 });
    const out = (await gate.release(page.entries)).released;
    return new Map(out.map((entry) => [entry.id, JSON.parse(entry.json) as StixObject]));
  }

  it('a GREEN member receives neither the SCO nor its id, anywhere in what is released', async () => {
    const got = await released(READER);
    const text = JSON.stringify([...got.values()]);
    for (const hidden of [redAddress.id, namedAddress.id, traffic.id, SECRET, OTHER_SECRET]) {
      assert.equal(text.includes(hidden), false, `${hidden} leaves`);
    }
    assert.equal(got.has(observed.id), false, 'observed-data needs every observation it groups');
    assert.deepEqual(got.get(report.id)?.['object_refs'], [indicator.id, file.id], 'the report keeps what the member may see');
  });

  it('the decision names the property and why', async () => {
    const gate = await openReleaseGate(store, member(READER), COLLECTION, AT, { audit: false });
    const [entry] = (await store.listEntries(COLLECTION, { ids: [redAddress.id], versions: [{ kind: 'last' }] }, { limit: 1 })).entries;
    assert.ok(entry !== undefined);
    const decision = await gate.decide(entry);
    assert.equal(decision.kind, 'withhold');
    assert.match(decision.reasons.join(' | '), /^granular\.id-contributing: tlp\.red: .*value is an ID contributing property of ipv4-addr: its id is derived from it/);
  });

  it('a member entitled to the marked property receives the SCO whole, and what names it', async () => {
    const got = await released(ENTITLED);
    assert.deepEqual(got.get(namedAddress.id), namedAddress);
    assert.equal(got.has(redAddress.id), false, 'RED goes to named recipients only');
    assert.deepEqual(got.get(report.id)?.['object_refs'], [namedAddress.id, indicator.id, file.id]);
  });

  it('a granular marking on a property that is not ID contributing still only redacts it', async () => {
    const got = await released(READER);
    const copy = got.get(file.id);
    assert.ok(copy !== undefined);
    assert.equal(copy['size'], undefined);
    assert.deepEqual(copy['hashes'], file['hashes']);
    assert.equal(copy['name'], 'invoice.pdf');
    assert.equal(got.has(indicator.id), true);
  });
});
