import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideDraftItems } from './decide-draft-items.ts';
import { effectiveValue, type Draft, type DraftItem } from './draft.ts';

const EDITED_AT = new Date('2026-11-23T02:00:00.000Z');
const ACCEPTED_AT = new Date('2026-11-23T02:10:00.000Z');

function draftOf(items: DraftItem[]): Draft {
  return {
    id: '7',
    source: { fileName: 'report.txt', sha256: 'ab'.repeat(32), format: 'text' },
    title: 'Report',
    text: 'The lure linked to https://evil-login.net/auth?user=jane.doe@victim.example and beaconed to evil-c2.com.',
    createdAt: EDITED_AT.toISOString(),
    items,
    warnings: [],
  };
}

function observable(id: string, type: string, value: string): DraftItem {
  return {
    id,
    kind: 'observable',
    type,
    value,
    confidence: 0.9,
    method: { source: 'extractor', detail: type },
    occurrences: 1,
    evidence: [],
    decision: { state: 'pending' },
  };
}

/** The draft after `changed` replaced its items of the same ids. */
function withItems(draft: Draft, changed: readonly DraftItem[]): Draft {
  const byId = new Map(changed.map((item) => [item.id, item]));
  return { ...draft, items: draft.items.map((item) => byId.get(item.id) ?? item) };
}

describe('accepting an item the analyst edited', () => {
  const url = observable('1', 'url', 'https://evil-login.net/auth?user=jane.doe@victim.example');
  const domain = observable('2', 'domain-name', 'evil-c2.com');
  const base = draftOf([url, domain]);

  it('keeps the edited value: the value published is the one the analyst wrote, never the one edited away', () => {
    const edited = withItems(base, decideDraftItems(base, ['1'], { decision: 'edit', value: 'https://evil-login.net/auth' }, 'ana', EDITED_AT));
    const [accepted] = decideDraftItems(edited, ['1'], { decision: 'accept' }, 'ana', ACCEPTED_AT);
    assert.ok(accepted);
    assert.equal(effectiveValue(accepted), 'https://evil-login.net/auth');
    assert.deepEqual(accepted.decision, { state: 'edited', value: 'https://evil-login.net/auth', editedBy: 'ana', editedAt: EDITED_AT.toISOString(), analyst: 'ana', decidedAt: ACCEPTED_AT.toISOString() });
    assert.equal(accepted.value, url.value, 'what automation proposed stays recorded as the proposal');
  });

  it("keeps the analyst's pattern, and records who edited it and when apart from who accepted the edit, when, and the note", () => {
    const pattern = "[domain-name:value LIKE '%.evil-c2.com']";
    const edited = withItems(base, decideDraftItems(base, ['2'], { decision: 'edit', pattern }, 'ana', EDITED_AT));
    assert.deepEqual(edited.items[1]?.decision, { state: 'edited', value: 'evil-c2.com', pattern, editedBy: 'ana', editedAt: EDITED_AT.toISOString(), analyst: 'ana', decidedAt: EDITED_AT.toISOString() }, 'an edit is its own decision');
    const [accepted] = decideDraftItems(edited, ['2'], { decision: 'accept', reason: 'checked with the sinkhole team' }, 'bo', ACCEPTED_AT);
    // Bo accepted what Ana wrote: the pattern is still Ana's, and the record must not say it is Bo's.
    assert.deepEqual(accepted?.decision, {
      state: 'edited',
      value: 'evil-c2.com',
      pattern,
      editedBy: 'ana',
      editedAt: EDITED_AT.toISOString(),
      analyst: 'bo',
      decidedAt: ACCEPTED_AT.toISOString(),
      reason: 'checked with the sinkhole team',
    });
  });

  it('accepts an edit recorded before edits named their author as it stands, inventing no author', () => {
    const legacy: DraftItem = { ...url, decision: { state: 'edited', value: 'https://evil-login.net/auth', analyst: 'ana', decidedAt: EDITED_AT.toISOString() } };
    const [accepted] = decideDraftItems(draftOf([legacy, domain]), ['1'], { decision: 'accept' }, 'bo', ACCEPTED_AT);
    assert.deepEqual(accepted?.decision, { state: 'edited', value: 'https://evil-login.net/auth', analyst: 'bo', decidedAt: ACCEPTED_AT.toISOString() });
  });

  it('accepts edited and untouched items in one decision, each as it stands', () => {
    const edited = withItems(base, decideDraftItems(base, ['1'], { decision: 'edit', value: 'https://evil-login.net/auth' }, 'ana', EDITED_AT));
    const changed = decideDraftItems(edited, ['1', '2'], { decision: 'accept' }, 'ana', ACCEPTED_AT);
    assert.deepEqual(changed.map((item) => [item.decision.state, effectiveValue(item)]), [['edited', 'https://evil-login.net/auth'], ['accepted', 'evil-c2.com']]);
  });

  it('drops the edit on a rejection: a rejected item publishes nothing, and accepting it again accepts the proposal', () => {
    const edited = withItems(base, decideDraftItems(base, ['1'], { decision: 'edit', value: 'https://evil-login.net/auth' }, 'ana', EDITED_AT));
    const rejected = withItems(edited, decideDraftItems(edited, ['1'], { decision: 'reject' }, 'ana', ACCEPTED_AT));
    assert.deepEqual(rejected.items[0]?.decision, { state: 'rejected', analyst: 'ana', decidedAt: ACCEPTED_AT.toISOString() });
    const [again] = decideDraftItems(rejected, ['1'], { decision: 'accept' }, 'ana', ACCEPTED_AT);
    assert.deepEqual([again?.decision.state, again === undefined ? undefined : effectiveValue(again)], ['accepted', url.value]);
  });
});

describe('editing an item edited before', () => {
  const domain = observable('2', 'domain-name', 'evil-c2.com');
  const base = draftOf([observable('1', 'url', 'https://evil-login.net/auth?user=jane.doe@victim.example'), domain]);
  const pattern = "[domain-name:value LIKE '%.evil-c3.com']";

  it('keeps the edited value when the new edit gives a pattern alone', () => {
    const valued = withItems(base, decideDraftItems(base, ['2'], { decision: 'edit', value: 'evil-c3.com' }, 'ana', EDITED_AT));
    const [patterned] = decideDraftItems(valued, ['2'], { decision: 'edit', pattern }, 'bo', ACCEPTED_AT);
    assert.deepEqual(patterned?.decision, { state: 'edited', value: 'evil-c3.com', pattern, editedBy: 'bo', editedAt: ACCEPTED_AT.toISOString(), analyst: 'bo', decidedAt: ACCEPTED_AT.toISOString() }, 'the last edit names its author');
  });

  it("keeps the analyst's pattern when the new edit gives a value alone", () => {
    const patterned = withItems(base, decideDraftItems(base, ['2'], { decision: 'edit', pattern }, 'ana', EDITED_AT));
    const [valued] = decideDraftItems(patterned, ['2'], { decision: 'edit', value: 'evil-c3.com' }, 'ana', ACCEPTED_AT);
    assert.deepEqual(valued?.decision, { state: 'edited', value: 'evil-c3.com', pattern, editedBy: 'ana', editedAt: ACCEPTED_AT.toISOString(), analyst: 'ana', decidedAt: ACCEPTED_AT.toISOString() });
  });
});
