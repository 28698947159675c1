import { createReadStream, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { readJsonLine, readJsonLines, readJsonText, readListElement, type ReadObject, type ReadResult } from '../stix/read-documents.ts';
import { readContainerFile, streamBundleFile } from '../stix/read-container-chunks.ts';
import { checkImportObject, locate, prepareImport, type ImportRejection } from './prepare-import.ts';
import { prepareVersion, type PreparedVersion } from './prepared-version.ts';
import { isStringifyForm } from '../stix/stringify-form.ts';
import type { StixObject } from '../stix/types.ts';
import type { PlainError } from '../threads/plain-error.ts';

/**
 * The reading half of `entente import`: documents → parsed → STIX 2.0 upgraded → validated →
 * serialised versions, in batches the store writes one transaction each. It runs either in the
 * caller's thread or in a worker thread, so that parsing and validating the next batch overlaps the
 * store's transaction of the current one (the store is synchronous and holds its thread meanwhile).
 * Both give the same batches in the same order; the caller reports and stores them in that order.
 */

/** One input of an import, as the caller resolved it. */
export type ImportInput =
  /** JSON lines, read line by line (any size). */
  | { readonly kind: 'lines'; readonly path: string }
  /** One JSON document (bundle, envelope, object), or JSON lines if it does not parse as one; `size` in bytes. */
  | { readonly kind: 'document'; readonly path: string; readonly size: number }
  /** Text already read (standard input), under a label for messages. */
  | { readonly kind: 'text'; readonly label: string; readonly text: string };

export interface PreparedBatch {
  /** The input's name for messages (its path, or `standard input`). */
  readonly input: string;
  /** Document-level problems (unreadable JSON, not STIX) met since the previous batch: each is one rejection. */
  readonly problems: readonly string[];
  /** Objects that failed validation or the STIX 2.0 upgrade, with where and why. */
  readonly rejections: readonly ImportRejection[];
  /** Validator warnings counted in this batch. */
  readonly warnings: number;
  /** Valid versions, in document order, for one store transaction. */
  readonly versions: readonly PreparedVersion[];
  /** Input bytes consumed since the previous batch (progress). */
  readonly bytes: number;
}

export interface PipelineOptions {
  /**
   * Objects in the first batch; each next batch may hold twice as many, up to `batchObjects`. The store
   * waits for the whole first batch before it can start, so a small first batch starts the overlap early.
   */
  readonly firstBatchObjects: number;
  /** Most objects in one batch (one store transaction). */
  readonly batchObjects: number;
  /** Most JSON characters in one batch, so that large objects make smaller transactions. */
  readonly batchChars: number;
  readonly maxDepth: number;
  /**
   * Bundle files of at most this many bytes are streamed (see {@link ImportStep}): their batches are
   * prepared as the file is read, and the caller stores them in one transaction. Absent: none is;
   * each document is read whole before its first batch.
   */
  readonly streamDocumentsUpTo?: number;
}

/**
 * What the caller of an import does next: store a batch, or, around the batches of a document streamed
 * as it is read, hold them in one transaction. Such a document is known well-formed, and known to be
 * read as its batches were prepared (a STIX 2.1 bundle), only once its last byte is read; so its batches
 * are stored, and their outcomes reported, only if it ends well (`document-end`): a malformed or
 * otherwise different document (`document-undo`) leaves nothing stored and nothing reported, and is then
 * read whole as any other document is, which gives its messages.
 */
export type ImportStep =
  | { readonly kind: 'batch'; readonly batch: PreparedBatch }
  /** The batches up to the next `document-end` or `document-undo` are those of one document streamed as it is read. */
  | { readonly kind: 'document-begin'; readonly input: string }
  /** The streamed document is whole: store its batches for good, and report them. */
  | { readonly kind: 'document-end' }
  /** Undo and forget the streamed document's batches: the same input follows, read whole. */
  | { readonly kind: 'document-undo' };

/** Reads, validates and prepares every input in order, in this thread. */
export async function* prepareImportSteps(inputs: readonly ImportInput[], options: PipelineOptions): AsyncGenerator<ImportStep> {
  for (const input of inputs) {
    if (input.kind === 'lines') yield* asSteps(jsonLinesBatches(input.path, options));
    else if (input.kind === 'document' && options.streamDocumentsUpTo !== undefined && input.size <= options.streamDocumentsUpTo) {
      if (yield* streamedDocumentSteps(input.path, input.size, options)) continue;
      // Not a document the stream reads as it was prepared: undone, then read whole as any other.
      yield { kind: 'document-undo' };
      yield* asSteps(documentBatches(input.path, readDocumentFile(input.path, options), input.size, options));
    } else if (input.kind === 'document') yield* asSteps(documentBatches(input.path, readDocumentFile(input.path, options), input.size, options));
    else yield* asSteps(documentBatches(input.label, readDocumentText(input.text, options), 0, options));
  }
}

/** The batches of prepareImportSteps when no document is streamed (`streamDocumentsUpTo` absent). */
export async function* prepareImportBatches(inputs: readonly ImportInput[], options: PipelineOptions): AsyncGenerator<PreparedBatch> {
  const { streamDocumentsUpTo: _streamed, ...whole } = options;
  for await (const step of prepareImportSteps(inputs, whole)) if (step.kind === 'batch') yield step.batch;
}

async function* asSteps(batches: AsyncIterable<PreparedBatch> | Iterable<PreparedBatch>): AsyncGenerator<ImportStep> {
  for await (const batch of batches) yield { kind: 'batch', batch };
}

/**
 * Batch bounds of a streamed document: one transaction however it is cut (see streamedDocumentSteps).
 * Small, so that a batch is handed over (and its versions die) before young-generation collections
 * promote it: ATT&CK Enterprise's worker spent 166-182 ms in the collector at 500 objects / 1 MiB a
 * batch against 324-455 ms at 2,000 / 4 MiB (three imports each, CPU profiles of the worker thread).
 */
const STREAMED_FIRST_BATCH_OBJECTS = 250;
const STREAMED_BATCH_OBJECTS = 500;
const STREAMED_BATCH_CHARS = 1024 * 1024;

/**
 * A bundle file prepared as it is read (streamBundleFile): each element is validated and
 * serialised as soon as it is parsed, so that its parsed form is collected young and the store can
 * start on the first batch while the rest of the file is still being read. Holding every parsed object
 * until the document was known whole made the collector copy each of them out of the young
 * generation, into fresh pages. A STIX 2.0 element stops the stream (2.0 objects are upgraded
 * together, as prepareImport does), and so does a document that does not end as a STIX 2.1 bundle:
 * false, and the caller undoes it and reads the file whole. True once `document-end` is given.
 */
function* streamedDocumentSteps(path: string, bytes: number, options: PipelineOptions): Generator<ImportStep, boolean> {
  yield { kind: 'document-begin', input: path };
  // The document is one transaction however it is cut, so its batches stay small: their texts then
  // die young, in this thread and in the memory that hands them to the store.
  const sizes = batchSizes({
    ...options,
    firstBatchObjects: Math.min(options.firstBatchObjects, STREAMED_FIRST_BATCH_OBJECTS),
    batchObjects: Math.min(options.batchObjects, STREAMED_BATCH_OBJECTS),
  });
  const batchChars = Math.min(options.batchChars, STREAMED_BATCH_CHARS);
  let size = sizes.next();
  let pending = 0;
  let pendingChars = 0;
  let versions: PreparedVersion[] = [];
  let rejections: ImportRejection[] = [];
  let problems: string[] = [];
  let warnings = 0;
  const batch = (last: boolean): ImportStep => {
    const prepared: PreparedBatch = { input: path, problems, rejections, warnings, versions, bytes: last ? bytes : 0 };
    pending = 0;
    pendingChars = 0;
    versions = [];
    rejections = [];
    problems = [];
    warnings = 0;
    return { kind: 'batch', batch: prepared };
  };
  const elements = streamBundleFile(path, { maxDepth: options.maxDepth });
  let index = 0;
  let whole = false;
  try {
    reading: for (;;) {
      const next = elements.next();
      if (next.done === true) {
        whole = next.value;
        break;
      }
      for (const element of next.value) {
        const read = readListElement(element, { index }, undefined, 'bundle');
        index += 1;
        pending += 1;
        if (!('object' in read)) {
          problems.push(read.message);
        } else if (read.version === '2.0') {
          break reading;
        } else {
          const verdict = checkImportObject(read.object, locate(read));
          warnings += verdict.warnings;
          if (verdict.rejection !== undefined) rejections.push(verdict.rejection);
          else {
            const json = JSON.stringify(read.object);
            versions.push(prepareVersion(read.object as StixObject, json));
            pendingChars += json.length;
          }
        }
        if (pending >= size || pendingChars >= batchChars) {
          yield batch(false);
          size = sizes.next();
        }
      }
    }
  } finally {
    elements.return(false);
  }
  if (!whole) return false;
  yield batch(true);
  yield { kind: 'document-end' };
  return true;
}

/**
 * A bundle or envelope file is read in pieces (readContainerFile); anything that reader leaves, such
 * as a single object, JSON lines or malformed JSON, is read whole, which gives the messages.
 */
function readDocumentFile(path: string, options: PipelineOptions): ReadResult {
  return readContainerFile(path, { maxDepth: options.maxDepth }) ?? readDocumentText(readFileSync(path, 'utf8'), options);
}

/** A bundle, envelope or single object; if the text is not one JSON document, it is read as JSON lines. */
function readDocumentText(text: string, options: PipelineOptions): ReadResult {
  const read = readJsonText(text, { maxDepth: options.maxDepth });
  if (read.objects.length === 0 && read.problems.some((problem) => problem.code === 'ENT_INPUT_MALFORMED_JSON') && text.includes('\n')) {
    const asLines = readJsonLines(text, { maxDepth: options.maxDepth });
    if (asLines.objects.length > 0) return asLines;
  }
  return read;
}

function* documentBatches(label: string, read: ReadResult, bytes: number, options: PipelineOptions): Generator<PreparedBatch> {
  let problems = read.problems.map((problem) => problem.message);
  // A bundle's 2.0 objects are upgraded together, so that observables shared between observed-data merge.
  const together = read.objects.some((item) => item.version === '2.0');
  const objects = read.objects;
  const sizes = batchSizes(options);
  let start = 0;
  while (start < objects.length) {
    const end = together ? objects.length : batchEnd(objects, start, sizes.next(), options);
    const batch = prepareBatch(label, objects.slice(start, end), problems, 0);
    problems = [];
    start = end;
    yield start >= objects.length ? { ...batch, bytes } : batch;
  }
  if (objects.length === 0) yield { input: label, problems, rejections: [], warnings: 0, versions: [], bytes };
}

/** The growing batch sizes of one input: first, twice that, … up to the largest. */
function batchSizes(options: PipelineOptions): { next(): number } {
  let size = Math.max(1, Math.min(options.firstBatchObjects, options.batchObjects));
  return {
    next: () => {
      const current = size;
      size = Math.min(options.batchObjects, size * 2);
      return current;
    },
  };
}

/**
 * Where the batch that starts at `start` ends: at `batchObjects` objects, or earlier once the objects'
 * source size (a cheap estimate, the serialised text is not known yet) passes `batchChars`.
 */
function batchEnd(objects: readonly ReadObject[], start: number, size: number, options: PipelineOptions): number {
  const limit = Math.min(objects.length, start + size);
  let chars = 0;
  for (let index = start; index < limit; index += 1) {
    chars += estimateChars(objects[index]?.object);
    if (chars >= options.batchChars) return index + 1;
  }
  return limit;
}

/** A rough JSON size: strings and arrays at the top level, which is where STIX objects keep their bulk. */
function estimateChars(object: Record<string, unknown> | undefined): number {
  if (object === undefined) return 0;
  let chars = 2;
  for (const key in object) {
    const value = object[key];
    chars += key.length + 4;
    if (typeof value === 'string') chars += value.length;
    else if (Array.isArray(value)) chars += 64 * value.length;
    else chars += 16;
  }
  return chars;
}

/**
 * JSON lines in batches. Each STIX 2.1 object is validated and serialised as soon as its line is read,
 * so that only its stored form waits for the batch's end: holding 20,000 parsed objects until then
 * made the young-generation collector copy each of them out (and kept them all in memory). STIX 2.0
 * objects still wait, to be upgraded together at the batch's end as prepareImport does, so the
 * batch is the same: its 2.1 versions in line order, then the upgraded ones; rejections likewise.
 */
async function* jsonLinesBatches(path: string, options: PipelineOptions): AsyncGenerator<PreparedBatch> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNumber = 0;
  const sizes = batchSizes(options);
  let size = sizes.next();
  let pending = 0;
  let versions: PreparedVersion[] = [];
  let rejections: ImportRejection[] = [];
  let warnings = 0;
  let stix20: ReadObject[] = [];
  let pendingChars = 0;
  let problems: string[] = [];
  let bytes = 0;
  const batch = (): PreparedBatch => {
    if (stix20.length > 0) {
      const upgraded = prepareImport(stix20, randomUUID);
      for (const rejection of upgraded.rejected) rejections.push(rejection);
      warnings += upgraded.warnings;
      for (const object of upgraded.objects) versions.push(prepareVersion(object));
    }
    const prepared: PreparedBatch = { input: path, problems, rejections, warnings, versions, bytes };
    pending = 0;
    versions = [];
    rejections = [];
    warnings = 0;
    stix20 = [];
    pendingChars = 0;
    problems = [];
    bytes = 0;
    return prepared;
  };
  for await (const line of lines) {
    lineNumber += 1;
    bytes += Buffer.byteLength(line) + 1;
    if (line.trim() === '') continue;
    const read = readJsonLine(line, lineNumber, { maxDepth: options.maxDepth });
    for (const problem of read.problems) problems.push(problem.message);
    const only = read.objects.length === 1;
    for (const item of read.objects) {
      pending += 1;
      if (item.version === '2.0') {
        stix20.push(item);
        continue;
      }
      const verdict = checkImportObject(item.object, locate(item));
      warnings += verdict.warnings;
      if (verdict.rejection !== undefined) {
        rejections.push(verdict.rejection);
        continue;
      }
      // A line already in JSON.stringify form is stored as read: serialising the object again would give the same text.
      const source = only && item.container === 'object' && isStringifyForm(line, item.object) ? line : undefined;
      versions.push(prepareVersion(item.object as StixObject, source));
    }
    pendingChars += line.length;
    if (pending >= size || pendingChars >= options.batchChars) {
      yield batch();
      size = sizes.next();
    }
  }
  if (pending > 0 || problems.length > 0 || bytes > 0) yield batch();
}

