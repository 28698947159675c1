import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TLP2_MARKING_IDS } from '../policy/tlp.ts';
import { validateForIngest } from '../store/validate-for-ingest.ts';
import { AlertAggregator } from './alert-aggregator.ts';
import type { IndicatorMatch } from './bulk-matcher.ts';
import { asEvidence, circleSightingObjects, sightingObjects, sightingWithFinalCounts, type SightingBundle, type SightingShareForm } from './sighting-objects.ts';
import { observation } from './test-support.ts';

const indicatorId = 'indicator--00000000-0000-4000-8000-0000000000aa';

function match(value: string, at: string): IndicatorMatch {
  return { indicatorId, name: 'C2', confidence: 80, observable: { type: 'ipv4-addr', path: 'ipv4-addr:value', value }, observations: [observation([{ type: 'ipv4-addr', value }], at)] };
}

describe("a sighting's copy for a circle", () => {
  const home = 'identity--0a000000-0000-4000-8000-00000000000a';
  let uuids = 0;
  const randomUuid = (): string => `00000000-0000-4000-8000-${(++uuids).toString(16).padStart(12, '0')}`;
  const bundle = (): SightingBundle => {
    const alerts = new AlertAggregator(3600);
    const opened = alerts.record({ ...match('198.51.100.7', '2026-06-01T12:10:00.000Z'), observations: [observation([{ type: 'ipv4-addr', value: '10.1.2.3' }, { type: 'ipv4-addr', value: '198.51.100.7' }], '2026-06-01T12:10:00.000Z')] });
    assert.ok(opened);
    return sightingObjects(opened, { homeOrganisationId: home, now: '2026-06-01T12:10:01.000Z', randomUuid });
  };
  const form = (overrides: Partial<SightingShareForm> = {}): SightingShareForm => ({
    kind: 'share', tlp: 'amber', markings: [], evidence: false, whereSighted: true, labels: [], agreementVersion: 1, reasons: [], ...overrides,
  });

  it('a summary is one sighting of its own: counts and times, no observed-data, marked at the decided TLP', () => {
    const stored = bundle();
    const { sighting, objects } = circleSightingObjects(stored, form(), randomUuid);
    assert.deepEqual(objects, [sighting]);
    assert.notEqual(sighting.id, stored.sighting.id, 'one version cannot differ between collections');
    assert.equal(sighting['observed_data_refs'], undefined);
    assert.deepEqual(sighting['object_marking_refs'], [TLP2_MARKING_IDS.amber]);
    assert.deepEqual([sighting['count'], sighting['first_seen'], sighting['last_seen'], sighting['sighting_of_ref']], [stored.sighting['count'], stored.sighting['first_seen'], stored.sighting['last_seen'], indicatorId]);
    assert.deepEqual(sighting['where_sighted_refs'], [home]);
    assert.doesNotMatch(JSON.stringify(objects), /10\.1\.2\.3/);
    assert.equal(validateForIngest(sighting).valid, true);
  });

  it('evidence brings an observed-data of its own and the observables; an anonymised one names nobody where sighted', () => {
    const stored = bundle();
    const withEvidence = circleSightingObjects(stored, form({ evidence: true, labels: ['energy'] }), randomUuid);
    const [observedData, ...more] = withEvidence.objects.filter((object) => object.type === 'observed-data');
    assert.equal(more.length, 0);
    assert.notEqual(observedData?.id, stored.observedData.id, 'marked here, so not the version stored at home');
    assert.deepEqual(withEvidence.sighting['observed_data_refs'], [observedData?.id]);
    assert.deepEqual(observedData?.['object_refs'], stored.observedData['object_refs']);
    assert.ok(withEvidence.objects.some((object) => object['value'] === '10.1.2.3'));
    assert.deepEqual(withEvidence.sighting['labels'], ['energy']);
    assert.equal(stored.observedData['x_entente_sighting_evidence'], true, 'marked, so no matcher takes it for telemetry');
    const anonymous = circleSightingObjects(stored, form({ whereSighted: false }), randomUuid);
    assert.equal(anonymous.sighting['where_sighted_refs'], undefined);
  });

  it("marks the sighting, its observed-data and every observable alike: the decided TLP and the indicator's other markings", () => {
    const recipients = 'marking-definition--0b000000-0000-4000-8000-000000000001';
    const { objects } = circleSightingObjects(bundle(), form({ evidence: true, tlp: 'amber', markings: [recipients] }), randomUuid);
    assert.deepEqual(objects.map((object) => object.type), ['ipv4-addr', 'ipv4-addr', 'observed-data', 'sighting']);
    for (const object of objects) {
      assert.deepEqual(object['object_marking_refs'], [TLP2_MARKING_IDS.amber, recipients], object.type);
      assert.equal(validateForIngest(object).valid, true, object.type);
    }
  });

  it('gets a new version when the window closes with other counts, and none when nothing changed', () => {
    const { sighting } = circleSightingObjects(bundle(), form(), randomUuid);
    assert.equal(sightingWithFinalCounts(sighting, { count: 1, firstSeen: String(sighting['first_seen']), lastSeen: String(sighting['last_seen']) }, new Date('2026-06-01T13:00:00Z')), undefined);
    const next = sightingWithFinalCounts(sighting, { count: 5, firstSeen: String(sighting['first_seen']), lastSeen: '2026-06-01T12:50:00.000Z' }, new Date('2026-06-01T12:00:00Z'));
    assert.ok(next !== undefined);
    assert.equal(next['count'], 5);
    assert.ok(String(next['modified']) > String(sighting['modified']), 'modified moves past the previous version even when the clock did not');
  });
});

