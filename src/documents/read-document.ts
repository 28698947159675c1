// One entry point for every report format: sniff what the bytes are (content first, the file
// name's extension second), pick the reader, and enforce the limits that hold for any document.
// Readers: plain text and Markdown (as they are), HTML (read-html.ts), PDF (read-pdf.ts), e-mail
// (read-email.ts, whose attachments come back here).
import { extname } from 'node:path';
import { EntenteError } from '../errors/entente-error.ts';
import { DEFAULT_DOCUMENT_LIMITS } from './document-limits.ts';
import type { DocumentLimits } from './document-limits.ts';
import { invisibleWarning } from './document-text.ts';
import type { DocumentFormat, DocumentText } from './document-text.ts';
import { invisibleInWords } from '../extract/invisible.ts';
import { readEmail } from './read-email.ts';
import type { ReadContext } from './read-email.ts';
import { readHtml } from './read-html.ts';
import { readPdf } from './read-pdf.ts';

export type SniffedFormat = DocumentFormat | { readonly unsupported: string };

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  if (bytes.length < at + signature.length) return false;
  for (let i = 0; i < signature.length; i++) if (bytes[at + i] !== signature[i]) return false;
  return true;
}

const BINARY_SIGNATURES: readonly (readonly [readonly number[], string])[] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive (or an Office document); archives are not opened'],
  [[0x50, 0x4b, 0x05, 0x06], 'an empty ZIP archive'],
  [[0x1f, 0x8b], 'a gzip archive; archives are not opened'],
  [[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], 'a 7-Zip archive; archives are not opened'],
  [[0x52, 0x61, 0x72, 0x21, 0x1a, 0x07], 'a RAR archive; archives are not opened'],
  [[0x42, 0x5a, 0x68], 'a bzip2 archive; archives are not opened'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'an xz archive; archives are not opened'],
  [[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], 'an OLE compound file (.doc, .xls or Outlook .msg); save it as PDF, HTML or .eml first'],
  [[0x7b, 0x5c, 0x72, 0x74, 0x66], 'an RTF document; save it as PDF or text first'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'a JPEG image'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image'],
  [[0x4d, 0x5a], 'a Windows executable'],
  [[0x7f, 0x45, 0x4c, 0x46], 'an ELF executable'],
];

const EMAIL_HEADER = /^(?:from|to|cc|subject|date|received|return-path|message-id|mime-version|delivered-to|reply-to|sender|x-[a-z0-9-]+|dkim-signature|arc-[a-z-]+|authentication-results|content-type|thread-topic|in-reply-to|references):/i;
const KEY_HEADER = /^(?:from|to|subject|date|received|message-id|mime-version):/i;

/** Whether the start of `head` looks like an RFC 5322 message: header lines, several of the usual ones. */
function looksLikeEmail(head: string): boolean {
  const lines = head.split(/\r?\n/);
  let key = 0;
  let i = 0;
  if (lines[0]?.startsWith('From ') === true) i = 1; // mbox separator line
  for (; i < lines.length && i < 80; i++) {
    const line = lines[i] ?? '';
    if (line === '') return key >= 2;
    if (/^[ \t]/.test(line)) continue; // folded header
    if (!/^[!-9;-~]+:/.test(line)) return false;
    if (KEY_HEADER.test(line)) key++;
    else if (!EMAIL_HEADER.test(line) && i === 0) return false;
  }
  return key >= 3;
}

function looksLikeHtml(head: string): boolean {
  const t = head.replace(/^\ufeff/, '').trimStart().slice(0, 512).toLowerCase();
  return /^<!doctype html|^<html[\s>]|^<head[\s>]|^<body[\s>]|^<!--/.test(t) || (t.startsWith('<') && /<html[\s>]/.test(head.slice(0, 4096).toLowerCase()));
}

/** What the bytes are, from their content and (second) the file name. */
export function sniffFormat(bytes: Uint8Array, fileName: string): SniffedFormat {
  const ext = extname(fileName).toLowerCase();
  // %PDF- may be preceded by junk in the first KiB (readers accept that, so must we).
  const head = Buffer.from(bytes.subarray(0, 8192)).toString('latin1');
  if (head.slice(0, 1024).includes('%PDF-')) return 'pdf';
  for (const [signature, what] of BINARY_SIGNATURES) if (startsWith(bytes, signature)) return { unsupported: what };
  if (ext === '.pdf') return { unsupported: 'named .pdf but has no %PDF- header (truncated or not a PDF)' };
  if (looksLikeHtml(head)) return 'html';
  if (ext === '.eml' || ext === '.msg' || ext === '.mbox' || looksLikeEmail(head)) {
    return ext === '.msg' && !looksLikeEmail(head) ? { unsupported: 'an Outlook .msg that is not a MIME message' } : 'email';
  }
  if (ext === '.html' || ext === '.htm' || ext === '.xhtml') return 'html';
  // Text: no NUL bytes (UTF-16 with a byte-order mark is decoded below).
  const utf16 = startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff]);
  if (!utf16 && bytes.subarray(0, 65536).includes(0)) return { unsupported: 'binary content (holds NUL bytes), not a text report' };
  return ext === '.md' || ext === '.markdown' ? 'markdown' : 'text';
}

