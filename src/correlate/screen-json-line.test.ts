import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BulkMatcher } from './bulk-matcher.ts';
import { AlertAggregator, type Alert } from './alert-aggregator.ts';
import { jsonlObservations } from './jsonl-observations.ts';
import { emptySummary, matchInput, type MatchSummary } from './match-input.ts';
import { createObservationReader, type ObservationReader } from './read-observations.ts';
import { screenJsonLine, type JsonLineVerdict } from './screen-json-line.ts';
import { indicator, now } from './test-support.ts';

function matcherOf(...patterns: string[]): BulkMatcher {
  const matcher = new BulkMatcher();
  for (const pattern of patterns) {
    const outcome = matcher.add(indicator(pattern), { now });
    assert.equal(outcome.added, true, `${pattern}: ${JSON.stringify(outcome)}`);
  }
  return matcher;
}

const at = '2026-06-01T12:00:00.000Z';

function observed(...objects: Record<string, unknown>[]): string {
  const keyed: Record<string, unknown> = {};
  objects.forEach((object, index) => (keyed[String(index)] = object));
  return JSON.stringify({ type: 'observed-data', first_observed: at, objects: keyed });
}

const equalityMatcher = matcherOf(
  "[ipv4-addr:value = '198.51.100.7']",
  "[domain-name:value = 'evil.example']",
  `[file:hashes.'SHA-256' = '${'ab'.repeat(32)}']`,
  '[file:size = 1000]',
  "[network-traffic:dst_ref.value = '203.0.113.9']",
);

function verdict(line: string, matcher = equalityMatcher): JsonLineVerdict['kind'] {
  return screenJsonLine(line, matcher.screen).kind;
}

describe('raw-line screen: lines no indicator can match are passed over', () => {
  it('an observed-data whose values miss every index is clear, observed at its last_observed', () => {
    const line = JSON.stringify({ type: 'observed-data', first_observed: '2026-06-01T10:00:00Z', last_observed: '2026-06-01T11:00:00Z', objects: { '0': { type: 'ipv4-addr', value: '10.0.0.1' } } });
    assert.deepEqual(screenJsonLine(line, equalityMatcher.screen), { kind: 'clear', lastObserved: '2026-06-01T11:00:00.000Z' });
    assert.deepEqual(screenJsonLine(observed({ type: 'domain-name', value: 'good.example' }), equalityMatcher.screen), { kind: 'clear', lastObserved: at });
  });

  it('a bare SCO is clear with no time of its own (it is observed when read)', () => {
    assert.deepEqual(screenJsonLine('{"type":"domain-name","value":"good.example"}', equalityMatcher.screen), { kind: 'clear', lastObserved: undefined });
  });

  it('a value under a property no indexed path ends with is not looked at', () => {
    assert.equal(verdict(observed({ type: 'x-note', description: 'evil.example' })), 'clear');
  });

  it('the empty property name is a property name too', () => {
    const matcher = matcherOf("[x-thing:'' = 'v']");
    assert.equal(verdict(observed({ type: 'x-thing', '': 'v' }), matcher), 'parse');
    assert.equal(verdict(observed({ type: 'x-thing', '': 'w' }), matcher), 'clear');
  });
});

