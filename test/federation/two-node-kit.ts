/**
 * Two Entente nodes in this process — real HTTP servers on port 0, each with its own SQLite file —
 * and what the federation tests set up between them: a circle the coordinator's node runs with the
 * member's organisation invited, its terms, and a token for the member's node.
 */
import { loadNodeConfig, startNode, type RunningNode } from '../../src/compose.ts';
import { createCircle, invite, proposeAgreement } from '../../src/circles/circle-operations.ts';
import { acceptOrForward } from '../../src/federation/coordinator-link.ts';
import { openTaxiiClient } from '../../src/taxii/taxii-client.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS, type TlpLevel } from '../../src/policy/tlp.ts';
import type { ObjectStore, StoredEntry } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

export interface TestNode {
  readonly node: RunningNode;
  readonly org: string;
  readonly dataDir: string;
}

/** A node with its HTTP server, without the recall sweep or the peer scheduler (tests run cycles themselves). `port` to start again where it listened before. */
export async function startTestNode(dataDir: string, orgName: string, port = 0): Promise<TestNode> {
  const config = loadNodeConfig({ dataDir, port: String(port), orgName, logLevel: 'silent' }, {});
  const node = await startNode(config, { sweepRecalls: false, syncPeers: false });
  return { node, org: node.identity.homeOrganisation.id, dataDir };
}

let serial = 0;

/** A new indicator (or malware) by `creator`, at a TLP level (none: the circle's default). */
export function indicator(creator: string, tlp: TlpLevel | undefined, type = 'indicator'): StixObject {
  serial += 1;
  const suffix = serial.toString(16).padStart(12, '0');
  const common = {
    spec_version: '2.1',
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
    created_by_ref: creator,
    ...(tlp === undefined ? {} : { object_marking_refs: [TLP2_MARKING_IDS[tlp]] }),
  };
  if (type === 'malware') return { type, id: `malware--00000000-0000-4000-8000-${suffix}`, name: `Malware ${serial}`, is_family: true, ...common } as StixObject;
  return {
    type: 'indicator',
    id: `indicator--00000000-0000-4000-8000-${suffix}`,
    name: `Indicator ${serial} (${tlp ?? 'unmarked'})`,
    pattern: `[ipv4-addr:value = '198.51.100.${serial % 250}']`,
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00Z',
    ...common,
  } as StixObject;
}

/** Every entry of a collection, every version. */
export async function entriesOf(store: ObjectStore, collectionId: string): Promise<StoredEntry[]> {
  const entries: StoredEntry[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await store.listEntries(collectionId, { versions: [{ kind: 'all' }] }, { limit: 1000, ...(after === undefined ? {} : { after }) });
    entries.push(...page.entries);
    const last = page.entries.at(-1);
    if (!page.more || last === undefined) return entries;
    after = last.dateAdded;
  }
}

export const versionsOf = (entries: readonly StoredEntry[]): string[] => entries.map((entry) => `${entry.id}@${entry.version}`).sort();

/** Terms of the circles these tests run: indicators up to AMBER. */
export function indicatorTerms(endRule: 'retain' | 'recall'): Record<string, unknown> {
  return {
    scope: { types: ['indicator'] },
    highest_tlp: 'amber',
    onward_sharing: 'none',
    attribution: 'keep',
    expectations: { permitted_actions: 'internally-visible-actions', affected_party_notifications: 'may', provider_attribution: 'may' },
    end_rule: endRule,
  };
}

export interface CircleOfTwo {
  readonly circleId: string;
  /** The token the coordinator's node issued to the member's node (read and write on the circle's collection). */
  readonly memberSecret: string;
  readonly endRule: 'retain' | 'recall';
  /** The terms proposed (default: indicatorTerms(endRule)). */
  readonly terms?: Record<string, unknown>;
}

/**
 * Each node registers the other's organisation; the coordinator creates the circle (open, tacit,
 * on a collection of its id), invites the member as a contributor, proposes the terms (v1), and
 * issues the member's node its token. The member has not accepted anything.
 */
export async function formCircleOfTwo(coordinator: TestNode, member: TestNode, circle: CircleOfTwo): Promise<void> {
  const now = new Date().toISOString();
  // A second circle between the same two nodes finds the organisations registered already.
  if ((await coordinator.node.store.getOrganisation(member.org)) === undefined) {
    await coordinator.node.store.createOrganisation({ id: member.org, name: 'Grid B', kind: 'company', sectors: ['energy'], country: undefined, identityJson: '{}', createdAt: now });
  }
  if ((await member.node.store.getOrganisation(coordinator.org)) === undefined) {
    await member.node.store.createOrganisation({ id: coordinator.org, name: 'CERT A', kind: 'cert', sectors: ['government-national'], country: undefined, identityJson: '{}', createdAt: now });
  }
  const deps = { store: coordinator.node.store, clock: () => new Date(), homeOrganisationId: coordinator.org };
  const admin = { organisationId: coordinator.org, admin: true };
  await createCircle(deps, { id: circle.circleId, name: 'Alliance', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2099-01-01T00:00:00Z', valid_from: '2026-01-01T00:00:00Z' });
  await invite(deps, admin, circle.circleId, { organisationId: member.org, role: 'contributor', trial: false });
  await proposeAgreement(deps, admin, circle.circleId, circle.terms ?? indicatorTerms(circle.endRule));
  await coordinator.node.store.createToken({
    name: `grid-b-node-${circle.circleId}`,
    secretHash: hashTokenSecret(circle.memberSecret),
    admin: false,
    grants: [{ collectionId: circle.circleId, read: true, write: true }],
    organisationId: member.org,
    createdAt: now,
    revokedAt: undefined,
  });
}

/**
 * The member accepts the terms on the coordinator's node with the token it was issued, sending its
 * public keys (the coordinator pins them: it verifies the member's pushes with them).
 */
export async function acceptOnCoordinator(coordinator: TestNode, member: TestNode, circleId: string, memberSecret: string): Promise<void> {
  const keys = (await member.node.store.listNodeKeys()).map((key) => ({ key_id: key.keyId, public_key: key.publicKey, valid_from: key.validFrom }));
  const accepted = await fetch(`${coordinator.node.url}/api/circles/${circleId}/accept`, {
    method: 'POST',
    headers: { authorization: `Bearer ${memberSecret}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ public_keys: keys }),
  });
  if (accepted.status !== 200) throw new Error(`accepting on the coordinator's node: ${accepted.status} ${await accepted.text()}`);
}

/**
 * The member's node accepts the terms of a circle it mirrors (latest version), as `entente circle
 * accept C` does: on the coordinator's node through the peer link (accepting twice changes nothing
 * there), and recorded here. The mirror never takes the home organisation's acceptance from the
 * coordinator's view, so an acceptance made on the coordinator's node alone does not bind here.
 */
export async function acceptThroughLink(member: TestNode, circleId: string): Promise<void> {
  const deps = { store: member.node.store, clock: () => new Date(), homeOrganisationId: member.org, openClient: openTaxiiClient };
  const outcome = await acceptOrForward(deps, { organisationId: member.org, admin: true }, circleId, member.org);
  if (outcome.forwarded === undefined || outcome.forwarded.refreshError !== undefined) throw new Error(`accepting through the link: ${JSON.stringify(outcome)}`);
}
