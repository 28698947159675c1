// Publishing a draft adds objects to one collection only. What the node keeps elsewhere (a home-only
// collection, another circle) never rides along: not an SCO with the same deterministic id, not the
// node's own version of an ATT&CK technique, nor the signature another organisation put on a public
// one. The report still names what the analyst accepted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { authorization, HOME, ORG, startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
import { TAXII } from '../taxii/taxii-test-kit.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { scoId } from '../../src/stix/ids.ts';
import type { JsonValue, StixObject } from '../../src/stix/types.ts';
import { ententeSignatureOf } from '../../src/stix/entente-signature.ts';
import { signObject } from '../../src/federation/sign-object.ts';
import { testOrganisation } from '../../src/federation/test-support.ts';
import { expectStatus, proposeWideCircle } from './draft-kit.ts';

const WEB_PROTOCOLS = 'attack-pattern--df8b2a25-8bdf-4856-953c-a04372b1c161'; // T1071.001, in the shipped catalogue
const SECRET = 'VPN egress of our CFO laptop, do not share';

function idOf(type: string, properties: Record<string, string>): string {
  const id = scoId(type, properties);
  assert.ok(id.ok);
  return id.value;
}

/** Every latest version the collection holds, as stored (not as any reader would receive it). */
async function held(node: CircleApiNode, collectionId: string): Promise<StixObject[]> {
  const page = await node.store.listEntries(collectionId, {}, { limit: 1000 });
  return page.entries.map((entry) => JSON.parse(entry.json) as StixObject);
}

async function bankReads(node: CircleApiNode): Promise<StixObject[]> {
  const response = expectStatus(await node.app.inject({ method: 'GET', url: '/taxii2/api/collections/wide/objects/', headers: { authorization: authorization('bank'), accept: TAXII } }), 200);
  return response.json<{ objects?: StixObject[] }>().objects ?? [];
}

async function publishText(node: CircleApiNode, text: string, target: Record<string, string>): Promise<{ report: StixObject; objects: StixObject[]; warnings: string[] }> {
  const made = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text }), 201).json<{ id: string; items: { id: string }[] }>();
  for (const item of made.items) expectStatus(await node.call('analyst', 'POST', `/api/drafts/${made.id}/items/${item.id}`, { decision: 'accept' }), 200);
  return expectStatus(await node.call('admin', 'POST', `/api/drafts/${made.id}/publish`, target), 201).json();
}

