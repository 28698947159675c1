// /api/drafts for the console: upload a report, review its items, publish to a circle. Drafts are
// the home organisation's own work; partners' tokens are refused, publishing needs a write grant.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import { errorOf, startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
import { ADD_TEST, PAST_24H, secrets, startTestNode } from '../taxii/taxii-test-kit.ts';
import { validateStixObject } from '../../src/stix/validate.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';

const PDF = readFileSync(new URL('../fixtures/documents/report-two-columns.pdf', import.meta.url));
const ENCRYPTED = readFileSync(new URL('../fixtures/documents/encrypted.pdf', import.meta.url));
const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';

interface ItemJson {
  id: string;
  kind: string;
  type: string;
  value: string;
  evidence: { sentence: string; page?: number; part?: string }[];
  decision: { state: string; analyst?: string; reason?: string; value?: string };
  method: { source: 'extractor' | 'tagger'; detail: string };
  stix_id?: string;
}
interface DraftJson {
  id: string;
  title: string;
  source: { file_name: string; sha256: string; format: string; pages?: number };
  counts: Record<string, number>;
  items: ItemJson[];
  text?: string;
}

function expectStatus(response: LightMyRequestResponse, status: number): LightMyRequestResponse {
  assert.equal(response.statusCode, status, response.body.slice(0, 600));
  return response;
}

function refused(response: LightMyRequestResponse, status: number, code: string, message?: RegExp): void {
  expectStatus(response, status);
  const body = errorOf(response);
  assert.equal(body.error_code, code, response.body.slice(0, 600));
  if (message !== undefined) assert.match(body.description, message);
  assert.ok(response.body.length < 4000, 'an error never echoes a large input');
}

async function analyst(node: CircleApiNode, method: 'GET' | 'POST', url: string, body?: unknown): Promise<LightMyRequestResponse> {
  return node.call('analyst', method, url, body);
}

