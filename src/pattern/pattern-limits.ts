// Limits on the size and shape of a pattern the matcher plans (correlate/bulk-matcher.ts). Indicators
// come from partners, and a compromised or careless one can send a pattern that is valid STIX but costs
// the node without bound: megabytes of text, tens of thousands of comparisons (an indicator evaluated on
// every log line tests each of them on every line), nesting that every recursive reader of the tree
// descends, enormous IN lists (scanned one element at a time where no index decides them), many
// observation expressions correlated together (each candidate observation re-evaluates the whole pattern
// over the ones kept for it, at a cost growing with their number and their product), long qualifier
// chains, large REPEATS counts, MATCHES expressions that compile to many states.
//
// A pattern past a limit is still valid STIX: the node keeps it (validation, storage, TAXII, sharing
// are untouched) but does not compile it into the matcher, and says which limit it exceeded
// (ENT_PATTERN_OVER_LIMIT). The limits are far above what real indicators use, so that only the hostile
// or broken are left out. What they do not need to bound:
// - parse time and stack depth: the parser is linear, and refuses trees deeper than maxTreeDepth
//   (parse-pattern.ts) as invalid, since every reader of the tree would overflow the call stack;
// - backtracking: MATCHES runs on a linear-time engine (compile-linear-regex.ts), so `(a+)+$` costs
//   input × program like any other expression, and MATCHES and LIKE spend a step budget per observation
//   (match-budget.ts); the limits here bound the program's size, i.e. the memory it takes and the cost
//   of each character.
// Measured without recursion, once, when an indicator is added: nothing here runs per observation.
import type { ErrorCode } from '../errors/catalogue.ts';
import type { ComparisonExpression, ObservationExpression, PatternAst } from './pattern-ast.ts';
import { compileMatchesRegex } from './matches-regex-cache.ts';

/** The code a warning about a pattern left out of matching carries (docs/errors.md). */
export const patternOverLimitCode: ErrorCode = 'ENT_PATTERN_OVER_LIMIT';

export const patternLimits = {
  /** Characters (UTF-16 code units) of pattern text: checked before parsing. */
  length: 131_072,
  /**
   * Levels of nesting: each `[…]`, comparison, qualifier and change of operator is a level; a chain of
   * one operator (`a OR b OR c`) is one, and parentheses that change nothing add none.
   */
  depth: 32,
  /**
   * Comparisons and EXISTS tests in the whole pattern (an IN is one, its elements counted apart). Every
   * `[…]` holds one at least: this bounds observation expressions too, where each is matched on its own
   * (`[a] OR [b] OR …`, planned as so many indicators).
   */
  comparisons: 1_000,
  /** Elements of all the IN sets of the pattern together. */
  setElements: 5_000,
  /**
   * Observation expressions in a pattern whose matches need several observations (AND, FOLLOWEDBY or a
   * qualifier between `[…]`): evaluated together over the recent observations kept for the pattern.
   */
  correlatedObservations: 16,
  /** Qualifiers (WITHIN, START/STOP, REPEATS) in the whole pattern. */
  qualifiers: 16,
  /** The count of a REPEATS … TIMES. */
  repeats: 100,
  /** Characters of one MATCHES or LIKE operand. */
  operandLength: 2_048,
  /**
   * Compiled instructions of all the MATCHES expressions of the pattern together: one may be as large as
   * the engine compiles (its maxRegexProgramSize), several together no larger.
   */
  regexSize: 10_000,
} as const;

export type PatternLimitName =
  | 'length'
  | 'depth'
  | 'comparisons'
  | 'set-elements'
  | 'correlated-observations'
  | 'qualifiers'
  | 'repeats'
  | 'operand-length'
  | 'regex-size'
  /**
   * Not a limit of one pattern: the indicators of one source (the partner they came from) together
   * cost the matcher more than it plans for one source (correlate/bulk-matcher.ts, sourceBudgetExceeded).
   */
  | 'source-budget';

/** The first limit a pattern exceeds, with what it has and what is allowed. */
export interface PatternLimitExceeded {
  readonly limit: PatternLimitName;
  readonly found: number;
  readonly allowed: number;
  /** `comparisons: 1,001 comparisons, more than the 1,000 planned for matching` */
  readonly message: string;
}

