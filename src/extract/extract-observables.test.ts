// Specification of each extractor, through the public entry point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractObservables } from './extract-observables.ts';
import type { ExtractOptions, Observable } from './extract-observables.ts';
import { loadExtractData } from './load-extract-data.ts';

const data = loadExtractData();

function extract(text: string, options: Partial<ExtractOptions> = {}): Observable[] {
  return extractObservables(text, { tlds: data.tlds, warninglists: data.warninglists, ...options }).observables;
}

function values(text: string, type: string, options: Partial<ExtractOptions> = {}): string[] {
  return extract(text, options)
    .filter((o) => o.type === type)
    .map((o) => o.value);
}

test('ipv4-addr: dotted quads, CIDR, ports stripped; no leading zeros, no overflow, no 5-part numbers', () => {
  assert.deepEqual(values('C2 at 45.77.12.9:443 and 10.1.0.0/16, not 1.2.3.4.5 nor 256.1.1.1 nor 01.2.3.4', 'ipv4-addr'), [
    '45.77.12.9',
    '10.1.0.0/16',
  ]);
});

test('ipv6-addr: full, compressed, embedded IPv4, CIDR; zone ids and code rejected', () => {
  assert.deepEqual(
    values('2a03:2880:f12f:83:face:b00c:0:25de, 2a03:2880::25de, ::ffff:45.77.12.9, 2a03:2880::/32, fe80::1%eth0, std::string, 12:30:45', 'ipv6-addr'),
    ['2a03:2880:f12f:83:face:b00c:0:25de', '2a03:2880::25de', '::ffff:45.77.12.9', '2a03:2880::/32'],
  );
});

test('domain-name: TLD checked against the bundled list; IDN and punycode; lower-cased', () => {
  assert.deepEqual(values('Visit Evil-Site.COM, xn--80ak6aa92e.com, пример.рф and bad.notatld', 'domain-name'), [
    'evil-site.com',
    'xn--80ak6aa92e.com',
    'пример.рф',
  ]);
  assert.deepEqual(values('bad.notatld', 'domain-name', { strictTld: false }), ['bad.notatld']);
});

test('url: schemes, IPv6 hosts, trailing punctuation trimmed, defanged', () => {
  assert.deepEqual(
    values('Get hxxps://evil[.]com/a?b=1. Also (http://1.2.3.4:8080/x) and http://[2a03:2880::1]:80/p and ftp://files.evil.net/', 'url'),
    ['https://evil.com/a?b=1', 'http://1.2.3.4:8080/x', 'http://[2a03:2880::1]:80/p', 'ftp://files.evil.net/'],
  );
});

test('url: ends at a control character, which no URL holds; an invisible formatting character inside it is removed', () => {
  // A phishing message that follows its link with \u0001 (invisible in a mail client) got the
  // character into the value, and a URL with a control character was never proposed.
  for (const c of ['\u0001', '\u001b', '\u007f', '\u0085']) {
    const code = c.charCodeAt(0).toString(16);
    assert.deepEqual(values(`Payload at https://evil-c2.com/dl/payload.bin${c}x today.`, 'url'), ['https://evil-c2.com/dl/payload.bin'], code);
    assert.deepEqual(values(`Payload at https://evil-c2.com${c}/dl`, 'url'), ['https://evil-c2.com'], `${code} in the host`);
  }
  // A zero-width, soft-hyphen or bidi character shows as nothing: the URL is the one the reader sees
  // (invisible.ts), never one with the character in it (published, it matches no traffic), and it
  // does not cut the host short either.
  for (const c of ['\u00ad', '\u200b', '\u200e', '\u202e', '\u2066', '\ufeff']) {
    const code = c.charCodeAt(0).toString(16);
    assert.deepEqual(values(`Payload at https://evil-c2.com/dl/payload.bin${c} today.`, 'url'), ['https://evil-c2.com/dl/payload.bin'], code);
    assert.deepEqual(values(`Payload at https://evil${c}-c2.com/dl/pay${c}load.bin today.`, 'url'), ['https://evil-c2.com/dl/payload.bin'], `${code} inside`);
  }
  assert.deepEqual(values('Payload at https://пример.рф/загрузка?ä=1 today.', 'url'), ['https://пример.рф/загрузка?ä=1'], 'other scripts are URL text');
});

