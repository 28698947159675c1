// Flash messages (docs/federation.md, "Flash messages and recalls"): sending one to every member
// of a circle at once, receiving one from a member's node, acknowledging, listing, and promoting one
// to a STIX note. For the CLI and the REST API alike; the HTTP client and the alert stream are
// passed in.
import type { FlashAuditEntry } from '../audit/audit-chain.ts';
import { EntenteError } from '../errors/entente-error.ts';
import type { AgreementState } from '../policy/agreement.ts';
import { circleClosedReason, membershipAt, type Circle } from '../policy/circle.ts';
import { canReadCollection, canWriteCollection, type Recipient } from '../policy/recipient.ts';
import type { StixObject } from '../stix/types.ts';
import { isValidatedStixObject } from '../stix/validate.ts';
import type { FlashRecord } from '../store/federation-store.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { validateForIngest } from '../store/validate-for-ingest.ts';
import {
  createFlashBody,
  describeIssues,
  flashTextProblem,
  isFlashId,
  isIndicatorId,
  parseFlashAckBody,
  parseFlashBody,
  parseFlashReceiptBody,
  type FlashAckBody,
  type FlashBody,
  type FlashReceiptBody,
} from './flash-message.ts';
import { toFlashNote } from './flash-note.ts';
import { flashAddressees, flashSenderRefusal } from './flash-recipients.ts';
import { describeFailure, findPeerLink, isPermanentFailure, messageJson, peerLinksOfCircle, verifiedAnswer, type PeerPost } from './message-delivery.ts';
import { createKeyDirectory, type NodeSigner } from './node-key.ts';
import { assertMessageVerified, parseSignedMessage, signMessage, type SignedMessage } from './signed-message.ts';

export const FLASH_PATH = '/api/federation/flash';
export const FLASH_ACK_PATH = '/api/federation/flash-acks';
/** A member's node has this long to answer a flash before the attempt counts as failed. */
export const FLASH_TIMEOUT_MS = 5000;
/**
 * The most new flashes one member's node may deliver here in an hour, unless the node is set
 * otherwise (`--flash-limit`). A flash interrupts people; a member (or its compromised node) sending
 * more than one a minute is flooding, not warning.
 */
export const DEFAULT_FLASH_LIMIT_PER_HOUR = 60;
const HOUR_MS = 3_600_000;

export interface FlashDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly randomUuid: () => string;
  readonly homeOrganisationId: string;
  /** The home organisation's current signing key. */
  readonly signer: () => Promise<NodeSigner>;
  readonly post: PeerPost;
  /** Shows a flash that just arrived on the node's alert stream (the running node only). */
  readonly onFlashReceived?: (flash: FlashRecord) => void;
  readonly timeoutMs?: number;
  /** New flashes one member's node may deliver here in an hour (default DEFAULT_FLASH_LIMIT_PER_HOUR). */
  readonly flashLimitPerHour?: number;
}

/** What happened to one member's copy of a flash, in one attempt. */
export interface FlashDelivery {
  readonly organisationId: string;
  /** The peer link used; absent when this node has no Entente peer link to the member. */
  readonly peer: string | undefined;
  /** not-eligible: the circle rules no longer let the flash reach the member (nothing was sent). */
  readonly outcome: 'delivered' | 'failed' | 'no-peer' | 'not-eligible';
  readonly error?: string;
  /** The failure will not mend by sending again (the member's node refused the flash). */
  readonly permanent?: boolean;
  /** From the POST to the verified receipt. */
  readonly ms?: number;
}

export interface FlashInput {
  readonly circleId: string;
  readonly text: string;
  readonly indicatorId?: string | undefined;
}

function invalid(message: string, details?: Record<string, unknown>): EntenteError {
  return new EntenteError('ENT_FLASH_INVALID', message, details);
}

function flashNotFound(id: string): EntenteError {
  return new EntenteError('ENT_FLASH_NOT_FOUND', `No flash message ${id.slice(0, 64)}`, { flashId: id.slice(0, 64) });
}