function prepareBatch(input: string, read: readonly ReadObject[], problems: readonly string[], bytes: number): PreparedBatch {
  const prepared = prepareImport(read, randomUUID);
  return {
    input,
    problems,
    rejections: prepared.rejected,
    warnings: prepared.warnings,
    versions: prepared.objects.map((object: StixObject) => prepareVersion(object)),
    bytes,
  };
}

// ---- Worker thread ----

/**
 * The memory the worker hands texts over in: `slots` slots of `slotBytes` each, in a SharedArrayBuffer
 * the caller allocates once. A batch's texts are written into a free slot as UTF-8, and the caller's
 * store binds them from there as they are; the caller gives the slot back once the batch is stored.
 * Copying them instead (a string joined in the worker, cloned into the caller, split there) touched
 * four fresh copies of every byte of the input: ATT&CK Enterprise took twice the page faults of the
 * whole import in one thread, at about 15 µs a fault on the bench machine.
 */
export interface TransferSlots {
  readonly shared: SharedArrayBuffer;
  readonly slotBytes: number;
  readonly slots: number;
}

/** What the worker is given. */
export interface WorkerRequest {
  readonly inputs: readonly ImportInput[];
  readonly options: PipelineOptions;
  readonly transfer: TransferSlots;
}

/** Texts of one version in a packed part: JSON, name, description, aliases. */
const TEXTS_PER_VERSION = 4;
const NULL_TEXT = -1;
const OVERSIZED_TEXT = -2;

