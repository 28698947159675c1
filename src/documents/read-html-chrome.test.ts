// Page chrome (nav, footer, aside, header banners, what lies outside a page's <main>) is not read
// for proposals, but an analyst who sees an indicator there must be told it was not proposed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractObservables } from '../extract/extract-observables.ts';
import { loadExtractData } from '../extract/load-extract-data.ts';
import { MAX_CHROME_CHARS, readHtml } from './read-html.ts';

const page = (body: string, head = ''): string => `<!doctype html><html><head><title>Report</title>${head}</head><body>${body}</body></html>`;
const HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

/** What a draft would propose from the text read: the values extraction keeps. */
function proposed(text: string): string[] {
  const data = loadExtractData();
  return extractObservables(text, { tlds: data.tlds, warninglists: data.warninglists }).observables.filter((o) => o.suppressed === undefined).map((o) => o.value);
}

function chromeWarnings(warnings: readonly string[]): string[] {
  return warnings.filter((w) => w.includes('page chrome'));
}

describe('indicators in page chrome', () => {
  it('names the IP address and the hash of an <aside> IOC box in a warning, and proposes neither', () => {
    const doc = readHtml(
      page(
        '<main><h1>Operation Lantern</h1><p>The loader contacts cdn-lantern.org.</p></main>' +
          `<aside><h2>IOCs</h2><table><tr><td>185.220.101.4</td><td>${HASH}</td></tr></table></aside>`,
      ),
      { name: 'lantern.html' },
    );
    assert.deepEqual(proposed(doc.text), ['cdn-lantern.org']);
    const [warning, ...more] = chromeWarnings(doc.warnings);
    assert.equal(more.length, 0);
    assert.ok(warning !== undefined, doc.warnings.join('\n'));
    assert.ok(warning.startsWith('lantern.html: page chrome not read (<aside>) holds 2 values that look like indicators: '), warning);
    assert.ok(warning.includes('185.220.101.4') && warning.includes(HASH), warning);
    assert.match(warning, /not proposed/);
    assert.match(warning, /read them from the report if they belong to it/);
  });

  it('names the kind of chrome each value was in: nav, footer, a role, text outside the <main> or the <article>s', () => {
    const doc = readHtml(
      page('<nav>mirror: 45.77.12.3</nav><div class="sidebar">C2 update-check[.]net</div><main><p>The report body, long enough to be the main content of the page.</p></main><div role="contentinfo">drop 91.92.109.7</div>'),
    );
    const [warning] = chromeWarnings(doc.warnings);
    assert.ok(warning !== undefined);
    assert.match(warning, /page chrome not read \(<nav>, outside the page's <main>, role=contentinfo\) holds 3 values/);
    for (const value of ['45.77.12.3', 'update-check.net', '91.92.109.7']) assert.ok(warning.includes(value), `${value} in ${warning}`);
    const article = readHtml(page(`<div class="related">Sample ${HASH}</div><article><p>The report, long enough to be the main content.</p></article>`));
    assert.match(chromeWarnings(article.warnings)[0] ?? '', /\(outside the page's <article>s\) holds 1 value that looks like an indicator: 9f86d0/);
  });

  it('does not warn for a nav of site links whose only host is the page\'s own (canonical, og:url, base or the saved-from comment)', () => {
    const chrome = '<nav><a href="/">Home</a> <a href="/blog">Blog</a> research.vendor-labs.com</nav><main><p>Body: cdn-lantern.org</p></main><footer>© Vendor Labs · press@vendor-labs.com · https://www.vendor-labs.com/privacy</footer>';
    for (const head of [
      '<link rel="canonical" href="https://www.vendor-labs.com/blog/lantern">',
      '<meta property="og:url" content="https://vendor-labs.com/blog/lantern">',
      '<base href="https://www.vendor-labs.com/blog/">',
    ]) {
      assert.deepEqual(chromeWarnings(readHtml(page(chrome, head)).warnings), [], head);
    }
    const saved = `<!-- saved from url=(0041)https://www.vendor-labs.com/blog/lantern -->\n${page(chrome)}`;
    assert.deepEqual(chromeWarnings(readHtml(saved).warnings), []);
    // Links only, no values in the text: nothing to say either.
    assert.deepEqual(readHtml(page('<nav><a href="https://vendor-labs.com/">Home</a> Blog About</nav><main><p>Body</p></main>')).warnings, []);
  });

  it('warns when the page names no host of its own, but names only three values and says site links may be among them', () => {
    const doc = readHtml(page('<nav>vendor-labs.com research.vendor-labs.com shop.vendor-labs.com press@vendor-labs.com</nav><main><p>Body</p></main><footer>https://vendor-labs.com/privacy</footer>'));
    const [warning] = chromeWarnings(doc.warnings);
    assert.ok(warning !== undefined);
    assert.match(warning, /holds 5 values that look like indicators: [^,]+, [^,]+, [^,]+, and 2 more \(the page names no address of its own, so links to its own site may be among them\)/);
  });

  it('still names another host beside the page\'s own', () => {
    const doc = readHtml(page('<main><p>Body</p></main><aside>vendor-labs.com · stage2.cdn-lantern.org</aside>', '<link rel="canonical" href="https://vendor-labs.com/x">'));
    const [warning] = chromeWarnings(doc.warnings);
    assert.match(warning ?? '', /holds 1 value that looks like an indicator: stage2\.cdn-lantern\.org; /);
  });

  it('leaves a page without chrome as it was: same text, no warning', () => {
    const doc = readHtml(page(`<h1>Lantern</h1><p>C2 45.77.12.3 and ${HASH}.</p>`));
    assert.equal(doc.text, `Report\n\nLantern\n\nC2 45.77.12.3 and ${HASH}.\n`);
    assert.deepEqual(doc.warnings, []);
    // Chrome without anything that looks like an indicator: no warning either.
    assert.deepEqual(readHtml(page('<nav>Home Blog</nav><main><p>C2 45.77.12.3</p></main><aside>Related: Lantern part 2</aside><footer>© 2024 Vendor</footer>')).warnings, []);
  });

  it('names nothing the analyst cannot see either: hidden chrome, documentation values, ATT&CK ids and CVEs', () => {
    const doc = readHtml(
      page(
        '<main><p>Body</p></main><nav style="display:none">45.77.12.3</nav><aside hidden>91.92.109.7</aside>' +
          '<aside>See 203.0.113.7, evil.example, T1059 and CVE-2024-3400</aside>',
      ),
    );
    assert.deepEqual(doc.warnings, []);
  });

  it('checks at most MAX_CHROME_CHARS of chrome, so that a huge nav costs little and never refuses the page', () => {
    // 1.2 MB of addresses: more observables than extraction takes from one text (MAX_OBSERVABLES),
    // so extracting the whole nav would refuse the page it is only the chrome of.
    const filler = Array.from({ length: 150_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.9`).join(' ');
    const started = process.cpuUsage();
    const doc = readHtml(page(`<nav>45.77.12.3 ${filler} 91.92.109.7</nav><main><p>Body 185.220.101.4</p></main>`));
    const used = process.cpuUsage(started);
    assert.equal(doc.text, 'Report\n\nBody 185.220.101.4\n');
    const [warning] = chromeWarnings(doc.warnings);
    assert.ok(warning !== undefined);
    assert.ok(warning.includes('45.77.12.3'), warning);
    assert.ok(!warning.includes('91.92.109.7'), 'a value past the budget is not read');
    assert.ok(warning.includes(`only its first ${MAX_CHROME_CHARS / 1024} KiB were checked`), warning);
    assert.ok((used.user + used.system) / 1000 < 3_000, `${(used.user + used.system) / 1000} ms of CPU`);
  });
});
