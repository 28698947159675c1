import { Command } from 'commander';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join, extname } from 'node:path';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { findCollection } from '../../bootstrap-node.ts';
import type { ImportRejection } from '../../store/prepare-import.ts';
import { prepareImportBatches, prepareImportSteps, type ImportInput, type ImportStep, type PipelineOptions, type PreparedBatch } from '../../store/import-pipeline.ts';
import { prepareImportStepsInWorker, type WorkerSteps } from '../../store/import-in-worker.ts';
import {
  beginImportTransaction,
  ingestPrepared,
  sizeCacheForImport,
  startBackgroundCheckpoints,
  type BackgroundCheckpoints,
  type ImportTransaction,
} from '../../store/ingest.ts';
import type { ObjectStore } from '../../store/object-store.ts';

interface ImportOptions extends NodeLocationOptions {
  collection?: string;
  quiet?: boolean;
  from?: string;
}

/**
 * Bundle files up to this size are streamed: prepared as they are read and stored in one transaction
 * (import-pipeline.ts, ImportStep), instead of read whole before the first batch. The transaction holds
 * the store's write lock from the first batch to the last, and a node running on the same directory
 * waits for it at most busy_timeout (5 s) before its write fails: 64 MiB is about 2 s here
 * (ATT&CK Enterprise, 50 MB: 1.3 s). Larger bundles keep one transaction a batch.
 */
const largestStreamedDocument = 64 * 1024 * 1024;
/**
 * Objects per store transaction. Each commit rewrites every page it dirtied, and the random UUIDs of
 * STIX ids spread a batch's id-index updates over the whole index, so larger transactions write far
 * fewer pages per object (2,000 → 20,000 halved the pages written at 200,000 indicators). The
 * character bound keeps a transaction of large objects (ATT&CK) short: a node running meanwhile
 * waits for the write lock at most that long.
 */
const pipelineOptions: PipelineOptions = {
  firstBatchObjects: 1000,
  batchObjects: 20_000,
  batchChars: 16 * 1024 * 1024,
  maxDepth: 64,
  streamDocumentsUpTo: largestStreamedDocument,
};
/** V8 cannot hold a string much beyond 512 MiB; larger inputs must come as JSON lines, read line by line. */
const largestWholeDocument = 500 * 1024 * 1024;

const progressThresholdBytes = 4 * 1024 * 1024;
/**
 * From this much JSON lines on, a worker thread parses and validates while this thread writes. Below
 * it the worker's start (a second thread loading the validator) costs more than the overlap gains.
 */
const workerThresholdBytes = 32 * 1024 * 1024;
/**
 * From this much streamed bundle on (see largestStreamedDocument), the worker reads and prepares it
 * while this thread writes: a bundle read whole gave the store nothing to start on before its last
 * byte, but a streamed one gives a batch as soon as its first thousand objects are read.
 */
const streamedWorkerThresholdBytes = 8 * 1024 * 1024;
/**
 * From this much input on, and only without the worker, a second connection checkpoints the store's
 * log between transactions (ATT&CK Enterprise: the close went from 230-290 ms to about 20 ms). With
 * the worker the second core is busy validating, and the large JSON-lines imports it serves rewrite
 * the same id-index pages batch after batch, which the store's rare checkpoints write back once.
 */
const backgroundCheckpointBytes = 8 * 1024 * 1024;
const jsonLinesExtensions = new Set(['.jsonl', '.ndjson']);
const documentExtensions = new Set(['.json', '.jsonl', '.ndjson']);

/** How the batches are prepared: `auto` picks the worker for large file inputs. Tests force one or the other. */
export type ImportPipelineMode = 'auto' | 'worker' | 'inline';
let pipelineMode: ImportPipelineMode = 'auto';

/** For tests: forces (or restores, with `auto`) the way `entente import` prepares batches. */
export function setImportPipelineMode(mode: ImportPipelineMode): void {
  pipelineMode = mode;
}

interface Totals {
  accepted: number;
  duplicate: number;
  rejected: number;
  warnings: number;
}

interface ImportSink {
  readonly store: ObjectStore;
  readonly collectionId: string;
  readonly totals: Totals;
  reportRejection(input: string, rejection: ImportRejection): void;
  reportProblem(input: string, message: string): void;
  advance(bytes: number): void;
  /** After each batch's transaction. */
  committed(): void;
}

