// A decision that lands while a draft is being published, from another process (the command line
// beside the node): either it lands before the publication reads the items, and the publication
// honours it, or it is refused (ENT_DRAFT_PUBLISHING: a publication holds the draft). Never both: an item the draft
// records as rejected must not be published by a publication that read it while it was still accepted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { decideOnDraft, publishDraft, requireDraft, type DraftDeps } from '../../src/drafts/draft-operations.ts';
import type { DraftViewer } from '../../src/drafts/draft.ts';
import { ACCEPTED_BY_ANA, ipv4Item, newDraft } from './draft-kit.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const NOW = new Date('2026-11-23T03:00:00.000Z');
const ANA: DraftViewer = { token: 'ana', admin: false };

/** The same store seen through another object: its own draft locks, as another process has. */
function asAnotherProcess(store: ObjectStore, hooks: { beforeClaim?: (() => Promise<void>) | undefined } = {}): ObjectStore {
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== 'function') return value;
      if (key === 'claimDraftPublication' && hooks.beforeClaim !== undefined) {
        const before = hooks.beforeClaim;
        hooks.beforeClaim = undefined;
        return async (...args: unknown[]) => {
          await before();
          return (value as (...a: unknown[]) => Promise<void>).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

describe('a decision racing a publication from another process', () => {
  it('does not publish an item rejected after the publisher read the draft and before it claimed it', async () => {
    const store = openSqliteObjectStore({ path: ':memory:', clock: () => NOW });
    try {
      await store.createCollection({ id: 'feed', title: 'Feed' }, NOW);
      const { id } = await store.createDraft(newDraft({
        text: 'C2 45.77.12.31. Seen from 10.1.2.3.',
        createdByToken: 'ana',
        items: [ipv4Item('1', '45.77.12.31', ACCEPTED_BY_ANA), ipv4Item('2', '10.1.2.3', ACCEPTED_BY_ANA)],
      }));
      // The operator rejects item 2 at the command line while the node is publishing.
      const cli = asAnotherProcess(store);
      const node = asAnotherProcess(store, {
        beforeClaim: async () => {
          await decideOnDraft({ store: cli, clock: () => NOW }, id, ['2'], { decision: 'reject', reason: 'our own address' }, 'bo', 'operator');
        },
      });
      const deps: DraftDeps = { store: node, clock: () => NOW, randomUuid: () => crypto.randomUUID(), homeOrganisationId: HOME };

      const outcome = await publishDraft(deps, { draftId: id, collection: 'feed', tlp: 'green', analyst: 'ana', viewer: ANA });

      const draft = await requireDraft(deps, id, 'operator');
      assert.equal(draft.items[1]?.decision.state, 'rejected', 'the rejection stands');
      const patterns = outcome.objects.filter((object) => object.type === 'indicator').map((object) => object['pattern']);
      assert.deepEqual(patterns, ["[ipv4-addr:value = '45.77.12.31']"], 'the item the draft records as rejected is not published');
      assert.ok(!JSON.stringify(outcome.objects).includes('10.1.2.3'), 'nor its value anywhere');
      assert.equal((outcome.report['x_entente_provenance'] as { rejected_count: number }).rejected_count, 1);
    } finally {
      await store.close();
    }
  });

  it('refuses a decision once the publication holds the draft, and releases the draft when the publication fails', async () => {
    const store = openSqliteObjectStore({ path: ':memory:', clock: () => NOW });
    try {
      await store.createCollection({ id: 'feed', title: 'Feed' }, NOW);
      const { id } = await store.createDraft(newDraft({ text: 'C2 45.77.12.31. C2 45.77.12.32.', createdByToken: 'ana', items: [ipv4Item('1', '45.77.12.31', ACCEPTED_BY_ANA), ipv4Item('2', '45.77.12.32')] }));
      const deps: DraftDeps = { store, clock: () => NOW, randomUuid: () => crypto.randomUUID(), homeOrganisationId: HOME };
      // Item 2 is still pending: the publication is refused, and leaves no claim behind.
      await assert.rejects(publishDraft(deps, { draftId: id, collection: 'feed', tlp: 'green', analyst: 'ana', viewer: ANA }), { code: 'ENT_DRAFT_UNDECIDED' });
      const [decided] = await decideOnDraft({ store: asAnotherProcess(store), clock: () => NOW }, id, ['2'], { decision: 'accept' }, 'ana', ANA);
      assert.equal(decided?.decision.state, 'accepted', 'the draft is open to decisions again');
    } finally {
      await store.close();
    }
  });
});
