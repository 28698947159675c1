// A budget of steps for the string operators whose cost grows with the value: MATCHES (the linear
// engine costs value length × live NFA states, up to 10,000 a character) and LIKE (pattern × value at
// worst). The engine cannot backtrack, but a shared indicator within its limits still costs seconds on
// a long value (`a(?:.{0,999}){4}xy` on a 256 KB URL: ~20 s), run synchronously by the bulk matcher.
//
// The budget is set around one synchronous evaluation (runWithStepBudget) and read by test-comparison.ts,
// rather than passed through evaluatePattern, holdsOn, the Evaluation class and every helper between
// them, whose other callers (validation, tests, the TAXII match filter) need no budget: outside
// runWithStepBudget nothing is counted. JavaScript runs one evaluation at a time, and the budget is
// restored on the way out, so nested or interleaved callers cannot see each other's.

/** Steps left to spend, and how many tests the budget cut short. */
export interface StepBudget {
  remaining: number;
  /** Comparisons left undecided because the budget ran out (each counts as not holding). */
  exhausted: number;
}

let active: StepBudget | undefined;

export function stepBudget(steps: number): StepBudget {
  return { remaining: steps, exhausted: 0 };
}

/** Runs `evaluate` with `budget` charged by every MATCHES and LIKE it tests. */
export function runWithStepBudget<T>(budget: StepBudget, evaluate: () => T): T {
  const outer = active;
  active = budget;
  try {
    return evaluate();
  } finally {
    active = outer;
  }
}

/** The budget of the evaluation running now, if its caller set one. */
export function activeStepBudget(): StepBudget | undefined {
  return active;
}
