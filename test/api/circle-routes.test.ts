import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { authorization, errorOf, HOME, ORG, startCircleApiNode, type Caller, type CircleApiNode } from './circle-api-kit.ts';
import { indicator, TAXII } from '../taxii/taxii-test-kit.ts';
import { releasesIn } from '../../src/audit/audit-chain.ts';

const GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';

function terms(endRule: 'retain' | 'recall'): Record<string, unknown> {
  return {
    scope: { types: ['indicator'] },
    highest_tlp: 'amber',
    onward_sharing: 'none',
    attribution: 'keep',
    expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' },
    end_rule: endRule,
  };
}

function circleInput(id: string, visibility: 'open' | 'hidden'): Record<string, unknown> {
  return { id, name: `Circle ${id}`, kind: 'tacit', visibility, default_tlp: 'amber', valid_until: '2099-01-01T00:00:00Z' };
}

function status(response: LightMyRequestResponse, expected: number): LightMyRequestResponse {
  assert.equal(response.statusCode, expected, response.body.slice(0, 500));
  return response;
}

/** A refusal: status, stable code, and (for bad input) the field it names; never an echo of a huge value. */
function refused(response: LightMyRequestResponse, expected: number, code: string, names?: RegExp): void {
  assert.equal(response.statusCode, expected, response.body.slice(0, 500));
  const body = errorOf(response);
  assert.equal(body.error_code, code, response.body.slice(0, 500));
  if (names !== undefined) assert.match(body.description, names);
  assert.ok(response.body.length < 4096, `the error body is ${response.body.length} bytes`);
}

interface CircleDocument {
  id: string;
  members: { organisation_id: string; role: string; trial: boolean; left_at?: string }[];
  agreements?: { version: number }[];
  acceptances?: { organisation_id: string }[];
}

