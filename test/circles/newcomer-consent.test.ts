// A member added to a running circle receives another member's contributions only once that member
// has agreed to terms with the newcomer in the circle. The coordinator adds members alone
// (`entente circle invite`); the members that were in already accepted terms that said nothing of
// who would join later. Before this rule, the coordinator of a two-member (bilateral) circle could
// invite a third organisation, which accepted the running version and then received everything the
// other member had contributed — before and after it joined — without that member's word.
//
// The rule (src/policy/README.md, rule 3a): a version contributed through the circle by organisation
// O goes to member N only when O is N itself, O is a coordinator (coordinators decide who is in), or
// the acceptance binding O was made at or after N joined. A contributor acknowledges a newcomer by
// accepting a version after it joined: the coordinator proposes the next version (the same terms
// will do), and each member's acceptance of it lets its contributions — earlier ones included —
// reach the newcomer.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acceptAgreement, createCircle, invite, leave, proposeAgreement, type CircleActor, type CircleDeps } from '../../src/circles/circle-operations.ts';
import type { CircleKind } from '../../src/policy/circle.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { CIRCLE, coordinatorNode, readBy as readFrom, sorted, terms, whyNot as whyNotFrom } from './newcomer-kit.ts';

const HOME = 'identity--c0000000-0000-4000-8000-00000000000c'; // the coordinator's node
const ALPHA = 'identity--c0000000-0000-4000-8000-00000000000a'; // the member that was in first
const BETA = 'identity--c0000000-0000-4000-8000-00000000000b'; // a second founding member (wide circles)
const NEW = 'identity--c0000000-0000-4000-8000-00000000000e'; // the newcomer
const admin: CircleActor = { organisationId: HOME, admin: true };
const as = (organisationId: string): CircleActor => ({ organisationId, admin: false });

