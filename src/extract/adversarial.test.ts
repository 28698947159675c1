// Pathological inputs must not hang the extractor (no catastrophic backtracking, no quadratic
// scans). These tests assert that extraction finishes and returns, not how fast: the per-test
// timeout is only a hang detector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractObservables } from './extract-observables.ts';
import { loadExtractData } from './load-extract-data.ts';

const data = loadExtractData();
const MB = 1 << 20;

function fill(unit: string, size = MB): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

const INPUTS: Record<string, string> = {
  dots: fill('.'),
  digits: fill('7'),
  'digits and dots': fill('1.'),
  'a@a@': fill('a@'),
  'a.a.a.': fill('a.'),
  'label dots': fill('abcdefghij.'),
  hex: fill('a'),
  'hex with breaks': fill('0123456789abcdef0123456789abcde '),
  colons: fill(':'),
  'hex colons': fill('a:'),
  'dashed hex': fill('0a-'),
  brackets: fill('[.]'),
  'dot words': fill(' dot '),
  'hxxp chains': fill('hxxp[:]//'),
  backslashes: fill('\\'),
  // Inputs where every few bytes are a real match cost per observable, not per byte: 256 KB.
  'drive roots': fill('C:\\a ', MB / 4),
  'registry roots': fill('HKLM\\'),
  'unclosed yara': fill('rule a {\n'),
  'sigma-ish': fill('title: x\ndetection:\n  condition: a\n'),
  'snort-ish': fill('alert tcp a b -> c d ('),
  'one long url': `http://evil.com/${fill('a/', MB - 20)}`,
  'percent roots': fill('%A%\\'),
  'email locals': fill('a.b+c@'),
  'long path': `/tmp/${fill('a/')}`,
  'base58 run': fill('123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'),
  'ipv4 storm': fill('1.1.1.1 ', MB / 4),
  'ipv6 storm': fill('::1:2:3 ', MB / 4),
  'underscores': fill('t13d1516h2_'),
  'version words': fill('version 1.2.3.4 '),
  'unicode labels': fill('пример.'),
  'address literals': fill('a@[1.1.1.1]@[', MB / 4),
  'glued digests': fill('0123456789ABCDEF0123456789ABCDEF0123456789ABCDEFx.'),
  // Removed before extraction (invisible.ts): every one is an offset to map back.
  'zero-width spaces': fill('\u200b'),
  'split labels': fill('a\u200b.\u202e'),
  'split addresses': fill('1\u200b.1\u00ad.1.1 ', MB / 4),
};

for (const [name, text] of Object.entries(INPUTS)) {
  test(`finishes on 1 MB of ${name}`, { timeout: 20_000 }, () => {
    const r = extractObservables(text, { tlds: data.tlds, warninglists: data.warninglists });
    assert.ok(Array.isArray(r.observables));
  });
}

// Every value found is an object with its span and sentence, and becomes a draft item: 32 MiB of
// "AS1 " would be 8 million of them (gigabytes, minutes on the thread that extracts: the server's
// event loop for POST /api/drafts). Past the limit the text is refused, with the limit named.
test('refuses a text that holds more observables than allowed, naming the text and the limit', () => {
  const storm = '45.77.12.3 '.repeat(5000);
  assert.equal(extractObservables(storm, { tlds: data.tlds, maxObservables: 5000 }).observables.length, 5000);
  assert.throws(
    () => extractObservables(storm, { tlds: data.tlds, maxObservables: 4999, name: 'iocs.txt' }),
    (error: Error & { code?: string }) => error.code === 'ENT_EXTRACT_LIMIT_EXCEEDED' && /^iocs\.txt: more than 4999 observables/.test(error.message),
  );
});

test('refuses 1 MB of autonomous system numbers by default (262,144 of them)', { timeout: 20_000 }, () => {
  assert.throws(
    () => extractObservables(fill('AS1 '), { tlds: data.tlds, warninglists: data.warninglists }),
    (error: Error & { code?: string }) => error.code === 'ENT_EXTRACT_LIMIT_EXCEEDED' && /more than 100000 observables/.test(error.message),
  );
});
