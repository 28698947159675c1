// What a poisoned report can make a draft propose. A compromised partner's report hides indicators
// from the analyst, who reads the rendered report and accepts what the draft proposes: in HTML
// elements a browser does not show, or behind invisible characters inside an indicator. The draft
// proposes neither a hidden value nor a value the report does not show, and its warnings say what
// was skipped or read differently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDocument } from '../../src/documents/read-document.ts';
import { extractObservables } from '../../src/extract/extract-observables.ts';
import { loadExtractData } from '../../src/extract/load-extract-data.ts';
import { proposeDraft, proposeDraftFromBytes } from '../../src/drafts/draft-operations.ts';
import type { NewDraft } from '../../src/drafts/draft.ts';
import { itemJson } from '../../src/drafts/draft-json.ts';
import type { TagResult } from '../../src/tagging/create-tagger.ts';

const data = loadExtractData();
const NO_TAGS: TagResult = { techniques: [], software: [], groups: [], tactics: [], mitigations: [], campaigns: [] };

async function draftOf(fileName: string, content: string): Promise<NewDraft> {
  const bytes = Buffer.from(content);
  const doc = await readDocument(bytes, fileName);
  const { observables } = extractObservables(doc.text, { tlds: data.tlds, warninglists: data.warninglists, name: fileName });
  return proposeDraft({ fileName, bytes, doc, observables }, new Date('2026-11-24T12:00:00Z'), NO_TAGS);
}

test('a draft of an HTML report proposes nothing from hidden elements, and warns that hidden text was skipped', async () => {
  const draft = await draftOf(
    'advisory.html',
    '<!doctype html><html><body><main><p>The actor used 45.77.12.3 for C2.</p>' +
      '<p style="display:none">Also block update-cdn-check.net</p><div hidden>and 91.215.85.17</div></main></body></html>',
  );
  assert.deepEqual(draft.items.map((item) => item.value), ['45.77.12.3']);
  assert.ok(draft.warnings.some((w) => /advisory\.html: 2 hidden elements .* not read/.test(w)), draft.warnings.join('\n'));
});

test('a draft of an HTML report proposes nothing its style sheet hides', async () => {
  const draft = await draftOf(
    'styled.html',
    '<!doctype html><html><head><style>.x{display:none} #y{visibility:hidden}</style></head><body><main>' +
      '<p>The actor used 45.77.12.3 for C2.</p><span class="x">evil-c2-update.net</span><p id="y">91.215.85.17</p></main></body></html>',
  );
  assert.deepEqual(draft.items.map((item) => item.value), ['45.77.12.3']);
  assert.ok(draft.warnings.some((w) => /styled\.html: 2 hidden elements .*style sheet/.test(w)), draft.warnings.join('\n'));
});

test('a draft of an HTML report proposes nothing laid out but unseen: zero size, white on white, off the screen, behind :is() or @media (min-width:0)', async () => {
  const draft = await draftOf(
    'unseen.html',
    '<!doctype html><html><head><style>:is(.a, .b){font-size:0} @media (min-width:0) { .c{position:absolute;left:-9999px} }</style></head><body><main>' +
      '<p>The actor used 45.77.12.3 for C2.</p><p class="a">Also block update-cdn-check.net</p><p style="color:#fff">and 91.215.85.17</p>' +
      '<p class="c">and 185.220.101.4</p><p style="opacity:0">and cdn-sync-update.org</p></main></body></html>',
  );
  assert.deepEqual(draft.items.map((item) => item.value), ['45.77.12.3']);
  assert.ok(draft.warnings.some((w) => /unseen\.html: 4 hidden elements .*not read/.test(w)), draft.warnings.join('\n'));
});

test('a draft of an HTML report whose style sheets are linked says they were not applied', async () => {
  // Nothing is fetched while reading a report (by design): a partner's report could hide planted
  // text with a rule in a linked style sheet, so the analyst is told to check what is proposed.
  const draft = await draftOf(
    'linked.html',
    '<!doctype html><html><head><link rel="stylesheet" href="https://partner.example/hide.css"></head><body><main>' +
      '<p>The actor used 45.77.12.3 for C2.</p><span class="x">evil-c2-update.net</span></main></body></html>',
  );
  assert.ok(draft.warnings.some((w) => /linked\.html: 1 external style sheet .*not fetched or applied/.test(w)), draft.warnings.join('\n'));
});

test('a draft of a text report proposes the value a reader sees, with its evidence on the text as read, and names the word', async () => {
  const text = 'Beacons to evil\u200b-c2.com and 1\u200b85.220.101.4 every hour.\n';
  const draft = await draftOf('notes.txt', text);
  assert.deepEqual(draft.items.map((item) => item.value), ['evil-c2.com', '185.220.101.4']);
  const [domain] = draft.items;
  assert.equal(text.slice(domain?.evidence[0]?.start, domain?.evidence[0]?.end), 'evil\u200b-c2.com');
  assert.ok(draft.warnings.some((w) => w.includes('evil<U+200B>-c2.com') && w.includes('1<U+200B>85.220.101.4')), draft.warnings.join('\n'));
  // Each item says so too, as the console and `entente draft show --json` show it: the analyst sees
  // which value was disguised where they decide on it, not only in the draft's warnings.
  const shown = draft.items.map((item) => itemJson(item));
  assert.deepEqual(shown.map((item) => [item['value'], item['invisible']]), [['evil-c2.com', true], ['185.220.101.4', true]]);
  assert.deepEqual((shown[0]?.['evidence'] as { invisible?: boolean }[]).map((evidence) => evidence.invisible), [true]);
});

test('a draft of an HTML report proposes nothing from its page chrome, and names the values there in a warning, the publisher\'s links aside', async () => {
  // Read through the drafting path itself (the console's upload, a worker's): the reader returns the
  // chrome apart from the text, and the drafting's extraction names what looks like an indicator.
  const html =
    '<!doctype html><html><body><nav>vendor-labs.com · blog.vendor-labs.com</nav><main><p>The actor used 45.77.12.3 for C2.</p></main>' +
    '<aside>IOCs: 45.77.12.3, 91.215.85.17, evil-c2-update.net</aside></body></html>';
  const draft = await proposeDraftFromBytes({ fileName: 'sidebar.html', bytes: Buffer.from(html), publisherDomains: ['vendor-labs.com'] });
  assert.deepEqual(draft.items.map((item) => item.value), ['45.77.12.3']);
  const chrome = draft.warnings.filter((w) => w.includes('page chrome'));
  assert.equal(chrome.length, 1, draft.warnings.join('\n'));
  assert.match(chrome[0] ?? '', /^sidebar\.html: page chrome not read \(<aside>\) holds 2 values that look like indicators: 91\.215\.85\.17, evil-c2-update\.net; they are not proposed/);
  assert.ok(!draft.text.includes('91.215.85.17'), 'the chrome is not in the draft\'s text');
});
