// Who may see a draft is decided before anything of it is read and before its lock is taken: a
// request for another token's draft must neither load the draft (its text, every item: the time that
// takes would tell a hidden draft, and its size, from an unknown id) nor wait behind its author's work.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { decideOnDraft, publishDraft, requireDraft, type DraftDeps } from '../../src/drafts/draft-operations.ts';
import type { DraftViewer, NewDraft } from '../../src/drafts/draft.ts';
import { EntenteError } from '../../src/errors/entente-error.ts';
import { ipv4Item, newDraft } from './draft-kit.ts';


const NEW: NewDraft = newDraft({ text: 'C2 45.77.12.31. C2 45.77.12.32.', createdBy: 'ana', createdByToken: 'ana', items: [ipv4Item('1', '45.77.12.31'), ipv4Item('2', '45.77.12.32')] });

const ANA: DraftViewer = { token: 'ana', admin: false };
const BO: DraftViewer = { token: 'bo', admin: false };
const notFound = (error: unknown): boolean => error instanceof EntenteError && error.code === 'ENT_DRAFT_NOT_FOUND';

/** The store, counting full draft loads; while `hold` is set, a full load waits for it. */
function watchedStore(store: ObjectStore): { store: ObjectStore; loads: string[]; hold: (gate: Promise<void> | undefined) => void } {
  const loads: string[] = [];
  let gate: Promise<void> | undefined;
  const watched = new Proxy(store, {
    get(target, property) {
      if (property === 'getDraft') {
        return async (id: string) => {
          loads.push(id);
          if (gate !== undefined) await gate;
          return target.getDraft(id);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: watched, loads, hold: (next) => { gate = next; } };
}

describe('draft visibility comes first', () => {
  it('never loads a draft the viewer may not see (read, decide, publish), and answers it as an unknown id', async () => {
    const base = openSqliteObjectStore({ path: ':memory:' });
    const { id } = await base.createDraft(NEW);
    const { store, loads } = watchedStore(base);
    const deps: DraftDeps = { store, clock: () => new Date('2026-11-23T03:00:00.000Z'), randomUuid: randomUUID, homeOrganisationId: 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d' };
    await assert.rejects(requireDraft(deps, id, BO), notFound);
    await assert.rejects(decideOnDraft(deps, id, ['1'], { decision: 'accept' }, 'bo', BO), notFound);
    await assert.rejects(publishDraft(deps, { draftId: id, collection: 'default', tlp: 'green', analyst: 'bo', viewer: BO, rejectPending: true }), notFound);
    assert.deepEqual(loads, [], 'the hidden draft was never loaded');
    await assert.rejects(requireDraft(deps, '424242', BO), notFound);
    assert.equal((await requireDraft(deps, id, ANA)).text, NEW.text);
    assert.deepEqual(loads, [id], "an unknown id is not loaded either; the author's draft is");
    await base.close();
  });

  it("does not make a request for a hidden draft wait behind its author's decision", async () => {
    const base = openSqliteObjectStore({ path: ':memory:' });
    const { id } = await base.createDraft(NEW);
    const { store, hold } = watchedStore(base);
    const deps: DraftDeps = { store, clock: () => new Date('2026-11-23T03:00:00.000Z'), randomUuid: randomUUID, homeOrganisationId: 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d' };
    let open = (): void => undefined;
    hold(new Promise<void>((resolve) => { open = resolve; }));
    // The author's decision holds the draft's lock while its load waits.
    const authors = decideOnDraft(deps, id, ['1'], { decision: 'accept' }, 'ana', ANA);
    await new Promise((resolve) => setImmediate(resolve));
    const outcome = await Promise.race([
      decideOnDraft(deps, id, ['2'], { decision: 'reject' }, 'bo', BO).then(() => 'decided', (error: unknown) => (notFound(error) ? 'not found' : String(error))),
      new Promise<string>((resolve) => setTimeout(() => resolve('waited behind the lock'), 500)),
    ]);
    assert.equal(outcome, 'not found');
    hold(undefined);
    open();
    assert.deepEqual((await authors).map((changed) => changed.decision.state), ['accepted']);
    await base.close();
  });
});
