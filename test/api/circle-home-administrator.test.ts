// Only the node administrator speaks for the home organisation in a circle coordinated here: the
// home organisation's other tokens (an analyst's) read, and neither accept, counter nor leave for it,
// just as they change nothing (invite, propose, promote, end) and as on a mirrored circle
// (coordinator-link's requireHomeAdministrator). A partner still acts for itself.
// And an invitation by a partner coordinator does not tell which organisations are registered here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HOME, ORG, errorOf, startCircleApiNode, type CircleApiNode } from './circle-api-kit.ts';

const terms = {
  scope: { types: ['indicator'] }, highest_tlp: 'amber', onward_sharing: 'none', attribution: 'keep',
  expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' }, end_rule: 'recall',
};

interface CircleView {
  members: { organisation_id: string; role: string; left_at?: string }[];
  agreements: unknown[];
  acceptances: { organisation_id: string }[];
}

describe("the home organisation's word in a circle coordinated here", () => {
  let node: CircleApiNode;
  const view = async (): Promise<CircleView> => (await node.call('admin', 'GET', '/api/circles/c1')).json<CircleView>();

  before(async () => {
    node = await startCircleApiNode(['c1']);
    const created = await node.call('admin', 'POST', '/api/circles', { id: 'c1', name: 'c1', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2099-01-01T00:00:00Z' });
    assert.equal(created.statusCode, 201, created.body);
    for (const [org, role] of [[ORG.grid, 'coordinator'], [ORG.bank, 'consumer']] as const) {
      assert.equal((await node.call('admin', 'POST', '/api/circles/c1/members', { organisation_id: org, role, trial: true })).statusCode, 200);
    }
    assert.equal((await node.call('admin', 'POST', '/api/circles/c1/agreements', { terms })).statusCode, 201);
  });
  after(() => node.close());

  it('refuses an analyst token that counters, accepts or leaves for the home organisation, and records nothing', async () => {
    const before = await view();
    const attempts = [
      await node.call('analyst', 'POST', '/api/circles/c1/counter', { terms: { ...terms, highest_tlp: 'green' }, comment: 'analyst speaking' }),
      await node.call('analyst', 'POST', '/api/circles/c1/counter', { terms, organisation_id: HOME }),
      await node.call('analyst', 'POST', '/api/circles/c1/accept', {}),
      await node.call('analyst', 'POST', '/api/circles/c1/accept', { organisation_id: HOME, version: 1 }),
      await node.call('analyst', 'POST', '/api/circles/c1/leave', {}),
      await node.call('analyst', 'POST', '/api/circles/c1/leave', { organisation_id: HOME }),
    ];
    for (const attempt of attempts) {
      assert.equal(attempt.statusCode, 403, attempt.body);
      assert.equal(errorOf(attempt).error_code, 'ENT_CIRCLE_FORBIDDEN');
      assert.match(errorOf(attempt).description, /needs the node administrator's token/);
    }
    assert.deepEqual(await view(), before, 'no acceptance, no leave');
    assert.deepEqual((await node.call('admin', 'GET', '/api/circles/c1/counters')).json(), { counters: [] });
    assert.deepEqual(await node.store.listRecalls({ circleId: 'c1' }), []);
  });

  it('refuses an analyst token acting for a partner, as any token acting for another organisation', async () => {
    for (const path of ['counter', 'accept', 'leave']) {
      const attempt = await node.call('analyst', 'POST', `/api/circles/c1/${path}`, { organisation_id: ORG.bank, ...(path === 'counter' ? { terms } : {}) });
      assert.equal(attempt.statusCode, 403, attempt.body);
      assert.equal(errorOf(attempt).error_code, 'ENT_CIRCLE_FORBIDDEN');
    }
  });

  it('refuses an analyst token every change made for the home organisation (invite, propose, promote, end)', async () => {
    const before = await view();
    const attempts = [
      await node.call('analyst', 'POST', '/api/circles/c1/members', { organisation_id: ORG.ngo }),
      await node.call('analyst', 'POST', '/api/circles/c1/agreements', { terms }),
      await node.call('analyst', 'POST', `/api/circles/c1/members/${ORG.bank}/promote`),
      await node.call('analyst', 'POST', '/api/circles/c1/end', {}),
    ];
    for (const attempt of attempts) {
      assert.equal(attempt.statusCode, 403, attempt.body);
      assert.equal(errorOf(attempt).error_code, 'ENT_CIRCLE_FORBIDDEN');
    }
    assert.deepEqual(await view(), before);
    // Reading stays open to the home organisation's tokens.
    assert.equal((await node.call('analyst', 'GET', '/api/circles/c1')).statusCode, 200);
    assert.equal((await node.call('analyst', 'GET', '/api/circles/c1/counters')).statusCode, 200);
  });

  it('lets a partner counter, accept and leave for itself, and the administrator for the home organisation', async () => {
    const countered = await node.call('bank', 'POST', '/api/circles/c1/counter', { terms: { ...terms, highest_tlp: 'green' } });
    assert.equal(countered.statusCode, 201, countered.body);
    const accepted = await node.call('bank', 'POST', '/api/circles/c1/accept', {});
    assert.equal(accepted.statusCode, 200, accepted.body);
    const homeCounter = await node.call('admin', 'POST', '/api/circles/c1/counter', { terms });
    assert.equal(homeCounter.statusCode, 201, homeCounter.body);
    const homeAccepted = await node.call('admin', 'POST', '/api/circles/c1/accept', {});
    assert.equal(homeAccepted.statusCode, 200, homeAccepted.body);
    assert.deepEqual((await view()).acceptances.map((acceptance) => acceptance.organisation_id).sort(), [HOME, ORG.bank].sort());
    const left = await node.call('bank', 'POST', '/api/circles/c1/leave', {});
    assert.equal(left.statusCode, 200, left.body);
    // grid coordinates too, so the home organisation is not the last coordinator.
    const homeLeft = await node.call('admin', 'POST', '/api/circles/c1/leave', {});
    assert.equal(homeLeft.statusCode, 200, homeLeft.body);
    const members = (await view()).members;
    assert.ok(members.find((member) => member.organisation_id === HOME)?.left_at !== undefined);
    assert.ok(members.find((member) => member.organisation_id === ORG.bank)?.left_at !== undefined);
  });
});

describe('an invitation by a partner coordinator does not reveal which organisations are registered here', () => {
  const UNREGISTERED = 'identity--99999999-0000-4000-8000-000000000009';
  let node: CircleApiNode;
  const invite = (caller: 'grid' | 'admin', circleId: string, organisationId: string) =>
    node.call(caller, 'POST', `/api/circles/${circleId}/members`, { organisation_id: organisationId, role: 'consumer' });
  /** The answer with the invited organisation's id taken out: what it says about the circle only. */
  const said = (response: Awaited<ReturnType<typeof invite>>, organisationId: string) => ({
    status: response.statusCode,
    code: errorOf(response).error_code,
    description: errorOf(response).description.split(organisationId).join('ORG'),
  });

  before(async () => {
    node = await startCircleApiNode(['running', 'ended']);
    for (const id of ['running', 'ended']) {
      assert.equal((await node.call('admin', 'POST', '/api/circles', { id, name: id, kind: 'tacit', visibility: 'hidden', default_tlp: 'amber', valid_until: '2099-01-01T00:00:00Z' })).statusCode, 201);
      // grid coordinates both circles.
      assert.equal((await node.call('admin', 'POST', `/api/circles/${id}/members`, { organisation_id: ORG.grid, role: 'coordinator' })).statusCode, 200);
    }
    assert.equal((await node.call('grid', 'POST', '/api/circles/ended/end', {})).statusCode, 200);
  });
  after(() => node.close());

  it('answers an ended circle the same for a registered and an unregistered organisation, in either order', async () => {
    for (const order of [[ORG.bank, UNREGISTERED], [UNREGISTERED, ORG.stranger]]) {
      const answers = [];
      for (const org of order) answers.push(said(await invite('grid', 'ended', org), org));
      assert.equal(answers[0]?.code, 'ENT_CIRCLE_ENDED');
      assert.deepEqual(answers[1], answers[0]);
    }
  });

  it('answers an existing member the same whether or not it is registered, in either order', async () => {
    // A member this node has no registry entry for (as in a circle held from another node's document).
    const UNLISTED = 'identity--99999999-0000-4000-8000-00000000000a';
    const circle = await node.store.getCircle('running');
    assert.ok(circle !== undefined);
    await node.store.updateCircle({ ...circle, members: [...circle.members, { organisationId: UNLISTED, role: 'consumer', joinedAt: circle.validFrom, trial: false }] }, new Date());
    for (const order of [[ORG.grid, UNLISTED], [UNLISTED, ORG.grid]]) {
      const answers = [];
      for (const org of order) answers.push(said(await invite('grid', 'running', org), org));
      assert.equal(answers[0]?.code, 'ENT_CIRCLE_MEMBER_EXISTS');
      assert.deepEqual(answers[1], answers[0]);
    }
    const members = (await node.call('admin', 'GET', '/api/circles/running')).json<CircleView>().members.map((member) => member.organisation_id);
    assert.deepEqual(members, [HOME, ORG.grid, UNLISTED]);
  });

  it("refuses a partner's invitation of an unregistered organisation without naming the registry, and tells the administrator to register it", async () => {
    const partner = await invite('grid', 'running', UNREGISTERED);
    assert.equal(partner.statusCode, 403, partner.body);
    assert.equal(errorOf(partner).error_code, 'ENT_CIRCLE_FORBIDDEN');
    assert.doesNotMatch(errorOf(partner).description, /regist|org add|No organisation/i);
    const admin = await invite('admin', 'running', UNREGISTERED);
    assert.equal(admin.statusCode, 404, admin.body);
    assert.equal(errorOf(admin).error_code, 'ENT_ORG_NOT_FOUND');
    assert.match(errorOf(admin).description, /register it first/);
    const members = (await node.call('admin', 'GET', '/api/circles/running')).json<CircleView>().members.map((member) => member.organisation_id);
    assert.ok(!members.includes(UNREGISTERED));
  });
});
