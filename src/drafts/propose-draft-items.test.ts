import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractObservables } from '../extract/extract-observables.ts';
import { loadExtractData } from '../extract/load-extract-data.ts';
import type { TaggedObject, TagResult } from '../tagging/tag-text.ts';
import { MAX_EVIDENCE_PER_ITEM, proposeDraftItems, titleOf, withoutTlpLabels } from './propose-draft-items.ts';

const data = loadExtractData();
const REPORT = [
  '# Lantern Typhoon targets grid operators',
  'The actor staged payloads on hxxp://evil-c2[.]com/gate.php and 45.77.12[.]3, then again on 45.77.12.3.',
  'Dropper SHA-256 6F2A3A9B1B8C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6 exploited CVE-2026-12345.',
  'The RFC example https://example.com/docs and 192.0.2.1 are documentation.',
].join('\n');

function tagged(id: string, stixId: string, name: string, start: number, method: TaggedObject['method']): TaggedObject {
  return { id, stixId, name, confidence: method === 'model' ? 0.62 : 1, method, evidence: [{ start, end: start + 5, sentence: { start, end: start + 20 } }] };
}

const TAGS: TagResult = {
  techniques: [tagged('T1071.001', 'attack-pattern--c21d5a77-d422-4a69-acd7-2c53c1faa34b', 'Web Protocols', 40, 'explicit')],
  software: [tagged('S0154', 'malware--aafea02e-ece5-4bb2-91a6-3bf8c7f38a39', 'Cobalt Strike', 60, 'name'), tagged('S0002', 'tool--afc079f3-c0ea-4096-b75d-3f05338b7f60', 'Mimikatz', 70, 'name')],
  groups: [tagged('G0016', 'intrusion-set--899ce53f-13a0-479b-a0e4-67d46e241542', 'APT29', 80, 'name')],
  tactics: [],
  mitigations: [],
  campaigns: [],
};

describe('proposeDraftItems', () => {
  const observables = extractObservables(REPORT, { tlds: data.tlds, warninglists: data.warninglists }).observables;
  const { items } = proposeDraftItems({ text: REPORT, observables, tags: TAGS });
  const byValue = new Map(items.map((item) => [item.value, item]));

  it('proposes one item per distinct value, numbered from 1, with every occurrence counted and its evidence', () => {
    assert.deepEqual(items.map((item) => item.id), items.map((_, index) => String(index + 1)));
    const ip = byValue.get('45.77.12.3');
    assert.equal(ip?.kind, 'observable');
    assert.equal(ip?.occurrences, 2);
    assert.equal(ip?.evidence.length, 2);
    assert.equal(REPORT.slice(ip?.evidence[0]?.start, ip?.evidence[0]?.end), '45.77.12[.]3');
    assert.match(ip?.evidence[0]?.sentence ?? '', /^The actor staged payloads/);
    assert.deepEqual(ip?.method, { source: 'extractor', detail: 'ipv4-addr' });
    assert.equal(ip?.decision.state, 'pending');
  });

  it('normalises hashes and says which algorithm; CVEs become vulnerabilities', () => {
    const hash = byValue.get('6f2a3a9b1b8c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6');
    assert.deepEqual([hash?.type, hash?.subtype, hash?.method.detail], ['file', 'SHA-256', 'file:SHA-256']);
    assert.equal(byValue.get('CVE-2026-12345')?.kind, 'vulnerability');
  });

  it('proposes suppressed observables as rejected by default, with the reason', () => {
    const documentation = byValue.get('192.0.2.1');
    assert.equal(documentation?.decision.state, 'rejected');
    assert.match(documentation?.decision.reason ?? '', /RFC 5737/);
    assert.equal(documentation?.decision.analyst, undefined, 'no human decided this');
    assert.equal(byValue.get('https://example.com/docs')?.decision.state, 'rejected');
  });

  it('proposes ATT&CK techniques, software (malware or tool by STIX type) and groups after the observables, with the tagging method', () => {
    const kinds = items.filter((item) => item.stixId !== undefined).map((item) => [item.id !== '', item.kind, item.value, item.method.detail]);
    assert.deepEqual(kinds, [
      [true, 'attack-pattern', 'T1071.001', 'explicit'],
      [true, 'malware', 'S0154', 'name'],
      [true, 'tool', 'S0002', 'name'],
      [true, 'intrusion-set', 'G0016', 'name'],
    ]);
    const firstTag = items.findIndex((item) => item.stixId !== undefined);
    assert.ok(items.slice(firstTag).every((item) => item.stixId !== undefined), 'references come last');
    assert.equal(byValue.get('T1071.001')?.stixId, 'attack-pattern--c21d5a77-d422-4a69-acd7-2c53c1faa34b');
  });

  it('is stable: the same report gives the same items and ids', () => {
    const again = proposeDraftItems({ text: REPORT, observables, tags: TAGS });
    assert.deepEqual(again.items, items);
  });

  it('does not propose ATT&CK ids twice (tagging links them) nor values with no STIX object, and says so', () => {
    const text = 'Wallet 1BoatSLRHtKNngkdXEeobR76b53LETtpyT and T1059.001 seen.';
    const found = extractObservables(text, { tlds: data.tlds }).observables;
    const proposal = proposeDraftItems({ text, observables: found });
    assert.deepEqual(proposal.items, []);
    assert.match(proposal.warnings.join(' '), /not proposed/);
  });
});

