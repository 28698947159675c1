// `entente match` shares a sighting only into the circles whose latest version of the indicator is
// the version that matched (docs/federation.md, "Sightings shared back"), as the running node does.
// Circle beta holds another, older content under the id of the home's indicator in circle alpha
// (anyone who may write beta's collection can put one there): the home's sightings of alpha's
// indicator, with alpha's pattern value as evidence, must not go into beta.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { cliWorkspace, succeeded } from './cli-kit.ts';
import { SIGHTING_EVIDENCE_TERMS, type Stix } from './match-kit.ts';

const BANK = 'identity--0b000000-0000-4000-8000-00000000000b';
const INDICATOR = 'indicator--5e000000-0000-4000-8000-000000000002';
const ALPHA_IP = '198.51.100.78';
const OTHER_IP = '192.0.2.78';




function indicator(modified: string, ip: string): Stix {
  return {
    type: 'indicator', spec_version: '2.1', id: INDICATOR, created: '2026-01-01T00:00:00.000Z', modified,
    pattern: `[ipv4-addr:value = '${ip}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.green],
  };
}

describe('entente match shares a sighting only where the version that matched is the latest', () => {
  const { run, file, remove } = cliWorkspace('match-share-version');
  const sightingsIn = async (circle: string): Promise<Stix[]> =>
    (JSON.parse(succeeded(await run('export', '--collection', circle)).stdout) as { objects: Stix[] }).objects.filter((object) => object.type === 'sighting');
  after(() => remove());

  before(async () => {
    succeeded(await run('org', 'add', 'Bank', '--kind', 'company', '--id', BANK));
    for (const circle of ['alpha', 'beta']) {
      succeeded(await run('circle', 'create', circle, '--name', circle, '--default-tlp', 'green', '--until', '2099-01-01T00:00:00Z'));
      succeeded(await run('circle', 'invite', circle, '--org', BANK, '--role', 'contributor'));
      succeeded(await run('circle', 'propose', circle, '--terms', file('terms.json', JSON.stringify(SIGHTING_EVIDENCE_TERMS))));
      succeeded(await run('circle', 'accept', circle, '--org', BANK));
    }
    succeeded(await run('import', file('alpha.json', JSON.stringify(indicator('2026-02-01T00:00:00.000Z', ALPHA_IP))), '--collection', 'alpha'));
    succeeded(await run('import', file('beta.json', JSON.stringify(indicator('2026-01-15T00:00:00.000Z', OTHER_IP))), '--collection', 'beta'));
  });

  it("puts the sighting of alpha's version into alpha only", async () => {
    const matched = succeeded(await run('match', file('flows.jsonl', JSON.stringify({ type: 'ipv4-addr', value: ALPHA_IP }) + '\n')));
    // Held by circles' collections alone: the home sighting goes into the home sightings collection (in
    // a circle's it would go to the members unmarked), and alpha gets its copy.
    assert.match(matched.stderr, /1 sightings stored, 1 shared into circles/);
    assert.equal((await sightingsIn('alpha')).length, 1);
    assert.deepEqual(await sightingsIn('beta'), []);
    assert.deepEqual((await sightingsIn('home-sightings')).map((sighting) => sighting['sighting_of_ref']), [INDICATOR]);
  });
});
