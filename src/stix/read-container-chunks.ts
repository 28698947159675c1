import { closeSync, openSync, readSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { DEFAULT_MAX_DEPTH, parseJson } from './parse-json.ts';
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

/** Reads a file through {@link readContainer}. */
export function readContainerFile(path: string, options: { readonly maxDepth?: number } = {}): ReadResult | undefined {
  const descriptor = openSync(path, 'r');
  try {
    return readContainer((into, offset, length) => readSync(descriptor, into, offset, length, null), options);
  } finally {
    closeSync(descriptor);
  }
}

// Everything up to the next brace or bracket outside strings, strings included: one native regular
// expression call per structural character instead of a loop over every byte (10 ns a byte here).
// The string alternative is the unrolled form, so long strings do not grow the backtracking stack.
const SKIP = /(?:[^"{}[\]]+|"[^"\\]*(?:\\[\s\S][^"\\]*)*")*/y;
const WHITESPACE = /^[ \t\n\r]*$/;
const COMMA = /^[ \t\n\r]*,[ \t\n\r]*$/;
// The member name just before a value, at the end of the skeleton read so far.
const NAME_BEFORE_VALUE = /"((?:[^"\\]|\\[\s\S])*)"[ \t\n\r]*:[ \t\n\r]*$/;
const QUOTE = 0x22;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const LARGEST_SKELETON = 16 * 1024 * 1024;
// Small enough that its Latin-1 string stays in V8's young generation.
const WINDOW_BYTES = 64 * 1024;
// How much of the skeleton's end is searched for the member name before `[`. A name further back
// (more padding than this) is simply not taken for `objects`: the array stays in the skeleton, and
// the placeholder check then sends the document to the whole-text path.
const NAME_SEARCH_BYTES = 4096;

type Mode = 'outside' | 'objects' | 'element';

/**
 * The scan's state lives in window coordinates: `window` holds the bytes not yet handed on (from the
 * earliest position still needed) and `text` the same bytes as Latin-1, one character per byte, so
 * that string offsets are byte offsets. UTF-8 never uses ASCII byte values inside a multi-byte
 * character, so structural characters are found correctly in any UTF-8 text.
 */
class ContainerScan {
  #window: Buffer = Buffer.alloc(0);
  #text = '';
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

  constructor(maxDepth: number) {
    this.#maxDepth = maxDepth;
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
    if (added === 0) {
      this.#text = this.#window.toString('latin1', 0, this.#length);
      return 'end';
    }
    this.#length += added;
    this.#text = this.#window.toString('latin1', 0, this.#length);
    return this.#scan() ? 'more' : 'refused';
  }

  finish(): ReadResult | undefined {
    const value = this.finishSkeleton();
    if (value === undefined) return undefined;
    value['objects'] = this.#objects;
    return readDocument(value);
  }

  /**
   * After the last piece: the document without its elements (its `objects` still the placeholder), or
   * undefined when the rest of the document is not what this reader handles.
   */
  finishSkeleton(): JsonObject | undefined {
    // Whatever the last piece left unscanned is an unterminated string: malformed.
    if (this.#position < this.#text.length || this.#mode !== 'outside' || !this.#objectsFound) return undefined;
    if (!this.#copySkeleton(this.#length)) return undefined;
    const skeleton = parseJson(Buffer.concat(this.#skeleton, this.#skeletonBytes).toString('utf8'), { maxDepth: this.#maxDepth });
    if (!skeleton.ok) return undefined;
    const value = skeleton.value;
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
    const text = this.#text;
    for (;;) {
      SKIP.lastIndex = this.#position;
      try {
        SKIP.exec(text);
      } catch {
        // Millions of strings between two brackets can overflow the expression's backtracking stack.
        return false;
      }
      const at = SKIP.lastIndex;
      // At the end, or at a string this piece does not finish: wait for more, resuming there.
      if (at >= text.length || text.charCodeAt(at) === QUOTE) {
        this.#position = at;
        return this.#skeletonBytes <= LARGEST_SKELETON;
      }
      this.#position = at + 1;
      const opens = text.charCodeAt(at) === OPEN_BRACE || text.charCodeAt(at) === OPEN_BRACKET;
      if (!this.#structural(at, opens)) return false;
    }
  }

  /** One brace or bracket at `at`, outside strings; false when the document must be read the other way. */
  #structural(at: number, opens: boolean): boolean {
    if (this.#mode === 'element') {
      this.#depth += opens ? 1 : -1;
      if (this.#depth > this.#maxDepth) return false;
      return this.#depth === 2 ? this.#elementEnds(at + 1) : true;
    }
    if (this.#mode === 'objects') {
      const between = this.#text.slice(this.#separatorFrom, at);
      const code = this.#text.charCodeAt(at);
      if (code === OPEN_BRACE) {
        if (!(this.#elementCount === 0 ? WHITESPACE : COMMA).test(between)) return false;
        this.#mode = 'element';
        this.#elementFrom = at;
        this.#depth = 3;
        return this.#depth <= this.#maxDepth;
      }
      // `]` ends the array; `[` (an element that is an array) or `}` is not handled here.
      if (opens || code === CLOSE_BRACE || !WHITESPACE.test(between)) return false;
      this.#mode = 'outside';
      this.#depth = 1;
      this.#skeleton.push(Buffer.from(JSON.stringify(this.#placeholder)));
      this.#skeletonBytes += this.#placeholder.length + 2;
      this.#skeletonFrom = at + 1;
      return true;
    }
    this.#depth += opens ? 1 : -1;
    if (this.#depth > this.#maxDepth) return false;
    if (opens && this.#depth === 2 && !this.#objectsFound && this.#text.charCodeAt(at) === OPEN_BRACKET && this.#namesObjects(at)) {
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
    const parsed = parseJson(this.#window.toString('utf8', this.#elementFrom, end), { maxDepth: this.#maxDepth - 2 });
    if (!parsed.ok) return false;
    this.#objects.push(parsed.value);
    this.#elementCount += 1;
    this.#mode = 'objects';
    this.#separatorFrom = end;
    return true;
  }
}