/** The home organisation's users speak through flashes; partners only through their own node. */
function requireHome(actor: Recipient): void {
  if (!actor.actsForHome) throw new EntenteError('ENT_AUTH_FORBIDDEN', "Flash messages are sent and read by the home organisation's own tokens");
}

/**
 * A receipt's error saying that the circle rules kept the flash from the member (no agreement binds
 * it, it left, the circle ended). Kept in the receipt's error, so that the sender sees why and the
 * retrier (in this process or after a restart) knows there is nothing to retry.
 */
const NOT_ELIGIBLE_PREFIX = 'not eligible: ';

export function isNotEligible(receipt: { readonly lastError?: string | undefined } | undefined): boolean {
  return receipt?.lastError?.startsWith(NOT_ELIGIBLE_PREFIX) === true;
}

/** node_meta key mapping the id of a flash sent to some members without its indicator (its own id: see deliverFlash) to the flash's id. */
function variantKey(variantId: string): string {
  return `flash-variant:${variantId}`;
}

/**
 * The audit entry for one copy of a flash about to be POSTed to a member's node: a flash is a
 * release (it may name an indicator's id), and every release is in the audit log.
 */
function flashAuditEntry(flash: FlashRecord, sent: FlashBody, recipientOrganisationId: string, agreementVersion: number, at: Date): FlashAuditEntry {
  return {
    kind: 'flash',
    flashId: flash.id,
    sentFlashId: sent.id,
    ...(flash.indicatorId === undefined ? {} : { indicatorId: flash.indicatorId }),
    indicatorNamed: sent.indicator_id !== undefined,
    recipientOrganisationId,
    circleId: flash.circleId,
    agreementVersion,
    at: at.toISOString(),
  };
}

/** Members of the circle at `at`, other than the home organisation. */
function otherMembers(circle: Circle, homeOrganisationId: string, at: Date): string[] {
  return circle.members
    .filter((member) => member.organisationId !== homeOrganisationId && membershipAt(circle, member.organisationId, at).kind === 'member')
    .map((member) => member.organisationId);
}

/**
 * Sends a flash: checks the text, the circle (known, running, the home organisation a member, the
 * sender allowed to write its collection) and the indicator (the sender allowed to read the
 * collection too, the id well-formed and held there); signs, stores, and POSTs it at once and
 * concurrently to every member's node.
 */
export async function sendFlash(deps: FlashDeps, actor: Recipient, input: FlashInput): Promise<{ flash: FlashRecord; deliveries: FlashDelivery[] }> {
  requireHome(actor);
  const problem = flashTextProblem(input.text);
  if (problem !== undefined) throw invalid(`Cannot send this flash: ${problem}`);
  const now = deps.clock();
  const circle = await deps.store.getCircle(input.circleId);
  if (circle === undefined) throw invalid(`No circle ${input.circleId.slice(0, 120)}`, { circleId: input.circleId.slice(0, 120) });
  if (!canWriteCollection(actor, circle.collectionId)) {
    throw new EntenteError('ENT_AUTH_FORBIDDEN', `Sending a flash to circle ${circle.id} needs a write grant on its collection ${circle.collectionId}`);
  }
  const closed = circleClosedReason(circle, now);
  if (closed !== undefined) throw new EntenteError('ENT_CIRCLE_ENDED', `Cannot send a flash: ${closed}`, { circleId: circle.id });
  const home = membershipAt(circle, deps.homeOrganisationId, now);
  if (home.kind !== 'member') throw new EntenteError('ENT_CIRCLE_NOT_MEMBER', `Cannot send a flash: ${home.reason}`);
  if (input.indicatorId !== undefined) {
    // Whether the collection holds the indicator is a read of it: answered only to a token that may
    // read the collection (for the home organisation's tokens, the whole release decision:
    // decideForEveryObject), before anything about the id is looked at, so that a write-only token
    // learns nothing from the answer, nor names to the members an object it may not see itself.
    if (!canReadCollection(actor, circle.collectionId)) {
      throw new EntenteError(
        'ENT_AUTH_FORBIDDEN',
        `Naming an indicator in a flash to circle ${circle.id} needs a read grant on its collection ${circle.collectionId}; send the flash without one`,
      );
    }
    if (!isIndicatorId(input.indicatorId)) throw invalid(`${String(input.indicatorId).slice(0, 120)} is not a STIX indicator id (indicator--<uuid>)`);
    const held = await deps.store.listEntries(circle.collectionId, { ids: [input.indicatorId] }, { limit: 1 });
    if (held.entries.length === 0) throw invalid(`Circle ${circle.id}'s collection holds no indicator ${input.indicatorId}`, { indicatorId: input.indicatorId });
  }
  const body = createFlashBody({
    circleId: circle.id,
    sender: deps.homeOrganisationId,
    text: input.text,
    indicatorId: input.indicatorId,
    sentAt: now.toISOString(),
  });
  const message = signMessage('flash', body, await deps.signer());
  await deps.store.addFlash({
    id: body.id,
    circleId: circle.id,
    direction: 'sent',
    senderOrganisationId: deps.homeOrganisationId,
    text: body.text,
    indicatorId: body.indicator_id,
    sentAt: body.sent_at,
    signedJson: messageJson(message),
    receivedAt: undefined,
    acknowledged: undefined,
    receipts: [],
  });
  const deliveries = await deliverFlash(deps, body.id);
  const flash = await deps.store.getFlash(body.id);
  if (flash === undefined) throw flashNotFound(body.id);
  return { flash, deliveries };
}

