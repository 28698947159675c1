import { Command } from 'commander';
import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { SingleBar } from 'cli-progress';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { findCollection } from '../../bootstrap-node.ts';
import { readJsonLine, readJsonLines, readJsonText, type ReadObject, type ReadResult } from '../../stix/read-documents.ts';
import { prepareImport, type ImportRejection } from '../../store/prepare-import.ts';
import { ingest } from '../../store/ingest.ts';
import type { ObjectStore } from '../../store/object-store.ts';

interface ImportOptions extends NodeLocationOptions {
  collection?: string;
  quiet?: boolean;
}

/** Objects per store transaction: large enough to amortise the commit, small enough to bound memory. */
const batchSize = 2000;
/** V8 cannot hold a string much beyond 512 MiB; larger inputs must come as JSON lines, read line by line. */
const largestWholeDocument = 500 * 1024 * 1024;
const progressThresholdBytes = 4 * 1024 * 1024;
const jsonLinesExtensions = new Set(['.jsonl', '.ndjson']);
const documentExtensions = new Set(['.json', '.jsonl', '.ndjson']);
const maxJsonDepth = 64;

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
}

export function importCommand(io: CliIo): Command {
  return new Command('import')
    .description('load STIX 2.1 bundles, STIX 2.0 bundles (upgraded to 2.1) and JSON lines into a collection')
    .argument('<inputs...>', 'files, directories (every .json, .jsonl, .ndjson inside) or - for standard input')
    .option('--collection <id>', 'collection id or alias (default: the default collection)')
    .option('--quiet', 'print only the totals, not each rejection')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ entente import enterprise-attack.json --collection default\n  $ cat feed.jsonl | entente import - --collection partner-feed\n\n' +
        'Every object is validated; invalid ones are listed with the reason and the rest are stored.\n' +
        'Exit status: 0 when everything was stored or already present, 1 when anything was rejected.',
    )
    .action(async (inputs: string[], options: ImportOptions) => {
      const files = inputs.flatMap((input) => expandInput(input));
      await withNode(io, options, async (node) => {
        const collection =
          options.collection === undefined ? node.identity.defaultCollection : await findCollection(node.store, options.collection);
        if (collection === undefined) {
          throw new EntenteError('ENT_COLLECTION_NOT_FOUND', `no collection "${options.collection ?? ''}" (see entente collection list)`);
        }
        const totalBytes = files.reduce((sum, file) => sum + (file === '-' ? 0 : statSync(file).size), 0);
        const bar = io.interactive && totalBytes >= progressThresholdBytes ? new SingleBar({ stream: io.stderr as NodeJS.WriteStream, format: 'importing [{bar}] {percentage}% | {value}/{total} bytes | {eta}s left' }) : undefined;
        bar?.start(totalBytes, 0);
        const totals: Totals = { accepted: 0, duplicate: 0, rejected: 0, warnings: 0 };
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
        };
        try {
          for (const file of files) {
            if (file === '-') await importWholeDocument('standard input', await readAll(io.stdin), sink);
            else if (jsonLinesExtensions.has(extname(file).toLowerCase())) await importJsonLinesFile(file, sink);
            else {
              const size = statSync(file).size;
              if (size > largestWholeDocument) {
                sink.reportProblem(file, `${size} bytes is more than a single JSON document may hold here (500 MiB); write it as JSON lines (.jsonl) instead`);
                continue;
              }
              await importWholeDocument(file, readFileSync(file, 'utf8'), sink);
              sink.advance(size);
            }
          }
        } finally {
          bar?.stop();
        }
        writeLine(
          io.stdout,
          `${totals.accepted} accepted, ${totals.duplicate} duplicate, ${totals.rejected} rejected` +
            (totals.warnings > 0 ? ` (${totals.warnings} warnings)` : '') +
            ` into collection ${collection.id}`,
        );
        if (totals.rejected > 0) io.outcome.partialFailure = true;
      });
    });
}

/** A directory stands for every STIX document below it, in name order so that runs are repeatable. */
function expandInput(input: string): string[] {
  if (input === '-') return ['-'];
  let stats;
  try {
    stats = statSync(input);
  } catch (cause) {
    throw new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${input}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
  if (!stats.isDirectory()) return [input];
  return readdirSync(input)
    .sort()
    .flatMap((name) => {
      const path = join(input, name);
      const isDirectory = statSync(path).isDirectory();
      return isDirectory || documentExtensions.has(extname(name).toLowerCase()) ? expandInput(path) : [];
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

/** A bundle, envelope or single object; if the text is not one JSON document, it is read as JSON lines. */
async function importWholeDocument(input: string, text: string, sink: ImportSink): Promise<void> {
  let read: ReadResult = readJsonText(text, { maxDepth: maxJsonDepth });
  if (read.objects.length === 0 && read.problems.some((problem) => problem.code === 'ENT_INPUT_MALFORMED_JSON') && text.includes('\n')) {
    const asLines = readJsonLines(text, { maxDepth: maxJsonDepth });
    if (asLines.objects.length > 0) read = asLines;
  }
  for (const problem of read.problems) sink.reportProblem(input, problem.message);
  // A bundle's 2.0 objects are upgraded together, so that observables shared between observed-data merge.
  const step = read.objects.some((item) => item.version === '2.0') ? read.objects.length : batchSize;
  for (let start = 0; start < read.objects.length; start += step) {
    await storeBatch(input, read.objects.slice(start, start + step), sink);
  }
}

async function importJsonLinesFile(file: string, sink: ImportSink): Promise<void> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNumber = 0;
  let pending: ReadObject[] = [];
  for await (const line of lines) {
    lineNumber += 1;
    sink.advance(Buffer.byteLength(line) + 1);
    if (line.trim() === '') continue;
    const read = readJsonLine(line, lineNumber, { maxDepth: maxJsonDepth });
    for (const problem of read.problems) sink.reportProblem(file, problem.message);
    for (const object of read.objects) pending.push(object);
    if (pending.length >= batchSize) {
      await storeBatch(file, pending, sink);
      pending = [];
    }
  }
  if (pending.length > 0) await storeBatch(file, pending, sink);
}

async function storeBatch(input: string, read: readonly ReadObject[], sink: ImportSink): Promise<void> {
  const prepared = prepareImport(read, randomUUID);
  sink.totals.warnings += prepared.warnings;
  for (const rejection of prepared.rejected) sink.reportRejection(input, rejection);
  if (prepared.objects.length === 0) return;
  const result = await ingest(sink.store, { collectionId: sink.collectionId, objects: prepared.objects });
  sink.totals.accepted += result.accepted;
  sink.totals.duplicate += result.duplicate;
  for (const rejection of result.rejected) {
    sink.reportRejection(input, { where: '', id: rejection.id, version: rejection.version, reason: `${rejection.message} [${rejection.code}]` });
  }
}
