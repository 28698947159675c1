// Recursive-descent parser for the whole STIX 2.1 patterning grammar (STIX 2.1 §9), followed by the
// rules the grammar alone does not state (checked in check-pattern.ts). Precedence, loosest first:
// FOLLOWEDBY, OR, AND between observation expressions; qualifiers bind tightest; inside brackets OR,
// then AND. Every binary operator associates to the left.
import { err, ok, type Result } from '../errors/result.ts';
import type {
  ComparisonExpression,
  ComparisonOperator,
  ObjectPath,
  ObservationExpression,
  OrderableLiteral,
  PathStep,
  PatternAst,
  PatternSyntaxError,
  PrimitiveLiteral,
  Qualifier,
  SetLiteral,
  StringLiteral,
  TimestampLiteral,
} from './pattern-ast.ts';
import { createPatternLexer, describeTextAt, isLexError, type PatternLexer, type Token } from './lex-pattern.ts';
import { checkPattern } from './check-pattern.ts';

/** Deeper nesting is refused rather than risking the call stack on hostile input. */
const maxDepth = 200;

/**
 * The deepest syntax tree accepted. A chain of one operator (`[a] AND [b] AND …`, `a OR b OR …` inside
 * brackets, `REPEATS 2 TIMES REPEATS 2 TIMES …`) is parsed by a loop, but makes the tree one level deeper
 * per operator, and everything that reads a tree walks it recursively: checkPattern below, the planner,
 * the catch-all test, the evaluator, printing. 100,000 of them overflowed the call stack in here, a
 * RangeError out of ingest. The evaluator, the deepest reader, overflows at about 3,000 levels; this leaves
 * room for the callers' own frames. Patterns within it may still be past a planning limit
 * (pattern-limits.ts), which keeps them out of the matcher only.
 */
export const maxTreeDepth = 1000;

class SyntaxFailure {
  constructor(
    readonly offset: number,
    readonly expected: readonly string[],
    readonly found: string,
    readonly reason: string | undefined,
  ) {}
}

/**
 * Parses STIX 2.1 pattern text into its syntax tree. Never throws: a syntax error is reported as one
 * error with its position and what was expected; a well-formed pattern that breaks a rule of the
 * specification (type names, AND across object types, qualifier values, regular expressions, …) is
 * reported with every such problem.
 */
export function parsePattern(text: string): Result<PatternAst, PatternSyntaxError[]> {
  if (typeof text !== 'string') return err([toError('', new SyntaxFailure(0, [], 'no text', 'a pattern must be a string'))]);
  let ast: PatternAst;
  let problems: ReturnType<typeof checkPattern>;
  try {
    ast = new Parser(text).parseWhole();
    problems = checkPattern(ast);
  } catch (failure) {
    if (failure instanceof SyntaxFailure) return err([toError(text, failure)]);
    // A RangeError from an exotic engine limit must still not escape a parser of untrusted input.
    return err([toError(text, new SyntaxFailure(0, [], describeTextAt(text, 0), `pattern cannot be parsed (${String(failure)})`))]);
  }
  if (problems.length > 0) {
    return err(problems.map((problem) => toError(text, new SyntaxFailure(problem.offset, [], describeTextAt(text, problem.offset), problem.reason))));
  }
  return ok(ast);
}

function toError(text: string, failure: SyntaxFailure): PatternSyntaxError {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < failure.offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  const column = failure.offset - lineStart + 1;
  const where = line === 1 ? `at ${failure.offset}` : `at ${failure.offset} (line ${line}, column ${column})`;
  const detail =
    failure.reason ?? `expected ${joinExpected(failure.expected)}, found ${failure.found}${keywordHint(failure.found)}`;
  return { offset: failure.offset, line, column, expected: failure.expected, found: failure.found, message: `${where}: ${detail}` };
}

function joinExpected(expected: readonly string[]): string {
  if (expected.length <= 1) return expected[0] ?? 'something else';
  return `${expected.slice(0, -1).join(', ')} or ${expected[expected.length - 1] ?? ''}`;
}

