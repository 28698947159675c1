import { isScoType } from './ids.ts';
import { exceedsByteLimit, parseJson } from './parse-json.ts';
import type { ParseJsonOptions } from './parse-json.ts';
import type { JsonObject, JsonValue } from './types.ts';

export type StixVersion = '2.0' | '2.1';

/** Where an object came from: the line of a JSON-lines text, and its index in the container's `objects`. */
export interface DocumentSource {
  readonly line?: number;
  readonly index?: number;
}

export type ContainerKind = 'bundle' | 'envelope' | 'object';

export interface ReadObject {
  /** A JSON object with a string `type`; everything else about it is still unchecked. */
  readonly object: JsonObject;
  readonly source: DocumentSource;
  /** The STIX version the object is written in, so that the caller can upgrade 2.0 objects. */
  readonly version: StixVersion;
  readonly container: ContainerKind;
}

export type DocumentProblemCode =
  | 'ENT_INPUT_MALFORMED_JSON'
  | 'ENT_INPUT_TOO_DEEP'
  | 'ENT_INPUT_TOO_LARGE'
  | 'ENT_INPUT_NOT_ENVELOPE'
  | 'ENT_OBJECT_INVALID';

/** `message` starts with the place (`line 17: …`, `objects[3]: …`) so that it can be shown as is. */
export interface DocumentProblem {
  readonly code: DocumentProblemCode;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
  readonly index?: number;
}

export interface ReadResult {
  readonly objects: ReadObject[];
  readonly problems: DocumentProblem[];
}

export interface ReadOptions extends ParseJsonOptions {
  /** Problems listed before the rest are summarised in one line (hostile files can have millions). */
  readonly maxProblems?: number;
}

const DEFAULT_MAX_PROBLEMS = 1000;
const ENVELOPE_KEYS = new Set(['objects', 'more', 'next']);

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The STIX version an object is written in. `spec_version` says it when present. When absent, STIX 2.1
 * (§3.1, spec_version) fixes the default: 2.0 for every object except SCOs, which only became top-level
 * objects in 2.1. A bundle that declares `spec_version: "2.0"` makes all its objects 2.0.
 * Undefined when `spec_version` names some other version.
 */
export function detectStixVersion(object: JsonObject, bundleVersion?: StixVersion): StixVersion | undefined {
  const declared = object['spec_version'];
  if (declared === '2.1' || declared === '2.0') return declared;
  if (declared !== undefined) return undefined;
  if (bundleVersion === '2.0') return '2.0';
  const type = object['type'];
  return typeof type === 'string' && isScoType(type) ? '2.1' : '2.0';
}

/** Prefixes a place to a message; the place of JSON lines is the line, within it the index. */
function place(source: DocumentSource): string {
  const parts: string[] = [];
  if (source.line !== undefined) parts.push(`line ${source.line}`);
  if (source.index !== undefined) parts.push(`objects[${source.index}]`);
  return parts.length === 0 ? '' : `${parts.join(', ')}: `;
}

function problemAt(code: DocumentProblemCode, source: DocumentSource, what: string): DocumentProblem {
  return { code, message: `${place(source)}${what}`, ...source };
}

/**
 * The STIX objects in one parsed JSON document, whatever the container: a STIX 2.1 bundle, a STIX 2.0
 * bundle (`spec_version: "2.0"` on the bundle), a TAXII 2.1 envelope (`{"objects": […], "more": …}`,
 * no `type`), or a single STIX object. Top-level arrays, strings and other values are refused: they
 * are no STIX container, and guessing would hide a producer's mistake.
 */
export function readDocument(value: JsonValue, line?: number): ReadResult {
  const at: DocumentSource = line === undefined ? {} : { line };
  const objects: ReadObject[] = [];
  const problems: DocumentProblem[] = [];
  if (!isObject(value)) {
    problems.push(problemAt('ENT_INPUT_NOT_ENVELOPE', at, `expected a STIX bundle, a TAXII envelope or a STIX object, got ${describe(value)} at the top level`));
    return { objects, problems };
  }
  const type = value['type'];
  if (type === 'bundle') {
    readBundle(value, at, objects, problems);
  } else if (type === undefined) {
    readEnvelope(value, at, objects, problems);
  } else if (typeof type !== 'string') {
    problems.push(problemAt('ENT_INPUT_NOT_ENVELOPE', at, `"type" must be a string, got ${describe(type)}`));
  } else {
    const version = detectStixVersion(value);
    if (version === undefined) {
      problems.push(problemAt('ENT_OBJECT_INVALID', at, unsupportedVersion(value)));
    } else {
      objects.push({ object: value, source: at, version, container: 'object' });
    }
  }
  return { objects, problems };
}

function unsupportedVersion(object: JsonObject): string {
  return `${describeObject(object)}spec_version ${JSON.stringify(object['spec_version'])} is not a STIX version Entente reads (2.0 or 2.1)`;
}

function describeObject(object: JsonObject): string {
  const id = object['id'];
  return typeof id === 'string' ? `${id}: ` : '';
}

function readBundle(bundle: JsonObject, at: DocumentSource, objects: ReadObject[], problems: DocumentProblem[]): void {
  const declared = bundle['spec_version'];
  let bundleVersion: StixVersion | undefined;
  if (declared === '2.0') bundleVersion = '2.0';
  else if (declared !== undefined && declared !== '2.1') {
    // STIX 2.1 bundles carry no spec_version; "2.1" is a common slip and harmless, anything else is not.
    problems.push(problemAt('ENT_INPUT_NOT_ENVELOPE', at, `bundle spec_version ${JSON.stringify(declared)} is not 2.0 (STIX 2.1 bundles have none)`));
    return;
  }
  readObjectList(bundle['objects'], bundleVersion, 'bundle', at, objects, problems);
}

