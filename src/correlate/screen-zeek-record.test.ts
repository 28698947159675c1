import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BulkMatcher } from './bulk-matcher.ts';
import { createObservationReader, type LineOutcome } from './read-observations.ts';
import { scoShapesOf } from './screen-zeek-record.ts';
import { jsonZeekFields, ZeekTsvHeader, zeekRecordObservation, type ZeekFields } from './zeek-observations.ts';
import { indicator, now } from './test-support.ts';

/** A matcher of the patterns, each indicator named by its pattern (ids differ between two matchers). */
function matcherOf(patterns: readonly string[]): BulkMatcher {
  const matcher = new BulkMatcher();
  for (const pattern of patterns) {
    const outcome = matcher.add(indicator(pattern, { name: pattern }), { now });
    assert.equal(outcome.added, true, `${pattern}: ${JSON.stringify(outcome)}`);
  }
  return matcher;
}

const fields: Record<'conn' | 'dns' | 'http', string[]> = {
  conn: ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service'],
  dns: ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'query', 'answers'],
  http: ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'method', 'host', 'uri'],
};
const types: Record<string, string> = { answers: 'vector[string]', service: 'set[string]' };

/** A Zeek TSV log of one kind: its header (with #types, so that sets are lists) and the data lines. */
function zeekLog(kind: keyof typeof fields, lines: readonly string[], withTypes: boolean): string[] {
  const names = fields[kind];
  const header = ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', `#path\t${kind}`, `#fields\t${names.join('\t')}`];
  if (withTypes) header.push(`#types\t${names.map((name) => types[name] ?? 'string').join('\t')}`);
  return [...header, ...lines];
}

/** What matching a log finds, line by line: with the screen, a screened line is counted with its time. */
function matchLog(log: readonly string[], matcher: BulkMatcher, screened: boolean): string[] {
  const reader = createObservationReader({ format: 'zeek', source: 'x.log', now: () => '2026-06-01T00:00:00.000Z' });
  return log.map((text, i) => {
    const outcome: LineOutcome = reader.readLine(text, i + 1, screened ? matcher.screen : undefined);
    if (outcome.kind === 'screened') return `observed at ${outcome.lastObserved}, no match`;
    if (outcome.kind !== 'observations') return JSON.stringify(outcome);
    return outcome.observations
      .map((observation) => {
        const found = matcher.match(observation).map((match) => `${match.name ?? ''} on ${match.observable.path} = ${match.observable.value}`);
        return `observed at ${observation.lastObserved}, ${found.length === 0 ? 'no match' : found.sort().join(', ')}`;
      })
      .join('; ');
  });
}

const addresses = ['198.51.100.7', '198.51.100.8', '2001:db8::1', '2001:DB8::1', '10.0.0.1', '-', '(empty)', 'not-an-ip', ''];
const ports = ['53', '80', '443', '8080', '-', '70000', 'x', '(empty)'];
const names = ['evil.example', 'evil.example.', 'evil.example..', 'good.example', 'x\\x20y.example', 'x y.example', '198.51.100.7', '198.51.100.7.', '2001:db8::1', 'café.example', '-', '(empty)', 'evil.example,good.example', 'zz12.example'];
const uris = ['/', '/index.html', 'index.html', 'http://evil.example/a', 'HTTPS://zz12.example/', '/a\\x20b', '-', '(empty)', '/login.php?x=1'];
const protocols = ['tcp', 'udp', 'TCP', 'QUIC', 'ssl,http', 'dns', '-', '(empty)', 'quic,SSL'];
const times = ['1780300000.123456', '1780300000', '-', 'x', '2026-06-01T10:00:00Z'];