describe('raw-line screen: lines that may match are parsed', () => {
  it('an indexed value, wherever its SCO sits and whatever its type', () => {
    assert.equal(verdict(observed({ type: 'ipv4-addr', value: '10.0.0.1' }, { type: 'ipv4-addr', value: '198.51.100.7' })), 'parse');
    assert.equal(verdict('{"type":"domain-name","value":"evil.example"}'), 'parse');
    assert.equal(verdict(observed({ type: 'url', value: 'evil.example' })), 'parse', 'same property name, another type: parsed (the matcher decides)');
    assert.equal(verdict(observed({ type: 'file', hashes: { 'SHA-256': 'ab'.repeat(32) } })), 'parse');
    assert.equal(verdict(observed({ type: 'ipv4-addr', value: '203.0.113.9' }, { type: 'network-traffic', dst_ref: '0' })), 'parse');
  });

  it('a number equal to an indexed number however it is written (1e3, 1000.0, 10E2)', () => {
    for (const written of ['1000', '1e3', '1000.0', '10E2', '1.0e+3']) {
      assert.equal(verdict(`{"type":"observed-data","first_observed":"${at}","objects":{"0":{"type":"file","size":${written}}}}`), 'parse', written);
    }
    assert.equal(verdict(`{"type":"observed-data","first_observed":"${at}","objects":{"0":{"type":"file","size":1001}}}`), 'clear');
  });

  it('a substring of LIKE or MATCHES, an address in an ISSUBSET block (IPv4 and IPv6)', () => {
    const matcher = matcherOf("[domain-name:value LIKE '%.phish-%']", "[url:value MATCHES '/wp-admin/[a-z]+\\\\.php$']", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "[ipv6-addr:value ISSUBSET '2001:db8::/32']");
    assert.equal(verdict(observed({ type: 'domain-name', value: 'login.phish-bank.example' }), matcher), 'parse');
    assert.equal(verdict(observed({ type: 'url', value: 'https://a.example/wp-admin/x.php' }), matcher), 'parse');
    assert.equal(verdict(observed({ type: 'ipv4-addr', value: '198.51.100.200' }), matcher), 'parse');
    assert.equal(verdict(observed({ type: 'ipv6-addr', value: '2001:db8::1' }), matcher), 'parse');
    assert.equal(verdict(observed({ type: 'ipv4-addr', value: '198.51.101.1' }, { type: 'domain-name', value: 'phish.example' }), matcher), 'clear');
  });

  it('a substring anchor only in a value of its own SCO type, with every text it requires where it must sit', () => {
    const matcher = matcherOf("[domain-name:value MATCHES '^zz[0-9]{6}\\\\.com$']");
    assert.equal(verdict(observed({ type: 'domain-name', value: 'zz123456.com' }), matcher), 'parse');
    assert.equal(verdict(observed({ type: 'domain-name', value: 'update-1a2b3c.com' }), matcher), 'clear', '.com ends it, but zz does not start it');
    assert.equal(verdict(observed({ type: 'domain-name', value: 'a.zz123456.com' }), matcher), 'clear');
    assert.equal(verdict(observed({ type: 'url', value: 'zz123456.com' }), matcher), 'clear', 'a url is no domain-name');
    assert.equal(verdict('{"type":"url","value":"zz123456.com"}', matcher), 'clear');
    assert.equal(verdict('{"type":"domain-name","value":"zz123456.com"}', matcher), 'parse');
  });

  it('a substring anchor everywhere while the SCO type is not known or not certain', () => {
    const matcher = matcherOf("[domain-name:value LIKE 'zz%.com']");
    const line = (objects: string): string => `{"type":"observed-data","first_observed":"${at}","objects":{"0":${objects}}}`;
    assert.equal(verdict(line('{"value":"zz1.com","type":"url"}'), matcher), 'parse', 'the type comes after the value');
    assert.equal(verdict('{"value":"zz1.com","type":"url"}', matcher), 'parse', 'the same in a bare SCO');
    assert.equal(verdict(line('{"type":"url","value":"zz1.com","type":"domain-name"}'), matcher), 'parse', 'two types: JSON.parse keeps the last');
    assert.equal(verdict('{"type":"url","value":"zz1.com","type":"domain-name"}', matcher), 'parse');
    assert.equal(verdict(`{"first_observed":"${at}","objects":{"0":{"type":"url","value":"zz1.com"}},"type":"domain-name"}`, matcher), 'parse', 'objects in what turns out to be a bare domain-name');
    assert.equal(verdict('{"type":"domain-name","objects":{"0":{"type":"url","value":"zz1.com"}}}', matcherOf("[domain-name:objects.'0'.value LIKE 'zz%.com']")), 'parse', 'an object nested in a bare SCO is part of it, whatever its own type');
    assert.equal(verdict(observed({ type: 'domain-name', value: 'zz1.com' }, { type: 'network-traffic', dst_ref: '0' }), matcherOf("[network-traffic:dst_ref.value LIKE 'zz%.com']")), 'parse', 'a path through a reference reaches another SCO');
  });

  it('every line that holds an SCO a leaf evaluated on every observation may hold on (its type and property)', () => {
    assert.equal(verdict(observed({ type: 'domain-name', value: 'good.example' }), matcherOf("[domain-name:value != 'x']")), 'parse');
    const matcher = matcherOf("[ipv4-addr:value != '10.0.0.1']", "[domain-name:value = 'evil.example']", "[network-traffic:dst_ref.value NOT = '10.0.0.1' OR x-thing:a != 'b']");
    assert.equal(verdict(observed({ type: 'ipv4-addr', value: '10.0.0.2' }), matcher), 'parse');
    assert.equal(verdict('{"type":"ipv4-addr","value":"10.0.0.1"}', matcher), 'parse', 'parsed even when the evaluator then finds it does not hold');
    assert.equal(verdict(observed({ type: 'network-traffic', dst_ref: '1' }, { type: 'domain-name', value: 'good.example' }), matcher), 'parse');
    assert.equal(verdict(observed({ type: 'x-thing', a: 'c' }), matcher), 'parse');
    assert.equal(verdict(`{"objects":{"0":{"value":"10.0.0.2","type":"ipv4-addr"}},"first_observed":"${at}","type":"observed-data"}`, matcher), 'parse', 'in any order');
  });

  it('not a line without such an SCO: one cheap indicator evaluated everywhere does not parse all traffic', () => {
    const matcher = matcherOf("[ipv4-addr:value != '10.0.0.1']", "[domain-name:value = 'evil.example']", "[network-traffic:dst_ref.value NOT = '10.0.0.1' OR x-thing:a != 'b']");
    assert.equal(verdict(observed({ type: 'domain-name', value: 'good.example' }), matcher), 'clear');
    assert.equal(verdict('{"type":"domain-name","value":"good.example"}', matcher), 'clear');
    assert.equal(verdict(observed({ type: 'ipv4-addr', resolves_to_refs: ['1'] }), matcher), 'clear', 'an ipv4-addr without a value');
    assert.equal(verdict(observed({ type: 'network-traffic', src_ref: '1' }), matcher), 'clear', 'a network-traffic without dst_ref');
    assert.equal(verdict(observed({ type: 'x-thing', b: 'c' }), matcher), 'clear');
    assert.equal(verdict(observed({ type: 'domain-name', value: 'evil.example' }), matcher), 'parse', 'the indexes still decide');
  });

  it('every line with an escape, a tab or non-ASCII text, even a clean one (no unescaping, no NFC by hand)', () => {
    assert.equal(verdict('{"type":"domain-name","value":"good\\u002eexample"}'), 'parse');
    assert.equal(verdict('{"type":"domain-name",\t"value":"good.example"}'), 'parse');
    assert.equal(verdict(observed({ type: 'domain-name', value: 'café.example' })), 'parse');
  });
});

