// Recall notices between nodes (docs/federation.md, "Flash messages and recalls"): how queued notices
// become signed 'recall' messages, how a peer's recall and acknowledgement bodies are read, and who
// may recall what. Pure: no clock, no I/O.
import { err, ok, type Result } from '../errors/result.ts';
import type { Circle } from '../policy/circle.ts';
import { parseMicroTimestamp } from '../stix/micro-timestamp.ts';
import type { JsonObject } from '../stix/types.ts';
import { checkIdentifier, IdVerdict } from '../stix/validate/lexical.ts';
import type { RecallNotice } from '../store/object-store.ts';
import { isOrganisationId } from './node-key.ts';
import type { MessageIssue } from './signed-message.ts';

/** Versions per recall message: a group larger than this goes in several messages. */
export const MAX_RECALL_VERSIONS = 2000;
export const MAX_RECALL_REASON = 1000;

const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._:~-]{0,199}$/;

export interface RecalledVersion extends JsonObject {
  readonly id: string;
  readonly version: string;
}

/** The body of a 'recall' message. */
export interface RecallBody extends JsonObject {
  readonly circle_id: string;
  readonly reason: string;
  readonly versions: RecalledVersion[];
  readonly sent_at: string;
}

/**
 * The body of a 'recall-ack': the receiving node is done with the notice. It confirms the notice as a
 * whole and says nothing of what the node held, removed or kept (a recall may name any id, a
 * deterministic SCO id or one learnt elsewhere: an answer that differed with what is held would tell
 * the sender what this node holds). `versions` repeats the versions the recall named.
 *
 * `removed` and `kept` are vestigial: nodes of earlier builds counted what the recall removed and
 * listed what it kept, and refuse an acknowledgement without them (their sender then resends the
 * recall for ever). They are always sent, always 0 and [] (createRecallAckBody): fixed values, which
 * say nothing; read, they are ignored.
 */
export interface RecallAckBody extends JsonObject {
  readonly circle_id: string;
  readonly recipient: string;
  readonly versions: RecalledVersion[];
  /** Vestigial, always 0 (see above). */
  readonly removed: 0;
  /** Vestigial, always empty (see above). */
  readonly kept: RecalledVersion[];
  readonly acknowledged_at: string;
}

/** The acknowledgement of a recall: the same for every recall naming the same versions, but for its time. */
export function createRecallAckBody(circleId: string, recipient: string, versions: readonly RecalledVersion[], acknowledgedAt: string): RecallAckBody {
  return { circle_id: circleId, recipient, versions: versions.map((version) => ({ id: version.id, version: version.version })), removed: 0, kept: [], acknowledged_at: acknowledgedAt };
}

/** One message's worth of notices: one circle, one receiving organisation. */
export interface RecallGroup {
  readonly circleId: string;
  readonly organisationId: string;
  readonly reason: string;
  readonly versions: RecalledVersion[];
}

function groupKey(circleId: string, organisationId: string): string {
  return `${circleId}\u0000${organisationId}`;
}

/**
 * Groups notices per (circle, organisation), in the order they were queued, each group split into
 * messages of at most `maxVersions`. The reason of a message lists the distinct reasons of its notices.
 */
export function groupRecallNotices(notices: readonly RecallNotice[], maxVersions = MAX_RECALL_VERSIONS): RecallGroup[] {
  const groups = new Map<string, RecallNotice[]>();
  for (const notice of notices) {
    const key = groupKey(notice.circleId, notice.organisationId);
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [notice]);
    else list.push(notice);
  }
  const messages: RecallGroup[] = [];
  for (const list of groups.values()) {
    const first = list[0];
    if (first === undefined) continue;
    for (let start = 0; start < list.length; start += maxVersions) {
      const slice = list.slice(start, start + maxVersions);
      const reasons = [...new Set(slice.map((notice) => notice.reason))].join('; ');
      messages.push({
        circleId: first.circleId,
        organisationId: first.organisationId,
        reason: reasons.length <= MAX_RECALL_REASON ? reasons : `${reasons.slice(0, MAX_RECALL_REASON - 1)}…`,
        versions: slice.map((notice) => ({ id: notice.objectId, version: notice.version })),
      });
    }
  }
  return messages;
}

export function createRecallBody(group: RecallGroup, sentAt: string): RecallBody {
  return { circle_id: group.circleId, reason: group.reason, versions: group.versions.map((v) => ({ id: v.id, version: v.version })), sent_at: sentAt };
}

function isTimestamp(value: unknown): value is string {
  return typeof value === 'string' && parseMicroTimestamp(value) !== undefined;
}

function unknownFields(body: Record<string, unknown>, fields: readonly string[], path: string): MessageIssue[] {
  return Object.keys(body)
    .filter((key) => !fields.includes(key))
    .map((key) => ({ path: `${path}.${key.slice(0, 60)}`, message: 'no such field' }));
}

