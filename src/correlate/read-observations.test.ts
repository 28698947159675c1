import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createObservationReader, type LineOutcome, type LogFormat } from './read-observations.ts';
import { parseCsvMapping, splitCsvLine, type CsvColumnMapping } from './csv-observations.ts';
import type { JsonRecord, LogObservation } from './log-observation.ts';
import { toStixTimestamp } from './log-observation.ts';

const now = (): string => '2026-06-01T00:00:00.000Z';

function readAll(text: string, format: LogFormat, source = 'input', csvMapping?: CsvColumnMapping[]): LineOutcome[] {
  const reader = createObservationReader({ format, source, now, csvMapping });
  return text.split('\n').map((line, i) => reader.readLine(line, i + 1));
}

function observationsOf(outcomes: readonly LineOutcome[]): LogObservation[] {
  return outcomes.flatMap((o) => (o.kind === 'observations' ? o.observations : []));
}

function malformed(outcomes: readonly LineOutcome[]): string[] {
  return outcomes.flatMap((o, i) => (o.kind === 'malformed' ? [`${i + 1}: ${o.reason}`] : []));
}

/** The SCOs of an observation with their references replaced by the referenced SCO's type:value. */
function scos(observation: LogObservation | undefined): JsonRecord[] {
  if (observation === undefined) return [];
  const objects = observation.objects;
  const name = (ref: unknown): unknown => {
    const target = typeof ref === 'string' ? objects[ref] : undefined;
    return target === undefined ? ref : `${String(target['type'])}:${String(target['value'])}`;
  };
  return Object.values(objects).map((sco) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(sco)) {
      out[key] = key.endsWith('_ref') ? name(value) : key.endsWith('_refs') && Array.isArray(value) ? value.map(name) : value;
    }
    return out;
  });
}

const T = '\t';
const zeekConnTsv = [
  '#separator \\x09',
  '#set_separator\t,',
  '#empty_field\t(empty)',
  '#unset_field\t-',
  '#path\tconn',
  '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice',
  '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring',
  ['1767225600.123456', 'CAbc1', '10.0.0.5', '49152', '198.51.100.7', '443', 'tcp', 'ssl'].join(T),
  ['1767225601.000000', 'CAbc2', '10.0.0.5', '49153', '198.51.100.8', '53', 'udp', '-'].join(T),
  ['1767225602.000000', 'CAbc3', 'only', 'three'].join(T),
  '#close\t2026-01-01-01-00-00',
].join('\n');