describe('/api/circles', () => {
  let node: CircleApiNode;
  before(async () => {
    node = await startCircleApiNode(['hidden-circle', 'open-circle', 'bank-only', 'recall-circle']);
    status(await node.call('admin', 'POST', '/api/circles', circleInput('hidden-circle', 'hidden')), 201);
    status(await node.call('admin', 'POST', '/api/circles', circleInput('open-circle', 'open')), 201);
    status(await node.call('admin', 'POST', '/api/circles', circleInput('bank-only', 'hidden')), 201);
    for (const [circle, org, role] of [
      ['hidden-circle', ORG.bank, 'contributor'], ['hidden-circle', ORG.ngo, 'consumer'], ['hidden-circle', ORG.grid, 'coordinator'],
      ['open-circle', ORG.bank, 'consumer'], ['open-circle', ORG.ngo, 'consumer'],
      ['bank-only', ORG.bank, 'consumer'],
    ] as const) {
      status(await node.call('admin', 'POST', `/api/circles/${circle}/members`, { organisation_id: org, role }), 200);
    }
    status(await node.call('admin', 'POST', '/api/circles/hidden-circle/agreements', { terms: terms('retain') }), 201);
  });
  after(async () => node.close());

  describe('what a partner sees', () => {
    it('lists only the circles the partner belongs to; the home organisation sees all', async () => {
      const ids = async (caller: Caller): Promise<string[]> =>
        (status(await node.call(caller, 'GET', '/api/circles'), 200).json<{ circles: CircleDocument[] }>()).circles.map((circle) => circle.id).sort();
      assert.deepEqual(await ids('bank'), ['bank-only', 'hidden-circle', 'open-circle']);
      assert.deepEqual(await ids('ngo'), ['hidden-circle', 'open-circle']);
      assert.deepEqual(await ids('grid'), ['hidden-circle']);
      assert.deepEqual(await ids('stranger'), []);
      assert.deepEqual(await ids('admin'), ['bank-only', 'hidden-circle', 'open-circle']);
      assert.equal(status(await node.call(undefined, 'GET', '/api/circles'), 401).statusCode, 401);
    });

    it('shows a hidden circle with only the coordinators and the partner itself, in the list and alone', async () => {
      const listed = status(await node.call('ngo', 'GET', '/api/circles'), 200).json<{ circles: CircleDocument[] }>().circles.find((circle) => circle.id === 'hidden-circle');
      const alone = status(await node.call('ngo', 'GET', '/api/circles/hidden-circle'), 200).json<CircleDocument>();
      for (const view of [listed, alone]) {
        assert.deepEqual(view?.members.map((member) => member.organisation_id), [HOME, ORG.ngo, ORG.grid]);
      }
      const response = await node.call('ngo', 'GET', '/api/circles/hidden-circle');
      assert.doesNotMatch(response.body, new RegExp(ORG.bank), 'the other member is never named');
      const open = status(await node.call('ngo', 'GET', '/api/circles/open-circle'), 200).json<CircleDocument>();
      assert.deepEqual(open.members.map((member) => member.organisation_id), [HOME, ORG.bank, ORG.ngo]);
      const home = status(await node.call('admin', 'GET', '/api/circles/hidden-circle'), 200).json<CircleDocument>();
      assert.equal(home.members.length, 4);
    });

    it('answers a non-member exactly as for a circle that does not exist, on every route', async () => {
      const routes: [method: 'GET' | 'POST', suffix: string, body?: unknown][] = [
        ['GET', ''],
        ['POST', '/members', { organisation_id: ORG.stranger, role: 'coordinator' }],
        ['POST', `/members/${ORG.stranger}/promote`],
        ['POST', '/agreements', { terms: terms('retain') }],
        ['POST', '/accept', {}],
        ['POST', '/accept', { organisation_id: ORG.bank, version: 1 }],
        ['POST', '/leave', {}],
        ['POST', '/leave', { organisation_id: ORG.bank }],
        ['POST', '/end', {}],
      ];
      for (const [method, suffix, body] of routes) {
        const real = await node.call('stranger', method, `/api/circles/bank-only${suffix}`, body);
        const missing = await node.call('stranger', method, `/api/circles/no-such-circ${suffix}`, body);
        assert.equal(real.statusCode, 404, `${method} ${suffix}: ${real.body}`);
        assert.equal(missing.statusCode, 404);
        const { error_id: _a, ...realBody } = errorOf(real);
        const { error_id: _b, ...missingBody } = errorOf(missing);
        assert.deepEqual(JSON.parse(JSON.stringify(realBody).replaceAll('bank-only', 'X')), JSON.parse(JSON.stringify(missingBody).replaceAll('no-such-circ', 'X')), `${method} ${suffix}`);
        assert.equal(realBody.error_code, 'ENT_CIRCLE_NOT_FOUND');
        assert.equal(real.headers['content-type'], missing.headers['content-type']);
      }
      // Nothing changed: the stranger did not join, propose, end or leave anything.
      const circle = status(await node.call('admin', 'GET', '/api/circles/bank-only'), 200).json<CircleDocument>();
      assert.deepEqual(circle.members.map((member) => member.organisation_id), [HOME, ORG.bank]);
      assert.deepEqual(circle.agreements, []);
      assert.equal((circle as unknown as Record<string, unknown>)['valid_until'], '2099-01-01T00:00:00Z');
    });
  });

  describe('who may change a circle', () => {
    it('refuses invitations, proposals, promotions and the end from a contributor or a consumer', async () => {
      for (const caller of ['bank', 'ngo'] as const) {
        refused(await node.call(caller, 'POST', '/api/circles/hidden-circle/members', { organisation_id: ORG.stranger, role: 'coordinator' }), 403, 'ENT_CIRCLE_FORBIDDEN');
        refused(await node.call(caller, 'POST', '/api/circles/hidden-circle/agreements', { terms: { ...terms('retain'), highest_tlp: 'red' } }), 403, 'ENT_CIRCLE_FORBIDDEN');
        refused(await node.call(caller, 'POST', '/api/circles/hidden-circle/end', {}), 403, 'ENT_CIRCLE_FORBIDDEN');
        refused(await node.call(caller, 'POST', `/api/circles/hidden-circle/members/${caller === 'bank' ? ORG.bank : ORG.ngo}/promote`), 403, 'ENT_CIRCLE_FORBIDDEN');
      }
      const circle = status(await node.call('admin', 'GET', '/api/circles/hidden-circle'), 200).json<CircleDocument>();
      assert.equal(circle.members.length, 4);
      assert.deepEqual(circle.agreements?.map((agreement) => agreement.version), [1]);
    });

    it('lets a partner coordinator propose terms and promote', async () => {
      status(await node.call('grid', 'POST', '/api/circles/hidden-circle/agreements', { terms: terms('retain') }), 201);
      const promoted = await node.call('grid', 'POST', `/api/circles/hidden-circle/members/${ORG.ngo}/promote`);
      status(promoted, 200);
    });

    it('lets a partner accept and leave only for itself', async () => {
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/accept', { organisation_id: ORG.ngo }), 403, 'ENT_CIRCLE_FORBIDDEN');
      refused(await node.call('grid', 'POST', '/api/circles/hidden-circle/accept', { organisation_id: ORG.bank, version: 1 }), 403, 'ENT_CIRCLE_FORBIDDEN');
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/leave', { organisation_id: ORG.ngo }), 403, 'ENT_CIRCLE_FORBIDDEN');
      // Grid proposed v2 above: v1 is superseded, only the latest version can be accepted.
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/accept', { version: 1 }), 409, 'ENT_AGREEMENT_SUPERSEDED');
      const accepted = status(await node.call('bank', 'POST', '/api/circles/hidden-circle/accept', { version: 2 }), 200).json<Record<string, unknown>>();
      assert.equal(accepted['organisation_id'], ORG.bank);
      assert.equal(accepted['version'], 2);
      const latest = status(await node.call('ngo', 'POST', '/api/circles/hidden-circle/accept', { organisation_id: ORG.ngo }), 200).json<Record<string, unknown>>();
      assert.equal(latest['version'], 2);
      const view = status(await node.call('bank', 'GET', '/api/circles/hidden-circle'), 200).json<CircleDocument>();
      assert.deepEqual(view.acceptances?.map((acceptance) => acceptance.organisation_id), [ORG.bank], 'a partner sees the acceptances of the members it can see (in a hidden circle, its own)');
    });

    it('creates circles for administrators only', async () => {
      refused(await node.call('bank', 'POST', '/api/circles', circleInput('bank-circle', 'open')), 403, 'ENT_AUTH_FORBIDDEN');
      refused(await node.call('analyst', 'POST', '/api/circles', circleInput('analyst-circle', 'open')), 403, 'ENT_AUTH_FORBIDDEN');
      refused(await node.call(undefined, 'POST', '/api/circles', circleInput('anon-circle', 'open')), 401, 'ENT_AUTH_MISSING');
      assert.equal((await node.store.listCircles()).length, 3);
    });
  });

  describe('malformed bodies', () => {
    const huge = 'x'.repeat(200_000);

    it('refuses a bad circle document, naming the field', async () => {
      refused(await node.call('admin', 'POST', '/api/circles', [circleInput('arr', 'open')]), 422, 'ENT_POLICY_CIRCLE_INVALID', /^\$: expected a JSON object/);
      refused(await node.call('admin', 'POST', '/api/circles', '"circle"'), 422, 'ENT_POLICY_CIRCLE_INVALID');
      refused(await node.call('admin', 'POST', '/api/circles', '{"id": '), 400, 'ENT_INPUT_MALFORMED_JSON');
      refused(await node.call('admin', 'POST', '/api/circles', { ...circleInput('typed', 'open'), valid_from: 20260101 }), 422, 'ENT_POLICY_CIRCLE_INVALID', /\$\.valid_from: expected a string/);
      refused(await node.call('admin', 'POST', '/api/circles', { ...circleInput('typed', 'open'), kind: ['tacit'] }), 422, 'ENT_POLICY_CIRCLE_INVALID', /\$\.kind/);
      refused(await node.call('admin', 'POST', '/api/circles', { ...circleInput('members', 'open'), members: [{ organisation_id: ORG.bank, role: 'coordinator' }] }), 422, 'ENT_POLICY_CIRCLE_INVALID', /\$\.members: unknown field/);
      refused(await node.call('admin', 'POST', '/api/circles', { ...circleInput('huge', 'open'), name: huge }), 422, 'ENT_POLICY_CIRCLE_INVALID', /\$\.name: must be 1 to 2048/);
      refused(await node.call('admin', 'POST', '/api/circles', { ...circleInput('x', 'open'), id: huge }), 422, 'ENT_POLICY_CIRCLE_INVALID', /\$\.id/);
      assert.equal((await node.store.listCircles()).length, 3);
    });

    it('refuses a bad invitation, naming the field', async () => {
      const url = '/api/circles/open-circle/members';
      refused(await node.call('admin', 'POST', url, [{ organisation_id: ORG.grid }]), 400, 'ENT_INPUT_NOT_ENVELOPE', /JSON object/);
      refused(await node.call('admin', 'POST', url, {}), 400, 'ENT_HTTP_BAD_FIELD', /"organisation_id" is required/);
      refused(await node.call('admin', 'POST', url, { organisation_id: 5 }), 400, 'ENT_HTTP_BAD_FIELD', /"organisation_id" must be a string/);
      refused(await node.call('admin', 'POST', url, { organisation_id: huge }), 400, 'ENT_HTTP_BAD_FIELD', /"organisation_id" must be a STIX identity id/);
      refused(await node.call('admin', 'POST', url, { organisation_id: 'identity--0D000000-0000-4000-8000-000000000004' }), 400, 'ENT_HTTP_BAD_FIELD', /"organisation_id"/);
      refused(await node.call('admin', 'POST', url, { organisation_id: ORG.grid, role: 'god' }), 400, 'ENT_HTTP_BAD_FIELD', /"role" must be/);
      refused(await node.call('admin', 'POST', url, { organisation_id: ORG.grid, role: huge }), 400, 'ENT_HTTP_BAD_FIELD', /"role" must be/);
      refused(await node.call('admin', 'POST', url, { organisation_id: ORG.grid, trial: 'yes' }), 400, 'ENT_HTTP_BAD_FIELD', /"trial" must be true or false/);
      refused(await node.call('admin', 'POST', url, { organisation_id: ORG.grid, trial: null }), 400, 'ENT_HTTP_BAD_FIELD', /"trial" must be true or false/);
      refused(await node.call('admin', 'POST', url, { organisation_id: null }), 400, 'ENT_HTTP_BAD_FIELD', /"organisation_id" must be a string/);
      refused(await node.call('admin', 'POST', url, { organisation_id: ORG.grid, role: null }), 400, 'ENT_HTTP_BAD_FIELD', /"role" must be a string/);
      refused(await node.call('admin', 'POST', url, { organisation_id: ORG.grid, admin: true }), 400, 'ENT_HTTP_BAD_FIELD', /unknown field "admin"/);
      refused(await node.call('admin', 'POST', url, JSON.parse(`{"organisation_id": "${ORG.grid}", "__proto__": {"role": "coordinator"}}`)), 400, 'ENT_HTTP_BAD_FIELD', /unknown field "__proto__"/);
      const circle = status(await node.call('admin', 'GET', '/api/circles/open-circle'), 200).json<CircleDocument>();
      assert.ok(!circle.members.some((member) => member.organisation_id === ORG.grid), 'no refused invitation went through');
    });

    it('refuses bad terms, acceptances, leaves and ends, naming the field', async () => {
      refused(await node.call('admin', 'POST', '/api/circles/open-circle/agreements', {}), 422, 'ENT_POLICY_AGREEMENT_INVALID', /\$\.terms: "terms" is required/);
      refused(await node.call('admin', 'POST', '/api/circles/open-circle/agreements', { terms: [] }), 422, 'ENT_POLICY_AGREEMENT_INVALID', /\$\.terms: expected a JSON object/);
      refused(await node.call('admin', 'POST', '/api/circles/open-circle/agreements', { terms: { ...terms('retain'), highest_tlp: 5 } }), 422, 'ENT_POLICY_AGREEMENT_INVALID', /\$\.terms\.highest_tlp/);
      refused(await node.call('admin', 'POST', '/api/circles/open-circle/agreements', { terms: { ...terms('retain'), scope: { types: [huge] } } }), 422, 'ENT_POLICY_AGREEMENT_INVALID', /\$\.terms\.scope\.types\[0\]/);
      refused(await node.call('admin', 'POST', '/api/circles/open-circle/agreements', { terms: terms('retain'), version: 99 }), 400, 'ENT_HTTP_BAD_FIELD', /unknown field "version"/);

      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/accept', { version: '1' }), 400, 'ENT_HTTP_BAD_FIELD', /"version" must be a positive integer/);
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/accept', { version: 1.5 }), 400, 'ENT_HTTP_BAD_FIELD', /"version"/);
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/accept', { version: 1e300 }), 400, 'ENT_HTTP_BAD_FIELD', /"version"/);
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/accept', { version: 99 }), 404, 'ENT_AGREEMENT_NOT_FOUND');
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/accept', { organisation_id: [ORG.bank] }), 400, 'ENT_HTTP_BAD_FIELD', /"organisation_id" must be a string/);
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/accept', { version: 1, at: '2020-01-01T00:00:00Z' }), 400, 'ENT_HTTP_BAD_FIELD', /unknown field "at"/);
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/leave', { organisation_id: ORG.bank, at: '2020-01-01T00:00:00Z' }), 400, 'ENT_HTTP_BAD_FIELD', /unknown field "at"/);
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/leave', [ORG.bank]), 400, 'ENT_INPUT_NOT_ENVELOPE');
      for (const organisation_id of [5, null, [ORG.ngo], 'x'.repeat(10_000)]) {
        refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/counter', { terms: terms('retain'), organisation_id }), 400, 'ENT_HTTP_BAD_FIELD', /"organisation_id"/);
      }
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/counter', { terms: terms('retain'), comment: 7 }), 400, 'ENT_HTTP_BAD_FIELD', /"comment" must be a string/);
      refused(await node.call('bank', 'POST', '/api/circles/hidden-circle/counter', { terms: terms('retain'), organisation_id: ORG.ngo }), 403, 'ENT_CIRCLE_FORBIDDEN');

      for (const at of ['tomorrow', '2026-02-30T00:00:00Z', '2099-01-01', '2099-01-01T00:00:00', huge]) {
        refused(await node.call('admin', 'POST', '/api/circles/open-circle/end', { at }), 400, 'ENT_HTTP_BAD_FIELD', /"at" must be an RFC 3339/);
      }
      refused(await node.call('admin', 'POST', '/api/circles/open-circle/end', { at: 1 }), 400, 'ENT_HTTP_BAD_FIELD', /"at" must be a string/);
      refused(await node.call('admin', 'POST', '/api/circles/open-circle/end', { when: 'now' }), 400, 'ENT_HTTP_BAD_FIELD', /unknown field "when"/);
      const circle = status(await node.call('admin', 'GET', '/api/circles/open-circle'), 200).json<Record<string, unknown>>();
      assert.equal(circle['valid_until'], '2099-01-01T00:00:00Z', 'no refused end went through');
      assert.deepEqual(circle['agreements'], []);
    });
  });

  describe('recall notices', () => {
    const objects = [indicator(1, { object_marking_refs: [GREEN] }), indicator(2), indicator(3, { object_marking_refs: ['marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1'] })];

    async function read(caller: Caller, collection: string): Promise<string[]> {
      const response = await node.app.inject({
        method: 'GET',
        url: `/taxii2/api/collections/${collection}/objects/`,
        headers: { authorization: authorization(caller), accept: TAXII },
      });
      if (response.statusCode === 404) return [];
      assert.equal(response.statusCode, 200, response.body);
      return (response.json<{ objects?: { id: string }[] }>().objects ?? []).map((object) => object.id).sort();
    }

    async function audited(org: string, circleId: string): Promise<string[]> {
      const records = await node.store.readAudit({ recipientOrganisationId: org, circleId, limit: 1000 });
      const releases = records.flatMap((record) => releasesIn(record.chained.entry));
      return [...new Set(releases.filter((release) => release.decision !== 'withhold').map((release) => `${release.objectId} ${release.objectModified}`))].sort();
    }

    async function recalls(org: string, circleId: string): Promise<string[]> {
      return (await node.store.listRecalls({ organisationId: org, circleId })).map((notice) => `${notice.objectId} ${notice.version}`).sort();
    }

    before(async () => {
      status(await node.call('admin', 'POST', '/api/circles', circleInput('recall-circle', 'open')), 201);
      for (const org of [ORG.bank, ORG.ngo, ORG.grid]) status(await node.call('admin', 'POST', '/api/circles/recall-circle/members', { organisation_id: org, trial: org === ORG.ngo }), 200);
      status(await node.call('admin', 'POST', '/api/circles/recall-circle/agreements', { terms: terms('recall') }), 201);
      // Bank and NGO accept v1 while it is the latest (a superseded version cannot be accepted).
      status(await node.call('bank', 'POST', '/api/circles/recall-circle/accept', { version: 1 }), 200);
      status(await node.call('ngo', 'POST', '/api/circles/recall-circle/accept', { version: 1 }), 200);
      status(await node.call('admin', 'POST', '/api/circles/recall-circle/agreements', { terms: terms('retain') }), 201);
      status(await node.call('grid', 'POST', '/api/circles/recall-circle/accept', { version: 2 }), 200);
      await node.store.addObjects('recall-circle', objects);
    });

    it('on leave, queues what the audit says the member received through the circle, and releases stop', async () => {
      assert.deepEqual(await read('bank', 'recall-circle'), [objects[0]?.id, objects[1]?.id]);
      const expected = await audited(ORG.bank, 'recall-circle');
      assert.equal(expected.length, 2);
      const left = status(await node.call('bank', 'POST', '/api/circles/recall-circle/leave', {}), 200).json<Record<string, unknown>>();
      assert.equal(left['recall_notices_queued'], 2);
      assert.deepEqual(await recalls(ORG.bank, 'recall-circle'), expected);
      assert.deepEqual(await read('bank', 'recall-circle'), [], 'nothing is released after leaving');
      assert.deepEqual(await audited(ORG.bank, 'recall-circle'), expected);
      refused(await node.call('bank', 'GET', '/api/circles/recall-circle'), 404, 'ENT_CIRCLE_NOT_FOUND');
    });

    it('on end, queues for members whose terms say recall, exactly what they received', async () => {
      assert.deepEqual(await read('ngo', 'recall-circle'), [objects[0]?.id], 'a trial member: GREEN indicators only');
      assert.deepEqual(await read('grid', 'recall-circle'), [objects[0]?.id, objects[1]?.id]);
      const ended = status(await node.call('admin', 'POST', '/api/circles/recall-circle/end', {}), 200).json<Record<string, unknown>>();
      assert.equal(ended['recall_notices_queued'], 1);
      assert.deepEqual(await recalls(ORG.ngo, 'recall-circle'), await audited(ORG.ngo, 'recall-circle'));
      assert.deepEqual(await recalls(ORG.grid, 'recall-circle'), [], 'terms v2 say retain');
      assert.deepEqual(await read('ngo', 'recall-circle'), []);
      assert.deepEqual(await read('grid', 'recall-circle'), []);
      refused(await node.call('admin', 'POST', '/api/circles/recall-circle/end', {}), 409, 'ENT_CIRCLE_ENDED');
      refused(await node.call('admin', 'POST', '/api/circles/recall-circle/members', { organisation_id: ORG.stranger }), 409, 'ENT_CIRCLE_ENDED');
    });
  });
});
