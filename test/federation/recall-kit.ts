/**
 * Recalls between the nodes of a flash alliance (flash-alliance-kit.ts), for the tests of what a
 * recall may take back and what its acknowledgement says: a recall signed by its sender and POSTed
 * to the receiver as a partner, the receiver's acknowledgement, what the receiver holds, and
 * objects stored on the receiver as a pull from another node stores them.
 */
import assert from 'node:assert/strict';
import { signMessage } from '../../src/federation/signed-message.ts';
import { scoId } from '../../src/stix/ids.ts';
import type { SyncBatchOutcome } from '../../src/store/federation-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { signerOf, type Alliance, type AllianceNode } from './flash-alliance-kit.ts';

/** A version a recall names. */
export interface Named {
  readonly id: string;
  readonly version: string;
}

/** An HTTP answer: its status and JSON body. */
export interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/** An IPv4 address observable, with the deterministic id anyone can compute from its value. */
export function ip(value: string): StixObject {
  const id = scoId('ipv4-addr', { type: 'ipv4-addr', value });
  assert.ok(id.ok);
  return { type: 'ipv4-addr', spec_version: '2.1', id: id.value, value } as StixObject;
}

/** The versions of `id` that `node` holds in `collectionId`. */
export async function held(node: AllianceNode, collectionId: string, id: string): Promise<string[]> {
  const page = await node.node.store.listEntries(collectionId, { ids: [id], versions: [{ kind: 'all' }] }, { limit: 100 });
  return page.entries.map((entry) => entry.version);
}

/** `sender` recalls `versions` of circle `circleId` from `receiver`; the answer as the receiver gives it. */
export async function sendRecall(alliance: Alliance, sender: AllianceNode, receiver: AllianceNode, versions: readonly Named[], circleId = alliance.circleId): Promise<Answer> {
  const message = signMessage(
    'recall',
    { circle_id: circleId, reason: 'circle ended', versions: versions.map((v) => ({ id: v.id, version: v.version })), sent_at: new Date().toISOString() },
    await signerOf(sender),
  );
  const response = await fetch(`${receiver.url}/api/federation/recalls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${alliance.partnerSecret(receiver, sender)}` },
    body: JSON.stringify(message),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** The body of a recall acknowledgement (the answer must be one) without its time, the one part that differs from one recall to the next whatever the receiver holds. */
export function ackBodyOf(answer: Answer): Record<string, unknown> {
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  assert.equal(answer.json['kind'], 'recall-ack');
  const { acknowledged_at: at, ...rest } = answer.json['body'] as Record<string, unknown>;
  assert.equal(typeof at, 'string');
  return rest;
}

/** `receiver` stores `objects` from `sender` in `collectionId` as a pull stores them (signed by sender, verified). */
export function receiveFrom(receiver: AllianceNode, sender: AllianceNode, collectionId: string, circleId: string | undefined, objects: readonly StixObject[]): Promise<SyncBatchOutcome> {
  return receiver.node.store.applySyncBatch({
    collectionId, peer: sender.name, circleId, source: 'pull', contributorOrganisationId: sender.organisationId,
    accepted: objects.map((object) => ({ object, signer: sender.organisationId, keyId: undefined, verification: 'verified' as const, hops: [sender.organisationId] })),
    quarantined: [], receivedAt: new Date().toISOString(),
  });
}
