// Receiving a recall (docs/federation.md, "Flash messages and recalls"): a coordinator of a circle
// (or the origin of the objects, for a creator's revocation) asks this node to remove versions it
// received through the circle. The signature is checked against the sender's pinned keys, the
// versions the sender may recall are removed from the circle's collection (decideRecallAction; the
// audit keeps the record of what was released), the home organisation is told on its alert stream,
// and the answer is a signed acknowledgement of the notice as a whole: the same whether or not this
// node held, removed or kept any named version, so that naming ids (deterministic SCO ids, ids learnt
// elsewhere) tells the sender nothing of what this node holds.
//
// The store forgets a version no collection holds any more, and its provenance with it; so the
// provenance of the versions a recall names is read before anything is removed, and the recall is
// recorded with it (FederationStore.recordReceivedRecall, `entente recalls received`): what was
// received, where it came from, and why it went.
import { EntenteError, isEntenteError } from '../errors/entente-error.ts';
import type { Recipient } from '../policy/recipient.ts';
import type { ProvenanceRecord, ProvenanceSummary, ReceivedRecallRecord, ReceivedRecallVersion } from '../store/federation-store.ts';
import { versionKey, type ObjectStore } from '../store/object-store.ts';
import { describeIssues } from './flash-message.ts';
import { createKeyDirectory, type NodeSigner } from './node-key.ts';
import { decideRecallAction, decideRecallAuthority, parseRecallBody, type RecallAckBody, type RecallBody, type RecalledVersion } from './recall-message.ts';
import { assertMessageVerified, parseSignedMessage, signMessage, type SignedMessage } from './signed-message.ts';

export interface RecallReceiveDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly homeOrganisationId: string;
  readonly signer: () => Promise<NodeSigner>;
  /** Tells the home organisation (alert stream) what a recall removed. */
  readonly onRecalled?: (recall: { readonly sender: string; readonly body: RecallBody; readonly removed: number; readonly authority: 'coordinator' | 'origin' }) => void;
}

function invalid(message: string, details?: Record<string, unknown>): EntenteError {
  return new EntenteError('ENT_RECALL_INVALID', message, details);
}

async function holds(store: ObjectStore, collectionId: string, version: RecalledVersion): Promise<boolean> {
  try {
    const page = await store.listEntries(collectionId, { ids: [version.id], versions: [{ kind: 'at', version: version.version }] }, { limit: 1 });
    return page.entries.length > 0;
  } catch (error) {
    if (isEntenteError(error) && error.code === 'ENT_COLLECTION_NOT_FOUND') return false;
    throw error;
  }
}

