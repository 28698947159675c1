import { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { CliIo } from '../cli-context.ts';
import { writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { extractObservables, type Observable } from '../../extract/extract-observables.ts';
import { loadExtractData } from '../../extract/load-extract-data.ts';

interface ExtractOptions {
  json?: boolean;
  publisher?: string[];
}

/** Plain-text formats read as they are; PDF, HTML and e-mail need their own safe parsers first. */
const textExtensions = new Set(['.txt', '.text', '.md', '.markdown', '.log', '.csv', '.tsv', '']);
const largestFile = 64 * 1024 * 1024;

export function extractCommand(io: CliIo): Command {
  return new Command('extract')
    .description('find observables (IPs, domains, URLs, hashes, CVEs, ATT&CK ids, …) in text reports, refanging defanged ones')
    .argument('<files...>', 'plain-text or Markdown reports')
    .option('--json', 'one JSON object per file: {"file","observables":[{type,value,start,end,confidence,suppressed?}],"techniques":[…]}')
    .option('--publisher <domain...>', "the report publisher's own domains, whose links are not indicators")
    .addHelpText(
      'after',
      '\nExample:\n  $ entente extract apt-report.txt --json --publisher vendor.example\n\n' +
        'Spans (start, end) are offsets in the original text, before refanging. Known-benign values\n' +
        '(MISP warninglists, documentation ranges and domains, version numbers) are kept with the reason\n' +
        'they were suppressed. Exit status 1 when a file could not be read.',
    )
    .action(async (files: string[], options: ExtractOptions) => {
      const data = loadExtractData();
      for (const file of files) {
        let text: string;
        try {
          text = readReport(file);
        } catch (error) {
          if (!(error instanceof EntenteError)) throw error;
          writeLine(io.stderr, `entente: ${error.code}: ${error.message}`);
          io.outcome.partialFailure = true;
          continue;
        }
        const result = extractObservables(text, {
          tlds: data.tlds,
          warninglists: data.warninglists,
          ...(options.publisher !== undefined ? { publisherDomains: options.publisher } : {}),
        });
        if (options.json === true) writeLine(io.stdout, JSON.stringify(toJsonReport(file, result.observables)));
        else printReport(io, file, result.observables);
      }
    });
}

/** Reads one report as text, refusing what is not text rather than extracting from binary noise. */
function readReport(file: string): string {
  const extension = extname(file).toLowerCase();
  if (!textExtensions.has(extension)) {
    throw new EntenteError(
      'ENT_EXTRACT_UNSUPPORTED_FORMAT',
      `${file}: ${extension} reports are not read yet (plain text and Markdown are); convert it to text first`,
      { file },
    );
  }
  let size: number;
  try {
    size = statSync(file).size;
  } catch (cause) {
    throw new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { file });
  }
  if (size > largestFile) throw new EntenteError('ENT_INPUT_TOO_LARGE', `${file}: ${size} bytes is more than the 64 MiB a report may have`, { file });
  const bytes = readFileSync(file);
  if (bytes.includes(0)) throw new EntenteError('ENT_EXTRACT_UNSUPPORTED_FORMAT', `${file}: holds NUL bytes, so it is not a text report`, { file });
  return bytes.toString('utf8');
}

interface JsonObservable {
  type: string;
  value: string;
  start: number;
  end: number;
  confidence: number;
  hash_algorithm?: string;
  suppressed?: string;
}

function toJsonReport(file: string, observables: readonly Observable[]): { file: string; observables: JsonObservable[]; techniques: string[] } {
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
    return row;
  });
  return { file, observables: rows, techniques: [...techniques] };
}

function printReport(io: CliIo, file: string, observables: readonly Observable[]): void {
  const kept = observables.filter((observable) => observable.suppressed === undefined);
  writeLine(io.stdout, `${file}: ${kept.length} observables, ${observables.length - kept.length} suppressed`);
  for (const observable of observables) {
    const type = observable.hashAlgorithm === undefined ? observable.type : `${observable.type}:${observable.hashAlgorithm}`;
    const note = observable.suppressed === undefined ? '' : `\tsuppressed: ${observable.suppressed.reason}`;
    writeLine(io.stdout, `  ${type}\t${observable.value}\t${observable.confidence}${note}`);
  }
}
