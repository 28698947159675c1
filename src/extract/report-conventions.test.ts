// Conventions of real report text that the extraction evaluation (npm run eval -- extraction)
// surfaced: Markdown and regex escapes, typographic hyphens, Markdown links, code identifiers that
// look like host names, credentials in URLs, hashes of file properties.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractObservables } from './extract-observables.ts';
import type { Observable } from './extract-observables.ts';
import { loadExtractData } from './load-extract-data.ts';

const data = loadExtractData();
const extract = (text: string): Observable[] => extractObservables(text, { tlds: data.tlds }).observables;
const values = (text: string, type: string): string[] => extract(text).filter((o) => o.type === type).map((o) => o.value);

describe('report conventions', () => {
  it('reads Markdown escapes inside indicators ("tbl\\_add.php", "evil\\.com") but not inside Windows paths', () => {
    assert.deepEqual(values('C2 URL (https://ecombox.store/tbl\\_add.php?action=agetpsb).', 'url'), ['https://ecombox.store/tbl_add.php?action=agetpsb']);
    assert.deepEqual(values('* hxxps://liqui-technik\\.com', 'url'), ['https://liqui-technik.com']);
    assert.deepEqual(values('From: <consulate\\_ksa\\_emb@gmail.com>', 'email-addr'), ['consulate_ksa_emb@gmail.com']);
    const path = extract('dropped to C:\\Users\\Public\\_cache\\a.exe').find((o) => o.kind === 'path');
    assert.equal(path?.value, 'C:\\Users\\Public\\_cache\\a.exe');
  });

  it('reads typographic hyphens inside host names as hyphens', () => {
    const [d] = extract('a DNS query for us\u2010nation\u2010ny.cf that resolved').filter((o) => o.type === 'domain-name');
    assert.equal(d?.value, 'us-nation-ny.cf');
  });

  it('ends a URL at a parenthesis or bracket that closes nothing inside it (Markdown links)', () => {
    assert.deepEqual(values('[16/](https://vt.example.net/file/abc/)[53](https://vt.example.net/file/def/)', 'url'), [
      'https://vt.example.net/file/abc/',
      'https://vt.example.net/file/def/',
    ]);
    assert.deepEqual(values('see https://en.wikipedia.org/wiki/Book_(cipher) today', 'url'), ['https://en.wikipedia.org/wiki/Book_(cipher)']);
  });

  it('ends a URL before a closing typographic quote', () => {
    assert.deepEqual(values('DownloadString(‘https://ia601509.us.archive.org/20/items/3.txt’)))', 'url'), ['https://ia601509.us.archive.org/20/items/3.txt']);
    assert.deepEqual(values('“see https://a.example-c2.net/x” then', 'url'), ['https://a.example-c2.net/x']);
  });

  it('keeps URLs on localhost (suppressed as reserved)', () => {
    const [u] = extract('the panel listens on http://localhost:9991/KBL/ only').filter((o) => o.type === 'url');
    assert.equal(u?.value, 'http://localhost:9991/KBL/');
    assert.ok(u?.suppressed !== undefined);
  });

  it('does not read code as host names: Title-case members and PowerShell type literals', () => {
    assert.deepEqual(values('Scopes: User.Read, Contacts.Read, Mail.Read; xmlhttp.Open "GET"; form.Name', 'domain-name'), []);
    assert.deepEqual(values('[native.win]::ShowWindow(0)', 'domain-name'), []);
    assert.deepEqual(values('beacons to Update.Microsoft-Cdn.com and evil.com', 'domain-name'), ['update.microsoft-cdn.com', 'evil.com']);
  });

  it('reads the host after credentials in a URL, and never the credentials as an e-mail address', () => {
    const obs = extract('http://userid:password@example-c2.net:8080/');
    assert.deepEqual(obs.filter((o) => o.type === 'email-addr'), []);
    assert.deepEqual(obs.filter((o) => o.type === 'domain-name').map((o) => o.value), ['example-c2.net']);
  });

  it('tells import hashes and Authenticode hashes from file hashes', () => {
    const obs = extract('Dropper imphash: 18ddf28a71089acdbab5038f58044c0a\nauthentihash\n3f1b149d07e7e8636636b8b7f7043c40ed64a10b28986181fb046c498432c2d4');
    assert.deepEqual(obs.map((o) => [o.type, o.kind, o.hashAlgorithm]), [['file', 'imphash', undefined], ['file', 'authentihash', undefined]]);
  });

  it('reads ::1 as an IPv6 address, and hosts inside percent-encoded URL parameters', () => {
    assert.deepEqual(values('bound to ::1 only', 'ipv6-addr'), ['::1']);
    assert.ok(values('https://t.example.net/r?u=https%3A%2F%2Ffreasdfuewriter.com%2Fx', 'domain-name').includes('freasdfuewriter.com'));
    assert.deepEqual(values('%2Ffreasdfuewriter.com', 'domain-name'), ['2ffreasdfuewriter.com']);
  });

  it('splits an upper-case digest from the lower-case name glued after it (table cells that lost their separator)', () => {
    const text = 'SHA-1C&C\n6E81343018136B271D1F95DB536CA6B2FD1DFCD6marzo2020.duckdns[.]org\n812A407516F9712C80B70A14D6CDF282C88938C1dominoduck2098.duckdns[.]org';
    assert.deepEqual(values(text, 'domain-name'), ['marzo2020.duckdns.org', 'dominoduck2098.duckdns.org']);
    assert.deepEqual(
      extract(text).filter((o) => o.kind === 'hash').map((o) => [o.hashAlgorithm, o.value]),
      [['SHA-1', '6e81343018136b271d1f95db536ca6b2fd1dfcd6'], ['SHA-1', '812a407516f9712c80b70a14d6cdf282c88938c1']],
    );
    // Only a change of case marks the cell border: in lower case the run is left whole.
    assert.deepEqual(values('6e81343018136b271d1f95db536ca6b2fd1dfcd6marzo2020.duckdns.org', 'domain-name'), ['6e81343018136b271d1f95db536ca6b2fd1dfcd6marzo2020.duckdns.org']);
  });

  it('does not read Microsoft .NET framework names as domains, unless defanged', () => {
    assert.deepEqual(values('The LEMURLOOT ASP.NET web shell, ADO.NET and VB.NET code; asp[.]net', 'domain-name'), ['asp.net']);
  });

  it('reads an e-mail address whose domain is an IPv4 literal (RFC 5321)', () => {
    assert.deepEqual(values('sent to test@[192.168.0.1] and @[10.0.0.1]', 'email-addr'), ['test@[192.168.0.1]']);
  });
});

