import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { DEFAULT_MAX_DEPTH, parseJsonNoting } from './parse-json.ts';
import { readDocument, type ReadResult } from './read-documents.ts';
import type { JsonObject, JsonValue } from './types.ts';

/**
 * A bundle or TAXII envelope read from its bytes in pieces, without ever holding the whole document as
 * one string: for ATT&CK Enterprise (50 MB) making that string cost more than parsing it (about
 * 400 ms of the 600 ms `readFileSync(path, 'utf8')` took, in allocation and page faults, against
 * 40 ms to decode the same bytes object by object).
 *
 * The bytes are split at the elements of the top-level `objects` array; each element is parsed on its
 * own, the rest of the document (the "skeleton", with a placeholder where the array was) is parsed
 * last, and the two are put back together for {@link readDocument}. The document is therefore read
 * exactly as `readJsonText` reads it; every byte is checked by one of those parses or by the
 * separator checks between elements. Anything this reader does not handle the same way (malformed
 * or too deep JSON, an unsafe number, a repeated `objects` key, an element that is not an object,
 * a document that is no bundle or envelope, a skeleton over 16 MiB) gives `undefined`, and the caller
 * reads the whole text as before, so that what it reports stays exactly what it reported.
 */
/** Fills `into` from `offset` with at most `length` bytes; 0 at the end. */
export type ReadBytes = (into: Buffer, offset: number, length: number) => number;

export function readContainer(read: ReadBytes, options: { readonly maxDepth?: number } = {}): ReadResult | undefined {
  const scan = new ContainerScan(options.maxDepth ?? DEFAULT_MAX_DEPTH);
  for (;;) {
    const more = scan.readMore(read);
    if (more === 'refused') return undefined;
    if (more === 'end') return scan.finish();
  }
}

/**
 * The elements of a bundle file's `objects` array as the reading meets them, a piece of the file at a
 * time, each parsed on its own as {@link readContainer} parses it: each value yielded holds the elements
 * the last piece completed (often none). The return value says how the document ended: true when it
 * proved to be a STIX 2.1 bundle (`"type": "bundle"`, no `spec_version` or `"2.1"`, one `objects`
 * member, every byte well-formed), whose elements are then read with no bundle version, as
 * readDocument reads them; false as soon as anything shows otherwise (malformed JSON, an envelope, a
 * STIX 2.0 bundle, a lone object...). Elements yielded before that are not the document's as read
 * whole: the caller undoes what it did with them and reads the document the other way.
 */
export function* streamBundleElements(read: ReadBytes, options: { readonly maxDepth?: number } = {}): Generator<JsonValue[], boolean, void> {
  const scan = new ContainerScan(options.maxDepth ?? DEFAULT_MAX_DEPTH);
  for (;;) {
    const more = scan.readMore(read);
    if (more === 'refused') return false;
    const elements = scan.takeElements();
    if (elements.length > 0) yield elements;
    if (more === 'end') {
      const skeleton = scan.finishSkeleton();
      if (skeleton === undefined || skeleton['type'] !== 'bundle') return false;
      const declared = skeleton['spec_version'];
      return declared === undefined || declared === '2.1';
    }
  }
}

