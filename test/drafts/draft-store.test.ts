import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteObjectStore, SCHEMA_VERSION } from '../../src/store/sqlite/sqlite-object-store.ts';
import { migrations } from '../../src/store/sqlite/migrations.ts';
import { canSeeDraft } from '../../src/drafts/draft.ts';
import type { DraftItem, NewDraft } from '../../src/drafts/draft.ts';
import { EntenteError } from '../../src/errors/entente-error.ts';

const item = (id: string, value: string, state: DraftItem['decision']['state'] = 'pending'): DraftItem => ({
  id,
  kind: 'observable',
  type: 'ipv4-addr',
  value,
  confidence: 0.95,
  method: { source: 'extractor', detail: 'ipv4-addr' },
  occurrences: 1,
  evidence: [{ start: 4, end: 14, sentence: `C2 ${value}.`, page: 2 }],
  decision: state === 'rejected' ? { state, reason: 'documentation address range (RFC 5737)' } : { state },
});

const NEW: NewDraft = {
  source: { fileName: 'lantern.pdf', sha256: 'ab'.repeat(32), format: 'pdf', pages: 3 },
  title: 'Lantern Typhoon',
  text: 'C2 45.77.12.3. C2 192.0.2.1.',
  createdAt: '2026-11-23T02:00:00.000Z',
  createdBy: 'ana',
  items: [item('1', '45.77.12.3'), item('2', '192.0.2.1', 'rejected')],
  warnings: ['page 3 has no text layer'],
};

const code = (expected: string) => (error: unknown) => error instanceof EntenteError && error.code === expected;

