// Safety limits for reading one untrusted document. Every reader honours them; a document that
// goes past one is refused with ENT_EXTRACT_LIMIT_EXCEEDED naming the file and the limit.

export interface DocumentLimits {
  /** Largest input file, in bytes. */
  readonly maxBytes: number;
  /** Most PDF pages (a lying or exploding page tree is refused before any page is read). */
  readonly maxPages: number;
  /** Wall-clock time for one PDF, in milliseconds; the reader's thread is killed after it. */
  readonly timeoutMs: number;
  /** Growth of the process's memory while one PDF is read, in MiB (decompression bombs). */
  readonly maxMemoryMb: number;
  /** Heap of the PDF reader's thread, in MiB. */
  readonly maxHeapMb: number;
  /** Most characters of text one document may yield. */
  readonly maxChars: number;
  /** Deepest nesting of e-mails and attachments (a message inside a message is depth 2). */
  readonly maxDepth: number;
  /** Most attachments read across a whole e-mail, nested ones included. */
  readonly maxParts: number;
  /** Most bytes of attachments decoded across a whole e-mail, nested ones included. */
  readonly maxTotalBytes: number;
  /**
   * Most lines starting with "--" (each could open or close a MIME part) across a whole e-mail,
   * nested messages included; counted before the message is parsed. Inline parts, images and parts
   * without headers are not attachments, so maxParts never sees them, while the parser spends
   * 100 to 250 µs on each one (300,000 of them in a 5 MB message held the thread for 47 s).
   */
  readonly maxMimeParts: number;
  /**
   * Most elements and comments the HTML parser may build for one page, those it makes up included
   * (a formatting element left open is reopened in every later paragraph). Past it the page is refused.
   */
  readonly maxHtmlNodes: number;
  /** Deepest nesting of tags handed to the HTML parser; deeper tags are flattened, their text kept. */
  readonly maxHtmlNesting: number;
  /**
   * CPU time for parsing one HTML page, in milliseconds (it runs on the caller's thread). CPU time,
   * not wall-clock, so that a page is not refused because the machine is busy with other work.
   */
  readonly maxHtmlCpuMs: number;
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = {
  maxBytes: 64 * 1024 * 1024,
  maxPages: 2000,
  timeoutMs: 60_000,
  maxMemoryMb: 768,
  maxHeapMb: 512,
  maxChars: 32 * 1024 * 1024,
  maxDepth: 4,
  maxParts: 64,
  maxTotalBytes: 128 * 1024 * 1024,
  // A real message has a few dozen delimiters; every line that starts with "--" counts (a dashed
  // rule in a plain-text body too: the parser would match any of them against a boundary the
  // message declares). About a second of parsing at most.
  maxMimeParts: 5000,
  // parse5 builds about 100,000 elements a second on a busy 2-core machine; a long report page has
  // a few thousand, an appendix of 20,000 indicators in a table about 100,000.
  maxHtmlNodes: 100_000,
  maxHtmlNesting: 512,
  // A safety net behind maxHtmlNodes, which bounds most of the work (about 1 s for 100,000 elements
  // here): dense markup that builds few nodes still parses at 1 to 10 MB a second. It bounds how long
  // one page holds the event loop of a node that received it through POST /api/drafts. The process's
  // CPU time is what Node can measure (its other threads count too), so the margin is wide: at 1 s a
  // page within the element limit was refused when the test suite ran on both cores.
  maxHtmlCpuMs: 5_000,
};