/**
 * POSTs a sent flash to the members' nodes (all of them, or those named), concurrently, and records
 * each outcome as a receipt: delivered when the member's signed receipt verifies, else the error.
 * Members without an Entente peer link get a receipt saying so.
 *
 * Who gets it is decided now, at every attempt, by the circle rules (flash-recipients.ts): a member
 * no agreement binds, one that left since the flash was sent, or any member once the circle has
 * ended gets nothing and a receipt marking it not eligible. A member the release decision withholds
 * the flash's indicator from gets the flash without `indicator_id`: since a flash's id is derived
 * from its content, that copy has its own id (signed now, by the current key), mapped here to the
 * flash so that its receipt and acknowledgement are the flash's. The id of the copy a member's node
 * confirmed is kept with its receipt: the only id whose acknowledgement it may send (receiveFlashAck).
 *
 * Each copy is written to the audit log before it is POSTed, at every attempt (a retry sends it
 * again); a copy that cannot be logged is not sent.
 */
export async function deliverFlash(deps: FlashDeps, flashId: string, only?: readonly string[]): Promise<FlashDelivery[]> {
  const flash = await deps.store.getFlash(flashId);
  if (flash === undefined || flash.direction !== 'sent') throw flashNotFound(flashId);
  const circle = await deps.store.getCircle(flash.circleId);
  if (circle === undefined) return [];
  const message = JSON.parse(flash.signedJson) as SignedMessage<FlashBody>;
  const links = await peerLinksOfCircle(deps.store, circle.id);
  const addressees = await flashAddressees(deps.store, circle, deps.homeOrganisationId, flash.indicatorId, deps.clock(), only);
  let withoutIndicator: Promise<SignedMessage<FlashBody>> | undefined;
  const messageFor = (indicatorReleased: boolean): Promise<SignedMessage<FlashBody>> => {
    if (indicatorReleased || flash.indicatorId === undefined) return Promise.resolve(message);
    withoutIndicator ??= (async () => {
      const body = createFlashBody({ circleId: message.body.circle_id, sender: message.body.sender, text: message.body.text, sentAt: message.body.sent_at });
      await deps.store.setMeta(variantKey(body.id), flash.id);
      return signMessage('flash', body, await deps.signer());
    })();
    return withoutIndicator;
  };
  return Promise.all(
    addressees.map(async (addressee): Promise<FlashDelivery> => {
      const organisationId = addressee.organisationId;
      if (addressee.kind === 'not-eligible') {
        const error = `${NOT_ELIGIBLE_PREFIX}${addressee.reason}`;
        await deps.store.recordFlashReceipt(flash.id, { organisationId, lastError: error });
        return { organisationId, peer: undefined, outcome: 'not-eligible', error, permanent: true };
      }
      const peer = links.get(organisationId);
      if (peer === undefined) {
        const error = `no Entente peer link to ${organisationId} for circle ${circle.id} (entente peer add)`;
        await deps.store.recordFlashReceipt(flash.id, { organisationId, lastError: error });
        return { organisationId, peer: undefined, outcome: 'no-peer', error, permanent: true };
      }
      const started = performance.now();
      try {
        const sent = await messageFor(addressee.indicatorReleased);
        await deps.store.appendAudit([flashAuditEntry(flash, sent.body, organisationId, addressee.agreementVersion, deps.clock())]);
        const answer = await deps.post(peer, FLASH_PATH, sent, { timeoutMs: deps.timeoutMs ?? FLASH_TIMEOUT_MS });
        const receipt = await verifiedAnswer(deps.store, answer, 'flash-receipt', organisationId, deps.clock());
        const body = parseFlashReceiptBody(receipt.body);
        if (!body.ok) throw new EntenteError('ENT_SIGNATURE_INVALID', `The receipt of ${organisationId} is malformed: ${describeIssues(body.error)}`);
        if (body.value.flash_id !== sent.body.id || body.value.recipient !== organisationId) {
          throw new EntenteError('ENT_SIGNATURE_INVALID', `The receipt of ${organisationId} is for flash ${body.value.flash_id} of ${body.value.recipient}`);
        }
        const ms = performance.now() - started;
        await deps.store.recordFlashReceipt(flash.id, { organisationId, deliveredAt: deps.clock().toISOString(), deliveredFlashId: sent.body.id });
        return { organisationId, peer: peer.name, outcome: 'delivered', ms };
      } catch (error) {
        const text = describeFailure(error);
        await deps.store.recordFlashReceipt(flash.id, { organisationId, lastError: text });
        return { organisationId, peer: peer.name, outcome: 'failed', error: text, permanent: isPermanentFailure(error) };
      }
    }),
  );
}

