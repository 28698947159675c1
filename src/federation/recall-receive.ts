// Receiving a recall (docs/federation.md, "Flash messages and recalls"): a coordinator of a circle
// (or the origin of the objects, for a creator's revocation) asks this node to remove versions it
// received through the circle. The signature is checked against the sender's pinned keys; a recall
// is refused only if this node shares no such circle with the sender (decideRecallAuthority), never
// on what it holds; the versions the sender may recall are removed from the circle's collection (decideRecallAction; the
// audit keeps the record of what was released), the home organisation is told on its alert stream,
// and the answer is a signed acknowledgement of the notice as a whole: the same whether or not this
// node held, removed or kept any named version, so that naming ids (deterministic SCO ids, ids learnt
// elsewhere) tells the sender nothing of what this node holds.
//
// The store forgets a version no collection holds any more, and its provenance with it; so the
// provenance of the versions a recall names is read before anything is removed, and the recall is
// recorded with it (FederationStore.recordReceivedRecall, `entente recalls received`): what was
// received, where it came from, and why it went. Only a recall that removed something is recorded.
import { EntenteError, isEntenteError } from '../errors/entente-error.ts';
import type { Recipient } from '../policy/recipient.ts';
import type { ProvenanceRecord, ProvenanceSummary, ReceivedRecallRecord, ReceivedRecallVersion } from '../store/federation-store.ts';
import { versionKey, type ObjectStore } from '../store/object-store.ts';
import { idTypeOf } from '../stix/validate/lexical.ts';
import { SCO_TYPES } from '../stix/validate/object-categories.ts';
import { describeIssues } from './flash-message.ts';
import { createKeyDirectory, type NodeSigner } from './node-key.ts';
import { createRecallAckBody, decideRecallAction, decideRecallAuthority, parseRecallBody, type RecallAckBody, type RecallBody, type RecalledVersion } from './recall-message.ts';
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
  // Read once, first: the acknowledgement is dated with it, so that its signed time says nothing of
  // how long the removals took.
  const now = deps.clock();
  if (caller.actsForHome) throw new EntenteError('ENT_AUTH_FORBIDDEN', "A recall comes from another organisation's node, with the token this node issued to it");
  const parsed = parseSignedMessage(value);
  if (!parsed.ok) throw invalid(`Not a signed recall: ${describeIssues(parsed.error)}`, { issues: parsed.error.slice(0, 20) });
  const message = parsed.value;
  if (message.kind !== 'recall') throw invalid(`Expected a signed recall, got a ${message.kind}`);
  if (message.signer !== caller.organisationId) {
    throw new EntenteError('ENT_SIGNATURE_INVALID', `The recall is signed by ${message.signer}, but the token acts for ${caller.organisationId}`, { signer: message.signer });
  }
  assertMessageVerified(message, createKeyDirectory(await deps.store.listPinnedKeys(message.signer)), now.getTime());
  const body = parseRecallBody(message.body);
  if (!body.ok) throw invalid(`The recall is malformed: ${describeIssues(body.error)}`, { issues: body.error.slice(0, 20) });
  const recall = body.value;
  const circle = await deps.store.getCircle(recall.circle_id);
  // Refused only on what does not depend on what this node holds (decideRecallAuthority).
  const authority = decideRecallAuthority(recall.circle_id, circle, message.signer);
  if (authority.kind === 'refused' || circle === undefined) {
    throw invalid(`The recall of circle ${recall.circle_id} by ${message.signer} is refused: ${authority.kind === 'refused' ? authority.reason : ''}`, {
      circleId: recall.circle_id,
    });
  }
  const ids = [...new Set(recall.versions.map((version) => version.id))];
  const origins = await deps.store.originSignersOf(ids);
  const provenance = await deps.store.provenanceOf(recall.versions);
  const contributions = await deps.store.contributionsOf(recall.versions);
  const homeOwn = await homeOwnVersions(deps, ids, recall.versions);
  let removed = 0;
  const outcomes: ReceivedRecallVersion[] = [];
  for (const version of recall.versions) {
    // A recall takes back only what its sender may recall (decideRecallAction); the home
    // organisation's own versions stay, whoever asks. What it did is on this node's record alone:
    // the acknowledgement says none of it.
    const key = versionKey(version.id, version.version);
    const rows = provenance.get(key) ?? [];
    const arrivals = contributions.get(key) ?? [];
    const record = (outcome: ReceivedRecallVersion['outcome']): void => {
      outcomes.push({ id: version.id, version: version.version, outcome, provenance: summaryOf(rows, circle.collectionId) });
    };
    const action = decideRecallAction(authority.kind, message.signer, deps.homeOrganisationId, {
      origin: SCO_TYPES.has(idTypeOf(version.id)) ? signerOfCopy(rows, circle.collectionId) : origins.get(version.id),
      homeOwn: homeOwn.has(key),
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
  // Only a recall that took something back is recorded: one that removed nothing (it named versions
  // this node does not hold, or holds but the sender may not recall) would otherwise let any member
  // grow the table without bound by naming made-up ids. The answer is the same either way.
  if (removed > 0) {
    await deps.store.recordReceivedRecall({
      circleId: recall.circle_id,
      senderOrganisationId: message.signer,
      authority: authority.kind,
      reason: recall.reason,
      receivedAt: now.toISOString(),
      signedJson: JSON.stringify(message),
      versions: outcomes,
    });
    deps.onRecalled?.({ sender: message.signer, body: recall, removed, authority: authority.kind });
  }
  return signMessage('recall-ack', createRecallAckBody(recall.circle_id, deps.homeOrganisationId, recall.versions, now.toISOString()), await deps.signer());
}


/**
 * Who originated an SCO version: the signer of the copy that came into the circle's collection. An
 * SCO has no creator, and each content of it is a version of its own (stix/versions.ts): the first
 * signer of the id is only whoever sent one of its contents first, and may not take back another
 * member's copy.
 */
function signerOfCopy(rows: readonly ProvenanceRecord[], collectionId: string): string | undefined {
  const here = rows.filter((row) => row.collectionId === collectionId && row.signer !== undefined);
  here.sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : 0));
  return here[0]?.signer;
}

/**
 * The named versions (by versionKey) that are the home organisation's own whatever their provenance
 * says: signed by this node as stored (a kept signature, variant ''; it signs only what its
 * organisation originated), or created by the home organisation (created_by_ref).
 */
async function homeOwnVersions(deps: RecallReceiveDeps, ids: readonly string[], versions: readonly RecalledVersion[]): Promise<Set<string>> {
  const own = new Set<string>();
  const signatures = await deps.store.signaturesIn(versions.map((version) => ({ id: version.id, version: version.version, variant: '' })));
  versions.forEach((version, index) => {
    if (signatures[index] !== undefined) own.add(versionKey(version.id, version.version));
  });
  const named = new Set(versions.map((version) => versionKey(version.id, version.version)));
  for (const [id, stored] of await deps.store.storedVersionsOf(ids)) {
    for (const { version, json } of stored) {
      const key = versionKey(id, version);
      if (!named.has(key) || own.has(key)) continue;
      if (createdBy(json) === deps.homeOrganisationId) own.add(key);
    }
  }
  return own;
}

function createdBy(json: string): unknown {
  try {
    const object = JSON.parse(json) as unknown;
    return typeof object === 'object' && object !== null ? (object as Record<string, unknown>)['created_by_ref'] : undefined;
  } catch {
    return undefined;
  }
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