test('email-addr: plain and defanged', () => {
  assert.deepEqual(values('Mail ops@evil.com or admin[@]evil[.]ru, not a@b nor @handle', 'email-addr'), ['ops@evil.com', 'admin@evil.ru']);
});

test('file hashes: MD5, SHA-1, SHA-256, SHA-512 by length; SSDEEP; TLSH; not 34-digit hex nor 0x wallets', () => {
  const md5 = 'd41d8cd98f00b204e9800998ecf8427f';
  const sha1 = 'a9993e364706816aba3e25717850c26c9cd0d89e';
  const sha256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
  const sha512 = 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f';
  const ssdeep = '96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO';
  const tlsh = 'T1A0B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3';
  const obs = extract(`${md5} ${sha1}\n${sha256}\n${sha512}\n${ssdeep}\n${tlsh}\nadc83b191b1c6ea0fd8b46cd9f32e592fc 0x32Be343B94f860124dC4fEe278FDCBD38C102D88`);
  const hashes = obs.filter((o) => o.type === 'file' && o.kind === 'hash').map((o) => [o.hashAlgorithm, o.value]);
  assert.deepEqual(hashes, [
    ['MD5', md5],
    ['SHA-1', sha1],
    ['SHA-256', sha256],
    ['SHA-512', sha512],
    ['SSDEEP', ssdeep],
    ['TLSH', tlsh],
  ]);
});

test('cve ids, upper-cased', () => {
  assert.deepEqual(values('cve-2021-44228 and CVE-2023-1234567; not CVE-21-1', 'cve'), ['CVE-2021-44228', 'CVE-2023-1234567']);
});

test('attack-technique: techniques, sub-techniques, tactics, groups, software, mitigations, ATLAS', () => {
  const obs = extract('T1059, T1059.001, TA0001, G0016, S0154, M1036, AML.T0051, AML.T0051.000, AML.TA0002; not T12345 nor XT1059 nor T9999');
  assert.deepEqual(
    obs.filter((o) => o.type === 'attack-technique').map((o) => [o.value, o.kind]),
    [
      ['T1059', 'technique'],
      ['T1059.001', 'sub-technique'],
      ['TA0001', 'tactic'],
      ['G0016', 'group'],
      ['S0154', 'software'],
      ['M1036', 'mitigation'],
      ['AML.T0051', 'atlas-technique'],
      ['AML.T0051.000', 'atlas-sub-technique'],
      ['AML.TA0002', 'atlas-tactic'],
    ],
  );
});

test('windows-registry-key: long and short roots, spaces inside segments, trailing punctuation dropped', () => {
  assert.deepEqual(
    values('It writes HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\Shell. Then HKEY_CURRENT_USER\\Software\\Evil, and more.', 'windows-registry-key'),
    ['HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\Shell', 'HKEY_CURRENT_USER\\Software\\Evil'],
  );
});

test('file paths (Windows, UNC, environment, POSIX) and file names', () => {
  const obs = extract('Dropped C:\\Program Files\\Evil Corp\\svc.exe and %APPDATA%\\x\\run.dll, \\\\srv\\share\\a.ps1, /tmp/.x/payload and report.docm.');
  assert.deepEqual(
    obs.filter((o) => o.type === 'file').map((o) => [o.kind, o.value]),
    [
      ['path', 'C:\\Program Files\\Evil Corp\\svc.exe'],
      ['path', '%APPDATA%\\x\\run.dll'],
      ['path', '\\\\srv\\share\\a.ps1'],
      ['path', '/tmp/.x/payload'],
      ['name', 'report.docm'],
    ],
  );
});