describe('raw-line screen: only lines the reader reads as one observation are passed over', () => {
  const notClear: Record<string, string> = {
    'a trailing comma': '{"type":"domain-name","value":"x",}',
    'a number with a leading zero': '{"type":"file","size":01}',
    'a number without digits after the point': '{"type":"file","size":1.}',
    'a lone minus': '{"type":"file","size":-}',
    'an exponent without digits': '{"type":"file","size":1e}',
    'a misspelt word': '{"type":"file","x":tru}',
    'an unterminated string': '{"type":"domain-name","value":"x}',
    'an unclosed object': '{"type":"domain-name"',
    'a mismatched bracket': '{"type":"file","x":[1}',
    'text after the object': '{"type":"domain-name"} x',
    'two objects': '{"type":"domain-name"}{"type":"domain-name"}',
    'a missing colon': '{"type" "domain-name"}',
    'an array of SCOs (read by the parser)': '[{"type":"domain-name","value":"x"}]',
    'no type': '{"value":"x"}',
    'a type that is not a string': '{"type":1}',
    'a bundle': '{"type":"bundle","objects":[]}',
    'an observed-data without objects': `{"type":"observed-data","first_observed":"${at}"}`,
    'an observed-data whose objects is a list': `{"type":"observed-data","first_observed":"${at}","objects":[]}`,
    'an embedded object without a type': `{"type":"observed-data","first_observed":"${at}","objects":{"0":{"value":"x"}}}`,
    'an embedded object whose type is not a string': `{"type":"observed-data","first_observed":"${at}","objects":{"0":{"type":null}}}`,
    'an embedded member that is not an object': `{"type":"observed-data","first_observed":"${at}","objects":{"0":"x"}}`,
    'an invalid first_observed': '{"type":"observed-data","first_observed":"2026-02-30T00:00:00Z","objects":{}}',
    'a null last_observed': `{"type":"observed-data","first_observed":"${at}","last_observed":null,"objects":{}}`,
    'the last of two types wins: observed-data without objects': '{"type":"domain-name","type":"observed-data"}',
    'deeper than the scanner goes': `{"type":"x","a":${'['.repeat(70)}${']'.repeat(70)}}`,
    'an empty line': '',
  };
  for (const [name, line] of Object.entries(notClear)) {
    it(`parsed: ${name}`, () => assert.equal(verdict(line), 'parse'));
  }

  it('the last of two `type`s wins, as in JSON.parse', () => {
    assert.equal(verdict('{"type":"bundle","type":"domain-name"}'), 'clear');
  });

  it('property: whatever the line, a clear verdict is a line JSON.parse accepts and the reader reads as that one observation', () => {
    const reads = (line: string, lastObserved: string | undefined): void => {
      const results = jsonlObservations(JSON.parse(line), () => 'now');
      assert.ok(Array.isArray(results), `${line}: ${String(results)}`);
      assert.equal(results.length, 1);
      assert.equal(results[0]?.lastObserved, lastObserved ?? 'now');
    };
    const lines = fc.oneof(
      fc.json(),
      fc.string(),
      fc.jsonValue().map((value) => JSON.stringify({ type: 'x-thing', value })),
      fc.tuple(fc.jsonValue(), fc.constantFrom(at, '2026-06-01T10:00:00Z', 1780000000, 'x', null)).map(([objects, first]) => JSON.stringify({ type: 'observed-data', first_observed: first, objects })),
    );
    // Every prefix and one-character mutation of such lines, too: truncated and garbled input.
    const garbled = fc.tuple(lines, fc.nat(), fc.constantFrom('', '"', ',', '}', ']', '{', ':', ' ', '0', '-', 'e', '.')).map(([line, cut, insert]) => {
      const at = line.length === 0 ? 0 : cut % line.length;
      return line.slice(0, at) + insert + line.slice(at + (insert === '' ? 0 : 1));
    });
    const nothingIndexed = new BulkMatcher();
    fc.assert(
      fc.property(fc.oneof(lines, garbled), (line) => {
        const result = screenJsonLine(line, nothingIndexed.screen);
        if (result.kind === 'clear') reads(line, result.lastObserved);
      }),
      { numRuns: 3000 },
    );
  });
});

