// While a publication holds a draft (another process is publishing it: the node while the operator
// types at the command line, or the other way round), a decision or a second publication is refused
// with ENT_DRAFT_PUBLISHING: wait and retry. It ends published (then ENT_DRAFT_PUBLISHED: done, the
// decisions are final) or fails and opens the draft again. A client must be able to tell the two
// apart, over REST, at the command line and in the operations they share.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { decideOnDraft, publishDraft, type DraftDeps } from '../../src/drafts/draft-operations.ts';
import type { DraftPublication, DraftViewer } from '../../src/drafts/draft.ts';
import { EntenteError } from '../../src/errors/entente-error.ts';
import { loadNodeConfig, openNode } from '../../src/compose.ts';
import { errorOf, startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
import { ADD_TEST } from '../taxii/taxii-test-kit.ts';
import { entente, temporaryDirectory } from '../cli/cli-kit.ts';
import { ACCEPTED_BY_ANA, expectStatus, ipv4Item, newDraft } from './draft-kit.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const NOW = new Date('2026-11-23T03:00:00.000Z');
const ANA: DraftViewer = { token: 'ana', admin: false };
const LONG_AGO = '2000-01-01T00:00:00.000Z';

function refusedWith(code: string, message?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof EntenteError, String(error));
    assert.equal(error.code, code, error.message);
    assert.equal(error.status, 409);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

describe('decisions and publications while another process publishes the draft', () => {
  let store: SqliteObjectStore;
  let deps: DraftDeps;
  let draftId: string;
  beforeEach(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => NOW });
    await store.createCollection({ id: 'feed', title: 'Feed' }, NOW);
    ({ id: draftId } = await store.createDraft(newDraft({ text: 'C2 45.77.12.31. C2 45.77.12.32.', createdByToken: 'ana', items: [ipv4Item('1', '45.77.12.31', ACCEPTED_BY_ANA), ipv4Item('2', '45.77.12.32', ACCEPTED_BY_ANA)] })));
    deps = { store, clock: () => NOW, randomUuid: () => crypto.randomUUID(), homeOrganisationId: HOME };
    // Bob's publication, in another process, holds the draft (claimed a minute ago: not stale).
    await store.claimDraftPublication(draftId, { id: 'claim-bob', by: 'bob', at: new Date(NOW.getTime() - 60_000).toISOString() }, LONG_AGO);
  });
  afterEach(() => store.close());

  it('refuses a decision with ENT_DRAFT_PUBLISHING, naming who publishes since when', async () => {
    await assert.rejects(decideOnDraft(deps, draftId, ['2'], { decision: 'reject' }, 'ana', ANA), refusedWith('ENT_DRAFT_PUBLISHING', /being published by bob \(since 2026-11-23T02:59:00\.000Z\).*try again/));
    await assert.rejects(decideOnDraft(deps, draftId, ['1'], { decision: 'edit', value: '45.77.12.0/24' }, 'ana', ANA), refusedWith('ENT_DRAFT_PUBLISHING'));
  });

  it('refuses a second publication with ENT_DRAFT_PUBLISHING, and publishes nothing', async () => {
    await assert.rejects(publishDraft(deps, { draftId, collection: 'feed', tlp: 'green', analyst: 'ana', viewer: ANA }), refusedWith('ENT_DRAFT_PUBLISHING', /being published by bob/));
    assert.equal((await store.listEntries('feed', {}, { limit: 10 })).entries.length, 0);
  });

  it('answers ENT_DRAFT_PUBLISHED once that publication is recorded, and opens the draft again when it fails', async () => {
    await store.releaseDraftPublication(draftId, 'claim-bob');
    const [decided] = await decideOnDraft(deps, draftId, ['2'], { decision: 'reject' }, 'ana', ANA);
    assert.equal(decided?.decision.state, 'rejected', 'the failed publication left the draft open');

    await store.claimDraftPublication(draftId, { id: 'claim-bob-2', by: 'bob', at: NOW.toISOString() }, LONG_AGO);
    const publication: DraftPublication = { publishedAt: NOW.toISOString(), analyst: 'bob', collectionId: 'feed', tlp: 'green', reportId: 'report--00000000-0000-4000-8000-0000000000ff', objectIds: [] };
    await store.markDraftPublished(draftId, publication, [], 'claim-bob-2');
    await assert.rejects(decideOnDraft(deps, draftId, ['1'], { decision: 'reject' }, 'ana', ANA), refusedWith('ENT_DRAFT_PUBLISHED'));
    await assert.rejects(publishDraft(deps, { draftId, collection: 'feed', tlp: 'green', analyst: 'ana', viewer: ANA }), refusedWith('ENT_DRAFT_PUBLISHED', /already published/));
  });
});

describe('POST /api/drafts/… while another process publishes the draft', () => {
  let node: CircleApiNode;
  before(async () => {
    node = await startCircleApiNode([]);
  });
  after(() => node.close());

  it('answers 409 ENT_DRAFT_PUBLISHING to a decision and to a publication, then publishes once the draft is free', async () => {
    const draft = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text: '# Busy\nThe loader called 45.77.12.14.\n' }), 201).json<{ id: string; items: { id: string }[] }>();
    for (const item of draft.items) expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/items/${item.id}`, { decision: 'accept' }), 200);
    await node.store.claimDraftPublication(draft.id, { id: 'claim-operator', by: 'operator', at: new Date().toISOString() }, LONG_AGO);

    const decision = expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/items/1`, { decision: 'reject' }), 409);
    assert.equal(errorOf(decision).error_code, 'ENT_DRAFT_PUBLISHING');
    assert.match(errorOf(decision).description, /being published by operator/);
    const publication = expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/publish`, { collection: ADD_TEST, tlp: 'green' }), 409);
    assert.equal(errorOf(publication).error_code, 'ENT_DRAFT_PUBLISHING');

    await node.store.releaseDraftPublication(draft.id, 'claim-operator');
    expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/publish`, { collection: ADD_TEST, tlp: 'green' }), 201);
    const again = expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/publish`, { collection: ADD_TEST, tlp: 'green' }), 409);
    assert.equal(errorOf(again).error_code, 'ENT_DRAFT_PUBLISHED');
  });
});

describe('entente draft while the node publishes the draft', () => {
  const dir = temporaryDirectory('draft-publishing');
  const data = join(dir.path, 'node');
  after(() => dir.remove());

  it('prints ENT_DRAFT_PUBLISHING for a decision and for a publication', async () => {
    const file = join(dir.path, 'busy.md');
    writeFileSync(file, '# Busy\nThe loader called 45.77.12.15.\n');
    const made = await entente(data, ['extract', file, '--json']);
    assert.equal(made.code, 0, made.stderr);
    const draftId = (JSON.parse(made.stdout) as { draft: string }).draft;
    const node = await openNode(loadNodeConfig({ dataDir: data }, {}));
    try {
      await node.store.claimDraftPublication(draftId, { id: 'claim-node', by: 'analyst', at: new Date().toISOString() }, LONG_AGO);
    } finally {
      await node.close();
    }
    const accept = await entente(data, ['draft', 'accept', draftId, '1']);
    assert.equal(accept.code, 1);
    assert.match(accept.stderr, /ENT_DRAFT_PUBLISHING: .*being published by analyst/);
    const publish = await entente(data, ['draft', 'publish', draftId, '--collection', 'default', '--tlp', 'green', '--reject-pending']);
    assert.equal(publish.code, 1);
    assert.match(publish.stderr, /ENT_DRAFT_PUBLISHING/);
  });
});