/**
 * Versions of (part of) a batch: the short columns as arrays, the texts in one slot of the shared
 * memory (`spans`: a byte offset and a byte length for each text, 4 a version; length -1 is null). A
 * version whose texts do not fit in an empty slot travels alone, its texts in `oversized` (length -2).
 */
export interface PackedVersions {
  readonly ids: string[];
  readonly types: string[];
  readonly versions: string[];
  readonly specVersions: string[];
  readonly revoked: Uint8Array;
  /** The slot holding the texts; -1 when there are none (no version, or one oversized). */
  readonly slot: number;
  readonly spans: Int32Array;
  readonly oversized: (string | null)[] | undefined;
}

const encoder = new TextEncoder();

/**
 * Packs versions from `from` on into `slot` (a view of one slot of the shared memory) until it is
 * full: returns the packed part and the index of the first version left for the next part. The
 * worker's versions hold strings (prepareVersion).
 */
export function packVersions(prepared: readonly PreparedVersion[], from: number, slot: Uint8Array, slotIndex: number): { packed: PackedVersions; next: number } {
  const spans: number[] = [];
  const ids: string[] = [];
  const types: string[] = [];
  const versions: string[] = [];
  const specVersions: string[] = [];
  const revoked: number[] = [];
  let offset = 0;
  let next = from;
  const write = (text: string | null): boolean => {
    if (text === null) {
      spans.push(0, NULL_TEXT);
      return true;
    }
    const { read, written } = encoder.encodeInto(text, slot.subarray(offset));
    if (read < text.length) return false;
    spans.push(offset, written);
    offset += written;
    return true;
  };
  for (; next < prepared.length; next += 1) {
    const version = prepared[next] as PreparedVersion;
    const texts = stringsOf(version);
    const start = offset;
    const spansBefore = spans.length;
    if (!texts.every(write)) {
      offset = start;
      spans.length = spansBefore;
      if (next > from) break;
      // Alone and still too large for a slot: its texts travel as strings.
      return {
        packed: { ids: [version.id], types: [version.type], versions: [version.version], specVersions: [version.specVersion], revoked: Uint8Array.of(version.revoked ? 1 : 0), slot: -1, spans: Int32Array.of(0, OVERSIZED_TEXT, 0, OVERSIZED_TEXT, 0, OVERSIZED_TEXT, 0, OVERSIZED_TEXT), oversized: texts },
        next: next + 1,
      };
    }
    ids.push(version.id);
    types.push(version.type);
    versions.push(version.version);
    specVersions.push(version.specVersion);
    revoked.push(version.revoked ? 1 : 0);
  }
  return {
    packed: { ids, types, versions, specVersions, revoked: Uint8Array.from(revoked), slot: ids.length === 0 ? -1 : slotIndex, spans: Int32Array.from(spans), oversized: undefined },
    next,
  };
}

