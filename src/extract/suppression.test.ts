// False-positive suppression: each observable is still reported, flagged with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractObservables } from './extract-observables.ts';
import type { ExtractOptions, Observable } from './extract-observables.ts';
import { loadExtractData } from './load-extract-data.ts';
import { buildWarninglistIndex } from './warninglists.ts';

const data = loadExtractData();

function find(text: string, type: string, value: string, options: Partial<ExtractOptions> = {}): Observable {
  const obs = extractObservables(text, { tlds: data.tlds, warninglists: data.warninglists, ...options }).observables;
  const o = obs.find((x) => x.type === type && x.value === value);
  assert.ok(o, `${type} ${value} not extracted from ${JSON.stringify(text)}: ${JSON.stringify(obs.map((x) => [x.type, x.value]))}`);
  return o;
}

function reason(text: string, type: string, value: string, options: Partial<ExtractOptions> = {}): string | undefined {
  return find(text, type, value, options).suppressed?.reason;
}

test('documentation ranges: RFC 5737 and RFC 3849', () => {
  assert.match(reason('from 192.0.2.10', 'ipv4-addr', '192.0.2.10') ?? '', /RFC 5737/);
  assert.match(reason('from 198.51.100.7', 'ipv4-addr', '198.51.100.7') ?? '', /RFC 5737/);
  assert.match(reason('from 203.0.113.99', 'ipv4-addr', '203.0.113.99') ?? '', /RFC 5737/);
  assert.match(reason('from 2001:db8:1::5', 'ipv6-addr', '2001:db8:1::5') ?? '', /RFC 3849/);
  assert.equal(reason('from 45.77.12.9', 'ipv4-addr', '45.77.12.9'), undefined);
});

test('documentation domains and reserved TLDs, also inside URLs and e-mail addresses', () => {
  assert.match(reason('see example.com', 'domain-name', 'example.com') ?? '', /RFC 2606/);
  assert.match(reason('see www.example.org', 'domain-name', 'www.example.org') ?? '', /RFC 2606/);
  assert.match(reason('see http://example.net/x', 'url', 'http://example.net/x') ?? '', /RFC 2606/);
  assert.match(reason('mail a@example.com', 'email-addr', 'a@example.com') ?? '', /RFC 2606/);
  for (const tld of ['test', 'example', 'invalid', 'localhost']) {
    assert.match(reason(`host c2.${tld} here`, 'domain-name', `c2.${tld}`) ?? '', /reserved top-level domain/);
  }
});

test('MISP warninglists: private ranges, public resolvers, top domains, known-benign hashes', () => {
  assert.match(reason('to 10.0.0.5', 'ipv4-addr', '10.0.0.5') ?? '', /warninglist rfc1918/);
  assert.match(reason('to 8.8.8.8', 'ipv4-addr', '8.8.8.8') ?? '', /warninglist public-dns-v4/);
  assert.match(reason('at google.com', 'domain-name', 'google.com') ?? '', /warninglist/);
  assert.match(reason('empty d41d8cd98f00b204e9800998ecf8427e', 'file', 'd41d8cd98f00b204e9800998ecf8427e') ?? '', /warninglist (empty-hashes|common-ioc-false-positive)/);
  // URL-shortener domains are noise, but a shortened URL is an indicator.
  assert.match(reason('via bit.ly', 'domain-name', 'bit.ly') ?? '', /warninglist (url-shortener|majestic_million)/);
  assert.equal(reason('via https://bit.ly/3xEvil', 'url', 'https://bit.ly/3xEvil'), undefined);
});

test('the warninglist matcher is pure and takes the loaded data', () => {
  const wl = buildWarninglistIndex({
    lists: [
      { name: 'lab', kind: 'cidr', appliesTo: ['ipv4-addr', 'ipv6-addr'], entries: ['100.64.0.0/10', '2a00:1::/32'] },
      { name: 'cdn', kind: 'hostname', appliesTo: ['domain-name'], entries: ['cdn.test'] },
      { name: 'strings', kind: 'string', appliesTo: ['domain-name'], entries: ['.corp.test', 'exact.test'] },
    ],
  });
  assert.equal(wl.match('ipv4-addr', '100.100.1.1')?.list, 'lab');
  assert.equal(wl.match('ipv4-addr', '100.128.0.1'), null);
  assert.equal(wl.match('ipv6-addr', '2a00:1:ffff::1')?.list, 'lab');
  assert.equal(wl.match('domain-name', 'a.b.cdn.test')?.list, 'cdn');
  assert.equal(wl.match('domain-name', 'x.corp.test')?.list, 'strings');
  assert.equal(wl.match('domain-name', 'sub.exact.test'), null);
  assert.equal(wl.match('url', 'cdn.test'), null);
});

