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
 * The body of a 'recall-ack': the receiving node is done with the notice — it holds none of the
 * named versions it was asked for and the sender may recall. It confirms the notice as a whole and
 * says nothing of what the node held, removed or kept (a recall may name any id, a deterministic SCO
 * id or one learnt elsewhere: an answer that differed with what is held would tell the sender what
 * this node holds). `versions` repeats the versions the recall named.
 */
export interface RecallAckBody extends JsonObject {
  readonly circle_id: string;
  readonly recipient: string;
  readonly versions: RecalledVersion[];
  readonly acknowledged_at: string;
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
 * Reads a peer's (untrusted) recall acknowledgement body; never throws. Nodes of earlier builds also
 * sent `removed` (a count) and `kept` (a list of versions): they are still read, and ignored.
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
  return ok({ circle_id: circleId as string, recipient: recipient as string, versions, acknowledged_at: at as string });
}

export type RecallAuthority =
  | { readonly kind: 'coordinator' }
  | { readonly kind: 'origin' }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * May `sender` recall these versions from this node's copy of the circle? A coordinator of the
 * circle (one that has not left it) may recall what came into the circle's collection here from
 * another organisation; any other organisation only versions of objects it originated (`origins`:
 * id → the organisation that signed the earliest version this node received), which is a creator's
 * revocation. Which of the named versions a recall then acts on is decideRecallAction's.
 */
export function decideRecallAuthority(
  circle: Circle | undefined,
  sender: string,
  versions: readonly RecalledVersion[],
  origins: ReadonlyMap<string, string>,
): RecallAuthority {
  if (circle === undefined) return { kind: 'refused', reason: 'this node has no such circle' };
  const member = circle.members.find((candidate) => candidate.organisationId === sender);
  if (member === undefined) return { kind: 'refused', reason: `${sender} is not a member of circle ${circle.id} here` };
  if (member.role === 'coordinator' && member.leftAt === undefined) return { kind: 'coordinator' };
  const foreign = versions.find((version) => origins.get(version.id) !== sender);
  if (foreign === undefined) return { kind: 'origin' };
  return {
    kind: 'refused',
    reason: `${sender} is not a coordinator of circle ${circle.id} here, and did not originate ${foreign.id}`,
  };
}

/** What a version a recall names is, at this node, for deciding what the recall does to it. */
export interface RecalledVersionFacts {
  /** The organisation that originated the object here (see decideRecallAuthority), if known. */
  readonly origin: string | undefined;
  /** It came to this node from another organisation (a peer, a partner's POST, a signed file), through any collection. */
  readonly received: boolean;
  /** It came into the circle's own collection here from another organisation. */
  readonly receivedThroughCircle: boolean;
}

/**
 * What an accepted recall does to one version it names: 'remove' it from the circle's collection, or
 * 'leave' it. A recall takes back copies the sender may recall — for a coordinator, what came into
 * the circle here from another organisation (not what this node's own organisation put there, even a
 * version it had received elsewhere); for an origin, received copies of its own objects — and never
 * the home organisation's own objects, whoever asks. Whatever the answer, the acknowledgement is the
 * same (RecallAckBody).
 */
export function decideRecallAction(authority: 'coordinator' | 'origin', homeOrganisationId: string, facts: RecalledVersionFacts): 'remove' | 'leave' {
  if (facts.origin === homeOrganisationId) return 'leave';
  if (authority === 'coordinator') return facts.receivedThroughCircle ? 'remove' : 'leave';
  return facts.received ? 'remove' : 'leave';
}