function stringsOf(version: PreparedVersion): (string | null)[] {
  const text = version.text;
  return [version.json, text?.name ?? null, text?.description ?? null, text?.aliases ?? null].map((value) => {
    if (value !== null && typeof value !== 'string') throw new Error(`the worker packs texts it made itself, as strings; ${version.id} holds bytes`);
    return value;
  });
}

/** The versions of a packed part, their texts views of the slot (valid until the slot is given back). */
export function unpackVersions(packed: PackedVersions, transfer: TransferSlots): PreparedVersion[] {
  const count = packed.ids.length;
  const slot = packed.slot < 0 ? undefined : Buffer.from(transfer.shared, packed.slot * transfer.slotBytes, transfer.slotBytes);
  const texts = packed.spans;
  const textAt = (index: number): string | Uint8Array | null => {
    const length = texts[index * 2 + 1] as number;
    if (length === NULL_TEXT) return null;
    if (length === OVERSIZED_TEXT) return packed.oversized?.[index % TEXTS_PER_VERSION] ?? null;
    const start = texts[index * 2] as number;
    if (slot === undefined) throw new Error('a packed text names no slot');
    return slot.subarray(start, start + length);
  };
  const versions = new Array<PreparedVersion>(count);
  for (let index = 0; index < count; index += 1) {
    const first = index * TEXTS_PER_VERSION;
    const json = textAt(first);
    if (json === null) throw new Error(`the packed version ${packed.ids[index] ?? ''} has no JSON`);
    const name = textAt(first + 1);
    const description = textAt(first + 2);
    const aliases = textAt(first + 3);
    versions[index] = {
      id: packed.ids[index] as string,
      type: packed.types[index] as string,
      version: packed.versions[index] as string,
      specVersion: packed.specVersions[index] as string,
      revoked: packed.revoked[index] === 1,
      json,
      text: name === null && description === null && aliases === null ? undefined : { name, description, aliases },
    };
  }
  return versions;
}

/** Worker → caller. */
export type WorkerMessage =
  | { readonly kind: 'batch'; readonly batch: Omit<PreparedBatch, 'versions'>; readonly packed: PackedVersions }
  | { readonly kind: 'step'; readonly step: Exclude<ImportStep, { readonly kind: 'batch' }> }
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly error: PlainError };

/** Caller → worker: the slot of a batch now stored, free again. */
export interface WorkerRelease {
  readonly release: number;
}