// The property that matters: matching with the screen finds exactly what matching without it finds.

const ips = ['198.51.100.7', '198.51.100.8', '203.0.113.5', '10.0.0.1'];
const ipv6s = ['2001:db8::1', '2001:db8::ff', '2001:db9::1'];
const domains = ['evil.example', 'café.example', 'cafe\u0301.example', 'a/b.example', 'quote"d.example', 'good.example', 'x.phish-1.example', 'zz12.example', 'zz12.example.org', 'a.zz12.example'];
const hashes = ['ab'.repeat(32), 'cd'.repeat(32)];
const sizes = [0, 80, 1000, 4096];

const patterns = fc.constantFrom(
  ...ips.map((ip) => `[ipv4-addr:value = '${ip}']`),
  ...domains.map((d) => `[domain-name:value = '${d.replace(/'/g, "\\'")}']`),
  ...hashes.map((h) => `[file:hashes.'SHA-256' = '${h}']`),
  '[file:size = 1000]',
  '[file:size IN (80, 4096)]',
  "[ipv4-addr:value ISSUBSET '198.51.100.0/30']",
  "[ipv6-addr:value ISSUBSET '2001:db8::/120']",
  "[domain-name:value LIKE '%.phish-%']",
  "[domain-name:value LIKE 'caf%']",
  "[domain-name:value LIKE '%/b.%']",
  "[domain-name:value MATCHES 'é\\\\.ex']",
  "[domain-name:value MATCHES '^zz[0-9]{2}\\\\.example$']",
  "[url:value LIKE 'zz%.example']",
  "[network-traffic:dst_ref.value = '203.0.113.5']",
  "[network-traffic:protocols[*] = 'quic']",
  "[x-note:'' = 'evil.example']",
  "[domain-name:value = 'evil.example'] FOLLOWEDBY [ipv4-addr:value = '10.0.0.1']",
  "[domain-name:value = 'good.example' AND domain-name:value LIKE 'good%']",
  "[domain-name:value != 'evil.example']",
  "[ipv4-addr:value NOT = '10.0.0.1']",
  "[network-traffic:dst_ref.value != '10.0.0.1' OR x-note:description < 'f']",
  "[file:hashes.'SHA-256' != 'ab' AND file:size > 100]",
);