test('mac-addr: colon, dash and Cisco forms normalised to lower-case colons', () => {
  assert.deepEqual(values('00:1A:2B:3C:4D:5E, 00-1a-2b-3c-4d-5f and 001a.2b3c.4d60', 'mac-addr'), [
    '00:1a:2b:3c:4d:5e',
    '00:1a:2b:3c:4d:5f',
    '00:1a:2b:3c:4d:60',
  ]);
});

test('mac-addr: Cisco form wherever it stands in a dotted token (the row only runs where "hhhh.hhhh.hhhh" is)', () => {
  assert.deepEqual(values('001A.2B3C.4D6F', 'mac-addr'), ['00:1a:2b:3c:4d:6f']);
  assert.deepEqual(values('seen: 001a.2b3c.4d60.', 'mac-addr'), ['00:1a:2b:3c:4d:60']);
  assert.deepEqual(values('v1.2.3 then aaaa.bbbb.cccc and 1234.5678.9abc', 'mac-addr'), ['aa:aa:bb:bb:cc:cc', '12:34:56:78:9a:bc']);
  assert.deepEqual(values('001a.2b3c.4d6 and 001a.2b3c.4d6g and 01a.2b3c.4d6e', 'mac-addr'), []);
});

test('autonomous-system: AS and ASN forms', () => {
  assert.deepEqual(values('AS15169, ASN 13335 and ASN3462; not AS0', 'autonomous-system'), ['AS15169', 'AS13335', 'AS3462']);
});

