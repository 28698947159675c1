// Zeek logs (conn, dns, http, files, ssl, x509) as observations, from TSV (with its `#fields` header) or
// JSON lines. Every record keeps its addresses, ports and protocols as network-traffic between
// ipv4/ipv6-addr, plus what the log is about: the queried name and its answers (dns), the host and URL
// (http), the file's hashes and name (files), the server name (ssl), the certificate (x509).
import { ScoBuilder, hashesOf } from './sco-builder.ts';
import { toStixTimestamp, type JsonRecord } from './log-observation.ts';

export const zeekLogKinds = ['conn', 'dns', 'http', 'files', 'ssl', 'x509'] as const;
export type ZeekLogKind = (typeof zeekLogKinds)[number];

export function isZeekLogKind(text: string): text is ZeekLogKind {
  return (zeekLogKinds as readonly string[]).includes(text);
}

/** The kind of a Zeek record from its fields, when neither `_path` nor the file name says. */
export function guessZeekKind(record: JsonRecord): ZeekLogKind | undefined {
  if ('query' in record && 'qtype_name' in record) return 'dns';
  if ('query' in record) return 'dns';
  if ('method' in record || ('host' in record && 'uri' in record)) return 'http';
  if ('certificate.serial' in record || 'certificate.subject' in record) return 'x509';
  if ('fuid' in record && ('mime_type' in record || 'sha256' in record || 'md5' in record || 'sha1' in record)) return 'files';
  if ('server_name' in record || 'cipher' in record) return 'ssl';
  if ('proto' in record && 'id.orig_h' in record) return 'conn';
  return undefined;
}

export interface ZeekRecordResult {
  readonly timestamp: string;
  readonly objects: Record<string, JsonRecord>;
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]);

function addTraffic(b: ScoBuilder, record: JsonRecord, services: readonly unknown[]): void {
  b.traffic({
    src: record['id.orig_h'],
    dst: record['id.resp_h'],
    srcPort: record['id.orig_p'],
    dstPort: record['id.resp_p'],
    protocols: [record['proto'], ...services],
  });
}