describe('a draft publication copies nothing the node keeps in another collection', () => {
  let node: CircleApiNode;
  before(async () => {
    node = await startCircleApiNode(['wide']);
    await proposeWideCircle(node, ['bank'], ['report', 'indicator', 'relationship', 'ipv4-addr', 'domain-name', 'attack-pattern', 'identity']);
    expectStatus(await node.call('bank', 'POST', '/api/circles/wide/accept', { version: 1 }), 200);
    // A home-only collection (no circle): the same IP with a note for the home team, and the home's
    // own annotated version of a public ATT&CK technique.
    await node.store.createCollection({ id: 'internal', title: 'internal' }, new Date());
    await node.store.addObjects('internal', [
      { type: 'ipv4-addr', spec_version: '2.1', id: idOf('ipv4-addr', { value: '45.77.12.9' }), value: '45.77.12.9', x_internal_note: SECRET },
      {
        type: 'attack-pattern',
        spec_version: '2.1',
        id: WEB_PROTOCOLS,
        created: '2020-03-15T16:16:25.763Z',
        modified: '2026-11-01T00:00:00.000Z',
        created_by_ref: HOME,
        name: 'Web Protocols',
        description: `Seen on our network: ${SECRET}`,
        kill_chain_phases: [{ kill_chain_name: 'home-playbook', phase_name: 'cfo-laptop' }],
        x_internal_note: SECRET,
      },
    ]);
  });
  after(() => node.close());

  it('publishes the indicator and its own SCO, not the copy of that SCO another collection holds with a private note', async () => {
    const ip = idOf('ipv4-addr', { value: '45.77.12.9' });
    const outcome = await publishText(node, '# Dusk\nThe loader called 45.77.12.9 and dusk-c2[.]net.\n', { circle: 'wide', tlp: 'green' });
    const wide = await held(node, 'wide');
    assert.equal(JSON.stringify(wide).includes(SECRET), false, 'nothing of the internal note reaches the circle\'s collection');
    assert.equal(JSON.stringify(await bankReads(node)).includes(SECRET), false);
    const indicator = wide.find((object) => object.type === 'indicator' && object['pattern'] === "[ipv4-addr:value = '45.77.12.9']");
    assert.ok(indicator !== undefined, 'the indicator is published all the same');
    // Each content of an SCO is a version of its own: the circle gets the SCO the draft built, beside
    // which the internal copy is another version, never released here.
    assert.deepEqual(wide.filter((object) => object.id === ip), [{ type: 'ipv4-addr', spec_version: '2.1', id: ip, value: '45.77.12.9', object_marking_refs: [TLP2_MARKING_IDS.green] }]);
    assert.ok((outcome.report['object_refs'] as string[]).includes(ip));
    assert.deepEqual(outcome.warnings, []);
    // The other value's SCO is the one built from the draft, marked with the publication's TLP.
    const domain = wide.find((object) => object.type === 'domain-name');
    assert.deepEqual(domain, { type: 'domain-name', spec_version: '2.1', id: idOf('domain-name', { value: 'dusk-c2.net' }), value: 'dusk-c2.net', object_marking_refs: [TLP2_MARKING_IDS.green] });
    for (const ref of outcome.report['object_refs'] as string[]) assert.ok(wide.some((object) => object.id === ref), `${ref} is in the circle's collection`);
    // The internal collection is as it was.
    const internal = await held(node, 'internal');
    assert.equal(internal.find((object) => object.id === ip)?.['x_internal_note'], SECRET);
  });

  it('refers to an ATT&CK technique by id when the node holds only its own version of it elsewhere', async () => {
    const outcome = await publishText(node, '# Owl\nThe operators beaconed over HTTPS (T1071.001) to dusk-c2[.]org.\n', { circle: 'wide', tlp: 'green' });
    const wide = await held(node, 'wide');
    assert.equal(JSON.stringify(wide).includes(SECRET), false);
    assert.equal(JSON.stringify(wide).includes('cfo-laptop'), false, 'no kill-chain phase read from the private version');
    assert.equal(wide.some((object) => object.id === WEB_PROTOCOLS), false, 'the home\'s version of the technique stays home');
    assert.ok((outcome.report['object_refs'] as string[]).includes(WEB_PROTOCOLS), 'the report names the technique by its public id');
    const bank = await bankReads(node);
    assert.equal(JSON.stringify(bank).includes(SECRET), false);
    const report = bank.find((object) => object.id === outcome.report.id);
    assert.ok((report?.['object_refs'] as string[] | undefined)?.includes(WEB_PROTOCOLS), 'a member still reads the reference to the public technique');
  });

  it('publishes an SCO that another collection holds with exactly the content this publication builds', async () => {
    const value = '45.77.12.77';
    const ip = idOf('ipv4-addr', { value });
    await publishText(node, `# First\nThe loader called ${value}.\n`, { collection: 'internal', tlp: 'green' });
    const outcome = await publishText(node, `# Second\nThe dropper called ${value} again.\n`, { circle: 'wide', tlp: 'green' });
    const wide = await held(node, 'wide');
    assert.ok(wide.some((object) => object.id === ip));
    assert.ok((outcome.report['object_refs'] as string[]).includes(ip));
    assert.deepEqual(outcome.warnings, []);
  });

  it("publishes the SCO it builds, not a partner's content of that SCO in the circle's own collection", async () => {
    const value = 'dusk-c2.info';
    const domain = idOf('domain-name', { value });
    // A member planted the same value in the circle's collection with a property of its own: the
    // home's report must not vouch for what the member says the domain resolves to.
    const plant: StixObject = { type: 'domain-name', spec_version: '2.1', id: domain, value, resolves_to_refs: [idOf('ipv4-addr', { value: '198.51.100.66' })] };
    await node.store.addObjects('wide', [plant], undefined, ORG.bank);
    const outcome = await publishText(node, '# Wren\nThe loader called dusk-c2[.]info.\n', { circle: 'wide', tlp: 'green' });
    const built = { type: 'domain-name', spec_version: '2.1', id: domain, value, object_marking_refs: [TLP2_MARKING_IDS.green] };
    assert.ok((outcome.report['object_refs'] as string[]).includes(domain));
    const wide = (await node.store.listEntries('wide', { ids: [domain], versions: [{ kind: 'all' }] }, { limit: 10 })).entries.map((entry) => JSON.parse(entry.json) as StixObject);
    assert.equal(wide.length, 2, 'the home\'s content is stored beside the plant, as a version of its own');
    assert.ok(wide.some((object) => isDeepStrictEqual(object, plant)));
    assert.ok(wide.some((object) => isDeepStrictEqual(object, built)));
  });
});

describe('an ATT&CK object copied from another collection carries no one\'s signature', () => {
  const X = testOrganisation(7);
  let node: CircleApiNode;
  before(async () => {
    node = await startCircleApiNode(['wide']);
    await proposeWideCircle(node, ['bank'], ['report', 'indicator', 'relationship', 'ipv4-addr', 'domain-name', 'attack-pattern', 'identity']);
    expectStatus(await node.call('bank', 'POST', '/api/circles/wide/accept', { version: 1 }), 200);
    // Another collection holds the technique exactly as MITRE publishes it, as another organisation signed it.
    await node.store.createCollection({ id: 'other', title: 'other' }, new Date());
    const asMitre = { type: 'attack-pattern', spec_version: '2.1', id: WEB_PROTOCOLS, created: '2020-03-15T16:16:25.763Z', modified: '2020-03-15T16:16:25.763Z', name: 'Web Protocols' };
    await node.store.addObjects('other', [signObject(asMitre as StixObject, X.signer)]);
  });
  after(() => node.close());

  it('publishes the public technique without the signature another collection\'s copy carries: a member cannot tell who else sent it', async () => {
    const outcome = await publishText(node, '# Owl\nThe operators beaconed over HTTPS (T1071.001) to dusk-c2[.]org.\n', { circle: 'wide', tlp: 'green' });
    assert.ok((outcome.report['object_refs'] as string[]).includes(WEB_PROTOCOLS));
    const copy = (await held(node, 'wide')).find((object) => object.id === WEB_PROTOCOLS);
    assert.ok(copy !== undefined, 'the public technique is published');
    assert.equal(ententeSignatureOf(copy as JsonValue), undefined, 'stored in the circle\'s collection unsigned');
    const read = (await bankReads(node)).find((object) => object.id === WEB_PROTOCOLS);
    assert.ok(read !== undefined);
    assert.equal(JSON.stringify(read).includes(X.id), false, 'the member reads no trace of the other organisation');
  });
});
