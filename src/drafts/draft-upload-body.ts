// The body of POST /api/drafts, read into the upload it carries. Pure, and free of the HTTP server,
// so that the draft worker thread can run it (DraftWorkerPool.proposeBody): a report of 48 MB comes
// as 64 MB of JSON, and decoding, parsing, checking and un-base64-ing it held the event loop for
// well over a second. The route hands the raw bytes over; the answers (codes, fields, places) are
// those the node's JSON body parser and the route gave before.
import { isUtf8 } from 'node:buffer';
import { badField, fieldsOf, optionalString } from '../api/json-body.ts';
import { DEFAULT_DOCUMENT_LIMITS } from '../documents/document-limits.ts';
import { EntenteError } from '../errors/entente-error.ts';
import { parseJson } from '../stix/parse-json.ts';
import type { DraftUpload } from './draft-operations.ts';

const MAX_FILE_NAME_CHARS = 255;
const MAX_PUBLISHERS = 50;
// One character class and the padding, with the length checked apart: groups of four under a
// quantifier overflowed the regular expression stack from about 8 MB of base64 (a 6 MB PDF: 500).
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

/** RFC 4648 base64 with padding and no line breaks. */
function isBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64_CHARS.test(text);
}

/** A POST /api/drafts body as it came, with what reading it needs. */
export interface DraftUploadBody {
  /** The body's bytes (UTF-8 JSON). */
  readonly bytes: Uint8Array;
  /** Who uploads (the token's name): DraftUpload.createdBy. */
  readonly createdBy: string;
  /** The node's JSON limits (ENTENTE_MAX_JSON_DEPTH, ENTENTE_MAX_BODY_BYTES), as for any body. */
  readonly maxJsonDepth: number;
  readonly maxBodyBytes: number;
}

/**
 * The upload a raw body carries. Throws what the node's JSON body parser throws for a text that is
 * not JSON within its limits (ENT_INPUT_MALFORMED_JSON with line and column, ENT_INPUT_TOO_DEEP,
 * ENT_INPUT_TOO_LARGE; ENT_INPUT_MALFORMED_JSON with the offset of the first bad byte for a body
 * that is not UTF-8), then what draftUploadOf throws.
 */
export function parseDraftUploadBody(body: DraftUploadBody): DraftUpload {
  // JSON between systems is UTF-8 (RFC 8259, 8.1). Decoded leniently, each bad byte became U+FFFD
  // in the report's text: a draft of a text the sender never wrote (its sha256 that of the altered
  // text), and nothing said so. The bytes are at hand here, so they are checked (natively; the
  // place is looked for only in a body refused).
  if (!isUtf8(body.bytes)) {
    const offset = firstInvalidUtf8Byte(body.bytes);
    throw new EntenteError('ENT_INPUT_MALFORMED_JSON', `the body is not UTF-8 text: the byte at offset ${offset} starts no well-formed UTF-8 character (send JSON as UTF-8)`, { offset });
  }
  const text = Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength).toString('utf8');
  const result = parseJson(text, { maxDepth: body.maxJsonDepth, maxBytes: body.maxBodyBytes });
  if (!result.ok) {
    throw new EntenteError(result.error.code, result.error.message, {
      ...(result.error.line === undefined ? {} : { line: result.error.line }),
      ...(result.error.column === undefined ? {} : { column: result.error.column }),
    });
  }
  return draftUploadOf(result.value, body.createdBy);
}

/**
 * Where the first byte that is not part of a well-formed UTF-8 character is (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), for a text isUtf8 refused.
 */
function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  let at = 0;
  while (at < bytes.length) {
    const lead = bytes[at] as number;
    if (lead < 0x80) {
      at++;
      continue;
    }
    const more = lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : 0;
    if (more === 0) return at;
    // The second byte's range excludes overlong forms (E0, F0), surrogates (ED) and code points past U+10FFFF (F4).
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    const second = bytes[at + 1];
    if (second === undefined || second < low || second > high) return at;
    for (let k = 2; k <= more; k++) {
      const next = bytes[at + k];
      if (next === undefined || next < 0x80 || next > 0xbf) return at;
    }
    at += more + 1;
  }
  return bytes.length;
}

/**
 * The upload a parsed body carries: `{"filename", "content_base64"}` or `{"text"}`, and optionally
 * `publisher_domains`. Throws ENT_INPUT_NOT_ENVELOPE (not an object), ENT_HTTP_BAD_FIELD (an unknown
 * field, a field of the wrong type or size, neither or both of the report's fields, no base64, an
 * empty report).
 */
export function draftUploadOf(parsed: unknown, createdBy: string): DraftUpload {
  const body = fieldsOf(parsed, ['filename', 'content_base64', 'text', 'publisher_domains']);
  const fileName = optionalString(body, 'filename', MAX_FILE_NAME_CHARS);
  const content = optionalString(body, 'content_base64', Math.ceil(DEFAULT_DOCUMENT_LIMITS.maxBytes / 3) * 4);
  const text = optionalString(body, 'text', DEFAULT_DOCUMENT_LIMITS.maxBytes);
  if ((content === undefined) === (text === undefined)) throw badField('content_base64', 'send the report as exactly one of "content_base64" (with "filename") or "text"');
  if (content !== undefined && fileName === undefined) throw badField('filename', '"filename" is required with "content_base64"');
  if (content !== undefined && !isBase64(content)) throw badField('content_base64', '"content_base64" is not base64 (RFC 4648, with padding, no line breaks)');
  const publishers = Object.hasOwn(body, 'publisher_domains') ? body['publisher_domains'] : undefined;
  if (publishers !== undefined && (!Array.isArray(publishers) || publishers.length > MAX_PUBLISHERS || !publishers.every((domain) => typeof domain === 'string' && domain.length <= 253))) {
    throw badField('publisher_domains', `"publisher_domains" must be a list of at most ${MAX_PUBLISHERS} domain names`);
  }
  const bytes = content !== undefined ? Buffer.from(content, 'base64') : Buffer.from(text ?? '', 'utf8');
  if (bytes.length === 0) throw badField(content !== undefined ? 'content_base64' : 'text', 'the report is empty');
  return {
    fileName: fileName ?? 'report.txt',
    bytes,
    createdBy,
    ...(publishers === undefined ? {} : { publisherDomains: publishers as string[] }),
  };
}