describe('what of an observable the evidence keeps', () => {
  const observable = { type: 'file', path: 'file:size', value: '1024' };

  it('its ID contributing properties, the property the pattern compared, what it is not valid without, and its markings', () => {
    const file = { type: 'file', spec_version: '2.1', id: 'file--00000000-0000-4000-8000-000000000001', name: 'a.exe', size: 1024, mime_type: 'application/x-dosexec', x_payload: 'chosen', object_marking_refs: [TLP2_MARKING_IDS.amber] };
    assert.deepEqual(asEvidence(file, observable), { type: 'file', spec_version: '2.1', id: file.id, name: 'a.exe', size: 1024, object_marking_refs: [TLP2_MARKING_IDS.amber] });
    const message = { type: 'email-message', spec_version: '2.1', id: 'email-message--00000000-0000-4000-8000-000000000002', is_multipart: false, subject: 's', received_lines: ['from inside'], x_note: 'chosen' };
    assert.deepEqual(asEvidence(message, observable), { type: 'email-message', spec_version: '2.1', id: message.id, is_multipart: false, subject: 's' });
  });

  it('of a property the pattern compared inside, only the path compared: within each list element the compared field, never its siblings', () => {
    const message = {
      type: 'email-message', spec_version: '2.1', id: 'email-message--00000000-0000-4000-8000-000000000005', is_multipart: true, subject: 'Q3 layoffs (internal)',
      body_multipart: [
        { content_type: 'text/plain', body: 'Dear staff, the following 40 people will be let go' },
        { content_type: 'application/x-msdownload', content_disposition: 'attachment; filename="evil.exe"' },
      ],
    };
    const attachment = { type: 'email-message', path: 'email-message:body_multipart[*].content_disposition', value: 'attachment; filename="evil.exe"' };
    assert.deepEqual(asEvidence(message, attachment), {
      type: 'email-message', spec_version: '2.1', id: message.id, is_multipart: true, subject: message.subject,
      body_multipart: [{ content_disposition: 'attachment; filename="evil.exe"' }],
    });
    const process = { type: 'process', spec_version: '2.1', id: 'process--00000000-0000-4000-8000-000000000006', environment_variables: { PATH: '/tmp/.x', DB_PASSWORD: 'hunter2' } };
    const variable = { type: 'process', path: 'process:environment_variables.PATH', value: '/tmp/.x' };
    assert.deepEqual(asEvidence(process, variable), { type: 'process', spec_version: '2.1', id: process.id, environment_variables: { PATH: '/tmp/.x' } });
  });

  it('leaves out an observable with granular markings, whose selectors may name what it drops', () => {
    const marked = { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--00000000-0000-4000-8000-000000000003', value: '10.0.0.1', granular_markings: [{ marking_ref: TLP2_MARKING_IDS.red, selectors: ['value'] }] };
    assert.equal(asEvidence(marked, observable), undefined);
  });

  it('reads the lists for a type of its own only: a type named after a property of every object keeps what any unknown type keeps', () => {
    const odd = { type: 'constructor', spec_version: '2.1', id: 'constructor--00000000-0000-4000-8000-000000000004', x_payload: 'chosen' };
    assert.deepEqual(asEvidence(odd, observable), { type: 'constructor', spec_version: '2.1', id: odd.id });
  });
});
