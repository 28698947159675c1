// The end of the story: what an analyst publishes from a draft reaches the circle's members that
// accepted its terms, through the ordinary TAXII read path and release decision, and no one else.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authorization, startCircleApiNode, type CircleApiNode, type Caller } from '../api/circle-api-kit.ts';
import { TAXII } from '../taxii/taxii-test-kit.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { expectStatus, proposeWideCircle } from './draft-kit.ts';

async function circleObjects(node: CircleApiNode, caller: Caller): Promise<{ status: number; objects: StixObject[] }> {
  const response = await node.app.inject({ method: 'GET', url: '/taxii2/api/collections/wide/objects/', headers: { authorization: authorization(caller), accept: TAXII } });
  return { status: response.statusCode, objects: response.statusCode === 200 ? (response.json<{ objects?: StixObject[] }>().objects ?? []) : [] };
}

describe('a published draft in its circle', () => {
  let node: CircleApiNode;
  before(async () => {
    node = await startCircleApiNode(['wide']);
    await proposeWideCircle(node, ['bank', 'ngo'], ['report', 'indicator', 'relationship', 'ipv4-addr', 'domain-name']);
    expectStatus(await node.call('bank', 'POST', '/api/circles/wide/accept', { version: 1 }), 200);
    // The NGO is a member but has not accepted the terms: it receives nothing.
  });
  after(() => node.close());

  it('reaches the members that accepted the terms, with its TLP, and no one else', async () => {
    const made = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text: '# Dusk\nThe loader called 45.77.12.9 and dusk-c2[.]net.\n' }), 201).json<{ id: string; items: { id: string }[] }>();
    for (const item of made.items) expectStatus(await node.call('analyst', 'POST', `/api/drafts/${made.id}/items/${item.id}`, { decision: 'accept' }), 200);
    const published = expectStatus(await node.call('admin', 'POST', `/api/drafts/${made.id}/publish`, { circle: 'wide', tlp: 'green' }), 201);
    assert.deepEqual(published.json<{ warnings: string[] }>().warnings, [], 'everything published is within the terms');

    const bank = await circleObjects(node, 'bank');
    assert.equal(bank.status, 200);
    const patterns = bank.objects.filter((object) => object.type === 'indicator').map((object) => object['pattern']).sort();
    assert.deepEqual(patterns, ["[domain-name:value = 'dusk-c2.net']", "[ipv4-addr:value = '45.77.12.9']"]);
    assert.ok(bank.objects.some((object) => object.type === 'report'));

    const ngo = await circleObjects(node, 'ngo');
    assert.equal(ngo.objects.length, 0, 'a member that has not accepted the terms receives nothing');
    const stranger = await circleObjects(node, 'stranger');
    assert.equal(stranger.objects.length, 0);
  });

  it('says what the terms keep from the members: a TLP above their ceiling, types out of their scope', async () => {
    const made = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text: '# Dawn\nThe loader exploited CVE-2026-12345 from 45.77.12.10.\n' }), 201).json<{ id: string; items: { id: string }[] }>();
    for (const item of made.items) expectStatus(await node.call('analyst', 'POST', `/api/drafts/${made.id}/items/${item.id}`, { decision: 'accept' }), 200);
    const published = expectStatus(await node.call('admin', 'POST', `/api/drafts/${made.id}/publish`, { circle: 'wide', tlp: 'red' }), 201);
    const warnings = published.json<{ warnings: string[] }>().warnings;
    assert.equal(warnings.length, 2, JSON.stringify(warnings));
    assert.match(warnings[0] ?? '', /TLP:RED is above the highest TLP of circle wide's terms \(TLP:AMBER\)/);
    assert.match(warnings[1] ?? '', /leave out vulnerability \(1\)/);
    // Stored in the circle's collection all the same: the terms decide at each read, so a later
    // version that allows them releases them, and the publisher is told so rather than "no one, ever".
    for (const warning of warnings) assert.match(warning, /a later version of the terms that allows (it|them) releases (it|them) to the members bound by it/);
    const bank = await circleObjects(node, 'bank');
    assert.equal(bank.objects.some((object) => object['pattern'] === "[ipv4-addr:value = '45.77.12.10']"), false, 'RED above the ceiling reaches no one');
  });
});
