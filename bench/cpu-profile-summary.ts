/**
 * Top functions of a V8 CPU profile (from `node --cpu-prof`), by self time and by inclusive time.
 *
 *   BENCH_CPU_PROF=/tmp/prof npm run bench -- ingest     # profiles of every child land in /tmp/prof
 *   npx tsx bench/cpu-profile-summary.ts /tmp/prof/import-bulk-….cpuprofile [TOP]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './child-runner.ts';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function place(frame: CallFrame): string {
  let file = frame.url;
  if (file.startsWith('file://')) file = relative(repoRoot, fileURLToPath(file));
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  return file === '' ? name : `${name} ${file}:${frame.lineNumber + 1}`;
}

export function summarizeCpuProfile(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    totalUs += delta;
  });
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const key = place(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame === undefined) break;
      const name = place(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const table = (title: string, map: Map<string, number>): string =>
    `${title}\n` +
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`)
      .join('\n');
  return `total ${(totalUs / 1000).toFixed(0)} ms sampled\n\n${table('self time', self)}\n\n${table('inclusive time', inclusive)}\n`;
}

const [path, topText] = process.argv.slice(2);
if (path !== undefined) {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  process.stdout.write(summarizeCpuProfile(profile, Number(topText ?? 30)));
}
