// Storing a draft's objects and recording its publication are one transaction. Were they two, a
// process dying between them would leave the objects stored and the draft unpublished: once its
// claim went stale, publishing again would mint new ids and the publication would appear twice.
// Here the recording fails after the objects were written (a trigger stands in for the process
// dying; another publisher finishing first; the draft gone): afterwards both happened or neither,
// and publishing again stores the publication once.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore, StoredEntry } from '../../src/store/object-store.ts';
import { publishDraft, requireDraft, type DraftDeps, type PublishRequest } from '../../src/drafts/draft-operations.ts';
import type { DraftItem, DraftPublication, DraftViewer } from '../../src/drafts/draft.ts';
import { EntenteError } from '../../src/errors/entente-error.ts';
import { ACCEPTED_BY_ANA, ipv4Item, newDraft } from './draft-kit.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const START = Date.parse('2026-11-23T03:00:00.000Z');
const ANA: DraftViewer = { token: 'ana', admin: false };
/** Longer than a publication's claim lasts (STALE_CLAIM_MS, 10 minutes): a claim left by a dead process no longer holds. */
const CLAIM_GONE_STALE_MS = 11 * 60 * 1000;

const accepted = (id: string, value: string): DraftItem => ipv4Item(id, value, ACCEPTED_BY_ANA);

/** The store as another process sees it: for what no store method does (a trigger, a draft removed). */
interface Node {
  readonly store: SqliteObjectStore;
  readonly other: Database.Database;
  readonly deps: (store?: ObjectStore) => DraftDeps;
  readonly advance: (ms: number) => void;
  readonly draftId: string;
  readonly request: PublishRequest;
}

let directory: string;
let node: Node;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'entente-draft-crash-'));
  const path = join(directory, 'node.db');
  let now = START;
  const clock = (): Date => new Date(now);
  const store = openSqliteObjectStore({ path, clock });
  await store.createCollection({ id: 'feed', title: 'Feed' }, clock());
  const { id } = await store.createDraft(newDraft({ text: 'C2 45.77.12.31. C2 45.77.12.32.', createdByToken: 'ana', items: [accepted('1', '45.77.12.31'), accepted('2', '45.77.12.32')] }));
  const other = new Database(path);
  other.pragma('busy_timeout = 5000');
  let uuid = 0;
  node = {
    store,
    other,
    deps: (wrapped = store) => ({ store: wrapped, clock, randomUuid: () => `00000000-0000-4000-8000-${(uuid += 1).toString(16).padStart(12, '0')}`, homeOrganisationId: HOME }),
    advance: (ms) => {
      now += ms;
    },
    draftId: id,
    request: { draftId: id, collection: 'feed', tlp: 'green', analyst: 'ana', viewer: ANA },
  };
});

afterEach(async () => {
  node.other.close();
  await node.store.close();
  rmSync(directory, { recursive: true, force: true });
});

async function feed(): Promise<StoredEntry[]> {
  return (await node.store.listEntries('feed', { versions: [{ kind: 'all' }] }, { limit: 1000 })).entries.slice();
}