describe('SQLite draft tables (migration 5)', () => {
  it('stores a draft with its text, items and evidence, and reads it back as it was', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    const created = await store.createDraft(NEW);
    assert.match(created.id, /^[1-9]\d*$/);
    const read = await store.getDraft(created.id);
    assert.deepEqual(read, { ...NEW, id: created.id });
    const second = await store.createDraft({ ...NEW, title: 'Second' });
    assert.notEqual(second.id, created.id);
    const list = await store.listDrafts();
    assert.deepEqual(list.map((summary) => [summary.id, summary.title]), [[second.id, 'Second'], [created.id, 'Lantern Typhoon']]);
    assert.deepEqual(list[1]?.counts, { pending: 1, accepted: 0, edited: 0, rejected: 1 });
    assert.equal((list[1] as unknown as Record<string, unknown>)['text'], undefined, 'lists carry no text');
    await store.close();
  });

  it('records the API token that made a draft, in the draft and in the list', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    const byToken = await store.createDraft({ ...NEW, createdByToken: 'ana' });
    const fromCli = await store.createDraft(NEW);
    assert.equal((await store.getDraft(byToken.id))?.createdByToken, 'ana');
    assert.equal((await store.getDraft(fromCli.id))?.createdByToken, undefined);
    assert.deepEqual((await store.listDrafts()).map((summary) => [summary.id, summary.createdBy, summary.createdByToken]), [[fromCli.id, 'ana', undefined], [byToken.id, 'ana', 'ana']]);
    await store.close();
  });

  it('migrates a schema 8 store to 9 keeping its drafts, which no token made: administrators only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'entente-drafts-'));
    try {
      const path = join(dir, 'entente.sqlite');
      const raw = new Database(path);
      raw.exec(migrations.slice(0, 8).join('\n'));
      raw.pragma('user_version = 8');
      raw.exec(`
        INSERT INTO drafts (file_name, sha256, format, title, text, created_at, created_by, details)
          VALUES ('old.txt', '${'ef'.repeat(32)}', 'text', 'Old', 'C2 45.77.12.3.', '2026-11-20T00:00:00.000Z', 'ana', '{"warnings":[]}');
        INSERT INTO draft_items (draft_id, item_id, position, document) VALUES (1, '1', 0, '${JSON.stringify(item('1', '45.77.12.3'))}');
      `);
      raw.close();
      const store = openSqliteObjectStore({ path });
      try {
        assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        const old = await store.getDraft('1');
        assert.deepEqual([old?.title, old?.createdBy, old?.createdByToken, old?.items.length], ['Old', 'ana', undefined, 1]);
        // Its created_by may be a login name at the command line as well as a token's: it does not make the draft that token's.
        assert.equal(canSeeDraft({ token: 'ana', admin: false }, old ?? {}), false);
        assert.equal(canSeeDraft({ token: 'root', admin: true }, old ?? {}), true);
        assert.equal(canSeeDraft('operator', old ?? {}), true);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers unknown, malformed and hostile draft ids as not found', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    for (const id of ['1', '0', '-1', '1.5', '1e3', "1' OR 1=1 --", '99999999999999999999', '']) assert.equal(await store.getDraft(id), undefined, id);
    await assert.rejects(store.updateDraftItems('42', [item('1', '1.2.3.4')]), code('ENT_DRAFT_NOT_FOUND'));
    await store.close();
  });

  it('updates only the named items, refuses unknown items, and closes the draft once published', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    const { id } = await store.createDraft(NEW);
    const accepted: DraftItem = { ...item('1', '45.77.12.3'), decision: { state: 'accepted', analyst: 'ana', decidedAt: '2026-11-23T02:05:00.000Z' } };
    await store.updateDraftItems(id, [accepted]);
    assert.deepEqual((await store.getDraft(id))?.items.map((i) => i.decision.state), ['accepted', 'rejected']);
    await assert.rejects(store.updateDraftItems(id, [item('3', '1.2.3.4')]), code('ENT_DRAFT_ITEM_NOT_FOUND'));

    const publication = { publishedAt: '2026-11-23T02:10:00.000Z', analyst: 'ana', collectionId: 'wide', circleId: 'wide', tlp: 'amber', reportId: 'report--00000000-0000-4000-8000-000000000001', objectIds: ['report--00000000-0000-4000-8000-000000000001'] };
    await store.markDraftPublished(id, publication);
    assert.deepEqual((await store.getDraft(id))?.publication, publication);
    assert.deepEqual((await store.listDrafts())[0]?.publication, publication);
    await assert.rejects(store.markDraftPublished(id, publication), code('ENT_DRAFT_PUBLISHED'));
    await assert.rejects(store.updateDraftItems(id, [accepted]), code('ENT_DRAFT_PUBLISHED'));
    await store.close();
  });

  it('lets one publication at a time hold a draft, across processes; an abandoned one can be taken over', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    const { id } = await store.createDraft(NEW);
    await store.claimDraftPublication(id, { id: 'claim-ana', by: 'ana', at: '2026-11-23T02:10:00.000Z' }, '2026-11-23T02:00:00.000Z');
    assert.equal((await store.getDraft(id))?.publication, undefined, 'a publication under way is not a publication');
    // Held, not published: the store says so itself (ENT_DRAFT_PUBLISHING, retry), whoever asks it.
    await assert.rejects(store.claimDraftPublication(id, { id: 'claim-bo', by: 'bo', at: '2026-11-23T02:11:00.000Z' }, '2026-11-23T02:01:00.000Z'), (error: unknown) => code('ENT_DRAFT_PUBLISHING')(error) && /being published by ana \(since 2026-11-23T02:10:00\.000Z\).*try again/.test((error as Error).message));
    await assert.rejects(store.updateDraftItems(id, [item('1', '45.77.12.3')]), (error: unknown) => code('ENT_DRAFT_PUBLISHING')(error) && !/final/.test((error as Error).message));
    await store.releaseDraftPublication(id, 'claim-ana');
    await store.updateDraftItems(id, [item('1', '45.77.12.3')]);
    await store.claimDraftPublication(id, { id: 'claim-ana-2', by: 'ana', at: '2026-11-23T02:10:00.000Z' }, '2026-11-23T02:00:00.000Z');
    // Twenty minutes later, the first publisher has not finished: its claim is stale.
    await store.claimDraftPublication(id, { id: 'claim-bo-2', by: 'bo', at: '2026-11-23T02:30:00.000Z' }, '2026-11-23T02:20:00.000Z');
    const publication = { publishedAt: '2026-11-23T02:30:01.000Z', analyst: 'bo', collectionId: 'wide', tlp: 'green', reportId: 'report--00000000-0000-4000-8000-000000000002', objectIds: [] };
    await store.markDraftPublished(id, publication, [], 'claim-bo-2');
    assert.deepEqual((await store.getDraft(id))?.publication, publication);
    await assert.rejects(store.claimDraftPublication(id, { id: 'claim-cy', by: 'cy', at: '2026-11-23T03:30:00.000Z' }, '2026-11-23T03:20:00.000Z'), code('ENT_DRAFT_PUBLISHED'));
    await store.releaseDraftPublication(id, 'claim-bo-2');
    assert.deepEqual((await store.getDraft(id))?.publication, publication, 'releasing never drops a finished publication');
    await store.close();
  });

  it('leaves a taken-over claim to its new holder: the stale publisher can neither release it nor finish the draft', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    const { id } = await store.createDraft(NEW);
    const late = { publishedAt: '2026-11-23T02:31:00.000Z', analyst: 'ana', collectionId: 'wide', tlp: 'green', reportId: 'report--00000000-0000-4000-8000-00000000000a', objectIds: [] };
    const decided: DraftItem = { ...item('1', '45.77.12.3'), decision: { state: 'rejected', analyst: 'ana', decidedAt: '2026-11-23T02:31:00.000Z', reason: 'still pending at publication (--reject-pending)' } };
    await store.claimDraftPublication(id, { id: 'claim-ana', by: 'ana', at: '2026-11-23T02:10:00.000Z' }, '2026-11-23T02:00:00.000Z');
    // Ana's publication outlives its claim; Bo takes the draft over.
    await store.claimDraftPublication(id, { id: 'claim-bo', by: 'bo', at: '2026-11-23T02:30:00.000Z' }, '2026-11-23T02:20:00.000Z');

    // Ana fails and releases what she believes is her claim: Bo's stays, so Cy cannot start a third publication.
    await store.releaseDraftPublication(id, 'claim-ana');
    await assert.rejects(store.claimDraftPublication(id, { id: 'claim-cy', by: 'cy', at: '2026-11-23T02:31:00.000Z' }, '2026-11-23T02:21:00.000Z'), (error: unknown) => code('ENT_DRAFT_PUBLISHING')(error) && /being published by bo/.test((error as Error).message));
    await assert.rejects(store.updateDraftItems(id, [item('1', '45.77.12.3')]), code('ENT_DRAFT_PUBLISHING'), 'decisions stay frozen under the new claim');

    // Ana finishes late, or finishes without a claim: refused, and nothing of hers is recorded.
    await assert.rejects(store.markDraftPublished(id, late, [decided], 'claim-ana'), (error: unknown) => code('ENT_DRAFT_PUBLISHING')(error) && /being published by bo/.test((error as Error).message));
    await assert.rejects(store.markDraftPublished(id, late, [decided]), code('ENT_DRAFT_PUBLISHING'));
    let draft = await store.getDraft(id);
    assert.equal(draft?.publication, undefined);
    assert.deepEqual(draft?.items.map((i) => i.decision.state), ['pending', 'rejected'], 'the late publication decided no item');

    // Once Bo gives up too, Ana's claim is no less gone: a claim taken over never comes back.
    await store.releaseDraftPublication(id, 'claim-bo');
    // Not published either: the draft is open again, and publishing again is what to do.
    await assert.rejects(store.markDraftPublished(id, late, [decided], 'claim-ana'), (error: unknown) => code('ENT_DRAFT_PUBLISHING')(error) && /no longer held.*publish again/.test((error as Error).message));
    draft = await store.getDraft(id);
    assert.equal(draft?.publication, undefined);
    await store.updateDraftItems(id, [item('1', '45.77.12.3')]);

    // The holder of the claim finishes.
    await store.claimDraftPublication(id, { id: 'claim-bo-2', by: 'bo', at: '2026-11-23T02:40:00.000Z' }, '2026-11-23T02:30:00.000Z');
    const bos = { ...late, analyst: 'bo', reportId: 'report--00000000-0000-4000-8000-00000000000b' };
    await store.markDraftPublished(id, bos, [], 'claim-bo-2');
    assert.deepEqual((await store.getDraft(id))?.publication, bos);
    await store.close();
  });

  it('leaves a claim stored before claims had ids to go stale: no publisher owns it, so none releases or finishes it', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    const { id } = await store.createDraft(NEW);
    store.database.prepare('UPDATE drafts SET publication = ? WHERE id = ?').run(JSON.stringify({ claim: { by: 'ana', at: '2026-11-23T02:10:00.000Z' } }), Number(id));
    const publication = { publishedAt: '2026-11-23T02:30:01.000Z', analyst: 'bo', collectionId: 'wide', tlp: 'green', reportId: 'report--00000000-0000-4000-8000-000000000003', objectIds: [] };
    await store.releaseDraftPublication(id, 'claim-bo');
    await assert.rejects(store.claimDraftPublication(id, { id: 'claim-bo', by: 'bo', at: '2026-11-23T02:11:00.000Z' }, '2026-11-23T02:01:00.000Z'), (error: unknown) => code('ENT_DRAFT_PUBLISHING')(error) && /being published by ana/.test((error as Error).message));
    await assert.rejects(store.markDraftPublished(id, publication), code('ENT_DRAFT_PUBLISHING'));
    await assert.rejects(store.markDraftPublished(id, publication, [], 'claim-bo'), code('ENT_DRAFT_PUBLISHING'));
    await store.claimDraftPublication(id, { id: 'claim-bo', by: 'bo', at: '2026-11-23T02:30:00.000Z' }, '2026-11-23T02:20:00.000Z');
    await store.markDraftPublished(id, publication, [], 'claim-bo');
    assert.deepEqual((await store.getDraft(id))?.publication, publication);
    await store.close();
  });

  it('keeps drafts across reopening, and a row edited behind the program fails closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'entente-drafts-'));
    try {
      const path = join(dir, 'entente.sqlite');
      const store = openSqliteObjectStore({ path });
      const { id } = await store.createDraft(NEW);
      await store.close();
      const again = openSqliteObjectStore({ path });
      assert.equal((await again.getDraft(id))?.items.length, 2);
      await again.close();
      const raw = new Database(path);
      raw.prepare("UPDATE draft_items SET document = '{\"id\":1}' WHERE item_id = '1'").run();
      raw.close();
      const third = openSqliteObjectStore({ path });
      await assert.rejects(third.getDraft(id), code('ENT_STORE_UNAVAILABLE'));
      await third.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