/** The URL an http record observed: its `uri` when absolute, else built from `host` and `uri`. */
export function zeekHttpUrl(host: unknown, uri: unknown): string | undefined {
  if (typeof uri === 'string' && /^https?:\/\//i.test(uri)) return uri;
  if (typeof host === 'string' && host !== '' && typeof uri === 'string') return `http://${host}${uri.startsWith('/') ? '' : '/'}${uri}`;
  return undefined;
}

/** The SCOs of one Zeek record of the given kind; a reason when the record cannot be one. */
export function zeekRecordObservation(kind: ZeekLogKind, record: JsonRecord): ZeekRecordResult | string {
  const timestamp = toStixTimestamp(record['ts']);
  if (timestamp === undefined) return `ts ${JSON.stringify(record['ts'])} is not a time`;
  const b = new ScoBuilder();
  switch (kind) {
    case 'conn':
      addTraffic(b, record, String(record['service'] ?? '').split(','));
      break;
    case 'dns': {
      addTraffic(b, record, ['dns']);
      const query = b.domain(record['query']);
      const answers = list(record['answers']);
      if (query !== undefined && answers.length > 0) {
        const resolved: string[] = [];
        for (const answer of answers) {
          const ref = b.domain(answer);
          if (ref !== undefined && ref !== query) resolved.push(ref);
        }
        const querySco = b.objects[query] as Record<string, unknown>;
        if (querySco['type'] === 'domain-name' && resolved.length > 0) querySco['resolves_to_refs'] = resolved;
      }
      break;
    }
    case 'http': {
      addTraffic(b, record, ['http']);
      const host = record['host'];
      b.domain(host);
      b.url(zeekHttpUrl(host, record['uri']));
      break;
    }
    case 'files': {
      for (const host of [...list(record['tx_hosts']), ...list(record['rx_hosts'])]) b.ip(host);
      if ('id.orig_h' in record) addTraffic(b, record, []);
      const file: Record<string, unknown> = { type: 'file' };
      const hashes = hashesOf(record['md5'], record['sha1'], record['sha256']);
      if (hashes !== undefined) file['hashes'] = hashes;
      if (typeof record['filename'] === 'string' && record['filename'] !== '') file['name'] = record['filename'];
      const size = Number(record['total_bytes'] ?? record['seen_bytes']);
      if (Number.isSafeInteger(size) && size >= 0) file['size'] = size;
      if (typeof record['mime_type'] === 'string' && record['mime_type'] !== '') file['mime_type'] = record['mime_type'];
      if (hashes !== undefined || file['name'] !== undefined) b.add(file);
      break;
    }
    case 'ssl':
      addTraffic(b, record, ['ssl']);
      b.domain(record['server_name']);
      break;
    case 'x509': {
      const cert: Record<string, unknown> = { type: 'x509-certificate' };
      const fingerprint = record['fingerprint'];
      if (typeof fingerprint === 'string') {
        const hex = fingerprint.replace(/:/g, '');
        const hashes = hashesOf(hex, hex, hex);
        if (hashes !== undefined) cert['hashes'] = hashes;
      }
      const copy = (from: string, to: string): void => {
        const value = record[from];
        if (typeof value === 'string' && value !== '') cert[to] = value;
      };
      copy('certificate.serial', 'serial_number');
      copy('certificate.subject', 'subject');
      copy('certificate.issuer', 'issuer');
      const notBefore = toStixTimestamp(record['certificate.not_valid_before']);
      const notAfter = toStixTimestamp(record['certificate.not_valid_after']);
      if (notBefore !== undefined) cert['validity_not_before'] = notBefore;
      if (notAfter !== undefined) cert['validity_not_after'] = notAfter;
      b.add(cert);
      for (const name of list(record['san.dns'])) b.domain(name);
      for (const address of list(record['san.ip'])) b.ip(address);
      break;
    }
  }
  if (b.size === 0) return `a ${kind} record with nothing to observe`;
  return { timestamp, objects: b.objects };
}

/** The fields of one Zeek record, read one by one: a TSV line's are read without making the record. */
export interface ZeekFields {
  /** The field as the record would hold it: undefined when unset or absent, a list for a set or vector. */
  field(name: string): unknown;
  /** The whole record. */
  record(): JsonRecord;
}

/** The fields of a record read from JSON. */
export function jsonZeekFields(record: JsonRecord): ZeekFields {
  return { field: (name) => record[name], record: () => record };
}

/** State of a Zeek TSV file: the header lines seen so far. */
export class ZeekTsvHeader {
  separator = '\t';
  setSeparator = ',';
  emptyField = '(empty)';
  unsetField = '-';
  path: string | undefined;
  fields: string[] | undefined;
  containers: boolean[] = [];
  /** Each field name's column; a name given twice is the later column, as in the record. */
  private columns = new Map<string, number>();

  /** Reads a `#…` header line; false when the line is not one. */
  readHeader(line: string): boolean {
    if (!line.startsWith('#')) return false;
    if (line.startsWith('#separator ')) {
      const value = line.slice('#separator '.length);
      this.separator = value.replace(/\\x([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
      return true;
    }
    const [name, ...values] = line.split(this.separator);
    const first = values[0] ?? '';
    if (name === '#set_separator') this.setSeparator = first;
    else if (name === '#empty_field') this.emptyField = first;
    else if (name === '#unset_field') this.unsetField = first;
    else if (name === '#path') this.path = first;
    else if (name === '#fields') {
      this.fields = values;
      this.columns = new Map(values.map((field, column) => [field, column]));
    } else if (name === '#types') this.containers = values.map((type) => type.startsWith('set[') || type.startsWith('vector['));
    return true;
  }

  /** One data line, split into its columns, or a reason. */
  line(line: string): ZeekTsvLine | string {
    if (this.fields === undefined) return 'data before the #fields header';
    const values = line.split(this.separator);
    if (values.length !== this.fields.length) return `${values.length} fields where the #fields header names ${this.fields.length}`;
    return new ZeekTsvLine(this, values);
  }

  /** One data line as a record (`-` absent, sets and vectors as arrays), or a reason. */
  record(line: string): JsonRecord | string {
    const split = this.line(line);
    return typeof split === 'string' ? split : split.record();
  }

  /** The value of one column as the record holds it (undefined when unset). */
  valueAt(values: readonly string[], column: number): unknown {
    const value = values[column] as string;
    if (value === this.unsetField) return undefined;
    if (this.containers[column] === true) return value === this.emptyField ? [] : value.split(this.setSeparator);
    return value === this.emptyField ? '' : value;
  }

  columnOf(field: string): number | undefined {
    return this.columns.get(field);
  }
}

/** A TSV data line split into the columns its header names. */
export class ZeekTsvLine implements ZeekFields {
  /** The record, once made. */
  private made: JsonRecord | undefined;

  constructor(
    private readonly header: ZeekTsvHeader,
    private readonly values: readonly string[],
  ) {}

  field(name: string): unknown {
    const column = this.header.columnOf(name);
    return column === undefined ? undefined : this.header.valueAt(this.values, column);
  }

  record(): JsonRecord {
    if (this.made !== undefined) return this.made;
    const record: Record<string, unknown> = {};
    const fields = this.header.fields ?? [];
    for (let column = 0; column < fields.length; column++) {
      const value = this.header.valueAt(this.values, column);
      if (value !== undefined) record[fields[column] as string] = value;
    }
    this.made = record;
    return record;
  }
}