function indicator(n: number, createdBy: string): StixObject {
  const id = `indicator--c0000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  return {
    type: 'indicator', spec_version: '2.1', id, created: '2026-03-01T00:00:00.000Z', modified: '2026-03-01T00:00:00.000Z', created_by_ref: createdBy,
    pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-03-01T00:00:00Z',
  };
}

const BEFORE = indicator(1, ALPHA); // Alpha's, contributed before the newcomer joined
const AFTER = indicator(2, ALPHA); // Alpha's, contributed after the newcomer joined
const OWN = indicator(3, HOME); // the coordinator's own
const BETAS = indicator(4, BETA); // Beta's (wide circles), contributed before the newcomer joined
const NEWS = indicator(5, NEW); // the newcomer's own

describe('a member added to a running circle and the other members\' contributions', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  let hours: (n: number) => void;

  beforeEach(async () => {
    ({ store, deps, hours } = await coordinatorNode(HOME, [ALPHA, BETA, NEW]));
  });
  afterEach(async () => {
    await store.close();
  });

  /**
   * A circle of the coordinator and Alpha (and Beta when `wide`) under v1, each having accepted and
   * contributed; then the coordinator alone invites the newcomer, which accepts v1, and Alpha
   * contributes again.
   */
  async function newcomerJoins(kind: CircleKind, wide: boolean): Promise<void> {
    await createCircle(deps, {
      id: CIRCLE, name: 'Pact', kind, visibility: 'open', default_tlp: 'green',
      ...(kind === 'tacit' ? { valid_until: '2027-01-01T00:00:00Z' } : { review_at: '2027-01-01T00:00:00Z' }),
    });
    await proposeAgreement(deps, admin, CIRCLE, terms);
    for (const org of wide ? [ALPHA, BETA] : [ALPHA]) await invite(deps, admin, CIRCLE, { organisationId: org, role: 'contributor', trial: false });
    hours(1);
    for (const org of wide ? [ALPHA, BETA] : [ALPHA]) await acceptAgreement(deps, as(org), CIRCLE, org);
    hours(2);
    await store.addObjects(CIRCLE, [BEFORE], undefined, ALPHA);
    if (wide) await store.addObjects(CIRCLE, [BETAS], undefined, BETA);
    await store.addObjects(CIRCLE, [OWN]);
    hours(3);
    await invite(deps, admin, CIRCLE, { organisationId: NEW, role: 'contributor', trial: false });
    hours(4);
    await acceptAgreement(deps, as(NEW), CIRCLE, NEW);
    await store.addObjects(CIRCLE, [NEWS], undefined, NEW);
    hours(5);
    await store.addObjects(CIRCLE, [AFTER], undefined, ALPHA);
    hours(6);
  }

  /** The ids of what the given member reads from the circle's collection now. */
  const readBy = (organisationId: string): Promise<string[]> => readFrom(store, organisationId, deps.clock());
  /** Why the gate withholds one object from the member now (its first reason), or 'released'. */
  const whyNot = (organisationId: string, object: StixObject): Promise<string> => whyNotFrom(store, organisationId, object, deps.clock());

  for (const kind of ['formal', 'tacit'] as const) {
    for (const wide of [false, true]) {
      const shape = `${kind}, ${wide ? 'three founding members' : 'bilateral'}`;

      it(`${shape}: the newcomer receives the coordinator's and its own, none of Alpha's (before or after it joined) until Alpha accepts terms with it in`, async () => {
        await newcomerJoins(kind, wide);
        assert.deepEqual(await readBy(NEW), sorted(OWN, NEWS));
        assert.match(await whyNot(NEW, BEFORE), /^newcomer: .*identity--c0000000-0000-4000-8000-00000000000a accepted agreement v1 at 2026-03-01T01:00:00.000Z, before identity--c0000000-0000-4000-8000-00000000000e joined circle pact at 2026-03-01T03:00:00.000Z/);
        assert.match(await whyNot(NEW, AFTER), /^newcomer: /);
      });

      it(`${shape}: the founding members keep receiving each other's, the coordinator's and (once they acknowledged it) the newcomer's`, async () => {
        await newcomerJoins(kind, wide);
        // The newcomer accepted after everyone already in had joined: its contributions reach them.
        assert.deepEqual(await readBy(ALPHA), sorted(OWN, NEWS, ...(wide ? [BETAS] : []), BEFORE, AFTER));
        if (wide) assert.deepEqual(await readBy(BETA), sorted(OWN, NEWS, BETAS, BEFORE, AFTER));
      });

      it(`${shape}: once the coordinator proposes v2 and Alpha accepts it, Alpha's contributions (earlier ones too) reach the newcomer, who accepted v2 as well`, async () => {
        await newcomerJoins(kind, wide);
        await proposeAgreement(deps, admin, CIRCLE, terms);
        hours(7);
        await acceptAgreement(deps, as(ALPHA), CIRCLE, ALPHA);
        // The newcomer's own v1 acceptance still binds it (the highest it accepted).
        assert.deepEqual(await readBy(NEW), sorted(OWN, NEWS, BEFORE, AFTER));
        await acceptAgreement(deps, as(NEW), CIRCLE, NEW);
        // Beta, in a wide circle, has not acknowledged the newcomer yet: its contribution stays back.
        assert.deepEqual(await readBy(NEW), sorted(OWN, NEWS, BEFORE, AFTER));
        if (wide) {
          assert.match(await whyNot(NEW, BETAS), /^newcomer: /);
          await acceptAgreement(deps, as(BETA), CIRCLE, BETA);
          assert.deepEqual(await readBy(NEW), sorted(OWN, NEWS, BEFORE, AFTER, BETAS));
        }
      });
    }
  }

  it('a member that left before the newcomer joined never acknowledged it: what it contributed stays back', async () => {
    await newcomerJoins('tacit', true);
    hours(7);
    await leave(deps, as(BETA), CIRCLE, BETA);
    hours(8);
    await proposeAgreement(deps, admin, CIRCLE, terms);
    await acceptAgreement(deps, as(ALPHA), CIRCLE, ALPHA);
    await acceptAgreement(deps, as(NEW), CIRCLE, NEW);
    assert.deepEqual(await readBy(NEW), sorted(OWN, NEWS, BEFORE, AFTER));
    assert.match(await whyNot(NEW, BETAS), /^newcomer: /);
  });

  it("the coordinator's own version that a member also sent back stays the coordinator's: it reaches the newcomer", async () => {
    await newcomerJoins('tacit', false);
    // Alpha's node pushes what it pulled back to the coordinator: the version is now also "Alpha's contribution".
    await store.addObjects(CIRCLE, [OWN], undefined, ALPHA);
    assert.deepEqual(await readBy(NEW), sorted(OWN, NEWS));
  });

  it('a version Alpha and the newcomer both sent is the newcomer\'s own: it comes back to it', async () => {
    await newcomerJoins('tacit', false);
    await store.addObjects(CIRCLE, [BEFORE], undefined, NEW);
    assert.deepEqual(await readBy(NEW), sorted(OWN, NEWS, BEFORE));
  });
});
