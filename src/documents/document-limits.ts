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
};
