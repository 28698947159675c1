// What the rule 3a (newcomer consent) tests share: the coordinator's node on a clock the test moves
// hour by hour from 2026-03-01, the circle's terms, and reading the circle's collection as one member
// does (through the release gate, as a TAXII read) or asking why one object is withheld from it.
import assert from 'node:assert/strict';
import type { CircleDeps } from '../../src/circles/circle-operations.ts';
import type { Recipient } from '../../src/policy/recipient.ts';
import { openReleaseGate, type GateStore } from '../../src/release/open-release-gate.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

export const CIRCLE = 'pact';

/** Indicators in scope up to AMBER, nothing shared on, attribution kept, nothing recalled. */
export const terms = {
  scope: { types: ['indicator'] },
  highest_tlp: 'amber',
  onward_sharing: 'none',
  attribution: 'keep',
  expectations: { permitted_actions: 'internally-visible-actions', affected_party_notifications: 'may', provider_attribution: 'may' },
  end_rule: 'retain',
};

export interface CoordinatorNode {
  readonly store: ObjectStore;
  /** The circle operations' dependencies, on the node's clock. */
  readonly deps: CircleDeps;
  /** Moves the clock to `n` hours after 2026-03-01T00:00Z (where it starts). */
  hours(n: number): void;
}

/** A fresh node whose home organisation `home` coordinates, with `organisations` registered as partners. */
export async function coordinatorNode(home: string, organisations: readonly string[]): Promise<CoordinatorNode> {
  const start = Date.parse('2026-03-01T00:00:00.000Z');
  let now = new Date(start);
  const store = openSqliteObjectStore({ path: ':memory:' });
  const at = now.toISOString();
  await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: home, created: at, modified: at, name: 'Coordinator', identity_class: 'organization' }));
  for (const id of organisations) await store.createOrganisation({ id, name: id, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: at });
  return {
    store,
    deps: { store, clock: () => now, homeOrganisationId: home },
    hours(n) {
      now = new Date(start + n * 3_600_000);
    },
  };
}

/** A member organisation reading the circle's collection. */
export function circleReader(organisationId: string): Recipient {
  return { name: organisationId, organisationId, admin: false, actsForHome: false, grants: [{ collectionId: CIRCLE, read: true, write: false }] };
}

/** The ids (sorted) of what the member reads from the circle's collection at `at` (one page, as a TAXII read gets it). */
export async function readBy(store: GateStore, organisationId: string, at: Date): Promise<string[]> {
  const gate = await openReleaseGate(store, circleReader(organisationId), CIRCLE, at, { audit: false });
  const { released } = await gate.release((await store.listEntries(CIRCLE, {}, { limit: 100 })).entries);
  return released.map((entry) => entry.id).sort();
}

/** Why the gate withholds one object from the member at `at` (its first reason), decided for that entry alone, or 'released'. */
export async function whyNot(store: GateStore, organisationId: string, object: StixObject, at: Date): Promise<string> {
  const gate = await openReleaseGate(store, circleReader(organisationId), CIRCLE, at, { audit: false });
  const entry = (await store.listEntries(CIRCLE, { ids: [object.id] }, { limit: 1 })).entries[0];
  assert.ok(entry !== undefined, `the circle's collection holds ${object.id}`);
  const decision = await gate.decide(entry);
  return decision.kind === 'withhold' ? (decision.reasons[0] ?? '') : 'released';
}

/** The ids of these objects, sorted as readBy gives them. */
export const sorted = (...objects: StixObject[]): string[] => objects.map((object) => object.id).sort();
