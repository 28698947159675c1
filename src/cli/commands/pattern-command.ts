import { Command, CommanderError } from 'commander';
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { CliIo } from '../cli-context.ts';
import { writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { parseJson } from '../../stix/parse-json.ts';
import { parsePattern } from '../../pattern/parse-pattern.ts';
import { printPattern } from '../../pattern/print-pattern.ts';
import { evaluatePattern } from '../../pattern/evaluate-pattern.ts';
import { observationsFromBundle } from '../../pattern/observations-from-bundle.ts';
import type { PatternAst } from '../../pattern/pattern-ast.ts';

/** Exit status for an invalid pattern: 2, as for a usage error, so scripts tell it from "no match" (1). */
const invalidPatternExit = 2;
const maxBundleBytes = 256 * 1024 * 1024;

/** Parses the pattern or ends the command with exit status 2 and the parser's messages. */
function parseOrExit(io: CliIo, text: string): PatternAst {
  const parsed = parsePattern(text);
  if (parsed.ok) return parsed.value;
  for (const error of parsed.error) io.stderr.write(`entente: ENT_PATTERN_INVALID: ${error.message}\n`);
  throw new CommanderError(invalidPatternExit, 'entente.patternInvalid', parsed.error[0]?.message ?? 'invalid pattern');
}

function readBundle(path: string): unknown {
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (cause) {
    throw new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
  if (text.length > maxBundleBytes) throw new EntenteError('ENT_INPUT_TOO_LARGE', `${path} is larger than 256 MiB`);
  const parsed = parseJson(text);
  if (!parsed.ok) throw new EntenteError(parsed.error.code, `${path}: ${parsed.error.message}`);
  return parsed.value;
}

interface CaseResult {
  id: unknown;
  valid: boolean;
  match: boolean;
  error: string | null;
}

/** One line of `--jsonl`: `{"id", "pattern", "bundle"}` in, `{"id", "valid", "match", "error"}` out. */
function runCase(line: string, lineNumber: number): CaseResult {
  const parsed = parseJson(line);
  if (!parsed.ok) return { id: null, valid: false, match: false, error: `line ${lineNumber}: ${parsed.error.message}` };
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { id: null, valid: false, match: false, error: `line ${lineNumber}: expected an object {"id", "pattern", "bundle"}` };
  }
  const id = value['id'] ?? null;
  const pattern = value['pattern'];
  if (typeof pattern !== 'string') return { id, valid: false, match: false, error: `line ${lineNumber}: "pattern" must be a string` };
  const ast = parsePattern(pattern);
  if (!ast.ok) return { id, valid: false, match: false, error: ast.error.map((e) => e.message).join('; ') };
  const result = evaluatePattern(ast.value, observationsFromBundle(value['bundle'] ?? null));
  return { id, valid: true, match: result.matched, error: null };
}

export function patternCommand(io: CliIo): Command {
  const command = new Command('pattern').description('check STIX 2.1 patterns and match them against observed-data');

  command
    .command('check')
    .description('check that a pattern is valid STIX 2.1 patterning and print it in canonical form')
    .argument('<pattern>', "the pattern, e.g. \"[ipv4-addr:value = '198.51.100.1']\"")
    .addHelpText(
      'after',
      "\nExample:\n  $ entente pattern check \"[file:hashes.'SHA-256' = 'aec0…19f'] AND [process:name = 'evil.exe']\"\n\n" +
        'Exit status: 0 when the pattern is valid, 2 when it is not (the reason and its position are printed).',
    )
    .action((pattern: string) => {
      writeLine(io.stdout, printPattern(parseOrExit(io, pattern)));
    });

  command
    .command('match')
    .description('evaluate a pattern against the observed-data of a STIX bundle (2.0 or 2.1), or run a JSON lines file of cases')
    .argument('[pattern]', 'the pattern (not with --jsonl)')
    .argument('[bundle]', 'a bundle file holding observed-data and their SCOs, or - for standard input')
    .option('--jsonl <file>', 'read cases {"id","pattern","bundle"}, one per line, and print {"id","valid","match","error"} for each')
    .addHelpText(
      'after',
      "\nExample:\n  $ entente pattern match \"[ipv4-addr:value ISSUBSET '198.51.100.0/24']\" observations.json\n" +
        '  $ entente pattern match --jsonl cases.jsonl > verdicts.jsonl\n\n' +
        'Exit status: 0 on a match, 1 on no match, 2 when the pattern is invalid. With --jsonl: 0 once every line is answered.',
    )
    .action(async (pattern: string | undefined, bundle: string | undefined, options: { jsonl?: string }) => {
      if (options.jsonl !== undefined) {
        if (pattern !== undefined) throw new EntenteError('ENT_CLI_USAGE', 'give either --jsonl FILE or PATTERN BUNDLE, not both');
        await matchJsonLines(io, options.jsonl);
        return;
      }
      if (pattern === undefined || bundle === undefined) throw new EntenteError('ENT_CLI_USAGE', 'give PATTERN and BUNDLE (or --jsonl FILE)');
      const ast = parseOrExit(io, pattern);
      const observations = observationsFromBundle(readBundle(bundle));
      const result = evaluatePattern(ast, observations);
      for (const skipped of result.skipped) io.stderr.write(`skipped observed-data #${skipped.index}: ${skipped.reason}\n`);
      if (result.incomplete) io.stderr.write('the search for combinations reached its bounds: a match may have been missed\n');
      if (result.matched) {
        const ids = result.observationIndices.map((index) => String(observations[index]?.observedData['id'] ?? `#${index}`));
        writeLine(io.stdout, `match: ${ids.join(', ')}`);
      } else {
        writeLine(io.stdout, `no match (${observations.length} observed-data)`);
        io.outcome.partialFailure = true;
      }
    });

  return command;
}

async function matchJsonLines(io: CliIo, path: string): Promise<void> {
  const input = path === '-' ? io.stdin : createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    if (path === '-') resolve();
    else (input as ReturnType<typeof createReadStream>).once('open', () => resolve()).once('error', reject);
  });
  try {
    await opened;
  } catch (cause) {
    throw new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
  let lineNumber = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNumber++;
    if (line.trim() === '') continue;
    writeLine(io.stdout, JSON.stringify(runCase(line, lineNumber)));
  }
}
