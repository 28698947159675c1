// `entente match` shares a sighting only into the circles whose latest version of the indicator is
// the version that matched (docs/federation.md, "Sightings shared back"), as the running node does.
// Circle beta holds another, older content under the id of the home's indicator in circle alpha
// (anyone who may write beta's collection can put one there): the home's sightings of alpha's
// indicator, with alpha's pattern value as evidence, must not go into beta.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { entente, temporaryDirectory, type CliRun } from './cli-kit.ts';

const BANK = 'identity--0b000000-0000-4000-8000-00000000000b';
const INDICATOR = 'indicator--5e000000-0000-4000-8000-000000000002';
const ALPHA_IP = '198.51.100.78';
const OTHER_IP = '192.0.2.78';

const terms = {
  scope: { types: ['indicator', 'sighting', 'identity', 'observed-data', 'ipv4-addr'] },
  highest_tlp: 'amber',
  onward_sharing: 'none',
  attribution: 'keep',
  expectations: { permitted_actions: 'internally-visible-actions', affected_party_notifications: 'may', provider_attribution: 'may' },
  end_rule: 'retain',
  sighting_sharing: 'evidence',
};

type Stix = Record<string, unknown> & { type: string; id: string };

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return run;
}

function indicator(modified: string, ip: string): Stix {
  return {
    type: 'indicator', spec_version: '2.1', id: INDICATOR, created: '2026-01-01T00:00:00.000Z', modified,
    pattern: `[ipv4-addr:value = '${ip}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.green],
  };
}

describe('entente match shares a sighting only where the version that matched is the latest', () => {
  const dir = temporaryDirectory('match-share-version');
  const data = join(dir.path, 'data');
  const run = (...args: string[]): Promise<CliRun> => entente(data, args);
  const file = (name: string, text: string): string => {
    const path = join(dir.path, name);
    writeFileSync(path, text);
    return path;
  };
  const sightingsIn = async (circle: string): Promise<Stix[]> =>
    (JSON.parse(ok(await run('export', '--collection', circle)).stdout) as { objects: Stix[] }).objects.filter((object) => object.type === 'sighting');
  after(() => dir.remove());

  before(async () => {
    ok(await run('org', 'add', 'Bank', '--kind', 'company', '--id', BANK));
    for (const circle of ['alpha', 'beta']) {
      ok(await run('circle', 'create', circle, '--name', circle, '--default-tlp', 'green', '--until', '2099-01-01T00:00:00Z'));
      ok(await run('circle', 'invite', circle, '--org', BANK, '--role', 'contributor'));
      ok(await run('circle', 'propose', circle, '--terms', file('terms.json', JSON.stringify(terms))));
      ok(await run('circle', 'accept', circle, '--org', BANK));
    }
    ok(await run('import', file('alpha.json', JSON.stringify(indicator('2026-02-01T00:00:00.000Z', ALPHA_IP))), '--collection', 'alpha'));
    ok(await run('import', file('beta.json', JSON.stringify(indicator('2026-01-15T00:00:00.000Z', OTHER_IP))), '--collection', 'beta'));
  });

  it("puts the sighting of alpha's version into alpha only", async () => {
    const matched = ok(await run('match', file('flows.jsonl', JSON.stringify({ type: 'ipv4-addr', value: ALPHA_IP }) + '\n')));
    assert.match(matched.stderr, /1 sightings stored, 1 shared into circles/);
    assert.equal((await sightingsIn('alpha')).length, 1);
    assert.deepEqual(await sightingsIn('beta'), []);
  });
});
