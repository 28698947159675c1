// E-mail (.eml, RFC 5322 / MIME) → text: the headers that carry indicators (senders, reply
// addresses, relays in Received lines, originating IPs, subject), the body (the plain-text part,
// or the HTML part read by read-html.ts), and every attachment read recursively through the same
// readers (a forwarded phishing message, the PDF report attached to an advisory). Archives are not
// opened; nesting, the number of parts and the bytes decoded are bounded for the whole message, so
// a message bomb (deep nesting, thousands of parts) is refused rather than expanded.
import PostalMime from 'postal-mime';
import type { Attachment, Email } from 'postal-mime';
import { EntenteError } from '../errors/entente-error.ts';
import type { DocumentLimits } from './document-limits.ts';
import { TextBuilder } from './document-text.ts';
import type { DocumentText, PageChrome } from './document-text.ts';
import { cutChrome, MAX_CHROME_CHARS, readHtml } from './read-html.ts';

/** Shared across one top-level document and everything nested in it. */
export interface ReadContext {
  readonly limits: DocumentLimits;
  /** 1 for the file itself, 2 for an attachment of it, … */
  readonly depth: number;
  readonly budget: { parts: number; bytes: number; delimiters: number };
  /** Reads nested content through the format dispatcher (read-document.ts). */
  readonly readNested: (bytes: Uint8Array, name: string, context: ReadContext) => Promise<DocumentText>;
}

const HEADERS = [
  'from', 'sender', 'reply-to', 'return-path', 'to', 'cc', 'subject', 'date',
  'x-originating-ip', 'x-sender-ip', 'x-mailer', 'user-agent', 'received',
];

function headerBlock(email: Email, out: TextBuilder): void {
  for (const key of HEADERS) {
    for (const h of email.headers) {
      if (h.key !== key) continue;
      out.add(`${h.originalKey}: ${h.value.replace(/\s+/g, ' ').trim()}`, { part: 'headers' });
      out.separator('\n');
    }
  }
}

function describe(a: Attachment, n: number): string {
  return `attachment ${n} (${a.filename ?? a.mimeType})`;
}

function bytesOf(content: Attachment['content']): Uint8Array {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  return content instanceof Uint8Array ? content : new Uint8Array(content);
}

/**
 * Lines of `bytes` that start with "--", counted up to `max + 1`. Every MIME part starts after such a
 * line (its delimiter), so this bounds the parts the parser would build, whatever boundaries the
 * message declares (RFC 2231 may split their names across parameters): an over-count, never under.
 */
export function delimiterLines(bytes: Uint8Array, max: number): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = buf[0] === 0x2d && buf[1] === 0x2d ? 1 : 0;
  for (let at = buf.indexOf('\n--'); at >= 0 && n <= max; at = buf.indexOf('\n--', at + 3)) n++;
  return n;
}

/**
 * Adds the page chrome of a part (an HTML body or attachment, read-html.ts) to the message's, within
 * MAX_CHROME_CHARS for the whole message: each page is bounded alone, and a message of 64 HTML
 * attachments must not carry 64 times as much chrome to be checked. A page past the budget is kept
 * cut (truncated, between words), or dropped once no word of it fits.
 */
function addChrome(into: PageChrome[], pieces: readonly PageChrome[] | undefined): void {
  for (const piece of pieces ?? []) {
    const room = MAX_CHROME_CHARS - into.reduce((n, p) => n + p.text.length, 0);
    if (room <= 0) return;
    if (piece.text.length <= room) {
      into.push(piece);
      continue;
    }
    const text = cutChrome(piece.text, room);
    if (text.trim() === '') return;
    into.push({ ...piece, text, kinds: piece.kinds.filter((k) => k.at < text.length), truncated: true });
  }
}

export async function readEmail(bytes: Uint8Array, name: string, context: ReadContext): Promise<DocumentText> {
  const { limits } = context;
  // Before the parser sees the message: it builds every part, attachment or not, and the limits on
  // attachments below are checked on what it built.
  context.budget.delimiters += delimiterLines(bytes, limits.maxMimeParts - context.budget.delimiters);
  if (context.budget.delimiters > limits.maxMimeParts) {
    throw new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${name}: more than ${limits.maxMimeParts} MIME part delimiters (lines starting with "--") in all (a message bomb?)`, { file: name });
  }
  let email: Email;
  try {
    email = await PostalMime.parse(bytes, {
      forceRfc822Attachments: true,
      attachmentEncoding: 'arraybuffer',
      maxNestingDepth: 64,
      maxHeadersSize: 1024 * 1024,
    });
  } catch (error) {
    const message = (error as Error).message;
    if (/nest|depth|too large|size/i.test(message)) {
      throw new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${name}: the message goes past a parsing limit (${message})`, { file: name });
    }
    throw new EntenteError('ENT_EXTRACT_MALFORMED', `${name}: not a readable e-mail message (${message})`, { file: name });
  }
  const out = new TextBuilder();
  const warnings: string[] = [];
  const chrome: PageChrome[] = [];
  headerBlock(email, out);
  out.breakLines(2);
  if (email.text !== undefined && email.text.trim() !== '') {
    out.add(email.text, { part: 'body' });
  } else if (email.html !== undefined) {
    const body = readHtml(email.html, { name: `${name} (HTML body)`, limits: context.limits });
    out.addDocument(body, 'body');
    // Hidden text skipped, invisible characters in indicators: the analyst is told, as for a page.
    warnings.push(...body.warnings);
    // Its chrome, kept apart from the text as for a page (never proposed); named "… (HTML body)".
    addChrome(chrome, body.chrome);
  }
  let n = 0;
  for (const a of email.attachments) {
    n++;
    const label = describe(a, n);
    const content = bytesOf(a.content);
    if (a.mimeType.startsWith('image/') || a.mimeType.startsWith('audio/') || a.mimeType.startsWith('video/')) {
      if (a.related !== true) warnings.push(`${name}: ${label} not read (${a.mimeType})`);
      continue;
    }
    context.budget.parts++;
    context.budget.bytes += content.byteLength;
    if (context.budget.parts > limits.maxParts) {
      throw new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${name}: more than ${limits.maxParts} attachments in all (a message bomb?)`, { file: name });
    }
    if (context.budget.bytes > limits.maxTotalBytes) {
      throw new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${name}: attachments decode to more than ${limits.maxTotalBytes} bytes in all`, { file: name });
    }
    if (context.depth + 1 > limits.maxDepth) {
      throw new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${name}: attachments nested more than ${limits.maxDepth} deep (a message bomb?)`, { file: name });
    }
    const nestedName = `${name} › ${a.filename ?? `part ${n}`}`;
    try {
      const doc = await context.readNested(content, nestedName, { ...context, depth: context.depth + 1 });
      out.breakLines(2);
      out.add(`--- ${label} ---`, { part: label });
      out.separator('\n');
      out.addDocument(doc, label);
      warnings.push(...doc.warnings);
      addChrome(chrome, doc.chrome);
    } catch (error) {
      // A bomb anywhere refuses the whole message; an attachment that is merely unreadable
      // (encrypted, corrupt, a format we do not read) is reported and the rest is still read.
      if (!(error instanceof EntenteError) || error.code === 'ENT_EXTRACT_LIMIT_EXCEEDED') throw error;
      warnings.push(`${label} not read: ${error.message}`);
    }
  }
  return { format: 'email', text: out.toString(), segments: out.segments, warnings, ...(chrome.length === 0 ? {} : { chrome }) };
}