const patternPool = [
  "[ipv4-addr:value = '198.51.100.7']",
  "[ipv6-addr:value = '2001:db8::1']",
  "[ipv4-addr:value ISSUBSET '198.51.100.0/31']",
  "[ipv6-addr:value ISSUBSET '2001:db8::/64']",
  "[domain-name:value = 'evil.example']",
  "[domain-name:value = 'evil.example.']",
  "[domain-name:value = 'x\\\\x20y.example']",
  "[domain-name:value = 'café.example']",
  "[domain-name:value LIKE 'zz%']",
  "[domain-name:value MATCHES '^x.y\\\\.']",
  "[url:value = 'http://evil.example/index.html']",
  "[url:value = 'http://good.example/index.html']",
  "[url:value LIKE '%/login.php%']",
  "[url:value MATCHES '^https://']",
  "[url:value LIKE 'HTTPS://%']",
  "[network-traffic:dst_port = 53]",
  "[network-traffic:src_port = 8080]",
  "[network-traffic:protocols[*] = 'quic']",
  "[network-traffic:protocols[*] = 'ssl']",
  "[network-traffic:protocols[*] = 'ipv4']",
  "[network-traffic:dst_ref.value = '10.0.0.1']",
  "[network-traffic:src_ref.value LIKE '2001:%']",
  "[domain-name:resolves_to_refs[*].value = '198.51.100.8']",
  "[network-traffic:dst_ref = '1']",
  "[domain-name:type = 'domain-name']",
  "[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [domain-name:value = 'good.example']",
  "[domain-name:value != 'evil.example']",
  // Leaves evaluated on every observation, each needing an SCO of a type with a key that some records
  // make and others do not (a port, the answers, a URL, an IPv6 end), or that none makes.
  '[network-traffic:src_port > 1000]',
  "[domain-name:resolves_to_refs[*].value != '10.0.0.1']",
  "[url:value != 'http://good.example/index.html']",
  "[ipv6-addr:value != '2001:db8::1']",
  "[network-traffic:dst_ref.value != '10.0.0.1']",
  "[network-traffic:type != 'x' AND network-traffic:dst_port < 100]",
  "[x-custom:kind != 'a' OR ipv4-addr:value < '10.0.0.2']",
  "[ipv4-addr:value != '10.0.0.1'] FOLLOWEDBY [domain-name:value = 'good.example']",
];

const record = (kind: keyof typeof fields): fc.Arbitrary<string> => {
  const value = (name: string): fc.Arbitrary<string> => {
    if (name === 'ts') return fc.constantFrom(...times);
    if (name === 'uid') return fc.constant('C1');
    if (name.endsWith('_h')) return fc.constantFrom(...addresses);
    if (name.endsWith('_p')) return fc.constantFrom(...ports);
    if (name === 'proto' || name === 'service') return fc.constantFrom(...protocols);
    if (name === 'uri') return fc.constantFrom(...uris);
    if (name === 'method') return fc.constant('GET');
    return fc.constantFrom(...names);
  };
  return fc.tuple(...fields[kind].map(value)).map((values) => values.join('\t'));
};

/** Property: on every log and set of patterns, matching with the screen finds what matching without it finds. */
function screenKeepsMatchesOf(logs: fc.Arbitrary<string[]>, numRuns: number): void {
  fc.assert(
    fc.property(logs, fc.subarray(patternPool), (log, patterns) => {
      const matcher = matcherOf(patterns);
      assert.deepEqual(matchLog(log, matcher, true), matchLog(log, matcherOf(patterns), false));
    }),
    { numRuns },
  );
}

