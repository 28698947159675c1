// Arrival checks on writes and the quarantine (docs/federation.md, "Arrival checks"): a TAXII POST by
// a partner whose organisation has pinned keys (another Entente node pushing) runs every object
// through decideArrival; what fails is held in quarantine — not readable, not matched against logs —
// and the status resource reports it as a failure naming the reason. An administrator lists, shows,
// releases (stored, marked unverified) or drops items over REST and from the command line; every
// malformed sequence number is a plain "not found" or usage error, never a crash.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createHttpApp } from '../../src/server/create-http-app.ts';
import { signObject } from '../../src/federation/sign-object.ts';
import { testOrganisation, type TestOrganisation } from '../../src/federation/test-support.ts';
import { SIGNED_BUNDLE_NODE_PROPERTY } from '../../src/federation/signed-bundle.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { entente, temporaryDirectory, type CliRun } from '../cli/cli-kit.ts';

const HOME = 'identity--0e0e0e0e-0000-4000-8000-000000000000';
const NODE: TestOrganisation = testOrganisation(31);
const PLAIN = 'identity--0e0e0e0e-0000-4000-8000-0000000000dd';
const CIRCLE = 'push-circle';
const TAXII = 'application/taxii+json;version=2.1';
const secrets = {
  node: 'ent_entente-partner-000000000000000000000000',
  plain: 'ent_plain-partner-00000000000000000000000000',
  admin: 'ent_admin-0000000000000000000000000000000000',
  analyst: 'ent_analyst-00000000000000000000000000000000',
};

