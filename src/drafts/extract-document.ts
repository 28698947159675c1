// Extraction from a document as read (readDocument): the one place both callers, drafting
// (proposeDraftFromBytes) and `entente extract`, run it, with the bundled data and the publisher
// domains the analyst gave. The text's observables are what a draft proposes. The page chrome the
// HTML reader did not read (DocumentText.chrome: a site's nav, footer, sidebar) goes through the same
// extraction, but only to name, in a warning, the values there that look like indicators: the analyst
// sees the chrome, and a partner may put an IOC box in a sidebar. Nothing of it is ever proposed.
import type { DocumentText, PageChrome } from '../documents/document-text.ts';
import { MAX_CHROME_CHARS } from '../documents/read-html.ts';
import { EntenteError } from '../errors/entente-error.ts';
import { extractObservables } from '../extract/extract-observables.ts';
import type { ExtractResult, Observable } from '../extract/extract-observables.ts';
import { shown } from '../extract/invisible.ts';
import type { ExtractData } from '../extract/load-extract-data.ts';

export interface DocumentExtractOptions {
  /** The bundled data (loadExtractData). */
  readonly data: Pick<ExtractData, 'tlds' | 'warninglists'>;
  /** Names the document in errors. */
  readonly name: string;
  /** The report publisher's own domains (`--publisher`, an upload's): its links are not indicators, in the text or the chrome. */
  readonly publisherDomains?: readonly string[];
}

export interface DocumentExtraction extends ExtractResult {
  /** Warnings of extraction to add to the reader's: page chrome holding values that look like indicators. */
  readonly warnings: string[];
}

/**
 * Extracts the observables of `doc.text`, and checks its page chrome (chromeWarning). Throws what
 * extractObservables throws for the text (ENT_EXTRACT_LIMIT_EXCEEDED); the chrome never refuses it.
 */
export function extractDocument(doc: DocumentText, options: DocumentExtractOptions): DocumentExtraction {
  const publisherDomains = options.publisherDomains ?? [];
  const result = extractObservables(doc.text, {
    tlds: options.data.tlds,
    warninglists: options.data.warninglists,
    name: options.name,
    ...(options.publisherDomains === undefined ? {} : { publisherDomains }),
  });
  const proposed = new Set(result.observables.filter((o) => o.suppressed === undefined).map(keyOf));
  const warnings: string[] = [];
  for (const chrome of doc.chrome ?? []) {
    const warning = chromeWarning(chrome, options.data, publisherDomains, proposed);
    if (warning !== undefined) warnings.push(warning);
  }
  return { ...result, warnings };
}

function keyOf(o: Observable): string {
  return `${o.type}\u0000${o.value}`;
}

// What an analyst blocks or hunts for; ATT&CK techniques and CVEs in a sidebar ("related posts") are
// the site's other articles, not values of this report.
const NOT_INDICATORS = new Set(['attack-technique', 'cve']);
const CHROME_SAMPLE_CHARS = 80;

/**
 * The warning for page chrome that holds values that look like indicators, or undefined: the same
 * extraction as the text's, over the chrome's text, with the analyst's publisher domains and the
 * page's own hosts as the publisher's. Left out: values it would suppress (documentation ranges,
 * warninglists, the publisher's links), ATT&CK ids and CVEs, and values the text holds too (`proposed`:
 * they are proposed from there). Nothing of it is proposed: a site's chrome is its own boilerplate,
 * and a value there may or may not belong to the report; the analyst, who sees it, decides.
 */
export function chromeWarning(chrome: PageChrome, data: Pick<ExtractData, 'tlds' | 'warninglists'>, publisherDomains: readonly string[], proposed: ReadonlySet<string>): string | undefined {
  if (chrome.text.trim() === '') return undefined;
  const { name } = chrome;
  const publishers = [...publisherDomains, ...chrome.hosts];
  let observables;
  try {
    observables = extractObservables(chrome.text, { tlds: data.tlds, warninglists: data.warninglists, publisherDomains: publishers, name: `${name} (page chrome)` }).observables;
  } catch (error) {
    // Past the extractor's own bounds: MAX_OBSERVABLES (one per 4 characters at the densest) cannot
    // be reached in MAX_CHROME_CHARS, but should a bound be met, the chrome is not the report, and
    // the report is still read.
    if (!(error instanceof EntenteError) || error.code !== 'ENT_EXTRACT_LIMIT_EXCEEDED') throw error;
    return `${name}: page chrome not read (nav, footer, aside) holds more values that look like indicators than could be checked; read them from the report if they belong to it`;
  }
  const values = new Map<string, { value: string; at: number }>();
  for (const o of observables) {
    if (o.suppressed !== undefined || NOT_INDICATORS.has(o.type)) continue;
    const key = keyOf(o);
    if (!proposed.has(key) && !values.has(key)) values.set(key, { value: o.value, at: o.start });
  }
  if (values.size === 0) return undefined;
  const labels = new Set<string>();
  for (const { at } of values.values()) {
    let label: string | undefined;
    for (const kind of chrome.kinds) {
      if (kind.at > at) break;
      label = kind.label;
    }
    if (label !== undefined) labels.add(label);
  }
  // In the order the page has them, as the labels are.
  const order = [...new Set(chrome.kinds.map((k) => k.label))].filter((l) => labels.has(l));
  // Without a host of the site's own (the page's, or the analyst's --publisher), its links to itself
  // (vendor.com, press@vendor.com) are counted too: fewer of them named, and the analyst told why.
  const known = publishers.length > 0;
  const named = known ? 5 : 3;
  const sample = [...values.values()].slice(0, named).map(({ value }) => shown(value.length > CHROME_SAMPLE_CHARS ? `${value.slice(0, CHROME_SAMPLE_CHARS)}…` : value));
  const n = values.size;
  const more = n > sample.length ? `, and ${n - sample.length} more` : '';
  const noHost = known ? '' : ' (the page names no address of its own, so links to its own site may be among them)';
  const cut = chrome.truncated ? ` (only its first ${MAX_CHROME_CHARS / 1024} KiB were checked)` : '';
  const look = n === 1 ? 'value that looks like an indicator' : 'values that look like indicators';
  return `${name}: page chrome not read (${order.join(', ')})${cut} holds ${n} ${look}: ${sample.join(', ')}${more}${noHost}; they are not proposed: read them from the report if they belong to it`;
}

/** `doc` with extraction's warnings after the reader's, as a draft and `entente extract` report them. */
export function withExtractionWarnings(doc: DocumentText, extraction: Pick<DocumentExtraction, 'warnings'>): DocumentText {
  return extraction.warnings.length === 0 ? doc : { ...doc, warnings: [...doc.warnings, ...extraction.warnings] };
}
