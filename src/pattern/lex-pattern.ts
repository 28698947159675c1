// The lexer of STIX 2.1 patterns. It scans on demand (the parser pulls one token at a time), so that
// the one context-dependent choice — `.5` after an operator is a float, `.name` after a path is a key
// step — is made from the previous token, and so that a syntax error stops the scan at once.
import { timestampFractionDigits } from '../stix/validate/lexical.ts';

export type TokenKind =
  | 'lbrack'
  | 'rbrack'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'colon'
  | 'dot'
  | 'star'
  | 'operator'
  | 'keyword'
  | 'identifier'
  | 'string'
  | 'integer'
  | 'float'
  | 'timestamp'
  | 'binary'
  | 'hex'
  | 'eof';

/** Keywords are upper case only in STIX 2.1 (`within` is an identifier, not WITHIN). */
export const keywords: ReadonlySet<string> = new Set([
  'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'EXISTS', 'LAST', 'IN',
  'START', 'STOP', 'SECONDS', 'TRUE', 'FALSE', 'WITHIN', 'REPEATS', 'TIMES',
]);

export interface Token {
  readonly kind: TokenKind;
  /** Source text; for string-like literals the decoded content, for operators the canonical form. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** A lexical error: the offset where it was found and what is wrong. */
export interface LexError {
  readonly offset: number;
  readonly found: string;
  readonly reason: string;
}

/** Whatever pulls tokens: `next()` returns a token or the first lexical error. */
export interface PatternLexer {
  next(): Token | LexError;
}

export function isLexError(value: Token | LexError): value is LexError {
  return (value as LexError).reason !== undefined;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentifierStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentifierPart(c: number): boolean {
  return isIdentifierStart(c) || isDigit(c) || c === 45;
}
function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigit(c) || c === 43 || c === 47;
}
/** The grammar's whitespace: ASCII blanks plus the Unicode spaces it lists. */
function isSpace(c: number): boolean {
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

/** Describes the text at `offset` for an error message: one token-ish word, shortened. */
export function describeTextAt(text: string, offset: number): string {
  if (offset >= text.length) return 'end of pattern';
  let end = offset + 1;
  if (isIdentifierPart(text.charCodeAt(offset))) {
    while (end < text.length && isIdentifierPart(text.charCodeAt(end))) end++;
  }
  const word = text.slice(offset, Math.min(end, offset + 24));
  return `'${word}${end > offset + 24 ? '…' : ''}'`;
}

const maxSafe = Number.MAX_SAFE_INTEGER;

export function createPatternLexer(text: string): PatternLexer {
  let pos = 0;
  let previous: TokenKind | undefined;
  const length = text.length;

  const token = (kind: TokenKind, tokenText: string, start: number): Token => {
    previous = kind;
    return { kind, text: tokenText, start, end: pos };
  };
  const fail = (offset: number, reason: string): LexError => ({ offset, found: describeTextAt(text, offset), reason });

  function skipSpaceAndComments(): LexError | undefined {
    while (pos < length) {
      const c = text.charCodeAt(pos);
      if (isSpace(c)) {
        pos++;
      } else if (c === 47 && text.charCodeAt(pos + 1) === 42) {
        const close = text.indexOf('*/', pos + 2);
        if (close < 0) return fail(pos, 'comment is not closed with */');
        pos = close + 2;
      } else if (c === 47 && text.charCodeAt(pos + 1) === 47) {
        while (pos < length && text.charCodeAt(pos) !== 10 && text.charCodeAt(pos) !== 13) pos++;
      } else {
        return undefined;
      }
    }
    return undefined;
  }

  /** Reads `'…'` from `pos` (at the quote); returns the decoded content. */
  function readQuoted(start: number, what: string): string | LexError {
    pos++;
    let out = '';
    let chunkStart = pos;
    while (pos < length) {
      const c = text.charCodeAt(pos);
      if (c === 39) {
        out += text.slice(chunkStart, pos);
        pos++;
        return out;
      }
      if (c === 92) {
        const n = text.charCodeAt(pos + 1);
        if (n !== 39 && n !== 92) {
          return fail(pos, `${what} may only escape \\' and \\\\ (write a backslash as \\\\)`);
        }
        out += text.slice(chunkStart, pos) + String.fromCharCode(n);
        pos += 2;
        chunkStart = pos;
        continue;
      }
      pos++;
    }
    return fail(start, `${what} is not closed with '`);
  }

  function readNumber(start: number): Token | LexError {
    if (text.charCodeAt(pos) === 43 || text.charCodeAt(pos) === 45) pos++;
    const digitsStart = pos;
    while (pos < length && isDigit(text.charCodeAt(pos))) pos++;
    const intDigits = pos - digitsStart;
    if (text.charCodeAt(pos) === 46 && isDigit(text.charCodeAt(pos + 1))) {
      pos++;
      while (pos < length && isDigit(text.charCodeAt(pos))) pos++;
      const value = Number(text.slice(start, pos));
      if (!Number.isFinite(value)) return fail(start, 'number is too large');
      return token('float', text.slice(start, pos), start);
    }
    if (intDigits === 0) return fail(start, 'a sign must be followed by digits');
    if (intDigits > 1 && text.charCodeAt(digitsStart) === 48) return fail(start, 'integers have no leading zeros');
    if (isIdentifierStart(text.charCodeAt(pos))) return fail(start, 'a number must not run into letters');
    const value = Number(text.slice(start, pos));
    if (Math.abs(value) > maxSafe) return fail(start, 'integer is outside the STIX integer range (±2^53−1)');
    return token('integer', text.slice(start, pos), start);
  }

  function readPrefixedLiteral(start: number, prefix: number): Token | LexError {
    pos++;
    const content = readQuoted(pos, prefix === 116 ? 'timestamp' : prefix === 98 ? 'binary literal' : 'hex literal');
    if (typeof content !== 'string') return content;
    if (prefix === 116) {
      if (timestampFractionDigits(content) < 0) {
        return fail(start, `t'${content}' is not a UTC timestamp such as t'2026-01-31T00:00:00Z' with a real date`);
      }
      return token('timestamp', content, start);
    }
    if (prefix === 104) {
      if (content.length % 2 !== 0 || ![...content].every((ch) => isHexDigit(ch.charCodeAt(0)))) {
        return fail(start, `h'…' must hold pairs of hex digits`);
      }
      return token('hex', content, start);
    }
    if (!isPaddedBase64(content)) return fail(start, `b'…' must hold padded base64`);
    return token('binary', content, start);
  }

  function next(): Token | LexError {
    const problem = skipSpaceAndComments();
    if (problem !== undefined) return problem;
    const start = pos;
    if (pos >= length) return token('eof', '', start);
    const c = text.charCodeAt(pos);
    switch (c) {
      case 91:
        pos++;
        return token('lbrack', '[', start);
      case 93:
        pos++;
        return token('rbrack', ']', start);
      case 40:
        pos++;
        return token('lparen', '(', start);
      case 41:
        pos++;
        return token('rparen', ')', start);
      case 44:
        pos++;
        return token('comma', ',', start);
      case 58:
        pos++;
        return token('colon', ':', start);
      case 42:
        pos++;
        return token('star', '*', start);
      case 61:
        pos += text.charCodeAt(pos + 1) === 61 ? 2 : 1;
        return token('operator', '=', start);
      case 33:
        if (text.charCodeAt(pos + 1) === 61) {
          pos += 2;
          return token('operator', '!=', start);
        }
        return fail(start, `unexpected character '${String.fromCodePoint(text.codePointAt(start) ?? 0)}'`);
      case 60: {
        const n = text.charCodeAt(pos + 1);
        if (n === 61) {
          pos += 2;
          return token('operator', '<=', start);
        }
        if (n === 62) {
          pos += 2;
          return token('operator', '!=', start);
        }
        pos++;
        return token('operator', '<', start);
      }
      case 62:
        if (text.charCodeAt(pos + 1) === 61) {
          pos += 2;
          return token('operator', '>=', start);
        }
        pos++;
        return token('operator', '>', start);
      case 39: {
        const content = readQuoted(start, 'string');
        if (typeof content !== 'string') return content;
        return token('string', content, start);
      }
      case 46:
        // After a path component a dot starts a key step; anywhere else `.5` is a float.
        if (isDigit(text.charCodeAt(pos + 1)) && previous !== 'identifier' && previous !== 'string' && previous !== 'rbrack') {
          return readNumber(start);
        }
        pos++;
        return token('dot', '.', start);
      case 43:
      case 45:
        return readNumber(start);
      default:
        break;
    }
    if (isDigit(c)) return readNumber(start);
    if ((c === 116 || c === 98 || c === 104) && text.charCodeAt(pos + 1) === 39) return readPrefixedLiteral(start, c);
    if (isIdentifierStart(c)) {
      pos++;
      while (pos < length && isIdentifierPart(text.charCodeAt(pos))) pos++;
      const word = text.slice(start, pos);
      return token(keywords.has(word) ? 'keyword' : 'identifier', word, start);
    }
    return fail(start, `unexpected character '${String.fromCodePoint(text.codePointAt(start) ?? 0)}'`);
  }

  return { next };
}

/** Padded RFC 4648 base64, possibly empty, as the 2.1 grammar's BinaryLiteral. */
function isPaddedBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 61) end -= s.charCodeAt(end - 2) === 61 ? 2 : 1;
  for (let i = 0; i < end; i++) if (!isBase64Char(s.charCodeAt(i))) return false;
  return true;
}
