// `entente match` compiles the newest version of an indicator of each creator across the collections it
// reads (load-indicators.ts, `newest`), as the node's matcher suppresses an alert only for a newer
// version by the same creator (node-matcher.ts): only its creator versions an object (STIX 2.1). Circle
// beta holds a "newer version" of the bank's indicator id written by another organisation (anyone who
// may write beta's collection can put one there): it must not stop the bank's version from alerting.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { cliWorkspace, succeeded } from './cli-kit.ts';
import { type Stix } from './match-kit.ts';

const BANK = 'identity--0b000000-0000-4000-8000-00000000000b';
const PLANTER = 'identity--0c000000-0000-4000-8000-00000000000c';
const INDICATOR = 'indicator--5e000000-0000-4000-8000-000000000003';
const GENUINE_IP = '198.51.100.79';
const PLANTED_IP = '192.0.2.79';
const REVISED_IP = '203.0.113.79';



function indicator(modified: string, ip: string, creator: string): Stix {
  return {
    type: 'indicator', spec_version: '2.1', id: INDICATOR, created: '2026-01-01T00:00:00.000Z', modified, created_by_ref: creator,
    pattern: `[ipv4-addr:value = '${ip}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.green],
  };
}

describe('entente match: a newer version by another creator is compiled beside the genuine one', () => {
  const { run, file, remove } = cliWorkspace('match-creator-version');
  /** The observables `entente match` alerts on, reading every collection. */
  const alertedOn = async (...ips: string[]): Promise<string[]> => {
    const flows = file('flows.jsonl', ips.map((value) => JSON.stringify({ type: 'ipv4-addr', value })).join('\n') + '\n');
    const matched = succeeded(await run('match', flows, '--no-store'));
    const alerts = matched.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { indicator_id: string; observable: unknown });
    assert.ok(alerts.every((alert) => alert.indicator_id === INDICATOR));
    return alerts.map((alert) => JSON.stringify(alert.observable)).sort();
  };
  after(() => remove());

  before(async () => {
    for (const circle of ['alpha', 'beta']) {
      succeeded(await run('circle', 'create', circle, '--name', circle, '--default-tlp', 'green', '--until', '2099-01-01T00:00:00Z'));
    }
    succeeded(await run('import', file('genuine.json', JSON.stringify(indicator('2026-02-01T00:00:00.000Z', GENUINE_IP, BANK))), '--collection', 'alpha'));
    succeeded(await run('import', file('planted.json', JSON.stringify(indicator('2026-03-01T00:00:00.000Z', PLANTED_IP, PLANTER))), '--collection', 'beta'));
  });

  it("alerts on the genuine version's value, and on the plant's", async () => {
    const alerted = await alertedOn(GENUINE_IP, PLANTED_IP);
    assert.equal(alerted.length, 2);
    assert.ok(alerted.some((observable) => observable.includes(GENUINE_IP)), alerted.join(' '));
    assert.ok(alerted.some((observable) => observable.includes(PLANTED_IP)), alerted.join(' '));
  });

  it('a newer version by the same creator still replaces the genuine one', async () => {
    const revised = indicator('2026-04-01T00:00:00.000Z', REVISED_IP, BANK);
    succeeded(await run('import', file('revised.json', JSON.stringify(revised)), '--collection', 'alpha'));
    const alerted = await alertedOn(GENUINE_IP, PLANTED_IP, REVISED_IP);
    assert.equal(alerted.length, 2);
    assert.ok(!alerted.some((observable) => observable.includes(GENUINE_IP)), alerted.join(' '));
    assert.ok(alerted.some((observable) => observable.includes(REVISED_IP)), alerted.join(' '));
  });
});
