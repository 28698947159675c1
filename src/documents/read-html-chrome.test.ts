// Page chrome (nav, footer, aside, header banners, what lies outside a page's <main>) is not read
// for proposals, but an analyst who sees an indicator there must be told it was not proposed. The
// reader's part, here: the chrome's shown text comes back apart from the text (DocumentText.chrome),
// bounded, with the kinds of chrome that held it and the page's own hosts. The warning is made where
// extraction runs (src/drafts/extract-document.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DocumentText, PageChrome } from './document-text.ts';
import { cutChrome, MAX_CHROME_CHARS, readHtml } from './read-html.ts';

const page = (body: string, head = ''): string => `<!doctype html><html><head><title>Report</title>${head}</head><body>${body}</body></html>`;
const HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

function only(doc: DocumentText): PageChrome {
  assert.equal(doc.chrome?.length, 1, JSON.stringify(doc.chrome));
  return doc.chrome?.[0] as PageChrome;
}

function labels(chrome: PageChrome): string[] {
  return chrome.kinds.map((k) => k.label);
}

describe('page chrome, as the HTML reader returns it', () => {
  it('keeps an <aside> IOC box out of the text, and returns its shown text apart, named by the page and labelled <aside>', () => {
    const doc = readHtml(
      page(
        '<main><h1>Operation Lantern</h1><p>The loader contacts cdn-lantern.org.</p></main>' +
          `<aside><h2>IOCs</h2><table><tr><td>185.220.101.4</td><td>${HASH}</td></tr></table></aside>`,
      ),
      { name: 'lantern.html' },
    );
    assert.equal(doc.text, 'Report\n\nOperation Lantern\n\nThe loader contacts cdn-lantern.org.\n');
    const chrome = only(doc);
    assert.equal(chrome.name, 'lantern.html');
    assert.deepEqual(labels(chrome), ['<aside>']);
    // Cells apart: the address and the hash are not joined into one word.
    assert.match(chrome.text, /185\.220\.101\.4\s+9f86d0/);
    assert.equal(chrome.truncated, false);
    assert.deepEqual(chrome.hosts, []);
    assert.deepEqual(doc.warnings, [], 'the reader itself warns of nothing: extraction does');
  });

  it('labels each kind of chrome where its text starts: nav, footer, a role, text outside the <main> or the <article>s', () => {
    const chrome = only(readHtml(
      page('<nav>mirror: 45.77.12.3</nav><div class="sidebar">C2 update-check[.]net</div><main><p>The report body, long enough to be the main content of the page.</p></main><div role="contentinfo">drop 91.92.109.7</div>'),
    ));
    assert.deepEqual(labels(chrome), ['<nav>', "outside the page's <main>", 'role=contentinfo']);
    const at = (label: string): number => chrome.kinds.find((k) => k.label === label)?.at ?? -1;
    assert.ok(chrome.text.indexOf('45.77.12.3') > at('<nav>') && chrome.text.indexOf('45.77.12.3') < at("outside the page's <main>"));
    assert.ok(chrome.text.indexOf('update-check[.]net') > at("outside the page's <main>"), 'as written: refanging is extraction\'s');
    assert.ok(chrome.text.indexOf('91.92.109.7') > at('role=contentinfo'));
    const article = only(readHtml(page(`<div class="related">Sample ${HASH}</div><article><p>The report, long enough to be the main content.</p></article>`)));
    assert.deepEqual(labels(article), ["outside the page's <article>s"]);
    assert.ok(article.text.includes(HASH));
  });

  it('names the host the page says it is at (canonical, og:url, base or the saved-from comment), www. dropped', () => {
    const chrome = '<nav><a href="/">Home</a> research.vendor-labs.com</nav><main><p>Body: cdn-lantern.org</p></main>';
    for (const head of [
      '<link rel="canonical" href="https://www.vendor-labs.com/blog/lantern">',
      '<meta property="og:url" content="https://vendor-labs.com/blog/lantern">',
      '<base href="https://www.vendor-labs.com/blog/">',
    ]) {
      assert.deepEqual(only(readHtml(page(chrome, head))).hosts, ['vendor-labs.com'], head);
    }
    const saved = `<!-- saved from url=(0041)https://www.vendor-labs.com/blog/lantern -->\n${page(chrome)}`;
    assert.deepEqual(only(readHtml(saved)).hosts, ['vendor-labs.com']);
    // A relative base, or a scheme other than http(s), names no host.
    assert.deepEqual(only(readHtml(page(chrome, '<base href="/blog/"><link rel="canonical" href="ftp://vendor-labs.com/x">'))).hosts, []);
  });

  it('leaves a page without chrome as it was: same text, no chrome, no warning', () => {
    const doc = readHtml(page(`<h1>Lantern</h1><p>C2 45.77.12.3 and ${HASH}.</p>`));
    assert.equal(doc.text, `Report\n\nLantern\n\nC2 45.77.12.3 and ${HASH}.\n`);
    assert.deepEqual(doc.warnings, []);
    assert.equal(doc.chrome, undefined);
    assert.equal(readHtml(page('<nav>  </nav><main><p>C2 45.77.12.3</p></main>')).chrome, undefined, 'blank chrome is none');
  });

  it('leaves out chrome the analyst cannot see: hidden, not displayed, or unseen by what it inherits', () => {
    const doc = readHtml(
      page(
        '<main><p>Body</p></main><nav style="display:none">45.77.12.3</nav><aside hidden>91.92.109.7</aside>' +
          '<aside style="font-size:0"><span>185.220.101.4</span></aside><footer style="color:#fff"><p>update-check.net</p></footer>' +
          '<aside><details><summary>More</summary>5.188.86.1</details></aside><aside>shown 8.8.4.4</aside>',
      ),
    );
    const chrome = only(doc);
    for (const value of ['45.77.12.3', '91.92.109.7', '185.220.101.4', 'update-check.net', '5.188.86.1']) assert.ok(!chrome.text.includes(value), `${value} in ${chrome.text}`);
    assert.ok(chrome.text.includes('shown 8.8.4.4'));
  });

  it('keeps at most MAX_CHROME_CHARS of chrome, cut between words, so that a huge nav costs little and never refuses the page', () => {
    // 1.2 MB of addresses: more observables than extraction takes from one text (MAX_OBSERVABLES),
    // so extracting the whole nav would refuse the page it is only the chrome of.
    const filler = Array.from({ length: 150_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.9`).join(' ');
    const started = process.cpuUsage();
    const doc = readHtml(page(`<nav>45.77.12.3 ${filler} 91.92.109.7</nav><main><p>Body 185.220.101.4</p></main>`));
    const used = process.cpuUsage(started);
    assert.equal(doc.text, 'Report\n\nBody 185.220.101.4\n');
    const chrome = only(doc);
    assert.ok(chrome.text.length <= MAX_CHROME_CHARS, `${chrome.text.length}`);
    assert.ok(chrome.text.length > MAX_CHROME_CHARS - 32, 'all but the last word of the budget');
    assert.equal(chrome.truncated, true);
    assert.ok(chrome.text.includes('45.77.12.3') && !chrome.text.includes('91.92.109.7'));
    assert.match(chrome.text, /\.9$/, 'the last address whole');
    assert.ok((used.user + used.system) / 1000 < 3_000, `${(used.user + used.system) / 1000} ms of CPU`);
    // Many small chrome elements, and one huge text node: bounded alike.
    const asides = readHtml(page(`<main><p>Body</p></main>${'<aside>AS1 AS2 AS3 AS4 AS5 </aside>'.repeat(4_000)}`));
    assert.ok(only(asides).text.length <= MAX_CHROME_CHARS && only(asides).truncated);
    const one = readHtml(page(`<main><p>Body</p></main><footer>${'x'.repeat(200_000)}</footer>`));
    assert.equal(only(one).text.length, MAX_CHROME_CHARS, 'a word longer than the budget is cut where it must be');
  });

  it('cuts chrome at the last white space before the bound, so that no value is named cut short', () => {
    assert.equal(cutChrome(`ab ${HASH}`, 40), 'ab');
    assert.equal(cutChrome('short', 40), 'short');
    assert.equal(cutChrome(' 45.77.12.3', 5), '', 'never the start of a value');
    assert.equal(cutChrome('x'.repeat(50), 40), 'x'.repeat(40));
    // A word longer than 2 KiB is cut where it must be, rather than losing all before it.
    assert.equal(cutChrome(`a ${'x'.repeat(5000)}`, 4000).length, 4000);
  });
});