/** Reads a signed message of one kind from a partner's request body, signed by the partner itself. Throws. */
async function readPartnerMessage(deps: FlashDeps, caller: Recipient, value: unknown, kind: 'flash' | 'flash-ack'): Promise<SignedMessage> {
  if (caller.actsForHome) {
    throw new EntenteError('ENT_AUTH_FORBIDDEN', `A ${kind} comes from a member's node, with the token this node issued to that member`);
  }
  const parsed = parseSignedMessage(value);
  if (!parsed.ok) throw invalid(`Not a signed ${kind} message: ${describeIssues(parsed.error)}`, { issues: parsed.error.slice(0, 20) });
  const message = parsed.value;
  if (message.kind !== kind) throw invalid(`Expected a signed ${kind} message, got a ${message.kind}`);
  if (message.signer !== caller.organisationId) {
    throw new EntenteError('ENT_SIGNATURE_INVALID', `The ${kind} is signed by ${message.signer}, but the token acts for ${caller.organisationId}`, {
      signer: message.signer,
    });
  }
  assertMessageVerified(message, createKeyDirectory(await deps.store.listPinnedKeys(message.signer)), deps.clock().getTime());
  return message;
}

/**
 * A member's node delivers a flash. The signer must be the caller's organisation, its signature
 * must verify against a key pinned for it, and it must be a member of the circle here, as must the
 * home organisation; and it must have the standing a flash from here would need to reach it (circle
 * running, an agreement version that binds it: flashSenderRefusal). Stored once (a retried delivery is answered again), shown on the alert stream,
 * and answered with a signed receipt.
 */
