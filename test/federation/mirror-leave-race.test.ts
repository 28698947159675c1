/**
 * The home organisation leaves a mirrored circle (`entente circle leave`, leaveOrForward) while the
 * running node's sync refreshes the mirror: two processes, two connections on one data file. The
 * coordinator's node answers as scripted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { leaveOrForward } from '../../src/federation/coordinator-link.ts';
import { storeCircleMirror } from '../../src/federation/mirror-circle.ts';
import { testOrganisation } from '../../src/federation/test-support.ts';
import type { Circle } from '../../src/policy/circle.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { TaxiiClient } from '../../src/taxii/taxii-client.ts';

const HOME = testOrganisation(50);
const COORDINATOR = testOrganisation(51);
const MEMBER = testOrganisation(52);
const NOW = new Date('2026-06-01T00:00:00.000Z');
const CIRCLE = 'wide';

const member = (organisationId: string, role: 'coordinator' | 'contributor' = 'contributor') => ({ organisationId, role, joinedAt: '2026-01-01T00:00:00.000Z', trial: false });
const circle: Circle = {
  id: CIRCLE, name: 'Wide', kind: 'tacit', visibility: 'open', collectionId: CIRCLE, defaultTlp: 'amber',
  validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2027-01-01T00:00:00.000Z',
  members: [member(COORDINATOR.id, 'coordinator'), member(HOME.id), member(MEMBER.id)],
};

/** The coordinator's node: takes the leave, and says when. */
function coordinatorNode(): TaxiiClient {
  const unused = (): never => {
    throw new Error('not used by a leave');
  };
  return {
    url: 'https://coordinator.example/taxii2/api/',
    discover: unused, apiRoot: unused, collections: unused, collection: unused, getObjects: unused, pages: unused,
    postObjects: unused, getStatus: unused, followStatus: unused, getJson: unused,
    postJson: (path) => {
      assert.equal(path, `/api/circles/${CIRCLE}/leave`);
      return Promise.resolve({ recall_notices_queued: 0, left_at: NOW.toISOString() });
    },
    close: () => undefined,
  };
}

describe('leaving a mirrored circle beside the running node', () => {
  it("records the leave without undoing what the node's mirror refresh wrote between its read and its write", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'entente-leave-race-'));
    const path = join(dir, 'store.db');
    const cli = openSqliteObjectStore({ path });
    const node = openSqliteObjectStore({ path });
    try {
      await cli.createOrganisation({ id: COORDINATOR.id, name: 'CERT A', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: NOW.toISOString() });
      await cli.addPeer({
        name: 'cert-a', url: 'https://coordinator.example/taxii2/', apiRootUrl: 'https://coordinator.example/taxii2/api/', token: 'secret',
        circleId: CIRCLE, localCollectionId: CIRCLE, remoteCollectionId: CIRCLE, organisationId: COORDINATOR.id, kind: 'entente',
        push: false, intervalSeconds: 300, silentAfter: 3, createdAt: NOW.toISOString(),
      });
      await storeCircleMirror({ store: cli, clock: () => NOW, homeOrganisationId: HOME.id }, { circle, agreements: [], acceptances: [], memberKeys: [] }, COORDINATOR.id);

      // The node's refresh records that MEMBER left, once the command line has read the circle.
      const memberLeftAt = '2026-05-31T00:00:00.000Z';
      let raced = false;
      const racing = new Proxy(cli, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver) as unknown;
          if (key !== 'updateCircle') return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          return async (...args: Parameters<ObjectStore['updateCircle']>) => {
            if (!raced) {
              raced = true;
              const held = await node.getCircle(CIRCLE);
              assert.ok(held !== undefined);
              await node.updateCircle({ ...held, members: held.members.map((each) => (each.organisationId === MEMBER.id ? { ...each, leftAt: memberLeftAt } : each)) }, NOW);
            }
            return target.updateCircle(...args);
          };
        },
      });
      const deps = { store: racing, clock: () => NOW, homeOrganisationId: HOME.id, openClient: coordinatorNode };
      const outcome = await leaveOrForward(deps, { organisationId: HOME.id, admin: true }, CIRCLE, HOME.id);
      assert.equal(outcome.forwarded?.refreshError, undefined, 'the leave was recorded here');
      const members = (await cli.getCircle(CIRCLE))?.members ?? [];
      assert.equal(members.find((each) => each.organisationId === HOME.id)?.leftAt, NOW.toISOString(), 'the home left');
      assert.equal(members.find((each) => each.organisationId === MEMBER.id)?.leftAt, memberLeftAt, "the refresh's record of MEMBER's leave stands: nothing more is released to it");
    } finally {
      await node.close();
      await cli.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