const scos = fc.oneof(
  fc.constantFrom(...ips).map((value) => ({ type: 'ipv4-addr', value })),
  fc.constantFrom(...ipv6s).map((value) => ({ type: 'ipv6-addr', value })),
  fc.constantFrom(...domains).map((value) => ({ type: 'domain-name', value })),
  fc.record({ type: fc.constant('file'), size: fc.constantFrom(...sizes), hashes: fc.record({ 'SHA-256': fc.constantFrom(...hashes) }) }),
  fc.record({ type: fc.constant('network-traffic'), dst_ref: fc.constantFrom('0', '1'), protocols: fc.subarray(['tcp', 'quic', 'udp']) }),
  fc.constantFrom(...domains).map((description) => ({ type: 'x-note', description })),
  fc.constantFrom(...domains).map((value) => ({ type: 'x-note', '': value })),
  fc.constantFrom(...domains).map((value) => ({ type: 'url', value })),
);

// For type-scoped substring anchors: the same values under the property of another type, before their
// SCO's type, in an object nested in a bare SCO, and reached through a reference.
const scopedValues = ['zz12.example', 'zz12.example.org', 'a.zz12.example', 'good.example', 'zz99.example'];

const scopedScos = fc.oneof(
  fc.tuple(fc.constantFrom(...scopedValues), fc.constantFrom('domain-name', 'url', 'x-note')).map(([value, type]) => ({ type, value })),
  fc.tuple(fc.constantFrom(...scopedValues), fc.constantFrom('domain-name', 'url')).map(([value, type]) => ({ value, type })),
  fc.constantFrom(...scopedValues).map((value) => ({ type: 'domain-name', objects: { '0': { type: 'url', value } } })),
  fc.constantFrom('0', '1').map((ref) => ({ type: 'network-traffic', dst_ref: ref })),
);