export async function receiveFlash(deps: FlashDeps, caller: Recipient, value: unknown): Promise<SignedMessage<FlashReceiptBody>> {
  const message = await readPartnerMessage(deps, caller, value, 'flash');
  const parsed = parseFlashBody(message.body);
  if (!parsed.ok) throw invalid(`The flash is malformed: ${describeIssues(parsed.error)}`, { issues: parsed.error.slice(0, 20) });
  const body: FlashBody = parsed.value;
  if (body.sender !== message.signer) throw new EntenteError('ENT_SIGNATURE_INVALID', `The flash names ${body.sender} as sender but is signed by ${message.signer}`);
  const now = deps.clock();
  const circle = await deps.store.getCircle(body.circle_id);
  const shared =
    circle !== undefined &&
    membershipAt(circle, body.sender, now).kind === 'member' &&
    membershipAt(circle, deps.homeOrganisationId, now).kind === 'member';
  if (!shared) {
    // The same answer whether the circle is unknown here or the sender is not in it.
    throw invalid(`The flash names circle ${body.circle_id}, which this node does not share with ${body.sender}`, { circleId: body.circle_id });
  }
  // Checked at every delivery, a retried one too: the standing may have ended since the first.
  const refusal = await flashSenderRefusal(deps.store, circle, body.sender, now);
  if (refusal !== undefined) {
    throw invalid(`Flash from ${body.sender} refused in circle ${circle.id}: ${refusal}`, { circleId: circle.id, reason: refusal });
  }
  const existing = await deps.store.getFlash(body.id);
  if (existing !== undefined && (existing.direction !== 'received' || existing.senderOrganisationId !== body.sender)) {
    throw invalid(`Flash id ${body.id} is already used here by another message`);
  }
  // A retried delivery (already stored) is answered again; only new flashes count against the quota,
  // which the store counts in the transaction that adds the flash (addFlash).
  const quota = { since: new Date(now.getTime() - HOUR_MS).toISOString(), limit: deps.flashLimitPerHour ?? DEFAULT_FLASH_LIMIT_PER_HOUR };
  const flash: FlashRecord = existing ?? {
    id: body.id,
    circleId: body.circle_id,
    direction: 'received',
    senderOrganisationId: body.sender,
    text: body.text,
    indicatorId: body.indicator_id,
    sentAt: body.sent_at,
    signedJson: messageJson(message),
    receivedAt: now.toISOString(),
    acknowledged: undefined,
    receipts: [],
  };
  if (existing === undefined && (await deps.store.addFlash(flash, quota))) deps.onFlashReceived?.(flash);
  const stored = (await deps.store.getFlash(body.id)) ?? flash;
  return signMessage('flash-receipt', { flash_id: body.id, recipient: deps.homeOrganisationId, received_at: stored.receivedAt ?? now.toISOString() }, await deps.signer());
}

export interface AcknowledgeOutcome {
  readonly flash: FlashRecord;
  /** Whether the sender's node recorded the acknowledgement now (else the running node tries again). */
  readonly sent: boolean;
  readonly error?: string;
}

/** node_meta key set once the sender's node has recorded this node's acknowledgement of a flash. */
export function ackDeliveredKey(flashId: string): string {
  return `flash-ack-delivered:${flashId}`;
}

/**
 * A human here acknowledges a received flash: recorded, then sent signed to the sender's node
 * through the peer link to its organisation. Acknowledging again sends the first acknowledgement again.
 *
 * The acknowledgement is a message signed by the home organisation to another one, as a flash is:
 * it needs the write grant on the circle's collection that sending one needs (the administrator
 * has it), not only the read grant that shows the flash. A token that cannot see the flash gets
 * the answer for a flash that does not exist.
 */
export async function acknowledgeFlash(deps: FlashDeps, actor: Recipient, flashId: string, by: string): Promise<AcknowledgeOutcome> {
  requireHome(actor);
  const flash = await requireVisibleFlash(deps, actor, flashId);
  if (!actor.admin) {
    // requireVisibleFlash has found the circle for any other token.
    const circle = await deps.store.getCircle(flash.circleId);
    if (circle === undefined) throw flashNotFound(flashId);
    if (!canWriteCollection(actor, circle.collectionId)) {
      throw new EntenteError(
        'ENT_AUTH_FORBIDDEN',
        `Acknowledging flash ${flash.id} sends a signed acknowledgement for the home organisation to its sender: it needs a write grant on circle ${circle.id}'s collection ${circle.collectionId}`,
      );
    }
  }
  if (flash.direction !== 'received') throw invalid(`Flash ${flashId} was sent by this node; only its members acknowledge it`);
  const person = by.trim().slice(0, 200);
  if (person === '') throw invalid('Say who acknowledges the flash');
  await deps.store.acknowledgeFlash(flash.id, person, deps.clock().toISOString());
  return sendAcknowledgement(deps, flash.id);
}

