import { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { terminalLine } from '../terminal-text.ts';
import type { OpenedNode } from '../../compose.ts';
import { createDraft } from '../../drafts/draft-operations.ts';
import { extractDocument, withExtractionWarnings } from '../../drafts/extract-document.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import type { ExtractResult, Observable } from '../../extract/extract-observables.ts';
import { loadExtractData } from '../../extract/load-extract-data.ts';
import { DEFAULT_DOCUMENT_LIMITS } from '../../documents/document-limits.ts';
import { locateOffset } from '../../documents/document-text.ts';
import type { DocumentText } from '../../documents/document-text.ts';
import { readDocument } from '../../documents/read-document.ts';

interface ExtractOptions extends NodeLocationOptions {
  json?: boolean;
  publisher?: string[];
  /** False with --no-draft (a dry run: nothing is stored). */
  draft: boolean;
}

const largestFile = DEFAULT_DOCUMENT_LIMITS.maxBytes;

export function extractCommand(io: CliIo): Command {
  return new Command('extract')
    .description('find observables (IPs, domains, URLs, hashes, CVEs, ATT&CK ids, …) in reports (text, Markdown, HTML, PDF, e-mail), refanging defanged ones')
    .argument('<files...>', 'reports: plain text, Markdown, HTML, PDF or .eml (the format is recognised from the content)')
    .option('--json', 'one JSON object per file: {"file","format","observables":[{type,value,start,end,confidence,suppressed?,page?,part?}],"techniques":[…],"warnings":[…]}')
    .option('--publisher <domain...>', "the report publisher's own domains, whose links are not indicators")
    .option('--no-draft', 'a dry run: print what was found without storing a draft for review')
    .option('--data <dir>', 'data directory of the node that keeps the drafts (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExample:\n  $ entente extract apt-report.txt --json --publisher vendor.example\n  $ entente extract apt-report.pdf --no-draft      # dry run, nothing stored\n\n' +
        'Each report read also becomes a draft in the node (its id is printed, "draft" in --json) that an\n' +
        'analyst reviews and publishes with `entente draft show|accept|reject|edit|publish`.\n' +
        'Spans (start, end) are offsets in the text read from the document, before refanging; for a PDF\n' +
        'each observable also names its page, for an e-mail the part (headers, body, attachment N).\n' +
        'Known-benign values (MISP warninglists, documentation ranges and domains, version numbers) are\n' +
        'kept with the reason they were suppressed. Nothing in a document is run or fetched; a PDF is\n' +
        'read in a separate thread with time and memory limits. Exit status 1 when a file could not be read.',
    )
    .action(async (files: string[], options: ExtractOptions) => {
      if (options.draft) await withNode(io, options, (node) => extractFiles(io, files, options, node));
      else await extractFiles(io, files, options, undefined);
    });
}

async function extractFiles(io: CliIo, files: readonly string[], options: ExtractOptions, node: OpenedNode | undefined): Promise<void> {
  const data = loadExtractData();
  for (const file of files) {
    let doc: DocumentText;
    let bytes: Buffer;
    let result: ExtractResult;
    try {
      ({ doc, bytes } = await readReport(file));
      for (const warning of doc.warnings) writeLine(io.stderr, terminalLine(`entente: warning: ${warning}`));
      // Refused past a limit too (ENT_EXTRACT_LIMIT_EXCEEDED): a file like any unreadable one.
      const extraction = extractDocument(doc, {
        data,
        name: file,
        ...(options.publisher !== undefined ? { publisherDomains: options.publisher } : {}),
      });
      // Values in page chrome that look like indicators (never proposed): said as the reader's are.
      for (const warning of extraction.warnings) writeLine(io.stderr, terminalLine(`entente: warning: ${warning}`));
      doc = withExtractionWarnings(doc, extraction);
      result = extraction;
    } catch (error) {
      if (!(error instanceof EntenteError)) throw error;
      writeLine(io.stderr, terminalLine(`entente: ${error.code}: ${error.message}`));
      io.outcome.partialFailure = true;
      continue;
    }
    const draft = node === undefined
      ? undefined
      : await createDraft({ store: node.store, clock: () => new Date() }, { fileName: file, bytes, doc, observables: result.observables, createdBy: io.env['USER'] ?? 'cli' }, 'operator');
    if (options.json === true) writeLine(io.stdout, JSON.stringify({ ...toJsonReport(file, doc, result.observables), ...(draft === undefined ? {} : { draft: draft.id }) }));
    else printReport(io, file, doc, result.observables);
    if (draft !== undefined && options.json !== true) {
      writeLine(io.stdout, `draft ${draft.id}: ${draft.items.length} items to review (entente draft show ${draft.id})`);
    }
  }
}

/** Reads one report of any supported format, refusing what is not a report with an error naming the file. */
async function readReport(file: string): Promise<{ doc: DocumentText; bytes: Buffer }> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (cause) {
    throw new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { file });
  }
  if (size > largestFile) throw new EntenteError('ENT_INPUT_TOO_LARGE', `${file}: ${size} bytes is more than the 64 MiB a report may have`, { file });
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { file });
  }
  return { doc: await readDocument(bytes, file), bytes };
}

interface JsonObservable {
  type: string;
  value: string;
  start: number;
  end: number;
  confidence: number;
  hash_algorithm?: string;
  suppressed?: string;
  page?: number;
  part?: string;
}

interface JsonReport {
  file: string;
  format: string;
  pages?: number;
  observables: JsonObservable[];
  techniques: string[];
  warnings: string[];
}

function toJsonReport(file: string, doc: DocumentText, observables: readonly Observable[]): JsonReport {
  const techniques = new Set<string>();
  const rows = observables.map((observable) => {
    if (observable.type === 'attack-technique' && observable.suppressed === undefined) techniques.add(observable.value);
    const row: JsonObservable = {
      type: observable.type,
      value: observable.value,
      start: observable.start,
      end: observable.end,
      confidence: observable.confidence,
    };
    if (observable.hashAlgorithm !== undefined) row.hash_algorithm = observable.hashAlgorithm;
    if (observable.suppressed !== undefined) row.suppressed = observable.suppressed.reason;
    const where = locateOffset(doc, observable.start);
    if (where?.page !== undefined) row.page = where.page;
    if (where?.part !== undefined) row.part = where.part;
    return row;
  });
  return {
    file,
    format: doc.format,
    ...(doc.pages === undefined ? {} : { pages: doc.pages }),
    observables: rows,
    techniques: [...techniques],
    warnings: [...doc.warnings],
  };
}

function printReport(io: CliIo, file: string, doc: DocumentText, observables: readonly Observable[]): void {
  const kept = observables.filter((observable) => observable.suppressed === undefined);
  const pages = doc.pages === undefined ? '' : `, ${doc.pages} page${doc.pages === 1 ? '' : 's'}`;
  writeLine(io.stdout, terminalLine(`${file} (${doc.format}${pages}): ${kept.length} observables, ${observables.length - kept.length} suppressed`));
  for (const observable of observables) {
    const type = observable.hashAlgorithm === undefined ? observable.type : `${observable.type}:${observable.hashAlgorithm}`;
    const note = observable.suppressed === undefined ? '' : `\tsuppressed: ${observable.suppressed.reason}`;
    const where = locateOffset(doc, observable.start);
    const place = where?.page !== undefined ? `\tpage ${where.page}` : where?.part !== undefined ? `\t${where.part}` : '';
    writeLine(io.stdout, terminalLine(`  ${type}\t${observable.value}\t${observable.confidence}${place}${note}`));
  }
}
