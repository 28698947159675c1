// What the weakness-totals tests share: a weakness marking that opts a disclosure into circle alpha's
// totals, a vulnerability disclosure, and a store holding the hidden circle alpha (the home
// organisation coordinating, every member bound by agreement version 1) with the collections a test
// needs read before it.
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { weaknessTotals, type CircleDeps } from '../../src/circles/circle-operations.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from '../../src/policy/classify-marking.ts';
import type { Circle } from '../../src/policy/circle.ts';

export const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
export const AT = new Date('2026-06-01T00:00:00Z');
export const CREATED = new Date('2026-01-01T00:00:00Z');

/** A weakness marking (one hex digit `tag` makes its id) that lets circle alpha count what it marks. */
export function weaknessMarking(tag: string): StixObject {
  return {
    type: 'marking-definition', spec_version: '2.1', id: `marking-definition--${tag}aaaaaa-0000-4000-8000-000000000000`, created: '2026-01-01T00:00:00.000Z', name: 'weakness',
    extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'weakness', organisation_refs: [], circle_refs: ['alpha'], aggregate_circle_refs: ['alpha'] } },
  };
}

/** Vulnerability `n` named `cve`, created by `by` and marked with `marking`; `changes` override any property. */
export function disclosure(n: number, cve: string, by: string, marking: StixObject, changes: Partial<StixObject> = {}): StixObject {
  return {
    type: 'vulnerability', spec_version: '2.1', id: `vulnerability--cccccccc-0000-4000-8000-${String(n).padStart(12, '0')}`,
    created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: by, name: cve, object_marking_refs: [marking.id],
    ...changes,
  };
}

/**
 * A store (clock AT) with the organisations `members`, the collections `before` (read before alpha)
 * and alpha, and circle alpha: hidden, the home organisation coordinating, every member bound.
 */
export async function alphaCircleStore(members: readonly string[], options: { readonly before?: readonly string[]; readonly after?: readonly string[] } = {}): Promise<{ store: ObjectStore; deps: CircleDeps }> {
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
  for (const org of members) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
  for (const id of options.before ?? []) await store.createCollection({ id, title: id }, CREATED);
  await store.createCollection({ id: 'alpha', title: 'alpha' }, CREATED);
  for (const id of options.after ?? []) await store.createCollection({ id, title: id }, CREATED);
  await store.createCircle({
    id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'hidden', collectionId: 'alpha', defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
    members: [HOME, ...members].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
  } as Circle, CREATED);
  await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms() });
  for (const org of members) await store.addAcceptance({ circleId: 'alpha', organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
  return { store, deps: { store, clock: () => AT, homeOrganisationId: HOME } };
}

/** The CVE rows of alpha's totals a partner organisation is shown, with their organisation counts. */
export async function cveRowsFor(deps: CircleDeps, organisationId: string): Promise<[string, number][]> {
  return (await weaknessTotals(deps, { organisationId, admin: false }, 'alpha')).cves.map((row) => [row.key, row.organisations]);
}
