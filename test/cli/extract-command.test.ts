import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runEntente, temporaryDirectory } from './cli-kit.ts';

interface Report {
  file: string;
  observables: { type: string; value: string; start: number; end: number; confidence: number; hash_algorithm?: string; suppressed?: string; page?: number; part?: string }[];
  techniques: string[];
}

describe('entente extract', () => {
  const dir = temporaryDirectory('extract');
  after(() => dir.remove());
  // Extraction creates drafts: keep them in a node of the test's own, never in ./data of the checkout.
  const inNode = (args: string[]): ReturnType<typeof runEntente> => runEntente(args, { env: { ENTENTE_DATA: join(dir.path, 'node') } });
  const report = [
    'The actor staged payloads on hxxp://evil-c2[.]com/gate.php and 45.77.12[.]3 (T1071.001, T1059.001).',
    'Our write-up is on https://blog.vendor.example.net/apt and the RFC example https://example.com/docs.',
    'Dropper SHA-256 6f2a3a9b1b8c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6 exploited CVE-2026-12345.',
  ].join('\n');
  const reportPath = join(dir.path, 'report.md');
  writeFileSync(reportPath, report);

  it('prints one JSON object per file with refanged values and spans in the original text', async () => {
    const run = await inNode(['extract', reportPath, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const parsed = JSON.parse(run.stdout) as Report;
    assert.equal(parsed.file, reportPath);
    const byValue = new Map(parsed.observables.map((observable) => [observable.value, observable]));
    const url = byValue.get('http://evil-c2.com/gate.php');
    assert.equal(url?.type, 'url');
    assert.equal(report.slice(url?.start, url?.end), 'hxxp://evil-c2[.]com/gate.php');
    assert.equal(byValue.get('45.77.12.3')?.type, 'ipv4-addr');
    assert.equal(byValue.get('CVE-2026-12345')?.type, 'cve');
    const hash = byValue.get('6f2a3a9b1b8c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6');
    assert.deepEqual([hash?.type, hash?.hash_algorithm], ['file', 'SHA-256']);
    assert.deepEqual(parsed.techniques, ['T1071.001', 'T1059.001']);
  });

  it("keeps known-benign values with the reason, and suppresses the publisher's own links", async () => {
    const run = await inNode(['extract', reportPath, '--json', '--publisher', 'vendor.example.net']);
    const parsed = JSON.parse(run.stdout) as Report;
    const example = parsed.observables.find((observable) => observable.value === 'https://example.com/docs');
    assert.match(example?.suppressed ?? '', /documentation/);
    const own = parsed.observables.find((observable) => observable.value === 'https://blog.vendor.example.net/apt');
    assert.ok(own?.suppressed !== undefined, 'the publisher link is suppressed');
    const c2 = parsed.observables.find((observable) => observable.value === 'http://evil-c2.com/gate.php');
    assert.equal(c2?.suppressed, undefined);
  });

  it('prints a readable table without --json', async () => {
    const run = await inNode(['extract', reportPath]);
    assert.match(run.stdout, /report\.md \(markdown\): \d+ observables, \d+ suppressed/);
    assert.match(run.stdout, /ipv4-addr\t45\.77\.12\.3\t/);
    assert.match(run.stdout, /suppressed: /);
  });

  it('reads PDF, HTML and e-mail reports, recognised by their content, and says where each observable is', async () => {
    const fixtures = new URL('../fixtures/documents/', import.meta.url);
    const pdf = new URL('report-two-columns.pdf', fixtures).pathname;
    const eml = new URL('phishing-report.eml', fixtures).pathname;
    const html = join(dir.path, 'advisory'); // no extension: recognised from the content
    writeFileSync(html, '<!doctype html><html><body><main><p>Beacon to cdn-lantern[.]org</p><script>"script-only.net"</script></main></body></html>');
    const run = await inNode(['extract', pdf, html, eml, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const [fromPdf, fromHtml, fromEml] = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Report & { format: string });
    assert.equal(fromPdf?.format, 'pdf');
    assert.ok(fromPdf?.observables.some((o) => o.value === '45.77.12.3' && o.page === 2));
    assert.equal(fromHtml?.format, 'html');
    assert.deepEqual(fromHtml?.observables.map((o) => o.value), ['cdn-lantern.org']);
    assert.equal(fromEml?.format, 'email');
    assert.ok(fromEml?.observables.some((o) => o.value === 'https://secure-login-portal.top/owa/login.php' && o.part === 'attachment 1 (forwarded.eml) › body'));
    assert.match(run.stderr, /warning: .*kit\.zip.*archives are not opened/);
  });

  it('names in a warning the values in an HTML page\'s chrome that look like indicators, not the --publisher domains, and proposes none of them', async () => {
    const page = join(dir.path, 'lantern.html');
    writeFileSync(
      page,
      '<!doctype html><html><body><nav>vendor-labs.com · research.vendor-labs.com</nav><main><p>Beacon to cdn-lantern[.]org</p></main>' +
        '<aside>IOCs: 91.92.109.7 stage2.cdn-lantern.org</aside><footer>press@vendor-labs.com</footer></body></html>',
    );
    const run = await inNode(['extract', page, '--json', '--no-draft', '--publisher', 'vendor-labs.com']);
    assert.equal(run.code, 0, run.stderr);
    const parsed = JSON.parse(run.stdout) as Report & { warnings: string[] };
    assert.deepEqual(parsed.observables.map((o) => o.value), ['cdn-lantern.org']);
    const warning = parsed.warnings.find((w) => w.includes('page chrome'));
    assert.match(warning ?? '', /lantern\.html: page chrome not read \(<aside>\) holds 2 values that look like indicators: 91\.92\.109\.7, stage2\.cdn-lantern\.org; they are not proposed/);
    assert.ok(!(warning ?? '').includes('vendor-labs'), warning);
    assert.match(run.stderr, /entente: warning: .*lantern\.html: page chrome not read \(<aside>\)/);
  });

  it('names each file it cannot read and why (missing, encrypted, truncated, binary, archive) and goes on with the rest (exit 1)', async () => {
    const fixtures = new URL('../fixtures/documents/', import.meta.url);
    const binary = join(dir.path, 'blob.txt');
    writeFileSync(binary, Buffer.from([0x41, 0x00, 0x42]));
    const zip = join(dir.path, 'iocs.pdf');
    writeFileSync(zip, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00]));
    const run = await inNode([
      'extract',
      join(dir.path, 'missing.txt'),
      new URL('encrypted.pdf', fixtures).pathname,
      new URL('truncated.pdf', fixtures).pathname,
      binary,
      zip,
      reportPath,
      '--json',
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /ENT_INPUT_UNREADABLE: cannot read .*missing\.txt: ENOENT/);
    assert.match(run.stderr, /ENT_EXTRACT_ENCRYPTED: .*encrypted\.pdf: the PDF is encrypted/);
    assert.match(run.stderr, /ENT_EXTRACT_MALFORMED: .*truncated\.pdf: /);
    assert.match(run.stderr, /ENT_EXTRACT_UNSUPPORTED_FORMAT: .*blob\.txt: binary content \(holds NUL bytes\)/);
    assert.match(run.stderr, /ENT_EXTRACT_UNSUPPORTED_FORMAT: .*iocs\.pdf: a ZIP archive/);
    assert.equal(run.stdout.trim().split('\n').length, 1, 'the readable report is still extracted');
  });

  it('refuses an HTML page past a reading limit with a coded error and still reads the next file (exit 1)', async () => {
    // 150,000 children of one element: the reader overflowed the call stack, which ended the whole run.
    const flat = join(dir.path, 'flat-br.html');
    writeFileSync(flat, `<html><body><p>C2 45.77.12.31</p>${'<br>'.repeat(150_000)}</body></html>`);
    const run = await inNode(['extract', flat, reportPath, '--json', '--no-draft']);
    assert.equal(run.code, 1, run.stderr);
    // The element limit, or the CPU time limit first on a slow machine.
    assert.match(run.stderr, /ENT_EXTRACT_LIMIT_EXCEEDED: .*flat-br\.html: (?:.*more than 100000 elements|parsing used more than 5000 ms of CPU time)/);
    assert.doesNotMatch(run.stderr, /unexpected error/);
    assert.equal(run.stdout.trim().split('\n').length, 1, 'the readable report is still extracted');
  });

  it('refuses a text denser in observables than a report with a coded error and still reads the next file (exit 1)', async () => {
    // Read in a moment, but every value found would have been an object with its sentence: the run ended out of memory.
    const dense = join(dir.path, 'dense.txt');
    writeFileSync(dense, 'AS1 '.repeat(100_001));
    const run = await inNode(['extract', dense, reportPath, '--json', '--no-draft']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /ENT_EXTRACT_LIMIT_EXCEEDED: .*dense\.txt: more than 100000 observables/);
    assert.doesNotMatch(run.stderr, /unexpected error/);
    assert.equal(run.stdout.trim().split('\n').length, 1, 'the readable report is still extracted');
  });
});

