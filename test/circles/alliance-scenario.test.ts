// Issue 3's "done means", end to end: a national CERT coordinates a hidden bilateral circle with a
// grid operator and a wide multilateral one mixing a ministry, companies and an NGO. Everything is
// set up with the `entente` command; partners read over TAXII from a real server on port 0 with
// their own tokens. Members accept the terms; intelligence flows only as terms and markings allow;
// a trial member starts small and is promoted; the bilateral circle ends on its date and sharing
// stops; recall notices are queued; `entente audit received` says exactly what each member got.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entente, temporaryDirectory } from '../cli/cli-kit.ts';
import { loadNodeConfig, startNode, type RunningNode } from '../../src/compose.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from '../../src/policy/classify-marking.ts';

const TAXII = 'application/taxii+json;version=2.1';
const ORG = {
  ministry: 'identity--1e5c4a3b-0000-4000-8000-000000000001',
  grid: 'identity--1e5c4a3b-0000-4000-8000-000000000002',
  bank: 'identity--1e5c4a3b-0000-4000-8000-000000000003',
  ngo: 'identity--1e5c4a3b-0000-4000-8000-000000000004',
};
const id = (type: string, n: number): string => `${type}--5ce7a7f0-0000-4000-8000-${String(n).padStart(12, '0')}`;
const common = { spec_version: '2.1', created: '2026-11-01T00:00:00.000Z', modified: '2026-11-01T00:00:00.000Z' };
const indicator = (n: number, name: string, markings: string[]): Record<string, unknown> => ({
  ...common, type: 'indicator', id: id('indicator', n), name, pattern: `[domain-name:value = 'c2-${n}.example.net']`,
  pattern_type: 'stix', valid_from: '2026-11-01T00:00:00Z', object_marking_refs: markings,
});

/** ATT&CK T1566 Phishing: public, in the catalogue Entente ships, and not held by this node. */
const PHISHING = 'attack-pattern--a62a8db3-f23a-4d8f-afd6-9dbc77e7813b';
/** An attack-pattern this node neither holds nor finds in a public catalogue. */
const UNKNOWN_TECHNIQUE = id('attack-pattern', 18);

