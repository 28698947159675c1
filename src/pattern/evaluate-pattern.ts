// Evaluates a parsed pattern against observed-data, with the semantics of STIX 2.1 §9:
// - `[…]` holds for an observed-data when one of its SCOs satisfies the comparison expression; AND
//   inside the brackets means the same SCO satisfies both sides, OR either.
// - An observed-data stands for `number_observed` observations in [first_observed, last_observed].
//   Observation operators combine observations, each used at most once per match (so `[a] AND [a]`
//   needs two observations: two observed-data, or one observed `number_observed ≥ 2` times).
// - FOLLOWEDBY: every observation on the left can be placed no later than every one on the right
//   (the latest left first_observed is not after the earliest right last_observed).
// - WITHIN n SECONDS: some window of n seconds touches every observation's interval.
// - START/STOP: every observation's interval overlaps [start, stop) — stop excluded.
// - REPEATS n TIMES: n matches of the expression on pairwise distinct observations.
// Matching works on sets of candidate "bindings" (multisets of observations); they are bounded, and a
// result whose search was cut short says so (`incomplete`) rather than running without limit.
import { compareTimestamps, timestampFractionDigits } from '../stix/validate/lexical.ts';
import type { ComparisonExpression, ObservationExpression, PatternAst } from './pattern-ast.ts';
import { selectPathValues, type ResolveReference } from './select-path-values.ts';
import { testComparison } from './test-comparison.ts';
import { activeStepBudget, type StepBudget } from './match-budget.ts';

type JsonRecord = Readonly<Record<string, unknown>>;

export interface ObservedDataWithObjects {
  /** An observed-data object: STIX 2.1 with `object_refs`, or STIX 2.0 with an embedded `objects` dictionary. */
  readonly observedData: JsonRecord;
  /** Objects by id that 2.1 references resolve to — usually every object of the same bundle. */
  readonly objectsById?: ReadonlyMap<string, JsonRecord>;
}

export interface PatternMatch {
  readonly matched: boolean;
  /** Positions in the input of the observed-data that make up the first match found, ascending. */
  readonly observationIndices: readonly number[];
  /** Inputs that could not take part, with the reason (no valid timestamps, no objects). */
  readonly skipped: readonly { readonly index: number; readonly reason: string }[];
  /** The search for combinations hit its bounds: `matched: false` is then not a proof of no match. */
  readonly incomplete: boolean;
}

/** Candidate combinations kept per subexpression, and combination steps per evaluation. */
const maxBindings = 10_000;
const maxSteps = 2_000_000;

/**
 * What a combination step costs in steps of a caller's step budget (match-budget.ts), whose steps are
 * the regular-expression engine's (a few nanoseconds each): a step and the binding it makes, per
 * observation in it. Without it, the 2 million steps above took 2–3 s, on every log line the matcher
 * correlated with nested REPEATS over tests that hold on every observation.
 */
const stepCost = 256;
const costPerObservation = 16;

interface Observation {
  readonly index: number;
  readonly first: string;
  readonly last: string;
  readonly firstSeconds: number;
  readonly lastSeconds: number;
  readonly capacity: number;
  readonly roots: readonly JsonRecord[];
  readonly resolve: ResolveReference;
}

/** A multiset of observation indices, sorted ascending. */
type Binding = readonly number[];

function isRecord(value: unknown): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function epochSeconds(timestamp: string): number {
  const whole = Date.UTC(
    Number(timestamp.slice(0, 4)),
    Number(timestamp.slice(5, 7)) - 1,
    Number(timestamp.slice(8, 10)),
    Number(timestamp.slice(11, 13)),
    Number(timestamp.slice(14, 16)),
    Number(timestamp.slice(17, 19)),
  );
  const fraction = timestamp.length > 21 ? Number(`0.${timestamp.slice(20, -1)}`) : 0;
  return whole / 1000 + fraction;
}

