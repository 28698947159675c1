// Patterns that match (nearly) everything: `[domain-name:value LIKE '%']`, `[url:value MATCHES '.']`,
// `[domain-name:value != 'x']`, `[EXISTS file:name]`. Valid STIX, but no indicator: shared by a partner,
// one turns every distinct value of the home's telemetry into an alert, and each alert into a sighting
// whose evidence (the value itself) goes back to the partner's circle — the home's DNS log, exfiltrated.
//
// Decided on the pattern alone, by testing each `[…]` against probe SCOs holding a few dissimilar values
// of each kind (texts of every shape an SCO value takes, IPv4 and IPv6 addresses, numbers, timestamps)
// at every path it names: a `[…]` that holds on all of one kind's probes, or all but one, would hold on
// nearly any SCO of its type. OR needs one such side, AND and FOLLOWEDBY both; qualifiers change
// nothing. Probes rather than rules per operator, so that LIKE '%%', LIKE '_%', MATCHES 'x*',
// MATCHES '\w', `> ''`, NOT IN ('a') and the like are all caught without a list of them.
import { holdsOn } from './evaluate-pattern.ts';
import type { ComparisonExpression, ObjectPath, ObservationExpression, PatternAst } from './pattern-ast.ts';
import { printPattern } from './print-pattern.ts';

type ProbeValue = string | number;

const probeKinds: readonly (readonly ProbeValue[])[] = [
  [
    'a',
    'payroll.corp.internal',
    'https://intranet.example.test/hr/salaries.xlsx?user=4711',
    'ceo-laptop',
    'Z-9_~ %',
    'é',
    '0',
    'C:\\Windows\\System32\\svchost.exe',
    'jane.doe@example.test',
    'Mozilla/5.0 (X11; Linux x86_64)',
    '4e1243bd22c66e76c2ba9eddc1f91394e57f9f83',
  ],
  ['198.51.100.7', '10.1.2.3', '203.0.113.250', '8.8.8.8', '172.16.5.4', '100.64.0.1', '192.0.2.0/24'],
  ['2001:db8::1', 'fe80::1', '::1', '2a00:1450:4001:80b::200e', 'fd00::/8'],
  [0, 1, 53, 443, 8080, 65535, 1048576],
  ['2026-06-01T12:00:00Z', '2019-03-04T05:06:07.5Z', '1999-12-31T23:59:59Z', '2031-01-01T00:00:00.000Z'],
];

export interface CatchAllOptions {
  /**
   * Also count tests that hold by excluding a few values — `!=`, NOT, `<`, `>`, … — (default true).
   * False: only wildcards that say "anything" in the pattern's own text (LIKE '%', MATCHES '.*',
   * EXISTS, ISSUBSET '0.0.0.0/0'); a `[…]` then holds on a probe only through its other tests.
   */
  readonly exclusions?: boolean;
}

/** Why the pattern matches nearly every observation, or undefined when it does not. */
export function catchAllReason(ast: PatternAst, options: CatchAllOptions = {}): string | undefined {
  const leaf = catchAllLeaf(ast, options.exclusions ?? true);
  return leaf === undefined ? undefined : `pattern matches nearly every observation: [${printComparison(leaf)}] holds for almost any ${typeOf(leaf)}`;
}

/** A `[…]` by which the pattern matches nearly everything. */
function catchAllLeaf(node: ObservationExpression, exclusions: boolean): ComparisonExpression | undefined {
  switch (node.kind) {
    case 'observation':
      return holdsAlmostAlways(node.comparison, exclusions) ? node.comparison : undefined;
    case 'qualified':
      return catchAllLeaf(node.expression, exclusions);
    case 'observation-or':
      return catchAllLeaf(node.left, exclusions) ?? catchAllLeaf(node.right, exclusions);
    case 'observation-and':
    case 'followed-by': {
      const left = catchAllLeaf(node.left, exclusions);
      return left !== undefined && catchAllLeaf(node.right, exclusions) !== undefined ? left : undefined;
    }
  }
}

function pathsOf(node: ComparisonExpression, into: ObjectPath[] = []): ObjectPath[] {
  if (node.kind === 'comparison' || node.kind === 'exists') into.push(node.path);
  else {
    pathsOf(node.left, into);
    pathsOf(node.right, into);
  }
  return into;
}

/** Whether a test holds by excluding values rather than by naming them. */
function isExclusion(node: ComparisonExpression): boolean {
  return node.kind === 'comparison' && (node.negated || node.operator === '!=' || node.operator === '<' || node.operator === '<=' || node.operator === '>' || node.operator === '>=');
}

/** holdsOn, with exclusions counted as not holding unless `exclusions`. */
function holdsOnProbe(node: ComparisonExpression, sco: Record<string, unknown>, exclusions: boolean): boolean {
  switch (node.kind) {
    case 'comparison-and':
      return holdsOnProbe(node.left, sco, exclusions) && holdsOnProbe(node.right, sco, exclusions);
    case 'comparison-or':
      return holdsOnProbe(node.left, sco, exclusions) || holdsOnProbe(node.right, sco, exclusions);
    default:
      return (exclusions || !isExclusion(node)) && holdsOn(node, sco, () => undefined);
  }
}

function holdsAlmostAlways(comparison: ComparisonExpression, exclusions: boolean): boolean {
  const paths = pathsOf(comparison);
  const types = [...new Set(paths.map((path) => path.objectType))];
  for (const type of types) {
    const ofType = paths.filter((path) => path.objectType === type);
    for (const values of probeKinds) {
      let misses = 0;
      for (const value of values) {
        if (!holdsOnProbe(comparison, probeSco(type, ofType, value), exclusions) && ++misses > 1) break;
      }
      if (misses <= 1) return true;
    }
  }
  return false;
}

/** An SCO of `type` holding `value` at each path (paths through a reference are left out: nothing to resolve). */
function probeSco(type: string, paths: readonly ObjectPath[], value: ProbeValue): Record<string, unknown> {
  const sco: Record<string, unknown> = { type };
  for (const path of paths) {
    if (path.steps.some((step, i) => step.kind === 'key' && i < path.steps.length - 1 && (step.name.endsWith('_ref') || step.name.endsWith('_refs')))) continue;
    let holder: Record<string, unknown> | unknown[] = sco;
    path.steps.forEach((step, i) => {
      const last = i === path.steps.length - 1;
      const nextStep = path.steps[i + 1];
      const child: unknown = last ? value : nextStep?.kind === 'key' ? {} : [];
      if (step.kind === 'key') {
        if (Array.isArray(holder)) return;
        const existing = holder[step.name];
        holder[step.name] = last || existing === undefined || typeof existing !== 'object' ? child : existing;
        holder = holder[step.name] as Record<string, unknown> | unknown[];
      } else {
        if (!Array.isArray(holder)) return;
        const index = step.kind === 'index' ? step.index : 0;
        // Every element up to the index holds the probe too: `[*]` and `[n]` both select it.
        for (let k = 0; k <= index; k++) holder[k] ??= child;
        if (last) holder[index] = value;
        holder = holder[index] as Record<string, unknown> | unknown[];
      }
    });
  }
  return sco;
}

function printComparison(comparison: ComparisonExpression): string {
  const printed = printPattern({ kind: 'observation', comparison, span: comparison.span });
  return printed.startsWith('[') && printed.endsWith(']') ? printed.slice(1, -1) : printed;
}

function typeOf(comparison: ComparisonExpression): string {
  return pathsOf(comparison)[0]?.objectType ?? 'SCO';
}
