// The console publishes what the analyst reviewed, or nothing. GET /api/drafts/ID gives the draft's
// `revision` (it changes with every decision on any item); a publication that names it is refused
// with 409 ENT_DRAFT_CHANGED when a decision was made since (an administrator edited an item, the same
// token decided from another tab), so that no one publishes items in a state they never saw.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { errorOf, startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
import { ADD_TEST } from '../taxii/taxii-test-kit.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { expectStatus } from './draft-kit.ts';

interface DraftJson {
  id: string;
  revision: string;
  items: { id: string; value: string; decision: { state: string } }[];
  publication?: unknown;
}

function refused(response: LightMyRequestResponse, status: number, code: string): void {
  expectStatus(response, status);
  assert.equal(errorOf(response).error_code, code, response.body.slice(0, 600));
}

describe('publishing the revision of a draft the analyst reviewed', () => {
  let node: CircleApiNode;
  before(async () => {
    node = await startCircleApiNode([]);
  });
  after(() => node.close());

  async function reviewed(text: string): Promise<DraftJson> {
    const made = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text }), 201).json<DraftJson>();
    for (const item of made.items) expectStatus(await node.call('analyst', 'POST', `/api/drafts/${made.id}/items/${item.id}`, { decision: 'accept' }), 200);
    return expectStatus(await node.call('analyst', 'GET', `/api/drafts/${made.id}`), 200).json<DraftJson>();
  }

  it('gives every draft a revision that changes with each decision, and not with reading', async () => {
    const made = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text: '# Dusk\nThe loader called 45.77.12.20.\n' }), 201).json<DraftJson>();
    assert.match(made.revision, /^[0-9a-f]{32}$/);
    const read = expectStatus(await node.call('analyst', 'GET', `/api/drafts/${made.id}`), 200).json<DraftJson>();
    assert.equal(read.revision, made.revision);
    expectStatus(await node.call('analyst', 'POST', `/api/drafts/${made.id}/items/${made.items[0]?.id ?? ''}`, { decision: 'accept' }), 200);
    const decided = expectStatus(await node.call('analyst', 'GET', `/api/drafts/${made.id}`), 200).json<DraftJson>();
    assert.notEqual(decided.revision, made.revision);
  });

  it('refuses, and stores nothing, when an item changed after the analyst reviewed the draft', async () => {
    const draft = await reviewed('# Dusk\nThe loader called 45.77.12.21 and 45.77.12.22.\n');
    const second = draft.items.find((item) => item.value === '45.77.12.22');
    assert.ok(second !== undefined);
    // An administrator edits an item the analyst had accepted as it stood.
    expectStatus(await node.call('admin', 'POST', `/api/drafts/${draft.id}/items/${second.id}`, { decision: 'edit', value: '10.9.8.7' }), 200);

    refused(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/publish`, { collection: ADD_TEST, tlp: 'green', revision: draft.revision }), 409, 'ENT_DRAFT_CHANGED');
    const after = expectStatus(await node.call('analyst', 'GET', `/api/drafts/${draft.id}`), 200).json<DraftJson>();
    assert.equal(after.publication, undefined, 'the draft is not published');
    const reports = (await node.store.listEntries(ADD_TEST, { types: ['report'] }, { limit: 100 })).entries.filter((entry) => entry.json.includes(`"draft":"${draft.id}"`));
    assert.equal(reports.length, 0, 'nothing was stored');

    // Reviewed again, it publishes, with the edit the analyst has now seen.
    const published = expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/publish`, { collection: ADD_TEST, tlp: 'green', revision: after.revision }), 201).json<{ report: StixObject }>();
    assert.ok(JSON.stringify(published.report).includes('10.9.8.7'));
  });

  it('publishes the revision named when nothing changed, and refuses a revision that is not a string', async () => {
    const draft = await reviewed('# Dusk\nThe loader called 45.77.12.23.\n');
    refused(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/publish`, { collection: ADD_TEST, tlp: 'green', revision: 7 }), 400, 'ENT_HTTP_BAD_FIELD');
    expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/publish`, { collection: ADD_TEST, tlp: 'green', revision: draft.revision }), 201);
  });
});
