// An analyst edits an item (often to take something out of it: a victim's address in a URL) and
// then accepts it, or accepts a range of items that includes it. The accept confirms the item as it
// stands: what is published is the edited value, never the value edited away, over REST and at the
// command line alike; and the report's provenance says the published value is the analyst's, not
// automation's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
import { ADD_TEST } from '../taxii/taxii-test-kit.ts';
import { entente, temporaryDirectory } from '../cli/cli-kit.ts';
import { loadNodeConfig, openNode } from '../../src/compose.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { expectStatus } from './draft-kit.ts';

const REPORT = '# Lure\nThe lure linked to https://evil-login.net/auth?user=jane.doe@victim.example today.\n';
const PROPOSED = 'https://evil-login.net/auth?user=jane.doe@victim.example';
const EDITED = 'https://evil-login.net/auth';

interface ItemJson {
  id: string;
  value: string;
  decision: { state: string; value?: string; analyst?: string; decided_at?: string; edited_by?: string; edited_at?: string };
}
interface ProvenanceEntry {
  item: string;
  decision: string;
  automatic: boolean;
  value?: string;
  proposed_value?: string;
  decided_by?: string;
  edited_by?: string;
  edited_at?: string;
}

/** What the published objects say of the URL item: indicator patterns, SCO values, its provenance entry. */
function published(objects: readonly StixObject[], report: StixObject, itemId: string): { patterns: unknown[]; urls: unknown[]; entry: ProvenanceEntry | undefined } {
  const provenance = report['x_entente_provenance'] as unknown as { items: ProvenanceEntry[] };
  return {
    patterns: objects.filter((object) => object.type === 'indicator' && String(object['pattern']).startsWith('[url:')).map((object) => object['pattern']),
    urls: objects.filter((object) => object.type === 'url').map((object) => object['value']),
    entry: provenance.items.find((entry) => entry.item === itemId),
  };
}

function assertEditedPublished(objects: readonly StixObject[], report: StixObject, itemId: string, who: { editor: string; accepter: string }): void {
  const { patterns, urls, entry } = published(objects, report, itemId);
  assert.deepEqual(patterns, [`[url:value = '${EDITED}']`]);
  assert.deepEqual(urls, [EDITED]);
  assert.deepEqual(objects.filter((object) => JSON.stringify(object).includes('jane.doe')), [], 'nothing published carries the value edited away');
  assert.deepEqual(
    [entry?.decision, entry?.value, entry?.automatic, entry?.edited_by, entry?.decided_by, entry !== undefined && 'proposed_value' in entry],
    ['edited', EDITED, false, who.editor, who.accepter, false],
    "the provenance says the value is the analyst's edit, not automation's, and who wrote it apart from who accepted it",
  );
}

