/**
 * A writer must not learn what the node holds where it cannot read. SCO ids are derived from their
 * values (a writer can compute the id of any address), so the answer to posting an SCO must not
 * depend on whether some other collection holds that observable, in whichever form.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { scoId } from '../../src/stix/ids.ts';
import { contentVersionOf } from '../../src/stix/versions.ts';
import { ENTENTE_SIGNATURE_EXTENSION_ID } from '../../src/stix/entente-signature.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { API, ADD_TEST, bearer, SECRET, startTestNode, TAXII, type TestNode } from './taxii-test-kit.ts';

const RED = 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1';

function address(value: string, overrides: Record<string, unknown> = {}): StixObject {
  // The id STIX 2.1 derives from the value: the validator checks a UUIDv5 SCO id against it.
  const id = scoId('ipv4-addr', { value });
  assert.ok(id.ok);
  return { type: 'ipv4-addr', spec_version: '2.1', id: id.value, value, ...overrides } as StixObject;
}

interface Status {
  status: string;
  total_count: number;
  success_count: number;
  failure_count: number;
  pending_count: number;
  successes?: { id: string; version: string }[];
  failures?: { id: string; version: string; message?: string }[];
}

describe('SCO content versions: what a writer learns by posting an SCO', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ empty: true });
  });
  after(async () => {
    await node.close();
  });

  function post(collectionId: string, objects: StixObject[], token: 'analyst' | 'admin' = 'analyst'): Promise<LightMyRequestResponse> {
    return node.app.inject({
      method: 'POST',
      url: `${API}collections/${collectionId}/objects/`,
      headers: { ...bearer(token), 'content-type': TAXII },
      payload: { objects },
    });
  }

  async function readBack(collectionId: string, id: string, token: 'analyst' | 'admin' = 'analyst'): Promise<unknown[]> {
    const response = await node.app.inject({ method: 'GET', url: `${API}collections/${collectionId}/objects/?match[id]=${id}&match[version]=all`, headers: bearer(token) });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ objects?: unknown[] }>().objects ?? [];
  }

  /** The parts of a status that may differ from one request to the next. */
  function shape(status: Status): unknown {
    return { ...status, id: undefined, request_timestamp: undefined };
  }

  it('answers alike whether or not a collection the writer cannot read holds the SCO with other content', async () => {
    const held = address('203.0.113.10', { object_marking_refs: [RED] });
    assert.equal((await post(SECRET, [held], 'admin')).statusCode, 202);

    const probe = address('203.0.113.10');
    const control = address('203.0.113.11');
    const probed = await post(ADD_TEST, [probe]);
    const controlled = await post(ADD_TEST, [control]);
    assert.equal(probed.statusCode, controlled.statusCode);
    const probedStatus = probed.json<Status>();
    assert.deepEqual(shape(probedStatus), shape({ ...controlled.json<Status>(), successes: [{ id: probe.id, version: contentVersionOf(probe) }] }));
    assert.equal(probedStatus.failure_count, 0);
    assert.deepEqual(probedStatus.successes, [{ id: probe.id, version: contentVersionOf(probe) }]);

    // Each collection serves its own content: the writer's copy carries no marking it did not send,
    // and the held copy is untouched.
    assert.deepEqual(await readBack(ADD_TEST, probe.id), [probe]);
    assert.deepEqual(await readBack(SECRET, held.id, 'admin'), [held]);
  });

  function signedBy(object: StixObject, signer: string, signature: string): StixObject {
    const extension = { extension_type: 'property-extension', algorithm: 'Ed25519', signer, key_id: 'AAAAAAAAAAAAAAAAAAAAAA', signature };
    return { ...object, extensions: { [ENTENTE_SIGNATURE_EXTENSION_ID]: extension } };
  }

  it("serves each collection its own copy of a shared version: never another holder's signature", async () => {
    const unsigned = address('203.0.113.12');
    const signedElsewhere = signedBy(unsigned, 'identity--7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d', 'c2lnbmVkIGVsc2V3aGVyZQ');
    assert.equal((await post(SECRET, [signedElsewhere], 'admin')).statusCode, 202);
    const status = (await post(ADD_TEST, [unsigned])).json<Status>();
    assert.equal(status.success_count, 1);
    assert.deepEqual(await readBack(ADD_TEST, unsigned.id), [unsigned]);
    assert.deepEqual(await readBack(SECRET, unsigned.id, 'admin'), [signedElsewhere]);
    const page = await node.app.inject({ method: 'GET', url: `${API}collections/${ADD_TEST}/objects/`, headers: bearer('analyst') });
    assert.doesNotMatch(page.body, /7a1c2d3e/, 'the page of the whole collection (its texts joined by the store) carries no foreign signature');
  });

  it('serves a copy signed otherwise with its own signature, and a signed copy after an unsigned one signed', async () => {
    const indicatorOf = (n: number): StixObject => ({
      type: 'indicator', spec_version: '2.1', id: `indicator--7e1d9f0a-0000-4000-8000-00000000000${n}`, created: '2026-03-01T00:00:00.000Z', modified: '2026-03-01T00:00:00.000Z', name: `Shared beacon ${n}`,
      pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-03-01T00:00:00Z',
    } as StixObject);
    const first = signedBy(indicatorOf(1), 'identity--00000000-0000-4000-8000-0000000000a1', 'Zmlyc3Q');
    const second = signedBy(indicatorOf(1), 'identity--00000000-0000-4000-8000-0000000000b2', 'c2Vjb25k');
    assert.equal((await post(SECRET, [first], 'admin')).statusCode, 202);
    assert.equal((await post(ADD_TEST, [second])).json<Status>().success_count, 1);
    assert.deepEqual(await readBack(ADD_TEST, second.id), [second]);

    const plain = indicatorOf(2);
    const signed = signedBy(plain, 'identity--00000000-0000-4000-8000-0000000000a1', 'dGhpcmQ');
    assert.equal((await post(SECRET, [plain], 'admin')).statusCode, 202);
    assert.equal((await post(ADD_TEST, [signed])).json<Status>().success_count, 1);
    assert.deepEqual(await readBack(ADD_TEST, signed.id), [signed]);
    assert.deepEqual(await readBack(SECRET, plain.id, 'admin'), [plain]);
    const found = await node.app.inject({ method: 'GET', url: '/api/search?q=beacon', headers: { authorization: bearer('analyst').authorization ?? '' } });
    assert.equal(found.statusCode, 200, found.body);
    assert.match(found.body, /c2Vjb25k/, 'search finds the copy the analyst wrote');
    assert.doesNotMatch(found.body, /Zmlyc3Q/, "search serves the analyst's copy, not the one held where it cannot read");
  });
});