/** Sends (again) the acknowledgement of a received flash to its sender's node. */
export async function sendAcknowledgement(deps: FlashDeps, flashId: string): Promise<AcknowledgeOutcome> {
  const flash = await deps.store.getFlash(flashId);
  if (flash === undefined || flash.direction !== 'received' || flash.acknowledged === undefined) throw flashNotFound(flashId);
  const peer = await findPeerLink(deps.store, flash.senderOrganisationId, flash.circleId);
  if (peer === undefined) {
    return { flash, sent: false, error: `no Entente peer link to ${flash.senderOrganisationId}: the acknowledgement is recorded here only` };
  }
  const body: FlashAckBody = {
    flash_id: flash.id,
    recipient: deps.homeOrganisationId,
    acknowledged_by: flash.acknowledged.by,
    acknowledged_at: flash.acknowledged.at,
  };
  try {
    await deps.post(peer, FLASH_ACK_PATH, signMessage('flash-ack', body, await deps.signer()), { timeoutMs: deps.timeoutMs ?? FLASH_TIMEOUT_MS });
    await deps.store.setMeta(ackDeliveredKey(flash.id), deps.clock().toISOString());
    return { flash, sent: true };
  } catch (error) {
    return { flash, sent: false, error: describeFailure(error) };
  }
}

/**
 * A member's node tells this node that a human there acknowledged a flash this node sent. Taken only
 * from an organisation still a member of the flash's circle, for the copy its node was delivered
 * (its receipt says which): the flash itself, or the copy without the indicator withheld from it.
 */
export async function receiveFlashAck(deps: FlashDeps, caller: Recipient, value: unknown): Promise<{ flashId: string; organisationId: string }> {
  const message = await readPartnerMessage(deps, caller, value, 'flash-ack');
  const parsed = parseFlashAckBody(message.body);
  if (!parsed.ok) throw invalid(`The acknowledgement is malformed: ${describeIssues(parsed.error)}`, { issues: parsed.error.slice(0, 20) });
  const body = parsed.value;
  if (body.recipient !== message.signer) throw new EntenteError('ENT_SIGNATURE_INVALID', `The acknowledgement names ${body.recipient} but is signed by ${message.signer}`);
  const variantOf = await deps.store.getMeta(variantKey(body.flash_id));
  const flash = await deps.store.getFlash(variantOf ?? body.flash_id);
  const circle = flash === undefined ? undefined : await deps.store.getCircle(flash.circleId);
  const delivered = flash?.receipts.find((receipt) => receipt.organisationId === message.signer)?.deliveredFlashId;
  // A flash the caller was not delivered under this id is as unknown to it as one that does not
  // exist, whatever the reason: never sent to it, not yet confirmed by its node, another member's
  // copy, or the flash's own id recomputed (with a guessed indicator) by a member given the copy
  // without the indicator. One answer for all, so that it confirms no id.
  if (
    flash === undefined ||
    flash.direction !== 'sent' ||
    circle === undefined ||
    delivered !== body.flash_id ||
    membershipAt(circle, message.signer, deps.clock()).kind !== 'member'
  ) {
    throw flashNotFound(body.flash_id);
  }
  await deps.store.recordFlashReceipt(flash.id, { organisationId: message.signer, acknowledgedAt: body.acknowledged_at, acknowledgedBy: body.acknowledged_by });
  return { flashId: flash.id, organisationId: message.signer };
}

/** A flash the home token may see: the administrator any, others those of circles whose collection they read. */
async function requireVisibleFlash(deps: Pick<FlashDeps, 'store'>, actor: Recipient, flashId: string): Promise<FlashRecord> {
  requireHome(actor);
  const flash = isFlashId(flashId) ? await deps.store.getFlash(flashId) : undefined;
  if (flash === undefined) throw flashNotFound(flashId);
  if (!actor.admin) {
    const circle = await deps.store.getCircle(flash.circleId);
    if (circle === undefined || !canReadCollection(actor, circle.collectionId)) throw flashNotFound(flashId);
  }
  return flash;
}

export type MemberFlashState = 'acknowledged' | 'delivered' | 'failed' | 'not-eligible' | 'pending';

