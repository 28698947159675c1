import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePattern } from './parse-pattern.ts';
import { evaluatePattern, type ObservedDataWithObjects } from './evaluate-pattern.ts';
import { observationsFromBundle } from './observations-from-bundle.ts';
import { matchLike } from './match-like.ts';

type Sco = Record<string, unknown> & { type: string };
let counter = 0;

/** A STIX 2.1 observed-data over the given SCOs (ids assigned), in a bundle with them. */
function observed21(scos: Sco[], options: { first?: string; last?: string; count?: number } = {}): ObservedDataWithObjects {
  const withIds = scos.map((sco) => ('id' in sco ? sco : { ...sco, id: `${sco.type}--00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}` }));
  const observedData = {
    type: 'observed-data',
    spec_version: '2.1',
    id: `observed-data--00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`,
    first_observed: options.first ?? '2026-01-01T00:00:00Z',
    last_observed: options.last ?? options.first ?? '2026-01-01T00:00:00Z',
    number_observed: options.count ?? 1,
    object_refs: withIds.filter((sco) => sco['root'] !== false).map((sco) => sco['id'] as string),
  };
  return { observedData, objectsById: new Map(withIds.map((sco) => [sco['id'] as string, sco])) };
}

/** A STIX 2.0 observed-data with its objects embedded under keys "0", "1", …. */
function observed20(objects: Record<string, Sco>, options: { first?: string; last?: string; count?: number } = {}): ObservedDataWithObjects {
  return {
    observedData: {
      type: 'observed-data',
      id: 'observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf',
      first_observed: options.first ?? '2026-01-01T00:00:00Z',
      last_observed: options.last ?? options.first ?? '2026-01-01T00:00:00Z',
      number_observed: options.count ?? 1,
      objects,
    },
  };
}

function matches(pattern: string, observations: readonly ObservedDataWithObjects[]): boolean {
  const parsed = parsePattern(pattern);
  if (!parsed.ok) assert.fail(`${pattern}: ${parsed.error.map((e) => e.message).join('; ')}`);
  return evaluatePattern(parsed.value, observations).matched;
}

function check(observations: readonly ObservedDataWithObjects[], yes: readonly string[], no: readonly string[]): void {
  for (const pattern of yes) assert.equal(matches(pattern, observations), true, `should match: ${pattern}`);
  for (const pattern of no) assert.equal(matches(pattern, observations), false, `should not match: ${pattern}`);
}

