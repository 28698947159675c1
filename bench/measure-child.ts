/**
 * Runs one `entente` CLI command in this process, exactly as src/cli/main.ts does, then reports on
 * stderr, as its very last line, a JSON line `{"measure":{…}}` with the peak resident memory
 * (process.resourceUsage().maxRSS, in KiB) and the in-process duration of the command (which leaves
 * out Node start-up and the tsx compile of the modules, all loaded by the static imports below).
 *
 *   node --import tsx bench/measure-child.ts import FILE --data DIR
 */
import { runCli } from '../src/cli/program.ts';
import type { ChildMeasure } from './child-runner.ts';

const started = performance.now();
const exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  interactive: false,
  outcome: { partialFailure: false },
});
const measure: ChildMeasure = {
  maxRssKb: process.resourceUsage().maxRSS,
  commandMs: performance.now() - started,
  exitCode,
};
process.stderr.write(JSON.stringify({ measure }) + '\n');
process.exitCode = exitCode;