const scopedPatterns = fc.constantFrom(
  "[domain-name:value MATCHES '^zz[0-9]{2}\\\\.example$']",
  "[url:value LIKE 'zz%.example']",
  "[domain-name:objects.'0'.value LIKE 'zz%.example']",
  "[network-traffic:dst_ref.value MATCHES '^zz12\\\\.ex']",
  "[x-note:value LIKE '%.zz12.%']",
  "[domain-name:value = 'good.example']",
);

// For leaves evaluated on every observation, which the screen lets through only a line holding the
// type and the first key of one of their paths: SCOs that have them, that have one without the other,
// that hold them only as values or in a nested object, and that reach an address through a reference.
const everyObservationScos = fc.oneof(
  fc.constantFrom('a', 'b').map((kind) => ({ type: 'x-custom', kind })),
  fc.constant({ type: 'x-custom' }),
  fc.constant({ type: 'x-custom', nested: { kind: 'a' } }),
  fc.constantFrom('a', 'b').map((kind) => ({ kind, type: 'x-custom' })),
  fc.constantFrom('exe', 'dll').map((pe_type) => ({ type: 'file', extensions: { 'windows-pebinary-ext': { pe_type } } })),
  fc.constantFrom('a.exe', 'b.exe').map((name) => ({ type: 'file', name })),
  fc.constantFrom(...ips).map((value) => ({ type: 'ipv4-addr', value })),
  fc.constantFrom(...ips).map((value) => ({ type: 'ipv4-addr', nested: { value } })),
  fc.constantFrom('0', '1', '2').map((ref) => ({ type: 'network-traffic', dst_ref: ref })),
  fc.constant({ type: 'network-traffic', protocols: ['tcp'] }),
  fc.constantFrom('x-custom', 'ipv4-addr', 'dst_ref', 'kind').map((description) => ({ type: 'x-note', description })),
);

const everyObservationPatterns = fc.constantFrom(
  "[x-custom:kind != 'a']",
  "[x-custom:type != 'x-other']",
  "[x-custom:kind < 'b']",
  "[file:extensions.'windows-pebinary-ext'.pe_type != 'dll']",
  "[network-traffic:dst_ref.value != '10.0.0.1']",
  "[network-traffic:dst_ref.value NOT = '10.0.0.1' AND network-traffic:dst_ref.type = 'ipv4-addr']",
  "[network-traffic:dst_ref.value NOT = '10.0.0.1' AND network-traffic:dst_ref.type != 'ipv6-addr']",
  "[ipv4-addr:value != '10.0.0.1'] FOLLOWEDBY [x-custom:kind != 'a']",
  "[x-custom:kind != 'b'] REPEATS 2 TIMES WITHIN 600 SECONDS",
  "[ipv4-addr:value NOT LIKE '10.%' AND ipv4-addr:value != '198.51.100.8'] OR [file:name != 'a.exe']",
  "[x-custom:kind != 'a' OR ipv4-addr:value < '2']",
  "[file:name != 'b.exe' AND file:name = 'a.exe' OR x-custom:kind > 'a']",
  "[ipv4-addr:value = '203.0.113.5'] AND [x-custom:kind NOT IN ('a')]",
);

const times = fc.constantFrom('2026-06-01T10:00:00Z', '2026-06-01T10:05:00.000Z', '2026-06-01T12:00:00+01:00', 1780300000, '2026-02-30T00:00:00Z');