test('cryptocurrency-wallet: Bitcoin base58check and bech32 are checksum-validated; Ethereum', () => {
  const obs = extract(
    '1HB5XMLmzFVj8ALj6mfBsbifRoD4miY36v bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq 1HB5XMLmzFVj8ALj6mfBsbifRoD4miY36w 0x32Be343B94f860124dC4fEe278FDCBD38C102D88',
  );
  assert.deepEqual(
    obs.filter((o) => o.type === 'cryptocurrency-wallet').map((o) => [o.kind, o.value]),
    [
      ['bitcoin', '1HB5XMLmzFVj8ALj6mfBsbifRoD4miY36v'],
      ['bitcoin', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq'],
      ['ethereum', '0x32Be343B94f860124dC4fEe278FDCBD38C102D88'],
    ],
  );
});

test('cryptocurrency-wallet: P2SH (3…) addresses and upper-case bech32, at the start and end of the text', () => {
  const obs = extract('3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy and BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ');
  assert.deepEqual(
    obs.filter((o) => o.type === 'cryptocurrency-wallet').map((o) => [o.kind, o.value]),
    [
      ['bitcoin', '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy'],
      ['bitcoin', 'BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ'],
    ],
  );
});

test('ja3 (an MD5 introduced as JA3/JA3S) and ja4 fingerprints', () => {
  const obs = extract('JA3: e7d705a3286e19ea42f587b344ee6865, JA3S hash 15af977ce25de452b96affa2addb1036; JA4 t13d1516h2_8daaf6152771_02713d6af862');
  assert.deepEqual(
    obs.filter((o) => o.type === 'ja3' || o.type === 'ja4').map((o) => [o.type, o.kind ?? '', o.value]),
    [
      ['ja3', 'ja3', 'e7d705a3286e19ea42f587b344ee6865'],
      ['ja3', 'ja3s', '15af977ce25de452b96affa2addb1036'],
      ['ja4', '', 't13d1516h2_8daaf6152771_02713d6af862'],
    ],
  );
});

const YARA = `rule Evil_Loader : loader {
  meta:
    description = "braces } in strings { are skipped"
  strings:
    $a = { 6A 40 68 00 30 00 00 }
  condition:
    $a
}`;
const SIGMA = `title: Suspicious Encoded PowerShell
status: experimental
logsource:
  product: windows
detection:
  selection:
    CommandLine|contains: ' -enc '
  condition: selection
level: high`;
const SNORT = 'alert tcp $HOME_NET any -> $EXTERNAL_NET 443 (msg:"Evil C2"; tls.sni; content:"evil.com"; sid:1000001; rev:1;)';

test('rules embedded in text are extracted as whole blocks', () => {
  const text = `The loader matches:\n\n${YARA}\n\nA Sigma rule:\n\n${SIGMA}\n\nAnd on the wire:\n${SNORT}\n\nEnd.`;
  const obs = extract(text);
  const rules = obs.filter((o) => o.type.endsWith('-rule'));
  assert.deepEqual(
    rules.map((o) => [o.type, o.value]),
    [
      ['yara-rule', YARA],
      ['sigma-rule', SIGMA],
      ['snort-rule', SNORT],
    ],
  );
  for (const r of rules) assert.equal(text.slice(r.start, r.end), r.value);
  assert.equal(rules[2]?.kind, 'suricata');
});

test('spans point into the original (defanged) text and sentences contain them', () => {
  const text = 'Intro line.\nThe dropper beacons to hxxp://c2[.]evil[.]com/gate every hour. Next sentence.';
  const obs = extract(text);
  const url = obs.find((o) => o.type === 'url');
  assert.ok(url);
  assert.equal(text.slice(url.start, url.end), 'hxxp://c2[.]evil[.]com/gate');
  assert.equal(url.defanged, true);
  assert.equal(text.slice(url.sentence.start, url.sentence.end), 'The dropper beacons to hxxp://c2[.]evil[.]com/gate every hour.');
  const domain = obs.find((o) => o.type === 'domain-name');
  assert.equal(domain?.value, 'c2.evil.com');
  assert.equal(text.slice(domain?.start, domain?.end), 'c2[.]evil[.]com');
});

test('refang can be switched off', () => {
  assert.deepEqual(values('example[.]org 8.8.4.4', 'domain-name', { refang: false }), []);
});

test('types option restricts the extractors that run', () => {
  const obs = extract('evil.com 1.2.3.4 CVE-2021-44228', { types: ['cve'] });
  assert.deepEqual(obs.map((o) => o.type), ['cve']);
});

test('the JSON shape carries type, value, start, end, confidence and suppressed when set', () => {
  const [o] = extract('host 203.0.113.5');
  assert.ok(o);
  const json = JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
  for (const k of ['type', 'value', 'start', 'end', 'confidence', 'suppressed']) assert.ok(k in json, k);
  assert.equal(typeof json['confidence'], 'number');
});

test('a TLD set that grows between calls is read afresh (the reserved-TLD copy is per set and size)', () => {
  const tlds = new Set(['com']);
  assert.deepEqual(values('see evil.zz and evil.com', 'domain-name', { tlds }), ['evil.com']);
  tlds.add('zz');
  assert.deepEqual(values('see evil.zz and evil.com', 'domain-name', { tlds }), ['evil.zz', 'evil.com']);
  assert.deepEqual(values('a.test b.com', 'domain-name', { tlds }), ['a.test', 'b.com']);
});

test('a TLD set whose TLDs change without changing its size is read afresh too', () => {
  const tlds = new Set(['com', 'zz']);
  assert.deepEqual(values('warm evil.zz', 'domain-name', { tlds }), ['evil.zz']);
  tlds.delete('zz');
  tlds.add('yy');
  assert.deepEqual(values('see evil.yy and evil.zz', 'domain-name', { tlds }), ['evil.yy']);
});

test('a YARA rule whose "{" stands on the line after its header is extracted whole', () => {
  const rule = 'rule Evil_Loader : loader\n{\n  strings:\n    $a = "evil"\n  condition:\n    $a\n}';
  const found = extract(`The loader is caught by:\n\n${rule}\n\nDeploy it widely.`).filter((o) => o.type === 'yara-rule');
  assert.deepEqual(
    found.map((o) => o.value),
    [rule],
  );
});