function prepare(input: ObservedDataWithObjects, index: number): Observation | string {
  const data = input.observedData;
  const first = data['first_observed'];
  const last = data['last_observed'];
  if (typeof first !== 'string' || timestampFractionDigits(first) < 0) return 'first_observed is missing or not a timestamp';
  if (typeof last !== 'string' || timestampFractionDigits(last) < 0) return 'last_observed is missing or not a timestamp';
  if (compareTimestamps(first, last) > 0) return 'first_observed is after last_observed';
  const count = data['number_observed'];
  const capacity = typeof count === 'number' && Number.isSafeInteger(count) && count >= 1 ? count : 1;
  let roots: JsonRecord[];
  let resolve: ResolveReference;
  const refs = data['object_refs'];
  const embedded = data['objects'];
  if (Array.isArray(refs)) {
    const byId = input.objectsById ?? new Map<string, JsonRecord>();
    resolve = (id) => byId.get(id);
    roots = refs.flatMap((ref) => {
      const object = typeof ref === 'string' ? byId.get(ref) : undefined;
      return object === undefined ? [] : [object];
    });
  } else if (isRecord(embedded)) {
    // STIX 2.0: references are keys of the observed-data's own `objects` dictionary.
    resolve = (key) => {
      const object = Object.prototype.hasOwnProperty.call(embedded, key) ? embedded[key] : undefined;
      return isRecord(object) ? object : undefined;
    };
    roots = Object.values(embedded).filter(isRecord);
  } else {
    return 'neither object_refs nor objects';
  }
  return { index, first, last, firstSeconds: epochSeconds(first), lastSeconds: epochSeconds(last), capacity, roots, resolve };
}

/**
 * Whether a comparison expression holds on one SCO (with `_ref` traversal through `resolve`).
 * Exported for the bulk matcher, which checks candidates without the evaluator's per-call set-up.
 */
export function holdsOn(node: ComparisonExpression, root: JsonRecord, resolve: ResolveReference): boolean {
  switch (node.kind) {
    case 'comparison-and':
      return holdsOn(node.left, root, resolve) && holdsOn(node.right, root, resolve);
    case 'comparison-or':
      return holdsOn(node.left, root, resolve) || holdsOn(node.right, root, resolve);
    case 'exists':
      return root['type'] === node.path.objectType && selectPathValues(root, node.path.steps, resolve).length > 0;
    case 'comparison':
      if (root['type'] !== node.path.objectType) return false;
      for (const value of selectPathValues(root, node.path.steps, resolve)) {
        if (testComparison(node, value)) return true;
      }
      return false;
  }
}

class Evaluation {
  private steps = 0;
  incomplete = false;
  /** The budget of the caller's runWithStepBudget, if any, charged by every combination step. */
  private readonly budget: StepBudget | undefined = activeStepBudget();
  /** The budget ran out before the search was done. */
  outOfBudget = false;
  private readonly byIndex = new Map<number, Observation>();

  constructor(private readonly observations: readonly Observation[]) {
    for (const observation of observations) this.byIndex.set(observation.index, observation);
  }

  private observation(index: number): Observation {
    return this.byIndex.get(index) as Observation;
  }

  private tick(): boolean {
    this.steps++;
    if (this.steps > maxSteps) {
      this.incomplete = true;
      return false;
    }
    const budget = this.budget;
    if (budget !== undefined && (budget.remaining -= stepCost) <= 0) {
      this.incomplete = true;
      this.outOfBudget = true;
      return false;
    }
    return true;
  }

  /** Joins two bindings unless that would use an observation more often than it was observed. */
  private merge(a: Binding, b: Binding): Binding | undefined {
    const out: number[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      const x = a[i];
      const y = b[j];
      const next = y === undefined || (x !== undefined && x <= y) ? (i++, x) : (j++, y);
      out.push(next as number);
    }
    let run = 1;
    for (let k = 1; k <= out.length; k++) {
      if (k < out.length && out[k] === out[k - 1]) {
        run++;
        continue;
      }
      if (run > this.observation(out[k - 1] as number).capacity) return undefined;
      run = 1;
    }
    if (this.budget !== undefined) this.budget.remaining -= costPerObservation * out.length;
    return out;
  }

  /** Adds a binding; false once `limit` are held (a cut-off only when the limit is the safety bound). */
  private collect(into: Map<string, Binding>, binding: Binding, limit: number): boolean {
    into.set(binding.join(','), binding);
    if (into.size < limit) return true;
    if (limit >= maxBindings) this.incomplete = true;
    return false;
  }