const documentsOf = (scos: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> => fc.oneof(
  fc.tuple(fc.array(scos, { minLength: 1, maxLength: 3 }), times).map(([objects, first]) => ({ type: 'observed-data', first_observed: first, objects: Object.fromEntries(objects.map((o, i) => [String(i), o])) })),
  // Its type last: until it is read, the screen cannot know the embedded objects are SCOs.
  fc.tuple(fc.array(scos, { minLength: 1, maxLength: 3 }), times).map(([objects, first]) => ({ first_observed: first, objects: Object.fromEntries(objects.map((o, i) => [String(i), o])), type: 'observed-data' })),
  scos,
  fc.array(scos, { minLength: 1, maxLength: 2 }).map((objects) => ({
    type: 'bundle',
    objects: [{ type: 'observed-data', id: 'observed-data--1', first_observed: '2026-06-01T10:00:00Z', object_refs: objects.map((_o, i) => `x--${i}`) }, ...objects.map((o, i) => ({ ...o, id: `x--${i}` }))],
  })),
);

/**
 * JSON text of a value written in one of the many ways JSON allows: spaces, number forms and, when
 * `exotic`, tabs and escapes (which the screen leaves to the parser).
 */
function writeJson(value: unknown, choices: () => number, exotic: boolean): string {
  const space = (): string => (exotic ? [' ', '', '\t'] : ['', '', ' '])[choices() % 3] as string;
  if (typeof value === 'string') {
    let text = '"';
    for (const ch of value) {
      const choice = exotic ? choices() % 8 : 8;
      if (ch === '"' || ch === '\\') text += `\\${ch}`;
      else if (choice === 0) text += [...ch].map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
      else if (choice === 1 && ch === '/') text += '\\/';
      else text += ch;
    }
    return text + '"';
  }
  if (typeof value === 'number') {
    const forms = [String(value), `${value}.0`, `${value}e0`, `${value / 10}E1`, value === 0 ? '-0' : String(value)];
    return forms[choices() % forms.length] as string;
  }
  if (Array.isArray(value)) return `[${space()}${value.map((v) => writeJson(v, choices, exotic)).join(`${space()},${space()}`)}${space()}]`;
  if (value !== null && typeof value === 'object') {
    // Keys escaped too when exotic (`"\u0076alue"` is `value`): the screen looks for keys as raw text.
    const members = Object.entries(value).map(([k, v]) => `${writeJson(k, exotic ? choices : () => 2, exotic)}${space()}:${space()}${writeJson(v, choices, exotic)}`);
    // Now and then a member given twice, the first time with another value: JSON.parse keeps the last.
    const twice = choices() % 10;
    if (twice === 0 && members.length > 0) members.unshift(`"value":"evil.example"`);
    else if (twice <= 2 && members.length > 0) members.unshift(`"type":"${['url', 'domain-name', 'observed-data'][choices() % 3] as string}"`);
    return `{${space()}${members.join(`,${space()}`)}${space()}}`;
  }
  return JSON.stringify(value);
}

const logLinesOf = (documents: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string[]> =>
  fc.array(
    fc.oneof(
      { weight: 8, arbitrary: fc.tuple(documents, fc.array(fc.nat(), { minLength: 64, maxLength: 64 })).map(([doc, picks]) => writeJson(doc, ((k) => () => picks[k++ % picks.length] as number)(0), false)) },
      { weight: 2, arbitrary: fc.tuple(documents, fc.array(fc.nat(), { minLength: 64, maxLength: 64 })).map(([doc, picks]) => writeJson(doc, ((k) => () => picks[k++ % picks.length] as number)(0), true)) },
      { weight: 1, arbitrary: fc.tuple(documents, fc.nat()).map(([doc, cut]) => JSON.stringify(doc).slice(0, 1 + (cut % 40))) },
      { weight: 1, arbitrary: fc.string() },
    ),
    { minLength: 1, maxLength: 25 },
  );

interface Run {
  readonly summary: MatchSummary;
  readonly alerts: Alert[];
}

async function run(indicatorPatterns: readonly string[], lines: readonly string[], screened: boolean): Promise<Run> {
  const matcher = new BulkMatcher();
  indicatorPatterns.forEach((pattern, i) => matcher.add(indicator(pattern, { id: `indicator--00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }), { now }));
  const reader = createObservationReader({ format: 'jsonl', source: 'test', now: () => '2026-06-01T09:00:00.000Z' });
  // Without the screen: the reader as it was, every line parsed.
  const unscreened: ObservationReader = { format: reader.format, readLine: (text, line) => reader.readLine(text, line) };
  const summary = emptySummary();
  const alerts: Alert[] = [];
  await matchInput(
    (async function* () {
      yield lines.join('\n') + '\n';
    })(),
    { source: 'test', reader: screened ? reader : unscreened, matcher, alerts: new AlertAggregator(3600), summary, onAlert: (alert) => alerts.push(alert) },
  );
  return { summary, alerts };
}

async function sameWithAndWithoutScreen(indicatorPatterns: readonly string[], lines: readonly string[]): Promise<void> {
  const withScreen = await run(indicatorPatterns, lines, true);
  const without = await run(indicatorPatterns, lines, false);
  assert.deepEqual(withScreen.alerts, without.alerts);
  assert.deepEqual({ ...withScreen.summary, screened: 0 }, without.summary);
}

describe('raw-line screen: matching with it finds what matching without it finds', () => {
  it('property: same alerts (indicator, observable, line, counts) and same summary, line for line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(patterns, { minLength: 1, maxLength: 6 }), logLinesOf(documentsOf(scos)), sameWithAndWithoutScreen),
      { numRuns: 400 },
    );
  });

  it('property: the same with substring anchors checked by SCO type (values of other types, types read late or twice, nested objects, references)', async () => {
    // Mostly observed-data with several SCOs, so that a reference has something to reach.
    const several = fc.tuple(fc.array(scopedScos, { minLength: 2, maxLength: 4 }), times).map(([objects, first]) => ({ type: 'observed-data', first_observed: first, objects: Object.fromEntries(objects.map((o, i) => [String(i), o])) }));
    const documents = fc.oneof({ weight: 3, arbitrary: several }, { weight: 2, arbitrary: documentsOf(scopedScos) });
    await fc.assert(fc.asyncProperty(fc.array(scopedPatterns, { minLength: 1, maxLength: 2 }), logLinesOf(documents), sameWithAndWithoutScreen), { numRuns: 500 });
  });

  it('property: the same with leaves evaluated on every observation (what a line must hold for one: custom types, `type` itself, extensions, references, qualifiers, NOT with AND and OR)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(everyObservationPatterns, { minLength: 1, maxLength: 3 }), logLinesOf(documentsOf(everyObservationScos)), sameWithAndWithoutScreen), { numRuns: 400 });
  });

  it('a partner indicator evaluated on every observation still alerts, and unrelated lines are still passed over', async () => {
    const unrelated = Array.from({ length: 200 }, (_v, i) => observed({ type: 'domain-name', value: `host-${i}.example` }));
    const lines = [...unrelated.slice(0, 100), observed({ type: 'ipv4-addr', value: '10.0.0.1' }), observed({ type: 'ipv4-addr', value: '10.0.0.2' }), ...unrelated.slice(100)];
    const { summary, alerts } = await run(["[ipv4-addr:value != '10.0.0.1']", "[domain-name:value = 'evil.example']"], lines, true);
    // Before, the `!=` leaf sent all 202 lines to the parser; now only the two with an ipv4-addr value.
    assert.equal(summary.screened, 200);
    assert.equal(summary.observations, 202);
    assert.deepEqual(
      alerts.map((a) => [a.line, a.observable.value]),
      [[102, '10.0.0.2']],
    );
  });

  it('the screen does pass lines over (the property above is not vacuous)', async () => {
    const lines = [observed({ type: 'domain-name', value: 'good.example' }), observed({ type: 'domain-name', value: 'evil.example' })];
    const { summary, alerts } = await run(["[domain-name:value = 'evil.example']"], lines, true);
    assert.equal(summary.screened, 1);
    assert.equal(summary.observations, 2);
    assert.deepEqual(
      alerts.map((a) => a.line),
      [2],
    );
  });
});
