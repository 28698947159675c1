import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { parseMicroTimestamp } from '../../src/stix/micro-timestamp.ts';
import { MAX_ENVELOPE_OBJECTS } from '../../src/taxii/parse-envelope.ts';
import { API, ADD_TEST, bearer, errorOf, HIGH_VALUE, indicator, QUERY_TEST, startTestNode, TAXII, type TestNode } from './taxii-test-kit.ts';

const collection = `${API}collections/${HIGH_VALUE}/`;
const IND_MULTI = 'indicator--6770298f-0fd8-471a-ab8c-1c658a46574e';
const IND_ONE = 'indicator--cd981c25-8042-4166-8945-51178443bdac';
const MALWARE = 'malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec';
const MARKING = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';
const RELATIONSHIP = 'relationship--2f9a9aa9-108a-4333-83e2-4fb25add0463';

interface Envelope {
  more: boolean;
  next?: string;
  objects?: { id: string; type: string; modified?: string; created?: string }[];
}
interface Manifest {
  more: boolean;
  objects?: { id: string; date_added: string; version: string; media_type: string }[];
}
interface Status {
  id: string;
  status: string;
  request_timestamp: string;
  total_count: number;
  success_count: number;
  failure_count: number;
  pending_count: number;
  successes?: { id: string; version: string }[];
  failures?: { id: string; version: string; message: string }[];
}