const upperKeywords = new Set(['AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'EXISTS', 'IN', 'START', 'STOP', 'SECONDS', 'WITHIN', 'REPEATS', 'TIMES']);
function keywordHint(found: string): string {
  const word = found.slice(1, -1).toUpperCase();
  return found.startsWith("'") && upperKeywords.has(word) && found.slice(1, -1) !== word ? ` (keywords are upper case: ${word})` : '';
}

const afterComparison = ['AND/OR'];
const wordOperators: ReadonlySet<string> = new Set(['IN', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET']);
const orderableKinds: ReadonlySet<string> = new Set(['string', 'integer', 'float', 'timestamp', 'binary', 'hex']);
const comparisonOperators = ['=', '!=', '<', '<=', '>', '>=', 'IN', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'NOT'];

class Parser {
  private readonly lexer: PatternLexer;
  private current: Token;
  private previousEnd = 0;
  private depth = 0;
  /** The height of the subtree the last parsing method returned (a comparison or EXISTS is 1). */
  private height = 0;

  constructor(private readonly text: string) {
    this.lexer = createPatternLexer(text);
    this.current = this.pull();
  }

  parseWhole(): PatternAst {
    const expression = this.followedBy();
    if (this.current.kind !== 'eof') this.fail(['AND', 'OR', 'FOLLOWEDBY', 'a qualifier (WITHIN, START, REPEATS)', 'end of pattern']);
    return expression;
  }

  private pull(): Token {
    const next = this.lexer.next();
    if (isLexError(next)) throw new SyntaxFailure(next.offset, [], next.found, next.reason);
    return next;
  }

  private advance(): Token {
    const token = this.current;
    this.previousEnd = token.end;
    this.current = this.pull();
    return token;
  }

  private isKeyword(word: string): boolean {
    return this.current.kind === 'keyword' && this.current.text === word;
  }

  private fail(expected: readonly string[]): never {
    const found = this.current.kind === 'eof' ? 'end of pattern' : describeTextAt(this.text, this.current.start);
    throw new SyntaxFailure(this.current.start, expected, found, undefined);
  }

  private expectKind(kind: Token['kind'], expected: readonly string[]): Token {
    if (this.current.kind !== kind) this.fail(expected);
    return this.advance();
  }

  private expectKeyword(word: string): Token {
    if (!this.isKeyword(word)) this.fail([word]);
    return this.advance();
  }

  /** The height of a node made over children `left` and `right` high, refused past maxTreeDepth. */
  private over(left: number, right: number, at: number): number {
    const height = (left > right ? left : right) + 1;
    if (height > maxTreeDepth) {
      throw new SyntaxFailure(at, [], describeTextAt(this.text, at), `pattern is nested deeper than ${maxTreeDepth} levels, counting each AND, OR, FOLLOWEDBY and qualifier`);
    }
    return height;
  }

  private enter(): void {
    this.depth++;
    if (this.depth > maxDepth) {
      throw new SyntaxFailure(this.current.start, [], describeTextAt(this.text, this.current.start), `pattern is nested deeper than ${maxDepth} levels`);
    }
  }

  // Observation expressions -------------------------------------------------------------------------

  private followedBy(): ObservationExpression {
    let left = this.observationOr();
    let height = this.height;
    while (this.isKeyword('FOLLOWEDBY')) {
      const at = this.advance().start;
      const right = this.observationOr();
      height = this.over(height, this.height, at);
      left = { kind: 'followed-by', left, right, span: { start: left.span.start, end: right.span.end } };
    }
    this.height = height;
    return left;
  }

  private observationOr(): ObservationExpression {
    let left = this.observationAnd();
    let height = this.height;
    while (this.isKeyword('OR')) {
      const at = this.advance().start;
      const right = this.observationAnd();
      height = this.over(height, this.height, at);
      left = { kind: 'observation-or', left, right, span: { start: left.span.start, end: right.span.end } };
    }
    this.height = height;
    return left;
  }

  private observationAnd(): ObservationExpression {
    let left = this.qualifiedObservation();
    let height = this.height;
    while (this.isKeyword('AND')) {
      const at = this.advance().start;
      const right = this.qualifiedObservation();
      height = this.over(height, this.height, at);
      left = { kind: 'observation-and', left, right, span: { start: left.span.start, end: right.span.end } };
    }
    this.height = height;
    return left;
  }

  private qualifiedObservation(): ObservationExpression {
    let expression = this.primaryObservation();
    let height = this.height;
    for (;;) {
      const qualifier = this.qualifier();
      if (qualifier === undefined) {
        this.height = height;
        return expression;
      }
      height = this.over(height, 0, qualifier.span.start);
      expression = { kind: 'qualified', expression, qualifier, span: { start: expression.span.start, end: qualifier.span.end } };
    }
  }

  private primaryObservation(): ObservationExpression {
    const start = this.current.start;
    this.enter();
    let result: ObservationExpression;
    if (this.current.kind === 'lbrack') {
      this.advance();
      const comparison = this.comparisonOr();
      this.expectKind('rbrack', ["']'", ...afterComparison]);
      this.height = this.over(this.height, 0, start);
      result = { kind: 'observation', comparison, span: { start, end: this.previousEnd } };
    } else if (this.current.kind === 'lparen') {
      this.advance();
      const inner = this.followedBy();
      this.expectKind('rparen', ["')'", 'AND/OR/FOLLOWEDBY', 'a qualifier']);
      // Grouping leaves no node; the span widens to cover the parentheses.
      result = { ...inner, span: { start, end: this.previousEnd } };
    } else {
      this.fail(["'['", "'('"]);
    }
    this.depth--;
    return result;
  }

  private qualifier(): Qualifier | undefined {
    const start = this.current.start;
    if (this.isKeyword('WITHIN')) {
      this.advance();
      const amount = this.current;
      if (amount.kind !== 'integer' && amount.kind !== 'float') this.fail(['a positive number of seconds']);
      this.advance();
      this.expectKeyword('SECONDS');
      return { kind: 'within', seconds: Number(amount.text), span: { start, end: this.previousEnd } };
    }
    if (this.isKeyword('START')) {
      this.advance();
      const startAt = this.timestamp();
      this.expectKeyword('STOP');
      const stopAt = this.timestamp();
      return { kind: 'start-stop', start: startAt, stop: stopAt, span: { start, end: this.previousEnd } };
    }
    if (this.isKeyword('REPEATS')) {
      this.advance();
      const count = this.current;
      if (count.kind !== 'integer') this.fail(['a positive integer']);
      this.advance();
      this.expectKeyword('TIMES');
      return { kind: 'repeats', times: Number(count.text), span: { start, end: this.previousEnd } };
    }
    return undefined;
  }

  private timestamp(): TimestampLiteral {
    const token = this.expectKind('timestamp', ["a timestamp t'…'"]);
    return { kind: 'timestamp', value: token.text, span: { start: token.start, end: token.end } };
  }

  // Comparison expressions --------------------------------------------------------------------------

  private comparisonOr(): ComparisonExpression {
    let left = this.comparisonAnd();
    let height = this.height;
    while (this.isKeyword('OR')) {
      const at = this.advance().start;
      const right = this.comparisonAnd();
      height = this.over(height, this.height, at);
      left = { kind: 'comparison-or', left, right, span: { start: left.span.start, end: right.span.end } };
    }
    this.height = height;
    return left;
  }

  private comparisonAnd(): ComparisonExpression {
    let left = this.propertyTest();
    let height = this.height;
    while (this.isKeyword('AND')) {
      const at = this.advance().start;
      const right = this.propertyTest();
      height = this.over(height, this.height, at);
      left = { kind: 'comparison-and', left, right, span: { start: left.span.start, end: right.span.end } };
    }
    this.height = height;
    return left;
  }

  private propertyTest(): ComparisonExpression {
    const start = this.current.start;
    if (this.current.kind === 'lparen') {
      this.enter();
      this.advance();
      const inner = this.comparisonOr();
      this.expectKind('rparen', ["')'", ...afterComparison]);
      this.depth--;
      return { ...inner, span: { start, end: this.previousEnd } };
    }
    this.height = 1;
    if (this.isKeyword('EXISTS')) {
      this.advance();
      const path = this.objectPath(['an object path such as file:name']);
      return { kind: 'exists', path, span: { start, end: path.span.end } };
    }
    const path = this.objectPath(['an object path such as file:name', "'('", 'EXISTS']);
    let negated = false;
    if (this.isKeyword('NOT')) {
      this.advance();
      negated = true;
    }
    const operator = this.operator(negated);
    // Literal objects per branch (no spreads): this is the hottest allocation of a parse.
    switch (operator) {
      case '=':
      case '!=': {
        const value = this.primitiveLiteral();
        return { kind: 'comparison', path, negated, operator, value, span: { start, end: this.previousEnd } };
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const value = this.orderableLiteral();
        return { kind: 'comparison', path, negated, operator, value, span: { start, end: this.previousEnd } };
      }
      case 'IN': {
        const value = this.setLiteral();
        return { kind: 'comparison', path, negated, operator, value, span: { start, end: this.previousEnd } };
      }
      default: {
        const value = this.stringLiteral();
        return { kind: 'comparison', path, negated, operator, value, span: { start, end: this.previousEnd } };
      }
    }
  }

  private operator(negated: boolean): ComparisonOperator {
    const token = this.current;
    if (token.kind === 'operator') {
      this.advance();
      return token.text as ComparisonOperator;
    }
    if (token.kind === 'keyword' && wordOperators.has(token.text)) {
      this.advance();
      return token.text as ComparisonOperator;
    }
    return this.fail(negated ? comparisonOperators.slice(0, -1) : comparisonOperators);
  }

  private objectPath(expected: readonly string[]): ObjectPath {
    const typeToken = this.current;
    if (typeToken.kind !== 'identifier') this.fail(expected);
    this.advance();
    this.expectKind('colon', ["':'"]);
    const steps: PathStep[] = [{ kind: 'key', name: this.key() }];
    for (;;) {
      if (this.current.kind === 'dot') {
        this.advance();
        steps.push({ kind: 'key', name: this.key() });
      } else if (this.current.kind === 'lbrack') {
        this.advance();
        const index = this.current;
        if (index.kind === 'star') {
          this.advance();
          steps.push({ kind: 'any-index' });
        } else if (index.kind === 'integer' && !index.text.startsWith('-') && !index.text.startsWith('+')) {
          this.advance();
          steps.push({ kind: 'index', index: Number(index.text) });
        } else {
          this.fail(['a list index (0, 1, …)', "'*'"]);
        }
        this.expectKind('rbrack', ["']'"]);
      } else {
        break;
      }
    }
    return { objectType: typeToken.text, steps, span: { start: typeToken.start, end: this.previousEnd } };
  }

  /** A property name: bare (`name`, and for STIX 2.0 patterns `windows-pebinary-ext`) or quoted (`'SHA-256'`). */
  private key(): string {
    const token = this.current;
    if (token.kind === 'identifier' || token.kind === 'string') {
      this.advance();
      return token.text;
    }
    if (token.kind === 'keyword') this.fail(['a property name (quote keywords: \'' + token.text + "')"]);
    return this.fail(['a property name']);
  }

  private stringLiteral(): StringLiteral {
    const token = this.expectKind('string', ["a string '…'"]);
    return { kind: 'string', value: token.text, span: { start: token.start, end: token.end } };
  }

  private orderableLiteral(): OrderableLiteral {
    const token = this.current;
    const span = { start: token.start, end: token.end };
    switch (token.kind) {
      case 'string':
        this.advance();
        return { kind: 'string', value: token.text, span };
      case 'integer':
        this.advance();
        return { kind: 'integer', value: Number(token.text), span };
      case 'float':
        this.advance();
        return { kind: 'float', value: Number(token.text), span };
      case 'timestamp':
        this.advance();
        return { kind: 'timestamp', value: token.text, span };
      case 'binary':
        this.advance();
        return { kind: 'binary', value: token.text, span };
      case 'hex':
        this.advance();
        return { kind: 'hex', value: token.text, span };
      default:
        return this.fail(['a string, number, timestamp, binary or hex literal']);
    }
  }

  private primitiveLiteral(): PrimitiveLiteral {
    if (this.isKeyword('TRUE') || this.isKeyword('FALSE')) {
      const token = this.advance();
      return { kind: 'boolean', value: token.text === 'TRUE', span: { start: token.start, end: token.end } };
    }
    if (orderableKinds.has(this.current.kind)) return this.orderableLiteral();
    return this.fail(['a string, number, boolean, timestamp, binary or hex literal']);
  }

  private setLiteral(): SetLiteral {
    const start = this.current.start;
    this.expectKind('lparen', ["'(' starting a set such as ('a', 'b')"]);
    const elements: PrimitiveLiteral[] = [];
    if (this.current.kind !== 'rparen') {
      elements.push(this.primitiveLiteral());
      while (this.current.kind === 'comma') {
        this.advance();
        elements.push(this.primitiveLiteral());
      }
    }
    this.expectKind('rparen', ["','", "')'"]);
    return { kind: 'set', elements, span: { start, end: this.previousEnd } };
  }
}
