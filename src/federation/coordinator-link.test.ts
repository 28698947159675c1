import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Circle, CircleMember } from '../policy/circle.ts';
import type { NodeKeyRecord, PeerRecord } from '../store/federation-store.ts';
import { acceptanceKeysOf, decideCircleHolding, refreshesMirror } from './coordinator-link.ts';

const HOME = 'identity--0a000000-0000-4000-8000-000000000001';
const CERT = 'identity--0b000000-0000-4000-8000-000000000002';
const OTHER = 'identity--0c000000-0000-4000-8000-000000000003';
const NOW = new Date('2026-06-01T00:00:00.000Z');

const member = (organisationId: string, role: CircleMember['role'], leftAt?: string): CircleMember => ({
  organisationId,
  role,
  joinedAt: '2026-02-01T00:00:00.000Z',
  trial: false,
  ...(leftAt === undefined ? {} : { leftAt }),
});

function circle(members: readonly CircleMember[]): Circle {
  return { id: 'wide', name: 'Wide', kind: 'tacit', visibility: 'open', collectionId: 'wide', defaultTlp: 'amber', validFrom: '2026-02-01T00:00:00.000Z', validUntil: '2026-12-31T00:00:00.000Z', members };
}

function peer(name: string, organisationId: string, overrides: Partial<PeerRecord> = {}): PeerRecord {
  return {
    name,
    url: 'https://taxii.example/taxii2/',
    apiRootUrl: 'https://taxii.example/taxii2/api/',
    token: 'secret',
    circleId: 'wide',
    localCollectionId: 'wide',
    remoteCollectionId: 'wide',
    organisationId,
    kind: 'entente',
    push: false,
    intervalSeconds: 300,
    silentAfter: 3,
    createdAt: '2026-02-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('decideCircleHolding', () => {
  const mirrored = circle([member(CERT, 'coordinator'), member(HOME, 'contributor')]);

  it('acts here on a circle this node coordinates, or does not hold', () => {
    assert.deepEqual(decideCircleHolding(undefined, [], HOME, NOW), { kind: 'here' });
    const own = circle([member(HOME, 'coordinator'), member(CERT, 'coordinator')]);
    assert.deepEqual(decideCircleHolding(own, [peer('cert', CERT)], HOME, NOW), { kind: 'here' }, 'a co-coordinated circle is never a mirror');
  });

  it("acts through the Entente peer of the circle whose organisation coordinates it now (the first by name)", () => {
    const links = [peer('z-cert', CERT), peer('a-cert', CERT), peer('other', OTHER), peer('plain', CERT, { kind: 'plain' }), peer('elsewhere', CERT, { circleId: 'narrow' })];
    const holding = decideCircleHolding(mirrored, links, HOME, NOW);
    assert.equal(holding.kind, 'mirrored');
    assert.equal(holding.kind === 'mirrored' ? holding.peer.name : undefined, 'a-cert');
  });

  it('says a circle coordinated elsewhere has no link when no such peer exists', () => {
    assert.deepEqual(decideCircleHolding(mirrored, [peer('plain', CERT, { kind: 'plain' }), peer('other', OTHER)], HOME, NOW), { kind: 'unlinked', coordinatorIds: [CERT] });
    const gone = circle([member(CERT, 'coordinator', '2026-03-01T00:00:00.000Z'), member(HOME, 'contributor')]);
    assert.deepEqual(decideCircleHolding(gone, [peer('cert', CERT)], HOME, NOW), { kind: 'here' }, 'no coordinator left to ask');
  });
});

describe('refreshesMirror', () => {
  it('refreshes the mirror until this node has left the circle', () => {
    const link = peer('cert', CERT);
    assert.equal(refreshesMirror(circle([member(CERT, 'coordinator'), member(HOME, 'contributor')]), link, HOME, NOW), true);
    assert.equal(refreshesMirror(circle([member(CERT, 'coordinator'), member(HOME, 'contributor', '2026-05-01T00:00:00.000Z')]), link, HOME, NOW), false);
    assert.equal(refreshesMirror(circle([member(CERT, 'coordinator'), member(HOME, 'contributor', '2026-07-01T00:00:00.000Z')]), link, HOME, NOW), true, 'leaves later');
    assert.equal(refreshesMirror(circle([member(HOME, 'coordinator'), member(CERT, 'coordinator')]), link, HOME, NOW), false);
  });
});

describe('acceptanceKeysOf', () => {
  it('sends the newest eight keys, as the node identity lists them, never the private key', () => {
    const keys: NodeKeyRecord[] = Array.from({ length: 10 }, (_, index) => ({
      keyId: `key-${index}`,
      publicKey: `public-${index}`,
      privateKey: 'PRIVATE',
      validFrom: new Date(Date.UTC(2026, 0, 10 - index)).toISOString(),
      validUntil: index === 0 ? undefined : new Date(Date.UTC(2026, 0, 11 - index)).toISOString(),
      rotationStatement: undefined,
      createdAt: '2026-01-01T00:00:00.000Z',
    }));
    const sent = acceptanceKeysOf(keys);
    assert.deepEqual(sent.map((key) => key['key_id']), ['key-7', 'key-6', 'key-5', 'key-4', 'key-3', 'key-2', 'key-1', 'key-0']);
    assert.deepEqual(sent.at(-1), { key_id: 'key-0', public_key: 'public-0', valid_from: '2026-01-10T00:00:00.000Z' });
    assert.ok(!JSON.stringify(sent).includes('PRIVATE'));
  });
});