const file = observed21([
  {
    type: 'file',
    name: 'Final Report.exe',
    size: 1024,
    hashes: { 'SHA-256': 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f', MD5: 'cead3f77f6cda6ec00f57d76c9a6879f' },
    mime_type: 'application/x-pdf',
    magic_number_hex: 'FFD8',
    created: '2014-01-13T07:03:17.500Z',
    is_signed: false,
    entropy: 7.25,
    extensions: { 'windows-pebinary-ext': { sections: [{ name: '.text', entropy: 7.4 }, { name: '.data', entropy: 2.5 }] } },
    tags: ['alpha', 'beta'],
  },
]);

describe('evaluatePattern: equality and order', () => {
  it('compares strings, numbers (integers and floats alike) and booleans', () => {
    check(
      [file],
      [
        "[file:name = 'Final Report.exe']",
        "[file:name != 'other.exe']",
        '[file:size = 1024]',
        '[file:size = 1024.0]',
        '[file:entropy > 7]',
        '[file:entropy < 7.5]',
        '[file:size >= 1024 AND file:size <= 1024]',
        '[file:is_signed = FALSE]',
        "[file:name > 'A' AND file:name < 'G']",
        '[file:size NOT = 1]',
        '[file:size NOT > 2048]',
      ],
      ["[file:name = 'final report.exe']", '[file:size != 1024]', '[file:size > 1024]', '[file:is_signed = TRUE]', '[file:size NOT = 1024]'],
    );
  });
  it('treats values of different types as incomparable: false for every operator, with or without NOT', () => {
    check([file], [], ["[file:size = '1024']", "[file:size != '1024']", "[file:size NOT = '1024']", "[file:name < 5]", '[file:is_signed = 0]', "[file:size IN ('1024')]", "[file:size NOT IN ('1')]"]);
  });
  it('is false for a property that is absent, whatever the operator', () => {
    check([file], [], ["[file:absent = 'x']", "[file:absent != 'x']", "[file:absent NOT = 'x']", "[file:absent NOT IN ('x')]", "[file:absent NOT LIKE 'x']"]);
  });
  it('compares timestamp literals with timestamp strings as instants', () => {
    check(
      [file],
      ["[file:created = t'2014-01-13T07:03:17.5Z']", "[file:created = t'2014-01-13T07:03:17.500000Z']", "[file:created > t'2014-01-13T07:03:17Z']", "[file:created < t'2014-01-13T07:03:17.5000001Z']"],
      ["[file:created = t'2014-01-13T07:03:17Z']", "[file:name = t'2014-01-13T07:03:17Z']", "[file:created = '2014-01-13T07:03:17.5Z']"],
    );
  });
  it('reads _bin and _hex properties of megabytes as bytes (their format check once overflowed the regular expression stack)', () => {
    const payload = Buffer.alloc(12 * 1024 * 1024, 0x41);
    const big = observed21([{ type: 'artifact', payload_bin: payload.toString('base64'), mime_type: 'application/octet-stream' }]);
    check([big], ["[artifact:payload_bin > b'QQ==']"], ["[artifact:payload_bin = b'QQ==']"]);
    const hex = observed21([{ type: 'file', magic_number_hex: 'ff'.repeat(8 * 1024 * 1024) }]);
    check([hex], ["[file:magic_number_hex > h'fe']"], ["[file:magic_number_hex = h'ff']"]);
  });

  it('compares binary and hex literals with _bin and _hex properties as bytes', () => {
    const artifact = observed21([{ type: 'artifact', payload_bin: Buffer.from('this is a test').toString('base64'), mime_type: 'text/plain' }]);
    check(
      [artifact, file],
      [
        "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
        "[artifact:payload_bin = h'7468697320697320612074657374']",
        "[artifact:payload_bin = 'this is a test']",
        "[artifact:payload_bin > b'dGhpcw==']",
        "[file:magic_number_hex = h'ffd8']",
        "[file:magic_number_hex = b'/9g=']",
        "[file:magic_number_hex != h'ffd9']",
      ],
      ["[artifact:payload_bin = b'dGhpcw==']", "[artifact:payload_bin = 'this is a test ✓']", "[file:magic_number_hex = 'FFD8']", "[file:name = h'ff']"],
    );
  });
  it('normalises Unicode before comparing strings (NFC)', () => {
    const decomposed = observed21([{ type: 'file', name: 'cafe\u0301.txt' }]);
    check([decomposed], ["[file:name = 'caf\u00e9.txt']", "[file:name LIKE 'caf_.txt']", "[file:name MATCHES '^caf\u00e9']"], []);
  });
});

describe('evaluatePattern: IN, LIKE, MATCHES, EXISTS', () => {
  it('IN holds when the value equals a member; NOT IN when it equals none', () => {
    check([file], ['[file:size IN (512, 1024)]', "[file:name NOT IN ('a.exe', 'b.exe')]", '[file:size IN (1024.0)]'], ['[file:size IN ()]', '[file:size NOT IN (1024, 1)]', "[file:name IN ('a')]"]);
  });
  it('LIKE: % is any run, _ one character, the pattern covers the whole value', () => {
    check(
      [file],
      ["[file:name LIKE '%.exe']", "[file:name LIKE 'Final%']", "[file:name LIKE 'Final Report._x_']", "[file:name LIKE '%']", "[file:name LIKE '%Rep%t%']", "[file:name NOT LIKE '%.dll']"],
      ["[file:name LIKE '.exe']", "[file:name LIKE 'final%']", "[file:name LIKE 'Final Report.ex']", "[file:name LIKE '_']", '[file:size LIKE \'1024\']'],
    );
    assert.equal(matchLike('a_c', 'a🙂c'), true, '_ is one code point, not one UTF-16 unit');
    assert.equal(matchLike('%%a%%', 'xxaxx'), true);
    assert.equal(matchLike('', ''), true);
    assert.equal(matchLike('a%b%c', 'ab'), false);
  });
  it('MATCHES searches anywhere in the value, with anchors, classes and flags', () => {
    check(
      [file],
      ["[file:name MATCHES '^Final Report.*\\\\.exe$']", "[file:name MATCHES 'Report']", "[file:name MATCHES '(?i)final REPORT']", "[file:hashes.MD5 MATCHES '^[0-9a-f]{32}$']", "[file:name MATCHES '\\\\bReport\\\\b']", "[file:name NOT MATCHES '\\\\.dll$']"],
      ["[file:name MATCHES '^Report']", "[file:name MATCHES 'final']", "[file:hashes.MD5 MATCHES '^[0-9a-f]{31}$']", "[file:size MATCHES '1024']", "[file:name NOT MATCHES 'exe']"],
    );
  });
  it('MATCHES on a binary property matches its bytes (the specification pcap example)', () => {
    const pcap = observed21([{ type: 'artifact', mime_type: 'application/vnd.tcpdump.pcap', payload_bin: Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0x99]).toString('base64') }]);
    check(
      [pcap],
      ["[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']"],
      ["[artifact:payload_bin MATCHES '^\\\\xd4\\\\xc4']"],
    );
  });
  it('MATCHES never hangs: a catastrophic expression runs in linear time', () => {
    const victim = observed21([{ type: 'file', name: 'a'.repeat(28) + '!' }, { type: 'file', name: 'a'.repeat(100_000) + '!' }]);
    const started = performance.now();
    check([victim], [], ["[file:name MATCHES '(a+)+$']", "[file:name MATCHES '^(a|aa)*$']", "[file:name MATCHES '^(a*)*b']", "[file:name MATCHES '(.*a){20}x']"]);
    const elapsed = performance.now() - started;
    // A backtracking engine needs ~2^28 steps for the first value alone; this takes milliseconds.
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
    check([victim], ["[file:name MATCHES '(a+)+!$']"], []);
  });
  it('EXISTS holds when the path selects anything', () => {
    check([file], ["[EXISTS file:hashes.'SHA-256']", "[EXISTS file:extensions.'windows-pebinary-ext'.sections[1]]"], ['[EXISTS file:hashes.SHA1]', '[EXISTS file:tags[2]]']);
  });
});

