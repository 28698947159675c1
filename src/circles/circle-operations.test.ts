import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEntry } from '../audit/audit-chain.ts';
import { isEntenteError } from '../errors/entente-error.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../store/sqlite/sqlite-object-store.ts';
import {
  acceptAgreement,
  circleView,
  createCircle,
  end,
  invite,
  leave,
  promote,
  proposeAgreement,
  visibleCircles,
  type CircleActor,
  type CircleDeps,
} from './circle-operations.ts';
import { testOrganisation } from '../federation/test-support.ts';

const HOME = 'identity--0a000000-0000-4000-8000-000000000001';
const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const NGO = 'identity--0c000000-0000-4000-8000-000000000003';
const GRID = 'identity--0d000000-0000-4000-8000-000000000004';
const STRANGER = 'identity--0e000000-0000-4000-8000-000000000005';

const admin: CircleActor = { organisationId: HOME, admin: true };
const as = (organisationId: string): CircleActor => ({ organisationId, admin: false });

function terms(endRule: 'retain' | 'recall' = 'recall'): Record<string, unknown> {
  return {
    scope: { types: ['indicator', 'malware'] },
    highest_tlp: 'amber',
    onward_sharing: 'none',
    attribution: 'keep',
    expectations: { permitted_actions: 'internally-visible-actions', affected_party_notifications: 'may', provider_attribution: 'may' },
    end_rule: endRule,
  };
}