describe('report conventions: code, lists and Windows paths (second held-out round)', () => {
  it('does not read a call in code as a host name, but keeps a host before a space and parenthesis', () => {
    assert.deepEqual(values('    cipher = ARC4.new(key)\n    document.write(s)', 'domain-name'), []);
    assert.deepEqual(values('beacons to evil.new (port 443)', 'domain-name'), ['evil.new']);
  });

  it('does not read a numbered list item written without a space as a host name', () => {
    assert.deepEqual(values('8.Upload – send a file\n9.Ls – list files in current directory', 'domain-name'), []);
    assert.deepEqual(values('mail went through 163.com and 9.ls.example.net', 'domain-name'), ['163.com', '9.ls.example.net']);
  });

  it('reads a host-like segment of a Windows path as a file name, and so the same name elsewhere in the report', () => {
    const found = extract('runs C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\MSBuild.exe and %appdata%\\cghost\\cghost.com;\ncghost.com - copy of the AutoIt interpreter');
    const domains = found.filter((o) => o.type === 'domain-name');
    assert.deepEqual(domains.map((o) => o.value), ['microsoft.net', 'cghost.com', 'cghost.com']);
    assert.ok(domains.every((o) => o.suppressed?.reason.startsWith('file name that looks like a domain') === true));
    assert.ok(found.some((o) => o.type === 'file' && o.kind === 'name' && o.value === 'cghost.com'));
  });

  it('keeps the server of a UNC path, and a defanged or URL mention of a name also written in a path, as hosts', () => {
    const unc = extract('copied from \\\\files.example-corp.net\\share\\a.exe').find((o) => o.type === 'domain-name');
    assert.equal(unc?.value, 'files.example-corp.net');
    assert.equal(unc?.suppressed, undefined);
    const found = extract('dropped %temp%\\upd\\update-check.net; C2 update-check[.]net and https://update-check.net/gate');
    const hosts = found.filter((o) => o.type === 'domain-name' && o.suppressed === undefined);
    assert.equal(hosts.length, 2);
  });
});