export interface FlashView {
  readonly id: string;
  readonly circle_id: string;
  readonly direction: 'sent' | 'received';
  readonly sender: string;
  readonly text: string;
  readonly indicator_id: string | null;
  readonly sent_at: string;
  readonly received_at: string | null;
  readonly acknowledged: { readonly by: string; readonly at: string } | null;
  /** For a sent flash: every member it went to, with what its node said. */
  readonly members: readonly {
    readonly organisation_id: string;
    readonly state: MemberFlashState;
    readonly delivered_at: string | null;
    readonly acknowledged_at: string | null;
    readonly acknowledged_by: string | null;
    readonly error: string | null;
  }[];
}

export function toFlashView(flash: FlashRecord, circle: Circle | undefined, homeOrganisationId: string): FlashView {
  const receipts = new Map(flash.receipts.map((receipt) => [receipt.organisationId, receipt]));
  const memberIds =
    flash.direction === 'received'
      ? []
      : [...new Set([...(circle === undefined ? [] : otherMembers(circle, homeOrganisationId, new Date(flash.sentAt))), ...receipts.keys()])];
  return {
    id: flash.id,
    circle_id: flash.circleId,
    direction: flash.direction,
    sender: flash.senderOrganisationId,
    text: flash.text,
    indicator_id: flash.indicatorId ?? null,
    sent_at: flash.sentAt,
    received_at: flash.receivedAt ?? null,
    acknowledged: flash.acknowledged ?? null,
    members: memberIds.map((organisationId) => {
      const receipt = receipts.get(organisationId);
      const state: MemberFlashState =
        receipt?.acknowledgedAt !== undefined
          ? 'acknowledged'
          : receipt?.deliveredAt !== undefined
            ? 'delivered'
            : isNotEligible(receipt)
              ? 'not-eligible'
              : receipt?.lastError !== undefined
                ? 'failed'
                : 'pending';
      return {
        organisation_id: organisationId,
        state,
        delivered_at: receipt?.deliveredAt ?? null,
        acknowledged_at: receipt?.acknowledgedAt ?? null,
        acknowledged_by: receipt?.acknowledgedBy ?? null,
        error: state === 'failed' ? (receipt?.lastError ?? null) : state === 'not-eligible' ? (receipt?.lastError?.slice(NOT_ELIGIBLE_PREFIX.length) ?? null) : null,
      };
    }),
  };
}

export async function showFlash(deps: Pick<FlashDeps, 'store' | 'homeOrganisationId'>, actor: Recipient, flashId: string): Promise<FlashView> {
  const flash = await requireVisibleFlash(deps, actor, flashId);
  return toFlashView(flash, await deps.store.getCircle(flash.circleId), deps.homeOrganisationId);
}

/** Newest first; a home token sees the flashes of circles whose collection it may read. */
export async function listFlashes(
  deps: Pick<FlashDeps, 'store' | 'homeOrganisationId'>,
  actor: Recipient,
  filter: { readonly circleId?: string; readonly limit: number },
): Promise<FlashView[]> {
  requireHome(actor);
  const flashes = await deps.store.listFlashes(filter);
  const circles = new Map<string, Circle | undefined>();
  const views: FlashView[] = [];
  for (const flash of flashes) {
    if (!circles.has(flash.circleId)) circles.set(flash.circleId, await deps.store.getCircle(flash.circleId));
    const circle = circles.get(flash.circleId);
    if (!actor.admin && (circle === undefined || !canReadCollection(actor, circle.collectionId))) continue;
    views.push(toFlashView(flash, circle, deps.homeOrganisationId));
  }
  return views;
}

/** Whether the circle keeps who wrote what from its members: hidden, or any version of its terms anonymises. */
async function attributionHidden(store: ObjectStore, circle: Circle): Promise<boolean> {
  return circle.visibility === 'hidden' || attributionHiddenIn(circle, await store.getAgreementState(circle.id));
}

function attributionHiddenIn(circle: Circle, state: AgreementState): boolean {
  return circle.visibility === 'hidden' || state.agreements.some((agreement) => agreement.circleId === circle.id && agreement.terms.attribution === 'anonymise');
}