function charsetOf(head: string): string | null {
  const m = /<meta[^>]{0,200}charset\s*=\s*["']?([\w-]{1,40})/i.exec(head);
  return m?.[1]?.toLowerCase() ?? null;
}

/** Decodes text bytes: byte-order mark, else a declared HTML charset, else UTF-8. */
export function decodeText(bytes: Uint8Array, htmlHead?: string): string {
  if (startsWith(bytes, [0xef, 0xbb, 0xbf])) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (startsWith(bytes, [0xff, 0xfe])) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (startsWith(bytes, [0xfe, 0xff])) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const declared = htmlHead === undefined ? null : charsetOf(htmlHead);
  if (declared !== null && declared !== 'utf-8' && declared !== 'utf8') {
    try {
      return new TextDecoder(declared).decode(bytes);
    } catch {
      // an unknown label: fall back to UTF-8
    }
  }
  return new TextDecoder('utf-8').decode(bytes);
}

function plainText(text: string, format: 'text' | 'markdown'): DocumentText {
  return { format, text, segments: [{ start: 0, end: text.length, sourceStart: 0, sourceEnd: text.length }], warnings: [] };
}

/**
 * A reader's failure as an error of this file: a coded one as it is, any other (a bug, or input no
 * limit foresaw) as ENT_EXTRACT_MALFORMED, so that the caller goes on with its other files.
 */
export function readFailure(error: unknown, name: string): EntenteError {
  if (error instanceof EntenteError) return error;
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new EntenteError('ENT_EXTRACT_MALFORMED', `${name}: the reader failed on this file (${what})`, { file: name }, { cause: error });
}

async function readAny(bytes: Uint8Array, name: string, context: ReadContext): Promise<DocumentText> {
  try {
    return await readOne(bytes, name, context);
  } catch (error) {
    throw readFailure(error, name);
  }
}

async function readOne(bytes: Uint8Array, name: string, context: ReadContext): Promise<DocumentText> {
  const { limits } = context;
  if (bytes.byteLength > limits.maxBytes) {
    throw new EntenteError('ENT_INPUT_TOO_LARGE', `${name}: ${bytes.byteLength} bytes is more than the ${limits.maxBytes} a report may have`, { file: name });
  }
  const format = sniffFormat(bytes, name);
  if (typeof format !== 'string') {
    throw new EntenteError('ENT_EXTRACT_UNSUPPORTED_FORMAT', `${name}: ${format.unsupported}`, { file: name });
  }
  let doc: DocumentText;
  switch (format) {
    case 'pdf':
      doc = await readPdf(bytes, name, limits);
      break;
    case 'email':
      doc = await readEmail(bytes, name, context);
      break;
    case 'html': {
      const head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1');
      doc = readHtml(decodeText(bytes, head), { name, limits });
      break;
    }
    default:
      doc = plainText(decodeText(bytes), format);
  }
  if (doc.text.length > limits.maxChars) {
    throw new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${name}: more than ${limits.maxChars} characters of text`, { file: name });
  }
  // Once, on the whole text (an e-mail's holds its attachments'); an HTML page's text has none left
  // (its reader removed them, and named the words that held them).
  if (context.depth === 1 && doc.format !== 'html') {
    const invisible = invisibleInWords(doc.text);
    if (invisible.count > 0) doc = { ...doc, warnings: [...doc.warnings, invisibleWarning(name, invisible.count, invisible.words)] };
  }
  return doc;
}

/**
 * Reads one report of any supported format. Rejects with an EntenteError whose message starts with
 * `name`: ENT_EXTRACT_UNSUPPORTED_FORMAT, ENT_EXTRACT_ENCRYPTED, ENT_EXTRACT_MALFORMED,
 * ENT_EXTRACT_LIMIT_EXCEEDED or ENT_INPUT_TOO_LARGE.
 */
export function readDocument(bytes: Uint8Array, name: string, limits: Partial<DocumentLimits> = {}): Promise<DocumentText> {
  const context: ReadContext = {
    limits: { ...DEFAULT_DOCUMENT_LIMITS, ...limits },
    depth: 1,
    budget: { parts: 0, bytes: 0, delimiters: 0 },
    readNested: readAny,
  };
  return readAny(bytes, name, context);
}
