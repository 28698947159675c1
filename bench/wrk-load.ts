/**
 * HTTP load from wrk (Debian and most distributions package it as `wrk`), a load generator written in
 * C. On a machine where the node and its load share two cores, a Node load generator (undici) spends
 * about as much CPU per small request as the node does to serve it, so what it measures is the two
 * halves together; wrk spends a fraction of that, which leaves the cores to the node, as separate
 * client machines would. The bench says which generator produced each figure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WrkTarget {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface WrkResult {
  readonly requests: number;
  readonly perSecond: number;
  readonly p99Ms: number;
  /** Responses outside 2xx/3xx; a run with any is a failed run. */
  readonly non2xx: number;
  /** wrk's "Socket errors" line when it printed one. */
  readonly socketErrors: string | undefined;
}

/** wrk's version line, or undefined when wrk is not installed. */
export function wrkVersion(): string | undefined {
  const probe = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (probe.error !== undefined || typeof probe.stdout !== 'string') return undefined;
  const line = probe.stdout.split('\n')[0]?.trim();
  return line !== undefined && line.startsWith('wrk ') ? line : undefined;
}

const luaString = (text: string): string => JSON.stringify(text);

/** A wrk script that cycles through the targets, each request formatted once per thread. */
export function wrkScript(targets: readonly WrkTarget[]): string {
  if (targets.length === 0) throw new RangeError('wrk needs at least one target');
  const formatted = targets.map((target) => {
    const headers = Object.entries(target.headers).map(([name, value]) => `[${luaString(name)}] = ${luaString(value)}`);
    return `  wrk.format("GET", ${luaString(target.path)}, { ${headers.join(', ')} })`;
  });
  // Formatted in init(): wrk knows the Host header only once the thread starts.
  return [
    'local requests = {}',
    'init = function(args)',
    '  requests = {',
    formatted.join(',\n'),
    '  }',
    'end',
    'local turn = 0',
    'request = function()',
    '  turn = turn + 1',
    '  return requests[(turn % #requests) + 1]',
    'end',
    '',
  ].join('\n');
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Parses wrk's report (run with --latency). */
export function parseWrkReport(report: string): WrkResult {
  const requestsLine = /^\s*(\d+) requests in /m.exec(report);
  const rateLine = /^Requests\/sec:\s*([\d.]+)/m.exec(report);
  const p99Line = /^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(report);
  if (requestsLine?.[1] === undefined || rateLine?.[1] === undefined || p99Line?.[1] === undefined || p99Line[2] === undefined) {
    throw new Error(`unexpected wrk report:\n${report}`);
  }
  const non2xx = /^\s*Non-2xx or 3xx responses:\s*(\d+)/m.exec(report)?.[1];
  return {
    requests: Number(requestsLine[1]),
    perSecond: Number(rateLine[1]),
    p99Ms: Number(p99Line[1]) * (UNIT_MS[p99Line[2]] ?? Number.NaN),
    non2xx: non2xx === undefined ? 0 : Number(non2xx),
    socketErrors: /^\s*Socket errors:.*$/m.exec(report)?.[0]?.trim(),
  };
}

/** One wrk run: one thread, `connections` keep-alive connections each with one request in flight. */
export async function runWrk(options: { url: string; targets: readonly WrkTarget[]; connections: number; durationMs: number }): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'entente-wrk-'));
  try {
    const script = join(dir, 'targets.lua');
    writeFileSync(script, wrkScript(options.targets));
    const seconds = Math.max(1, Math.round(options.durationMs / 1000));
    const args = ['-t1', `-c${options.connections}`, `-d${seconds}s`, '--latency', '-s', script, options.url];
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`wrk exited with ${String(code)}: ${stderr}${stdout}`);
    return parseWrkReport(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
