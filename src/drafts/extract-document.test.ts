// Where extraction runs for a document (drafting, `entente extract`): the values of its text, and a
// warning that names the values in the page chrome the reader did not read (nav, footer, aside,
// outside <main>) that look like indicators. The analyst sees the chrome; none of it is proposed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readDocument } from '../documents/read-document.ts';
import { MAX_CHROME_CHARS, readHtml } from '../documents/read-html.ts';
import { loadExtractData } from '../extract/load-extract-data.ts';
import { extractDocument } from './extract-document.ts';

const data = loadExtractData();
const page = (body: string, head = ''): string => `<!doctype html><html><head><title>Report</title>${head}</head><body>${body}</body></html>`;
const HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

/** The values a draft would propose from a page, and the warnings of extraction, with `publisher` as the analyst's --publisher. */
function extracted(html: string, options: { name?: string; publisher?: readonly string[] } = {}): { proposed: string[]; warnings: string[] } {
  const doc = readHtml(html, options.name === undefined ? {} : { name: options.name });
  const result = extractDocument(doc, { data, name: options.name ?? 'page.html', ...(options.publisher === undefined ? {} : { publisherDomains: options.publisher }) });
  return { proposed: result.observables.filter((o) => o.suppressed === undefined).map((o) => o.value), warnings: result.warnings };
}

function chromeWarning(html: string, options: { name?: string; publisher?: readonly string[] } = {}): string | undefined {
  const { warnings } = extracted(html, options);
  assert.ok(warnings.length <= 1, warnings.join('\n'));
  return warnings[0];
}

