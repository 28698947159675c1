// Nothing leaves that the analyst did not accept. A value the analyst rejected (an internal host, a
// victim's address: often rejected because it must not leave), the form of an edited value before
// the edit (a URL whose query string named the victim) and a withheld value in the document's first
// line appear in no published object, in any of the ways the report wrote them (case, defanged);
// what was accepted is published as before, and the provenance keeps each decision without the
// pre-edit value. Ported from the review's reproductions (rejected-in-sentence, edited-value).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { createDraftFromBytes, decideOnDraft, publishDraft, requireDraft, type DraftDeps } from '../../src/drafts/draft-operations.ts';
import type { Draft } from '../../src/drafts/draft.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const NOW = new Date('2026-11-24T09:00:00.000Z');

async function withDeps(run: (deps: DraftDeps) => Promise<void>): Promise<void> {
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => NOW });
  let n = 0;
  const deps: DraftDeps = { store, clock: () => NOW, randomUuid: () => `00000000-0000-4000-8000-${(n += 1).toString(16).padStart(12, '0')}`, homeOrganisationId: HOME };
  try {
    await store.createCollection({ id: 'feed', title: 'Feed' }, NOW);
    await run(deps);
  } finally {
    await store.close();
  }
}

async function draftFrom(deps: DraftDeps, fileName: string, text: string): Promise<Draft> {
  return createDraftFromBytes(deps, { fileName, bytes: new TextEncoder().encode(text) }, 'operator');
}

function itemWith(draft: Draft, value: string): string {
  const item = draft.items.find((candidate) => candidate.value === value);
  assert.ok(item, `the draft proposes ${value} (it proposes ${draft.items.map((candidate) => candidate.value).join(', ')})`);
  return item.id;
}

async function publish(deps: DraftDeps, draftId: string): Promise<readonly StixObject[]> {
  return (await publishDraft(deps, { draftId, collection: 'feed', tlp: 'green', analyst: 'ana', viewer: 'operator' })).objects;
}

function assertAbsent(objects: readonly StixObject[], forms: readonly string[]): void {
  for (const object of objects) {
    const json = JSON.stringify(object).toLowerCase();
    for (const form of forms) assert.equal(json.includes(form.toLowerCase()), false, `${object.id} holds ${form}: ${JSON.stringify(object)}`);
  }
}

