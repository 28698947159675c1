// Canonical pattern text: single spaces, upper-case keywords, `=`/`!=` (never `==`/`<>`), quoted keys
// only where a bare name would not parse, parentheses only where precedence or left association needs
// them, floats in plain decimal notation. parsePattern(printPattern(ast)) gives `ast` back (spans aside).
import type {
  ComparisonExpression,
  ObjectPath,
  ObservationExpression,
  PatternAst,
  PrimitiveLiteral,
  Qualifier,
  SetLiteral,
} from './pattern-ast.ts';

export function printPattern(ast: PatternAst): string {
  return printObservation(ast);
}

const observationPrecedence = { 'followed-by': 1, 'observation-or': 2, 'observation-and': 3 } as const;
const observationKeyword = { 'followed-by': 'FOLLOWEDBY', 'observation-or': 'OR', 'observation-and': 'AND' } as const;

function printObservation(node: ObservationExpression): string {
  switch (node.kind) {
    case 'observation':
      return `[${printComparison(node.comparison)}]`;
    case 'qualified': {
      const inner = printObservation(node.expression);
      const operand = node.expression.kind === 'observation' || node.expression.kind === 'qualified' ? inner : `(${inner})`;
      return `${operand} ${printQualifier(node.qualifier)}`;
    }
    default: {
      const precedence = observationPrecedence[node.kind];
      const side = (child: ObservationExpression, isRight: boolean): string => {
        const text = printObservation(child);
        if (child.kind === 'observation' || child.kind === 'qualified') return text;
        const childPrecedence = observationPrecedence[child.kind];
        return childPrecedence < precedence || (isRight && childPrecedence === precedence) ? `(${text})` : text;
      };
      return `${side(node.left, false)} ${observationKeyword[node.kind]} ${side(node.right, true)}`;
    }
  }
}

function printQualifier(qualifier: Qualifier): string {
  switch (qualifier.kind) {
    case 'within':
      return `WITHIN ${Number.isSafeInteger(qualifier.seconds) ? String(qualifier.seconds) : plainDecimal(qualifier.seconds)} SECONDS`;
    case 'repeats':
      return `REPEATS ${qualifier.times} TIMES`;
    case 'start-stop':
      return `START t'${qualifier.start.value}' STOP t'${qualifier.stop.value}'`;
  }
}

function printComparison(node: ComparisonExpression): string {
  switch (node.kind) {
    case 'exists':
      return `EXISTS ${printPath(node.path)}`;
    case 'comparison': {
      const value = node.operator === 'IN' ? printSet(node.value) : printLiteral(node.value);
      return `${printPath(node.path)} ${node.negated ? 'NOT ' : ''}${node.operator} ${value}`;
    }
    default: {
      const precedence = node.kind === 'comparison-or' ? 1 : 2;
      const side = (child: ComparisonExpression, isRight: boolean): string => {
        const text = printComparison(child);
        if (child.kind !== 'comparison-or' && child.kind !== 'comparison-and') return text;
        const childPrecedence = child.kind === 'comparison-or' ? 1 : 2;
        return childPrecedence < precedence || (isRight && childPrecedence === precedence) ? `(${text})` : text;
      };
      return `${side(node.left, false)} ${node.kind === 'comparison-or' ? 'OR' : 'AND'} ${side(node.right, true)}`;
    }
  }
}

const bareKey = /^[A-Za-z_][A-Za-z0-9_]*$/;
const keywordNames = new Set(['AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'EXISTS', 'LAST', 'IN', 'START', 'STOP', 'SECONDS', 'TRUE', 'FALSE', 'WITHIN', 'REPEATS', 'TIMES']);

function printKey(name: string): string {
  // A bare `t`, `b` or `h` is fine, but keywords and anything beyond [A-Za-z0-9_] must be quoted.
  return bareKey.test(name) && !keywordNames.has(name) ? name : quote(name);
}

function printPath(path: ObjectPath): string {
  let text = `${path.objectType}:`;
  path.steps.forEach((step, index) => {
    if (step.kind === 'key') text += (index === 0 ? '' : '.') + printKey(step.name);
    else if (step.kind === 'index') text += `[${step.index}]`;
    else text += '[*]';
  });
  return text;
}

function printSet(set: SetLiteral): string {
  return `(${set.elements.map(printLiteral).join(', ')})`;
}

function quote(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function printLiteral(literal: PrimitiveLiteral): string {
  switch (literal.kind) {
    case 'string':
      return quote(literal.value);
    case 'integer':
      return String(literal.value);
    case 'float':
      return plainDecimal(literal.value);
    case 'boolean':
      return literal.value ? 'TRUE' : 'FALSE';
    case 'timestamp':
      return `t'${literal.value}'`;
    case 'binary':
      return `b'${literal.value}'`;
    case 'hex':
      return `h'${literal.value}'`;
  }
}

/** A float as the grammar writes it: digits, a point, digits — never an exponent. */
export function plainDecimal(value: number): string {
  if (Object.is(value, -0)) return '-0.0';
  const text = String(value);
  const exponentAt = text.indexOf('e');
  if (exponentAt < 0) return text.includes('.') ? text : `${text}.0`;
  const negative = text.startsWith('-');
  const mantissa = text.slice(negative ? 1 : 0, exponentAt);
  const exponent = Number(text.slice(exponentAt + 1));
  const [whole = '', fraction = ''] = mantissa.split('.');
  const digits = whole + fraction;
  const pointAt = whole.length + exponent;
  let out: string;
  if (pointAt <= 0) out = `0.${'0'.repeat(-pointAt)}${digits}`;
  else if (pointAt >= digits.length) out = `${digits}${'0'.repeat(pointAt - digits.length)}.0`;
  else out = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return negative ? `-${out}` : out;
}
