// CSV with a column mapping: `--map src=ipv4-addr:value,query=domain-name:value,ts=@timestamp`. Columns
// are named by the header row; each mapped column writes its cell at an object path (plain keys, quoted
// keys allowed: `sha=file:hashes.'SHA-256'`). Columns mapped to the same type fill one SCO, until a path
// repeats, which starts another (so `src` and `dst` both on ipv4-addr:value give two addresses).
// `@timestamp` names the column holding the time (ISO 8601 or epoch seconds). Quoted fields follow
// RFC 4180 within one line; a field cannot span lines.
import { parsePattern } from '../pattern/parse-pattern.ts';
import { toStixTimestamp, type JsonRecord } from './log-observation.ts';

export interface CsvColumnMapping {
  readonly column: string;
  /** Undefined for the timestamp column. */
  readonly objectType: string | undefined;
  readonly keys: readonly string[];
}

/** Parses `col=type:path,col2=@timestamp,…` (several --map values are joined); a reason when wrong. */
export function parseCsvMapping(specs: readonly string[]): CsvColumnMapping[] | string {
  const out: CsvColumnMapping[] = [];
  for (const part of specs.flatMap((spec) => spec.split(','))) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) return `"${trimmed}" is not column=type:path`;
    const column = trimmed.slice(0, eq);
    const target = trimmed.slice(eq + 1);
    if (target === '@timestamp') {
      out.push({ column, objectType: undefined, keys: [] });
      continue;
    }
    const parsed = parsePattern(`[${target} = 'x']`);
    const comparison = parsed.ok && parsed.value.kind === 'observation' ? parsed.value.comparison : undefined;
    if (comparison === undefined || comparison.kind !== 'comparison') return `"${target}" is not an object path such as ipv4-addr:value`;
    const keys: string[] = [];
    for (const step of comparison.path.steps) {
      if (step.kind !== 'key') return `"${target}": list indices are not allowed in a column mapping`;
      keys.push(step.name);
    }
    out.push({ column, objectType: comparison.path.objectType, keys });
  }
  if (out.length === 0) return 'the mapping names no column';
  return out;
}

/** Splits one CSV line (RFC 4180 quoting, one line); undefined when a quote is not closed. */
export function splitCsvLine(line: string, delimiter = ','): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = line.indexOf('"', i);
        if (close < 0) return undefined;
        value += line.slice(i, close);
        if (line[close + 1] === '"') {
          value += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      fields.push(value);
      if (i >= line.length) return fields;
      if (line[i] !== delimiter) return undefined;
      i++;
    } else {
      const next = line.indexOf(delimiter, i);
      if (next < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, next));
      i = next + 1;
    }
  }
}

/** Properties STIX defines as integers: their cells are numbers, so that `dst_port = 4444` can hold. */
const integerProperties: ReadonlySet<string> = new Set(['src_port', 'dst_port', 'size', 'number', 'pid', 'src_byte_count', 'dst_byte_count', 'src_packets', 'dst_packets']);

/** A CSV file's state: the header and where each mapped column is. */
export class CsvTable {
  private columns: { index: number; mapping: CsvColumnMapping }[] | undefined;

  constructor(private readonly mapping: readonly CsvColumnMapping[]) {}

  /** Reads the header row; a reason when a mapped column is missing. */
  readHeader(line: string): string | undefined {
    const names = splitCsvLine(line.replace(/^\uFEFF/, ''));
    if (names === undefined) return 'the header row has an unclosed quote';
    const columns: { index: number; mapping: CsvColumnMapping }[] = [];
    for (const mapping of this.mapping) {
      const index = names.indexOf(mapping.column);
      if (index < 0) return `no column "${mapping.column}" in the header (${names.join(', ')})`;
      columns.push({ index, mapping });
    }
    this.columns = columns;
    return undefined;
  }

  get hasHeader(): boolean {
    return this.columns !== undefined;
  }

  row(line: string, now: () => string): { timestamp: string; objects: Record<string, JsonRecord> } | string {
    const fields = splitCsvLine(line);
    if (fields === undefined) return 'unclosed quote';
    const objects: Record<string, JsonRecord> = {};
    const current = new Map<string, { key: string; sco: Record<string, unknown>; paths: Set<string> }>();
    let timestamp: string | undefined;
    let next = 0;
    for (const { index, mapping } of this.columns ?? []) {
      const cell = fields[index];
      if (cell === undefined || cell === '') continue;
      if (mapping.objectType === undefined) {
        timestamp = toStixTimestamp(cell);
        if (timestamp === undefined) return `column ${mapping.column}: "${cell.slice(0, 40)}" is not a time`;
        continue;
      }
      const pathText = mapping.keys.join('.');
      let target = current.get(mapping.objectType);
      if (target === undefined || target.paths.has(pathText)) {
        target = { key: String(next++), sco: { type: mapping.objectType }, paths: new Set() };
        current.set(mapping.objectType, target);
        objects[target.key] = target.sco;
      }
      target.paths.add(pathText);
      let container = target.sco;
      mapping.keys.forEach((key, i) => {
        if (i === mapping.keys.length - 1) container[key] = integerProperties.has(key) && /^\d{1,15}$/.test(cell) ? Number(cell) : cell;
        else {
          const inner = container[key];
          const child = inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : {};
          container[key] = child;
          container = child;
        }
      });
    }
    if (next === 0) return 'no mapped column has a value';
    return { timestamp: timestamp ?? now(), objects };
  }
}
