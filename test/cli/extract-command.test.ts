import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runEntente, temporaryDirectory } from './cli-kit.ts';

interface Report {
  file: string;
  observables: { type: string; value: string; start: number; end: number; confidence: number; hash_algorithm?: string; suppressed?: string }[];
  techniques: string[];
}

describe('entente extract', () => {
  const dir = temporaryDirectory('extract');
  after(() => dir.remove());
  const report = [
    'The actor staged payloads on hxxp://evil-c2[.]com/gate.php and 45.77.12[.]3 (T1071.001, T1059.001).',
    'Our write-up is on https://blog.vendor.example.net/apt and the RFC example https://example.com/docs.',
    'Dropper SHA-256 6f2a3a9b1b8c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6 exploited CVE-2026-12345.',
  ].join('\n');
  const reportPath = join(dir.path, 'report.md');
  writeFileSync(reportPath, report);

  it('prints one JSON object per file with refanged values and spans in the original text', async () => {
    const run = await runEntente(['extract', reportPath, '--json']);
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
    const run = await runEntente(['extract', reportPath, '--json', '--publisher', 'vendor.example.net']);
    const parsed = JSON.parse(run.stdout) as Report;
    const example = parsed.observables.find((observable) => observable.value === 'https://example.com/docs');
    assert.match(example?.suppressed ?? '', /documentation/);
    const own = parsed.observables.find((observable) => observable.value === 'https://blog.vendor.example.net/apt');
    assert.ok(own?.suppressed !== undefined, 'the publisher link is suppressed');
    const c2 = parsed.observables.find((observable) => observable.value === 'http://evil-c2.com/gate.php');
    assert.equal(c2?.suppressed, undefined);
  });

  it('prints a readable table without --json', async () => {
    const run = await runEntente(['extract', reportPath]);
    assert.match(run.stdout, /report\.md: \d+ observables, \d+ suppressed/);
    assert.match(run.stdout, /ipv4-addr\t45\.77\.12\.3\t/);
    assert.match(run.stdout, /suppressed: /);
  });

  it('names a file it cannot read, a format it does not read yet, and binary content, and goes on with the rest (exit 1)', async () => {
    const pdf = join(dir.path, 'report.pdf');
    writeFileSync(pdf, '%PDF-1.7\n');
    const binary = join(dir.path, 'blob.txt');
    writeFileSync(binary, Buffer.from([0x41, 0x00, 0x42]));
    const run = await runEntente(['extract', join(dir.path, 'missing.txt'), pdf, binary, reportPath, '--json']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /ENT_INPUT_UNREADABLE: cannot read .*missing\.txt: ENOENT/);
    assert.match(run.stderr, /ENT_EXTRACT_UNSUPPORTED_FORMAT: .*report\.pdf: \.pdf reports are not read yet/);
    assert.match(run.stderr, /ENT_EXTRACT_UNSUPPORTED_FORMAT: .*blob\.txt: holds NUL bytes/);
    assert.equal(run.stdout.trim().split('\n').length, 1, 'the readable report is still extracted');
  });
});