export function importCommand(io: CliIo): Command {
  return new Command('import')
    .description('load STIX 2.1 bundles, STIX 2.0 bundles (upgraded to 2.1) and JSON lines into a collection')
    .argument('<inputs...>', 'files, directories (every .json, .jsonl, .ndjson inside) or - for standard input')
    .option('--collection <id>', 'collection id or alias (default: the default collection)')
    .option('--quiet', 'print only the totals, not each rejection')
    .option('--from <organisation>', 'a signed bundle (entente export --signed) from the Entente node of this organisation: every object is checked against the keys pinned for it (entente key pin) and what fails is quarantined')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ entente import enterprise-attack.json --collection default\n  $ cat feed.jsonl | entente import - --collection partner-feed\n  $ entente import from-grid-co.json --from identity--7d3c… --collection grid-circle   (a signed bundle from an air-gapped node)\n\n' +
        'Every object is validated; invalid ones are listed with the reason and the rest are stored.\n' +
        'Exit status: 0 when everything was stored or already present, 1 when anything was rejected.',
    )
    .action(async (inputs: string[], options: ImportOptions) => {
      // The signed-bundle path (federation arrival checks) is loaded only when --from asks for it.
      if (options.from !== undefined) return (await import('./import-signed.ts')).importSignedFile(io, inputs, { ...options, from: options.from });
      const files = inputs.flatMap((input) => expandInput(input, (message) => writeLine(io.stderr, `entente: warning: ${message}`)));
      const plan = planImport(files);
      // The worker loads the validator and reads the first files while the store opens.
      const early = plan.firstRun.length > 0 && plan.useWorker ? prepareImportStepsInWorker(plan.firstRun, pipelineOptions) : undefined;
      try {
        await importInto(io, options, files, plan, early);
      } finally {
        await early?.close();
      }
    });
}

interface ImportPlan {
  readonly useWorker: boolean;
  /** The files before the first standard input or refused document: what the first run prepares. */
  readonly firstRun: readonly ImportInput[];
}

function planImport(files: readonly string[]): ImportPlan {
  const jsonLinesBytes = files.reduce((sum, file) => sum + (file !== '-' && jsonLinesExtensions.has(extname(file).toLowerCase()) ? statSync(file).size : 0), 0);
  const streamedBytes = files.reduce((sum, file) => sum + streamedSize(file), 0);
  const useWorker =
    pipelineMode === 'worker' || (pipelineMode === 'auto' && (jsonLinesBytes >= workerThresholdBytes || streamedBytes >= streamedWorkerThresholdBytes));
  const firstRun: ImportInput[] = [];
  for (const file of files) {
    const input = fileInput(file);
    if (input === undefined) break;
    firstRun.push(input);
  }
  return { useWorker, firstRun };
}

/** The size of a document the pipeline streams (prepareImportSteps), else 0. */
function streamedSize(file: string): number {
  const input = file === '-' ? undefined : fileInput(file);
  const limit = pipelineOptions.streamDocumentsUpTo;
  return input?.kind === 'document' && limit !== undefined && input.size <= limit ? input.size : 0;
}

/** A file as the pipeline reads it; undefined for standard input and for documents too large to read whole. */
function fileInput(file: string): ImportInput | undefined {
  if (file === '-') return undefined;
  if (jsonLinesExtensions.has(extname(file).toLowerCase())) return { kind: 'lines', path: file };
  const size = statSync(file).size;
  return size > largestWholeDocument ? undefined : { kind: 'document', path: file, size };
}

