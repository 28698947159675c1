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
import type { NewDraft } from '../../src/drafts/draft.ts';
import { HIGH_VALUE, ADD_TEST, secrets, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';

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

interface ErrorJson {
  title: string;
  description: string;
  error_id: string;
  error_code: string;
  http_status: string;
  details?: Record<string, unknown>;
}

const REPORT = '# Ember\nThe loader called 45.77.12.21 and ember-c2[.]net.\n';

function expectStatus(response: LightMyRequestResponse, status: number): LightMyRequestResponse {
  assert.equal(response.statusCode, status, response.body.slice(0, 600));
  return response;
}

/** The error body without its per-response id, with `id` written as ID: what a caller can tell apart. */
function errorShape(response: LightMyRequestResponse, id: string): Omit<ErrorJson, 'error_id'> {
  const { error_id: _errorId, ...rest } = response.json<ErrorJson>();
  return JSON.parse(JSON.stringify(rest).replaceAll(`\\"${id}\\"`, '\\"ID\\"').replaceAll(`"${id}"`, '"ID"')) as Omit<ErrorJson, 'error_id'>;
}

describe('draft access: the author and administrators only', () => {
  let node: TestNode;
  let analystDraft: DraftJson;
  let colleagueDraft: DraftJson;
  const call = (caller: Caller, method: 'GET' | 'POST', url: string, body?: unknown): Promise<LightMyRequestResponse> =>
    node.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${callers[caller]}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  /** A draft id nobody has: the answer every hidden draft must give. */
  const unknownAnswer = async (caller: Caller, method: 'GET' | 'POST', suffix: string, body?: unknown): Promise<Omit<ErrorJson, 'error_id'>> =>
    errorShape(expectStatus(await call(caller, method, `/api/drafts/424242${suffix}`, body), 404), '424242');

  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.createToken({
      name: 'colleague',
      secretHash: hashTokenSecret(COLLEAGUE),
      admin: false,
      grants: [{ collectionId: HIGH_VALUE, read: true, write: true }],
      organisationId: undefined,
      createdAt: '2026-11-22T23:00:00.000Z',
      revokedAt: undefined,
    });
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
    // Published, the draft stays its author's: the report's text and the rejected items are not shared.
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
    const fromCli: NewDraft = {
      source: { fileName: 'cli.txt', sha256: 'cd'.repeat(32), format: 'text' },
      title: 'From the command line',
      text: 'C2 45.77.12.23.',
      createdAt: '2026-11-23T02:00:00.000Z',
      createdBy: 'colleague',
      items: [],
      warnings: [],
    };
    const { id } = await node.store.createDraft(fromCli);
    assert.deepEqual(errorShape(expectStatus(await call('colleague', 'GET', `/api/drafts/${id}`), 404), id), await unknownAnswer('colleague', 'GET', ''));
    const listed = expectStatus(await call('colleague', 'GET', '/api/drafts'), 200).json<{ drafts: { id: string }[] }>().drafts.map((draft) => draft.id);
    assert.ok(!listed.includes(id));
    assert.equal(expectStatus(await call('admin', 'GET', `/api/drafts/${id}`), 200).json<DraftJson>().created_by, 'colleague');
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
});
