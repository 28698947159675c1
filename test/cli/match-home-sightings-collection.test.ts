// `entente match` on an indicator that only a circle's collection holds (received from a partner): the
// home sighting, with its evidence, goes into the home sightings collection, made at the node's first
// start (alias `home-sightings`), so that every match leaves a record at home. That collection goes to
// no partner (`export --for`), carries no circle, and is read by an analyst's token only once an
// administrator grants it (`entente token create --collections home-sightings:r`).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TLP2_EXTENSION_DEFINITION_ID, TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { cliWorkspace, succeeded } from './cli-kit.ts';
import { SIGHTING_EVIDENCE_TERMS, type Stix } from './match-kit.ts';

const BANK = 'identity--0b000000-0000-4000-8000-0000000000c1';
const CIRCLE = 'grid-circle';
const INDICATOR = 'indicator--5e000000-0000-4000-8000-0000000000c1';
const C2 = '198.51.100.78';

describe('entente match records at home the sighting of an indicator held by a circle alone', () => {
  const { run, file, remove } = cliWorkspace('match-home-sightings');
  after(() => remove());
  const exported = async (...args: string[]): Promise<Stix[]> => (JSON.parse(succeeded(await run('export', ...args)).stdout) as { objects: Stix[] }).objects;
  let homeSightingsId = '';

  before(async () => {
    succeeded(await run('org', 'add', 'Bank', '--kind', 'company', '--id', BANK));
    succeeded(await run('circle', 'create', CIRCLE, '--name', 'Grid circle', '--default-tlp', 'green', '--until', '2099-01-01T00:00:00Z'));
    succeeded(await run('circle', 'invite', CIRCLE, '--org', BANK, '--role', 'contributor'));
    succeeded(await run('circle', 'propose', CIRCLE, '--terms', file('terms.json', JSON.stringify(SIGHTING_EVIDENCE_TERMS))));
    succeeded(await run('circle', 'accept', CIRCLE, '--org', BANK));
    const indicator = {
      type: 'indicator', spec_version: '2.1', id: INDICATOR, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
      pattern: `[ipv4-addr:value = '${C2}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.green],
    };
    succeeded(await run('import', file('indicator.json', JSON.stringify(indicator)), '--collection', CIRCLE));
    const collections = JSON.parse(succeeded(await run('collection', 'list', '--json')).stdout) as { id: string; alias?: string }[];
    homeSightingsId = collections.find((c) => c.alias === 'home-sightings')?.id ?? '';
  });

  it('makes the home sightings collection at the first start, with the alias home-sightings', () => {
    assert.match(homeSightingsId, /^[0-9a-f-]{36}$/);
  });

  it('stores the home sighting and its evidence there, and the circle still gets the copy its agreement allows', async () => {
    const matched = succeeded(await run('match', file('flows.jsonl', JSON.stringify({ type: 'ipv4-addr', value: C2 }) + '\n')));
    assert.match(matched.stderr, /1 sightings stored, 1 shared into circles/);
    const home = await exported('--collection', 'home-sightings');
    const sighting = home.find((o) => o.type === 'sighting');
    assert.equal(sighting?.['sighting_of_ref'], INDICATOR);
    const alert = JSON.parse(matched.stdout.trim()) as { sighting_id?: string };
    assert.equal(alert.sighting_id, sighting?.id, 'the alert names the sighting recorded at home');
    assert.ok(home.some((o) => o.id === (sighting?.['observed_data_refs'] as string[] | undefined)?.[0]), 'its observed-data beside it');
    assert.ok(home.some((o) => o.type === 'ipv4-addr' && o['value'] === C2), 'and the observable holding the matched value');
    const inCircle = (await exported('--collection', CIRCLE)).filter((o) => o.type === 'sighting');
    assert.equal(inCircle.length, 1);
    assert.notEqual(inCircle[0]?.id, sighting?.id, "the circle's copy is its own object, marked as the indicator");
    assert.deepEqual((await exported('--collection', 'default')).filter((o) => o.type === 'sighting' || o.type === 'observed-data'), []);
  });

  it("marks the home sighting of a TLP:RED indicator, and its observed-data, TLP:RED (the circle gets no copy)", async () => {
    const red = 'indicator--5e000000-0000-4000-8000-0000000000c2';
    const value = '198.51.100.79';
    const indicator = {
      type: 'indicator', spec_version: '2.1', id: red, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
      pattern: `[ipv4-addr:value = '${value}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.red],
    };
    succeeded(await run('import', file('red.json', JSON.stringify(indicator)), '--collection', CIRCLE));
    const matched = succeeded(await run('match', file('red-flows.jsonl', JSON.stringify({ type: 'ipv4-addr', value }) + '\n')));
    assert.match(matched.stderr, /1 sightings stored\n/);
    const home = await exported('--collection', 'home-sightings');
    const sighting = home.find((o) => o.type === 'sighting' && o['sighting_of_ref'] === red);
    assert.deepEqual(sighting?.['object_marking_refs'], [TLP2_MARKING_IDS.red]);
    const observedData = home.find((o) => o.id === (sighting?.['observed_data_refs'] as string[] | undefined)?.[0]);
    assert.deepEqual(observedData?.['object_marking_refs'], [TLP2_MARKING_IDS.red]);
  });

  // TLP:RED is also what an unknown version gets: this is what says the version that matched is read.
  it("marks the home sighting of a TLP:AMBER indicator with a statement at the home's floor, TLP:AMBER+STRICT, and the indicator's statement", async () => {
    const amber = 'indicator--5e000000-0000-4000-8000-0000000000c3';
    const statement = 'marking-definition--5e000000-0000-4000-8000-0000000000c3';
    const value = '198.51.100.80';
    const bundle = {
      type: 'bundle', id: 'bundle--5e000000-0000-4000-8000-0000000000c3',
      objects: [
        { type: 'marking-definition', spec_version: '2.1', id: statement, created: '2026-01-01T00:00:00.000Z', definition_type: 'statement', definition: { statement: 'Grid circle members only' } },
        {
          type: 'indicator', spec_version: '2.1', id: amber, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
          pattern: `[ipv4-addr:value = '${value}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.amber, statement],
        },
      ],
    };
    succeeded(await run('import', file('amber.json', JSON.stringify(bundle)), '--collection', CIRCLE));
    succeeded(await run('match', file('amber-flows.jsonl', JSON.stringify({ type: 'ipv4-addr', value }) + '\n')));
    const home = await exported('--collection', 'home-sightings');
    const sighting = home.find((o) => o.type === 'sighting' && o['sighting_of_ref'] === amber);
    assert.deepEqual(sighting?.['object_marking_refs'], [TLP2_MARKING_IDS['amber+strict'], statement]);
    const observedData = home.find((o) => o.id === (sighting?.['observed_data_refs'] as string[] | undefined)?.[0]);
    assert.deepEqual(observedData?.['object_marking_refs'], [TLP2_MARKING_IDS['amber+strict'], statement]);
  });

  // Unmarked, an indicator stands at its circle's default TLP (decide-sighting-share.ts reads it so for
  // the circle's copy): its home sighting is never below that either.
  it("marks the home sighting of an unmarked indicator held by a circle whose default TLP is RED TLP:RED, and its observed-data", async () => {
    const circle = 'red-circle';
    const unmarked = 'indicator--5e000000-0000-4000-8000-0000000000c4';
    const value = '198.51.100.81';
    succeeded(await run('circle', 'create', circle, '--name', 'Red circle', '--default-tlp', 'red', '--until', '2099-01-01T00:00:00Z'));
    const indicator = {
      type: 'indicator', spec_version: '2.1', id: unmarked, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
      pattern: `[ipv4-addr:value = '${value}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
    };
    succeeded(await run('import', file('unmarked.json', JSON.stringify(indicator)), '--collection', circle));
    succeeded(await run('match', file('unmarked-flows.jsonl', JSON.stringify({ type: 'ipv4-addr', value }) + '\n')));
    const home = await exported('--collection', 'home-sightings');
    const sighting = home.find((o) => o.type === 'sighting' && o['sighting_of_ref'] === unmarked);
    assert.deepEqual(sighting?.['object_marking_refs'], [TLP2_MARKING_IDS.red]);
    const observedData = home.find((o) => o.id === (sighting?.['observed_data_refs'] as string[] | undefined)?.[0]);
    assert.deepEqual(observedData?.['object_marking_refs'], [TLP2_MARKING_IDS.red]);
  });

  // A TLP definition of the indicator's own (not an official id) says its level as surely as an official one.
  it("marks the home sighting of an indicator under a TLP:RED definition of its own TLP:RED, carrying that definition too", async () => {
    const own = 'indicator--5e000000-0000-4000-8000-0000000000c5';
    const definition = 'marking-definition--5e000000-0000-4000-8000-0000000000c5';
    const value = '198.51.100.82';
    const bundle = {
      type: 'bundle', id: 'bundle--5e000000-0000-4000-8000-0000000000c5',
      objects: [
        {
          type: 'marking-definition', spec_version: '2.1', id: definition, created: '2026-01-01T00:00:00.000Z', name: 'TLP:RED (grid)',
          extensions: { [TLP2_EXTENSION_DEFINITION_ID]: { extension_type: 'property-extension', tlp_2_0: 'red' } },
        },
        {
          type: 'indicator', spec_version: '2.1', id: own, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
          pattern: `[ipv4-addr:value = '${value}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', object_marking_refs: [definition],
        },
      ],
    };
    succeeded(await run('import', file('own-tlp.json', JSON.stringify(bundle)), '--collection', CIRCLE));
    succeeded(await run('match', file('own-tlp-flows.jsonl', JSON.stringify({ type: 'ipv4-addr', value }) + '\n')));
    const home = await exported('--collection', 'home-sightings');
    const sighting = home.find((o) => o.type === 'sighting' && o['sighting_of_ref'] === own);
    assert.deepEqual(sighting?.['object_marking_refs'], [TLP2_MARKING_IDS.red, definition]);
    const observedData = home.find((o) => o.id === (sighting?.['observed_data_refs'] as string[] | undefined)?.[0]);
    assert.deepEqual(observedData?.['object_marking_refs'], [TLP2_MARKING_IDS.red, definition]);
  });

  it('releases nothing of it to a partner, even a member of the circle', async () => {
    assert.ok((await exported('--collection', 'home-sightings')).length > 0, 'it holds the sighting');
    assert.deepEqual(await exported('--collection', 'home-sightings', '--for', BANK), [], 'withheld whole: it carries no circle');
  });

  it('is refused as the collection of a new circle, by alias or by id', async () => {
    for (const collection of ['home-sightings', homeSightingsId]) {
      const refused = await run('circle', 'create', `over-${collection.slice(0, 6)}`, '--name', 'Over', '--until', '2099-01-01T00:00:00Z', '--collection', collection);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /ENT_CIRCLE_COLLECTION_HOLDS_SIGHTINGS/);
    }
  });

  it("is granted to an analyst's token explicitly, by its alias", async () => {
    succeeded(await run('token', 'create', '--name', 'analyst', '--collections', 'home-sightings:r'));
    const listed = succeeded(await run('token', 'list')).stdout;
    assert.match(listed, new RegExp(`analyst\\tmember\\t${homeSightingsId}:r\\t`));
    assert.doesNotMatch(listed.split('\n').filter((line) => !line.startsWith('analyst')).join('\n'), new RegExp(homeSightingsId), 'no other token was granted it');
  });

  it("refuses it to a partner's token: partners receive through circles only", async () => {
    for (const collections of ['home-sightings:r', `${CIRCLE}:r,${homeSightingsId}:r`]) {
      const refused = await run('token', 'create', '--name', `bank-${collections.length}`, '--org', BANK, '--collections', collections);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /ENT_TOKEN_INVALID: --collections: \S+ is the home sightings collection/);
    }
    assert.doesNotMatch(succeeded(await run('token', 'list')).stdout, /bank-/);
  });
});