describe('evaluatePattern: ISSUBSET and ISSUPERSET on IP ranges', () => {
  const v4 = observed21([{ type: 'ipv4-addr', value: '198.51.100.7' }]);
  const v4net = observed21([{ type: 'ipv4-addr', value: '10.0.0.0/8' }]);
  const v6 = observed21([{ type: 'ipv6-addr', value: '2001:db8:dead:beef::1' }]);
  it('IPv4: an address is in a block; /0 holds everything and /32 one address; host bits in the block are ignored', () => {
    check(
      [v4],
      ["[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "[ipv4-addr:value ISSUBSET '0.0.0.0/0']", "[ipv4-addr:value ISSUBSET '198.51.100.7/32']", "[ipv4-addr:value ISSUBSET '198.51.100.255/24']", "[ipv4-addr:value ISSUBSET '198.51.100.7']", "[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']", "[ipv4-addr:value ISSUBSET '198.51.100.6/31']"],
      ["[ipv4-addr:value ISSUBSET '198.51.101.0/24']", "[ipv4-addr:value ISSUBSET '198.51.100.8/32']", "[ipv4-addr:value ISSUBSET '198.51.100.4/31']", "[ipv4-addr:value ISSUBSET '::/0']"],
    );
  });
  it('IPv4: a block is a superset of the addresses and blocks inside it, edges included', () => {
    check(
      [v4net],
      ["[ipv4-addr:value ISSUPERSET '10.255.255.255']", "[ipv4-addr:value ISSUPERSET '10.0.0.0']", "[ipv4-addr:value ISSUPERSET '10.128.0.0/9']", "[ipv4-addr:value ISSUPERSET '10.0.0.0/8']", "[ipv4-addr:value ISSUBSET '0.0.0.0/0']", "[ipv4-addr:value ISSUBSET '10.0.0.0/7']"],
      ["[ipv4-addr:value ISSUPERSET '11.0.0.0']", "[ipv4-addr:value ISSUPERSET '9.255.255.255']", "[ipv4-addr:value ISSUPERSET '10.0.0.0/7']", "[ipv4-addr:value ISSUBSET '10.0.0.0/9']"],
    );
  });
  it('IPv6: exact 128-bit arithmetic from /0 to /128, compressed and full forms alike', () => {
    check(
      [v6],
      ["[ipv6-addr:value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']", "[ipv6-addr:value ISSUBSET '::/0']", "[ipv6-addr:value ISSUBSET '2001:db8:dead:beef::1/128']", "[ipv6-addr:value ISSUBSET '2001:db8:dead:beef:0:0:0:0/127']", "[ipv6-addr:value ISSUPERSET '2001:db8:dead:beef::1']"],
      ["[ipv6-addr:value ISSUBSET '2001:db8:dead:beef::2/128']", "[ipv6-addr:value ISSUBSET '2001:db8:dead:bef0::/64']", "[ipv6-addr:value ISSUBSET '0.0.0.0/0']", "[ipv6-addr:value ISSUBSET '2001:db8:dead:beef::2/127']"],
    );
  });
  it('is false for values that are not addresses', () => {
    check([observed21([{ type: 'ipv4-addr', value: 'not-an-ip' }])], [], ["[ipv4-addr:value ISSUBSET '0.0.0.0/0']", "[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']"]);
  });
});

describe('evaluatePattern: object paths', () => {
  it('[*] holds when any element does, [n] looks at one element', () => {
    check(
      [file],
      ["[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]", "[file:extensions.'windows-pebinary-ext'.sections[*].entropy < 3.0]", "[file:tags[*] = 'beta']", "[file:tags[0] = 'alpha']", "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"],
      ["[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 8.0]", "[file:tags[0] = 'beta']", "[file:tags[5] = 'alpha']", "[file:tags = 'alpha']", "[file:hashes.'sha-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"],
    );
  });
  it('follows _ref and _refs[*] into the referenced objects (2.1, resolved in the bundle)', () => {
    const dst = { type: 'ipv4-addr', id: 'ipv4-addr--11111111-1111-4111-8111-111111111111', value: '203.0.113.33', root: false };
    const traffic = observed21([{ type: 'network-traffic', dst_ref: dst.id, protocols: ['tcp'], dst_port: 443 }, dst]);
    const resolved = { type: 'ipv4-addr', id: 'ipv4-addr--22222222-2222-4222-8222-222222222222', value: '198.51.100.1', root: false };
    const domain = observed21([{ type: 'domain-name', value: 'www.5z8.info', resolves_to_refs: [resolved.id] }, resolved]);
    check(
      [traffic, domain],
      [
        "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33']",
        "[network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24']",
        "[network-traffic:dst_ref = 'ipv4-addr--11111111-1111-4111-8111-111111111111']",
        "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1']",
        "[domain-name:resolves_to_refs[0].value = '198.51.100.1']",
      ],
      ["[network-traffic:dst_ref.value = '198.51.100.1']", "[network-traffic:src_ref.value = '203.0.113.33']", "[ipv4-addr:value = '203.0.113.33']"],
    );
  });
  it('follows references inside a 2.0 observed-data through its own object keys', () => {
    const email = observed20({
      '0': { type: 'email-addr', value: 'jdoe@example.com' },
      '1': { type: 'email-message', is_multipart: false, from_ref: '0', subject: 'Conference Info' },
    });
    check([email], ["[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:subject = 'Conference Info']", "[email-addr:value = 'jdoe@example.com']"], ["[email-message:from_ref.value = 'x@example.com']"]);
  });
  it('applies every comparison joined by AND to one and the same SCO', () => {
    const two = observed21([{ type: 'file', name: 'a.exe', size: 1 }, { type: 'file', name: 'b.exe', size: 2 }]);
    check([two], ["[file:name = 'a.exe' AND file:size = 1]", "[file:name = 'a.exe' OR file:size = 2]", "[(file:name = 'x' OR file:name = 'b.exe') AND file:size > 1]"], ["[file:name = 'a.exe' AND file:size = 2]"]);
  });
});

describe('evaluatePattern: observation operators and qualifiers', () => {
  const at = (time: string, name: string, count = 1, last?: string): ObservedDataWithObjects =>
    observed21([{ type: 'file', name }], { first: time, ...(last === undefined ? {} : { last }), count });
  const a1 = at('2026-01-01T00:00:00Z', 'a');
  const b1 = at('2026-01-01T00:01:40Z', 'b');
  const a2 = at('2026-01-01T00:05:00Z', 'a');

  it('AND needs both, on distinct observations; OR either', () => {
    check([a1, b1], ["[file:name = 'a'] AND [file:name = 'b']", "[file:name = 'a'] OR [file:name = 'z']", "[file:name = 'z'] OR [file:name = 'b']"], ["[file:name = 'a'] AND [file:name = 'z']", "[file:name = 'a'] AND [file:name = 'a']"]);
    check([a1, a2], ["[file:name = 'a'] AND [file:name = 'a']"], ["[file:name = 'a'] AND [file:name = 'a'] AND [file:name = 'a']"]);
  });
  it('number_observed lets one observed-data stand for several observations', () => {
    const thrice = at('2026-01-01T00:00:00Z', 'a', 3, '2026-01-01T00:10:00Z');
    check([thrice], ["[file:name = 'a'] AND [file:name = 'a']", "[file:name = 'a'] REPEATS 3 TIMES"], ["[file:name = 'a'] REPEATS 4 TIMES"]);
  });
  it('FOLLOWEDBY requires the right side not to be earlier than the left', () => {
    check([a1, b1], ["[file:name = 'a'] FOLLOWEDBY [file:name = 'b']"], ["[file:name = 'b'] FOLLOWEDBY [file:name = 'a']"]);
    const same = [at('2026-01-01T00:00:00Z', 'a'), at('2026-01-01T00:00:00Z', 'b')];
    check(same, ["[file:name = 'a'] FOLLOWEDBY [file:name = 'b']", "[file:name = 'b'] FOLLOWEDBY [file:name = 'a']"], []);
    // Intervals overlapping: a timestamp can be chosen in each so that the order holds.
    const overlapping = [at('2026-01-01T00:00:00Z', 'b', 1, '2026-01-01T01:00:00Z'), at('2026-01-01T00:30:00Z', 'a')];
    check(overlapping, ["[file:name = 'a'] FOLLOWEDBY [file:name = 'b']"], []);
    check([a1, b1, a2], ["[file:name = 'a'] FOLLOWEDBY [file:name = 'b'] FOLLOWEDBY [file:name = 'a']"], ["[file:name = 'b'] FOLLOWEDBY [file:name = 'a'] FOLLOWEDBY [file:name = 'b']"]);
  });
  it('WITHIN n SECONDS: all the observations fit in a window of n seconds (100 s apart: 100 yes, 99 no)', () => {
    check(
      [a1, b1],
      ["([file:name = 'a'] AND [file:name = 'b']) WITHIN 100 SECONDS", "([file:name = 'a'] FOLLOWEDBY [file:name = 'b']) WITHIN 100.0 SECONDS", "[file:name = 'a'] WITHIN 1 SECONDS"],
      ["([file:name = 'a'] AND [file:name = 'b']) WITHIN 99 SECONDS", "([file:name = 'a'] AND [file:name = 'b']) WITHIN 99.999 SECONDS"],
    );
  });
  it('START/STOP: observations overlapping [start, stop), stop excluded', () => {
    const range = (start: string, stop: string): string => `[file:name = 'a'] START t'${start}' STOP t'${stop}'`;
    check(
      [a1],
      [range('2025-12-31T00:00:00Z', '2026-01-02T00:00:00Z'), range('2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z'), range('2025-12-31T00:00:00Z', '2026-01-01T00:00:00.001Z')],
      [range('2025-12-31T00:00:00Z', '2026-01-01T00:00:00Z'), range('2026-01-01T00:00:00.001Z', '2026-02-01T00:00:00Z')],
    );
  });
  it('REPEATS n TIMES counts distinct observations, and combines with WITHIN (the specification example)', () => {
    const dns = (time: string): ObservedDataWithObjects => {
      const target = { type: 'domain-name', id: `domain-name--${'3'.repeat(8)}-3333-4333-8333-${String(++counter).padStart(12, '0')}`, value: 'example.com', root: false };
      return observed21([{ type: 'network-traffic', dst_ref: target.id }, target], { first: time });
    };
    const burst = ['00:00', '05:00', '10:00', '15:00', '20:00'].map((t) => dns(`2026-01-01T00:${t}Z`));
    const example = "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS";
    check(burst, [example, example.replace('1800', '1200')], [example.replace('1800', '1199'), example.replace('5 TIMES', '6 TIMES')]);
    check(burst.slice(0, 4), [], [example]);
  });
  it('each observation is used once per match across nested operators', () => {
    check([a1, b1], ["([file:name = 'a'] OR [file:name = 'b']) REPEATS 2 TIMES"], ["([file:name = 'a'] OR [file:name = 'b']) REPEATS 3 TIMES", "[file:name = 'a'] AND ([file:name = 'a'] OR [file:name = 'b']) AND [file:name = 'b']"]);
  });
});

describe('evaluatePattern: inputs', () => {
  it('reports which observed-data made the match, and which could not be used', () => {
    const parsed = parsePattern("[file:name = 'a'] AND [file:name = 'b']");
    assert.ok(parsed.ok);
    if (!parsed.ok) return;
    const good = [observed21([{ type: 'file', name: 'b' }]), observed21([{ type: 'file', name: 'a' }])];
    const broken: ObservedDataWithObjects = { observedData: { type: 'observed-data', object_refs: [] } };
    const result = evaluatePattern(parsed.value, [broken, ...good]);
    assert.equal(result.matched, true);
    assert.deepEqual(result.observationIndices, [1, 2]);
    assert.deepEqual(result.skipped, [{ index: 0, reason: 'first_observed is missing or not a timestamp' }]);
    assert.equal(result.incomplete, false);
  });
  it('reads 2.0 and 2.1 bundles with observationsFromBundle', () => {
    const bundle21 = {
      type: 'bundle',
      id: 'bundle--44af6c39-c09b-49c5-9de2-394224b04982',
      objects: [
        { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd', value: '198.51.100.3' },
        { type: 'observed-data', spec_version: '2.1', id: 'observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf', first_observed: '2026-01-01T00:00:00Z', last_observed: '2026-01-01T00:00:00Z', number_observed: 1, object_refs: ['ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd'] },
        { type: 'indicator', id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f' },
      ],
    };
    check(observationsFromBundle(bundle21), ["[ipv4-addr:value = '198.51.100.3']"], ["[ipv4-addr:value = '198.51.100.4']"]);
    const bundle20 = { type: 'bundle', id: 'bundle--1', spec_version: '2.0', objects: [observed20({ '0': { type: 'ipv4-addr', value: '198.51.100.3' } }).observedData] };
    check(observationsFromBundle(bundle20), ["[ipv4-addr:value ISSUBSET '198.51.100.0/24']"], []);
    assert.deepEqual(observationsFromBundle(null), []);
  });
  it('stays bounded on combinatorial patterns, saying when the search was cut short', () => {
    const many = Array.from({ length: 300 }, (_, i) => observed21([{ type: 'file', name: 'a' }], { first: `2026-01-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z` }));
    const parsed = parsePattern("([file:name = 'a'] REPEATS 40 TIMES) AND [file:name = 'b']");
    assert.ok(parsed.ok);
    if (!parsed.ok) return;
    const started = performance.now();
    const result = evaluatePattern(parsed.value, many);
    assert.equal(result.matched, false);
    assert.equal(result.incomplete, true);
    assert.ok(performance.now() - started < 20_000);
    check(many, ["[file:name = 'a'] REPEATS 40 TIMES", "([file:name = 'a'] REPEATS 3 TIMES) WITHIN 2 SECONDS"], ["([file:name = 'a'] REPEATS 3 TIMES) WITHIN 1 SECONDS"]);
  });
});
