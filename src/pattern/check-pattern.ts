// The rules of STIX 2.1 §9 that the grammar does not express, checked on a parsed tree:
// - an object type is a STIX type name (lowercase letters, digits, single hyphens, 3–250 characters);
// - comparisons joined by AND inside one observation expression apply to one SCO, so they must be able
//   to share an object type (`[file:name = 'a' AND ipv4-addr:value = 'b']` can never match: refused);
// - WITHIN takes a positive number of seconds, REPEATS a positive count, START comes before STOP;
// - IN takes a set of one type; ISSUBSET/ISSUPERSET an IP address or CIDR block; MATCHES a regular
//   expression the linear-time engine accepts (see compile-linear-regex.ts).
import { isTypeName } from '../stix/validate/lexical.ts';
import { compareTimestamps } from '../stix/validate/lexical.ts';
import type { ComparisonExpression, ObservationExpression, PatternAst, PrimitiveLiteral } from './pattern-ast.ts';
import { parseIpRange } from './parse-ip-range.ts';
import { compileMatchesRegex } from './matches-regex-cache.ts';

export interface PatternProblem {
  readonly offset: number;
  readonly reason: string;
}

export function checkPattern(ast: PatternAst): PatternProblem[] {
  const problems: PatternProblem[] = [];
  checkObservation(ast, problems);
  return problems;
}

function checkObservation(node: ObservationExpression, problems: PatternProblem[]): void {
  switch (node.kind) {
    case 'observation':
      objectTypesOf(node.comparison, problems);
      return;
    case 'observation-and':
    case 'observation-or':
    case 'followed-by':
      checkObservation(node.left, problems);
      checkObservation(node.right, problems);
      return;
    case 'qualified': {
      checkObservation(node.expression, problems);
      const qualifier = node.qualifier;
      if (qualifier.kind === 'within' && !(qualifier.seconds > 0)) {
        problems.push({ offset: qualifier.span.start, reason: 'WITHIN needs a number of seconds greater than 0' });
      } else if (qualifier.kind === 'repeats' && qualifier.times < 1) {
        problems.push({ offset: qualifier.span.start, reason: 'REPEATS needs a count of at least 1' });
      } else if (qualifier.kind === 'start-stop' && compareTimestamps(qualifier.start.value, qualifier.stop.value) >= 0) {
        problems.push({ offset: qualifier.span.start, reason: `START t'${qualifier.start.value}' must be earlier than STOP t'${qualifier.stop.value}'` });
      }
      return;
    }
  }
}

/**
 * The object types an SCO must have for the expression to hold on it (an OR may allow several); an
 * AND whose sides share no type is reported. Sets, each owned by its caller: a union made by copying
 * made a pattern of tens of thousands of distinct types cost seconds (time quadratic in their number).
 */
function objectTypesOf(node: ComparisonExpression, problems: PatternProblem[]): Set<string> {
  switch (node.kind) {
    case 'comparison-or': {
      const left = objectTypesOf(node.left, problems);
      const right = objectTypesOf(node.right, problems);
      // In the order written: left's types, then right's (the problems below name them). `left` is
      // this call's own set, so it takes right's in place.
      for (const type of right) left.add(type);
      return left;
    }
    case 'comparison-and': {
      const left = objectTypesOf(node.left, problems);
      const right = objectTypesOf(node.right, problems);
      const shared = new Set<string>();
      for (const type of left) if (right.has(type)) shared.add(type);
      if (shared.size === 0 && left.size > 0 && right.size > 0) {
        problems.push({
          offset: node.span.start,
          reason:
            `comparisons joined by AND must refer to the same object type (found ${[...left].join('/')} and ${[...right].join('/')}); ` +
            'one observation expression matches one SCO — use [a] AND [b] for two objects',
        });
      }
      // After a problem the empty set keeps enclosing ANDs from reporting it again.
      return shared;
    }
    case 'exists':
    case 'comparison': {
      const type = node.path.objectType;
      if (!isTypeName(type)) {
        problems.push({
          offset: node.path.span.start,
          reason: `'${type}' is not a STIX object type name (lowercase letters, digits and single hyphens, 3 to 250 characters)`,
        });
        return new Set();
      }
      if (node.kind === 'comparison') checkComparisonValue(node, problems);
      return new Set([type]);
    }
  }
}

function literalFamily(literal: PrimitiveLiteral): string {
  return literal.kind === 'integer' || literal.kind === 'float' ? 'number' : literal.kind;
}

function checkComparisonValue(node: Extract<ComparisonExpression, { kind: 'comparison' }>, problems: PatternProblem[]): void {
  switch (node.operator) {
    case 'IN': {
      const families = new Set<string>();
      for (const element of node.value.elements) families.add(literalFamily(element));
      if (families.size > 1) {
        problems.push({ offset: node.value.span.start, reason: `the elements of a set must all be of one type (found ${[...families].join(', ')})` });
      }
      return;
    }
    case 'ISSUBSET':
    case 'ISSUPERSET':
      if (parseIpRange(node.value.value) === undefined) {
        problems.push({
          offset: node.value.span.start,
          reason: `${node.operator} needs an IPv4 or IPv6 address or CIDR block such as '198.51.100.0/24', found '${node.value.value}'`,
        });
      }
      return;
    case 'MATCHES': {
      const compiled = compileMatchesRegex(node.value.value);
      if (!compiled.ok) problems.push({ offset: node.value.span.start, reason: `MATCHES: ${compiled.error}` });
      return;
    }
    default:
      return;
  }
}