function readEnvelope(envelope: JsonObject, at: DocumentSource, objects: ReadObject[], problems: DocumentProblem[]): void {
  const foreign = Object.keys(envelope).filter((key) => !ENVELOPE_KEYS.has(key));
  if (foreign.length > 0) {
    const keys = foreign.slice(0, 5).map((key) => JSON.stringify(key)).join(', ');
    problems.push(problemAt('ENT_INPUT_NOT_ENVELOPE', at, `object has no "type", so it should be a TAXII envelope, but it has ${keys}`));
    return;
  }
  readObjectList(envelope['objects'], undefined, 'envelope', at, objects, problems);
}

function readObjectList(
  list: JsonValue | undefined,
  bundleVersion: StixVersion | undefined,
  container: ContainerKind,
  at: DocumentSource,
  objects: ReadObject[],
  problems: DocumentProblem[],
): void {
  if (list === undefined) return; // an empty bundle or envelope is valid
  if (!Array.isArray(list)) {
    problems.push(problemAt('ENT_INPUT_NOT_ENVELOPE', at, `"objects" must be an array, got ${describe(list)}`));
    return;
  }
  list.forEach((item, index) => {
    const read = readListElement(item, { ...at, index }, bundleVersion, container);
    if ('object' in read) objects.push(read);
    else problems.push(read);
  });
}

/**
 * One element of a bundle's or envelope's `objects`, as readDocument reads it: the object, or the
 * problem that keeps it out. Exported for readers that meet the elements one by one (a bundle
 * streamed from a file), so that they read each exactly as the whole document would be read.
 */
export function readListElement(
  item: JsonValue | undefined,
  source: DocumentSource,
  bundleVersion: StixVersion | undefined,
  container: ContainerKind,
): ReadObject | DocumentProblem {
  if (!isObject(item)) return problemAt('ENT_OBJECT_INVALID', source, `expected a STIX object, got ${describe(item)}`);
  const type = item['type'];
  if (typeof type !== 'string') {
    return problemAt('ENT_OBJECT_INVALID', source, `${describeObject(item)}a STIX object needs a string "type", got ${describe(type)}`);
  }
  if (type === 'bundle') return problemAt('ENT_OBJECT_INVALID', source, 'a bundle cannot contain another bundle');
  const version = detectStixVersion(item, bundleVersion);
  if (version === undefined) return problemAt('ENT_OBJECT_INVALID', source, unsupportedVersion(item));
  return { object: item, source, version, container };
}

/** Parses then reads one JSON document (a request body, an import file). */
export function readJsonText(text: string, options: ReadOptions = {}): ReadResult {
  const parsed = parseJson(text, options);
  if (!parsed.ok) {
    const { code, message, line, column } = parsed.error;
    return { objects: [], problems: [{ code, message, ...(line === undefined ? {} : { line }), ...(column === undefined ? {} : { column }) }] };
  }
  return readDocument(parsed.value);
}

/**
 * One line of a JSON-lines text: an object, a bundle or an envelope. Problems name the line, and the
 * column that V8 reported within it. A blank line yields nothing.
 */
export function readJsonLine(text: string, line: number, options: ParseJsonOptions = {}): ReadResult {
  if (text.trim() === '') return { objects: [], problems: [] };
  const parsed = parseJson(text, options);
  if (!parsed.ok) {
    const { code, reason, column } = parsed.error;
    const where = column === undefined ? `line ${line}` : `line ${line}, column ${column}`;
    return { objects: [], problems: [{ code, message: `${where}: ${reason}`, line, ...(column === undefined ? {} : { column }) }] };
  }
  return readDocument(parsed.value, line);
}

/**
 * A whole JSON-lines text (`\n` or `\r\n`), one document per line, numbered from 1. A bad line costs
 * only itself. `maxBytes` applies to the whole text; `maxDepth` to each line.
 */
export function readJsonLines(text: string, options: ReadOptions = {}): ReadResult {
  const objects: ReadObject[] = [];
  const problems: DocumentProblem[] = [];
  if (options.maxBytes !== undefined && exceedsByteLimit(text, options.maxBytes)) {
    return { objects, problems: [{ code: 'ENT_INPUT_TOO_LARGE', message: `input is larger than the limit of ${options.maxBytes} bytes` }] };
  }
  const maxProblems = options.maxProblems ?? DEFAULT_MAX_PROBLEMS;
  const lineOptions: ParseJsonOptions = {
    ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }),
    ...(options.unsafeNumbers === undefined ? {} : { unsafeNumbers: options.unsafeNumbers }),
  };
  let omitted = 0;
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    line++;
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const raw = text.slice(start, end);
    const content = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const result = readJsonLine(content, line, lineOptions);
    for (const object of result.objects) objects.push(object);
    for (const problem of result.problems) {
      if (problems.length < maxProblems) problems.push(problem);
      else omitted++;
    }
    if (newline === -1) break;
    start = newline + 1;
  }
  if (omitted > 0) {
    problems.push({ code: 'ENT_OBJECT_INVALID', message: `${omitted} more problems not listed (only the first ${maxProblems} are)` });
  }
  return { objects, problems };
}