describe('Zeek logs', () => {
  it('conn TSV: network-traffic between the two addresses with ports and protocols, at ts', () => {
    const outcomes = readAll(zeekConnTsv, 'zeek');
    const [first, second] = observationsOf(outcomes);
    assert.equal(first?.firstObserved, '2026-01-01T00:00:00.123Z');
    assert.equal(first?.line, 8);
    assert.deepEqual(scos(first), [
      { type: 'ipv4-addr', value: '10.0.0.5' },
      { type: 'ipv4-addr', value: '198.51.100.7' },
      { type: 'network-traffic', protocols: ['tcp', 'ssl'], src_ref: 'ipv4-addr:10.0.0.5', dst_ref: 'ipv4-addr:198.51.100.7', src_port: 49152, dst_port: 443 },
    ]);
    assert.deepEqual(scos(second)[2]?.['protocols'], ['udp'], 'an unset service (-) adds nothing');
    assert.deepEqual(malformed(outcomes), ['10: 4 fields where the #fields header names 8']);
  });

  it('auto-detects TSV from its #separator header', () => {
    assert.equal(observationsOf(readAll(zeekConnTsv, 'auto')).length, 2);
  });

  it('dns TSV: the query as domain-name resolving to its answers; sets split on the set separator', () => {
    const tsv = [
      '#separator \\x09',
      '#set_separator\t,',
      '#path\tdns',
      '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers',
      '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]',
      ['1767225600', 'C1', '10.0.0.5', '5353', '10.0.0.1', '53', 'udp', 'c2.example.net', 'cdn.example.net,203.0.113.9'].join(T),
    ].join('\n');
    const [observation] = observationsOf(readAll(tsv, 'zeek'));
    const domain = scos(observation).find((sco) => sco['value'] === 'c2.example.net');
    assert.deepEqual(domain, { type: 'domain-name', value: 'c2.example.net', resolves_to_refs: ['domain-name:cdn.example.net', 'ipv4-addr:203.0.113.9'] });
  });

  it('http, files, ssl and x509 in Zeek JSON: host and URL, hashes and name, server name, certificate', () => {
    const lines = [
      { _path: 'http', ts: 1767225600.5, uid: 'C1', 'id.orig_h': '10.0.0.5', 'id.orig_p': 50000, 'id.resp_h': '198.51.100.7', 'id.resp_p': 80, method: 'GET', host: 'bad.example', uri: '/gate.php?id=1' },
      { _path: 'files', ts: '2026-01-01T00:00:01.000000Z', fuid: 'F1', tx_hosts: ['198.51.100.7'], rx_hosts: ['10.0.0.5'], filename: 'invoice.exe', md5: 'd41d8cd98f00b204e9800998ecf8427e', sha256: 'ab'.repeat(32), total_bytes: 1234, mime_type: 'application/x-dosexec' },
      { _path: 'ssl', ts: 1767225602, uid: 'C2', 'id.orig_h': '10.0.0.5', 'id.orig_p': 50001, 'id.resp_h': '198.51.100.9', 'id.resp_p': 443, server_name: 'login.bad.example' },
      { _path: 'x509', ts: 1767225603, fingerprint: 'cd'.repeat(32), 'certificate.serial': '0A1B', 'certificate.subject': 'CN=login.bad.example', 'certificate.issuer': 'CN=Bad CA', 'san.dns': ['login.bad.example'] },
    ];
    const observations = observationsOf(readAll(lines.map((l) => JSON.stringify(l)).join('\n'), 'auto'));
    assert.equal(observations.length, 4);
    const [http, files, ssl, x509] = observations.map(scos);
    assert.ok(http?.some((s) => s['type'] === 'url' && s['value'] === 'http://bad.example/gate.php?id=1'));
    assert.ok(http?.some((s) => s['type'] === 'domain-name' && s['value'] === 'bad.example'));
    assert.deepEqual(
      files?.find((s) => s['type'] === 'file'),
      { type: 'file', hashes: { MD5: 'd41d8cd98f00b204e9800998ecf8427e', 'SHA-256': 'ab'.repeat(32) }, name: 'invoice.exe', size: 1234, mime_type: 'application/x-dosexec' },
    );
    assert.equal(observations[1]?.firstObserved, '2026-01-01T00:00:01.000Z');
    assert.ok(ssl?.some((s) => s['type'] === 'domain-name' && s['value'] === 'login.bad.example'));
    assert.deepEqual(x509?.[0], { type: 'x509-certificate', hashes: { 'SHA-256': 'cd'.repeat(32) }, serial_number: '0A1B', subject: 'CN=login.bad.example', issuer: 'CN=Bad CA' });
  });

  it('auto-detects Zeek JSON x509 records (no uid) from their fields or the file name', () => {
    const line = JSON.stringify({ ts: 1767225603, id: 'FhX1', 'certificate.serial': '0A1B', 'certificate.subject': 'CN=x' });
    assert.equal(observationsOf(readAll(line, 'auto', 'certs.json')).length, 1);
    const bare = JSON.stringify({ ts: 1767225603, id: 'FhX1', 'san.dns': ['a.example'] });
    assert.equal(observationsOf(readAll(bare, 'auto', '/logs/x509.log')).length, 1);
  });

  it('Zeek JSON without _path: the kind comes from the file name, else from the fields', () => {
    const line = JSON.stringify({ ts: 1767225600, uid: 'C1', 'id.orig_h': '10.0.0.5', 'id.orig_p': 1, 'id.resp_h': '10.0.0.1', 'id.resp_p': 53, proto: 'udp', query: 'x.example' });
    const fromName = observationsOf(readAll(line, 'zeek', '/var/log/zeek/dns.04:00:00-05:00:00.log'));
    assert.ok(scos(fromName[0]).some((s) => s['value'] === 'x.example'));
    assert.ok(scos(observationsOf(readAll(line, 'auto', 'events.json'))[0]).some((s) => s['value'] === 'x.example'));
  });
});

