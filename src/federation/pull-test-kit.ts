// The node the pull tests pull into: one circle with a partner organisation that accepted its terms,
// and a peer to the partner's TAXII server. Nothing here is used outside tests.
import assert from 'node:assert/strict';
import { acceptAgreement, createCircle, invite, proposeAgreement } from '../circles/circle-operations.ts';
import type { PeerRecord } from '../store/federation-store.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { openSqliteObjectStore } from '../store/sqlite/sqlite-object-store.ts';
import { indicatorTerms } from '../../test/federation/two-node-kit.ts';
import type { PullDeps } from './pull-peer.ts';
import type { StixObject } from '../stix/types.ts';
import type { TestOrganisation } from './test-support.ts';

export const HOME = 'identity--0a000000-0000-4000-8000-000000000001';
export const NOW = new Date('2026-03-01T00:00:00.000Z');

/** Indicator `n` (id ending in n, address 198.51.100.n), unsigned, with `extra` properties. */
export function testIndicator(n: number, extra: Record<string, unknown> = {}): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    created: '2026-02-01T00:00:00.000Z',
    modified: '2026-02-01T00:00:00.000Z',
    pattern: `[ipv4-addr:value = '198.51.100.${n}']`,
    pattern_type: 'stix',
    valid_from: '2026-02-01T00:00:00Z',
    ...extra,
  } as StixObject;
}

export interface PullWorldOptions {
  /** The partner organisation the peer speaks for, and its name in the registry. */
  readonly partner: TestOrganisation;
  readonly partnerName: string;
  /** The circle (its id is also the local collection's), and its name. */
  readonly circle: { readonly id: string; readonly name: string };
  /** The peer: its name, the partner server's discovery URL (the API root is `api/` below it) and the collection pulled there. */
  readonly peer: { readonly name: string; readonly url: string; readonly remoteCollectionId: string };
  /** An Entente peer (the partner's key pinned) or a plain TAXII server (no key of it held). */
  readonly kind: PeerRecord['kind'];
  /** The agreement's unsigned_input term; none by default. */
  readonly unsignedInput?: 'accept' | 'quarantine';
}

/**
 * An in-memory node with the partner registered and one circle (indicators up to AMBER) to which
 * it was invited as a contributor and whose terms it accepted; the peer pulls into the circle's
 * collection every minute, without pushing.
 */
export async function pullWorld(options: PullWorldOptions): Promise<{ store: ObjectStore; deps: PullDeps; peer: PeerRecord }> {
  const { partner, circle, peer, kind, unsignedInput } = options;
  const store = openSqliteObjectStore({ path: ':memory:' });
  await store.createOrganisation({ id: partner.id, name: options.partnerName, kind: 'company', sectors: [], country: undefined, identityJson: '{}', createdAt: NOW.toISOString() });
  const circles = { store, clock: () => NOW, homeOrganisationId: HOME };
  const admin = { organisationId: HOME, admin: true };
  await createCircle(circles, { id: circle.id, name: circle.name, kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_from: '2026-01-01T00:00:00Z', valid_until: '2027-01-01T00:00:00Z' });
  await invite(circles, admin, circle.id, { organisationId: partner.id, role: 'contributor', trial: false });
  await proposeAgreement(circles, admin, circle.id, {
    ...indicatorTerms('retain'),
    expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' },
    ...(unsignedInput === undefined ? {} : { unsigned_input: unsignedInput }),
  });
  await acceptAgreement(circles, { organisationId: partner.id, admin: false }, circle.id, partner.id);
  if (kind === 'entente') await store.pinKey({ ...partner.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: NOW.toISOString() });
  await store.addPeer({
    name: peer.name,
    url: peer.url,
    apiRootUrl: `${peer.url}api/`,
    token: 'secret',
    circleId: circle.id,
    localCollectionId: circle.id,
    remoteCollectionId: peer.remoteCollectionId,
    organisationId: partner.id,
    kind,
    push: false,
    intervalSeconds: 60,
    silentAfter: 3,
    createdAt: NOW.toISOString(),
  });
  const added = await store.getPeer(peer.name);
  assert.ok(added !== undefined);
  return { store, deps: { store, clock: () => NOW, homeOrganisationId: HOME }, peer: added };
}
