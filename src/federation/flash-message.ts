// Flash messages between the nodes of a circle (docs/federation.md, "Flash messages and recalls"):
// the bodies of the signed 'flash', 'flash-receipt' and 'flash-ack' messages, how a human's text is
// checked before it is signed, and how a peer's body is read. Pure: no clock, no ids, no I/O.
import canonicalize from 'canonicalize';
import { v5 as uuidV5 } from 'uuid';
import { err, ok, type Result } from '../errors/result.ts';
import { parseMicroTimestamp } from '../stix/micro-timestamp.ts';
import type { JsonObject } from '../stix/types.ts';
import { checkIdentifier, idHasType, IdVerdict } from '../stix/validate/lexical.ts';
import { isOrganisationId } from './node-key.ts';
import type { MessageIssue } from './signed-message.ts';

/** The longest flash text, in characters (Unicode code points). */
export const MAX_FLASH_TEXT = 4000;

const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._:~-]{0,199}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// Control characters other than tab, line feed and carriage return have no place in a warning a
// human reads on a console; a peer's text containing them is refused, not cleaned.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The body of a 'flash' message, as it travels (snake_case). */
export interface FlashBody extends JsonObject {
  readonly id: string;
  readonly circle_id: string;
  readonly sender: string;
  readonly text: string;
  readonly indicator_id?: string;
  readonly sent_at: string;
}

/** The body of a 'flash-receipt': the receiving node stored the flash and showed it. */
export interface FlashReceiptBody extends JsonObject {
  readonly flash_id: string;
  readonly recipient: string;
  readonly received_at: string;
}

/** The body of a 'flash-ack': a human at the receiving organisation acknowledged the flash. */
export interface FlashAckBody extends JsonObject {
  readonly flash_id: string;
  readonly recipient: string;
  readonly acknowledged_by: string;
  readonly acknowledged_at: string;
}

/** The text's length as a human counts it (code points, so an emoji is one character). */
export function flashTextLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** Why a flash text cannot be sent, or undefined when it can. */
export function flashTextProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return 'the text must be a string';
  if (text.trim() === '') return 'the text is empty';
  const length = flashTextLength(text);
  if (length > MAX_FLASH_TEXT) return `the text has ${length} characters; at most ${MAX_FLASH_TEXT}`;
  if (CONTROL.test(text)) return 'the text holds control characters (only tab and line breaks are allowed)';
  if (LONE_SURROGATE.test(text)) return 'the text holds a lone surrogate (not valid Unicode)';
  return undefined;
}

/** A well-formed STIX indicator id (`indicator--<RFC 4122 uuid>`). */
export function isIndicatorId(value: unknown): value is string {
  return typeof value === 'string' && checkIdentifier(value) === IdVerdict.Ok && idHasType(value, 'indicator');
}

export function isFlashId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

function isTimestamp(value: unknown): value is string {
  return typeof value === 'string' && parseMicroTimestamp(value) !== undefined;
}

// The UUIDv5 namespace of flash ids (itself a random v4 uuid, fixed forever: changing it changes every id).
const FLASH_ID_NAMESPACE = '5f0c6f52-2d7e-4f4b-9a52-8c1f3e0b7d61';

/**
 * A flash's id is derived from what it says (UUIDv5 over the RFC 8785 JSON of every other field),
 * so that an id names one sender's one message: a member who saw a flash cannot reuse its id for a
 * message of its own and so make the genuine one look like a duplicate elsewhere (id squatting).
 */
export function flashIdOf(fields: Omit<FlashBody, 'id'>): string {
  const canonical = canonicalize({
    circle_id: fields.circle_id,
    sender: fields.sender,
    text: fields.text,
    ...(fields.indicator_id === undefined ? {} : { indicator_id: fields.indicator_id }),
    sent_at: fields.sent_at,
  });
  if (canonical === undefined) throw new TypeError('a flash body has no JSON form');
  return uuidV5(canonical, FLASH_ID_NAMESPACE);
}

