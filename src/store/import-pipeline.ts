import { createReadStream, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { readJsonLine, readJsonLines, readJsonText, type ReadObject, type ReadResult } from '../stix/read-documents.ts';
import { readContainerFile } from '../stix/read-container-chunks.ts';
import { checkImportObject, locate, prepareImport, type ImportRejection } from './prepare-import.ts';
import { prepareVersion, type PreparedVersion } from './prepared-version.ts';
import { isStringifyForm } from '../stix/stringify-form.ts';
import type { StixObject } from '../stix/types.ts';

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
}

/** Reads, validates and prepares every input in order, in this thread. */
export async function* prepareImportBatches(inputs: readonly ImportInput[], options: PipelineOptions): AsyncGenerator<PreparedBatch> {
  for (const input of inputs) {
    if (input.kind === 'lines') yield* jsonLinesBatches(input.path, options);
    else if (input.kind === 'document') yield* documentBatches(input.path, readDocumentFile(input.path, options), input.size, options);
    else yield* documentBatches(input.label, readDocumentText(input.text, options), 0, options);
  }
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

/** What the worker is given. */
export interface WorkerRequest {
  readonly inputs: readonly ImportInput[];
  readonly options: PipelineOptions;
}

/**
 * The versions of a batch as columns, the JSON texts joined by newlines (neither JSON.stringify nor a
 * line in its form holds a raw newline): copying between threads costs per object and per key, and
 * one object per version made the copy cost more than the SQL it feeds.
 */
export interface PackedVersions {
  readonly ids: string[];
  readonly types: string[];
  readonly versions: string[];
  readonly specVersions: string[];
  readonly revoked: Uint8Array;
  readonly json: string;
  readonly names: (string | null)[];
  readonly descriptions: (string | null)[];
  readonly aliases: (string | null)[];
}

export function packVersions(prepared: readonly PreparedVersion[]): PackedVersions {
  const count = prepared.length;
  const packed: PackedVersions = {
    ids: new Array<string>(count),
    types: new Array<string>(count),
    versions: new Array<string>(count),
    specVersions: new Array<string>(count),
    revoked: new Uint8Array(count),
    json: '',
    names: new Array<string | null>(count),
    descriptions: new Array<string | null>(count),
    aliases: new Array<string | null>(count),
  };
  const texts = new Array<string>(count);
  for (let index = 0; index < count; index += 1) {
    const version = prepared[index] as PreparedVersion;
    if (version.json.includes('\n')) throw new Error(`the JSON text of ${version.id} holds a raw newline`);
    packed.ids[index] = version.id;
    packed.types[index] = version.type;
    packed.versions[index] = version.version;
    packed.specVersions[index] = version.specVersion;
    packed.revoked[index] = version.revoked ? 1 : 0;
    texts[index] = version.json;
    packed.names[index] = version.text?.name ?? null;
    packed.descriptions[index] = version.text?.description ?? null;
    packed.aliases[index] = version.text?.aliases ?? null;
  }
  return { ...packed, json: texts.join('\n') };
}

export function unpackVersions(packed: PackedVersions): PreparedVersion[] {
  const count = packed.ids.length;
  const texts = count === 0 ? [] : packed.json.split('\n');
  const versions = new Array<PreparedVersion>(count);
  for (let index = 0; index < count; index += 1) {
    const name = packed.names[index] ?? null;
    const description = packed.descriptions[index] ?? null;
    const aliases = packed.aliases[index] ?? null;
    versions[index] = {
      id: packed.ids[index] as string,
      type: packed.types[index] as string,
      version: packed.versions[index] as string,
      specVersion: packed.specVersions[index] as string,
      revoked: packed.revoked[index] === 1,
      json: texts[index] as string,
      text: name === null && description === null && aliases === null ? undefined : { name, description, aliases },
    };
  }
  return versions;
}

/** Worker → caller. */
export type WorkerMessage =
  | { readonly kind: 'batch'; readonly batch: Omit<PreparedBatch, 'versions'>; readonly packed: PackedVersions }
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly code: string | undefined; readonly message: string; readonly stack: string | undefined };

/** Caller → worker: how many more batches it may send. */
export interface WorkerCredit {
  readonly credit: number;
}
