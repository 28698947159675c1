// Who may see a draft. A draft holds an uploaded report's text and what automation proposed from it,
// before anyone decided it is fit to share: it is its author's unpublished work. The token that
// uploaded the report sees and changes its draft; administrators see and change every draft (the
// command line, run by the node operator, too); any other token is answered exactly as for a draft
// that does not exist, so that not even its existence shows. Publishing needs, besides, write
// access to the target collection.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { assignDraft } from '../../src/drafts/draft-operations.ts';
import { EntenteError } from '../../src/errors/entente-error.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { scoId } from '../../src/stix/ids.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { ErrorBody } from '../api/circle-api-kit.ts';
import { HIGH_VALUE, ADD_TEST, PAST_24H, SECRET, secrets, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { newDraft } from './draft-kit.ts';

/** A home token with grants on collection A (HIGH_VALUE) only: read and write. */
const COLLEAGUE = 'ent_colleague-secret-000000000000000000000';
const callers = { ...secrets, colleague: COLLEAGUE } as const;
type Caller = keyof typeof callers;

interface DraftJson {
  id: string;
  created_by?: string;
  warnings: string[];
  items: { id: string; value: string; decision: { state: string } }[];
}

type Method = 'GET' | 'POST';

/** `caller`'s request to `node`, with a JSON body if it has one. */
function callAs(node: TestNode, caller: Caller, method: Method, url: string, body?: unknown): Promise<LightMyRequestResponse> {
  return node.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${callers[caller]}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

/** The colleague's token on `node` (a home token, not an administrator) with `grants`. */
async function addColleague(node: TestNode, grants: { collectionId: string; read: boolean; write: boolean }[]): Promise<void> {
  await node.store.createToken({
    name: 'colleague',
    secretHash: hashTokenSecret(COLLEAGUE),
    admin: false,
    grants,
    organisationId: undefined,
    createdAt: '2026-11-22T23:00:00.000Z',
    revokedAt: undefined,
  });
}

const REPORT = '# Ember\nThe loader called 45.77.12.21 and ember-c2[.]net.\n';

function expectStatus(response: LightMyRequestResponse, status: number): LightMyRequestResponse {
  assert.equal(response.statusCode, status, response.body.slice(0, 600));
  return response;
}

/** The error body without its per-response id, with `id` written as ID: what a caller can tell apart. */
function errorShape(response: LightMyRequestResponse, id: string): Omit<ErrorBody, 'error_id'> {
  const { error_id: _errorId, ...rest } = response.json<ErrorBody>();
  return JSON.parse(JSON.stringify(rest).replaceAll(`\\"${id}\\"`, '\\"ID\\"').replaceAll(`"${id}"`, '"ID"')) as Omit<ErrorBody, 'error_id'>;
}

describe('draft access: the author and administrators only', () => {
  let node: TestNode;
  let analystDraft: DraftJson;
  let colleagueDraft: DraftJson;
  const call = (caller: Caller, method: Method, url: string, body?: unknown): Promise<LightMyRequestResponse> => callAs(node, caller, method, url, body);
  /** A draft id nobody has: the answer every hidden draft must give. */
  const unknownAnswer = async (caller: Caller, method: Method, suffix: string, body?: unknown): Promise<Omit<ErrorBody, 'error_id'>> =>
    errorShape(expectStatus(await call(caller, method, `/api/drafts/424242${suffix}`, body), 404), '424242');

  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await addColleague(node, [{ collectionId: HIGH_VALUE, read: true, write: true }]);
    analystDraft = expectStatus(await call('analyst', 'POST', '/api/drafts', { text: REPORT }), 201).json<DraftJson>();
    colleagueDraft = expectStatus(await call('colleague', 'POST', '/api/drafts', { text: '# Other\nBeacon to 45.77.12.22.\n' }), 201).json<DraftJson>();
  });
  after(() => node.close());

  it('lists to each token only the drafts it made, and every draft to an administrator', async () => {
    const listed = async (caller: Caller) => expectStatus(await call(caller, 'GET', '/api/drafts'), 200).json<{ drafts: { id: string; created_by?: string }[] }>().drafts.map((draft) => draft.id);
    assert.deepEqual(await listed('colleague'), [colleagueDraft.id]);
    assert.deepEqual(await listed('analyst'), [analystDraft.id]);
    assert.deepEqual(await listed('reader'), []);
    assert.deepEqual(await listed('admin'), [colleagueDraft.id, analystDraft.id]);
  });

  it("answers another token's draft exactly as a draft that does not exist (404 ENT_DRAFT_NOT_FOUND)", async () => {
    const id = analystDraft.id;
    for (const caller of ['colleague', 'reader', 'outsider'] as const) {
      assert.deepEqual(errorShape(expectStatus(await call(caller, 'GET', `/api/drafts/${id}`), 404), id), await unknownAnswer(caller, 'GET', ''), caller);
      assert.deepEqual(errorShape(expectStatus(await call(caller, 'GET', `/api/drafts/${id}?text=true`), 404), id), await unknownAnswer(caller, 'GET', '?text=true'), caller);
    }
    assert.equal((await unknownAnswer('colleague', 'GET', '')).error_code, 'ENT_DRAFT_NOT_FOUND');
  });

  it("does not let a token decide on another token's draft: 404, and the item stays as it was", async () => {
    const id = analystDraft.id;
    for (const decision of [{ decision: 'accept' }, { decision: 'reject', reason: 'noise' }, { decision: 'edit', value: '45.77.12.0/24' }]) {
      const answer = expectStatus(await call('colleague', 'POST', `/api/drafts/${id}/items/1`, decision), 404);
      assert.deepEqual(errorShape(answer, id), await unknownAnswer('colleague', 'POST', '/items/1', decision));
    }
    // An item id the draft does not have answers the same: a hidden draft reveals nothing of its items.
    assert.deepEqual(errorShape(await call('colleague', 'POST', `/api/drafts/${id}/items/99`, { decision: 'accept' }), id), await unknownAnswer('colleague', 'POST', '/items/99', { decision: 'accept' }));
    const seen = expectStatus(await call('admin', 'GET', `/api/drafts/${id}`), 200).json<DraftJson>();
    assert.deepEqual(seen.items.map((item) => item.decision.state), analystDraft.items.map((item) => item.decision.state));
  });

  it("does not let a token publish another token's draft, even into a collection it may write", async () => {
    const id = analystDraft.id;
    const publish = { collection: HIGH_VALUE, tlp: 'green', reject_pending: true };
    const answer = expectStatus(await call('colleague', 'POST', `/api/drafts/${id}/publish`, publish), 404);
    assert.deepEqual(errorShape(answer, id), await unknownAnswer('colleague', 'POST', '/publish', publish));
    assert.deepEqual((await node.store.listEntries(HIGH_VALUE, { types: ['report'] }, { limit: 10 })).entries, [], 'nothing was published');
    assert.equal(expectStatus(await call('admin', 'GET', `/api/drafts/${id}`), 200).json<{ publication?: unknown }>().publication, undefined);
  });

  it('lets the author and administrators read, decide on and publish a draft', async () => {
    const id = analystDraft.id;
    const shown = expectStatus(await call('analyst', 'GET', `/api/drafts/${id}?text=true`), 200).json<DraftJson & { text: string }>();
    assert.deepEqual([shown.created_by, shown.text], ['analyst', REPORT]);
    expectStatus(await call('analyst', 'POST', `/api/drafts/${id}/items/1`, { decision: 'accept' }), 200);
    expectStatus(await call('admin', 'POST', `/api/drafts/${id}/items/2`, { decision: 'reject', reason: 'sinkholed' }), 200);
    const published = expectStatus(await call('analyst', 'POST', `/api/drafts/${id}/publish`, { collection: ADD_TEST, tlp: 'green', reject_pending: true }), 201);
    assert.equal(published.json<{ publication: { collection_id: string } }>().publication.collection_id, ADD_TEST);
    // What a reader of the collection (and a circle partner) gets names what was published; the item
    // rejected counts, but neither its value nor the reason given leaves the draft.
    const report = published.json<{ report: StixObject }>().report;
    const rejected = analystDraft.items.find((item) => item.id === '2')?.value ?? '';
    assert.ok(rejected !== '');
    assert.equal(JSON.stringify(report).includes(rejected), false);
    assert.equal(JSON.stringify(report).includes('sinkholed'), false);
    assert.equal((report['x_entente_provenance'] as { rejected_count: number }).rejected_count, analystDraft.items.length - 1);
    // Published, the draft stays its author's: the report's text, the rejected items and their reasons are not shared.
    assert.equal((await call('colleague', 'GET', `/api/drafts/${id}`)).statusCode, 404);
    assert.equal((await call('analyst', 'GET', `/api/drafts/${id}`)).statusCode, 200);
  });

  it("does not tell an uploader that another token already drafted the same file", async () => {
    const mine = expectStatus(await call('colleague', 'POST', '/api/drafts', { text: REPORT }), 201).json<DraftJson>();
    assert.deepEqual(mine.warnings.filter((warning) => warning.includes('same file')), []);
    const again = expectStatus(await call('colleague', 'POST', '/api/drafts', { text: REPORT }), 201).json<DraftJson>();
    assert.deepEqual(again.warnings.filter((warning) => warning.includes('same file')), [`the same file (SHA-256) is already draft ${mine.id}`]);
    const byAdmin = expectStatus(await call('admin', 'POST', '/api/drafts', { text: REPORT }), 201).json<DraftJson>();
    assert.deepEqual(byAdmin.warnings.filter((warning) => warning.includes('same file')), [`the same file (SHA-256) is already draft ${again.id}, ${mine.id}, ${analystDraft.id}`]);
  });

  it('keeps a draft with no recorded token (the command line, or made before tokens were recorded) for administrators', async () => {
    // `entente extract` records the operator's login name, which may also be some token's name.
    const { id } = await node.store.createDraft(newDraft({ text: 'C2 45.77.12.23.', createdBy: 'colleague' }));
    assert.deepEqual(errorShape(expectStatus(await call('colleague', 'GET', `/api/drafts/${id}`), 404), id), await unknownAnswer('colleague', 'GET', ''));
    const listed = expectStatus(await call('colleague', 'GET', '/api/drafts'), 200).json<{ drafts: { id: string }[] }>().drafts.map((draft) => draft.id);
    assert.ok(!listed.includes(id));
    assert.equal(expectStatus(await call('admin', 'GET', `/api/drafts/${id}`), 200).json<DraftJson>().created_by, 'colleague');
    // The operator gives it to a token (entente draft assign): that token then sees it, and no one else gains it.
    const deps = { store: node.store, homeOrganisationId: 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d' };
    await assert.rejects(assignDraft(deps, id, 'revoked'), (error: unknown) => error instanceof EntenteError && error.code === 'ENT_DRAFT_OWNER_INVALID');
    await assert.rejects(assignDraft(deps, id, 'no-such-token'), (error: unknown) => error instanceof EntenteError && error.code === 'ENT_TOKEN_NOT_FOUND');
    await node.store.createToken({ name: 'partner-x', secretHash: hashTokenSecret('ent_partner-x-secret-00000000000000000000'), admin: false, grants: [], organisationId: 'identity--6f0c6a1e-3a44-4d8e-9e0e-000000000001', createdAt: '2026-11-22T23:00:00.000Z', revokedAt: undefined });
    await assert.rejects(assignDraft(deps, id, 'partner-x'), (error: unknown) => error instanceof EntenteError && error.code === 'ENT_DRAFT_OWNER_INVALID');
    await assert.rejects(assignDraft(deps, '424242', 'colleague'), (error: unknown) => error instanceof EntenteError && error.code === 'ENT_DRAFT_NOT_FOUND');
    assert.equal((await call('colleague', 'GET', `/api/drafts/${id}`)).statusCode, 404, 'refused assignments changed nothing');
    assert.deepEqual(await assignDraft(deps, id, 'colleague'), {});
    assert.equal(expectStatus(await call('colleague', 'GET', `/api/drafts/${id}?text=true`), 200).json<{ text: string }>().text, 'C2 45.77.12.23.');
    assert.equal((await call('analyst', 'GET', `/api/drafts/${id}`)).statusCode, 404);
    assert.deepEqual(await assignDraft(deps, id, 'analyst'), { previousToken: 'colleague' });
    assert.equal((await call('colleague', 'GET', `/api/drafts/${id}`)).statusCode, 404, 'the token it had no longer sees it');
  });

  it('publishes the author\'s own draft only where the token may write; a hidden target answers as an unknown one', async () => {
    const own = expectStatus(await call('colleague', 'POST', '/api/drafts', { text: '# Mine\nBeacon to 45.77.12.24.\n' }), 201).json<DraftJson>();
    expectStatus(await call('colleague', 'POST', `/api/drafts/${own.id}/items/1`, { decision: 'accept' }), 200);
    // No grant on ADD_TEST: as unknown as a collection that does not exist.
    const hidden = expectStatus(await call('colleague', 'POST', `/api/drafts/${own.id}/publish`, { collection: ADD_TEST, tlp: 'green' }), 404);
    const unknown = expectStatus(await call('colleague', 'POST', `/api/drafts/${own.id}/publish`, { collection: 'no-such-collection', tlp: 'green' }), 404);
    assert.deepEqual(errorShape(hidden, ADD_TEST), errorShape(unknown, 'no-such-collection'));
    assert.equal(errorShape(hidden, ADD_TEST).error_code, 'ENT_COLLECTION_NOT_FOUND');
    // A circle (home tokens see every circle) whose collection the token has no grant on: that collection stays hidden.
    expectStatus(await call('admin', 'POST', '/api/circles', { id: 'wide', name: 'Wide', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2099-01-01T00:00:00Z' }), 201);
    const hiddenCircle = expectStatus(await call('colleague', 'POST', `/api/drafts/${own.id}/publish`, { circle: 'wide' }), 404);
    assert.equal(errorShape(hiddenCircle, 'wide').error_code, 'ENT_COLLECTION_NOT_FOUND');
    // Read but no write: 403 (the token knows the collection already).
    const readerDraft = expectStatus(await call('reader', 'POST', '/api/drafts', { text: '# Read\nBeacon to 45.77.12.25.\n' }), 201).json<DraftJson>();
    const readOnly = expectStatus(await call('reader', 'POST', `/api/drafts/${readerDraft.id}/publish`, { collection: HIGH_VALUE, tlp: 'green', reject_pending: true }), 403);
    assert.equal(errorShape(readOnly, HIGH_VALUE).error_code, 'ENT_COLLECTION_NOT_WRITABLE');
    // Write: published.
    expectStatus(await call('colleague', 'POST', `/api/drafts/${own.id}/publish`, { collection: HIGH_VALUE, tlp: 'green' }), 201);
  });

  it('answers a hidden target as an unknown one whatever else the request lacks: with or without a TLP', async () => {
    const own = expectStatus(await call('colleague', 'POST', '/api/drafts', { text: '# Probe\nBeacon to 45.77.12.26.\n' }), 201).json<DraftJson>();
    for (const rest of [{}, { tlp: 'green' }, { tlp: 'amber', reject_pending: true }]) {
      const hidden = await call('colleague', 'POST', `/api/drafts/${own.id}/publish`, { collection: ADD_TEST, ...rest });
      const unknown = await call('colleague', 'POST', `/api/drafts/${own.id}/publish`, { collection: 'no-such-collection', ...rest });
      assert.equal(hidden.statusCode, 404, JSON.stringify(rest));
      assert.deepEqual(errorShape(hidden, ADD_TEST), errorShape(unknown, 'no-such-collection'), JSON.stringify(rest));
    }
    // Where the token may write, a missing TLP is still asked for.
    assert.equal(errorShape(expectStatus(await call('colleague', 'POST', `/api/drafts/${own.id}/publish`, { collection: HIGH_VALUE }), 400), HIGH_VALUE).error_code, 'ENT_DRAFT_TARGET_INVALID');
  });

  it('shows administrators, and no one else, the token a draft belongs to (created_by_token)', async () => {
    const id = colleagueDraft.id;
    const owner = async (caller: Caller): Promise<[unknown, unknown]> => {
      const shown = expectStatus(await call(caller, 'GET', `/api/drafts/${id}`), 200).json<Record<string, unknown>>();
      const listed = expectStatus(await call(caller, 'GET', '/api/drafts'), 200).json<{ drafts: Record<string, unknown>[] }>().drafts.find((draft) => draft['id'] === id);
      return [shown['created_by_token'], listed?.['created_by_token']];
    };
    assert.deepEqual(await owner('admin'), ['colleague', 'colleague']);
    assert.deepEqual(await owner('colleague'), [undefined, undefined]);
    const made = expectStatus(await call('colleague', 'POST', '/api/drafts', { text: '# Made\nBeacon to 45.77.12.27.\n' }), 201).json<Record<string, unknown>>();
    assert.equal(made['created_by_token'], undefined);
  });
});

// What other collections hold of an observable a draft publishes plays no part: each content of an
// SCO is a version of its own, so the publication, and the answer to it, are the same whatever they hold.
describe('draft publication: nothing of what hidden collections hold shows', () => {
  let node: TestNode;
  const call = (caller: Caller, method: Method, url: string, body?: unknown): Promise<LightMyRequestResponse> => callAs(node, caller, method, url, body);
  const ipv4 = (value: string, extra: Record<string, unknown> = {}): StixObject => {
    const id = scoId('ipv4-addr', { type: 'ipv4-addr', value });
    assert.ok(id.ok);
    return { type: 'ipv4-addr', spec_version: '2.1', id: id.value, value, ...extra } as StixObject;
  };
  /** The caller drafts "Beacon to IP", accepts everything and publishes to HIGH_VALUE at TLP:GREEN. */
  const publish = async (caller: Caller, ip: string): Promise<LightMyRequestResponse> => {
    const draft = expectStatus(await call(caller, 'POST', '/api/drafts', { text: `# Probe\nBeacon to ${ip}.\n` }), 201).json<DraftJson>();
    for (const item of draft.items) expectStatus(await call(caller, 'POST', `/api/drafts/${draft.id}/items/${item.id}`, { decision: 'accept' }), 200);
    return call(caller, 'POST', `/api/drafts/${draft.id}/publish`, { collection: HIGH_VALUE, tlp: 'green' });
  };
  const warningsOf = (response: LightMyRequestResponse): string[] => expectStatus(response, 201).json<{ warnings: string[] }>().warnings;
  const reports = async (): Promise<number> => (await node.store.listEntries(HIGH_VALUE, { types: ['report'] }, { limit: 100 })).entries.length;

  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    // Writes HIGH_VALUE, reads PAST_24H too; SECRET (and the rest) it cannot see.
    await addColleague(node, [{ collectionId: HIGH_VALUE, read: true, write: true }, { collectionId: PAST_24H, read: true, write: false }]);
    // An administrator's copies, with other content than a TLP:GREEN publication builds.
    await node.store.addObjects(SECRET, [ipv4('198.51.100.77', { object_marking_refs: [TLP2_MARKING_IDS.red] })]);
    await node.store.addObjects(PAST_24H, [ipv4('198.51.100.80', { object_marking_refs: [TLP2_MARKING_IDS.red] })]);
    // And one with exactly the content a TLP:GREEN publication builds.
    await node.store.addObjects(SECRET, [ipv4('198.51.100.79', { object_marking_refs: [TLP2_MARKING_IDS.green] })]);
  });
  after(() => node.close());

  /** What a publication answers, without what differs from one publication to the next (ids, times, the value). */
  const shapeOf = (response: LightMyRequestResponse, ip: string): unknown => {
    const body = expectStatus(response, 201).json<Record<string, unknown>>();
    return JSON.parse(JSON.stringify(body).replaceAll(ip, 'IP').replace(/"[a-z0-9-]+--[0-9a-f-]{36}"/g, '"ID"').replace(/"\d{4}-\d\d-\d\dT[^"]*"/g, '"TIME"').replace(/[0-9a-f]{64}/g, 'SHA-256').replace(/"(draft|report)":"?\d+"?/g, '"$1":0')) as unknown;
  };

  it('publishes the observable it builds, and answers alike, whatever other collections hold of it', async () => {
    const control = shapeOf(await publish('colleague', '198.51.100.78'), '198.51.100.78');
    for (const ip of ['198.51.100.77', '198.51.100.79', '198.51.100.80']) {
      const response = await publish('colleague', ip);
      assert.deepEqual(shapeOf(response, ip), control, ip);
      assert.deepEqual(warningsOf(response), []);
      const held = await node.store.listEntries(HIGH_VALUE, { ids: [ipv4(ip).id] }, { limit: 10 });
      assert.deepEqual(held.entries.map((entry) => JSON.parse(entry.json) as unknown), [ipv4(ip, { object_marking_refs: [TLP2_MARKING_IDS.green] })], `${ip}: the publication's own copy`);
    }
    // The copies held elsewhere are untouched.
    const secret = await node.store.listEntries(SECRET, { ids: [ipv4('198.51.100.77').id] }, { limit: 10 });
    assert.deepEqual(secret.entries.map((entry) => JSON.parse(entry.json) as unknown), [ipv4('198.51.100.77', { object_marking_refs: [TLP2_MARKING_IDS.red] })]);
  });

  it('publishes for an administrator too, without a word on the copies it can read', async () => {
    const before = await reports();
    assert.deepEqual(warningsOf(await publish('admin', '198.51.100.80')), []);
    assert.equal(await reports(), before + 1);
  });
});

describe('draft publication into a collection the publisher may write but not read: nothing of what it holds shows', () => {
  let node: TestNode;
  const call = (caller: Caller, method: Method, url: string, body?: unknown): Promise<LightMyRequestResponse> => callAs(node, caller, method, url, body);
  const POWERSHELL = 'attack-pattern--970a3432-3237-47ad-bcca-7d8cbb217736'; // T1059.001 in the shipped catalogue
  /** Nothing but what the shipped catalogue says of the technique (draft-catalogue-copy.test.ts). */
  const catalogueEntry = {
    type: 'attack-pattern', spec_version: '2.1', id: POWERSHELL, created: '2020-03-09T13:52:32.320Z', modified: '2025-10-24T17:48:19.059Z',
    created_by_ref: 'identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5', name: 'PowerShell', external_references: [{ source_name: 'mitre-attack', external_id: 'T1059.001' }],
    kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'execution' }],
  } as StixObject;
  /** `caller` drafts `text`, accepts every item and publishes to HIGH_VALUE at TLP:GREEN. */
  const publish = async (caller: Caller, text: string): Promise<LightMyRequestResponse> => {
    const draft = expectStatus(await call(caller, 'POST', '/api/drafts', { text }), 201).json<DraftJson>();
    for (const item of draft.items) expectStatus(await call(caller, 'POST', `/api/drafts/${draft.id}/items/${item.id}`, { decision: 'accept' }), 200);
    return expectStatus(await call(caller, 'POST', `/api/drafts/${draft.id}/publish`, { collection: HIGH_VALUE, tlp: 'green' }), 201);
  };
  const beacon = (ip: string): string => `# Probe\nBeacon to ${ip}.\n`;
  const technique = (ip: string): string => `# Probe\nThe actor ran PowerShell (T1059.001) to fetch a loader from ${ip}.\n`;
  /** What a publication answers, without what differs from one publication to the next (ids, times, the value). */
  const shapeOf = (response: LightMyRequestResponse, ip: string): unknown =>
    JSON.parse(JSON.stringify(response.json<Record<string, unknown>>()).replaceAll(ip, 'IP').replace(/"[a-z0-9-]+--[0-9a-f-]{36}"/g, '"ID"').replace(/"\d{4}-\d\d-\d\dT[^"]*"/g, '"TIME"').replace(/[0-9a-f]{64}/g, 'SHA-256').replace(/"(draft|report)":"?\d+"?/g, '"$1":0')) as unknown;
  const counts = (response: LightMyRequestResponse): { added?: number; duplicate?: number } => {
    const { added, duplicate } = response.json<{ added?: number; duplicate?: number }>();
    return { ...(added === undefined ? {} : { added }), ...(duplicate === undefined ? {} : { duplicate }) };
  };

  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    // Writes HIGH_VALUE without reading it; reads nothing else either.
    await addColleague(node, [{ collectionId: HIGH_VALUE, read: false, write: true }]);
  });
  after(() => node.close());

  it('counts what a publication stored as one number, whether the collection held an observable already or not', async () => {
    const fresh = await publish('colleague', beacon('198.51.100.90'));
    await publish('admin', beacon('198.51.100.91'));
    const repeat = await publish('colleague', beacon('198.51.100.91'));
    assert.deepEqual(shapeOf(repeat, '198.51.100.91'), shapeOf(fresh, '198.51.100.90'));
    assert.deepEqual(counts(repeat), { added: 3 }, 'report, indicator, address: stored, new or not');
    // The administrator reads HIGH_VALUE: told which were there already.
    assert.deepEqual(counts(await publish('admin', beacon('198.51.100.91'))), { added: 2, duplicate: 1 });
  });

  it('publishes an ATT&CK object as held in the collection only for a publisher who reads it: the answer is the same whether it holds one', async () => {
    const without = await publish('colleague', technique('198.51.100.92'));
    await node.store.addObjects(HIGH_VALUE, [catalogueEntry]);
    const withEntry = await publish('colleague', technique('198.51.100.93'));
    assert.deepEqual(shapeOf(withEntry, '198.51.100.93'), shapeOf(without, '198.51.100.92'));
    assert.equal(withEntry.json<{ publication: { object_ids: string[] } }>().publication.object_ids.includes(POWERSHELL), false);
    const byAdmin = await publish('admin', technique('198.51.100.94'));
    assert.ok(byAdmin.json<{ publication: { object_ids: string[] } }>().publication.object_ids.includes(POWERSHELL), 'the administrator publishes the collection\'s own version beside the report');
  });
});