/** The body the sender signs; its id is derived from its content. */
export function createFlashBody(input: {
  readonly circleId: string;
  readonly sender: string;
  readonly text: string;
  readonly indicatorId?: string | undefined;
  readonly sentAt: string;
}): FlashBody {
  const fields = {
    circle_id: input.circleId,
    sender: input.sender,
    text: input.text,
    ...(input.indicatorId === undefined ? {} : { indicator_id: input.indicatorId }),
    sent_at: input.sentAt,
  };
  return { id: flashIdOf(fields), ...fields };
}

function unknownFields(body: JsonObject, fields: readonly string[]): MessageIssue[] {
  return Object.keys(body)
    .filter((key) => !fields.includes(key))
    .map((key) => ({ path: `$.body.${key.slice(0, 60)}`, message: 'no such field' }));
}

const FLASH_FIELDS = ['id', 'circle_id', 'sender', 'text', 'indicator_id', 'sent_at'];

/** Reads a peer's (untrusted) flash body; never throws. */
export function parseFlashBody(body: JsonObject): Result<FlashBody, MessageIssue[]> {
  const issues = unknownFields(body, FLASH_FIELDS);
  const { id, circle_id: circleId, sender, text, indicator_id: indicatorId, sent_at: sentAt } = body;
  if (!isFlashId(id)) issues.push({ path: '$.body.id', message: 'must be a UUID in lower case' });
  if (typeof circleId !== 'string' || !PLAIN_ID.test(circleId)) issues.push({ path: '$.body.circle_id', message: 'must be a circle id' });
  if (!isOrganisationId(sender)) issues.push({ path: '$.body.sender', message: 'must be a STIX identity id' });
  const textProblem = flashTextProblem(text);
  if (textProblem !== undefined) issues.push({ path: '$.body.text', message: textProblem });
  if (indicatorId !== undefined && !isIndicatorId(indicatorId)) issues.push({ path: '$.body.indicator_id', message: 'must be a STIX indicator id' });
  if (!isTimestamp(sentAt)) issues.push({ path: '$.body.sent_at', message: 'must be an RFC 3339 timestamp in UTC' });
  if (issues.length > 0) return err(issues);
  const flash = body as FlashBody;
  if (flash.id !== flashIdOf(flash)) issues.push({ path: '$.body.id', message: 'is not the id derived from the flash\'s content (UUIDv5; docs/federation.md)' });
  if (issues.length > 0) return err(issues);
  return ok(flash);
}

function parseFlashReply<B extends JsonObject>(body: JsonObject, fields: readonly string[], timestamps: readonly string[]): Result<B, MessageIssue[]> {
  const issues = unknownFields(body, fields);
  if (!isFlashId(body['flash_id'])) issues.push({ path: '$.body.flash_id', message: 'must be a UUID in lower case' });
  if (!isOrganisationId(body['recipient'])) issues.push({ path: '$.body.recipient', message: 'must be a STIX identity id' });
  for (const field of timestamps) {
    if (!isTimestamp(body[field])) issues.push({ path: `$.body.${field}`, message: 'must be an RFC 3339 timestamp in UTC' });
  }
  for (const field of fields) {
    if (!timestamps.includes(field) && field !== 'flash_id' && field !== 'recipient') {
      const value = body[field];
      if (typeof value !== 'string' || value === '' || value.length > 200) issues.push({ path: `$.body.${field}`, message: 'must be a string of 1 to 200 characters' });
    }
  }
  if (issues.length > 0) return err(issues);
  return ok(body as B);
}

export function parseFlashReceiptBody(body: JsonObject): Result<FlashReceiptBody, MessageIssue[]> {
  return parseFlashReply(body, ['flash_id', 'recipient', 'received_at'], ['received_at']);
}

export function parseFlashAckBody(body: JsonObject): Result<FlashAckBody, MessageIssue[]> {
  return parseFlashReply(body, ['flash_id', 'recipient', 'acknowledged_by', 'acknowledged_at'], ['acknowledged_at']);
}

/** Issues as one line for an error message. */
export function describeIssues(issues: readonly MessageIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
}

/**
 * When a failed delivery is tried again: after `failures` failed attempts (1 or more), the last at
 * `failedAt` (ms), it waits `delaysMs[failures - 1]`; once the delays are used up, never.
 */
export function nextRetryAt(failures: number, failedAt: number, delaysMs: readonly number[]): number | undefined {
  const delay = delaysMs[failures - 1];
  return delay === undefined ? undefined : failedAt + delay;
}
