// `entente match` keeps a home sighting, and its evidence (observed-data and the SCOs holding the
// matched value), beside the indicator: in the collections holding the version that matched as their
// latest and carrying no circle, whose readers read the indicator. Never in the default collection,
// which a token may read without reading the indicator's collection: its readers would learn the id of
// a TLP:RED indicator they may not read, and the value it matched (as the node matcher, node-matcher.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { cliWorkspace, succeeded } from './cli-kit.ts';
import type { Stix } from './match-kit.ts';

const RED = 'indicator--7e000000-0000-4000-8000-000000000001';
const C2 = '198.51.100.9';

describe('entente match stores home sightings beside the indicator', () => {
  const { run, file, remove } = cliWorkspace('match-home-readers');
  after(() => remove());
  const exported = async (collection: string): Promise<Stix[]> =>
    (JSON.parse(succeeded(await run('export', '--collection', collection)).stdout) as { objects: Stix[] }).objects;

  before(async () => {
    succeeded(await run('collection', 'create', 'feeds', '--title', 'Feeds'));
    succeeded(await run('collection', 'create', 'elsewhere', '--title', 'Elsewhere'));
    const indicator = {
      type: 'indicator', spec_version: '2.1', id: RED, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
      name: 'RED c2 of operation X', pattern: `[ipv4-addr:value = '${C2}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
      object_marking_refs: [TLP2_MARKING_IDS.red],
    };
    succeeded(await run('import', file('red.json', JSON.stringify(indicator)), '--collection', 'feeds'));
  });

  it('stores the sighting of an indicator of `feeds` in `feeds`, and nothing in the default collection', async () => {
    const log = file('flows.jsonl', JSON.stringify({ type: 'ipv4-addr', value: C2 }) + '\n');
    const matched = succeeded(await run('match', log));
    assert.match(matched.stderr, /1 sightings stored/);
    const inDefault = await exported('default');
    assert.deepEqual(inDefault.filter((o) => o.type === 'sighting' || o.type === 'observed-data' || JSON.stringify(o).includes(C2)), [], 'no sighting, evidence or matched value in default');
    const inFeeds = await exported('feeds');
    const sighting = inFeeds.find((o) => o.type === 'sighting');
    assert.equal(sighting?.['sighting_of_ref'], RED);
    const observed = inFeeds.find((o) => o.id === (sighting?.['observed_data_refs'] as string[] | undefined)?.[0]);
    assert.ok(observed !== undefined, 'its observed-data is beside it');
    assert.ok(inFeeds.some((o) => o.type === 'ipv4-addr' && o['value'] === C2), 'and the SCO it names');
  });

  it('refuses --sightings-collection naming a collection that does not hold the indicators matched', async () => {
    const log = file('again.jsonl', JSON.stringify({ type: 'ipv4-addr', value: C2 }) + '\n');
    for (const args of [['--sightings-collection', 'default'], ['--sightings-collection', 'elsewhere', '--collection', 'feeds'], ['--sightings-collection', 'feeds']]) {
      const refused = await run('match', log, ...args);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /ENT_CLI_USAGE: --sightings-collection \S+ would hold sightings of indicators taken from other collections, shown to its readers who may not read them/);
    }
    assert.deepEqual((await exported('elsewhere')).filter((o) => o.type === 'sighting'), []);
    assert.deepEqual((await exported('default')).filter((o) => o.type === 'sighting'), []);
  });

  it('stores it in every collection holding the version that matched, the default collection included when it holds it', async () => {
    const indicator = {
      type: 'indicator', spec_version: '2.1', id: 'indicator--7e000000-0000-4000-8000-000000000002', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
      name: 'GREEN scanner', pattern: "[ipv4-addr:value = '203.0.113.5']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
      object_marking_refs: [TLP2_MARKING_IDS.green],
    };
    for (const collection of ['default', 'elsewhere']) succeeded(await run('import', file(`green-${collection}.json`, JSON.stringify(indicator)), '--collection', collection));
    succeeded(await run('match', file('green.jsonl', JSON.stringify({ type: 'ipv4-addr', value: '203.0.113.5' }) + '\n')));
    for (const collection of ['default', 'elsewhere']) {
      const sightings = (await exported(collection)).filter((o) => o.type === 'sighting');
      assert.deepEqual(sightings.map((o) => o['sighting_of_ref']), [indicator.id], `${collection} holds the indicator, so its sighting`);
    }
    assert.ok(!(await exported('feeds')).some((o) => o.type === 'sighting' && o['sighting_of_ref'] === indicator.id), 'feeds does not');
  });

  it('keeps --sightings-collection when indicators are taken from it alone', async () => {
    const log = file('third.jsonl', JSON.stringify({ type: 'ipv4-addr', value: C2 }) + '\n');
    const before = (await exported('feeds')).filter((o) => o.type === 'sighting').length;
    const matched = succeeded(await run('match', log, '--collection', 'feeds', '--sightings-collection', 'feeds'));
    assert.match(matched.stderr, /1 sightings stored/);
    assert.equal((await exported('feeds')).filter((o) => o.type === 'sighting').length, before + 1);
  });
});