const units: Readonly<Record<PatternLimitName, string>> = {
  length: 'characters of pattern text',
  depth: 'levels of nesting',
  comparisons: 'comparisons',
  'set-elements': 'elements in IN sets',
  'correlated-observations': 'observation expressions matched together (AND, FOLLOWEDBY, qualifiers)',
  qualifiers: 'qualifiers',
  repeats: 'repetitions in one REPEATS',
  'operand-length': 'characters in one MATCHES or LIKE operand',
  'regex-size': 'compiled MATCHES instructions',
  'source-budget': 'matching cost units in the indicators of one source',
};

function exceeded(limit: PatternLimitName, found: number, allowed: number): PatternLimitExceeded {
  const message = `${limit}: ${found.toLocaleString('en')} ${units[limit]}, more than the ${allowed.toLocaleString('en')} planned for matching`;
  return { limit, found, allowed, message };
}

/**
 * `source-budget`: with this indicator, those of `source` compiled already would cost `found` units,
 * more than the `allowed` the matcher gives one source. The source is named: it is whom to ask.
 */
export function sourceBudgetExceeded(source: string, found: number, allowed: number): PatternLimitExceeded {
  const message = `source-budget: ${found.toLocaleString('en')} ${units['source-budget']} (${source}), more than the ${allowed.toLocaleString('en')} planned for matching`;
  return { limit: 'source-budget', found, allowed, message };
}

/** `length`, decided on the text alone: a caller checks it before parsing megabytes. */
export function patternTextOverLimit(text: string): PatternLimitExceeded | undefined {
  return text.length > patternLimits.length ? exceeded('length', text.length, patternLimits.length) : undefined;
}

type Node = ObservationExpression | ComparisonExpression;

/** The first limit other than `length` the parsed pattern exceeds, in the order of PatternLimitName. */
export function patternOverLimit(ast: PatternAst): PatternLimitExceeded | undefined {
  let depth = 0;
  let comparisons = 0;
  let setElements = 0;
  let observations = 0;
  let correlated = false;
  let qualifiers = 0;
  let repeats = 0;
  let operandLength = 0;
  let regexSize = 0;
  // Depth first with an explicit stack: the tree may be up to maxTreeDepth deep.
  const nodes: Node[] = [ast];
  const levels: number[] = [1];
  for (let node = nodes.pop(), level = levels.pop() as number; node !== undefined; node = nodes.pop(), level = levels.pop() as number) {
    if (level > depth) depth = level;
    switch (node.kind) {
      case 'observation':
        observations++;
        nodes.push(node.comparison);
        levels.push(level + 1);
        break;
      case 'qualified':
        correlated = true;
        qualifiers++;
        if (node.qualifier.kind === 'repeats' && node.qualifier.times > repeats) repeats = node.qualifier.times;
        nodes.push(node.expression);
        levels.push(level + 1);
        break;
      case 'observation-and':
      case 'followed-by':
      case 'observation-or':
      case 'comparison-and':
      case 'comparison-or':
        if (node.kind === 'observation-and' || node.kind === 'followed-by') correlated = true;
        // A chain of one operator is one level.
        nodes.push(node.left, node.right);
        levels.push(node.left.kind === node.kind ? level : level + 1, node.right.kind === node.kind ? level : level + 1);
        break;
      case 'exists':
        comparisons++;
        break;
      case 'comparison':
        comparisons++;
        if (node.operator === 'IN') setElements += node.value.elements.length;
        else if (node.operator === 'LIKE' || node.operator === 'MATCHES') {
          if (node.value.value.length > operandLength) operandLength = node.value.value.length;
          if (node.operator === 'MATCHES') {
            // Compiled by the parser already (the cache holds it); refused there when it does not compile.
            const compiled = compileMatchesRegex(node.value.value);
            if (compiled.ok) regexSize += compiled.value.size;
          }
        }
        break;
    }
  }
  if (depth > patternLimits.depth) return exceeded('depth', depth, patternLimits.depth);
  if (comparisons > patternLimits.comparisons) return exceeded('comparisons', comparisons, patternLimits.comparisons);
  if (setElements > patternLimits.setElements) return exceeded('set-elements', setElements, patternLimits.setElements);
  if (correlated && observations > patternLimits.correlatedObservations) {
    return exceeded('correlated-observations', observations, patternLimits.correlatedObservations);
  }
  if (qualifiers > patternLimits.qualifiers) return exceeded('qualifiers', qualifiers, patternLimits.qualifiers);
  if (repeats > patternLimits.repeats) return exceeded('repeats', repeats, patternLimits.repeats);
  if (operandLength > patternLimits.operandLength) return exceeded('operand-length', operandLength, patternLimits.operandLength);
  if (regexSize > patternLimits.regexSize) return exceeded('regex-size', regexSize, patternLimits.regexSize);
  return undefined;
}