describe('TAXII 2.1 endpoints over the medallion fixture', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node.close());

  const get = (path: string, token: Parameters<typeof bearer>[0] = 'analyst') => node.app.inject({ url: path, headers: bearer(token) });
  const envelope = async (path: string) => {
    const response = await get(path);
    assert.equal(response.statusCode, 200, response.body);
    return response.json<Envelope>();
  };
  const idsOf = (env: Envelope) => (env.objects ?? []).map((o) => `${o.id}@${o.modified ?? o.created ?? ''}`);
  const post = (collectionId: string, objects: unknown[], token: Parameters<typeof bearer>[0] = 'analyst') =>
    node.app.inject({
      method: 'POST',
      url: `${API}collections/${collectionId}/objects/`,
      headers: { ...bearer(token), 'content-type': TAXII },
      payload: JSON.stringify({ objects }),
    });

  describe('discovery and API root', () => {
    it('lists the one API root as default', async () => {
      const response = await get('/taxii2/');
      const body = response.json<{ title: string; default: string; api_roots: string[] }>();
      assert.equal(body.title, 'Entente test node');
      assert.deepEqual(body.api_roots, [body.default]);
      assert.match(body.default, /^http:\/\/[^/]+\/taxii2\/api\/$/);
    });

    it('describes the API root with its TAXII version and size limit', async () => {
      const body = (await get(API)).json<{ versions: string[]; max_content_length: number; title: string }>();
      assert.deepEqual(body.versions, [TAXII]);
      assert.equal(body.max_content_length, 64 * 1024 * 1024);
    });
  });

  describe('GET objects', () => {
    it('returns the latest version of each object, oldest date_added first', async () => {
      const env = await envelope(`${collection}objects/`);
      assert.equal(env.more, false);
      assert.equal(env.next, undefined);
      assert.deepEqual(idsOf(env), [
        `${RELATIONSHIP}@2014-05-08T09:00:00.000Z`,
        `${IND_ONE}@2014-05-08T09:00:00.000Z`,
        `${IND_MULTI}@2017-01-27T13:49:53.935Z`,
        `${MARKING}@2017-01-20T00:00:00.000Z`,
        `${MALWARE}@2018-02-23T18:30:00.000Z`,
      ]);
    });

    it('serves each object exactly as stored', async () => {
      const response = await get(`${collection}objects/?match[id]=${MARKING}`);
      assert.match(response.body, /"definition":\{"tlp":"green"\}/);
    });

    it('sets X-TAXII-Date-Added-First/Last to the first and last object returned', async () => {
      const all = (await get(`${collection}manifest/?match[version]=all`)).json<Manifest>().objects ?? [];
      const response = await get(`${collection}objects/?match[version]=all&limit=3`);
      assert.equal(response.headers['x-taxii-date-added-first'], all[0]?.date_added);
      assert.equal(response.headers['x-taxii-date-added-last'], all[2]?.date_added);
      assert.match(String(response.headers['x-taxii-date-added-first']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    });

    it('filters by match[type], match[id] and their comma-separated lists', async () => {
      assert.deepEqual((await envelope(`${collection}objects/?match[type]=indicator`)).objects?.map((o) => o.id), [IND_ONE, IND_MULTI]);
      assert.deepEqual((await envelope(`${collection}objects/?match[type]=malware,relationship`)).objects?.map((o) => o.id), [RELATIONSHIP, MALWARE]);
      assert.deepEqual((await envelope(`${collection}objects/?match[id]=${MALWARE},${IND_ONE}`)).objects?.map((o) => o.id), [IND_ONE, MALWARE]);
      assert.deepEqual((await envelope(`${collection}objects/?match[type]=campaign`)).objects, undefined);
    });

    it('selects versions with match[version] first, last, all and a timestamp', async () => {
      const versions = async (selector: string) =>
        idsOf(await envelope(`${collection}objects/?match[id]=${IND_MULTI}&match[version]=${selector}`)).map((s) => s.split('@')[1]);
      assert.deepEqual(await versions('first'), ['2016-11-03T12:30:59.000Z']);
      assert.deepEqual(await versions('last'), ['2017-01-27T13:49:53.935Z']);
      assert.deepEqual(await versions('all'), ['2016-11-03T12:30:59.000Z', '2016-12-25T12:30:59.444Z', '2017-01-27T13:49:53.935Z']);
      assert.deepEqual(await versions('2016-12-25T12:30:59.444Z'), ['2016-12-25T12:30:59.444Z']);
      assert.deepEqual(await versions('first,last'), ['2016-11-03T12:30:59.000Z', '2017-01-27T13:49:53.935Z']);
      assert.deepEqual(await versions('2000-01-01T00:00:00.000Z'), []);
    });

    it('filters by match[spec_version]', async () => {
      assert.equal((await envelope(`${collection}objects/?match[spec_version]=2.1`)).objects?.length, 5);
      assert.equal((await envelope(`${collection}objects/?match[spec_version]=2.0`)).objects, undefined);
    });

    it('filters by added_after (strictly after) with microsecond precision', async () => {
      const manifest = (await get(`${collection}manifest/?match[version]=all`)).json<Manifest>().objects ?? [];
      const third = manifest[2]?.date_added ?? '';
      const after = await envelope(`${collection}objects/?match[version]=all&added_after=${third}`);
      assert.equal(after.objects?.length, 5);
      const firstAfter = (await get(`${collection}manifest/?match[version]=all&added_after=${third}`)).json<Manifest>().objects?.[0];
      assert.ok((parseMicroTimestamp(firstAfter?.date_added ?? '') ?? 0) > (parseMicroTimestamp(third) ?? 0));
      assert.equal((await envelope(`${collection}objects/?added_after=2999-01-01T00:00:00Z`)).objects, undefined);
    });

    it('combines every filter', async () => {
      const env = await envelope(
        `${collection}objects/?match[type]=indicator,malware&match[id]=${IND_MULTI},${MALWARE}&match[version]=all&match[spec_version]=2.1&added_after=1970-01-01T00:00:00Z&limit=2`,
      );
      assert.equal(env.objects?.length, 2);
      assert.equal(env.more, true);
      const rest = await envelope(
        `${collection}objects/?match[type]=indicator,malware&match[id]=${IND_MULTI},${MALWARE}&match[version]=all&match[spec_version]=2.1&added_after=1970-01-01T00:00:00Z&limit=10&next=${env.next ?? ''}`,
      );
      assert.equal(rest.more, false);
      assert.deepEqual([...idsOf(env), ...idsOf(rest)].length, 5);
    });

    it('refuses a bad query with 400 naming the parameter', async () => {
      const response = await get(`${collection}objects/?added_after=last-tuesday`);
      assert.equal(response.statusCode, 400);
      const body = errorOf(response);
      assert.equal(body.error_code, 'ENT_HTTP_BAD_QUERY');
      assert.equal(body.details?.['parameter'], 'added_after');
      assert.match(body.description, /added_after must be a timestamp/);
    });
  });

  describe('GET one object and its versions', () => {
    it('returns the latest version by default and all with match[version]=all', async () => {
      const latest = await envelope(`${collection}objects/${IND_MULTI}/`);
      assert.deepEqual(idsOf(latest), [`${IND_MULTI}@2017-01-27T13:49:53.935Z`]);
      const all = await envelope(`${collection}objects/${IND_MULTI}/?match[version]=all`);
      assert.equal(all.objects?.length, 3);
      const paged = await envelope(`${collection}objects/${IND_MULTI}/?match[version]=all&limit=1`);
      assert.equal(paged.more, true);
      assert.ok(paged.next);
    });

    it('answers 404 for an unknown object, in the collection error shape', async () => {
      const response = await get(`${collection}objects/indicator--00000000-0000-4000-8000-000000000000/`);
      assert.equal(response.statusCode, 404);
      assert.equal(errorOf(response).error_code, 'ENT_OBJECT_NOT_FOUND');
      assert.match(errorOf(response).description, /No object indicator--00000000-0000-4000-8000-000000000000/);
    });

    it('lists the versions of an object', async () => {
      const response = await get(`${collection}objects/${IND_MULTI}/versions/`);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), {
        more: false,
        versions: ['2016-11-03T12:30:59.000Z', '2016-12-25T12:30:59.444Z', '2017-01-27T13:49:53.935Z'],
      });
      assert.ok(response.headers['x-taxii-date-added-first']);
      assert.ok(response.headers['x-taxii-date-added-last']);
      const page = await get(`${collection}objects/${IND_MULTI}/versions/?limit=2`);
      const first = page.json<{ more: boolean; next: string; versions: string[] }>();
      assert.deepEqual([first.more, first.versions.length], [true, 2]);
      const second = (await get(`${collection}objects/${IND_MULTI}/versions/?limit=2&next=${first.next}`)).json<{ versions: string[] }>();
      assert.deepEqual(second.versions, ['2017-01-27T13:49:53.935Z']);
    });

    it('refuses filters the versions endpoint does not take', async () => {
      const response = await get(`${collection}objects/${IND_MULTI}/versions/?match[version]=all`);
      assert.equal(response.statusCode, 400);
      assert.equal(errorOf(response).details?.['parameter'], 'match[version]');
    });

    it('answers 404 for the versions of an unknown object', async () => {
      assert.equal((await get(`${collection}objects/malware--00000000-0000-4000-8000-000000000000/versions/`)).statusCode, 404);
    });
  });

  describe('manifest', () => {
    it('has one record per version with date_added, version and media type', async () => {
      const response = await get(`${collection}manifest/?match[version]=all`);
      const records = response.json<Manifest>().objects ?? [];
      assert.equal(records.length, 8);
      for (const record of records) {
        assert.deepEqual(Object.keys(record), ['id', 'date_added', 'version', 'media_type']);
        assert.equal(record.media_type, 'application/stix+json;version=2.1');
        assert.match(record.date_added, /\.\d{6}Z$/);
      }
      const dates = records.map((r) => r.date_added);
      assert.deepEqual([...dates].sort(), dates);
      assert.equal(response.headers['x-taxii-date-added-first'], dates[0]);
      assert.equal(response.headers['x-taxii-date-added-last'], dates[7]);
    });

    it('takes the same filters as objects', async () => {
      const records = (await get(`${collection}manifest/?match[type]=indicator&match[version]=first`)).json<Manifest>().objects ?? [];
      assert.deepEqual(
        records.map((r) => [r.id, r.version]),
        [
          [IND_ONE, '2014-05-08T09:00:00.000Z'],
          [IND_MULTI, '2016-11-03T12:30:59.000Z'],
        ],
      );
    });
  });

  describe('POST objects and status', () => {
    it('stores the valid objects, lists invalid ones as failures with the validator\'s reason, and answers 202 with the status', async () => {
      const response = await post(ADD_TEST, [indicator(100), 'not an object', 42, indicator(101), { name: 'no type or id' }]);
      assert.equal(response.statusCode, 202);
      assert.equal(response.headers['content-type'], TAXII);
      const status = response.json<Status>();
      assert.equal(status.status, 'complete');
      assert.equal(status.total_count, 5);
      assert.equal(status.success_count, 2);
      assert.equal(status.failure_count, 3);
      assert.equal(status.pending_count, 0);
      assert.deepEqual(status.successes?.map((s) => s.id), [indicator(100).id, indicator(101).id]);
      assert.deepEqual(status.failures?.map((f) => f.id), ['$.objects[1]', '$.objects[2]', '$.objects[4]']);
      for (const failure of status.failures ?? []) assert.match(failure.message, /\$\.objects\[\d\]/);
      assert.match(status.failures?.[0]?.message ?? '', /JSON object/);

      const stored = (await get(`${API}collections/${ADD_TEST}/objects/?match[id]=${indicator(100).id},${indicator(101).id}`)).json<Envelope>();
      assert.equal(stored.objects?.length, 2);

      const again = await get(`${API}status/${status.id}/`);
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json(), status);
    });

    it('is idempotent: re-POSTing the same envelope succeeds and stores nothing twice', async () => {
      const objects = [indicator(200), indicator(201)];
      const first = (await post(ADD_TEST, objects)).json<Status>();
      const second = (await post(ADD_TEST, objects)).json<Status>();
      assert.notEqual(first.id, second.id);
      assert.equal(second.success_count, 2);
      assert.equal(second.failure_count, 0);
      const all = (await get(`${API}collections/${ADD_TEST}/objects/${indicator(200).id}/?match[version]=all`)).json<Envelope>();
      assert.equal(all.objects?.length, 1);
    });

    it('lists in the status only what the caller may read: a write-only token sees its counts but no object ids, the administrator sees them', async () => {
      const response = await post(QUERY_TEST, [indicator(700), indicator(701)]);
      assert.equal(response.statusCode, 202);
      const posted = response.json<Status>();
      assert.equal(posted.success_count, 2);
      assert.equal(posted.successes, undefined);
      for (let poll = 0; poll < 2; poll += 1) {
        const own = await get(`${API}status/${posted.id}/`);
        assert.equal(own.statusCode, 200);
        assert.deepEqual(own.json(), posted);
      }
      for (let poll = 0; poll < 2; poll += 1) {
        const admin = (await get(`${API}status/${posted.id}/`, 'admin')).json<Status>();
        assert.deepEqual(admin.successes?.map((s) => s.id), [indicator(700).id, indicator(701).id]);
        assert.equal(admin.success_count, 2);
      }
      for (let poll = 0; poll < 2; poll += 1) assert.equal((await get(`${API}status/${posted.id}/`)).json<Status>().successes, undefined, 'the administrator\'s answer is not served to the write-only token');
      assert.equal((await get(`${API}status/${posted.id}/`, 'reader')).statusCode, 404);
    });

    it('reports a conflicting version (same id and modified, other content) as a failure', async () => {
      await post(ADD_TEST, [indicator(300)]);
      const status = (await post(ADD_TEST, [indicator(300, { name: 'changed without a new modified' }), indicator(301)])).json<Status>();
      assert.equal(status.success_count, 1);
      assert.equal(status.failure_count, 1);
      assert.equal(status.failures?.[0]?.id, indicator(300).id);
      assert.equal(status.failures?.[0]?.version, '2026-01-01T00:00:00.000Z');
      assert.match(status.failures?.[0]?.message ?? '', /different content/);
    });

    it("refuses an indicator whose STIX pattern does not parse, naming the parser's finding", async () => {
      const broken = indicator(350, { pattern: "[ipv4-addr:value = '198.51.100.1'" });
      const status = (await post(ADD_TEST, [broken, indicator(351)])).json<Status>();
      assert.equal(status.success_count, 1);
      assert.equal(status.failures?.[0]?.id, broken.id);
      assert.match(status.failures?.[0]?.message ?? '', /\$\.objects\[0\]\.pattern: the STIX pattern is invalid: at \d+: expected/);
      const stored = await get(`${API}collections/${ADD_TEST}/objects/${broken.id}/`);
      assert.equal(stored.statusCode, 404);
    });

    it('adds a new version when modified changes', async () => {
      await post(ADD_TEST, [indicator(400)]);
      await post(ADD_TEST, [indicator(400, { modified: '2026-02-01T00:00:00.000Z', name: 'v2' })]);
      const versions = (await get(`${API}collections/${ADD_TEST}/objects/${indicator(400).id}/versions/`)).json<{ versions: string[] }>();
      assert.deepEqual(versions.versions, ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z']);
    });

    it('accepts a STIX bundle as the body', async () => {
      const response = await node.app.inject({
        method: 'POST',
        url: `${API}collections/${ADD_TEST}/objects/`,
        headers: { ...bearer('analyst'), 'content-type': TAXII },
        payload: JSON.stringify({ type: 'bundle', id: 'bundle--00000000-0000-4000-8000-000000000001', objects: [indicator(500)] }),
      });
      assert.equal(response.statusCode, 202);
      assert.equal(response.json<Status>().success_count, 1);
    });

    it('refuses an envelope of more than MAX_ENVELOPE_OBJECTS objects with 413 ENT_INPUT_TOO_LARGE, storing nothing', async () => {
      const objects: unknown[] = Array.from({ length: MAX_ENVELOPE_OBJECTS }, () => 1);
      objects.push(indicator(800));
      const response = await post(ADD_TEST, objects);
      assert.equal(response.statusCode, 413, response.body);
      const error = errorOf(response);
      assert.equal(error.error_code, 'ENT_INPUT_TOO_LARGE');
      assert.match(error.description, new RegExp(`${MAX_ENVELOPE_OBJECTS + 1} objects`));
      assert.equal((await get(`${API}collections/${ADD_TEST}/objects/${indicator(800).id}/`)).statusCode, 404);
    });

    it('shows a status only to the token that made the request (and admins); others get 404', async () => {
      const status = (await post(ADD_TEST, [indicator(600)])).json<Status>();
      assert.equal((await get(`${API}status/${status.id}/`, 'admin')).statusCode, 200);
      const other = await get(`${API}status/${status.id}/`, 'reader');
      assert.equal(other.statusCode, 404);
      assert.equal(errorOf(other).error_code, 'ENT_STATUS_NOT_FOUND');
      assert.equal((await get(`${API}status/00000000-0000-4000-8000-000000000000/`)).statusCode, 404);
    });
  });

  describe('DELETE one object', () => {
    it('removes the selected versions, then all, and answers 404 afterwards', async () => {
      await post(ADD_TEST, [indicator(700), indicator(700, { modified: '2026-03-01T00:00:00.000Z' })]);
      const url = `${API}collections/${ADD_TEST}/objects/${indicator(700).id}/`;
      const first = await node.app.inject({ method: 'DELETE', url: `${url}?match[version]=first`, headers: bearer('analyst') });
      assert.equal(first.statusCode, 200);
      assert.deepEqual((await get(`${url}versions/`)).json<{ versions: string[] }>().versions, ['2026-03-01T00:00:00.000Z']);
      assert.equal((await node.app.inject({ method: 'DELETE', url, headers: bearer('analyst') })).statusCode, 200);
      assert.equal((await get(url)).statusCode, 404);
      assert.equal((await node.app.inject({ method: 'DELETE', url, headers: bearer('analyst') })).statusCode, 404);
    });

    it('refuses parameters DELETE does not take', async () => {
      const response = await node.app.inject({ method: 'DELETE', url: `${collection}objects/${IND_ONE}/?limit=1`, headers: bearer('analyst') });
      assert.equal(response.statusCode, 400);
      assert.equal(errorOf(response).details?.['parameter'], 'limit');
    });
  });
});