/** {@link streamBundleElements} over a file. */
export function* streamBundleFile(path: string, options: { readonly maxDepth?: number } = {}): Generator<JsonValue[], boolean, void> {
  const descriptor = openSync(path, 'r');
  try {
    return yield* streamBundleElements((into, offset, length) => readSync(descriptor, into, offset, length, null), options);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * A bundle or TAXII envelope that arrived in pieces (an HTTP body), parsed without joining them into
 * one buffer and one string: a page of a thousand objects (half a megabyte) made both, each fresh
 * memory whose page faults cost a receiving node more than the parse. The value is the one parsing
 * the whole text gives; undefined where this reader does not handle the document (as readContainer),
 * or where any of its bytes is not well-formed UTF-8: the caller then parses the whole text, which
 * names the problem.
 */
export function parseContainerPieces(pieces: readonly Uint8Array[], options: { readonly maxDepth?: number } = {}): JsonObject | undefined {
  const scan = new ContainerScan(options.maxDepth ?? DEFAULT_MAX_DEPTH, true);
  let piece = 0;
  let offset = 0;
  const read: ReadBytes = (into, at, length) => {
    let written = 0;
    while (written < length && piece < pieces.length) {
      const current = pieces[piece] as Uint8Array;
      const taken = Math.min(length - written, current.byteLength - offset);
      into.set(current.subarray(offset, offset + taken), at + written);
      written += taken;
      offset += taken;
      if (offset === current.byteLength) {
        piece += 1;
        offset = 0;
      }
    }
    return written;
  };
  for (;;) {
    const more = scan.readMore(read);
    if (more === 'refused') return undefined;
    if (more === 'end') return scan.finishValue();
  }
}

/** Reads a file through {@link readContainer}. */
export function readContainerFile(path: string, options: { readonly maxDepth?: number } = {}): ReadResult | undefined {
  const descriptor = openSync(path, 'r');
  try {
    return readContainer((into, offset, length) => readSync(descriptor, into, offset, length, null), options);
  } finally {
    closeSync(descriptor);
  }
}

// The member name just before a value, at the end of the skeleton read so far.
const NAME_BEFORE_VALUE = /"((?:[^"\\]|\\[\s\S])*)"[ \t\n\r]*:[ \t\n\r]*$/;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
// Strings this long are searched for their closing quote natively (memchr): shorter ones, most of a
// STIX document's (keys, ids, timestamps), cost less to walk here than a call out.
const WALKED_STRING_BYTES = 16;
const LARGEST_SKELETON = 16 * 1024 * 1024;
// Read at a time: small enough to stay in the CPU caches while it is scanned and its elements parsed.
const WINDOW_BYTES = 64 * 1024;
// How much of the skeleton's end is searched for the member name before `[`. A name further back
// (more padding than this) is simply not taken for `objects`: the array stays in the skeleton, and
// the placeholder check then sends the document to the whole-text path.
const NAME_SEARCH_BYTES = 4096;

type Mode = 'outside' | 'objects' | 'element';

/**
 * The scan's state lives in window coordinates: `window` holds the bytes not yet handed on (from the
 * earliest position still needed). The bytes are scanned as they are: UTF-8 never uses ASCII byte
 * values inside a multi-byte character, so quotes, backslashes, braces and brackets are found
 * correctly in any UTF-8 text, and no string of the window is made (a Latin-1 copy of every piece, and
 * a regular expression stopping at each brace, cost more than the loop below: the 2.8 MB collection
 * object that opens ATT&CK Enterprise holds 49,540 of them).
 */
class ContainerScan {
  #window: Buffer = Buffer.alloc(0);
  /** Where scanning resumes: always outside any string. */
  #position = 0;
  #depth = 0;
  #mode: Mode = 'outside';
  /** Start of the skeleton bytes not yet copied out (mode `outside`). */
  #skeletonFrom = 0;
  readonly #skeleton: Buffer[] = [];
  #skeletonBytes = 0;
  /** Start of the text between elements (mode `objects`), and of the current element (mode `element`). */
  #separatorFrom = 0;
  #elementFrom = 0;
  #objectsFound = false;
  /** Bytes of the window in use. */
  #length = 0;
  #objects: JsonValue[] = [];
  /** Elements met so far (those handed over by takeElements included). */
  #elementCount = 0;
  readonly #placeholder = `entente-objects-${randomUUID()}`;
  readonly #maxDepth: number;
  /** Whether bytes that are not well-formed UTF-8 refuse the document (rather than read as U+FFFD). */
  readonly #strictUtf8: boolean;
  /**
   * Whether an element held a number parseJson checks the text of (parseJsonNoting's textRead). parseJson
   * reads the whole text for unsafe numbers when the value it parsed holds such a one (1e20 is an
   * integer past 2^53 - 1), and that reading also refuses an unsafe number in a member a later one
   * of the same name replaced: {"objects":[{"n":1e20}],"x":1e400,"x":1} is refused whole. Each part
   * here is checked only for what it holds itself, so the part with the dropped member would pass:
   * a document holding a suspect number anywhere is left to the whole text, which decides as always.
   */
  #suspect = false;

  constructor(maxDepth: number, strictUtf8 = false) {
    this.#maxDepth = maxDepth;
    this.#strictUtf8 = strictUtf8;
  }

