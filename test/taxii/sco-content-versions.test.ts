/**
 * A writer must not learn what the node holds where it cannot read. SCO ids are derived from their
 * values (a writer can compute the id of any address), so the answer to posting an SCO must not
 * depend on whether some other collection holds that observable, in whichever form.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { contentVersionOf } from '../../src/stix/versions.ts';
import { ENTENTE_SIGNATURE_EXTENSION_ID } from '../../src/stix/entente-signature.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { API, ADD_TEST, bearer, SECRET, startTestNode, TAXII, type TestNode } from './taxii-test-kit.ts';

const RED = 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1';

function address(value: string, overrides: Record<string, unknown> = {}): StixObject {
  // The id is a fixed UUIDv5 per test value; the store does not recompute it.
  const ids: Record<string, string> = {
    '203.0.113.10': 'ipv4-addr--5d1b4f0e-2c77-5d6b-9f3b-1f0c2a8e6a10',
    '203.0.113.11': 'ipv4-addr--5d1b4f0e-2c77-5d6b-9f3b-1f0c2a8e6a11',
    '203.0.113.12': 'ipv4-addr--5d1b4f0e-2c77-5d6b-9f3b-1f0c2a8e6a12',
  };
  return { type: 'ipv4-addr', spec_version: '2.1', id: ids[value] ?? '', value, ...overrides } as StixObject;
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

  // Known gap (closing note): a version row keeps the text of its first copy, Entente signature
  // included, and every collection holding that version serves that text. Closing it needs the
  // signatures of received copies kept per collection instead of inside the shared row.
  it('serves the writer the text it sent, not another holder\'s signed copy of the same content', { todo: 'per-collection signatures of shared version rows' }, async () => {
    const signedElsewhere = address('203.0.113.12', {
      extensions: {
        [ENTENTE_SIGNATURE_EXTENSION_ID]: {
          extension_type: 'property-extension',
          algorithm: 'Ed25519',
          signer: 'identity--7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
          key_id: 'AAAAAAAAAAAAAAAAAAAAAA',
          signature: 'c2lnbmVkIGVsc2V3aGVyZQ',
        },
      },
    });
    assert.equal((await post(SECRET, [signedElsewhere], 'admin')).statusCode, 202);
    const probe = address('203.0.113.12');
    const status = (await post(ADD_TEST, [probe])).json<Status>();
    assert.equal(status.success_count, 1);
    assert.deepEqual(await readBack(ADD_TEST, probe.id), [probe]);
  });
});
