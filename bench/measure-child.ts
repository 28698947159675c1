/**
 * Runs one `entente` CLI command in this process, exactly as src/cli/main.ts does, then reports on
 * stderr, as its very last line, a JSON line `{"measure":{…}}` with the peak resident memory
 * (process.resourceUsage().maxRSS, in KiB) and the in-process duration of the command (which leaves
 * out Node start-up and the tsx compile of the modules: program.ts loads a command's modules only
 * when it runs, so they are loaded here, by building the program once, before the clocks start).
 *
 *   node --import tsx bench/measure-child.ts import FILE --data DIR
 */
import { readFileSync } from 'node:fs';
import { buildProgram, runCli } from '../src/cli/program.ts';
import type { ChildMeasure } from './child-runner.ts';

/**
 * CPU time of this (the main) thread, ms, from /proc (Node 20 has no per-thread API); undefined elsewhere.
 * With the import's worker thread, main-thread CPU against process CPU says what each thread costs,
 * which the wall time cannot on a machine whose other processes take the cores.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  interactive: false,
  outcome: { partialFailure: false },
};
// Loads the command's modules (and only them, as the CLI does); runCli below finds them loaded.
await buildProgram(io, process.argv.slice(2));
const mainCpuAtStart = mainThreadCpuMs();
const cpuAtStart = process.cpuUsage();
const started = performance.now();
const exitCode = await runCli(process.argv.slice(2), io);
const cpu = process.cpuUsage(cpuAtStart);
const mainCpuAtEnd = mainThreadCpuMs();
const measure: ChildMeasure & { cpuMs: number; mainThreadCpuMs?: number } = {
  maxRssKb: process.resourceUsage().maxRSS,
  commandMs: performance.now() - started,
  exitCode,
  cpuMs: (cpu.user + cpu.system) / 1000,
  ...(mainCpuAtStart !== undefined && mainCpuAtEnd !== undefined ? { mainThreadCpuMs: mainCpuAtEnd - mainCpuAtStart } : {}),
};
process.stderr.write(JSON.stringify({ measure }) + '\n');
process.exitCode = exitCode;
