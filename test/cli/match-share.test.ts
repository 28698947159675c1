// `entente match` on the coordinator's node of a circle whose agreement shares sightings with their
// evidence: the sighting goes into the circle's collection with its observed-data, and what a member
// receives of it is the release decision's (TLP, scope, signature), as for anything else there.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { SIGNATURE_EXTENSION_ID } from '../../src/federation/signature-extension.ts';
import { cliWorkspace, succeeded } from './cli-kit.ts';
import { SIGHTING_EVIDENCE_TERMS, type Stix } from './match-kit.ts';

const BANK = 'identity--0b000000-0000-4000-8000-00000000000b';
const CIRCLE = 'evidence-circle';
const INDICATOR = 'indicator--5e000000-0000-4000-8000-000000000001';
const INTERNAL_IP = '10.9.8.7';




describe('entente match shares sightings back where the agreement says evidence', () => {
  const { run, file, remove } = cliWorkspace('match-share');
  after(() => remove());

  before(async () => {
    succeeded(await run('org', 'add', 'Bank', '--kind', 'company', '--id', BANK));
    succeeded(await run('circle', 'create', CIRCLE, '--name', 'Evidence circle', '--default-tlp', 'green', '--until', '2099-01-01T00:00:00Z'));
    succeeded(await run('circle', 'invite', CIRCLE, '--org', BANK, '--role', 'contributor'));
    succeeded(await run('circle', 'propose', CIRCLE, '--terms', file('terms.json', JSON.stringify(SIGHTING_EVIDENCE_TERMS))));
    succeeded(await run('circle', 'accept', CIRCLE, '--org', BANK));
    const indicator = {
      type: 'indicator', spec_version: '2.1', id: INDICATOR, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
      pattern: "[ipv4-addr:value = '198.51.100.77']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
      object_marking_refs: [TLP2_MARKING_IDS.green],
    };
    succeeded(await run('import', file('indicator.json', JSON.stringify(indicator)), '--collection', CIRCLE));
  });

  it("refuses a circle's collection as --sightings-collection: the agreement, not a flag, decides what a circle gets", async () => {
    const log = file('one.jsonl', JSON.stringify({ type: 'ipv4-addr', value: '198.51.100.77' }) + '\n');
    const refused = await run('match', log, '--sightings-collection', CIRCLE);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /ENT_CLI_USAGE: --sightings-collection evidence-circle carries circle evidence-circle/);
  });

  it('puts a copy with its evidence in the circle, which the member receives signed, and the home sighting of an indicator held by the circle alone in the home sightings collection', async () => {
    const log = file('flows.jsonl', JSON.stringify([{ type: 'ipv4-addr', value: INTERNAL_IP }, { type: 'ipv4-addr', value: '198.51.100.77' }]) + '\n');
    const matched = succeeded(await run('match', log));
    // The circle's collection is the only one holding the indicator: an unmarked home sighting there would
    // go to the members whatever sighting_sharing says, and beside other indicators to readers who may not
    // read this one. It is kept in the home sightings collection, which no token reads unless granted it.
    assert.match(matched.stderr, /1 sightings stored, 1 shared into circles/);
    const home = JSON.parse(succeeded(await run('export', '--collection', 'home-sightings')).stdout) as { objects: Stix[] };
    assert.deepEqual(home.objects.filter((object) => object.type === 'sighting').map((object) => object['sighting_of_ref']), [INDICATOR]);
    const defaultObjects = JSON.parse(succeeded(await run('export', '--collection', 'default')).stdout) as { objects: Stix[] };
    assert.ok(!defaultObjects.objects.some((object) => object.type === 'sighting' || object.type === 'observed-data'), 'nothing in the default collection');

    const bundle = JSON.parse(succeeded(await run('export', '--collection', CIRCLE)).stdout) as { objects: Stix[] };
    const sighting = bundle.objects.find((object) => object.type === 'sighting');
    assert.ok(sighting !== undefined, 'the circle holds a sighting');
    assert.equal(sighting['sighting_of_ref'], INDICATOR);
    assert.deepEqual(sighting['object_marking_refs'], [TLP2_MARKING_IDS.green], 'GREEN indicator, GREEN circle default');
    const observed = bundle.objects.find((object) => object.id === (sighting['observed_data_refs'] as string[] | undefined)?.[0]);
    assert.ok(observed !== undefined, 'evidence: the observed-data is in the circle too');
    assert.ok(bundle.objects.some((object) => object.type === 'ipv4-addr' && object['value'] === INTERNAL_IP), 'and the observables it names');
    assert.ok(bundle.objects.some((object) => object.id === (sighting['where_sighted_refs'] as string[])[0] && object.type === 'identity'), 'and the identity it names');

    const released = JSON.parse(succeeded(await run('export', '--collection', CIRCLE, '--for', BANK)).stdout) as { objects: Stix[] };
    const received = released.objects.find((object) => object.type === 'sighting');
    assert.ok(received !== undefined, 'the release decision lets the member have it');
    assert.ok(released.objects.some((object) => object.id === observed.id));
    const signature = (received['extensions'] as Record<string, { signer?: string }> | undefined)?.[SIGNATURE_EXTENSION_ID];
    assert.equal(signature?.signer, sighting['created_by_ref'], "signed by this node's key for the home organisation");
  });
});