describe('accepting an edited item over REST', () => {
  let node: CircleApiNode;
  before(async () => {
    node = await startCircleApiNode([]);
  });
  after(() => node.close());

  it('publishes the edited value, not the one extracted, naming who edited it and who accepted it', async () => {
    const draft = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text: REPORT }), 201).json<{ id: string; items: ItemJson[] }>();
    const url = draft.items.find((item) => item.value === PROPOSED);
    assert.ok(url, 'the URL is proposed');
    const edit = expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/items/${url.id}`, { decision: 'edit', value: EDITED }), 200).json<ItemJson>();
    assert.deepEqual([edit.decision.edited_by, edit.decision.edited_at, edit.decision.analyst], ['analyst', edit.decision.decided_at, 'analyst'], 'an edit is its author\'s decision');
    // An administrator (who sees every draft) accepts the analyst's edit.
    const accepted = expectStatus(await node.call('admin', 'POST', `/api/drafts/${draft.id}/items/${url.id}`, { decision: 'accept' }), 200).json<ItemJson>();
    assert.deepEqual(
      [accepted.decision.state, accepted.decision.value, accepted.decision.edited_by, accepted.decision.edited_at, accepted.decision.analyst],
      ['edited', EDITED, 'analyst', edit.decision.edited_at, 'admin'],
      'the accept answers the item as it stands: the analyst\'s edit, accepted by the administrator',
    );
    const shown = expectStatus(await node.call('analyst', 'GET', `/api/drafts/${draft.id}`), 200).json<{ items: ItemJson[] }>();
    assert.deepEqual(shown.items.find((item) => item.id === url.id)?.decision, accepted.decision);

    const outcome = expectStatus(await node.call('analyst', 'POST', `/api/drafts/${draft.id}/publish`, { collection: ADD_TEST, tlp: 'green', reject_pending: true }), 201).json<{ report: StixObject }>();
    const objects = (await node.store.listEntries(ADD_TEST, {}, { limit: 100 })).entries.map((entry) => JSON.parse(entry.json) as StixObject);
    assertEditedPublished(objects, outcome.report, url.id, { editor: 'analyst', accepter: 'admin' });
  });
});

async function collectionObjects(dataDir: string, collectionId: string): Promise<StixObject[]> {
  const node = await openNode(loadNodeConfig({ dataDir }, {}));
  try {
    return (await node.store.listEntries(collectionId, {}, { limit: 1000 })).entries.map((entry) => JSON.parse(entry.json) as StixObject);
  } finally {
    await node.close();
  }
}

describe('accepting an edited item with entente draft', () => {
  const dir = temporaryDirectory('draft-edit-accept');
  const data = join(dir.path, 'node');
  after(() => dir.remove());

  it('publishes the edited value, and nothing of the value edited away, when the accept names the edited item with others', async () => {
    const file = join(dir.path, 'lure.md');
    writeFileSync(file, REPORT);
    const made = await entente(data, ['extract', file, '--json']);
    assert.equal(made.code, 0, made.stderr);
    const draftId = (JSON.parse(made.stdout) as { draft: string }).draft;
    const draft = JSON.parse((await entente(data, ['draft', 'show', draftId, '--json'])).stdout) as { items: ItemJson[] };
    const url = draft.items.find((item) => item.value === PROPOSED);
    assert.ok(url, 'the URL is proposed');

    const edit = await entente(data, ['draft', 'edit', draftId, url.id, '--value', EDITED, '--analyst', 'ana']);
    assert.equal(edit.code, 0, edit.stderr);
    // The victim's address was rejected by default (.example); what is pending (the domain, the
    // techniques tagging's model read in the same sentence) is accepted with the URL.
    assert.equal(draft.items.find((item) => item.value === 'jane.doe@victim.example')?.decision.state, 'rejected');
    const accept = await entente(data, ['draft', 'accept', draftId, url.id, 'pending', '--analyst', 'ana']);
    assert.equal(accept.code, 0, accept.stderr);
    assert.match(accept.stdout, new RegExp(`edited +url +${EDITED.replace(/[.?/]/g, '\\$&')} \\(was `), 'accept prints the item as it stands');

    const run = await entente(data, ['draft', 'publish', draftId, '--collection', 'default', '--tlp', 'green', '--reject-pending', '--analyst', 'ana', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const outcome = JSON.parse(run.stdout) as { report: StixObject; publication: { collection_id: string; object_ids: string[] } };
    const shownAgain = JSON.parse((await entente(data, ['draft', 'show', draftId, '--json'])).stdout) as { items: ItemJson[] };
    assert.equal(shownAgain.items.find((item) => item.id === url.id)?.decision.value, EDITED);
    const stored = await collectionObjects(data, outcome.publication.collection_id);
    const objects = stored.filter((object) => outcome.publication.object_ids.includes(object.id));
    assert.equal(objects.length, outcome.publication.object_ids.length, 'every object published is in the collection');
    assertEditedPublished(objects, outcome.report, url.id, { editor: 'ana', accepter: 'ana' });
  });
});