  /**
   * The bindings of `node`; at most `limit` of them. The root asks for one (any match will do) and so do
   * the sides of an OR asked for one; everything that filters or combines bindings needs them all.
   */
  evaluate(node: ObservationExpression, limit = maxBindings): Binding[] {
    switch (node.kind) {
      case 'observation':
        return this.observations
          .filter((observation) => observation.roots.some((root) => holdsOn(node.comparison, root, observation.resolve)))
          .map((observation) => [observation.index]);
      case 'observation-or': {
        const out = new Map<string, Binding>();
        for (const binding of this.evaluate(node.left, limit)) if (!this.collect(out, binding, limit)) return [...out.values()];
        for (const binding of this.evaluate(node.right, limit)) if (!this.collect(out, binding, limit)) break;
        return [...out.values()];
      }
      case 'observation-and':
      case 'followed-by': {
        const left = this.evaluate(node.left);
        if (left.length === 0) return [];
        const right = this.evaluate(node.right);
        const out = new Map<string, Binding>();
        for (const l of left) {
          const latestLeftStart = node.kind === 'followed-by' ? this.latestFirst(l) : '';
          for (const r of right) {
            if (!this.tick()) return [...out.values()];
            if (node.kind === 'followed-by' && compareTimestamps(latestLeftStart, this.earliestLast(r)) > 0) continue;
            const merged = this.merge(l, r);
            if (merged !== undefined && !this.collect(out, merged, limit)) return [...out.values()];
          }
        }
        return [...out.values()];
      }
      case 'qualified':
        return this.qualify(node, limit);
    }
  }

  private latestFirst(binding: Binding): string {
    return binding.map((i) => this.observation(i).first).reduce((a, b) => (compareTimestamps(a, b) >= 0 ? a : b));
  }

  private earliestLast(binding: Binding): string {
    return binding.map((i) => this.observation(i).last).reduce((a, b) => (compareTimestamps(a, b) <= 0 ? a : b));
  }

  private qualify(node: Extract<ObservationExpression, { kind: 'qualified' }>, limit: number): Binding[] {
    const inner = this.evaluate(node.expression);
    const qualifier = node.qualifier;
    switch (qualifier.kind) {
      case 'within':
        return inner.filter((binding) => {
          const latestFirst = Math.max(...binding.map((i) => this.observation(i).firstSeconds));
          const earliestLast = Math.min(...binding.map((i) => this.observation(i).lastSeconds));
          return latestFirst - earliestLast <= qualifier.seconds;
        });
      case 'start-stop':
        return inner.filter((binding) =>
          binding.every((i) => {
            const observation = this.observation(i);
            return compareTimestamps(observation.last, qualifier.start.value) >= 0 && compareTimestamps(observation.first, qualifier.stop.value) < 0;
          }),
        );
      case 'repeats':
        return this.repeat(inner, qualifier.times, limit);
    }
  }

  /** Every way of choosing `times` matches (with repetition) that together fit the observations. */
  private repeat(bindings: readonly Binding[], times: number, limit: number): Binding[] {
    const out = new Map<string, Binding>();
    const choose = (from: number, remaining: number, accumulated: Binding): boolean => {
      if (remaining === 0) return this.collect(out, accumulated, limit);
      for (let j = from; j < bindings.length; j++) {
        if (!this.tick()) return false;
        const merged = this.merge(accumulated, bindings[j] as Binding);
        if (merged !== undefined && !choose(j, remaining - 1, merged)) return false;
      }
      return true;
    };
    const capacity = this.observations.reduce((sum, observation) => sum + observation.capacity, 0);
    if (times > capacity) return [];
    if (times > 1000) {
      // Deeper searches are not attempted; say so rather than guess.
      this.incomplete = true;
      return [];
    }
    choose(0, times, []);
    return [...out.values()];
  }
}

/** Evaluates `ast` against the observations. Pure: no clock, no I/O; the order of inputs does not matter. */
export function evaluatePattern(ast: PatternAst, observations: readonly ObservedDataWithObjects[]): PatternMatch {
  const prepared: Observation[] = [];
  const skipped: { index: number; reason: string }[] = [];
  observations.forEach((input, index) => {
    const observation = isRecord(input) && isRecord(input.observedData) ? prepare(input, index) : 'not an observed-data object';
    if (typeof observation === 'string') skipped.push({ index, reason: observation });
    else prepared.push(observation);
  });
  const evaluation = new Evaluation(prepared);
  const bindings = evaluation.evaluate(ast, 1);
  // Told like a comparison the budget cut short: the caller counts it (an incomplete search, no match).
  const budget = activeStepBudget();
  if (evaluation.outOfBudget && budget !== undefined) budget.exhausted++;
  const first = bindings[0];
  return {
    matched: first !== undefined,
    observationIndices: first === undefined ? [] : [...new Set(first)],
    skipped,
    incomplete: evaluation.incomplete,
  };
}
