import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntenteError } from '../errors/entente-error.ts';
import { evaluatePattern } from '../pattern/evaluate-pattern.ts';
import { parsePattern } from '../pattern/parse-pattern.ts';
import { TLP2_MARKING_IDS } from '../policy/tlp.ts';
import { validateStixObject } from '../stix/validate.ts';
import type { StixObject } from '../stix/types.ts';
import { versionOf } from '../stix/versions.ts';
import { validateForIngest } from '../store/validate-for-ingest.ts';
import { assertNothingWithheld, buildPublication, PROVENANCE_PROPERTY } from './build-publication.ts';
import { decideDraftItems } from './decide-draft-items.ts';
import type { Draft, DraftItem } from './draft.ts';
import { withheldValuesOf } from './withheld-values.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const NOW = new Date('2026-11-23T02:00:00.000Z');
const SENTENCE = 'APT29 beaconed to 45.77.12.3 over HTTPS (T1071.001) with Cobalt Strike.';
const ATTACK_PATTERN = 'attack-pattern--c21d5a77-d422-4a69-acd7-2c53c1faa34b';
const MALWARE = 'malware--aafea02e-ece5-4bb2-91a6-3bf8c7f38a39';
const GROUP = 'intrusion-set--899ce53f-13a0-479b-a0e4-67d46e241542';

let n = 0;
function item(kind: DraftItem['kind'], type: string, value: string, extra: Partial<DraftItem> = {}): DraftItem {
  n += 1;
  return {
    id: String(n),
    kind,
    type,
    value,
    confidence: 0.9,
    method: { source: kind === 'observable' ? 'extractor' : 'tagger', detail: kind === 'observable' ? type : 'explicit' },
    occurrences: 1,
    evidence: [{ start: 0, end: 5, sentence: SENTENCE }],
    decision: { state: 'pending' },
    ...extra,
  };
}

function draftOf(items: DraftItem[]): Draft {
  return {
    id: '7',
    source: { fileName: 'lantern.pdf', sha256: 'ab'.repeat(32), format: 'pdf' },
    title: 'Lantern Typhoon',
    text: SENTENCE,
    createdAt: NOW.toISOString(),
    items,
    warnings: [],
  };
}

function acceptAll(draft: Draft): Draft {
  const changed = decideDraftItems(draft, draft.items.filter((i) => i.decision.state === 'pending').map((i) => i.id), { decision: 'accept' }, 'ana', NOW);
  const byId = new Map(changed.map((i) => [i.id, i]));
  return { ...draft, items: draft.items.map((i) => byId.get(i.id) ?? i) };
}

let uuid = 0;
const randomUuid = (): string => `00000000-0000-4000-8000-${(uuid++).toString(16).padStart(12, '0')}`;

const ALL_TYPES: DraftItem[] = [
  item('observable', 'ipv4-addr', '45.77.12.3'),
  item('observable', 'ipv6-addr', '2001:db8:85a3::8a2e:370:7334'),
  item('observable', 'domain-name', 'evil-c2.com'),
  item('observable', 'url', "http://evil-c2.com/gate.php?q=it's"),
  item('observable', 'email-addr', 'bad@evil-c2.com'),
  item('observable', 'file', '6f2a3a9b1b8c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6', { subtype: 'SHA-256' }),
  item('observable', 'file', 'd41d8cd98f00b204e9800998ecf8427f', { subtype: 'MD5' }),
  item('observable', 'file', 'svc.exe', { subtype: 'name' }),
  item('observable', 'file', 'C:\\Users\\Public\\svc.exe', { subtype: 'path' }),
  item('observable', 'windows-registry-key', 'HKEY_LOCAL_MACHINE\\Software\\Run'),
  item('observable', 'mac-addr', '00:1a:2b:3c:4d:5e'),
  item('observable', 'autonomous-system', 'AS64500'),
  item('vulnerability', 'vulnerability', 'CVE-2026-12345'),
  item('rule', 'yara', 'rule lantern { strings: $a = "x" condition: $a }'),
  item('attack-pattern', 'attack-pattern', 'T1071.001', { stixId: ATTACK_PATTERN, name: 'Web Protocols' }),
  item('malware', 'malware', 'S0154', { stixId: MALWARE, name: 'Cobalt Strike', method: { source: 'tagger', detail: 'name' } }),
  item('intrusion-set', 'intrusion-set', 'G0016', { stixId: GROUP, name: 'APT29', method: { source: 'tagger', detail: 'name' } }),
  item('observable', 'ipv4-addr', '192.0.2.1', { decision: { state: 'rejected', reason: 'documentation address range (RFC 5737)' } }),
];