test('version numbers that look like IPv4 addresses', () => {
  for (const t of ['version 1.2.3.4', 'v1.2.3.4', 'Version: 10.0.190.1', 'build 6.1.76.2', 'firmware 4.2.0.12']) {
    const value = t.replace(/^\D*/, '');
    assert.match(reason(t, 'ipv4-addr', value) ?? '', /version number/, t);
  }
  assert.equal(reason('beacon to 91.2.3.4 daily', 'ipv4-addr', '91.2.3.4'), undefined);
});

test('file names that look like domains: .zip/.sh/.py … are files unless defanged or in a URL', () => {
  assert.match(reason('opens invoice.zip then', 'domain-name', 'invoice.zip') ?? '', /file name that looks like a domain/);
  assert.equal(find('opens invoice.zip then', 'file', 'invoice.zip').kind, 'name');
  assert.match(reason('runs install.sh', 'domain-name', 'install.sh') ?? '', /file name/);
  assert.equal(reason('contacts update[.]zip', 'domain-name', 'update.zip'), undefined);
  assert.equal(reason('GET http://update.zip/x', 'domain-name', 'update.zip'), undefined);
  // Extensions that are not TLDs never become domains at all.
  const obs = extractObservables('invoice.pdf setup.exe', { tlds: data.tlds }).observables;
  assert.deepEqual(obs.filter((o) => o.type === 'domain-name'), []);
  assert.deepEqual(obs.filter((o) => o.type === 'file').map((o) => o.value), ['invoice.pdf', 'setup.exe']);
});

test("the report's own publisher links", () => {
  const opts = { publisherDomains: ['securelist.com'] };
  assert.match(reason('Read https://securelist.com/apt-report/1234/ today', 'url', 'https://securelist.com/apt-report/1234/', opts) ?? '', /publisher/);
  assert.match(reason('see blog.securelist.com', 'domain-name', 'blog.securelist.com', opts) ?? '', /publisher/);
  assert.equal(reason('see notsecurelist.com', 'domain-name', 'notsecurelist.com', opts), undefined);
});

test('common system binaries are named but suppressed', () => {
  assert.match(reason('launched via rundll32.exe and evil.exe', 'file', 'rundll32.exe') ?? '', /common system file/);
  assert.equal(reason('launched via rundll32.exe and evil.exe', 'file', 'evil.exe'), undefined);
});

test('URLs on one host: the whole URL listed first, then its host, decided per URL even though the host is decided once', () => {
  const wl = buildWarninglistIndex({
    lists: [
      { name: 'urls', kind: 'string', appliesTo: ['url'], description: 'exact URLs', entries: ['http://shared.host.net/listed'] },
      { name: 'hosts', kind: 'hostname', appliesTo: ['url', 'domain-name'], description: 'hosts', entries: ['cdn.host.net'] },
      { name: 'rfc1918', kind: 'cidr', appliesTo: ['ipv4-addr'], description: 'private', entries: ['10.0.0.0/8'] },
      { name: 'cloud', kind: 'cidr', appliesTo: ['ipv4-addr'], description: 'cloud', entries: ['34.0.0.0/8'] },
    ],
  });
  const text =
    'a http://shared.host.net/listed b http://shared.host.net/other c http://x.cdn.host.net/1 d http://x.cdn.host.net/2 ' +
    'e http://10.1.2.3/p f http://10.1.2.3/q g http://34.1.2.3/p h http://www.example.com/p i https://securelist.com/r';
  const obs = extractObservables(text, { tlds: data.tlds, warninglists: wl, publisherDomains: ['securelist.com'] }).observables;
  const reasons = Object.fromEntries(obs.filter((o) => o.type === 'url').map((o) => [o.value, o.suppressed?.reason ?? null]));
  assert.deepEqual(reasons, {
    'http://shared.host.net/listed': 'MISP warninglist urls: exact URLs',
    'http://shared.host.net/other': null,
    'http://x.cdn.host.net/1': 'MISP warninglist hosts: hosts',
    'http://x.cdn.host.net/2': 'MISP warninglist hosts: hosts',
    'http://10.1.2.3/p': 'MISP warninglist rfc1918: private',
    'http://10.1.2.3/q': 'MISP warninglist rfc1918: private',
    // A cloud range is benign for a bare address, not for a URL served from it.
    'http://34.1.2.3/p': null,
    'http://www.example.com/p': 'documentation domain (RFC 2606)',
    'https://securelist.com/r': "publisher's own link (securelist.com)",
  });
});