  /**
   * Drops the bytes no position needs any more, reads more behind those kept and scans them. The
   * window is one buffer, reused: fresh large buffers and strings each cost page faults, which made
   * a copy per piece cost more than the scan.
   */
  readMore(read: ReadBytes): 'more' | 'end' | 'refused' {
    const keep = this.#earliestNeeded();
    const kept = this.#length - keep;
    if (keep > 0) {
      this.#window.copyWithin(0, keep, this.#length);
      this.#rebase(keep);
    }
    // At least as much as is kept, so that each byte is decoded a bounded number of times on average;
    // no more, so that the window (and its string) shrinks back once a long element has passed.
    const wanted = Math.max(WINDOW_BYTES, kept);
    if (this.#window.length < kept + wanted) {
      const grown = Buffer.allocUnsafe(kept + wanted);
      this.#window.copy(grown, 0, 0, kept);
      this.#window = grown;
    }
    this.#length = kept;
    const added = read(this.#window, kept, wanted);
    if (added === 0) return 'end';
    this.#length += added;
    return this.#scan() ? 'more' : 'refused';
  }

  finish(): ReadResult | undefined {
    const value = this.finishValue();
    return value === undefined ? undefined : readDocument(value);
  }

  /** After the last piece: the whole document's value, its elements back in `objects`. */
  finishValue(): JsonObject | undefined {
    const value = this.finishSkeleton();
    if (value === undefined) return undefined;
    value['objects'] = this.#objects;
    return value;
  }

  /**
   * After the last piece: the document without its elements (its `objects` still the placeholder), or
   * undefined when the rest of the document is not what this reader handles.
   */
  finishSkeleton(): JsonObject | undefined {
    // Whatever the last piece left unscanned is an unterminated string: malformed.
    if (this.#position < this.#length || this.#mode !== 'outside' || !this.#objectsFound) return undefined;
    if (!this.#copySkeleton(this.#length)) return undefined;
    const bytes = Buffer.concat(this.#skeleton, this.#skeletonBytes);
    if (this.#strictUtf8 && !isUtf8(bytes)) return undefined;
    const skeleton = parseJsonNoting(bytes.toString('utf8'), { maxDepth: this.#maxDepth });
    if (!skeleton.ok || this.#suspect || skeleton.value.textRead) return undefined;
    const value = skeleton.value.value;
    // A later `objects` member replaces the one read here (JSON.parse keeps the last): not handled.
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value['objects'] !== this.#placeholder) return undefined;
    if (value['type'] !== 'bundle' && value['type'] !== undefined) return undefined;
    return value;
  }

  /** The elements parsed since the last call, handed over so that the scan holds them no longer. */
  takeElements(): JsonValue[] {
    const taken = this.#objects;
    this.#objects = [];
    return taken;
  }

  #rebase(by: number): void {
    this.#position -= by;
    this.#skeletonFrom -= by;
    this.#separatorFrom -= by;
    this.#elementFrom -= by;
  }

  #earliestNeeded(): number {
    if (this.#mode === 'outside') {
      // The skeleton so far is copied out, so only the resume point is needed.
      this.#copySkeleton(this.#position);
      return this.#position;
    }
    return this.#mode === 'objects' ? Math.min(this.#separatorFrom, this.#position) : this.#elementFrom;
  }

  #copySkeleton(until: number): boolean {
    if (until > this.#skeletonFrom) {
      this.#skeleton.push(Buffer.from(this.#window.subarray(this.#skeletonFrom, until)));
      this.#skeletonBytes += until - this.#skeletonFrom;
      this.#skeletonFrom = until;
    }
    return this.#skeletonBytes <= LARGEST_SKELETON;
  }

  #scan(): boolean {
    const bytes = this.#window;
    const end = this.#length;
    let at = this.#position;
    while (at < end) {
      const byte = bytes[at] as number;
      if (byte === QUOTE) {
        const after = stringEnd(bytes, at, end);
        // A string this piece does not finish: wait for more, resuming at its opening quote.
        if (after < 0) break;
        at = after;
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET || byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        const opens = byte === OPEN_BRACE || byte === OPEN_BRACKET;
        // Inside an element only the depth matters until it closes: kept here, off the slower path.
        if (this.#mode === 'element') {
          this.#depth += opens ? 1 : -1;
          if (this.#depth > this.#maxDepth) return false;
          if (this.#depth === 2 && !this.#elementEnds(at + 1)) return false;
        } else if (!this.#structural(at, opens)) {
          return false;
        }
      }
      at += 1;
    }
    this.#position = at;
    return this.#skeletonBytes <= LARGEST_SKELETON;
  }

  /** One brace or bracket at `at`, outside strings and elements; false when the document must be read the other way. */
  #structural(at: number, opens: boolean): boolean {
    if (this.#mode === 'objects') {
      const code = this.#window[at];
      if (code === OPEN_BRACE) {
        if (!separates(this.#window, this.#separatorFrom, at, this.#elementCount > 0)) return false;
        this.#mode = 'element';
        this.#elementFrom = at;
        this.#depth = 3;
        return this.#depth <= this.#maxDepth;
      }
      // `]` ends the array; `[` (an element that is an array) or `}` is not handled here.
      if (opens || code === CLOSE_BRACE || !separates(this.#window, this.#separatorFrom, at, false)) return false;
      this.#mode = 'outside';
      this.#depth = 1;
      this.#skeleton.push(Buffer.from(JSON.stringify(this.#placeholder)));
      this.#skeletonBytes += this.#placeholder.length + 2;
      this.#skeletonFrom = at + 1;
      return true;
    }
    this.#depth += opens ? 1 : -1;
    if (this.#depth > this.#maxDepth) return false;
    if (opens && this.#depth === 2 && !this.#objectsFound && this.#window[at] === OPEN_BRACKET && this.#namesObjects(at)) {
      this.#objectsFound = true;
      this.#mode = 'objects';
      this.#separatorFrom = at + 1;
    }
    return true;
  }

  /** Whether the `[` at `at` is the value of a member named `objects`; copies the skeleton up to it. */
  #namesObjects(at: number): boolean {
    if (!this.#copySkeleton(at)) return false;
    let tail = '';
    for (let index = this.#skeleton.length - 1; index >= 0 && tail.length < NAME_SEARCH_BYTES; index -= 1) {
      tail = (this.#skeleton[index] as Buffer).toString('latin1') + tail;
    }
    const name = NAME_BEFORE_VALUE.exec(tail.slice(-NAME_SEARCH_BYTES));
    if (name?.[1] === undefined) return false;
    // The name may be written with escapes; Latin-1 garbles only non-ASCII names, which are not `objects`.
    let decoded: unknown;
    try {
      decoded = JSON.parse(`"${name[1]}"`);
    } catch {
      return false;
    }
    return decoded === 'objects';
  }

  #elementEnds(end: number): boolean {
    // Elements start and end at ASCII bytes, so each holds whole characters: checked one by one, every byte of the document is.
    if (this.#strictUtf8 && !isUtf8(this.#window.subarray(this.#elementFrom, end))) return false;
    const parsed = parseJsonNoting(this.#window.toString('utf8', this.#elementFrom, end), { maxDepth: this.#maxDepth - 2 });
    if (!parsed.ok) return false;
    // A number whose text parseJson had to read, known without a second walk of the value.
    if (parsed.value.textRead) this.#suspect = true;
    this.#objects.push(parsed.value.value);
    this.#elementCount += 1;
    this.#mode = 'objects';
    this.#separatorFrom = end;
    return true;
  }
}

/** Where the string opening at `from` ends (just past its closing quote), or -1 when `bytes` ends first. */
function stringEnd(bytes: Buffer, from: number, end: number): number {
  let at = from + 1;
  const walkedTo = Math.min(end, at + WALKED_STRING_BYTES);
  while (at < walkedTo) {
    const byte = bytes[at] as number;
    if (byte === QUOTE) return at + 1;
    at += byte === BACKSLASH ? 2 : 1;
  }
  for (;;) {
    if (at >= end) return -1;
    const quote = bytes.indexOf(QUOTE, at);
    if (quote < 0 || quote >= end) return -1;
    // Escaped when an odd number of backslashes stands right before it (and after `at`, past which
    // no escape is pending: the walk above stepped over any escape it met whole).
    let backslashes = 0;
    while (quote - backslashes - 1 >= at && bytes[quote - backslashes - 1] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

/** Whether bytes [from, to) are JSON whitespace around exactly one comma (`comma`) or whitespace alone. */
function separates(bytes: Buffer, from: number, to: number, comma: boolean): boolean {
  let commas = 0;
  for (let at = from; at < to; at += 1) {
    const byte = bytes[at];
    if (byte === COMMA) commas += 1;
    else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return commas === (comma ? 1 : 0);
}