function readVersions(value: unknown, issues: MessageIssue[], field = 'versions', minimum = 1): RecalledVersion[] {
  if (!Array.isArray(value) || value.length < minimum || value.length > MAX_RECALL_VERSIONS) {
    issues.push({ path: `$.body.${field}`, message: `must be a list of ${minimum} to ${MAX_RECALL_VERSIONS} versions` });
    return [];
  }
  const versions: RecalledVersion[] = [];
  value.forEach((item: unknown, index) => {
    const path = `$.body.${field}[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      issues.push({ path, message: 'must be an object {id, version}' });
      return;
    }
    const record = item as Record<string, unknown>;
    issues.push(...unknownFields(record, ['id', 'version'], path));
    const { id, version } = record;
    if (typeof id !== 'string' || checkIdentifier(id) !== IdVerdict.Ok) issues.push({ path: `${path}.id`, message: 'must be a STIX id' });
    if (!isTimestamp(version)) issues.push({ path: `${path}.version`, message: 'must be an RFC 3339 timestamp in UTC' });
    if (typeof id === 'string' && typeof version === 'string') versions.push({ id, version });
  });
  return versions;
}

/** Reads a peer's (untrusted) recall body; never throws. */
export function parseRecallBody(body: JsonObject): Result<RecallBody, MessageIssue[]> {
  const issues = unknownFields(body, ['circle_id', 'reason', 'versions', 'sent_at'], '$.body');
  const { circle_id: circleId, reason, sent_at: sentAt } = body;
  if (typeof circleId !== 'string' || !PLAIN_ID.test(circleId)) issues.push({ path: '$.body.circle_id', message: 'must be a circle id' });
  if (typeof reason !== 'string' || reason === '' || reason.length > MAX_RECALL_REASON) {
    issues.push({ path: '$.body.reason', message: `must be a string of 1 to ${MAX_RECALL_REASON} characters` });
  }
  const versions = readVersions(body['versions'], issues);
  if (!isTimestamp(sentAt)) issues.push({ path: '$.body.sent_at', message: 'must be an RFC 3339 timestamp in UTC' });
  if (issues.length > 0) return err(issues);
  return ok({ circle_id: circleId as string, reason: reason as string, versions, sent_at: sentAt as string });
}

/**
 * Reads a peer's (untrusted) recall acknowledgement body; never throws. `removed` (a count) and
 * `kept` (a list of versions) are checked when present (every build sends them; one build sent
 * neither) and their values ignored: the body read has them 0 and [].
 */
export function parseRecallAckBody(body: JsonObject): Result<RecallAckBody, MessageIssue[]> {
  const issues = unknownFields(body, ['circle_id', 'recipient', 'versions', 'removed', 'kept', 'acknowledged_at'], '$.body');
  const { circle_id: circleId, recipient, removed, acknowledged_at: at } = body;
  if (typeof circleId !== 'string' || !PLAIN_ID.test(circleId)) issues.push({ path: '$.body.circle_id', message: 'must be a circle id' });
  if (!isOrganisationId(recipient)) issues.push({ path: '$.body.recipient', message: 'must be a STIX identity id' });
  const versions = readVersions(body['versions'], issues);
  if ('kept' in body) readVersions(body['kept'], issues, 'kept', 0);
  if ('removed' in body && (typeof removed !== 'number' || !Number.isSafeInteger(removed) || removed < 0)) issues.push({ path: '$.body.removed', message: 'must be a count' });
  if (!isTimestamp(at)) issues.push({ path: '$.body.acknowledged_at', message: 'must be an RFC 3339 timestamp in UTC' });
  if (issues.length > 0) return err(issues);
  return ok({ circle_id: circleId as string, recipient: recipient as string, versions, removed: 0, kept: [], acknowledged_at: at as string });
}

export type RecallAuthority =
  | { readonly kind: 'coordinator' }
  | { readonly kind: 'origin' }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * How this node reads a recall of circle `circleId` from `sender`, on facts that do not depend on
 * what it holds: a coordinator of the circle (one that has not left it) recalls as coordinator; any
 * other member as the origin of what it names, which decideRecallAction checks version by version.
 * A circle this node does not have and a sender that is not a member of it are refused in the same
 * words, so that the answer does not tell which circles exist here. Nothing a recall names is
 * looked at here: whether the sender originated or this node holds a version never turns an answer
 * into a refusal.
 */
export function decideRecallAuthority(circleId: string, circle: Circle | undefined, sender: string): RecallAuthority {
  const member = circle?.members.find((candidate) => candidate.organisationId === sender);
  if (circle === undefined || member === undefined) return { kind: 'refused', reason: `this node shares no circle ${circleId} with ${sender}` };
  if (member.role === 'coordinator' && member.leftAt === undefined) return { kind: 'coordinator' };
  return { kind: 'origin' };
}

/** What a version a recall names is, at this node, for deciding what the recall does to it. */
export interface RecalledVersionFacts {
  /**
   * The organisation that originated the object here, if known: the signer of the earliest version
   * this node received (FederationStore.originSignersOf).
   */
  readonly origin: string | undefined;
  /**
   * The version is the home organisation's own whatever its provenance says: this node signed it as
   * stored (a kept signature, variant ''), or its created_by_ref is the home organisation.
   */
  readonly homeOwn: boolean;
  /**
   * It came into the circle's own collection here from another organisation (a contribution or a
   * provenance row in that collection). A partner sending again a version the home organisation had
   * put there itself records neither (applySyncBatch, addObjects): it stays the home organisation's.
   */
  readonly receivedThroughCircle: boolean;
}

/**
 * What an accepted recall does to one version it names: 'remove' it from the circle's collection, or
 * 'leave' it. The home organisation's own versions stay, whoever asks; so does anything that did not
 * come into the circle's collection from another organisation (what the home organisation put there,
 * even a version it had received elsewhere). Of the rest, a coordinator takes back any, another
 * member only the versions of objects it originated (a creator's revocation). Whatever the answer,
 * the acknowledgement is the same (RecallAckBody).
 */
export function decideRecallAction(authority: 'coordinator' | 'origin', sender: string, homeOrganisationId: string, facts: RecalledVersionFacts): 'remove' | 'leave' {
  if (facts.homeOwn || facts.origin === homeOrganisationId) return 'leave';
  if (!facts.receivedThroughCircle) return 'leave';
  if (authority === 'coordinator') return 'remove';
  return facts.origin === sender ? 'remove' : 'leave';
}