describe('values the report disguised with invisible characters', () => {
  // A zero-width space inside a value: the reader sees evil-c2.com, extraction proposes it (the value
  // as shown), and the analyst must see that the text held more than it showed.
  const text = [
    'Beacons to evil\u200b-c2.com every hour.',
    'Plain again: evil-c2.com, and 45.77.12.3 five times: 45.77.12.3 45.77.12.3 45.77.12.3 45.77.12.3.',
    'Then once disguised: 45.77\u00ad.12.3.',
  ].join('\n');
  const found = extractObservables(text, { tlds: data.tlds }).observables;
  const { items } = proposeDraftItems({ text, observables: found });
  const byValue = new Map(items.map((item) => [item.value, item]));

  it('flags the item, and the occurrence, that held invisible characters', () => {
    const domain = byValue.get('evil-c2.com');
    assert.equal(domain?.invisible, true);
    assert.deepEqual(domain?.evidence.map((evidence) => [text.slice(evidence.start, evidence.end), evidence.invisible === true]), [['evil\u200b-c2.com', true], ['evil-c2.com', false]]);
  });

  it('keeps a disguised occurrence among the evidence even past the first few, so that the flag can be checked against the text', () => {
    const ip = byValue.get('45.77.12.3');
    assert.equal(ip?.occurrences, 6);
    assert.equal(ip?.invisible, true);
    assert.equal(ip?.evidence.length, MAX_EVIDENCE_PER_ITEM);
    assert.deepEqual(ip?.evidence.filter((evidence) => evidence.invisible === true).map((evidence) => text.slice(evidence.start, evidence.end)), ['45.77\u00ad.12.3']);
  });

  it('flags nothing in a report without invisible characters', () => {
    const observables = extractObservables(REPORT, { tlds: data.tlds, warninglists: data.warninglists }).observables;
    const plain = proposeDraftItems({ text: REPORT, observables }).items;
    assert.deepEqual(plain.filter((item) => 'invisible' in item || item.evidence.some((evidence) => 'invisible' in evidence)), []);
  });
});

describe('titleOf', () => {
  it('takes a heading or a short first line, else the file name', () => {
    assert.equal(titleOf('# Lantern Typhoon\nbody', '/tmp/r.md'), 'Lantern Typhoon');
    assert.equal(titleOf('\n\nOperation Dusk\nThe actor…', 'r.txt'), 'Operation Dusk');
    assert.equal(titleOf('The actor staged payloads on a server in the data centre of a hosting company and then left.', 'dir/apt.txt'), 'apt.txt');
  });

  it("skips a TLP banner line and drops TLP labels from the title: the document's marking is not the publication's", () => {
    assert.equal(titleOf('TLP:RED\n\nOperation Dusk\nbody', 'r.txt'), 'Operation Dusk');
    assert.equal(titleOf('[TLP: AMBER+STRICT] Operation Dusk – TLP:AMBER\nbody', 'r.txt'), 'Operation Dusk');
    assert.equal(titleOf('# PAP:GREEN | Operation Dusk\nbody', 'r.txt'), 'Operation Dusk');
    assert.equal(titleOf('TLP:CLEAR\nThe actor staged payloads on a server in the data centre of a hosting company and then left.', 'r.txt'), 'r.txt');
    assert.equal(withoutTlpLabels('Operation Dusk'), 'Operation Dusk');
  });

  it('does not read a first line of megabytes to find out that it is no title', () => {
    // Cleaning the whole of a first line of 32 MiB (a text without line breaks) to see whether it is
    // a short title took 8 s of the thread that drafts (the event loop for POST /api/drafts). The
    // bound is a hundred times what reading the first lines takes, a tenth of what cleaning took.
    const text = `Operation Dusk ${'and more words '.repeat(2_300_000)}`;
    const started = performance.now();
    assert.equal(titleOf(text, 'dir/long.txt'), 'long.txt');
    assert.ok(performance.now() - started < 1000, `${Math.round(performance.now() - started)} ms`);
  });
});