const recipientsGrid = id('marking-definition', 1);
const weaknessGrid = id('marking-definition', 2);
const extension = (body: Record<string, unknown>): Record<string, unknown> => ({ [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', ...body } });
const bilateralObjects = [
  { type: 'marking-definition', spec_version: '2.1', id: recipientsGrid, created: '2026-11-01T00:00:00.000Z', name: 'RED recipients: Grid Co', extensions: extension({ marking: 'recipients', organisation_refs: [ORG.grid] }) },
  { type: 'marking-definition', spec_version: '2.1', id: weaknessGrid, created: '2026-11-01T00:00:00.000Z', name: 'Weakness disclosure to Grid Co', extensions: extension({ marking: 'weakness', organisation_refs: [ORG.grid] }) },
  indicator(1, 'SCADA beacon (RED, for Grid Co only)', [TLP2_MARKING_IDS.red, recipientsGrid]),
  indicator(2, 'Substation phishing (AMBER+STRICT)', [TLP2_MARKING_IDS['amber+strict']]),
  { ...common, type: 'vulnerability', id: id('vulnerability', 3), name: 'Unpatched gateway in our own substation network', object_marking_refs: [TLP2_MARKING_IDS.amber, weaknessGrid] },
];
const wideObjects = [
  indicator(11, 'Loader C2 (GREEN)', [TLP2_MARKING_IDS.green]),
  { ...common, type: 'malware', id: id('malware', 12), name: 'GridLoader', is_family: true, created_by_ref: ORG.grid, object_marking_refs: [TLP2_MARKING_IDS.amber] },
  indicator(13, 'Operator infrastructure (RED, nobody named)', [TLP2_MARKING_IDS.red]),
  {
    ...common, type: 'report', id: id('report', 14), name: 'Campaign against the energy sector', published: '2026-11-01T00:00:00Z',
    object_refs: [id('indicator', 11), id('malware', 12), id('indicator', 13), PHISHING, UNKNOWN_TECHNIQUE], object_marking_refs: [TLP2_MARKING_IDS.clear],
  },
  { ...common, type: 'relationship', id: id('relationship', 15), relationship_type: 'indicates', source_ref: id('indicator', 11), target_ref: id('malware', 12), object_marking_refs: [TLP2_MARKING_IDS.green] },
  { ...common, type: 'relationship', id: id('relationship', 16), relationship_type: 'uses', source_ref: id('malware', 12), target_ref: PHISHING, object_marking_refs: [TLP2_MARKING_IDS.green] },
  { ...common, type: 'relationship', id: id('relationship', 17), relationship_type: 'uses', source_ref: id('malware', 12), target_ref: UNKNOWN_TECHNIQUE, object_marking_refs: [TLP2_MARKING_IDS.green] },
];

const terms = (overrides: Record<string, unknown>): Record<string, unknown> => ({
  scope: { types: ['indicator', 'malware', 'report', 'relationship', 'vulnerability'] },
  highest_tlp: 'red',
  onward_sharing: 'none',
  attribution: 'keep',
  expectations: { permitted_actions: 'internally-visible-actions', affected_party_notifications: 'may', provider_attribution: 'must-not' },
  end_rule: 'retain',
  ...overrides,
});

describe('an alliance from set-up to end (CLI, TAXII over a real socket, audit)', () => {
  const data = temporaryDirectory('alliance');
  let node: RunningNode;
  let home = '';
  const tokens: Record<string, string> = {};
  let bilateralEnd = 0;

  async function run(...args: string[]): Promise<string> {
    const result = await entente(data.path, args);
    assert.equal(result.code, 0, `entente ${args.join(' ')}\n${result.stderr}`);
    return result.stdout;
  }

  async function objectIds(member: string, collection: string): Promise<string[]> {
    const response = await fetch(`${node.url}/taxii2/api/collections/${collection}/objects/`, { headers: { authorization: `Bearer ${tokens[member] ?? ''}`, accept: TAXII } });
    assert.equal(response.status, 200, `${member} reading ${collection}`);
    const body = (await response.json()) as { objects?: { id: string }[] };
    return (body.objects ?? []).map((object) => object.id).sort();
  }

  async function object(member: string, collection: string, objectId: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${node.url}/taxii2/api/collections/${collection}/objects/${objectId}/`, { headers: { authorization: `Bearer ${tokens[member] ?? ''}`, accept: TAXII } });
    assert.equal(response.status, 200);
    return ((await response.json()) as { objects: Record<string, unknown>[] }).objects[0] ?? {};
  }

  before(async () => {
    await run('org', 'add', 'Ministry of Energy', '--kind', 'government', '--sector', 'government-national', '--country', 'FR', '--id', ORG.ministry);
    await run('org', 'add', 'Grid Co', '--kind', 'company', '--sector', 'energy', '--country', 'DE', '--id', ORG.grid);
    await run('org', 'add', 'Bank Co', '--kind', 'company', '--sector', 'financial-services', '--country', 'NL', '--id', ORG.bank);
    await run('org', 'add', 'Grid Watch', '--kind', 'ngo', '--country', 'BE', '--id', ORG.ngo);
    home = (JSON.parse(await run('org', 'list', '--json')) as { id: string; home: boolean }[]).find((org) => org.home)?.id ?? '';

    bilateralEnd = Date.now() + 8000;
    await run('circle', 'create', 'bilateral', '--name', 'CERT and Grid Co', '--kind', 'tacit', '--visibility', 'hidden', '--default-tlp', 'amber', '--until', new Date(bilateralEnd).toISOString());
    await run('circle', 'create', 'wide', '--name', 'Energy sector 2026', '--kind', 'formal', '--visibility', 'open', '--default-tlp', 'amber', '--review', '2027-06-01T00:00:00Z');

    const bilateralTerms = join(data.path, 'bilateral-terms.json');
    writeFileSync(bilateralTerms, JSON.stringify(terms({ end_rule: 'recall' })));
    const wideTerms = join(data.path, 'wide-terms.json');
    writeFileSync(wideTerms, JSON.stringify(terms({ highest_tlp: 'amber', attribution: 'anonymise' })));
    await run('circle', 'propose', 'bilateral', '--terms', bilateralTerms);
    await run('circle', 'propose', 'wide', '--terms', wideTerms);

    await run('circle', 'invite', 'bilateral', '--org', ORG.grid, '--role', 'contributor');
    for (const org of [ORG.ministry, ORG.grid]) await run('circle', 'invite', 'wide', '--org', org, '--role', 'contributor');
    await run('circle', 'invite', 'wide', '--org', ORG.bank, '--role', 'consumer', '--trial');
    await run('circle', 'invite', 'wide', '--org', ORG.ngo, '--role', 'consumer');
    await run('circle', 'accept', 'bilateral', '--org', ORG.grid);
    for (const org of [ORG.ministry, ORG.grid, ORG.bank]) await run('circle', 'accept', 'wide', '--org', org); // the NGO never accepts

    for (const [name, objects] of [['bilateral', bilateralObjects], ['wide', wideObjects]] as const) {
      const file = join(data.path, `${name}.json`);
      writeFileSync(file, JSON.stringify({ type: 'bundle', id: 'bundle--5ce7a7f0-0000-4000-8000-000000000000', objects }));
      await run('import', file, '--collection', name);
    }
    for (const [member, org] of Object.entries(ORG)) {
      tokens[member] = (await run('token', 'create', '--name', member, '--org', org, '--collections', 'bilateral:r,wide:r')).trim();
    }
    node = await startNode(loadNodeConfig({ dataDir: data.path, port: 0, logLevel: 'warn' }, {}));
  });

  after(async () => {
    await node?.close();
    data.remove();
  });

  it('the grid operator receives its RED indicator, the AMBER+STRICT one and the weakness disclosed to it, through the bilateral circle', async () => {
    assert.deepEqual(await objectIds('grid', 'bilateral'), [id('indicator', 1), id('indicator', 2), id('vulnerability', 3)].sort());
  });

  it('nobody else receives anything through the bilateral circle', async () => {
    for (const member of ['ministry', 'bank', 'ngo']) assert.deepEqual(await objectIds(member, 'bilateral'), [], member);
  });

  it('full members of the wide circle receive GREEN and AMBER, never RED without a named recipient; attribution is anonymised', async () => {
    const expected = [id('indicator', 11), id('malware', 12), id('report', 14), id('relationship', 15), id('relationship', 16)].sort();
    assert.deepEqual(await objectIds('ministry', 'wide'), expected);
    assert.deepEqual(await objectIds('grid', 'wide'), expected);
    const report = await object('ministry', 'wide', id('report', 14));
    assert.deepEqual(
      report['object_refs'],
      [id('indicator', 11), id('malware', 12), PHISHING],
      'the RED indicator and the unknown technique are cut out of the report; the public ATT&CK technique stays named',
    );
    const malware = await object('ministry', 'wide', id('malware', 12));
    assert.equal(malware['name'], 'GridLoader');
    assert.equal(malware['created_by_ref'], undefined, 'the wide circle anonymises: who contributed it is not released');
  });

  it('a trial member starts small (CLEAR/GREEN indicators only) and receives more once promoted', async () => {
    assert.deepEqual(await objectIds('bank', 'wide'), [id('indicator', 11)]);
    await run('circle', 'promote', 'wide', '--org', ORG.bank);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await objectIds('bank', 'wide'), [id('indicator', 11), id('malware', 12), id('report', 14), id('relationship', 15), id('relationship', 16)].sort());
  });

  it('a member that has not accepted the terms receives nothing', async () => {
    assert.deepEqual(await objectIds('ngo', 'wide'), []);
  });

  it('the hidden circle shows a member only the coordinator and itself; the open one shows everyone', async () => {
    const view = async (circle: string): Promise<string[]> => {
      const response = await fetch(`${node.url}/api/circles/${circle}`, { headers: { authorization: `Bearer ${tokens['grid'] ?? ''}` } });
      assert.equal(response.status, 200);
      return ((await response.json()) as { members: { organisation_id: string }[] }).members.map((m) => m.organisation_id).sort();
    };
    assert.deepEqual(await view('bilateral'), [home, ORG.grid].sort());
    assert.deepEqual(await view('wide'), [home, ...Object.values(ORG)].sort());
    const outsider = await fetch(`${node.url}/api/circles/bilateral`, { headers: { authorization: `Bearer ${tokens['ministry'] ?? ''}` } });
    assert.equal(outsider.status, 404);
  });

  it('the bilateral circle ends on its date: sharing stops, recall notices are queued, the audit keeps what was received', async () => {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, bilateralEnd - Date.now() + 50)));
    assert.deepEqual(await objectIds('grid', 'bilateral'), []);
    const recalls = (await run('circle', 'recalls', '--circle', 'bilateral')).trim().split('\n').map((line) => JSON.parse(line) as { objectId: string; organisationId: string });
    assert.deepEqual(recalls.map((notice) => notice.objectId).sort(), [id('indicator', 1), id('indicator', 2), id('vulnerability', 3)].sort());
    assert.ok(recalls.every((notice) => notice.organisationId === ORG.grid));

    const received = async (org: string): Promise<string[]> =>
      [...new Set((await run('audit', 'received', '--org', org, '--json')).trim().split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as { objectId: string }).objectId))].sort();
    assert.deepEqual(await received(ORG.grid), [id('indicator', 1), id('indicator', 2), id('vulnerability', 3), id('indicator', 11), id('malware', 12), id('report', 14), id('relationship', 15), id('relationship', 16)].sort());
    assert.deepEqual(await received(ORG.ngo), []);
    assert.match(await run('audit', 'verify'), /Audit log verified: \d+ entries/);
  });
});