/** node_meta key holding the id of the note a flash was promoted to. */
function promotedKey(flashId: string): string {
  return `flash-promoted:${flashId}`;
}

/**
 * Turns a flash into a STIX note in its circle's collection (validated and stored like any
 * publication, so it syncs to the members). Promoting the same flash again gives the same note, as
 * does a promotion another process runs at the same time (store.recordedObject).
 *
 * The note is the home organisation's own publication (a human here chose to promote the warning),
 * stored as the home organisation's write and so signed by it when released: members' nodes pin the
 * home organisation's keys, and quarantine as a forgery any version that names it as creator
 * unsigned (arrival rule signer-not-creator). Stored as the sender's contribution instead, it would
 * leave unsigned and never reach an Entente member. What the sender may want kept is kept by the
 * note itself: it is marked with the circle's default TLP, names the sender in no text
 * (flash-note.ts), and a flash without an indicator, which would make it refer to the sender, is
 * refused in a circle that hides members or anonymises. Copying it into another circle is the home
 * organisation's own decision, as with anything it publishes.
 */
export async function promoteFlash(deps: FlashDeps, actor: Recipient, flashId: string): Promise<{ note: StixObject | undefined; noteId: string; collectionId: string; created: boolean }> {
  const flash = await requireVisibleFlash(deps, actor, flashId);
  const circle = await deps.store.getCircle(flash.circleId);
  if (circle === undefined) throw invalid(`Flash ${flash.id} names circle ${flash.circleId}, which this node no longer holds`);
  if (!canWriteCollection(actor, circle.collectionId)) {
    throw new EntenteError('ENT_AUTH_FORBIDDEN', `Promoting a flash of circle ${circle.id} needs a write grant on its collection ${circle.collectionId}`);
  }
  const already = await deps.store.getMeta(promotedKey(flash.id));
  if (already !== undefined) return { note: undefined, noteId: already, collectionId: circle.collectionId, created: false };
  const received = flash.direction === 'received' && flash.senderOrganisationId !== deps.homeOrganisationId;
  const namesSender = received && flash.indicatorId === undefined;
  const senderHidden = (hiding: Circle): EntenteError =>
    invalid(
      `Flash ${flash.id} names no indicator: its note would refer to its sender, which circle ${hiding.id} ${hiding.visibility === 'hidden' ? 'hides from its members' : 'anonymises'}`,
      { flashId: flash.id, circleId: hiding.id },
    );
  if (namesSender && (await attributionHidden(deps.store, circle))) throw senderHidden(circle);
  const note = toFlashNote(flash, { noteId: `note--${deps.randomUuid()}`, now: deps.clock(), homeOrganisationId: deps.homeOrganisationId, tlp: circle.defaultTlp });
  const report = validateForIngest(note);
  if (!isValidatedStixObject(note, report)) {
    const issues = report.issues.filter((issue) => issue.severity === 'error').map((issue) => `${issue.path}: ${issue.message}`);
    throw invalid(`The note built from flash ${flash.id} is not valid STIX: ${issues.slice(0, 3).join('; ')}`);
  }
  // The note and the record of it in one write transaction, which reads the record again: another
  // process may have promoted the flash since the read above, and its note is then the answer.
  // The same transaction takes the sender rule again on the circle as stored: another process may
  // have hidden its members or proposed anonymising terms since the read above.
  const check = {
    circleId: circle.id,
    run: (stored: Circle | undefined, state: AgreementState): void => {
      if (namesSender && (stored === undefined || attributionHiddenIn(stored, state))) throw senderHidden(stored ?? circle);
    },
  };
  const recorded = await deps.store.recordedObject(promotedKey(flash.id), circle.collectionId, note, { check });
  if (recorded.outcome === undefined) return { note: undefined, noteId: recorded.id, collectionId: circle.collectionId, created: false };
  if (recorded.outcome.kind === 'rejected') throw new EntenteError('ENT_STORE_UNAVAILABLE', `The note was refused by the store: ${recorded.outcome.message}`);
  return { note, noteId: note.id, collectionId: circle.collectionId, created: true };
}