describe('/api/drafts', () => {
  let node: CircleApiNode;
  let draft: DraftJson;
  before(async () => {
    node = await startCircleApiNode([]);
    expectStatus(await node.call('admin', 'POST', '/api/circles', { id: 'wide', name: 'Wide', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2099-01-01T00:00:00Z' }), 201);
  });
  after(() => node.close());

  it('turns an uploaded report (base64) into a draft with items and evidence', async () => {
    const response = expectStatus(await analyst(node, 'POST', '/api/drafts', { filename: 'C:\\reports\\lantern.pdf', content_base64: PDF.toString('base64') }), 201);
    draft = response.json<DraftJson>();
    assert.equal(draft.title, 'Operation Lantern: technical analysis');
    assert.deepEqual([draft.source.file_name, draft.source.format, draft.source.pages], ['lantern.pdf', 'pdf', 2]);
    assert.match(draft.source.sha256, /^[0-9a-f]{64}$/);
    const ip = draft.items.find((item) => item.value === '185.220.101.47');
    assert.deepEqual([ip?.kind, ip?.type, ip?.decision.state, ip?.evidence[0]?.page], ['observable', 'ipv4-addr', 'pending', 1]);
    assert.equal(draft.items.find((item) => item.value === '198.51.100.23')?.decision.state, 'rejected');
    assert.equal(draft.text, undefined, 'the text is sent only when asked for');
  });

  it('accepts plain text too, and lists and shows drafts', async () => {
    const made = expectStatus(await analyst(node, 'POST', '/api/drafts', { text: '# Dusk\nThe loader called 45.77.12.9.\n' }), 201).json<DraftJson & { warnings: string[] }>();
    assert.equal(made.title, 'Dusk');
    const again = expectStatus(await analyst(node, 'POST', '/api/drafts', { filename: 'dusk.txt', content_base64: Buffer.from('# Dusk\nThe loader called 45.77.12.9.\n').toString('base64') }), 201).json<DraftJson & { warnings: string[] }>();
    assert.deepEqual(again.warnings, [`the same file (SHA-256) is already draft ${made.id}`]);
    const list = expectStatus(await analyst(node, 'GET', '/api/drafts'), 200).json<{ drafts: { id: string }[] }>();
    assert.deepEqual(list.drafts.map((d) => d.id), [again.id, made.id, draft.id]);
    const shown = expectStatus(await analyst(node, 'GET', `/api/drafts/${made.id}?text=true`), 200).json<DraftJson>();
    assert.equal(shown.text, '# Dusk\nThe loader called 45.77.12.9.\n');
  });

  it('reads an e-mail with its attachments, and says which part each item was found in', async () => {
    const eml = readFileSync(new URL('../fixtures/documents/phishing-report.eml', import.meta.url));
    const made = expectStatus(await analyst(node, 'POST', '/api/drafts', { filename: 'phishing-report.eml', content_base64: eml.toString('base64') }), 201).json<DraftJson>();
    assert.equal(made.source.format, 'email');
    const login = made.items.find((item) => item.value === 'https://secure-login-portal.top/owa/login.php');
    assert.equal(login?.evidence[0]?.part, 'attachment 1 (forwarded.eml) › body');
  });

  it("refuses partners' tokens on every draft route (403), and callers without a token (401)", async () => {
    refused(await node.call('bank', 'GET', '/api/drafts'), 403, 'ENT_DRAFT_HOME_ONLY');
    refused(await node.call('bank', 'GET', `/api/drafts/${draft.id}`), 403, 'ENT_DRAFT_HOME_ONLY');
    refused(await node.call('bank', 'POST', '/api/drafts', { text: 'x 45.77.12.9' }), 403, 'ENT_DRAFT_HOME_ONLY');
    refused(await node.call('bank', 'POST', `/api/drafts/${draft.id}/items/1`, { decision: 'accept' }), 403, 'ENT_DRAFT_HOME_ONLY');
    refused(await node.call('bank', 'POST', `/api/drafts/${draft.id}/publish`, { circle: 'wide' }), 403, 'ENT_DRAFT_HOME_ONLY');
    refused(await node.call(undefined, 'GET', '/api/drafts'), 401, 'ENT_AUTH_MISSING');
  });

  it('refuses malformed uploads with the field at fault', async () => {
    const bad = async (body: unknown, status: number, code: string, message?: RegExp) => refused(await analyst(node, 'POST', '/api/drafts', body), status, code, message);
    await bad({ filename: 'r.pdf', content_base64: 'not base64!' }, 400, 'ENT_HTTP_BAD_FIELD', /not base64/);
    await bad({ filename: 'r.pdf', content_base64: 'QUJD\nREVG' }, 400, 'ENT_HTTP_BAD_FIELD');
    await bad({ content_base64: PDF.toString('base64') }, 400, 'ENT_HTTP_BAD_FIELD', /"filename" is required/);
    await bad({ filename: 'r.txt', content_base64: 'QUJD', text: 'x' }, 400, 'ENT_HTTP_BAD_FIELD', /exactly one/);
    await bad({}, 400, 'ENT_HTTP_BAD_FIELD', /exactly one/);
    await bad({ text: '' }, 400, 'ENT_HTTP_BAD_FIELD', /empty/);
    await bad({ text: 'x', admin: true }, 400, 'ENT_HTTP_BAD_FIELD', /unknown field "admin"/);
    await bad({ text: 42 }, 400, 'ENT_HTTP_BAD_FIELD', /must be a string/);
    await bad({ filename: 'x'.repeat(10_000), text: 'x' }, 400, 'ENT_HTTP_BAD_FIELD', /longer than 255/);
    await bad({ text: 'x', publisher_domains: 'vendor.example' }, 400, 'ENT_HTTP_BAD_FIELD');
    await bad([{ text: 'x' }], 400, 'ENT_INPUT_NOT_ENVELOPE');
    await bad('{"text": "x"', 400, 'ENT_INPUT_MALFORMED_JSON');
    await bad({ filename: 'locked.pdf', content_base64: ENCRYPTED.toString('base64') }, 422, 'ENT_EXTRACT_ENCRYPTED', /locked\.pdf/);
    await bad({ filename: 'blob.bin', content_base64: Buffer.from([0x41, 0, 0x42, 0]).toString('base64') }, 415, 'ENT_EXTRACT_UNSUPPORTED_FORMAT');
  });

  it('takes a report of megabytes in content_base64, as far as the body limit goes', async () => {
    // The check that the field is base64 overflowed the regular expression stack from about 8 MB
    // (a PDF report of 6 MB), which answered 500.
    const report = Buffer.from(`C2 at 45.77.12.3\n${'\n'.repeat(9 * 1024 * 1024)}`);
    const response = expectStatus(await analyst(node, 'POST', '/api/drafts', { filename: 'big.txt', content_base64: report.toString('base64') }), 201);
    assert.ok((JSON.parse(response.body) as DraftJson).items.some((item) => item.value === '45.77.12.3'));
    refused(await analyst(node, 'POST', '/api/drafts', { filename: 'big.txt', content_base64: `${report.toString('base64')}!` }), 400, 'ENT_HTTP_BAD_FIELD', /not base64/);
  });

  it('refuses a report past an extraction limit (413) with the file and the limit named, before the event loop is held for long', async () => {
    const bad = async (body: unknown, message: RegExp) => refused(await analyst(node, 'POST', '/api/drafts', body), 413, 'ENT_EXTRACT_LIMIT_EXCEEDED', message);
    // 400 KB: every value an object with its sentence (32 MiB of them took gigabytes and minutes).
    await bad({ filename: 'dense.txt', text: 'AS1 '.repeat(100_001) }, /^dense\.txt: more than 100000 observables/);
    // 1.4 MB of parts that are not attachments: postal-mime would have spent 15 s on them.
    const flood = `From: a@mailer.net\r\nTo: b@mailer.net\r\nSubject: flood\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n${'--B\r\n\r\nC2 45.77.12.3\r\n'.repeat(100_000)}--B--\r\n`;
    await bad({ filename: 'flood.eml', text: flood }, /^flood\.eml: more than 5000 MIME part delimiters/);
  });

  it('refuses a body over the node limit (413) before reading it', async () => {
    const small = await startTestNode({ empty: true, limits: { maxBodyBytes: 4096, maxJsonDepth: 64 } });
    try {
      const response = await small.app.inject({
        method: 'POST',
        url: '/api/drafts',
        headers: { authorization: `Bearer ${secrets.analyst}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ filename: 'big.pdf', content_base64: Buffer.alloc(8192, 7).toString('base64') }),
      });
      refused(response, 413, 'ENT_INPUT_TOO_LARGE');
    } finally {
      await small.close();
    }
  });

  it('answers unknown drafts and items with 404, bad decisions with 400, invalid edits with 422', async () => {
    refused(await analyst(node, 'GET', '/api/drafts/999'), 404, 'ENT_DRAFT_NOT_FOUND');
    refused(await analyst(node, 'GET', '/api/drafts/..%2F1'), 404, 'ENT_DRAFT_NOT_FOUND');
    refused(await analyst(node, 'POST', '/api/drafts/999/items/1', { decision: 'accept' }), 404, 'ENT_DRAFT_NOT_FOUND');
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/items/77`, { decision: 'accept' }), 404, 'ENT_DRAFT_ITEM_NOT_FOUND');
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/items/1`, { decision: 'maybe' }), 400, 'ENT_HTTP_BAD_FIELD');
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/items/1`, {}), 400, 'ENT_HTTP_BAD_FIELD', /"decision" is required/);
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/items/1`, { decision: 'accept', value: '1.2.3.4' }), 400, 'ENT_HTTP_BAD_FIELD');
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/items/1`, { decision: 'edit', value: 'not-an-ip' }), 422, 'ENT_DRAFT_VALUE_INVALID', /not an IPv4 address/);
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/items/1`, { decision: 'edit', pattern: '[ipv4-addr:value = ' }), 422, 'ENT_DRAFT_VALUE_INVALID', /pattern/);
  });

  it('publishes only after every item is decided, only where the token may write, and only once', async () => {
    refused(await node.call('admin', 'POST', `/api/drafts/${draft.id}/publish`, { circle: 'wide', tlp: 'amber' }), 409, 'ENT_DRAFT_UNDECIDED');
    const edited = expectStatus(await analyst(node, 'POST', `/api/drafts/${draft.id}/items/1`, { decision: 'edit', value: '185.220.101.0/24' }), 200).json<ItemJson>();
    assert.deepEqual([edited.decision.state, edited.decision.value, edited.decision.analyst], ['edited', '185.220.101.0/24', 'analyst']);
    for (const item of draft.items.filter((i) => i.decision.state === 'pending' && i.id !== '1')) {
      expectStatus(await analyst(node, 'POST', `/api/drafts/${draft.id}/items/${item.id}`, { decision: 'accept' }), 200);
    }

    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/publish`, { circle: 'nowhere', tlp: 'amber' }), 404, 'ENT_CIRCLE_NOT_FOUND');
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/publish`, { circle: 'wide', collection: ADD_TEST }), 400, 'ENT_DRAFT_TARGET_INVALID');
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/publish`, { circle: 'wide', tlp: 'purple' }), 400, 'ENT_DRAFT_TARGET_INVALID');
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/publish`, { circle: 'wide', reject_pending: 'yes' }), 400, 'ENT_HTTP_BAD_FIELD');
    // The analyst token has no grant on the circle's collection (hidden: same 404 as a missing one),
    // read-only on PAST_24H (403).
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/publish`, { circle: 'wide', tlp: 'amber' }), 404, 'ENT_COLLECTION_NOT_FOUND');
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/publish`, { collection: PAST_24H, tlp: 'amber' }), 403, 'ENT_COLLECTION_NOT_WRITABLE');

    const response = expectStatus(await node.call('admin', 'POST', `/api/drafts/${draft.id}/publish`, { circle: 'wide', tlp: 'amber+strict' }), 201);
    const outcome = response.json<{ publication: { circle_id: string; collection_id: string; report_id: string; tlp: string; analyst: string }; report: StixObject }>();
    assert.deepEqual([outcome.publication.circle_id, outcome.publication.tlp, outcome.publication.analyst], ['wide', 'amber+strict', 'admin']);

    const page = await node.store.listEntries(outcome.publication.collection_id, {}, { limit: 1000 });
    const objects = page.entries.map((entry) => JSON.parse(entry.json) as StixObject);
    for (const object of objects) assert.deepEqual(validateStixObject(object).issues.filter((issue) => issue.severity === 'error'), [], object.id);
    const report = objects.find((object) => object.type === 'report');
    assert.equal(report?.id, outcome.publication.report_id);
    assert.equal(report?.['created_by_ref'], HOME);
    assert.deepEqual(report?.['object_marking_refs'], [TLP2_MARKING_IDS['amber+strict']]);
    // Every other object published is named; beyond them, only ATT&CK/ATLAS objects the node does not
    // hold, referred to by their STIX id all the same (build-publication.ts).
    const named = new Set(report?.['object_refs'] as string[]);
    for (const object of objects) if (object.id !== report?.id) assert.ok(named.has(object.id), `the report names ${object.id}`);
    const unheld = [...named].filter((id) => !objects.some((object) => object.id === id));
    const proposedAttack = new Set(draft.items.filter((item) => item.method.source === 'tagger').map((item) => item.stix_id));
    for (const id of unheld) assert.ok(proposedAttack.has(id), `${id} is published or is a tagged ATT&CK/ATLAS reference`);
    assert.ok(objects.some((object) => object.type === 'indicator' && object['pattern'] === "[ipv4-addr:value = '185.220.101.0/24']"));

    refused(await node.call('admin', 'POST', `/api/drafts/${draft.id}/publish`, { circle: 'wide', tlp: 'amber' }), 409, 'ENT_DRAFT_PUBLISHED');
    refused(await analyst(node, 'POST', `/api/drafts/${draft.id}/items/2`, { decision: 'reject' }), 409, 'ENT_DRAFT_PUBLISHED');
    const shown = expectStatus(await analyst(node, 'GET', `/api/drafts/${draft.id}`), 200).json<{ publication?: { report_id: string } }>();
    assert.equal(shown.publication?.report_id, outcome.publication.report_id);
  });

  it('publishes to a collection the token may write, with the TLP it names', async () => {
    const made = expectStatus(await analyst(node, 'POST', '/api/drafts', { text: '# Dawn\nThe loader called 45.77.12.10 and dawn-c2[.]net.\n' }), 201).json<DraftJson>();
    const ip = made.items.find((item) => item.value === '45.77.12.10');
    expectStatus(await analyst(node, 'POST', `/api/drafts/${made.id}/items/${ip?.id ?? ''}`, { decision: 'accepted' }), 200);
    const response = expectStatus(await analyst(node, 'POST', `/api/drafts/${made.id}/publish`, { collection: ADD_TEST, tlp: 'GREEN', reject_pending: true }), 201);
    const outcome = response.json<{ publication: { collection_id: string; tlp: string }; added: number; report: StixObject }>();
    assert.deepEqual([outcome.publication.collection_id, outcome.publication.tlp], [ADD_TEST, 'green']);
    assert.equal(outcome.added, 3, 'the report, the indicator and its SCO: exactly what was accepted');
    // The item rejected at publication is counted, not named: neither its value nor the reason leaves the draft.
    const provenance = outcome.report['x_entente_provenance'] as { items: { proposed_value: string; decision: string }[]; rejected_count: number };
    assert.deepEqual([provenance.items.map((entry) => [entry.proposed_value, entry.decision]), provenance.rejected_count], [[['45.77.12.10', 'accepted']], 1]);
    assert.equal(JSON.stringify(outcome.report).includes('dawn-c2'), false);
    assert.equal(JSON.stringify(outcome.report).includes('still pending'), false);
  });

  it('publishes a draft once when two publications race: the other is told ENT_DRAFT_PUBLISHED', async () => {
    const made = expectStatus(await analyst(node, 'POST', '/api/drafts', { text: '# Race\nThe loader called 45.77.12.12.\n' }), 201).json<DraftJson>();
    for (const item of made.items) expectStatus(await analyst(node, 'POST', `/api/drafts/${made.id}/items/${item.id}`, { decision: 'accept' }), 200);
    const [first, second] = await Promise.all([
      analyst(node, 'POST', `/api/drafts/${made.id}/publish`, { collection: ADD_TEST, tlp: 'green' }),
      analyst(node, 'POST', `/api/drafts/${made.id}/publish`, { collection: ADD_TEST, tlp: 'green' }),
    ]);
    assert.deepEqual([first.statusCode, second.statusCode].sort(), [201, 409]);
    refused(first.statusCode === 409 ? first : second, 409, 'ENT_DRAFT_PUBLISHED');
    const reports = (await node.store.listEntries(ADD_TEST, { types: ['report'] }, { limit: 100 })).entries.filter((entry) => entry.json.includes('"draft":"' + made.id + '"'));
    assert.equal(reports.length, 1);
  });

  it('refuses the analyst publishing nothing: everything rejected is ENT_DRAFT_EMPTY', async () => {
    const made = expectStatus(await analyst(node, 'POST', '/api/drafts', { text: '# Dusk\nThe loader called 45.77.12.11.\n' }), 201).json<DraftJson>();
    refused(await analyst(node, 'POST', `/api/drafts/${made.id}/publish`, { collection: ADD_TEST, tlp: 'green', reject_pending: true }), 409, 'ENT_DRAFT_EMPTY');
  });
});