/** A release the audit records, made under agreement version `agreementVersion` (null: none bound the recipient). */
function received(n: number, recipient: string, circleId: string, decision: AuditEntry['decision'] = 'share', agreementVersion: number | null = 1): AuditEntry {
  return {
    objectId: `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    objectModified: `2026-01-0${(n % 9) + 1}T00:00:00.000Z`,
    recipientOrganisationId: recipient,
    circleId,
    ...(agreementVersion === null ? {} : { agreementVersion }),
    decision,
    at: '2026-03-10T00:00:00.000Z',
  };
}

async function fails(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isEntenteError(error), `expected ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

describe('circle operations', () => {
  let store: ObjectStore;
  let now: Date;
  let deps: CircleDeps;

  beforeEach(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    now = new Date('2026-03-01T00:00:00.000Z');
    deps = { store, clock: () => now, homeOrganisationId: HOME };
    for (const [id, name] of [[BANK, 'Bank'], [NGO, 'NGO'], [GRID, 'Grid'], [STRANGER, 'Stranger']] as const) {
      await store.createOrganisation({ id, name, kind: 'company', sectors: [], country: undefined, identityJson: '{}', createdAt: now.toISOString() });
    }
    await createCircle(deps, { id: 'grid-2026', name: 'Grid 2026', kind: 'tacit', visibility: 'hidden', default_tlp: 'amber', valid_until: '2026-12-31T00:00:00Z' });
  });
  afterEach(async () => store.close());

  const tick = (ms = 1000): void => {
    now = new Date(now.getTime() + ms);
  };

  describe('createCircle', () => {
    it('creates the circle, coordinated by the home organisation, on a new collection of its own', async () => {
      const circle = await store.getCircle('grid-2026');
      assert.deepEqual(circle?.members, [{ organisationId: HOME, role: 'coordinator', joinedAt: '2026-03-01T00:00:00.000Z', trial: false }]);
      assert.equal((await store.getCollection('grid-2026'))?.title, 'Grid 2026');
      assert.equal((await store.getCircleByCollection('grid-2026'))?.id, 'grid-2026');
    });

    it('reports each malformed field by its path, and never substitutes a default for a wrong value', async () => {
      const base = { id: 'c2', name: 'C2', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2026-12-31T00:00:00Z' };
      await fails(createCircle(deps, [base]), 'ENT_POLICY_CIRCLE_INVALID', /^\$: expected a JSON object/);
      await fails(createCircle(deps, null), 'ENT_POLICY_CIRCLE_INVALID');
      await fails(createCircle(deps, 'grid'), 'ENT_POLICY_CIRCLE_INVALID');
      await fails(createCircle(deps, { ...base, valid_from: 1_767_225_600 }), 'ENT_POLICY_CIRCLE_INVALID', /^\$\.valid_from: expected a string$/);
      await fails(createCircle(deps, { ...base, valid_from: '2026-03-01' }), 'ENT_POLICY_CIRCLE_INVALID', /^\$\.valid_from: must be an RFC 3339/);
      await fails(createCircle(deps, { ...base, members: [{ organisation_id: BANK, role: 'coordinator', joined_at: '2026-01-01T00:00:00Z' }] }), 'ENT_POLICY_CIRCLE_INVALID', /^\$\.members: unknown field/);
      await fails(createCircle(deps, { ...base, default_tlp: 'clear' }), 'ENT_POLICY_CIRCLE_INVALID', /\$\.default_tlp/);
      await fails(createCircle(deps, { ...base, name: 'x'.repeat(100_000) }), 'ENT_POLICY_CIRCLE_INVALID', /^\$\.name: must be 1 to 2048 characters$/);
      await fails(createCircle(deps, { ...base, id: '../../etc' }), 'ENT_POLICY_CIRCLE_INVALID', /^\$\.id:/);
      await fails(createCircle(deps, JSON.parse('{"__proto__": {"x": 1}, "id": "c3"}')), 'ENT_POLICY_CIRCLE_INVALID', /\$\.__proto__: unknown field/);
      assert.deepEqual((await store.listCircles()).map((circle) => circle.id), ['grid-2026']);
      assert.equal(await store.getCollection('c2'), undefined, 'a refused circle leaves no collection behind');
    });

    it('refuses a taken id and a collection that already carries a circle', async () => {
      await fails(createCircle(deps, { id: 'grid-2026', name: 'Again', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2026-12-31T00:00:00Z' }), 'ENT_CIRCLE_EXISTS');
      await fails(
        createCircle(deps, { id: 'other', name: 'Other', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2026-12-31T00:00:00Z', collection_id: 'grid-2026' }),
        'ENT_CIRCLE_COLLECTION_TAKEN',
      );
    });
  });

  describe('who may act', () => {
    beforeEach(async () => {
      await invite(deps, admin, 'grid-2026', { organisationId: BANK, role: 'contributor', trial: false });
      await invite(deps, admin, 'grid-2026', { organisationId: GRID, role: 'coordinator', trial: false });
      await invite(deps, admin, 'grid-2026', { organisationId: NGO, role: 'consumer', trial: true });
      await proposeAgreement(deps, admin, 'grid-2026', terms());
      tick();
    });

    it('hides the circle from a non-member exactly as a circle that does not exist, whatever it asks', async () => {
      const outsider = as(STRANGER);
      for (const circleId of ['grid-2026', 'no-such-circle']) {
        const attempts: Promise<unknown>[] = [
          circleView(deps, outsider, circleId),
          invite(deps, outsider, circleId, { organisationId: STRANGER, role: 'coordinator', trial: false }),
          proposeAgreement(deps, outsider, circleId, terms()),
          acceptAgreement(deps, outsider, circleId, STRANGER),
          acceptAgreement(deps, outsider, circleId, BANK),
          leave(deps, outsider, circleId, STRANGER),
          leave(deps, outsider, circleId, BANK),
          end(deps, outsider, circleId),
          promote(deps, outsider, circleId, STRANGER),
        ];
        for (const attempt of attempts) await fails(attempt, 'ENT_CIRCLE_NOT_FOUND', new RegExp(`^No circle ${circleId}$`));
      }
      assert.deepEqual(await visibleCircles(deps, outsider), []);
    });

    it('lets only coordinators change the circle', async () => {
      for (const member of [BANK, NGO]) {
        await fails(invite(deps, as(member), 'grid-2026', { organisationId: STRANGER, role: 'consumer', trial: false }), 'ENT_CIRCLE_FORBIDDEN');
        await fails(proposeAgreement(deps, as(member), 'grid-2026', terms('retain')), 'ENT_CIRCLE_FORBIDDEN');
        await fails(end(deps, as(member), 'grid-2026'), 'ENT_CIRCLE_FORBIDDEN');
        await fails(promote(deps, as(member), 'grid-2026', NGO), 'ENT_CIRCLE_FORBIDDEN');
      }
      assert.equal((await store.getAgreementState('grid-2026')).agreements.length, 1);
      // A partner coordinator may, and its proposal names it.
      const proposed = await proposeAgreement(deps, as(GRID), 'grid-2026', terms('retain'));
      assert.equal(proposed.proposedBy, GRID);
      assert.equal(proposed.version, 2);
    });

    it('lets a member accept and leave only for itself', async () => {
      await fails(acceptAgreement(deps, as(BANK), 'grid-2026', NGO), 'ENT_CIRCLE_FORBIDDEN');
      await fails(leave(deps, as(BANK), 'grid-2026', NGO), 'ENT_CIRCLE_FORBIDDEN');
      await fails(acceptAgreement(deps, as(GRID), 'grid-2026', BANK), 'ENT_CIRCLE_FORBIDDEN', /cannot accept terms for/);
      assert.deepEqual((await store.getAgreementState('grid-2026')).acceptances, []);
      const accepted = await acceptAgreement(deps, as(BANK), 'grid-2026', BANK);
      assert.deepEqual(accepted, { version: 1, acceptedAt: '2026-03-01T00:00:01.000Z' });
      await fails(acceptAgreement(deps, as(BANK), 'grid-2026', BANK, 7), 'ENT_AGREEMENT_NOT_FOUND');
    });

    it("lets only the node administrator accept and leave for the home organisation, not the home organisation's other tokens", async () => {
      const analyst = as(HOME);
      await fails(acceptAgreement(deps, analyst, 'grid-2026', HOME), 'ENT_CIRCLE_FORBIDDEN', /needs the node administrator's token/);
      await fails(leave(deps, analyst, 'grid-2026', HOME), 'ENT_CIRCLE_FORBIDDEN', /needs the node administrator's token/);
      await fails(acceptAgreement(deps, analyst, 'grid-2026', BANK), 'ENT_CIRCLE_FORBIDDEN', /cannot accept terms for/);
      await fails(invite(deps, analyst, 'grid-2026', { organisationId: STRANGER, role: 'consumer', trial: false }), 'ENT_CIRCLE_FORBIDDEN');
      assert.deepEqual((await store.getAgreementState('grid-2026')).acceptances, []);
      assert.equal((await store.getCircle('grid-2026'))?.members.find((member) => member.organisationId === HOME)?.leftAt, undefined);
      assert.equal((await acceptAgreement(deps, admin, 'grid-2026', HOME)).version, 1);
      assert.ok((await leave(deps, admin, 'grid-2026', HOME)).circle.members.find((member) => member.organisationId === HOME)?.leftAt !== undefined);
    });

    it('refuses an invitation into an ended circle, or of a member, before looking the organisation up', async () => {
      const unregistered = 'identity--0f000000-0000-4000-8000-000000000009';
      await fails(invite(deps, as(GRID), 'grid-2026', { organisationId: BANK, role: 'consumer', trial: false }), 'ENT_CIRCLE_MEMBER_EXISTS');
      await fails(invite(deps, as(GRID), 'grid-2026', { organisationId: unregistered, role: 'consumer', trial: false }), 'ENT_CIRCLE_FORBIDDEN', /only by the administrator/);
      await fails(invite(deps, admin, 'grid-2026', { organisationId: unregistered, role: 'consumer', trial: false }), 'ENT_ORG_NOT_FOUND', /register it first/);
      await end(deps, admin, 'grid-2026');
      tick();
      for (const organisationId of [unregistered, STRANGER]) {
        await fails(invite(deps, as(GRID), 'grid-2026', { organisationId, role: 'consumer', trial: false }), 'ENT_CIRCLE_ENDED');
        await fails(invite(deps, admin, 'grid-2026', { organisationId, role: 'consumer', trial: false }), 'ENT_CIRCLE_ENDED');
      }
    });

    it('shows a hidden circle to a member with only the coordinators and itself, and only its own acceptances', async () => {
      await acceptAgreement(deps, as(BANK), 'grid-2026', BANK);
      await acceptAgreement(deps, as(NGO), 'grid-2026', NGO);
      const view = await circleView(deps, as(NGO), 'grid-2026');
      assert.deepEqual((view['members'] as { organisation_id: string }[]).map((member) => member.organisation_id), [HOME, GRID, NGO]);
      assert.deepEqual((view['acceptances'] as { organisation_id: string }[]).map((acceptance) => acceptance.organisation_id), [NGO]);
      assert.doesNotMatch(JSON.stringify(view), new RegExp(BANK));
      const home = await circleView(deps, admin, 'grid-2026');
      assert.equal((home['members'] as unknown[]).length, 4);
      assert.equal((home['acceptances'] as unknown[]).length, 2);
      assert.deepEqual((await visibleCircles(deps, as(NGO))).map((circle) => circle.id), ['grid-2026']);
    });

    it('forgets a member once it left: the circle is then hidden from it like any other', async () => {
      await leave(deps, as(BANK), 'grid-2026', BANK);
      tick();
      await invite(deps, admin, 'grid-2026', { organisationId: STRANGER, role: 'consumer', trial: false });
      await fails(circleView(deps, as(BANK), 'grid-2026'), 'ENT_CIRCLE_NOT_FOUND');
      await fails(acceptAgreement(deps, as(BANK), 'grid-2026', BANK), 'ENT_CIRCLE_NOT_FOUND');
      assert.deepEqual(await visibleCircles(deps, as(BANK)), []);
      await fails(invite(deps, admin, 'grid-2026', { organisationId: BANK, role: 'consumer', trial: false }), 'ENT_CIRCLE_MEMBER_EXISTS', /cannot rejoin/);
    });

    it('refuses invitations of unknown organisations and ids the circle cannot hold, leaving the circle readable', async () => {
      await fails(invite(deps, admin, 'grid-2026', { organisationId: 'identity--0f000000-0000-4000-8000-000000000009', role: 'consumer', trial: false }), 'ENT_ORG_NOT_FOUND');
      const upper = 'identity--0F000000-0000-4000-8000-00000000000A';
      await store.createOrganisation({ id: upper, name: 'Upper', kind: 'company', sectors: [], country: undefined, identityJson: '{}', createdAt: now.toISOString() });
      await fails(invite(deps, admin, 'grid-2026', { organisationId: upper, role: 'consumer', trial: false }), 'ENT_POLICY_CIRCLE_INVALID', /organisation_id/);
      assert.equal((await store.getCircle('grid-2026'))?.members.length, 4);
    });

    it("pins the keys an acceptance carries (source 'acceptance') and shows visible members' acceptances and keys", async () => {
      const bankKey = testOrganisation(2, 41).pinned;
      const ngoKey = testOrganisation(3, 42).pinned;
      await acceptAgreement(deps, as(BANK), 'grid-2026', BANK, undefined, [{ keyId: bankKey.keyId, publicKey: bankKey.publicKey, validFrom: bankKey.validFrom, validUntil: undefined }]);
      await acceptAgreement(deps, as(NGO), 'grid-2026', NGO, undefined, [{ keyId: ngoKey.keyId, publicKey: ngoKey.publicKey, validFrom: ngoKey.validFrom, validUntil: undefined }]);
      assert.deepEqual((await store.listPinnedKeys(BANK)).map((key) => [key.keyId, key.source]), [[bankKey.keyId, 'acceptance']]);
      await fails(acceptAgreement(deps, admin, 'grid-2026', HOME, undefined, [{ keyId: bankKey.keyId, publicKey: bankKey.publicKey, validFrom: bankKey.validFrom, validUntil: undefined }]), 'ENT_CIRCLE_FORBIDDEN');
      // A member cannot have another organisation's key pinned under its name, and then nothing is recorded.
      const before = (await store.getAgreementState('grid-2026')).acceptances.length;
      await fails(acceptAgreement(deps, as(GRID), 'grid-2026', GRID, undefined, [{ keyId: bankKey.keyId, publicKey: bankKey.publicKey, validFrom: bankKey.validFrom, validUntil: undefined }]), 'ENT_PEER_KEY_MISMATCH');
      assert.equal((await store.getAgreementState('grid-2026')).acceptances.length, before);
      assert.deepEqual(await store.listPinnedKeys(GRID), []);
      // GRID coordinates: it sees every member, their acceptances and their keys.
      const coordinator = await circleView(deps, as(GRID), 'grid-2026');
      assert.deepEqual((coordinator['acceptances'] as { organisation_id: string }[]).map((acceptance) => acceptance.organisation_id).sort(), [BANK, NGO].sort());
      assert.deepEqual((coordinator['member_keys'] as { organisation_id: string; key_id: string }[]).map((key) => key.key_id).sort(), [bankKey.keyId, ngoKey.keyId].sort());
      // NGO, in a hidden circle, sees the coordinators and itself: not BANK's acceptance nor its key.
      const member = await circleView(deps, as(NGO), 'grid-2026');
      assert.deepEqual((member['member_keys'] as { organisation_id: string }[]).map((key) => key.organisation_id), [NGO]);
      assert.doesNotMatch(JSON.stringify(member), new RegExp(`${BANK}|${bankKey.keyId}`));
    });

    it('answers a repeated acceptance with the one that stands', async () => {
      const first = await acceptAgreement(deps, as(BANK), 'grid-2026', BANK);
      tick(60_000);
      const again = await acceptAgreement(deps, as(BANK), 'grid-2026', BANK);
      assert.deepEqual(again, first);
      assert.equal((await store.getAgreementState('grid-2026')).acceptances.length, 1);
    });

    it('refuses terms proposed in the name of a home organisation that is no longer a coordinator (they would bind nobody)', async () => {
      await leave(deps, admin, 'grid-2026', HOME);
      tick();
      await fails(proposeAgreement(deps, admin, 'grid-2026', terms('retain')), 'ENT_CIRCLE_FORBIDDEN', /would bind nobody/);
      assert.equal((await store.getAgreementState('grid-2026')).agreements.length, 1);
      assert.equal((await proposeAgreement(deps, as(GRID), 'grid-2026', terms('retain'))).version, 2);
    });

    it('never loses a change made at the same time as another one (a leave is not undone by an invitation)', async () => {
      let clock = now.getTime();
      const ticking: CircleDeps = { ...deps, clock: () => new Date((clock += 1)) };
      await Promise.all([
        leave(ticking, as(BANK), 'grid-2026', BANK),
        invite(ticking, admin, 'grid-2026', { organisationId: STRANGER, role: 'consumer', trial: false }),
        promote(ticking, as(GRID), 'grid-2026', NGO),
      ]);
      const members = (await store.getCircle('grid-2026'))?.members ?? [];
      assert.ok(members.find((member) => member.organisationId === BANK)?.leftAt !== undefined, 'the leave stands');
      assert.ok(members.some((member) => member.organisationId === STRANGER), 'the invitation stands');
      assert.equal(members.find((member) => member.organisationId === NGO)?.trial, false, 'the promotion stands');
    });

    it('refuses to write over a change another process made meanwhile', async () => {
      let reads = 0;
      const racing = new Proxy(store, {
        get(target, key, receiver) {
          if (key !== 'getCircle') {
            const value = Reflect.get(target, key, receiver) as unknown;
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          }
          return async (id: string) => {
            const circle = await target.getCircle(id);
            reads += 1;
            // Right after the change read the circle, the command line makes BANK leave.
            if (reads === 1 && circle !== undefined) {
              await target.updateCircle({ ...circle, members: circle.members.map((member) => (member.organisationId === BANK ? { ...member, leftAt: now.toISOString() } : member)) }, now);
            }
            return circle;
          };
        },
      });
      await fails(invite({ ...deps, store: racing }, admin, 'grid-2026', { organisationId: STRANGER, role: 'consumer', trial: false }), 'ENT_STORE_UNAVAILABLE', /changed by another process/);
      const members = (await store.getCircle('grid-2026'))?.members ?? [];
      assert.equal(members.find((member) => member.organisationId === BANK)?.leftAt, now.toISOString());
      assert.ok(!members.some((member) => member.organisationId === STRANGER));
    });

    // Two processes on one data file (the command line beside the running node): each has its own
    // connection, so this process's per-circle queue does not hold the other back. The node's store
    // makes one write (`method`) only once the command line's change (`meanwhile`) is done.
    interface TwoProcesses {
      readonly node: SqliteObjectStore;
      readonly cli: SqliteObjectStore;
      readonly nodeDeps: CircleDeps;
      readonly cliDeps: CircleDeps;
    }

    async function withTwoProcesses(name: string, run: (processes: TwoProcesses) => Promise<void>): Promise<void> {
      const dir = mkdtempSync(join(tmpdir(), `entente-${name}-`));
      const path = join(dir, 'store.db');
      const node = openSqliteObjectStore({ path });
      const cli = openSqliteObjectStore({ path });
      try {
        await run({ node, cli, nodeDeps: { store: node, clock: () => now, homeOrganisationId: HOME }, cliDeps: { store: cli, clock: () => now, homeOrganisationId: HOME } });
      } finally {
        await cli.close();
        await node.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }

    /** Organisations `ids`, and the hidden circle grid-2026 with BANK invited (and, with `terms`, the terms proposed). */
    async function gridWithBank(processes: TwoProcesses, ids: readonly string[], withTerms: boolean): Promise<void> {
      for (const id of ids) await processes.node.createOrganisation({ id, name: id, kind: 'company', sectors: [], country: undefined, identityJson: '{}', createdAt: now.toISOString() });
      await createCircle(processes.nodeDeps, { id: 'grid-2026', name: 'Grid 2026', kind: 'tacit', visibility: 'hidden', default_tlp: 'amber', valid_until: '2026-12-31T00:00:00Z' });
      await invite(processes.nodeDeps, admin, 'grid-2026', { organisationId: BANK, role: 'consumer', trial: false });
      if (withTerms) await proposeAgreement(processes.nodeDeps, admin, 'grid-2026', terms('retain'));
    }

    /** `target`, but its `method` writes only once `meanwhile` (another process's change) is done. */
    function writingAfter(target: ObjectStore, method: 'updateCircle' | 'addAcceptance', meanwhile: () => Promise<unknown>): ObjectStore {
      return new Proxy(target, {
        get(held, key, receiver) {
          const value = Reflect.get(held, key, receiver) as unknown;
          if (key !== method) return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(held) : value;
          return async (...args: unknown[]) => {
            await meanwhile();
            return (value as (...args: unknown[]) => Promise<unknown>).apply(held, args);
          };
        },
      });
    }

    it("refuses to write over a change another process wrote between the change's last read and its write", async () => {
      await withTwoProcesses('circle-race', async (processes) => {
        const { node, nodeDeps, cliDeps } = processes;
        await gridWithBank(processes, [BANK, STRANGER], false);
        // The node's write of the invitation comes once the command line has made BANK leave.
        const racing = writingAfter(node, 'updateCircle', () => leave(cliDeps, as(BANK), 'grid-2026', BANK));
        await fails(invite({ ...nodeDeps, store: racing }, admin, 'grid-2026', { organisationId: STRANGER, role: 'consumer', trial: false }), 'ENT_STORE_UNAVAILABLE', /changed by another process/);
        const members = (await node.getCircle('grid-2026'))?.members ?? [];
        assert.notEqual(members.find((member) => member.organisationId === BANK)?.leftAt, undefined, 'the leave stands');
        assert.ok(!members.some((member) => member.organisationId === STRANGER), 'the invitation, decided on the circle before the leave, was not written');
      });
    });

    it('refuses an acceptance of terms another process superseded between the acceptance\'s read and its write', async () => {
      await withTwoProcesses('accept-race', async (processes) => {
        const { node, nodeDeps, cliDeps } = processes;
        await gridWithBank(processes, [BANK], true);
        // BANK's acceptance of version 1 is written once the command line has proposed version 2.
        const racing = writingAfter(node, 'addAcceptance', () => proposeAgreement(cliDeps, admin, 'grid-2026', terms('recall')));
        await fails(acceptAgreement({ ...nodeDeps, store: racing }, as(BANK), 'grid-2026', BANK), 'ENT_AGREEMENT_SUPERSEDED', /superseded by version 2/);
        assert.deepEqual((await node.getAgreementState('grid-2026')).acceptances, [], 'BANK is not bound by the terms version 2 replaced');
      });
    });

    it('refuses an acceptance of a member another process made leave between the acceptance\'s read and its write', async () => {
      await withTwoProcesses('accept-leave-race', async (processes) => {
        const { node, nodeDeps, cliDeps } = processes;
        await gridWithBank(processes, [BANK], true);
        // BANK's acceptance is written once the command line has made BANK leave, a minute after the
        // acceptance read the circle (and its clock).
        const racing = writingAfter(node, 'addAcceptance', () => {
          now = new Date(now.getTime() + 60_000);
          return leave(cliDeps, admin, 'grid-2026', BANK);
        });
        await fails(acceptAgreement({ ...nodeDeps, store: racing }, as(BANK), 'grid-2026', BANK), 'ENT_CIRCLE_NOT_MEMBER', /left circle grid-2026/);
        assert.deepEqual((await node.getAgreementState('grid-2026')).acceptances, [], 'an organisation that left is bound by no terms it accepted after');
      });
    });

    it('records an acceptance and the keys it pins together or not at all', async () => {
      await withTwoProcesses('accept-pin-race', async (processes) => {
        const { node, cli, nodeDeps } = processes;
        await gridWithBank(processes, [BANK, NGO], true);
        // The key BANK's acceptance carries is pinned for NGO by the command line between the
        // acceptance's check of the key and its write: the pin is refused, and the acceptance with it.
        const key = testOrganisation(2, 41).pinned;
        const racing = writingAfter(node, 'addAcceptance', () => cli.pinKey({ ...key, organisationId: NGO, validUntil: undefined, source: 'peer-add', pinnedAt: now.toISOString() }));
        const accepted = acceptAgreement({ ...nodeDeps, store: racing }, as(BANK), 'grid-2026', BANK, undefined, [{ keyId: key.keyId, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: undefined }]);
        await fails(accepted, 'ENT_PEER_KEY_MISMATCH', new RegExp(`pinned for ${NGO}`));
        assert.deepEqual((await node.getAgreementState('grid-2026')).acceptances, [], 'no acceptance without the keys it carried');
        assert.deepEqual(await node.listPinnedKeys(BANK), []);
      });
    });

    it('refuses a key that became this node\'s own between the acceptance\'s check of it and its write', async () => {
      await withTwoProcesses('accept-own-key-race', async (processes) => {
        const { node, cli, nodeDeps } = processes;
        await gridWithBank(processes, [BANK], true);
        // The command line adds the key to this node's own keys after the acceptance read them: the
        // write, not that read, decides whose the key is.
        const key = testOrganisation(2, 41).pinned;
        const racing = writingAfter(node, 'addAcceptance', () =>
          cli.addNodeKey({ keyId: key.keyId, publicKey: key.publicKey, privateKey: 'unused', validFrom: key.validFrom, validUntil: undefined, rotationStatement: undefined, createdAt: now.toISOString() }),
        );
        const accepted = acceptAgreement({ ...nodeDeps, store: racing }, as(BANK), 'grid-2026', BANK, undefined, [{ keyId: key.keyId, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: undefined }]);
        await fails(accepted, 'ENT_PEER_KEY_MISMATCH', /this node's own/);
        assert.deepEqual((await node.getAgreementState('grid-2026')).acceptances, [], 'nothing recorded');
        assert.deepEqual(await node.listPinnedKeys(), [], 'this node\'s key pinned for no organisation');
      });
    });

    it('promotes a trial member', async () => {
      const circle = await promote(deps, as(GRID), 'grid-2026', NGO);
      assert.equal(circle.members.find((member) => member.organisationId === NGO)?.trial, false);
      assert.equal((await store.getCircle('grid-2026'))?.members.find((member) => member.organisationId === NGO)?.trial, false);
    });
  });

  describe('ending', () => {
    beforeEach(async () => {
      await invite(deps, admin, 'grid-2026', { organisationId: BANK, role: 'contributor', trial: false });
      await proposeAgreement(deps, admin, 'grid-2026', terms());
      tick();
    });

    it('ends now, then refuses invitations, proposals, acceptances, promotions and a second end', async () => {
      const ended = await end(deps, admin, 'grid-2026');
      assert.equal(ended.circle.validUntil, '2026-03-01T00:00:01.000Z');
      tick();
      await fails(invite(deps, admin, 'grid-2026', { organisationId: NGO, role: 'consumer', trial: false }), 'ENT_CIRCLE_ENDED');
      await fails(proposeAgreement(deps, admin, 'grid-2026', terms('retain')), 'ENT_CIRCLE_ENDED');
      await fails(acceptAgreement(deps, as(BANK), 'grid-2026', BANK), 'ENT_CIRCLE_ENDED');
      await fails(promote(deps, admin, 'grid-2026', BANK), 'ENT_CIRCLE_ENDED');
      await fails(end(deps, admin, 'grid-2026'), 'ENT_CIRCLE_ENDED');
      assert.equal((await store.getAgreementState('grid-2026')).agreements.length, 1);
      // Members of an ended circle still see it, as it was.
      assert.equal((await circleView(deps, as(BANK), 'grid-2026'))['valid_until'], '2026-03-01T00:00:01.000Z');
    });

    it('brings an end forward but never postpones it, and never ends in the past', async () => {
      await fails(end(deps, admin, 'grid-2026', new Date('2027-06-01T00:00:00Z')), 'ENT_CIRCLE_ENDED', /never postponed/);
      assert.equal((await store.getCircle('grid-2026'))?.validUntil, '2026-12-31T00:00:00Z');
      const earlier = await end(deps, admin, 'grid-2026', new Date('2026-06-01T00:00:00Z'));
      assert.equal(earlier.circle.validUntil, '2026-06-01T00:00:00.000Z');
      const past = await end(deps, admin, 'grid-2026', new Date('2020-01-01T00:00:00Z'));
      assert.equal(past.circle.validUntil, now.toISOString());
    });
  });

  describe('recall notices', () => {
    beforeEach(async () => {
      await invite(deps, admin, 'grid-2026', { organisationId: BANK, role: 'contributor', trial: false });
      await invite(deps, admin, 'grid-2026', { organisationId: NGO, role: 'consumer', trial: false });
      await invite(deps, admin, 'grid-2026', { organisationId: GRID, role: 'consumer', trial: false });
      await createCircle(deps, { id: 'other', name: 'Other', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2026-12-31T00:00:00Z' });
      await invite(deps, admin, 'other', { organisationId: BANK, role: 'consumer', trial: false });
      await proposeAgreement(deps, admin, 'grid-2026', terms('recall'));
      await proposeAgreement(deps, admin, 'other', terms('recall'));
      tick();
      // BANK accepts v1 while it is the latest; only the latest version can be accepted.
      await acceptAgreement(deps, as(BANK), 'grid-2026', BANK, 1);
      await acceptAgreement(deps, as(BANK), 'other', BANK);
      tick();
      await proposeAgreement(deps, admin, 'grid-2026', terms('retain'));
      tick();
      await acceptAgreement(deps, as(NGO), 'grid-2026', NGO, 2);
      // GRID accepts nothing.
      await store.appendAudit([
        received(1, BANK, 'grid-2026'),
        received(2, BANK, 'grid-2026', 'redact'),
        received(1, BANK, 'grid-2026'),
        received(3, BANK, 'other'),
        received(4, NGO, 'grid-2026', 'share', 2),
        received(5, GRID, 'grid-2026', 'share', null),
        received(6, BANK, 'grid-2026', 'withhold'),
      ]);
      tick();
    });

    it('on leave with the recall rule, queues exactly the versions the audit says the member received through the circle', async () => {
      const left = await leave(deps, as(BANK), 'grid-2026', BANK);
      assert.equal(left.recalls, 2);
      const notices = await store.listRecalls({ organisationId: BANK });
      assert.deepEqual(
        notices.map((notice) => [notice.circleId, notice.objectId, notice.version]),
        [
          ['grid-2026', received(1, BANK, '').objectId, received(1, BANK, '').objectModified],
          ['grid-2026', received(2, BANK, '').objectId, received(2, BANK, '').objectModified],
        ],
      );
      assert.match(notices[0]?.reason ?? '', /left circle grid-2026/);
      assert.equal(left.circle.members.find((member) => member.organisationId === BANK)?.leftAt, now.toISOString());
    });

    it('on end, queues for members bound by recall terms only, once, and nothing for those bound by retain or by nothing', async () => {
      const ended = await end(deps, admin, 'grid-2026');
      assert.equal(ended.recalls, 2);
      const notices = await store.listRecalls({ circleId: 'grid-2026' });
      assert.deepEqual(new Set(notices.map((notice) => notice.organisationId)), new Set([BANK]));
      assert.equal((await store.listRecalls({ circleId: 'other' })).length, 0);
    });
  });
});