describe('screenZeekRecord', () => {
  it('property: matching a Zeek TSV log with the screen finds exactly what matching without it finds', () => {
    const kinds = fc.constantFrom('conn' as const, 'dns' as const, 'http' as const);
    const logs = kinds.chain((kind) => fc.tuple(fc.array(record(kind), { minLength: 1, maxLength: 6 }), fc.boolean()).map(([lines, withTypes]) => zeekLog(kind, lines, withTypes)));
    screenKeepsMatchesOf(logs, 600);
  });

  it('property: the same holds for Zeek JSON logs, with ports and times as numbers or as text', () => {
    const kinds = fc.constantFrom('conn' as const, 'dns' as const, 'http' as const);
    const logs = kinds.chain((kind) =>
      fc.tuple(fc.array(fc.tuple(record(kind), fc.boolean()), { minLength: 1, maxLength: 6 }), fc.boolean()).map(([lines, withTypes]) => {
        // The TSV reader's own records, written as Zeek's JSON writer would (numbers where it writes them).
        const header = new ZeekTsvHeader();
        const jsonLines: string[] = [];
        for (const text of zeekLog(kind, lines.map(([line]) => line), withTypes)) {
          if (header.readHeader(text)) continue;
          const fields = header.record(text);
          if (typeof fields === 'string') continue;
          const numbered = lines[jsonLines.length]?.[1] === true;
          const json: Record<string, unknown> = { _path: kind, ...fields };
          for (const name of ['ts', 'id.orig_p', 'id.resp_p']) {
            const value = json[name];
            if (numbered && typeof value === 'string' && value !== '' && Number.isFinite(Number(value))) json[name] = Number(value);
          }
          jsonLines.push(JSON.stringify(json));
        }
        return jsonLines;
      }),
    );
    screenKeepsMatchesOf(logs, 1500);
  });

  it('passes over a Zeek JSON record that no indicator can match, and reads one that an indicator can', () => {
    const matcher = matcherOf(["[domain-name:value = 'evil.example']", '[network-traffic:dst_port = 8080]']);
    const reader = createObservationReader({ format: 'zeek', source: 'dns.json', now: () => '' });
    const line = (query: string, port: number): string =>
      JSON.stringify({ _path: 'dns', ts: 1780300000.5, uid: 'C1', 'id.orig_h': '10.0.0.1', 'id.orig_p': 5353, 'id.resp_h': '10.0.0.53', 'id.resp_p': port, proto: 'udp', query, answers: ['192.0.2.1'] });
    const outcomes = [line('good.example', 53), line('evil.example', 53), line('good.example', 8080)].map((text, i) => reader.readLine(text, i + 1, matcher.screen));
    assert.deepEqual(
      outcomes.map((outcome) => outcome.kind),
      ['screened', 'observations', 'observations'],
    );
    assert.deepEqual(outcomes[0], { kind: 'screened', lastObserved: '2026-06-01T07:46:40.500Z' });
  });

  it('an indicator added after a record was passed over is asked about on the next record, even one on a text every record holds', () => {
    const matcher = matcherOf(["[domain-name:value = 'evil.example']"]);
    const log = zeekLog('conn', ['1780300000.5\tC1\t10.0.0.1\t5353\t10.0.0.53\t53\ttcp\t-'], false);
    const kinds = (): string[] => {
      const reader = createObservationReader({ format: 'zeek', source: 'conn.log', now: () => '' });
      return log.map((text, i) => reader.readLine(text, i + 1, matcher.screen).kind);
    };
    assert.equal(kinds().at(-1), 'screened');
    matcher.add(indicator("[network-traffic:protocols[*] = 'ipv4']"), { now });
    assert.equal(kinds().at(-1), 'observations');
  });

  it('passes over a record that no indicator can match, and reads one that an indicator can', () => {
    const matcher = matcherOf(["[domain-name:value = 'evil.example']"]);
    const log = zeekLog('dns', ['1780300000.5\tC1\t10.0.0.1\t5353\t10.0.0.53\t53\tudp\tgood.example\t(empty)', '1780300000.5\tC1\t10.0.0.1\t5353\t10.0.0.53\t53\tudp\tevil.example.\t(empty)'], true);
    const reader = createObservationReader({ format: 'zeek', source: 'dns.log', now: () => '' });
    const outcomes = log.map((text, i) => reader.readLine(text, i + 1, matcher.screen).kind);
    assert.deepEqual(outcomes.slice(-2), ['screened', 'observations'], 'the trailing dot is stripped before the question');
  });

  it('a leaf evaluated on every observation sends to the matcher only the records that make an SCO of its type with its key', () => {
    // Counted per need: conn records make a network-traffic and addresses, dns ones a domain-name too
    // (with resolves_to_refs when answered), none a url; a port field unset makes no src_port.
    const conn = (i: number, srcPort: string): string => `1780300000.5\tC${i}\t10.0.${i >> 8}.${i & 255}\t${srcPort}\t10.0.0.53\t53\ttcp\t-`;
    const dns = (query: string, answers: string): string => `1780300000.5\tC1\t10.0.0.1\t5353\t10.0.0.53\t53\tudp\t${query}\t${answers}`;
    const connLog = zeekLog('conn', [...Array.from({ length: 100 }, (_v, i) => conn(i, '-')), conn(100, '5353'), conn(101, '80')], true);
    const dnsLog = zeekLog('dns', [...Array.from({ length: 50 }, (_v, i) => dns(`host-${i}.example`, '(empty)')), dns('bad.example', '192.0.2.1'), dns('10.0.0.9', '(empty)')], true);
    const outcomes = (patterns: string[], log: string[], source: string): string[] => {
      const matcher = matcherOf(patterns);
      const reader = createObservationReader({ format: 'zeek', source, now: () => '' });
      return log.map((text, i) => reader.readLine(text, i + 1, matcher.screen)).filter((outcome) => outcome.kind !== 'ignored').map((outcome) => (outcome.kind === 'observations' ? `read ${matcher.match(outcome.observations[0]!).length}` : outcome.kind));
    };
    const count = (kinds: string[]): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (const kind of kinds) counts[kind] = (counts[kind] ?? 0) + 1;
      return counts;
    };
    // Before, any such leaf sent every record to the matcher: 102 and 52 read.
    assert.deepEqual(count(outcomes(['[network-traffic:src_port > 1000]'], connLog, 'conn.log')), { screened: 100, 'read 1': 1, 'read 0': 1 });
    assert.deepEqual(count(outcomes(["[domain-name:value != 'good.example']"], connLog, 'conn.log')), { screened: 102 });
    assert.deepEqual(count(outcomes(["[domain-name:value != 'good.example']"], dnsLog, 'dns.log')), { 'read 1': 51, screened: 1 });
    assert.deepEqual(count(outcomes(["[domain-name:resolves_to_refs[*].value = '192.0.2.1' OR domain-name:resolves_to_refs[*].value != '192.0.2.1']"], dnsLog, 'dns.log')), { screened: 51, 'read 1': 1 });
    assert.deepEqual(count(outcomes(["[url:value != 'x']", "[x-custom:kind != 'a']"], dnsLog, 'dns.log')), { screened: 52 });
    // Every record has an ipv4-addr: all read (record 53, from 10.0.0.53 to itself, holds no other).
    assert.deepEqual(count(outcomes(["[ipv4-addr:value != '10.0.0.53']"], connLog, 'conn.log')), { 'read 1': 101, 'read 0': 1 });
  });

  it('property: every SCO the reader makes of a record has its type and all its keys in one shape the screen asks about, and each shape is an SCO it makes', () => {
    const kinds = fc.constantFrom('conn' as const, 'dns' as const, 'http' as const);
    const cases = kinds.chain((kind) => fc.tuple(fc.constant(kind), record(kind), fc.boolean(), fc.boolean()));
    const parseShape = (shape: string): { type: string; keys: string[] } => {
      const [type, ...keys] = shape.slice(1, -1).split('""');
      return { type: type as string, keys };
    };
    fc.assert(
      fc.property(cases, ([kind, line, withTypes, asJson]) => {
        const header = new ZeekTsvHeader();
        const log = zeekLog(kind, [line], withTypes);
        for (const text of log.slice(0, -1)) header.readHeader(text);
        const split = header.line(line);
        if (typeof split === 'string') return;
        const fields: ZeekFields = asJson ? jsonZeekFields(split.record()) : split;
        const made = zeekRecordObservation(kind, fields.record());
        // The screen asks only about a record with an address at one end (it has a network-traffic).
        if (typeof made === 'string' || !Object.values(made.objects).some((sco) => sco['type'] === 'network-traffic')) return;
        const shapes = scoShapesOf(kind, fields).map(parseShape);
        for (const sco of Object.values(made.objects)) {
          const covered = shapes.some((shape) => shape.type === sco['type'] && shape.keys.includes('type') && Object.keys(sco).every((key) => shape.keys.includes(key)));
          assert.ok(covered, `${JSON.stringify(sco)} in none of ${JSON.stringify(shapes)}`);
        }
        // And no wider, but for a port field that is set and is no port.
        for (const shape of shapes) {
          const keys = shape.keys.filter((key) => key !== 'src_port' && key !== 'dst_port');
          const held = Object.values(made.objects).some((sco) => sco['type'] === shape.type && keys.every((key) => key in sco));
          assert.ok(held, `${JSON.stringify(shape)}: no such SCO in ${JSON.stringify(made.objects)}`);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