async function importInto(io: CliIo, options: ImportOptions, files: readonly string[], plan: ImportPlan, early: WorkerSteps | undefined): Promise<void> {
  await withNode(io, options, async (node) => {
    const collection =
      options.collection === undefined ? node.identity.defaultCollection : await findCollection(node.store, options.collection);
    if (collection === undefined) {
      throw new EntenteError('ENT_COLLECTION_NOT_FOUND', `no collection "${options.collection ?? ''}" (see entente collection list)`);
    }
    const totalBytes = files.reduce((sum, file) => sum + (file === '-' ? 0 : statSync(file).size), 0);
    // The progress bar's module is loaded only when a bar is drawn (a terminal and a large input).
    const bar =
      io.interactive && totalBytes >= progressThresholdBytes
        ? new (await import('cli-progress')).SingleBar({ stream: io.stderr as NodeJS.WriteStream, format: 'importing [{bar}] {percentage}% | {value}/{total} bytes | {eta}s left' })
        : undefined;
    bar?.start(totalBytes, 0);
    const totals: Totals = { accepted: 0, duplicate: 0, rejected: 0, warnings: 0 };
    // Standard input counts 0 bytes: the cache is then left as the store opened it.
    sizeCacheForImport(node.store, totalBytes);
    const checkpoints: BackgroundCheckpoints | undefined = !plan.useWorker && totalBytes >= backgroundCheckpointBytes ? startBackgroundCheckpoints(node.store) : undefined;
    const sink: ImportSink = {
      store: node.store,
      collectionId: collection.id,
      totals,
      reportRejection: (input, rejection) => {
        totals.rejected += 1;
        if (options.quiet !== true) {
          writeLine(io.stderr, `rejected ${input} ${rejection.where} ${rejection.id}: ${rejection.reason}`);
        }
      },
      reportProblem: (input, message) => {
        totals.rejected += 1;
        if (options.quiet !== true) writeLine(io.stderr, `rejected ${input}: ${message}`);
      },
      advance: (bytes) => bar?.increment(bytes),
      committed: () => checkpoints?.requestCheckpoint(),
    };
    try {
      await importInputs(io, files, sink, plan, early);
    } finally {
      bar?.stop();
      await checkpoints?.close();
    }
    writeLine(
      io.stdout,
      `${totals.accepted} accepted, ${totals.duplicate} duplicate, ${totals.rejected} rejected` +
        (totals.warnings > 0 ? ` (${totals.warnings} warnings)` : '') +
        ` into collection ${collection.id}`,
    );
    if (totals.rejected > 0) io.outcome.partialFailure = true;
  });
}

function unreadable(path: string, cause: unknown): EntenteError {
  return new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
}

function statOf(path: string, stat: (path: string) => Stats): Stats {
  try {
    return stat(path);
  } catch (cause) {
    throw unreadable(path, cause);
  }
}

/**
 * A directory stands for every STIX document below it, in name order so that runs are repeatable.
 * An input named on the command line is followed wherever it leads; below it, a link to a document is
 * read like the document, but a link to a directory is not followed (one to a parent made the walk
 * endless, ending in ELOOP) and `warn` names it. Unreadable entries: ENT_INPUT_UNREADABLE.
 */
function expandInput(input: string, warn: (message: string) => void): string[] {
  if (input === '-') return ['-'];
  return statOf(input, statSync).isDirectory() ? documentsBelow(input, warn) : [input];
}

