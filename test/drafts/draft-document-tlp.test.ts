// A report's own TLP label binds what is published from it: with no TLP asked for, the publication
// takes the stricter of the label and the circle's default; a TLP asked for that is laxer than the
// label is refused (ENT_DRAFT_TLP_BELOW_LABEL), naming the label and where the document carries it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
import { createDraftFromBytes, decideOnDraft, publishDraft, type DraftDeps } from '../../src/drafts/draft-operations.ts';
import { EntenteError } from '../../src/errors/entente-error.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { expectStatus, proposeWideCircle } from './draft-kit.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const RED_REPORT = 'TLP:RED\nRecipients only: ministry SOC. Do not share.\n\nIncident at our plant: C2 server 45.77.12.31 contacted evil-updates.net.\n';

describe('publishing a report that carries its own TLP label (store level)', () => {
  let store: ObjectStore;
  let deps: DraftDeps;
  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2026-01-01T00:00:00Z');
    await store.createCollection({ id: 'wide', title: 'wide' }, created);
    await store.createCircle({ id: 'wide', name: 'wide', kind: 'formal', visibility: 'open', collectionId: 'wide', defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [{ organisationId: HOME, role: 'coordinator', joinedAt: '2026-01-01T00:00:00.000Z', trial: false }] }, created);
    let u = 0;
    deps = { store, clock: () => new Date('2026-11-24T09:00:00Z'), randomUuid: () => `00000000-0000-4000-8000-${(u += 1).toString(16).padStart(12, '0')}`, homeOrganisationId: HOME };
  });
  after(() => store.close());

  async function acceptedDraft(text: string): Promise<{ id: string; warnings: readonly string[] }> {
    const draft = await createDraftFromBytes(deps, { fileName: 'incident.txt', bytes: new TextEncoder().encode(text) }, 'operator');
    await decideOnDraft(deps, draft.id, draft.items.map((item) => item.id), { decision: 'accept' }, 'ana', 'operator');
    return draft;
  }

  it('says at drafting that the document is marked, and where', async () => {
    const draft = await acceptedDraft(RED_REPORT);
    assert.ok(draft.warnings.some((warning) => /TLP:RED/.test(warning) && /line 1/.test(warning)), JSON.stringify(draft.warnings));
  });

  it("publishes a TLP:RED report at RED to a GREEN circle when no TLP is asked for, never at the circle's default", async () => {
    const draft = await acceptedDraft(RED_REPORT);
    const out = await publishDraft(deps, { draftId: draft.id, circle: 'wide', analyst: 'ana', viewer: 'operator' });
    assert.equal(out.publication.tlp, 'red');
    for (const object of out.objects) {
      if (object.type === 'identity') continue;
      assert.deepEqual(object['object_marking_refs'], [TLP2_MARKING_IDS.red], object.id);
    }
    assert.ok(out.warnings.some((warning) => /TLP:RED/.test(warning) && /line 1/.test(warning) && /TLP:GREEN/.test(warning)), JSON.stringify(out.warnings));
  });

  it('refuses a TLP asked for that is laxer than the label, naming the label and its line, and publishes nothing', async () => {
    const draft = await acceptedDraft(`Weekly note\nHandling: TLP:AMBER+STRICT\nThe loader called 45.77.12.32.\n`);
    await assert.rejects(publishDraft(deps, { draftId: draft.id, circle: 'wide', tlp: 'amber', analyst: 'ana', viewer: 'operator' }), (error: unknown) => {
      assert.ok(error instanceof EntenteError);
      assert.equal(error.code, 'ENT_DRAFT_TLP_BELOW_LABEL');
      assert.match(error.message, /TLP:AMBER\+STRICT/);
      assert.match(error.message, /line 2/);
      return true;
    });
    assert.equal((await store.getDraft(draft.id))?.publication, undefined, 'the draft is still unpublished');
    // Asked for explicitly, as strict as the label or stricter, it goes ahead.
    const out = await publishDraft(deps, { draftId: draft.id, circle: 'wide', tlp: 'red', analyst: 'ana', viewer: 'operator' });
    assert.equal(out.publication.tlp, 'red');
  });

  it('keeps a default stricter than the label, and a label no stricter than what is asked for changes nothing', async () => {
    const green = await acceptedDraft('TLP:CLEAR\nThe loader called 45.77.12.33.\n');
    assert.equal((await publishDraft(deps, { draftId: green.id, circle: 'wide', analyst: 'ana', viewer: 'operator' })).publication.tlp, 'green');
    const amber = await acceptedDraft('TLP:GREEN\nThe loader called 45.77.12.34.\n');
    const out = await publishDraft(deps, { draftId: amber.id, collection: 'wide', tlp: 'amber', analyst: 'ana', viewer: 'operator' });
    assert.equal(out.publication.tlp, 'amber');
  });
});

describe('publishing a labelled report through the API', () => {
  let node: CircleApiNode;
  before(async () => {
    node = await startCircleApiNode(['wide']);
    await proposeWideCircle(node, ['bank'], ['report', 'indicator', 'relationship', 'ipv4-addr', 'domain-name', 'identity']);
  });
  after(() => node.close());

  async function accepted(text: string): Promise<string> {
    const made = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text }), 201).json<{ id: string; items: { id: string }[] }>();
    for (const item of made.items) expectStatus(await node.call('analyst', 'POST', `/api/drafts/${made.id}/items/${item.id}`, { decision: 'accept' }), 200);
    return made.id;
  }

  it('answers 409 ENT_DRAFT_TLP_BELOW_LABEL to a TLP laxer than the label', async () => {
    const id = await accepted('# Dusk\n[TLP: RED] The loader called 45.77.12.9.\n');
    const refused = expectStatus(await node.call('admin', 'POST', `/api/drafts/${id}/publish`, { circle: 'wide', tlp: 'green' }), 409);
    assert.match(refused.body, /ENT_DRAFT_TLP_BELOW_LABEL/);
    assert.match(refused.body, /TLP: RED/);
  });

  it("takes the label over the circle's laxer default", async () => {
    const id = await accepted('# Dawn\nTLP:AMBER+STRICT\nThe loader called 45.77.12.10.\n');
    const published = expectStatus(await node.call('admin', 'POST', `/api/drafts/${id}/publish`, { circle: 'wide' }), 201).json<{ publication: { tlp: string } }>();
    assert.equal(published.publication.tlp, 'amber+strict');
  });
});