describe('indicators in page chrome', () => {
  it('names the IP address and the hash of an <aside> IOC box in a warning, and proposes neither', () => {
    const { proposed, warnings } = extracted(
      page(
        '<main><h1>Operation Lantern</h1><p>The loader contacts cdn-lantern.org.</p></main>' +
          `<aside><h2>IOCs</h2><table><tr><td>185.220.101.4</td><td>${HASH}</td></tr></table></aside>`,
      ),
      { name: 'lantern.html' },
    );
    assert.deepEqual(proposed, ['cdn-lantern.org']);
    const [warning, ...more] = warnings;
    assert.equal(more.length, 0);
    assert.ok(warning !== undefined);
    assert.ok(warning.startsWith('lantern.html: page chrome not read (<aside>) holds 2 values that look like indicators: '), warning);
    assert.ok(warning.includes('185.220.101.4') && warning.includes(HASH), warning);
    assert.match(warning, /not proposed/);
    assert.match(warning, /read them from the report if they belong to it/);
  });

  it('names the kind of chrome each value was in: nav, footer, a role, text outside the <main> or the <article>s', () => {
    const warning = chromeWarning(
      page('<nav>mirror: 45.77.12.3</nav><div class="sidebar">C2 update-check[.]net</div><main><p>The report body, long enough to be the main content of the page.</p></main><div role="contentinfo">drop 91.92.109.7</div>'),
    );
    assert.match(warning ?? '', /page chrome not read \(<nav>, outside the page's <main>, role=contentinfo\) holds 3 values/);
    for (const value of ['45.77.12.3', 'update-check.net', '91.92.109.7']) assert.ok(warning?.includes(value), `${value} in ${warning}`);
    const article = chromeWarning(page(`<div class="related">Sample ${HASH}</div><article><p>The report, long enough to be the main content.</p></article>`));
    assert.match(article ?? '', /\(outside the page's <article>s\) holds 1 value that looks like an indicator: 9f86d0/);
  });

  it('does not warn for a nav of site links whose only host is the page\'s own (canonical, og:url, base or the saved-from comment)', () => {
    const chrome = '<nav><a href="/">Home</a> <a href="/blog">Blog</a> research.vendor-labs.com</nav><main><p>Body: cdn-lantern.org</p></main><footer>© Vendor Labs · press@vendor-labs.com · https://www.vendor-labs.com/privacy</footer>';
    for (const head of [
      '<link rel="canonical" href="https://www.vendor-labs.com/blog/lantern">',
      '<meta property="og:url" content="https://vendor-labs.com/blog/lantern">',
      '<base href="https://www.vendor-labs.com/blog/">',
    ]) {
      assert.equal(chromeWarning(page(chrome, head)), undefined, head);
    }
    assert.equal(chromeWarning(`<!-- saved from url=(0041)https://www.vendor-labs.com/blog/lantern -->\n${page(chrome)}`), undefined);
    // Links only, no values in the text: nothing to say either.
    assert.equal(chromeWarning(page('<nav><a href="https://vendor-labs.com/">Home</a> Blog About</nav><main><p>Body</p></main>')), undefined);
  });

  it('does not name a domain the analyst gave as the publisher\'s (--publisher), in a page that names no host of its own', () => {
    const html = page('<nav>vendor-labs.com research.vendor-labs.com press@vendor-labs.com</nav><main><p>Body</p></main><aside>stage2.cdn-lantern.org</aside><footer>https://vendor-labs.com/privacy</footer>');
    const warning = chromeWarning(html, { publisher: ['vendor-labs.com'] });
    assert.ok(warning !== undefined);
    assert.match(warning, /page chrome not read \(<aside>\) holds 1 value that looks like an indicator: stage2\.cdn-lantern\.org; /);
    assert.ok(!warning.includes('vendor-labs'), warning);
    assert.ok(!warning.includes('names no address of its own'), 'the analyst named it');
    // Without it, the same page names the site's links.
    assert.match(chromeWarning(html) ?? '', /holds 5 values .*names no address of its own/);
  });

  it('warns when the page names no host of its own, but names only three values and says site links may be among them', () => {
    const warning = chromeWarning(page('<nav>vendor-labs.com research.vendor-labs.com shop.vendor-labs.com press@vendor-labs.com</nav><main><p>Body</p></main><footer>https://vendor-labs.com/privacy</footer>'));
    assert.match(warning ?? '', /holds 5 values that look like indicators: [^,]+, [^,]+, [^,]+, and 2 more \(the page names no address of its own, so links to its own site may be among them\)/);
  });

  it('still names another host beside the page\'s own', () => {
    const warning = chromeWarning(page('<main><p>Body</p></main><aside>vendor-labs.com · stage2.cdn-lantern.org</aside>', '<link rel="canonical" href="https://vendor-labs.com/x">'));
    assert.match(warning ?? '', /holds 1 value that looks like an indicator: stage2\.cdn-lantern\.org; /);
  });

  it('does not name as "not proposed" a value the report\'s text holds too: it is proposed from there', () => {
    const { proposed, warnings } = extracted(page('<main><p>C2 45.77.12.3 and cdn-lantern.org</p></main><aside>IOCs: 45.77.12.3 91.92.109.7</aside>'));
    assert.deepEqual(proposed, ['45.77.12.3', 'cdn-lantern.org']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /holds 1 value that looks like an indicator: 91\.92\.109\.7[ ;]/);
    assert.equal(extracted(page('<main><p>C2 45.77.12.3</p></main><aside>IOCs: 45.77.12.3</aside>')).warnings.length, 0);
  });

  it('leaves a page without chrome, or chrome without indicators, without a warning', () => {
    assert.deepEqual(extracted(page(`<h1>Lantern</h1><p>C2 45.77.12.3 and ${HASH}.</p>`)).warnings, []);
    assert.deepEqual(extracted(page('<nav>Home Blog</nav><main><p>C2 45.77.12.3</p></main><aside>Related: Lantern part 2</aside><footer>© 2024 Vendor</footer>')).warnings, []);
  });

  it('names nothing the analyst cannot see either: hidden chrome, documentation values, ATT&CK ids and CVEs', () => {
    const html = page(
      '<main><p>Body</p></main><nav style="display:none">45.77.12.3</nav><aside hidden>91.92.109.7</aside><aside style="font-size:0">185.220.101.4</aside>' +
        '<aside>See 203.0.113.7, evil.example, T1059 and CVE-2024-3400</aside>',
    );
    assert.deepEqual(extracted(html), { proposed: [], warnings: [] });
  });

  it('checks at most MAX_CHROME_CHARS of a huge nav, says so, and never refuses the page for it', () => {
    const filler = Array.from({ length: 150_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.9`).join(' ');
    const { proposed, warnings } = extracted(page(`<nav>45.77.12.3 ${filler} 91.92.109.7</nav><main><p>Body 185.220.101.4</p></main>`));
    assert.deepEqual(proposed, ['185.220.101.4']);
    const [warning] = warnings;
    assert.ok(warning !== undefined);
    assert.ok(warning.includes('45.77.12.3'), warning);
    assert.ok(!warning.includes('91.92.109.7'), 'a value past the budget is not read');
    assert.ok(warning.includes(`only its first ${MAX_CHROME_CHARS / 1024} KiB were checked`), warning);
  });
});

describe('indicators in the page chrome of an e-mail', () => {
  const eml = (html: string, attachments = ''): string =>
    [
      'From: Vendor Advisories <advisories@vendor-labs.com>',
      'To: soc@example.org',
      'Subject: Lantern advisory',
      'Date: Tue, 24 Nov 2026 10:00:00 +0000',
      'Message-ID: <1@vendor-labs.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/html; charset=utf-8',
      '',
      html,
      attachments,
      '--b--',
      '',
    ].join('\r\n');
  const attachment = (name: string, html: string): string => ['--b', `Content-Type: text/html; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, '', html].join('\r\n');

  it('names the values in the chrome of an HTML body, as "the message (HTML body)", and proposes none of them', async () => {
    const doc = await readDocument(Buffer.from(eml(page('<main><p>Block cdn-lantern.org</p></main><footer>Seen also: 91.92.109.7</footer>'))), 'advisory.eml');
    const result = extractDocument(doc, { data, name: 'advisory.eml' });
    const values = result.observables.filter((o) => o.suppressed === undefined).map((o) => o.value);
    assert.ok(values.includes('cdn-lantern.org') && !values.includes('91.92.109.7'), values.join(' '));
    assert.equal(result.warnings.length, 1, result.warnings.join('\n'));
    assert.match(result.warnings[0] ?? '', /^advisory\.eml \(HTML body\): page chrome not read \(<footer>\) holds 1 value that looks like an indicator: 91\.92\.109\.7 \(the page names no address/);
  });

  it('names the chrome of an HTML attachment by the attachment, and checks MAX_CHROME_CHARS of chrome for the whole message', async () => {
    const big = Array.from({ length: 9_000 }, (_, i) => `host${i}.net`).join(' ');
    const parts = [1, 2, 3].map((n) => attachment(`page${n}.html`, page(`<main><p>Body ${n}</p></main><aside>45.77.12.${n} ${big}</aside>`))).join('\r\n');
    const doc = await readDocument(Buffer.from(eml(page('<p>See attached</p>'), parts)), 'advisory.eml');
    const total = (doc.chrome ?? []).reduce((n, c) => n + c.text.length, 0);
    assert.ok(total <= MAX_CHROME_CHARS, `${total} characters of chrome`);
    assert.deepEqual(doc.chrome?.map((c) => [c.name, c.truncated]), [['advisory.eml › page1.html', true]], 'the first page fills the budget, the others are not checked');
    const result = extractDocument(doc, { data, name: 'advisory.eml' });
    assert.match(result.warnings[0] ?? '', /^advisory\.eml › page1\.html: page chrome not read \(<aside>\) \(only its first 64 KiB were checked\) holds \d+ values/);
  });
});