describe('Suricata EVE JSON', () => {
  const base = { timestamp: '2026-01-01T00:00:00.250000+0000', flow_id: 1, src_ip: '10.0.0.5', src_port: 50000, dest_ip: '198.51.100.7', dest_port: 443, proto: 'TCP' };

  it('alert, dns, http, tls, fileinfo and flow events give their observables; stats events are not observations', () => {
    const events = [
      { ...base, event_type: 'alert', alert: { signature: 'ET x' }, http: { hostname: 'bad.example', url: '/a' } },
      { ...base, event_type: 'dns', dns: { type: 'answer', rrname: 'c2.example', answers: [{ rrname: 'c2.example', rrtype: 'A', rdata: '203.0.113.9' }] } },
      { ...base, event_type: 'http', http: { hostname: 'bad.example', url: '/dl/x.exe', http_method: 'GET' } },
      { ...base, event_type: 'tls', tls: { sni: 'login.bad.example', fingerprint: 'aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd', serial: '01:02' } },
      { ...base, event_type: 'fileinfo', fileinfo: { filename: '/dl/x.exe', sha256: 'ef'.repeat(32), size: 10 } },
      { ...base, event_type: 'flow', flow: { pkts_toserver: 3 } },
      { timestamp: base.timestamp, event_type: 'stats', stats: { uptime: 1 } },
    ];
    const outcomes = readAll(events.map((e) => JSON.stringify(e)).join('\n'), 'auto');
    assert.deepEqual(outcomes.map((o) => o.kind), ['observations', 'observations', 'observations', 'observations', 'observations', 'observations', 'ignored']);
    const [alert, dns, http, tls, fileinfo, flow] = observationsOf(outcomes).map(scos);
    assert.equal(observationsOf(outcomes)[0]?.firstObserved, '2026-01-01T00:00:00.250Z');
    assert.ok(alert?.some((s) => s['value'] === 'http://bad.example/a'));
    assert.ok(dns?.some((s) => s['value'] === 'c2.example') && dns.some((s) => s['value'] === '203.0.113.9'));
    assert.ok(http?.some((s) => s['value'] === 'http://bad.example/dl/x.exe'));
    assert.ok(tls?.some((s) => s['value'] === 'login.bad.example'));
    assert.deepEqual(tls?.find((s) => s['type'] === 'x509-certificate'), { type: 'x509-certificate', hashes: { 'SHA-1': 'aabbccddeeff00112233445566778899aabbccdd' }, serial_number: '01:02' });
    assert.deepEqual(fileinfo?.find((s) => s['type'] === 'file'), { type: 'file', hashes: { 'SHA-256': 'ef'.repeat(32) }, name: 'x.exe', size: 10 });
    assert.deepEqual(flow?.[2], { type: 'network-traffic', protocols: ['tcp'], src_ref: 'ipv4-addr:10.0.0.5', dst_ref: 'ipv4-addr:198.51.100.7', src_port: 50000, dst_port: 443 });
  });

  it('an event with a broken timestamp is malformed with the reason', () => {
    assert.deepEqual(malformed(readAll(JSON.stringify({ ...base, timestamp: 'yesterday', event_type: 'flow' }), 'eve')), ['1: timestamp "yesterday" is not a time']);
  });
});

describe('JSON lines of observables', () => {
  it('an SCO, an array of SCOs, an observed-data with embedded objects, and a bundle', () => {
    const bundle = {
      type: 'bundle',
      id: 'bundle--1',
      objects: [
        { type: 'ipv4-addr', id: 'ipv4-addr--1', value: '198.51.100.7' },
        { type: 'observed-data', id: 'observed-data--1', created: 'x', first_observed: '2026-01-02T00:00:00Z', last_observed: '2026-01-02T01:00:00Z', number_observed: 5, object_refs: ['ipv4-addr--1'] },
      ],
    };
    const lines = [
      { type: 'domain-name', value: 'bad.example' },
      [{ type: 'ipv4-addr', value: '1.2.3.4' }, { type: 'url', value: 'http://x.example/' }],
      { type: 'observed-data', first_observed: '2026-01-03T00:00:00Z', last_observed: '2026-01-03T00:00:00Z', number_observed: 1, objects: { '0': { type: 'file', name: 'a.exe' } } },
      bundle,
    ];
    const observations = observationsOf(readAll(lines.map((l) => JSON.stringify(l)).join('\n'), 'jsonl'));
    assert.equal(observations.length, 4);
    assert.equal(observations[0]?.firstObserved, now(), 'a bare SCO is observed when read');
    assert.equal(Object.keys(observations[1]?.objects ?? {}).length, 2);
    assert.equal(observations[2]?.firstObserved, '2026-01-03T00:00:00.000Z');
    assert.deepEqual([observations[3]?.firstObserved, observations[3]?.lastObserved, observations[3]?.count], ['2026-01-02T00:00:00.000Z', '2026-01-02T01:00:00.000Z', 5]);
    assert.deepEqual(scos(observations[3]), [{ type: 'ipv4-addr', id: 'ipv4-addr--1', value: '198.51.100.7' }]);
  });

  it('lines that are not JSON, not objects, or refer outside themselves are malformed with the reason', () => {
    const text = ['{"type": "ipv4-addr", "value": ', '42', '{"type":"observed-data","first_observed":"2026-01-01T00:00:00Z","object_refs":["ipv4-addr--1"]}', '\u0000\u0001garbage\ufffd'].join('\n');
    const reasons = malformed(readAll(text, 'jsonl'));
    assert.equal(reasons.length, 4);
    assert.match(reasons[0] ?? '', /^1: not JSON/);
    assert.equal(reasons[1], '2: not a STIX object, bundle or array of SCOs');
    assert.match(reasons[2] ?? '', /^3: an observed-data whose object_refs point outside its line/);
    assert.match(reasons[3] ?? '', /^4: not JSON/);
  });
});

