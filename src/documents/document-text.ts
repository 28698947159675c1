// The text a document reader produces, with a map from every stretch of it back to where it came
// from in the source (a page of a PDF, an offset in HTML or text, a part of an e-mail), so that an
// observable found at text offset N can be shown to the analyst where they would find it.

export type DocumentFormat = 'text' | 'markdown' | 'html' | 'pdf' | 'email';

/** Where a stretch of text came from. */
export interface SourceLocation {
  /** The part of a container it came from, e.g. `attachment 1 (report.pdf)`; absent for the document itself. */
  readonly part?: string;
  /** 1-based PDF page. */
  readonly page?: number;
  /** Offsets (UTF-16) in the source text for text and HTML; the span of the element for HTML. */
  readonly sourceStart?: number;
  readonly sourceEnd?: number;
}

/** Text [start, end) came from `location`. Segments are sorted and do not overlap. */
export interface SourceSegment extends SourceLocation {
  readonly start: number;
  readonly end: number;
}

/**
 * The shown text of a page's chrome (nav, footer, aside, banners, what lies outside its <main>) that
 * the HTML reader did not read (read-html.ts): never part of DocumentText.text, so never proposed.
 * Whoever extracts from the document checks it for values that look like indicators and names them
 * in a warning (drafts/extract-document.ts), with the same data and publisher domains as the text.
 */
export interface PageChrome {
  /** Names the page in the warning: the file, or the e-mail whose body or attachment it is. */
  readonly name: string;
  /** At most MAX_CHROME_CHARS (read-html.ts). */
  readonly text: string;
  /** Where each kind of chrome starts in `text`, in order (`<aside>`, `role=banner`, `outside the page's <main>`). */
  readonly kinds: readonly { readonly at: number; readonly label: string }[];
  /** The page's chrome held more than MAX_CHROME_CHARS; only the first were kept. */
  readonly truncated: boolean;
  /** The hosts the page names as its own (canonical, og:url, base, saved-from), lower case, `www.` dropped. */
  readonly hosts: readonly string[];
}

export interface DocumentText {
  readonly format: DocumentFormat;
  readonly text: string;
  readonly segments: readonly SourceSegment[];
  /** Things the reader skipped or could not do, in words (an archive not opened, a page without text). */
  readonly warnings: readonly string[];
  /** PDF page count (the top-level document's). */
  readonly pages?: number;
  /**
   * Page chrome not read, of the document and of the pages in it (an e-mail's HTML body and
   * attachments), MAX_CHROME_CHARS in all; absent when there is none. Never proposed.
   */
  readonly chrome?: readonly PageChrome[];
}

/** Where text offset `offset` came from, or null when it is in a separator the reader added. */
export function locateOffset(doc: Pick<DocumentText, 'segments'>, offset: number): SourceLocation | null {
  const segs = doc.segments;
  let lo = 0;
  let hi = segs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segs[mid];
    if (s === undefined) break;
    if (offset < s.start) hi = mid - 1;
    else if (offset >= s.end) lo = mid + 1;
    else {
      const { start, end, ...where } = s;
      // Text and HTML text nodes map character for character when the lengths agree.
      if (where.sourceStart !== undefined && where.sourceEnd !== undefined && where.sourceEnd - where.sourceStart === end - start) {
        const at = where.sourceStart + (offset - start);
        return { ...where, sourceStart: at, sourceEnd: at + 1 };
      }
      return where;
    }
  }
  return null;
}

/** Builds text from pieces, recording each piece's source. */
export class TextBuilder {
  private readonly parts: string[] = [];
  private length = 0;
  private trailingNewlines = 0;
  readonly segments: SourceSegment[] = [];

  get size(): number {
    return this.length;
  }

  private last = '';

  /** The last character appended, '' when nothing was. */
  lastChar(): string {
    return this.last;
  }

  private track(text: string): void {
    this.last = text.charAt(text.length - 1);
    let n = 0;
    for (let i = text.length - 1; i >= 0 && text.charCodeAt(i) === 10; i--) n++;
    this.trailingNewlines = n === text.length ? this.trailingNewlines + n : n;
  }

  /** Appends text that comes from `where`. */
  add(text: string, where: SourceLocation = {}): void {
    if (text === '') return;
    this.segments.push({ ...where, start: this.length, end: this.length + text.length });
    this.parts.push(text);
    this.length += text.length;
    this.track(text);
  }

  /** Appends a separator the reader made up (newline between blocks): no source. */
  separator(text: string): void {
    if (text === '') return;
    this.parts.push(text);
    this.length += text.length;
    this.track(text);
  }

  /** Ensures the text ends with at least `n` newlines (unless it is empty). */
  breakLines(n: number): void {
    if (this.length === 0) return;
    if (this.trailingNewlines < n) this.separator('\n'.repeat(n - this.trailingNewlines));
  }

  /** Appends another document's text, shifting its segments and tagging them with `part`. */
  addDocument(doc: DocumentText, part: string): void {
    for (const s of doc.segments) {
      this.segments.push({ ...s, part: s.part === undefined ? part : `${part} › ${s.part}`, start: s.start + this.length, end: s.end + this.length });
    }
    this.parts.push(doc.text);
    this.length += doc.text.length;
    this.track(doc.text);
  }

  toString(): string {
    if (this.parts.length > 1) {
      const joined = this.parts.join('');
      this.parts.length = 0;
      this.parts.push(joined);
    }
    return this.parts[0] ?? '';
  }
}

/**
 * The warning for words that look like indicators and hold invisible characters (Unicode's
 * default-ignorable characters: zero-width, soft hyphen, tag characters, variation selectors, bidi
 * controls; src/extract/invisible.ts): extraction reads them without those characters, as a reader
 * of the rendered report sees them, and the analyst is told which, in case the report means
 * something else by them (a bidi override shows what follows it reversed). A Hangul filler, drawn as
 * a blank, is read as a space, and named too.
 */
export function invisibleWarning(name: string, count: number, samples: readonly string[]): string {
  const words = count === 1 ? 'word that looks like an indicator holds' : 'words that look like indicators hold';
  const more = count > samples.length ? `, and ${count - samples.length} more` : '';
  return `${name}: ${count} ${words} invisible characters (default-ignorable characters, e.g. zero-width, tag characters, bidi controls): ${samples.join(', ')}${more}; they are read without them, as the rendered report shows them (a Hangul filler as a space)`;
}
