/**
 * The immutable syntax tree of a STIX 2.1 pattern (STIX 2.1 §9). Every node carries the span of source
 * text it was parsed from; a printed-and-reparsed tree is equal to the original once spans are ignored.
 * Grouping parentheses leave no node: precedence and nesting are the tree's shape.
 */

/** Offsets into the pattern text, `end` exclusive. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
  readonly span: Span;
}
export interface IntegerLiteral {
  readonly kind: 'integer';
  /** Within ±(2^53 − 1), the range of a STIX integer. */
  readonly value: number;
  readonly span: Span;
}
export interface FloatLiteral {
  readonly kind: 'float';
  readonly value: number;
  readonly span: Span;
}
export interface BooleanLiteral {
  readonly kind: 'boolean';
  readonly value: boolean;
  readonly span: Span;
}
export interface TimestampLiteral {
  readonly kind: 'timestamp';
  /** The text between the quotes, e.g. `2026-01-01T00:00:00Z`; a real calendar instant. */
  readonly value: string;
  readonly span: Span;
}
export interface BinaryLiteral {
  readonly kind: 'binary';
  /** Base64 text as written between the quotes. */
  readonly value: string;
  readonly span: Span;
}
export interface HexLiteral {
  readonly kind: 'hex';
  /** Hex digits as written between the quotes (an even number). */
  readonly value: string;
  readonly span: Span;
}

export type OrderableLiteral = IntegerLiteral | FloatLiteral | StringLiteral | BinaryLiteral | HexLiteral | TimestampLiteral;
export type PrimitiveLiteral = OrderableLiteral | BooleanLiteral;

export interface SetLiteral {
  readonly kind: 'set';
  /** All of one type (integers and floats count as one, numbers). */
  readonly elements: readonly PrimitiveLiteral[];
  readonly span: Span;
}

export type PathStep =
  | { readonly kind: 'key'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'any-index' };

export interface ObjectPath {
  /** The SCO type, e.g. `file`: a valid STIX type name. */
  readonly objectType: string;
  /** At least one step; the first is always a key. */
  readonly steps: readonly PathStep[];
  readonly span: Span;
}

export type EqualityOperator = '=' | '!=';
export type OrderOperator = '<' | '<=' | '>' | '>=';
export type StringOperator = 'LIKE' | 'MATCHES' | 'ISSUBSET' | 'ISSUPERSET';
export type ComparisonOperator = EqualityOperator | OrderOperator | 'IN' | StringOperator;

interface ComparisonBase {
  readonly kind: 'comparison';
  readonly path: ObjectPath;
  /** `NOT` written before the operator, e.g. `NOT IN`. */
  readonly negated: boolean;
  readonly span: Span;
}

/** `path op literal`; the operator decides which literals are allowed. */
export type Comparison =
  | (ComparisonBase & { readonly operator: EqualityOperator; readonly value: PrimitiveLiteral })
  | (ComparisonBase & { readonly operator: OrderOperator; readonly value: OrderableLiteral })
  | (ComparisonBase & { readonly operator: 'IN'; readonly value: SetLiteral })
  | (ComparisonBase & { readonly operator: StringOperator; readonly value: StringLiteral });

export interface ExistsTest {
  readonly kind: 'exists';
  readonly path: ObjectPath;
  readonly span: Span;
}

export interface ComparisonJunction {
  readonly kind: 'comparison-and' | 'comparison-or';
  readonly left: ComparisonExpression;
  readonly right: ComparisonExpression;
  readonly span: Span;
}

/** What stands inside `[...]`: tests on one SCO joined by AND/OR. */
export type ComparisonExpression = Comparison | ExistsTest | ComparisonJunction;

export type Qualifier =
  | { readonly kind: 'within'; readonly seconds: number; readonly span: Span }
  | { readonly kind: 'start-stop'; readonly start: TimestampLiteral; readonly stop: TimestampLiteral; readonly span: Span }
  | { readonly kind: 'repeats'; readonly times: number; readonly span: Span };

export interface Observation {
  readonly kind: 'observation';
  readonly comparison: ComparisonExpression;
  readonly span: Span;
}

export interface ObservationJunction {
  readonly kind: 'observation-and' | 'observation-or' | 'followed-by';
  readonly left: ObservationExpression;
  readonly right: ObservationExpression;
  readonly span: Span;
}

export interface QualifiedObservation {
  readonly kind: 'qualified';
  readonly expression: ObservationExpression;
  readonly qualifier: Qualifier;
  readonly span: Span;
}

export type ObservationExpression = Observation | ObservationJunction | QualifiedObservation;

/** A whole pattern is one observation expression. */
export type PatternAst = ObservationExpression;

/** Where and why a pattern was refused: `message` reads `at 14: expected ']' or AND/OR, found 'foo'`. */
export interface PatternSyntaxError {
  readonly offset: number;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units. */
  readonly column: number;
  /** What the parser would have accepted here; empty for errors that are not about the next token. */
  readonly expected: readonly string[];
  /** The offending text, or `end of pattern`. */
  readonly found: string;
  readonly message: string;
}