describe('CSV with a column mapping', () => {
  it('maps columns to object paths; a repeated path starts another SCO; @timestamp sets the time; ports are numbers', () => {
    const mapping = parseCsvMapping(["time=@timestamp,src=ipv4-addr:value,dst=ipv4-addr:value,port=network-traffic:dst_port", "sha=file:hashes.'SHA-256',name=file:name"]);
    assert.ok(Array.isArray(mapping));
    const text = ['time,src,dst,port,sha,name,ignored', `2026-01-01T00:00:00Z,10.0.0.5,198.51.100.7,443,${'ab'.repeat(32)},"in,voice.exe",x`, ',10.0.0.6,,,,,'].join('\n');
    const outcomes = readAll(text, 'csv', 'flows.csv', mapping);
    assert.deepEqual(outcomes.map((o) => o.kind), ['ignored', 'observations', 'observations']);
    const [first, second] = observationsOf(outcomes);
    assert.equal(first?.firstObserved, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(scos(first), [
      { type: 'ipv4-addr', value: '10.0.0.5' },
      { type: 'ipv4-addr', value: '198.51.100.7' },
      { type: 'network-traffic', dst_port: 443 },
      { type: 'file', hashes: { 'SHA-256': 'ab'.repeat(32) }, name: 'in,voice.exe' },
    ]);
    assert.equal(second?.firstObserved, now(), 'no time in the row: the time it was read');
  });

  it('a mapping that names no path, a missing column, and an unclosed quote are reported', () => {
    assert.equal(parseCsvMapping(['src']), '"src" is not column=type:path');
    assert.equal(parseCsvMapping(['src=not a path']), '"not a path" is not an object path such as ipv4-addr:value');
    const mapping = parseCsvMapping(['src=ipv4-addr:value']) as CsvColumnMapping[];
    assert.deepEqual(malformed(readAll('a,b\n1,2', 'csv', 'x.csv', mapping)).slice(0, 1), ['1: no column "src" in the header (a, b)']);
    assert.deepEqual(malformed(readAll('src\n"10.0.0.1', 'csv', 'x.csv', mapping)), ['2: unclosed quote']);
  });

  it('splits RFC 4180 quoting on one line', () => {
    assert.deepEqual(splitCsvLine('a,"b,c","d""e",'), ['a', 'b,c', 'd"e', '']);
    assert.equal(splitCsvLine('"a"b'), undefined);
  });
});

describe('times as logs write them', () => {
  it('epoch seconds, ISO 8601 with Z, an offset or none; impossible dates refused', () => {
    assert.equal(toStixTimestamp(1767225600.5), '2026-01-01T00:00:00.500Z');
    assert.equal(toStixTimestamp('1767225600'), '2026-01-01T00:00:00.000Z');
    assert.equal(toStixTimestamp('2026-01-01T01:00:00.123456+0100'), '2026-01-01T00:00:00.123Z');
    assert.equal(toStixTimestamp('2026-01-01 00:00:00'), '2026-01-01T00:00:00.000Z');
    assert.equal(toStixTimestamp('2026-02-30T00:00:00Z'), undefined);
    assert.equal(toStixTimestamp('2026-02-30T00:00:00.000Z'), undefined);
    assert.equal(toStixTimestamp('2026-01-01T24:00:00.000Z'), undefined);
    assert.equal(toStixTimestamp('2026-01-01T23:59:59.999Z'), '2026-01-01T23:59:59.999Z');
    assert.equal(toStixTimestamp(1767225600.9996), '2026-01-01T00:00:01.000Z');
    assert.equal(toStixTimestamp(1767225601.05), '2026-01-01T00:00:01.050Z');
    assert.equal(toStixTimestamp('soon'), undefined);
  });

  it('a canonical timestamp is checked whole even right after another of the same day', () => {
    assert.equal(toStixTimestamp('2026-02-28T10:00:00.000Z'), '2026-02-28T10:00:00.000Z');
    assert.equal(toStixTimestamp('2026-02-28T24:00:00.000Z'), undefined);
    assert.equal(toStixTimestamp('2026-02-28T1x:00:00.000Z'), undefined);
    assert.equal(toStixTimestamp('2026-02-28T10:00:00.00xZ'), undefined);
    assert.equal(toStixTimestamp('2026-02-29T10:00:00.000Z'), undefined);
    assert.equal(toStixTimestamp('2026-02-2xT10:00:00.000Z'), undefined);
    assert.equal(toStixTimestamp('2026-02-28T23:59:59.999Z'), '2026-02-28T23:59:59.999Z');
  });
});