function documentsBelow(directory: string, warn: (message: string) => void): string[] {
  let names: string[];
  try {
    names = readdirSync(directory).sort();
  } catch (cause) {
    throw unreadable(directory, cause);
  }
  return names.flatMap((name) => {
    const path = join(directory, name);
    const isDocument = documentExtensions.has(extname(name).toLowerCase());
    const entry = statOf(path, lstatSync);
    if (entry.isDirectory()) return documentsBelow(path, warn);
    if (!entry.isSymbolicLink()) return isDocument ? [path] : [];
    let target: Stats;
    try {
      target = statSync(path);
    } catch (cause) {
      // A broken link is an error only where a document was expected.
      if (isDocument) throw unreadable(path, cause);
      return [];
    }
    if (target.isDirectory()) {
      warn(`skipped ${path}: a symbolic link to a directory, not followed`);
      return [];
    }
    return isDocument ? [path] : [];
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > largestWholeDocument) {
      throw new EntenteError('ENT_INPUT_TOO_LARGE', 'standard input is larger than 500 MiB; import it from a .jsonl file instead');
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Resolves the inputs (a document over 500 MiB is refused, it must come as JSON lines), then stores
 * the prepared batches in order: each batch's document problems, then its validation rejections,
 * then the store's outcomes, one transaction per batch.
 */
async function importInputs(io: CliIo, files: readonly string[], sink: ImportSink, plan: ImportPlan, early: WorkerSteps | undefined): Promise<void> {
  // Files are prepared in runs; standard input and refused files end a run, so that messages keep the order of the inputs.
  let run: ImportInput[] = [];
  let first = true;
  const flush = async (): Promise<void> => {
    const inputs = run;
    run = [];
    const started = first ? early : undefined;
    first = false;
    if (inputs.length === 0) return;
    if (started !== undefined && !sameInputs(started.inputs, inputs)) throw new Error('the import worker was started on other inputs');
    await storeSteps(started ?? (plan.useWorker ? prepareImportStepsInWorker(inputs, pipelineOptions) : prepareImportSteps(inputs, pipelineOptions)), sink);
  };
  for (const file of files) {
    const input = fileInput(file);
    if (input !== undefined) {
      run.push(input);
      continue;
    }
    await flush();
    if (file === '-') {
      const text = await readAll(io.stdin);
      for await (const batch of prepareImportBatches([{ kind: 'text', label: 'standard input', text }], pipelineOptions)) {
        (await storeBatch(batch, sink.store, sink.collectionId))(sink);
      }
    } else {
      const size = statSync(file).size;
      sink.reportProblem(file, `${size} bytes is more than a single JSON document may hold here (500 MiB); write it as JSON lines (.jsonl) instead`);
    }
  }
  await flush();
}

function sameInputs(a: readonly ImportInput[], b: readonly ImportInput[]): boolean {
  return a.length === b.length && a.every((input, index) => JSON.stringify(input) === JSON.stringify(b[index]));
}

/**
 * Stores the steps in order. A streamed document's batches go into one transaction, and are reported
 * only once it is committed; an undone document leaves nothing stored and nothing reported (its input
 * follows, read whole). An error, or an early end, rolls an open document back.
 */
async function storeSteps(steps: AsyncIterable<ImportStep>, sink: ImportSink): Promise<void> {
  let document: { readonly transaction: ImportTransaction; readonly reports: ((sink: ImportSink) => void)[] } | undefined;
  try {
    for await (const step of steps) {
      if (step.kind === 'batch') {
        const report = await storeBatch(step.batch, sink.store, sink.collectionId);
        if (document !== undefined) document.reports.push(report);
        else report(sink);
      } else if (step.kind === 'document-begin') {
        const transaction = beginImportTransaction(sink.store);
        if (transaction === undefined) throw new Error(`the store cannot hold ${step.input} in one transaction, so it cannot be streamed`);
        document = { transaction, reports: [] };
      } else {
        if (document === undefined) throw new Error(`the import pipeline sent ${step.kind} outside a document`);
        const { transaction, reports } = document;
        document = undefined;
        if (step.kind === 'document-undo') {
          transaction.rollback();
          continue;
        }
        transaction.commit();
        for (const report of reports) report(sink);
      }
    }
  } finally {
    document?.transaction.rollback();
  }
}

/**
 * Writes one batch, and gives what reports it: its document problems, then its validation rejections,
 * then the store's outcomes, and the checkpoint request once they are committed.
 */
async function storeBatch(batch: PreparedBatch, store: ObjectStore, collectionId: string): Promise<(sink: ImportSink) => void> {
  const result = batch.versions.length > 0 ? await ingestPrepared(store, { collectionId, versions: batch.versions }) : undefined;
  // Not the batch: a streamed document's reports wait for its commit, and its versions (their texts) must not wait with them.
  const { input, problems, warnings, rejections, bytes } = batch;
  const accepted = result?.accepted ?? 0;
  const duplicate = result?.duplicate ?? 0;
  const refused = result?.rejected ?? [];
  const stored = result !== undefined;
  return (sink) => {
    for (const problem of problems) sink.reportProblem(input, problem);
    sink.totals.warnings += warnings;
    for (const rejection of rejections) sink.reportRejection(input, rejection);
    if (stored) {
      sink.totals.accepted += accepted;
      sink.totals.duplicate += duplicate;
      for (const rejection of refused) {
        sink.reportRejection(input, { where: '', id: rejection.id, version: rejection.version, reason: `${rejection.message} [${rejection.code}]` });
      }
      sink.committed();
    }
    sink.advance(bytes);
  };
}
