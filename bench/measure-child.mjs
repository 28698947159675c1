// @ts-check
/**
 * Runs one `entente` CLI command in this process, as bin/entente.js does (from the bundle of the
 * sources, built first if a source changed), then reports on stderr, as its very last line, a JSON
 * line `{"measure":{…}}` with the peak resident memory (process.resourceUsage().maxRSS, in KiB) and
 * the in-process duration of the command (which leaves out Node start-up and the loading of the
 * command's modules: program.js loads a command's modules only when it runs, so they are loaded here,
 * by building the program once, before the clocks start).
 *
 *   node bench/measure-child.mjs import FILE --data DIR
 *
 * Plain JavaScript, so that nothing is compiled at the child's start, as with bin/entente.js.
 */
import { readFileSync } from 'node:fs';
import { openSourceBundle } from '../bin/source-bundle.mjs';

/**
 * CPU time of this (the main) thread, ms, from /proc (Node 20 has no per-thread API); undefined elsewhere.
 * With the import's worker thread, main-thread CPU against process CPU says what each thread costs,
 * which the wall time cannot on a machine whose other processes take the cores.
 * @returns {number | undefined}
 */
function mainThreadCpuMs() {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

const bundle = await openSourceBundle();
if (bundle.kind !== 'bundle') throw new Error(`the benchmark runs the product as bin/entente.js does, from the bundle of the sources, and there is none: ${bundle.reason}`);
process.env['ENTENTE_BUNDLE_DIR'] = bundle.directory;
/** @type {{ buildProgram: (io: object, args: string[]) => Promise<unknown>, runCli: (args: string[], io: object) => Promise<number> }} */
const program = await import(bundle.entry('src/cli/program.ts'));

const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  interactive: false,
  outcome: { partialFailure: false },
};
// Loads the command's modules (and only them, as the CLI does); runCli below finds them loaded.
await program.buildProgram(io, process.argv.slice(2));
const mainCpuAtStart = mainThreadCpuMs();
const cpuAtStart = process.cpuUsage();
const started = performance.now();
const exitCode = await program.runCli(process.argv.slice(2), io);
const cpu = process.cpuUsage(cpuAtStart);
const mainCpuAtEnd = mainThreadCpuMs();
const measure = {
  maxRssKb: process.resourceUsage().maxRSS,
  commandMs: performance.now() - started,
  exitCode,
  cpuMs: (cpu.user + cpu.system) / 1000,
  ...(mainCpuAtStart !== undefined && mainCpuAtEnd !== undefined ? { mainThreadCpuMs: mainCpuAtEnd - mainCpuAtStart } : {}),
};
process.stderr.write(JSON.stringify({ measure }) + '\n');
process.exitCode = exitCode;