const STORED_ATTACK_PATTERN: StixObject = {
  type: 'attack-pattern',
  spec_version: '2.1',
  id: ATTACK_PATTERN,
  created: '2020-03-15T16:16:25.763Z',
  modified: '2025-04-15T19:59:02.092Z',
  name: 'Web Protocols',
  kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'command-and-control' }],
};

function publish(draft: Draft, extra: Partial<Parameters<typeof buildPublication>[0]> = {}) {
  return buildPublication({ draft, now: NOW, randomUuid, createdByRef: HOME, tlp: 'amber', analyst: 'ana', ...extra });
}

describe('buildPublication', () => {
  const draft = acceptAll(draftOf(ALL_TYPES));
  const { objects, report, refsByItem } = publish(draft, { attackObjects: new Map([[ATTACK_PATTERN, STORED_ATTACK_PATTERN]]) });
  const byId = new Map(objects.map((object) => [object.id, object]));
  const indicatorOf = (value: string): StixObject | undefined => {
    const it = draft.items.find((i) => i.value === value);
    return byId.get(refsByItem.get(it?.id ?? '')?.[0] ?? '');
  };

  it('publishes only valid STIX 2.1: every object passes the validator and the ingest checks', () => {
    for (const object of objects) {
      const report = validateStixObject(object);
      assert.deepEqual(report.issues.filter((issue) => issue.severity === 'error'), [], `${object.id}`);
      assert.equal(validateForIngest(object).valid, true, object.id);
    }
  });

  it('writes the right STIX pattern for every observable type, and every pattern parses', () => {
    const patterns: Record<string, string> = {
      '45.77.12.3': "[ipv4-addr:value = '45.77.12.3']",
      '2001:db8:85a3::8a2e:370:7334': "[ipv6-addr:value = '2001:db8:85a3::8a2e:370:7334']",
      'evil-c2.com': "[domain-name:value = 'evil-c2.com']",
      "http://evil-c2.com/gate.php?q=it's": "[url:value = 'http://evil-c2.com/gate.php?q=it\\'s']",
      'bad@evil-c2.com': "[email-addr:value = 'bad@evil-c2.com']",
      '6f2a3a9b1b8c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6': "[file:hashes.'SHA-256' = '6f2a3a9b1b8c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6']",
      d41d8cd98f00b204e9800998ecf8427f: "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427f']",
      'svc.exe': "[file:name = 'svc.exe']",
      'C:\\Users\\Public\\svc.exe': "[file:name = 'svc.exe' AND file:parent_directory_ref.path = 'C:\\\\Users\\\\Public']",
      'HKEY_LOCAL_MACHINE\\Software\\Run': "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Run']",
      '00:1a:2b:3c:4d:5e': "[mac-addr:value = '00:1a:2b:3c:4d:5e']",
      AS64500: '[autonomous-system:number = 64500]',
    };
    for (const [value, pattern] of Object.entries(patterns)) {
      const indicator = indicatorOf(value);
      assert.equal(indicator?.['pattern'], pattern, value);
      assert.equal(indicator?.['pattern_type'], 'stix');
      assert.ok(parsePattern(pattern).ok, pattern);
    }
    assert.equal(indicatorOf('rule lantern { strings: $a = "x" condition: $a }')?.['pattern_type'], 'yara');
  });

  it("makes every observable's indicator match the SCOs published with it (the pattern says what the SCO is)", () => {
    for (const it of draft.items.filter((i) => i.kind === 'observable' && i.decision.state === 'accepted')) {
      const [indicatorId, ...scoIds] = refsByItem.get(it.id) ?? [];
      const pattern = parsePattern(String(byId.get(indicatorId ?? '')?.['pattern']));
      assert.ok(pattern.ok);
      const observedData = { type: 'observed-data', id: 'observed-data--00000000-0000-4000-8000-000000000000', first_observed: NOW.toISOString(), last_observed: NOW.toISOString(), number_observed: 1, object_refs: scoIds };
      const objectsById = new Map(scoIds.map((id) => [id, byId.get(id) as StixObject]));
      assert.equal(evaluatePattern(pattern.value, [{ observedData, objectsById }]).matched, true, it.value);
    }
  });

  it('gives indicators valid_from, indicator_types, confidence, and kill-chain phases of techniques stated in the same sentence', () => {
    const indicator = indicatorOf('45.77.12.3');
    assert.equal(indicator?.['valid_from'], NOW.toISOString());
    assert.deepEqual(indicator?.['indicator_types'], ['malicious-activity']);
    assert.equal(indicator?.['confidence'], 90);
    assert.deepEqual(indicator?.['kill_chain_phases'], [{ kill_chain_name: 'mitre-attack', phase_name: 'command-and-control' }]);
  });

  it("says in the provenance that an indicator's kill-chain phases were added automatically, and from which accepted technique", () => {
    const ip = draft.items.find((i) => i.value === '45.77.12.3');
    const technique = draft.items.find((i) => i.stixId === ATTACK_PATTERN);
    const entry = (report[PROVENANCE_PROPERTY] as { items: Record<string, unknown>[] }).items.find((e) => e['item'] === ip?.id);
    assert.deepEqual(entry?.['kill_chain_phases'], { automatic: true, from_items: [technique?.id] });
    const cve = (report[PROVENANCE_PROPERTY] as { items: Record<string, unknown>[] }).items.find((e) => e['kind'] === 'vulnerability');
    assert.equal(cve?.['kill_chain_phases'], undefined, 'only where phases were added');
  });

  it('publishes the SCOs with deterministic ids, a file path as file plus parent directory', () => {
    const refs = refsByItem.get(draft.items.find((i) => i.value === 'C:\\Users\\Public\\svc.exe')?.id ?? '') ?? [];
    const [file, directory] = refs.slice(1).map((id) => byId.get(id));
    assert.equal(file?.type, 'file');
    assert.equal(directory?.['path'], 'C:\\Users\\Public');
    assert.equal(file?.['parent_directory_ref'], directory?.id);
    const ip = objects.find((object) => object.type === 'ipv4-addr' && object['value'] === '45.77.12.3');
    assert.match(ip?.id ?? '', /^ipv4-addr--[0-9a-f-]{36}$/);
    assert.equal(publish(draft).objects.find((object) => object.type === 'ipv4-addr' && object['value'] === '45.77.12.3')?.id, ip?.id, 'same SCO, same id');
  });

  it('marks every object it creates with the TLP and the home organisation, and refers to ATT&CK objects by their STIX ids', () => {
    for (const object of objects) {
      if (object.id === ATTACK_PATTERN) continue;
      assert.deepEqual(object['object_marking_refs'], [TLP2_MARKING_IDS.amber], object.id);
      if (!['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'file', 'directory', 'windows-registry-key', 'mac-addr', 'autonomous-system'].includes(object.type)) {
        assert.equal(object['created_by_ref'], HOME, object.id);
      }
    }
    const refs = report['object_refs'] as string[];
    for (const id of [ATTACK_PATTERN, MALWARE, GROUP]) assert.ok(refs.includes(id), id);
    assert.ok(byId.has(ATTACK_PATTERN), 'a stored ATT&CK object is published beside the report');
    assert.equal(byId.has(MALWARE), false, 'one the node does not hold is only referred to');
  });

  it('relates accepted items: indicators indicate the malware, the group uses techniques and software', () => {
    const relationships = objects.filter((object) => object.type === 'relationship');
    const edges = new Set(relationships.map((r) => `${String(r['source_ref']).split('--')[0]} ${String(r['relationship_type'])} ${String(r['target_ref'])}`));
    assert.ok(edges.has(`indicator indicates ${MALWARE}`));
    assert.ok(edges.has(`intrusion-set uses ${ATTACK_PATTERN}`));
    assert.ok(edges.has(`intrusion-set uses ${MALWARE}`));
    assert.equal(relationships.filter((r) => r['relationship_type'] === 'indicates').length, 13, 'one per indicator');
  });

  it('says that the relationships were drawn automatically, and credits no one with accepting them', () => {
    const relationships = objects.filter((object) => object.type === 'relationship');
    assert.ok(relationships.length > 0);
    for (const relationship of relationships) {
      assert.match(String(relationship['description']), /drawn automatically/i, relationship.id);
      assert.doesNotMatch(String(relationship['description']), /accepted by/, `${relationship.id}: no one reviewed the relationship itself`);
    }
    const provenance = report[PROVENANCE_PROPERTY] as { relationships?: { automatic: boolean; reviewed: boolean; count: number; rule: string } };
    assert.deepEqual([provenance.relationships?.automatic, provenance.relationships?.reviewed, provenance.relationships?.count], [true, false, relationships.length]);
    assert.match(provenance.relationships?.rule ?? '', /indicators indicate the malware/);
  });

  it('names everything published in the report, and nothing rejected', () => {
    assert.equal(report.type, 'report');
    assert.equal(report['name'], 'Lantern Typhoon');
    assert.equal(report['published'], NOW.toISOString());
    const refs = new Set(report['object_refs'] as string[]);
    for (const object of objects) if (object.id !== report.id) assert.ok(refs.has(object.id), object.id);
    assert.equal(objects.some((object) => object['value'] === '192.0.2.1'), false);
  });

  it('records provenance: what was automatic, how, with what confidence, and who accepted it when; rejected items only counted', () => {
    const provenance = report[PROVENANCE_PROPERTY] as { source: Record<string, string>; items: Record<string, unknown>[]; published_by: string; rejected_count: number };
    assert.deepEqual(provenance.source, { file_name: 'lantern.pdf', sha256: 'ab'.repeat(32), format: 'pdf' });
    assert.equal(provenance.published_by, 'ana');
    const ip = provenance.items.find((entry) => entry['proposed_value'] === '45.77.12.3');
    assert.deepEqual(
      [ip?.['automatic'], ip?.['method'], ip?.['confidence'], ip?.['decision'], ip?.['decided_by'], ip?.['decided_at']],
      [true, 'extractor:ipv4-addr', 0.9, 'accepted', 'ana', NOW.toISOString()],
    );
    // The rejected item (192.0.2.1) goes to every reader of the report as a number, never as its value or reason.
    assert.deepEqual(provenance.items.map((entry) => entry['decision']).filter((decision) => decision !== 'accepted' && decision !== 'edited'), []);
    assert.equal(provenance.rejected_count, 1);
    assert.equal(JSON.stringify(report).includes('192.0.2.1'), false);
    assert.equal(JSON.stringify(report).includes('RFC 5737'), false, 'nor the reason it was rejected');
  });

  it("keeps the analyst's note on an accepted item in the draft: readers of the report get the decision, not the note", () => {
    const base = draftOf([item('observable', 'ipv4-addr', '45.77.12.3')]);
    const accepted = decideDraftItems(base, [base.items[0]?.id ?? ''], { decision: 'accept', reason: 'also seen on fin-srv-12 at our client Acme' }, 'ana', NOW);
    const published = publish({ ...base, items: accepted });
    const provenance = published.report[PROVENANCE_PROPERTY] as { items: Record<string, unknown>[] };
    assert.deepEqual([provenance.items[0]?.['decision'], provenance.items[0]?.['decided_by']], ['accepted', 'ana']);
    for (const object of published.objects) assert.equal(JSON.stringify(object).includes('fin-srv-12'), false, object.id);
  });

  it('uses an edited value and an analyst pattern', () => {
    const base = draftOf([item('observable', 'ipv4-addr', '45.77.12.3'), item('observable', 'domain-name', 'evil-c2.com')]);
    const [first, second] = base.items as [DraftItem, DraftItem];
    const edited = decideDraftItems(base, [first.id], { decision: 'edit', value: '45.77.12.0/24' }, 'ana', NOW);
    const patterned = decideDraftItems(base, [second.id], { decision: 'edit', pattern: "[domain-name:value LIKE '%.evil-c2.com']" }, 'ana', NOW);
    const result = publish({ ...base, items: [...edited, ...patterned] });
    const patterns = result.objects.filter((object) => object.type === 'indicator').map((object) => object['pattern']);
    assert.deepEqual(patterns, ["[ipv4-addr:value = '45.77.12.0/24']", "[domain-name:value LIKE '%.evil-c2.com']"]);
  });

  it('publishes the SCO it builds from the value, marked with the chosen TLP: the same observable under another TLP is a content of its own', () => {
    const base = acceptAll(draftOf([item('observable', 'domain-name', 'evil-c2.com')]));
    const green = publish(base, { tlp: 'green' }).objects.find((object) => object.type === 'domain-name') as StixObject;
    const red = publish(base, { tlp: 'red' }).objects.find((object) => object.type === 'domain-name') as StixObject;
    assert.deepEqual(red, { type: 'domain-name', spec_version: '2.1', id: green.id, value: 'evil-c2.com', object_marking_refs: [TLP2_MARKING_IDS.red] });
    assert.notEqual(versionOf(red), versionOf(green));
  });
});

describe('buildPublication refuses', () => {
  it('while an item is pending: nothing automatic is published without a human decision', () => {
    const draft = draftOf([item('observable', 'ipv4-addr', '45.77.12.3'), item('observable', 'ipv4-addr', '45.77.12.4')]);
    const partly = { ...draft, items: [decideDraftItems(draft, [draft.items[0]?.id ?? ''], { decision: 'accept' }, 'ana', NOW)[0] as DraftItem, draft.items[1] as DraftItem] };
    assert.throws(() => publish(partly), (error: unknown) => error instanceof EntenteError && error.code === 'ENT_DRAFT_UNDECIDED' && /\b\d+\b/.test(error.message));
  });

  it('when nothing was accepted (a report must refer to something)', () => {
    const draft = draftOf([item('observable', 'ipv4-addr', '192.0.2.1', { decision: { state: 'rejected', reason: 'documentation' } })]);
    assert.throws(() => publish(draft), (error: unknown) => error instanceof EntenteError && error.code === 'ENT_DRAFT_EMPTY');
  });
});

describe('decideDraftItems', () => {
  const draft = draftOf([item('observable', 'ipv4-addr', '45.77.12.3'), item('attack-pattern', 'attack-pattern', 'T1071.001', { stixId: ATTACK_PATTERN })]);
  const [ip, technique] = draft.items as [DraftItem, DraftItem];
  const code = (code: string) => (error: unknown) => error instanceof EntenteError && error.code === code;

  it('records who decided and when', () => {
    const [accepted] = decideDraftItems(draft, [ip.id], { decision: 'accept' }, ' ana ', NOW);
    assert.deepEqual(accepted?.decision, { state: 'accepted', analyst: 'ana', decidedAt: NOW.toISOString() });
    const [rejected] = decideDraftItems(draft, [technique.id], { decision: 'reject', reason: 'not in this campaign' }, 'ana', NOW);
    assert.deepEqual(rejected?.decision.reason, 'not in this campaign');
  });

  it('refuses unknown items, naming them, before changing anything', () => {
    assert.throws(() => decideDraftItems(draft, [ip.id, '99', 'x'], { decision: 'accept' }, 'ana', NOW), (error: unknown) => code('ENT_DRAFT_ITEM_NOT_FOUND')(error) && /"99", "x"/.test((error as Error).message));
  });

  it('refuses an edit into an invalid value, a pattern that does not parse, and edits of ATT&CK references', () => {
    assert.throws(() => decideDraftItems(draft, [ip.id], { decision: 'edit', value: 'evil-c2.com' }, 'ana', NOW), code('ENT_DRAFT_VALUE_INVALID'));
    assert.throws(() => decideDraftItems(draft, [ip.id], { decision: 'edit', pattern: "[ipv4-addr:value = '1.2.3.4'" }, 'ana', NOW), code('ENT_DRAFT_VALUE_INVALID'));
    assert.throws(() => decideDraftItems(draft, [technique.id], { decision: 'edit', value: 'T1059' }, 'ana', NOW), code('ENT_DRAFT_VALUE_INVALID'));
    assert.throws(() => decideDraftItems(draft, [ip.id, technique.id], { decision: 'edit', value: '1.2.3.4' }, 'ana', NOW), code('ENT_DRAFT_DECISION_INVALID'));
    assert.throws(() => decideDraftItems(draft, [ip.id], { decision: 'edit' }, 'ana', NOW), code('ENT_DRAFT_DECISION_INVALID'));
  });

  it('refuses a blank analyst and any decision on a published draft', () => {
    assert.throws(() => decideDraftItems(draft, [ip.id], { decision: 'accept' }, '  ', NOW), code('ENT_DRAFT_DECISION_INVALID'));
    const published: Draft = { ...draft, publication: { publishedAt: NOW.toISOString(), analyst: 'ana', collectionId: 'c', tlp: 'amber', reportId: 'report--1', objectIds: [] } };
    assert.throws(() => decideDraftItems(published, [ip.id], { decision: 'reject' }, 'ana', NOW), code('ENT_DRAFT_PUBLISHED'));
  });
});

describe('buildPublication withholds what the analyst did not accept', () => {
  // A report whose sentence names, besides what is accepted, an internal host (defanged once, in
  // capitals once) and a victim's address.
  const TEXT = 'TLP:AMBER Incident at jh-07.grid-op.example\nOur jump host jh-07.grid-op[.]example (JH-07.GRID-OP.EXAMPLE) and ops@grid-op.example reached http://evil-c2.com/gate.php and 45.77.12.3.';
  const span = (written: string, from = 0): { start: number; end: number; sentence: string } => {
    const start = TEXT.indexOf(written, from);
    assert.ok(start >= 0, written);
    return { start, end: start + written.length, sentence: TEXT.split('\n')[1] ?? '' };
  };
  const rejected = { state: 'rejected', analyst: 'ana', decidedAt: NOW.toISOString(), reason: 'internal: must not leave' } as const;
  const draftWith = (items: DraftItem[]): Draft => ({ ...draftOf(items), title: 'TLP:AMBER Incident at jh-07.grid-op.example', text: TEXT });
  const items = (): DraftItem[] => [
    item('observable', 'domain-name', 'jh-07.grid-op.example', { evidence: [span('jh-07.grid-op[.]example'), span('JH-07.GRID-OP.EXAMPLE')], decision: rejected }),
    item('observable', 'email-addr', 'ops@grid-op.example', { evidence: [span('ops@grid-op.example')], decision: rejected }),
    item('observable', 'url', 'http://evil-c2.com/gate.php', { evidence: [span('http://evil-c2.com/gate.php')] }),
    item('observable', 'domain-name', 'evil-c2.com', { evidence: [span('evil-c2.com')], decision: rejected }),
    item('observable', 'ipv4-addr', '45.77.12.3', { evidence: [span('45.77.12.3')] }),
    item('malware', 'malware', 'S0154', { stixId: MALWARE, name: 'Cobalt Strike' }),
  ];
  const everything = (objects: readonly StixObject[]): string => JSON.stringify(objects).toLowerCase();

  it('leaves every rejected value out of every published object, in any case and defanged, and publishes what was accepted', () => {
    const { objects } = publish(acceptAll(draftWith(items())));
    for (const form of ['jh-07', 'grid-op', 'must not leave']) assert.equal(everything(objects).includes(form), false, form);
    const descriptions = objects.filter((object) => object.type === 'indicator').map((object) => object['description']);
    assert.deepEqual(new Set(descriptions), new Set(['Stated in "lantern.pdf": "Our jump host [withheld] ([withheld]) and [withheld] reached http://evil-c2.com/gate.php and 45.77.12.3."']));
    assert.deepEqual(objects.filter((object) => object.type === 'indicator').map((object) => object['pattern']), ["[url:value = 'http://evil-c2.com/gate.php']", "[ipv4-addr:value = '45.77.12.3']"]);
  });

  it('publishes a rejected value inside an accepted one as part of it (a domain in an accepted URL), never on its own', () => {
    const [, , url, domain] = items() as [DraftItem, DraftItem, DraftItem, DraftItem];
    const text = 'Beacons went to evil-c2.com, first to http://evil-c2.com/gate.php.';
    const at = (written: string) => ({ start: text.indexOf(written), end: text.indexOf(written) + written.length, sentence: text });
    const draft = acceptAll({ ...draftOf([{ ...url, evidence: [at('http://evil-c2.com/gate.php')] }, { ...domain, evidence: [at('evil-c2.com')] }]), text });
    const { objects } = publish(draft);
    assert.equal(objects.find((object) => object.type === 'indicator')?.['description'], 'Stated in "Lantern Typhoon": "Beacons went to [withheld], first to http://evil-c2.com/gate.php."');
    assert.ok(objects.some((object) => object.type === 'url' && object['value'] === 'http://evil-c2.com/gate.php'));
  });

  it('names the report after the file when its first line mentions a withheld value, and drops TLP labels from a title', () => {
    const { report } = publish(acceptAll(draftWith(items())));
    assert.equal(report['name'], 'lantern.pdf');
    const clean = publish(acceptAll({ ...draftWith(items()), title: 'TLP:AMBER Incident 2026-17' })).report;
    assert.equal(clean['name'], 'Incident 2026-17', 'the publication has its own marking');
    const given = publish(acceptAll(draftWith(items())), { name: 'Follow-up on JH-07.grid-op.example' }).report;
    assert.equal(given['name'], 'Follow-up on [withheld]', "an analyst's own name is redacted too");
  });

  it('keeps the decision in the provenance and leaves out the value before an edit', () => {
    const base = draftOf([
      item('observable', 'url', 'https://evil-login.net/auth?user=jane.doe@victim.example', { evidence: [{ start: 0, end: 0, sentence: 'The lure linked to https://evil-login.net/auth?user=jane.doe@victim.example today.' }] }),
      item('observable', 'domain-name', 'evil-c2.com'),
    ]);
    const [url, domain] = base.items as [DraftItem, DraftItem];
    const edited = decideDraftItems(base, [url.id], { decision: 'edit', value: 'https://evil-login.net/auth' }, 'ana', NOW);
    const patterned = decideDraftItems(base, [domain.id], { decision: 'edit', pattern: "[domain-name:value LIKE '%.evil-c2.com']" }, 'ana', NOW);
    // Bo accepts Ana's edit of the URL a minute later.
    const later = new Date(NOW.getTime() + 60_000);
    const accepted = decideDraftItems({ ...base, items: [...edited, domain] }, [url.id], { decision: 'accept' }, 'bo', later);
    const { objects, report } = publish({ ...base, items: [...accepted, ...patterned] });
    assert.equal(everything(objects).includes('jane.doe'), false);
    const provenance = report[PROVENANCE_PROPERTY] as { items: Record<string, unknown>[] };
    const [urlEntry, domainEntry] = provenance.items;
    assert.deepEqual([urlEntry?.['decision'], urlEntry?.['value'], 'proposed_value' in (urlEntry ?? {})], ['edited', 'https://evil-login.net/auth', false]);
    // The value is Ana's; the decision to publish it Bo's: the provenance names each for what they did.
    assert.deepEqual(
      [urlEntry?.['edited_by'], urlEntry?.['edited_at'], urlEntry?.['decided_by'], urlEntry?.['decided_at']],
      ['ana', NOW.toISOString(), 'bo', later.toISOString()],
    );
    assert.deepEqual([domainEntry?.['edited_by'], domainEntry?.['decided_by']], ['ana', 'ana'], 'an edit not accepted since is its author\'s decision too');
    assert.deepEqual([domainEntry?.['decision'], domainEntry?.['proposed_value'], domainEntry?.['pattern']], ['edited', 'evil-c2.com', "[domain-name:value LIKE '%.evil-c2.com']"], 'an edit of the pattern alone changes no value');
    // What automation proposed is still said (method, confidence), but what is published is the analyst's.
    assert.deepEqual([urlEntry?.['automatic'], urlEntry?.['method'], domainEntry?.['automatic']], [false, 'extractor:url', false]);
    assert.equal(objects.find((object) => object.type === 'indicator')?.['description'], 'Stated in "Lantern Typhoon": "The lure linked to [withheld] today."');
  });

  it("withholds a rejected value in a sentence an accepted technique was tagged on by the model: the model's passage is not how the report wrote the technique", () => {
    // The model tags a whole sentence: its evidence span is the sentence, not a written form of the
    // technique, and accepting the technique does not accept everything the sentence says.
    const sentence = TEXT.split('\n')[1] ?? '';
    const passage = { start: TEXT.indexOf(sentence), end: TEXT.indexOf(sentence) + sentence.length, sentence };
    const technique = item('attack-pattern', 'attack-pattern', 'T1071.001', { stixId: ATTACK_PATTERN, name: 'Web Protocols', method: { source: 'tagger', detail: 'model' }, evidence: [passage] });
    const { objects } = publish(acceptAll(draftWith([...items(), technique])));
    assert.equal(/jh-07|grid-op/.test(everything(objects)), false, everything(objects));
    const indicator = objects.find((object) => object.type === 'indicator' && object['pattern'] === "[ipv4-addr:value = '45.77.12.3']");
    assert.match(String(indicator?.['description']), /Our jump host \[withheld\] \(\[withheld\]\) and \[withheld\] reached http:\/\/evil-c2\.com\/gate\.php and 45\.77\.12\.3\./);
  });

  it("does not withhold a whole sentence for a rejected technique the model tagged on it: the technique's id and name are withheld, the sentence's accepted values are not", () => {
    const sentence = TEXT.split('\n')[1] ?? '';
    const passage = { start: TEXT.indexOf(sentence), end: TEXT.indexOf(sentence) + sentence.length, sentence };
    const technique = item('attack-pattern', 'attack-pattern', 'T1071.001', { stixId: ATTACK_PATTERN, name: 'Web Protocols', method: { source: 'tagger', detail: 'model' }, evidence: [passage], decision: rejected });
    const { objects } = publish(acceptAll(draftWith([...items(), technique])));
    const indicator = objects.find((object) => object.type === 'indicator' && object['pattern'] === "[ipv4-addr:value = '45.77.12.3']");
    assert.match(String(indicator?.['description']), /reached http:\/\/evil-c2\.com\/gate\.php and 45\.77\.12\.3\./);
  });

  it('quotes a sentence cut out of a longer one without the words at its edges, which may be part of a withheld value', () => {
    // The 600-character window around 45.77.12.3 starts inside the rejected host's name.
    const window = `ministry.example, then ${'beaconed '.repeat(25)}to 45.77.12.3 ${'and slept '.repeat(25)}then woke on ops-jh.grid-`;
    const sentence = window.padEnd(600, 'x');
    const draft = acceptAll(draftOf([
      item('observable', 'ipv4-addr', '45.77.12.3', { evidence: [{ start: 0, end: 0, sentence }] }),
      item('observable', 'domain-name', 'ops-jh.grid-ministry.example', { decision: rejected }),
    ]));
    const description = String(publish(draft).objects.find((object) => object.type === 'indicator')?.['description']);
    assert.match(description, /^Stated in "Lantern Typhoon": "…then beaconed .* to 45\.77\.12\.3 and slept .* then woke on…"$/);
    assert.equal(/ministry|grid-/.test(description), false, description);
  });

  it('checks last that no published string mentions a withheld value, and refuses naming the item, not the value', () => {
    const draft = acceptAll(draftWith(items()));
    const { objects } = publish(draft);
    const withheld = withheldValuesOf(draft);
    assert.doesNotThrow(() => assertNothingWithheld(objects, withheld, draft.id));
    // A string that escaped the redaction (as a bug in the builder would leave one) is caught.
    const leaking = objects.map((object) => (object.type === 'report' ? { ...object, external_references: [{ source_name: 'internal', external_id: 'JH-07.grid-op[.]example' }] } : object));
    assert.throws(() => assertNothingWithheld(leaking, withheld, draft.id), (error: unknown) =>
      error instanceof EntenteError && error.code === 'ENT_DRAFT_PUBLICATION_FAILED' && error.status === 500 && /external_references\.0\.external_id mentions the value of item \d+/.test(error.message) && !/jh-07/i.test(error.message));
  });
});