export async function receiveRecall(deps: RecallReceiveDeps, caller: Recipient, value: unknown): Promise<SignedMessage<RecallAckBody>> {
  if (caller.actsForHome) throw new EntenteError('ENT_AUTH_FORBIDDEN', "A recall comes from another organisation's node, with the token this node issued to it");
  const parsed = parseSignedMessage(value);
  if (!parsed.ok) throw invalid(`Not a signed recall: ${describeIssues(parsed.error)}`, { issues: parsed.error.slice(0, 20) });
  const message = parsed.value;
  if (message.kind !== 'recall') throw invalid(`Expected a signed recall, got a ${message.kind}`);
  if (message.signer !== caller.organisationId) {
    throw new EntenteError('ENT_SIGNATURE_INVALID', `The recall is signed by ${message.signer}, but the token acts for ${caller.organisationId}`, { signer: message.signer });
  }
  const now = deps.clock();
  assertMessageVerified(message, createKeyDirectory(await deps.store.listPinnedKeys(message.signer)), now.getTime());
  const body = parseRecallBody(message.body);
  if (!body.ok) throw invalid(`The recall is malformed: ${describeIssues(body.error)}`, { issues: body.error.slice(0, 20) });
  const recall = body.value;
  const circle = await deps.store.getCircle(recall.circle_id);
  const origins = await deps.store.originSignersOf([...new Set(recall.versions.map((version) => version.id))]);
  const authority = decideRecallAuthority(circle, message.signer, recall.versions, origins);
  if (authority.kind === 'refused' || circle === undefined) {
    throw invalid(`The recall of circle ${recall.circle_id} by ${message.signer} is refused: ${authority.kind === 'refused' ? authority.reason : 'no such circle'}`, {
      circleId: recall.circle_id,
    });
  }
  const provenance = await deps.store.provenanceOf(recall.versions);
  const contributions = await deps.store.contributionsOf(recall.versions);
  let removed = 0;
  const outcomes: ReceivedRecallVersion[] = [];
  for (const version of recall.versions) {
    // A recall takes back only what its sender may recall (decideRecallAction); the home
    // organisation's own objects (it originated them, or stored this version itself) stay, whoever
    // asks. What it did is on this node's record alone: the acknowledgement says none of it.
    const key = versionKey(version.id, version.version);
    const rows = provenance.get(key) ?? [];
    const arrivals = contributions.get(key) ?? [];
    const record = (outcome: ReceivedRecallVersion['outcome']): void => {
      outcomes.push({ id: version.id, version: version.version, outcome, provenance: summaryOf(rows, circle.collectionId) });
    };
    const action = decideRecallAction(authority.kind, deps.homeOrganisationId, {
      origin: origins.get(version.id),
      received: rows.length > 0 || arrivals.length > 0,
      receivedThroughCircle: rows.some((row) => row.collectionId === circle.collectionId) || arrivals.some((arrival) => arrival.collectionId === circle.collectionId),
    });
    if (action === 'leave') {
      record((await holds(deps.store, circle.collectionId, version)) ? 'kept' : 'absent');
      continue;
    }
    let count = 0;
    try {
      count = await deps.store.deleteObject(circle.collectionId, version.id, { versions: [{ kind: 'at', version: version.version }] });
    } catch (error) {
      // The circle's collection is gone: nothing of it is held here any more.
      if (!(isEntenteError(error) && error.code === 'ENT_COLLECTION_NOT_FOUND')) throw error;
    }
    removed += count;
    record(count > 0 ? 'removed' : 'absent');
  }
  await deps.store.recordReceivedRecall({
    circleId: recall.circle_id,
    senderOrganisationId: message.signer,
    authority: authority.kind,
    reason: recall.reason,
    receivedAt: now.toISOString(),
    signedJson: JSON.stringify(message),
    versions: outcomes,
  });
  if (removed > 0) deps.onRecalled?.({ sender: message.signer, body: recall, removed, authority: authority.kind });
  const ack: RecallAckBody = {
    circle_id: recall.circle_id,
    recipient: deps.homeOrganisationId,
    versions: recall.versions,
    acknowledged_at: deps.clock().toISOString(),
  };
  return signMessage('recall-ack', ack, await deps.signer());
}

/** Where a version had come from: its arrival in the circle's collection (else any), the earliest first. */
function summaryOf(rows: readonly ProvenanceRecord[], collectionId: string): ProvenanceSummary | undefined {
  const inCircle = rows.filter((row) => row.collectionId === collectionId);
  const [first] = [...(inCircle.length > 0 ? inCircle : rows)].sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : 0));
  return first === undefined ? undefined : { signer: first.signer, peer: first.peer, verification: first.verification, receivedAt: first.receivedAt };
}

/** A received recall as `entente recalls received --json` prints it (snake_case; the signed message as received). */
export function toReceivedRecallJson(recall: ReceivedRecallRecord): Record<string, unknown> {
  const count = (outcome: ReceivedRecallVersion['outcome']): number => recall.versions.filter((version) => version.outcome === outcome).length;
  let message: unknown;
  try {
    message = JSON.parse(recall.signedJson) as unknown;
  } catch {
    message = recall.signedJson;
  }
  return {
    seq: recall.seq,
    circle_id: recall.circleId,
    sender: recall.senderOrganisationId,
    authority: recall.authority,
    reason: recall.reason,
    received_at: recall.receivedAt,
    removed: count('removed'),
    kept: count('kept'),
    absent: count('absent'),
    versions: recall.versions.map((version) => ({
      id: version.id,
      version: version.version,
      outcome: version.outcome,
      signer: version.provenance?.signer ?? null,
      peer: version.provenance?.peer ?? null,
      verification: version.provenance?.verification ?? null,
      received_at: version.provenance?.receivedAt ?? null,
    })),
    message,
  };
}