function indicator(n: number, ip: string, extra: Record<string, unknown> = {}): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--0e0e0e0e-0000-4000-8000-${String(n).padStart(12, '0')}`,
    created: '2026-02-01T00:00:00.000Z',
    modified: '2026-02-01T00:00:00.000Z',
    name: `indicator ${n}`,
    pattern: `[ipv4-addr:value = '${ip}']`,
    pattern_type: 'stix',
    valid_from: '2026-02-01T00:00:00Z',
    object_marking_refs: [TLP2_MARKING_IDS.green],
    ...extra,
  } as StixObject;
}

const GOOD_IP = '203.0.113.10';
const TAMPERED_IP = '203.0.113.66';
const genuine = signObject(indicator(1, GOOD_IP), NODE.signer);
/** Signed, then its pattern changed on the way: the signature no longer holds. */
const tampered = { ...signObject(indicator(2, '203.0.113.20'), NODE.signer), pattern: `[ipv4-addr:value = '${TAMPERED_IP}']` } as StixObject;
const unsigned = indicator(3, '203.0.113.30');

interface StatusJson {
  status: string;
  total_count: number;
  success_count: number;
  failure_count: number;
  successes?: { id: string }[];
  failures?: { id: string; version: string; message: string }[];
}
interface QuarantineItemJson {
  seq: number;
  reason: string;
  object_id: string;
  version: string;
  message: string;
  peer: string | null;
  source: string;
  resolution: { kind: string; by: string } | null;
  json?: string;
}

describe('arrival checks on a TAXII POST from an Entente partner, and the quarantine (REST)', () => {
  let store: ObjectStore;
  let app: FastifyInstance;
  let status: StatusJson;
  const call = (token: keyof typeof secrets, method: 'GET' | 'POST', url: string, payload?: string): Promise<LightMyRequestResponse> =>
    app.inject({
      method, url,
      headers: { authorization: `Bearer ${secrets[token]}`, accept: url.startsWith('/taxii2/') ? TAXII : 'application/json', ...(payload === undefined ? {} : { 'content-type': url.startsWith('/taxii2/') ? TAXII : 'application/json' }) },
      ...(payload === undefined ? {} : { payload }),
    });
  const items = async (query = ''): Promise<QuarantineItemJson[]> => {
    const response = await call('admin', 'GET', `/api/quarantine${query}`);
    assert.equal(response.statusCode, 200, response.body);
    return (JSON.parse(response.body) as { items: QuarantineItemJson[] }).items;
  };
  const seqOf = async (objectId: string): Promise<number> => {
    const item = (await items('?all=true')).find((candidate) => candidate.object_id === objectId);
    assert.ok(item, `${objectId} is quarantined`);
    return item.seq;
  };

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2026-01-01T00:00:00Z');
    await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: created.toISOString(), modified: created.toISOString(), name: 'Home', identity_class: 'organization' }));
    for (const org of [NODE.id, PLAIN]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    await store.pinKey({ ...NODE.pinned, validUntil: undefined, source: 'peer-add', pinnedAt: created.toISOString() });
    await store.createCollection({ id: CIRCLE, title: CIRCLE }, created);
    await store.createCircle(
      {
        id: CIRCLE, name: CIRCLE, kind: 'formal', visibility: 'open', collectionId: CIRCLE, defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-06-01T00:00:00.000Z',
        members: [HOME, NODE.id, PLAIN].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' as const : 'contributor' as const, joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
      },
      created,
    );
    await store.addAgreement({
      circleId: CIRCLE, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z',
      terms: { scope: { types: ['indicator'] }, highestTlp: 'amber', onwardSharing: 'none', attribution: 'keep', expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' }, endRule: 'retain' },
    });
    for (const org of [NODE.id, PLAIN]) await store.addAcceptance({ circleId: CIRCLE, organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    const grants = [{ collectionId: CIRCLE, read: true, write: true }];
    for (const [name, org, admin] of [['node', NODE.id, false], ['plain', PLAIN, false], ['admin', undefined, true], ['analyst', undefined, false]] as const) {
      await store.createToken({ name, secretHash: hashTokenSecret(secrets[name]), admin, grants, organisationId: org, createdAt: created.toISOString(), revokedAt: undefined });
    }
    app = await createHttpApp({
      store, logger: pino({ level: 'silent' }), limits: { maxBodyBytes: 1 << 20, maxJsonDepth: 64 }, clock: () => new Date('2026-06-01T00:00:00Z'), randomUuid: randomUUID,
      homeOrganisationId: HOME, node: { title: 't', apiRootPath: 'api' }, tokenCacheTtlMs: 0,
    });
    const posted = await call('node', 'POST', `/taxii2/api/collections/${CIRCLE}/objects/`, JSON.stringify({ objects: [genuine, tampered, unsigned, { type: 'indicator', id: 'not an id' }] }));
    assert.equal(posted.statusCode, 202, posted.body);
    status = JSON.parse(posted.body) as StatusJson;
  });

  after(async () => {
    await app.close();
    await store.close();
  });

  it('stores the genuine version and reports every other one as a failure naming its quarantine reason', () => {
    assert.equal(status.status, 'complete');
    assert.equal(status.total_count, 4);
    assert.equal(status.success_count, 1);
    assert.deepEqual(status.successes?.map((success) => success.id), [genuine.id]);
    assert.equal(status.failure_count, 3);
    const failure = (id: string): string => status.failures?.find((candidate) => candidate.id === id)?.message ?? '';
    assert.match(failure(tampered.id), /^quarantined \(bad-signature\): /);
    assert.match(failure(unsigned.id), /^quarantined \(unsigned\): /);
    assert.match(failure('not an id'), /^quarantined \(malformed\): /);
  });

  it('records where the genuine version came from: pushed, verified, signed by the partner', async () => {
    const rows = (await store.provenanceOf([{ id: genuine.id, version: '2026-02-01T00:00:00.000Z' }])).get(`${genuine.id}\u0000${'2026-02-01T00:00:00.000Z'}`) ?? [];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.verification, 'verified');
    assert.equal(rows[0]?.signer, NODE.id);
  });

  it('a quarantined version cannot be read, by id or in a listing', async () => {
    for (const id of [tampered.id, unsigned.id]) {
      assert.equal((await call('admin', 'GET', `/taxii2/api/collections/${CIRCLE}/objects/${id}/`)).statusCode, 404);
    }
    const listed = JSON.parse((await call('admin', 'GET', `/taxii2/api/collections/${CIRCLE}/objects/`)).body) as { objects?: StixObject[] };
    assert.deepEqual(listed.objects?.map((object) => object.id), [genuine.id]);
  });

  it('a quarantined indicator is not matched against observations; the stored one is', async () => {
    const response = await app.inject({
      method: 'POST', url: '/api/observations', headers: { authorization: `Bearer ${secrets.admin}`, 'content-type': 'application/x-ndjson', accept: 'application/json' },
      payload: [GOOD_IP, TAMPERED_IP].map((value) => JSON.stringify({ type: 'ipv4-addr', value })).join('\n'),
    });
    assert.equal(response.statusCode, 200, response.body);
    const alerts = (JSON.parse(response.body) as { alerts: { indicator_id: string }[] }).alerts;
    assert.deepEqual(alerts.map((alert) => alert.indicator_id), [genuine.id]);
  });

  it('lists open items with seq, time, peer, reason, object, version and message; only for administrators', async () => {
    const open = await items();
    assert.deepEqual(open.map((item) => item.reason).sort(), ['bad-signature', 'malformed', 'unsigned']);
    const item = open.find((candidate) => candidate.object_id === tampered.id);
    assert.equal(item?.version, '2026-02-01T00:00:00.000Z');
    assert.equal(item?.source, 'push');
    assert.match(item?.message ?? '', /does not verify/);
    assert.equal(item?.json, undefined, 'the listing does not carry the objects');
    assert.deepEqual((await items('?reason=unsigned')).map((candidate) => candidate.object_id), [unsigned.id]);
    for (const token of ['analyst', 'node'] as const) {
      const refused = await call(token, 'GET', '/api/quarantine');
      assert.equal(refused.statusCode, 403, refused.body);
      assert.ok(!refused.body.includes(tampered.id));
    }
    assert.equal((await call('admin', 'GET', '/api/quarantine?reason=nonsense')).statusCode, 400);
    assert.equal((await call('admin', 'GET', '/api/quarantine?limit=0')).statusCode, 400);
    assert.equal((await call('admin', 'GET', '/api/quarantine?sneaky=1')).statusCode, 400);
  });

  it('shows one item with the object exactly as it arrived', async () => {
    const response = await call('admin', 'GET', `/api/quarantine/${await seqOf(tampered.id)}`);
    assert.equal(response.statusCode, 200, response.body);
    const item = JSON.parse(response.body) as QuarantineItemJson;
    assert.deepEqual(JSON.parse(item.json ?? 'null'), tampered);
  });

  it('release stores the item marked unverified; a second release or a drop is refused as resolved', async () => {
    const seq = await seqOf(unsigned.id);
    const released = await call('admin', 'POST', `/api/quarantine/${seq}/release`);
    assert.equal(released.statusCode, 200, released.body);
    assert.equal((JSON.parse(released.body) as QuarantineItemJson).resolution?.kind, 'released');
    assert.equal((await call('admin', 'GET', `/taxii2/api/collections/${CIRCLE}/objects/${unsigned.id}/`)).statusCode, 200);
    const rows = [...(await store.provenanceOf([{ id: unsigned.id, version: '2026-02-01T00:00:00.000Z' }])).values()].flat();
    assert.deepEqual(rows.map((row) => row.verification), ['unverified']);
    for (const action of ['release', 'drop']) {
      const again = await call('admin', 'POST', `/api/quarantine/${seq}/${action}`);
      assert.equal(again.statusCode, 409, again.body);
      assert.equal((JSON.parse(again.body) as { error_code: string }).error_code, 'ENT_QUARANTINE_RESOLVED');
    }
  });

  it('a malformed item cannot be released, only dropped', async () => {
    const seq = (await items('?reason=malformed'))[0]?.seq ?? 0;
    const refused = await call('admin', 'POST', `/api/quarantine/${seq}/release`);
    assert.equal(refused.statusCode, 422, refused.body);
    assert.equal((JSON.parse(refused.body) as { error_code: string }).error_code, 'ENT_OBJECT_INVALID');
    assert.equal((await call('admin', 'POST', `/api/quarantine/${seq}/drop`)).statusCode, 200);
  });

  it('drop closes an item without storing it; it stays listed with all=true', async () => {
    const seq = await seqOf(tampered.id);
    const dropped = await call('admin', 'POST', `/api/quarantine/${seq}/drop`);
    assert.equal(dropped.statusCode, 200, dropped.body);
    assert.equal((await call('admin', 'GET', `/taxii2/api/collections/${CIRCLE}/objects/${tampered.id}/`)).statusCode, 404);
    assert.deepEqual(await items(), []);
    const all = await items('?all=true');
    assert.deepEqual(all.map((item) => item.resolution?.kind).sort(), ['dropped', 'dropped', 'released']);
    const again = await call('admin', 'POST', `/api/quarantine/${seq}/drop`);
    assert.equal((JSON.parse(again.body) as { error_code: string }).error_code, 'ENT_QUARANTINE_RESOLVED');
  });

  it('answers every malformed or unknown sequence number with 404, never a crash', async () => {
    const hostile = ['abc', '0', '-1', '1e3', '0x10', '1.5', '99999999999999999999', '9007199254740993', '12345', '%00', ' 1', '1%20', encodeURIComponent('1; DROP TABLE quarantine')];
    for (const seq of hostile) {
      for (const [method, suffix] of [['GET', ''], ['POST', '/release'], ['POST', '/drop']] as const) {
        const response = await call('admin', method, `/api/quarantine/${seq}${suffix}`);
        assert.equal(response.statusCode, 404, `${method} ${seq}${suffix}: ${response.body}`);
        assert.equal((JSON.parse(response.body) as { error_code: string }).error_code, 'ENT_QUARANTINE_NOT_FOUND', `${seq}`);
      }
    }
    // A body on release/drop is refused: the routes take no fields.
    const seq = (await items('?all=true'))[0]?.seq ?? 1;
    assert.equal((await call('admin', 'POST', `/api/quarantine/${seq}/release`, JSON.stringify({ force: true }))).statusCode, 400);
  });
});

describe('entente quarantine and entente import --from (a signed bundle carried across an air gap)', () => {
  const data = temporaryDirectory('quarantine-cli');
  after(() => data.remove());
  const run = (...args: string[]): Promise<CliRun> => entente(data.path, args);
  const ok = (result: CliRun): CliRun => {
    assert.equal(result.code, 0, `exit ${result.code}: ${result.stdout}${result.stderr}`);
    return result;
  };
  const refused = (result: CliRun, exit: number, code: string): void => {
    assert.equal(result.code, exit, `expected exit ${exit}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^entente: ${code}: `, 'm'));
  };
  const listed = async (...args: string[]): Promise<QuarantineItemJson[]> =>
    ok(await run('quarantine', 'list', '--json', ...args)).stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as QuarantineItemJson);
  let bundlePath = '';

  before(async () => {
    ok(await run('org', 'add', 'Entente partner', '--kind', 'cert', '--id', NODE.id));
    ok(await run('circle', 'create', 'air', '--name', 'Air-gapped', '--until', '2099-01-01T00:00:00Z'));
    ok(await run('circle', 'invite', 'air', '--org', NODE.id));
    const terms = join(data.path, 'terms.json');
    writeFileSync(terms, JSON.stringify({
      scope: { types: ['indicator'] }, highest_tlp: 'amber', onward_sharing: 'none', attribution: 'keep',
      expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' }, end_rule: 'retain',
    }));
    ok(await run('circle', 'propose', 'air', '--terms', terms));
    ok(await run('circle', 'accept', 'air', '--org', NODE.id));
    bundlePath = join(data.path, 'from-partner.json');
    writeFileSync(bundlePath, JSON.stringify({
      type: 'bundle', id: 'bundle--0e0e0e0e-0000-4000-8000-0000000000b1',
      [SIGNED_BUNDLE_NODE_PROPERTY]: { organisation: { type: 'identity', spec_version: '2.1', id: NODE.id, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', name: 'Entente partner', identity_class: 'organization' }, keys: [{ key_id: NODE.pinned.keyId, public_key: NODE.pinned.publicKey, valid_from: NODE.pinned.validFrom }], software: 'entente', protocol: 1 },
      objects: [genuine, tampered, unsigned],
    }));
  });

  it('refuses a signed import before any key is pinned for the sender', async () => {
    const result = await run('import', bundlePath, '--from', NODE.id, '--collection', 'air');
    refused(result, 2, 'ENT_CLI_USAGE');
    assert.match(result.stderr, /entente key pin/);
  });

  it("refuses a file whose header names another organisation than --from", async () => {
    ok(await run('org', 'add', 'Someone else', '--kind', 'cert', '--id', PLAIN));
    refused(await run('import', bundlePath, '--from', PLAIN, '--collection', 'air'), 2, 'ENT_CLI_USAGE');
  });

  it('pins the key by hand, then imports: the genuine object is stored, the others are quarantined', async () => {
    refused(await run('key', 'pin', NODE.id, '--public-key', 'not-a-key'), 2, 'ENT_CLI_USAGE');
    const pinned = ok(await run('key', 'pin', NODE.id, '--public-key', NODE.pinned.publicKey));
    assert.match(pinned.stdout, new RegExp(`Pinned key ${NODE.pinned.keyId}`));
    assert.match(pinned.stdout, /fingerprint {2}([0-9a-f]{4} ){15}[0-9a-f]{4}/);
    const imported = await run('import', bundlePath, '--from', NODE.id, '--collection', 'air');
    assert.equal(imported.code, 1, imported.stderr);
    assert.match(imported.stdout, /^1 accepted, 0 duplicate, 2 quarantined \((bad-signature: 1, unsigned: 1|unsigned: 1, bad-signature: 1)\)/);
    const exported = JSON.parse(ok(await run('export', '--collection', 'air', '--type', 'indicator')).stdout) as { objects: StixObject[] };
    assert.deepEqual(exported.objects.map((object) => object.id), [genuine.id]);
    // Importing the same file again changes nothing but adds the same refusals again.
    const again = await run('import', bundlePath, '--from', NODE.id, '--collection', 'air');
    assert.match(again.stdout, /^0 accepted, 1 duplicate, 2 quarantined/);
  });

  it('lists, filters and shows quarantined items', async () => {
    const open = await listed();
    assert.equal(open.length, 4);
    assert.deepEqual(new Set(open.map((item) => item.source)), new Set(['file']));
    assert.deepEqual((await listed('--reason', 'bad-signature')).map((item) => item.object_id), [tampered.id, tampered.id]);
    const table = ok(await run('quarantine', 'list')).stdout.split('\n');
    assert.deepEqual(table[0]?.split('\t'), ['SEQ', 'RECEIVED', 'PEER', 'REASON', 'OBJECT', 'VERSION', 'STATE', 'MESSAGE']);
    assert.equal(table.filter((line) => line.includes('\tbad-signature\t')).length, 2);
    const shown = ok(await run('quarantine', 'show', String(open[0]?.seq)));
    assert.match(shown.stdout, /^reason {5}(bad-signature|unsigned)$/m);
    refused(await run('quarantine', 'list', '--reason', 'nonsense'), 2, 'ENT_CLI_USAGE');
  });

  it('release and drop, each once; twice is refused as resolved', async () => {
    const [first, second] = await listed('--reason', 'unsigned');
    assert.ok(first !== undefined && second !== undefined);
    assert.match(ok(await run('quarantine', 'release', String(first.seq))).stdout, /stored, marked unverified/);
    refused(await run('quarantine', 'release', String(first.seq)), 1, 'ENT_QUARANTINE_RESOLVED');
    refused(await run('quarantine', 'drop', String(first.seq)), 1, 'ENT_QUARANTINE_RESOLVED');
    // The second copy of the same version: releasing it finds the version already stored.
    assert.match(ok(await run('quarantine', 'release', String(second.seq))).stdout, /was already stored/);
    for (const item of await listed('--reason', 'bad-signature')) ok(await run('quarantine', 'drop', String(item.seq)));
    assert.deepEqual(await listed(), []);
    const all = await listed('--all');
    assert.equal(all.length, 4);
    assert.ok(all.every((item) => item.resolution !== null && item.resolution.by.startsWith('cli:')));
    const exported = JSON.parse(ok(await run('export', '--collection', 'air', '--type', 'indicator')).stdout) as { objects: StixObject[] };
    assert.deepEqual(exported.objects.map((object) => object.id).sort(), [genuine.id, unsigned.id].sort());
  });

  it('treats malformed sequence numbers as usage errors and unknown ones as not found', async () => {
    for (const seq of ['abc', '0', '-1', '1e3', '99999999999999999999', '1.5', '']) {
      for (const action of ['show', 'release', 'drop']) {
        const result = await run('quarantine', action, seq);
        assert.equal(result.code, 2, `${action} ${JSON.stringify(seq)}: ${result.stderr}`);
      }
    }
    for (const action of ['show', 'release', 'drop']) refused(await run('quarantine', action, '424242'), 1, 'ENT_QUARANTINE_NOT_FOUND');
  });
});