describe('a publication withholds what the analyst did not accept', () => {
  it('leaves rejected values out of the indicator built from the same sentence, and publishes the accepted one', async () => {
    await withDeps(async (deps) => {
      const text = 'Incident 2026-17\n\nOur SCADA jump host scada-jh07.energy-ministry.com, admin account svc-ot@energy-ministry.com, beaconed to 45.77.12.31 every 60 s.\n';
      const draft = await draftFrom(deps, 'incident-2026-17.txt', text);
      const ip = itemWith(draft, '45.77.12.31');
      const others = draft.items.filter((item) => item.id !== ip).map((item) => item.id);
      assert.deepEqual(others, [itemWith(draft, 'scada-jh07.energy-ministry.com'), itemWith(draft, 'svc-ot@energy-ministry.com')]);
      await decideOnDraft(deps, draft.id, [ip], { decision: 'accept' }, 'ana', 'operator');
      await decideOnDraft(deps, draft.id, others, { decision: 'reject', reason: 'internal: must not leave' }, 'ana', 'operator');
      const objects = await publish(deps, draft.id);

      assertAbsent(objects, ['scada-jh07', 'svc-ot@', 'energy-ministry.com', 'must not leave']);
      const indicator = objects.find((object) => object.type === 'indicator');
      assert.equal(indicator?.['pattern'], "[ipv4-addr:value = '45.77.12.31']");
      assert.equal(indicator?.['description'], 'Stated in "Incident 2026-17": "Our SCADA jump host [withheld], admin account [withheld], beaconed to 45.77.12.31 every 60 s."');
      const report = objects.find((object) => object.type === 'report');
      assert.equal(report?.['name'], 'Incident 2026-17', 'a first line holding nothing withheld names the report');
      // The draft keeps everything, for the analyst.
      const kept = await requireDraft(deps, draft.id, 'operator');
      assert.match(JSON.stringify(kept.items), /scada-jh07\.energy-ministry\.com/);
    });
  });

  it('publishes an edited value without its pre-edit form, in descriptions or provenance; the provenance keeps the decision', async () => {
    await withDeps(async (deps) => {
      const text = 'Phishing\n\nThe lure linked to https://evil-login.net/auth?user=jane.doe@energy-ministry.com&sid=8812 for credential capture.\n';
      const draft = await draftFrom(deps, 'phish.txt', text);
      const url = itemWith(draft, 'https://evil-login.net/auth?user=jane.doe@energy-ministry.com&sid=8812');
      const others = draft.items.filter((item) => item.id !== url).map((item) => item.id);
      await decideOnDraft(deps, draft.id, [url], { decision: 'edit', value: 'https://evil-login.net/auth' }, 'ana', 'operator');
      await decideOnDraft(deps, draft.id, others, { decision: 'reject', reason: 'victim data' }, 'ana', 'operator');
      const objects = await publish(deps, draft.id);

      assertAbsent(objects, ['jane.doe', 'energy-ministry', 'sid=8812', 'user=', 'victim data']);
      const indicator = objects.find((object) => object.type === 'indicator');
      assert.equal(indicator?.['pattern'], "[url:value = 'https://evil-login.net/auth']", 'the edited value is published');
      assert.equal(indicator?.['description'], 'Stated in "Phishing": "The lure linked to [withheld] for credential capture."');
      assert.ok(objects.some((object) => object.type === 'url' && object['value'] === 'https://evil-login.net/auth'));
      const report = objects.find((object) => object.type === 'report');
      const provenance = report?.['x_entente_provenance'] as { items: Record<string, unknown>[]; rejected_count: number };
      assert.equal(provenance.items.length, 1);
      const entry = provenance.items[0] ?? {};
      assert.deepEqual([entry['item'], entry['decision'], entry['value'], entry['decided_by'], entry['method']], [url, 'edited', 'https://evil-login.net/auth', 'ana', 'extractor:url']);
      assert.equal('proposed_value' in entry, false, 'the value as extracted stays in the draft');
      assert.equal(provenance.rejected_count, others.length);
    });
  });

  it('withholds a rejected value however the report wrote it: another case, defanged', async () => {
    await withDeps(async (deps) => {
      const text = 'Weekly note\n\nThe loader at 45.77.12.31 also reached VPN-GW01.Corp-Example.org and vpn-gw01.corp-example[.]org (hxxps://vpn-gw01.corp-example[.]org/login).\n';
      const draft = await draftFrom(deps, 'note.txt', text);
      const ip = itemWith(draft, '45.77.12.31');
      const others = draft.items.filter((item) => item.id !== ip).map((item) => item.id);
      assert.ok(others.length > 0);
      await decideOnDraft(deps, draft.id, [ip], { decision: 'accept' }, 'ana', 'operator');
      await decideOnDraft(deps, draft.id, others, { decision: 'reject' }, 'ana', 'operator');
      const objects = await publish(deps, draft.id);
      assertAbsent(objects, ['vpn-gw01', 'corp-example']);
      assert.match(String(objects.find((object) => object.type === 'indicator')?.['description']), /45\.77\.12\.31/);
    });
  });

  it('names the report after its file, not after a first line holding a withheld value', async () => {
    await withDeps(async (deps) => {
      const text = 'Compromise of mail01.energy-ministry.com\n\nThe webshell on mail01.energy-ministry.com called 45.77.12.31.\n';
      const draft = await draftFrom(deps, 'case-41.txt', text);
      const ip = itemWith(draft, '45.77.12.31');
      await decideOnDraft(deps, draft.id, [ip], { decision: 'accept' }, 'ana', 'operator');
      await decideOnDraft(deps, draft.id, draft.items.filter((item) => item.id !== ip).map((item) => item.id), { decision: 'reject' }, 'ana', 'operator');
      const objects = await publish(deps, draft.id);
      assertAbsent(objects, ['mail01', 'energy-ministry']);
      assert.equal(objects.find((object) => object.type === 'report')?.['name'], 'case-41.txt');
      assert.match(String(objects.find((object) => object.type === 'indicator')?.['description']), /^Stated in "case-41\.txt": "The webshell on \[withheld\] called 45\.77\.12\.31\."$/);
    });
  });

  it('withholds the values of items still pending when they are rejected at publication (--reject-pending)', async () => {
    await withDeps(async (deps) => {
      const text = 'Note\n\nThe implant on hr-laptop-17.corp-example.org called 45.77.12.31.\n';
      const draft = await draftFrom(deps, 'note.txt', text);
      await decideOnDraft(deps, draft.id, [itemWith(draft, '45.77.12.31')], { decision: 'accept' }, 'ana', 'operator');
      const objects = (await publishDraft(deps, { draftId: draft.id, collection: 'feed', tlp: 'green', analyst: 'ana', viewer: 'operator', rejectPending: true })).objects;
      assertAbsent(objects, ['hr-laptop-17', 'corp-example']);
    });
  });
});