/** The store, with `before` run whenever objects are added: something another process does at that moment. */
function addingAfter(store: ObjectStore, before: () => Promise<void>): ObjectStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'addObjects') {
        return async (...args: Parameters<ObjectStore['addObjects']>) => {
          await before();
          return target.addObjects(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Another publisher's claim on the node's draft, taking over whatever claim is on it as gone stale. */
async function takeOver(claimId: string): Promise<void> {
  const far = new Date(START + 24 * 60 * 60 * 1000).toISOString();
  await node.store.claimDraftPublication(node.draftId, { id: claimId, by: 'bob', at: new Date(START).toISOString() }, far);
}

function rejectsWith(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof EntenteError, String(error));
    assert.equal(error.code, code);
    return true;
  };
}

describe('a draft publication stores its objects and records itself together', () => {
  it('stores nothing when recording the publication fails after the objects were written, and a later publication appears once', async () => {
    // Recording the publication is the step after the objects: failing there is the process dying between the two.
    node.other.exec(`CREATE TRIGGER dies_before_recording BEFORE UPDATE OF publication ON drafts
      WHEN json_extract(NEW.publication, '$.reportId') IS NOT NULL BEGIN SELECT RAISE(ABORT, 'the process died here'); END`);
    await assert.rejects(publishDraft(node.deps(), node.request), /the process died here/);
    assert.deepEqual(await feed(), [], 'no object of the publication is stored');
    assert.equal((await requireDraft(node.deps(), node.draftId, ANA)).publication, undefined, 'the draft is not published');

    node.other.exec('DROP TRIGGER dies_before_recording');
    // Whatever claim a dead process would have left has gone stale by then.
    node.advance(CLAIM_GONE_STALE_MS);
    const outcome = await publishDraft(node.deps(), node.request);
    const stored = await feed();
    assert.equal(stored.length, outcome.objects.length, 'the publication is stored once');
    assert.deepEqual(
      stored.filter((entry) => entry.type === 'report').map((entry) => entry.id),
      [outcome.report.id],
      'one report',
    );
    assert.equal((await requireDraft(node.deps(), node.draftId, ANA)).publication?.reportId, outcome.report.id);
    await assert.rejects(publishDraft(node.deps(), node.request), rejectsWith('ENT_DRAFT_PUBLISHED'));
    assert.equal((await feed()).length, stored.length);
  });

  it('stores nothing when another publisher recorded the draft published meanwhile (it took over a claim gone stale)', async () => {
    const theirs: DraftPublication = {
      publishedAt: new Date(START).toISOString(),
      analyst: 'bob',
      collectionId: 'feed',
      tlp: 'amber',
      reportId: 'report--00000000-0000-4000-8000-0000000000ff',
      objectIds: ['report--00000000-0000-4000-8000-0000000000ff'],
    };
    const raced = addingAfter(node.store, async () => {
      await takeOver('claim-bob');
      await node.store.markDraftPublished(node.draftId, theirs, [], 'claim-bob');
    });
    await assert.rejects(publishDraft(node.deps(raced), node.request), rejectsWith('ENT_DRAFT_PUBLISHED'));
    assert.deepEqual(await feed(), [], 'the second publication stored nothing');
    assert.deepEqual((await requireDraft(node.deps(), node.draftId, ANA)).publication, theirs, 'the first publication stands');
  });

  it('stores nothing, and leaves the new holder its claim, when another publisher took the claim over while this one was storing', async () => {
    const raced = addingAfter(node.store, () => takeOver('claim-bob'));
    await assert.rejects(publishDraft(node.deps(raced), node.request), (error: unknown) => rejectsWith('ENT_DRAFT_PUBLISHING')(error) && /being published by bob/.test((error as Error).message));
    assert.deepEqual(await feed(), [], 'the publisher that lost its claim stored nothing');
    assert.equal((await requireDraft(node.deps(), node.draftId, ANA)).publication, undefined, 'nor recorded the draft published');
    // Its failure did not release Bob's claim: a third publisher, well within Bob's claim, is refused.
    await assert.rejects(publishDraft(node.deps(), node.request), (error: unknown) => rejectsWith('ENT_DRAFT_PUBLISHING')(error) && /being published by bob/.test((error as Error).message));
    assert.deepEqual(await feed(), []);
  });

  it('publishes normally when no one else claims the draft, and a second publication is refused', async () => {
    const outcome = await publishDraft(node.deps(), node.request);
    assert.equal((await feed()).length, outcome.objects.length);
    assert.equal((await requireDraft(node.deps(), node.draftId, ANA)).publication?.reportId, outcome.report.id);
    await assert.rejects(publishDraft(node.deps(), node.request), rejectsWith('ENT_DRAFT_PUBLISHED'));
    assert.equal((await feed()).length, outcome.objects.length);
  });

  it('stores nothing when the draft is gone by the time its publication is recorded', async () => {
    const key = Number(node.draftId);
    const removed = addingAfter(node.store, async () => {
      node.other.prepare('DELETE FROM draft_items WHERE draft_id = ?').run(key);
      node.other.prepare('DELETE FROM drafts WHERE id = ?').run(key);
    });
    await assert.rejects(publishDraft(node.deps(removed), node.request), rejectsWith('ENT_DRAFT_NOT_FOUND'));
    assert.deepEqual(await feed(), [], 'no object of a draft that no longer exists is stored');
  });
});

describe('AddOptions.publishesDraft', () => {
  it('records nothing and stores nothing when the store refuses one version, without allOrNothing being asked for', async () => {
    const at = new Date(START).toISOString();
    const indicator = (pattern: string) => ({ type: 'indicator', spec_version: '2.1', id: 'indicator--00000000-0000-4000-8000-0000000000aa', created: at, modified: at, pattern, pattern_type: 'stix', valid_from: at });
    await node.store.createCollection({ id: 'elsewhere', title: 'Elsewhere' }, new Date(START));
    await node.store.addObjects('elsewhere', [indicator("[ipv4-addr:value = '203.0.113.1']")]);
    const report = { type: 'report', spec_version: '2.1', id: 'report--00000000-0000-4000-8000-0000000000ab', created: at, modified: at, name: 'R', published: at, object_refs: [indicator('').id] };
    const publication: DraftPublication = { publishedAt: at, analyst: 'ana', collectionId: 'feed', tlp: 'green', reportId: report.id, objectIds: [report.id, indicator('').id] };
    const outcomes = await node.store.addObjects('feed', [report, indicator("[ipv4-addr:value = '45.77.12.31']")], undefined, undefined, { publishesDraft: { draftId: node.draftId, publication } });
    assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['rejected'], 'the refusal alone, as allOrNothing answers');
    assert.deepEqual(await feed(), []);
    assert.equal((await node.store.getDraft(node.draftId))?.publication, undefined);
  });

  it('stores nothing and records nothing when the publisher no longer holds the claim it names', async () => {
    const at = new Date(START).toISOString();
    const report = { type: 'report', spec_version: '2.1', id: 'report--00000000-0000-4000-8000-0000000000ac', created: at, modified: at, name: 'R', published: at, object_refs: ['identity--00000000-0000-4000-8000-0000000000ad'] };
    const identity = { type: 'identity', spec_version: '2.1', id: 'identity--00000000-0000-4000-8000-0000000000ad', created: at, modified: at, name: 'Ana', identity_class: 'individual' };
    const publication: DraftPublication = { publishedAt: at, analyst: 'ana', collectionId: 'feed', tlp: 'green', reportId: report.id, objectIds: [report.id, identity.id] };
    await node.store.claimDraftPublication(node.draftId, { id: 'claim-ana', by: 'ana', at }, new Date(START - 1).toISOString());
    await takeOver('claim-bob');
    await assert.rejects(node.store.addObjects('feed', [report, identity], undefined, undefined, { publishesDraft: { draftId: node.draftId, publication, claim: 'claim-ana' } }), rejectsWith('ENT_DRAFT_PUBLISHING'));
    assert.deepEqual(await feed(), [], 'the versions were rolled back with the refused recording');
    assert.equal((await node.store.getDraft(node.draftId))?.publication, undefined);

    const outcomes = await node.store.addObjects('feed', [report, identity], undefined, undefined, { publishesDraft: { draftId: node.draftId, publication, claim: 'claim-bob' } });
    assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['added', 'added'], 'the holder of the claim publishes');
    assert.equal((await feed()).length, 2);
    assert.deepEqual((await node.store.getDraft(node.draftId))?.publication, publication);
  });
});
