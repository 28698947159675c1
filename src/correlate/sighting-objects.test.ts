import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TLP1_MARKING_IDS, TLP2_EXTENSION_DEFINITION_ID, TLP2_MARKING_IDS } from '../policy/tlp.ts';
import { validateForIngest } from '../store/validate-for-ingest.ts';
import { AlertAggregator } from './alert-aggregator.ts';
import type { IndicatorMatch } from './bulk-matcher.ts';
import { asEvidence, circleSightingObjects, definitionsWanted, sightingObjects, sightingWithFinalCounts, strictestCircleDefault, type SightingBundle, type SightingShareForm } from './sighting-objects.ts';
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

describe('the home sighting as stored at home', () => {
  const home = 'identity--0a000000-0000-4000-8000-00000000000a';
  let uuids = 0;
  const randomUuid = (): string => `00000000-0000-4000-8000-${(++uuids).toString(16).padStart(12, '0')}`;

  // What the home observed on its own networks is its own: were a sighting ever to leave unmarked
  // (an export, a copy, a collection a circle came to carry), it would stand at a circle's default TLP.
  it('marks the sighting and its observed-data TLP:AMBER+STRICT, the home organisation\'s own, and leaves the observables as observed', () => {
    const alerts = new AlertAggregator(3600);
    const opened = alerts.record(match('198.51.100.7', '2026-06-01T12:10:00.000Z'));
    assert.ok(opened);
    const stored = sightingObjects(opened, { homeOrganisationId: home, now: '2026-06-01T12:10:01.000Z', randomUuid, indicator: indicatorMarked([TLP2_MARKING_IDS.amber]) });
    assert.deepEqual(stored.sighting['object_marking_refs'], [TLP2_MARKING_IDS['amber+strict']]);
    assert.deepEqual(stored.observedData['object_marking_refs'], [TLP2_MARKING_IDS['amber+strict']]);
    const observables = stored.objects.filter((object) => object.type === 'ipv4-addr');
    assert.equal(observables.length, 1);
    assert.equal(observables[0]?.['object_marking_refs'], undefined, 'one stored object per observable: its id derives from its content');
    for (const object of stored.objects) assert.equal(validateForIngest(object).valid, true, object.type);
    const final = sightingWithFinalCounts(stored.sighting, { count: 2, firstSeen: String(stored.sighting['first_seen']), lastSeen: '2026-06-01T12:20:00.000Z' }, new Date('2026-06-01T13:00:00.000Z'));
    assert.deepEqual(final?.['object_marking_refs'], [TLP2_MARKING_IDS['amber+strict']], 'and so is its next version');
  });

  // A sighting names its indicator and its observed-data holds the indicator's value: neither may reach
  // anyone the indicator could not, wherever it goes.
  const storedFor = (indicator: Readonly<Record<string, unknown>> | undefined): SightingBundle => {
    const opened = new AlertAggregator(3600).record(match('198.51.100.7', '2026-06-01T12:10:00.000Z'));
    assert.ok(opened);
    return sightingObjects(opened, { homeOrganisationId: home, now: '2026-06-01T12:10:01.000Z', randomUuid, indicator });
  };

  it('marks the sighting of a TLP:RED indicator, and its observed-data, TLP:RED: never AMBER+STRICT below the indicator', () => {
    for (const red of [TLP2_MARKING_IDS.red, TLP1_MARKING_IDS.red]) {
      const stored = storedFor(indicatorMarked([red]));
      assert.deepEqual(stored.sighting['object_marking_refs'], [TLP2_MARKING_IDS.red]);
      assert.deepEqual(stored.observedData['object_marking_refs'], [TLP2_MARKING_IDS.red]);
      const final = sightingWithFinalCounts(stored.sighting, { count: 3, firstSeen: String(stored.sighting['first_seen']), lastSeen: '2026-06-01T12:30:00.000Z' }, new Date('2026-06-01T13:00:00.000Z'));
      assert.deepEqual(final?.['object_marking_refs'], [TLP2_MARKING_IDS.red], 'its next version too');
      for (const object of stored.objects) assert.equal(validateForIngest(object).valid, true, object.type);
    }
  });

  it("takes the strictest TLP the indicator carries, granular ones included (a granular TLP:RED on its pattern governs the value matched)", () => {
    const granular = { ...indicatorMarked([TLP2_MARKING_IDS.green]), granular_markings: [{ marking_ref: TLP2_MARKING_IDS.red, selectors: ['pattern'] }] };
    assert.deepEqual(storedFor(granular).sighting['object_marking_refs'], [TLP2_MARKING_IDS.red]);
    assert.deepEqual(storedFor(granular).observedData['object_marking_refs'], [TLP2_MARKING_IDS.red]);
    assert.deepEqual(storedFor(indicatorMarked([TLP2_MARKING_IDS.clear])).sighting['object_marking_refs'], [TLP2_MARKING_IDS['amber+strict']], 'an open indicator does not open the home\'s sighting');
    assert.deepEqual(storedFor(indicatorMarked([])).sighting['object_marking_refs'], [TLP2_MARKING_IDS['amber+strict']]);
  });

  it("carries the indicator's other markings (named recipients, statements, TLP definitions of its own) on the sighting and its observed-data", () => {
    const recipients = 'marking-definition--0b000000-0000-4000-8000-000000000001';
    const statement = 'marking-definition--0b000000-0000-4000-8000-000000000002';
    const stored = storedFor(indicatorMarked([TLP2_MARKING_IDS.red, recipients], [{ marking_ref: statement, selectors: ['description'] }]));
    for (const object of [stored.sighting, stored.observedData]) assert.deepEqual(object['object_marking_refs'], [TLP2_MARKING_IDS.red, recipients, statement], object.type);
  });

  it("is never below the default TLP of a circle holding the indicator: an unmarked indicator stands at it there", () => {
    const opened = new AlertAggregator(3600).record(match('198.51.100.7', '2026-06-01T12:10:00.000Z'));
    assert.ok(opened);
    const context = { homeOrganisationId: home, now: '2026-06-01T12:10:01.000Z', randomUuid, indicator: indicatorMarked([]) };
    const underRed = sightingObjects(opened, { ...context, indicatorDefaultTlp: strictestCircleDefault(['feeds', 'green-circle', 'red-circle'], new Map([['green-circle', 'green'], ['red-circle', 'red']])) });
    assert.deepEqual(underRed.sighting['object_marking_refs'], [TLP2_MARKING_IDS.red]);
    assert.deepEqual(underRed.observedData['object_marking_refs'], [TLP2_MARKING_IDS.red]);
    const underGreen = sightingObjects(opened, { ...context, indicatorDefaultTlp: strictestCircleDefault(['green-circle'], new Map([['green-circle', 'green']])) });
    assert.deepEqual(underGreen.sighting['object_marking_refs'], [TLP2_MARKING_IDS['amber+strict']], 'an open circle does not open it');
    assert.equal(strictestCircleDefault(['feeds'], new Map([['green-circle', 'green']])), undefined, 'held by no circle');
  });

  it("reads a TLP definition of the indicator's own by its definition, and takes a marking it cannot read as TLP:RED", () => {
    const ownRed = 'marking-definition--0b000000-0000-4000-8000-000000000003';
    const definitions = new Map([[ownRed, {
      type: 'marking-definition', spec_version: '2.1', id: ownRed, created: '2026-01-01T00:00:00.000Z',
      extensions: { [TLP2_EXTENSION_DEFINITION_ID]: { extension_type: 'property-extension', tlp_2_0: 'red' } },
    }]]);
    const opened = new AlertAggregator(3600).record(match('198.51.100.7', '2026-06-01T12:10:00.000Z'));
    assert.ok(opened);
    const context = { homeOrganisationId: home, now: '2026-06-01T12:10:01.000Z', randomUuid };
    const read = sightingObjects(opened, { ...context, indicator: indicatorMarked([TLP2_MARKING_IDS.green, ownRed]), markingDefinitions: definitions });
    assert.deepEqual(read.sighting['object_marking_refs'], [TLP2_MARKING_IDS.red, ownRed]);
    assert.deepEqual(read.observedData['object_marking_refs'], [TLP2_MARKING_IDS.red, ownRed]);
    const unread = sightingObjects(opened, { ...context, indicator: indicatorMarked([TLP2_MARKING_IDS.green, ownRed]) });
    assert.deepEqual(unread.sighting['object_marking_refs'], [TLP2_MARKING_IDS.red, ownRed], 'not known here: it might say RED');
    assert.deepEqual(definitionsWanted([indicatorMarked([TLP2_MARKING_IDS.green, ownRed]), undefined]), [ownRed]);
  });

  it('marks them TLP:RED when the indicator version that matched is not known: the strictest, never the floor', () => {
    const stored = storedFor(undefined);
    assert.deepEqual(stored.sighting['object_marking_refs'], [TLP2_MARKING_IDS.red]);
    assert.deepEqual(stored.observedData['object_marking_refs'], [TLP2_MARKING_IDS.red]);
  });
});

/** The indicator sighted, as stored, with these markings. */
function indicatorMarked(refs: readonly string[], granular: readonly Record<string, unknown>[] = []): Record<string, unknown> {
  return {
    type: 'indicator', spec_version: '2.1', id: indicatorId, created: '2026-05-01T00:00:00.000Z', modified: '2026-05-01T00:00:00.000Z',
    pattern: "[ipv4-addr:value = '198.51.100.7']", pattern_type: 'stix', valid_from: '2026-05-01T00:00:00Z',
    ...(refs.length > 0 ? { object_marking_refs: [...refs] } : {}),
    ...(granular.length > 0 ? { granular_markings: [...granular] } : {}),
  };
}

describe('what of an observable the evidence keeps', () => {
  const observable = { type: 'file', path: 'file:size', value: '1024' };
  let uuids = 0;
  const randomUuid = (): string => `00000000-0000-4000-8000-${(++uuids).toString(16).padStart(12, 'f')}`;
  const isRandomId = (id: unknown, type: string): boolean => typeof id === 'string' && new RegExp(`^${type}--00000000-0000-4000-8000-f+[0-9a-f]+$`).test(id);
  const valid = (object: unknown): void => {
    const report = validateForIngest(object);
    assert.deepEqual(report.issues.filter((issue) => issue.severity === 'error'), [], JSON.stringify(object));
  };

  it('of an observable of the type compared: the path compared, what it is not valid without, its markings, and a random id when its ID contributing properties were cut', () => {
    const file = { type: 'file', spec_version: '2.1', id: 'file--00000000-0000-4000-8000-000000000001', name: 'a.exe', size: 1024, mime_type: 'application/x-dosexec', x_payload: 'chosen', object_marking_refs: [TLP2_MARKING_IDS.amber] };
    const evidence = asEvidence(file, observable, randomUuid);
    assert.ok(evidence !== undefined && isRandomId(evidence.id, 'file'), JSON.stringify(evidence));
    assert.deepEqual(evidence, { type: 'file', spec_version: '2.1', id: evidence.id, size: 1024, object_marking_refs: [TLP2_MARKING_IDS.amber] });
    // A file with its size alone is no valid STIX (it needs a name or hashes): the callers' validation leaves it out.
    assert.equal(validateForIngest(evidence).valid, false);
    // Of another type: what identifies it, under its own id.
    const message = { type: 'email-message', spec_version: '2.1', id: 'email-message--00000000-0000-4000-8000-000000000002', is_multipart: false, subject: 's', received_lines: ['from inside'], x_note: 'chosen' };
    assert.deepEqual(asEvidence(message, observable, randomUuid), { type: 'email-message', spec_version: '2.1', id: message.id, is_multipart: false, subject: 's' });
  });

  it("a match on an email's subject shares neither its body nor its sender, and not the id that names them", () => {
    const email = {
      type: 'email-message', spec_version: '2.1', id: 'email-message--a1e00000-0000-5000-8000-000000000001', is_multipart: false, subject: 'Invoice 42',
      body: 'Hi Bob, the VPN password for hr-payroll is Winter2026! -- internal only', from_ref: 'email-addr--00000000-0000-4000-8000-000000000009', received_lines: ['from mx1.internal.example'],
    };
    const evidence = asEvidence(email, { type: 'email-message', path: 'email-message:subject', value: 'Invoice 42' }, randomUuid);
    assert.ok(evidence !== undefined && isRandomId(evidence.id, 'email-message'), JSON.stringify(evidence));
    assert.deepEqual(evidence, { type: 'email-message', spec_version: '2.1', id: evidence.id, is_multipart: false, subject: 'Invoice 42' });
    valid(evidence);
  });

  it('keeps a deterministic id when the path compared is all that identifies the observable', () => {
    const address = { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--00000000-0000-4000-8000-000000000007', value: '198.51.100.7', resolves_to_refs: ['mac-addr--00000000-0000-4000-8000-000000000008'] };
    assert.deepEqual(asEvidence(address, { type: 'ipv4-addr', path: 'ipv4-addr:value', value: '198.51.100.7' }, randomUuid), { type: 'ipv4-addr', spec_version: '2.1', id: address.id, value: '198.51.100.7' });
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
    const evidence = asEvidence(message, attachment, randomUuid);
    assert.ok(evidence !== undefined && isRandomId(evidence.id, 'email-message'), 'the subject it was identified by is dropped');
    assert.deepEqual(evidence, { type: 'email-message', spec_version: '2.1', id: evidence.id, is_multipart: true, body_multipart: [{ content_disposition: 'attachment; filename="evil.exe"' }] });
    const process = { type: 'process', spec_version: '2.1', id: 'process--00000000-0000-4000-8000-000000000006', environment_variables: { PATH: '/tmp/.x', DB_PASSWORD: 'hunter2' } };
    const variable = { type: 'process', path: 'process:environment_variables.PATH', value: '/tmp/.x' };
    assert.deepEqual(asEvidence(process, variable, randomUuid), { type: 'process', spec_version: '2.1', id: process.id, environment_variables: { PATH: '/tmp/.x' } });
  });

  it('through [*], only the elements whose compared value is the one matched: another MIME part, another registry value, is no evidence', () => {
    const email = {
      type: 'email-message', spec_version: '2.1', id: 'email-message--a1e00000-0000-5000-8000-000000000003', is_multipart: true,
      body_multipart: [{ content_type: 'text/plain', body: 'click http://evil.example/x' }, { content_type: 'text/plain', body: 'CONFIDENTIAL: merger with ACME closes 3 Dec' }],
    };
    const part = asEvidence(email, { type: 'email-message', path: 'email-message:body_multipart[*].body', value: 'click http://evil.example/x' }, randomUuid);
    assert.deepEqual(part?.['body_multipart'], [{ body: 'click http://evil.example/x' }]);
    assert.equal(part?.id, email.id, 'body_multipart identifies nothing: the id stays');
    const key = {
      type: 'windows-registry-key', spec_version: '2.1', id: 'windows-registry-key--00000000-0000-4000-8000-00000000000b', key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Run',
      values: [{ name: 'updater', data: 'C:\\evil.exe', data_type: 'REG_SZ' }, { name: 'vpn', data: 'psk=Winter2026!', data_type: 'REG_SZ' }],
    };
    const value = asEvidence(key, { type: 'windows-registry-key', path: 'windows-registry-key:values[*].data', value: 'C:\\evil.exe' }, randomUuid);
    assert.ok(value !== undefined && isRandomId(value.id, 'windows-registry-key'), JSON.stringify(value));
    assert.deepEqual(value, { type: 'windows-registry-key', spec_version: '2.1', id: value.id, values: [{ data: 'C:\\evil.exe' }] });
    valid(value);
    // A number compared as the matcher prints it.
    const traffic = { type: 'network-traffic', spec_version: '2.1', id: 'network-traffic--00000000-0000-4000-8000-00000000000c', protocols: ['tcp'], x_ports: [{ port: 443 }, { port: 8443 }] };
    assert.deepEqual(asEvidence(traffic, { type: 'network-traffic', path: 'network-traffic:x_ports[*].port', value: '8443' }, randomUuid)?.['x_ports'], [{ port: 8443 }]);
  });

  it("a match on an artifact's hash does not share its payload", () => {
    const artifact = { type: 'artifact', spec_version: '2.1', id: 'artifact--00000000-0000-4000-8000-00000000000d', payload_bin: 'c2VjcmV0', hashes: { 'SHA-256': 'a'.repeat(64) } };
    const evidence = asEvidence(artifact, { type: 'artifact', path: "artifact:hashes.'SHA-256'", value: 'a'.repeat(64) }, randomUuid);
    assert.ok(evidence !== undefined && isRandomId(evidence.id, 'artifact'), JSON.stringify(evidence));
    assert.deepEqual(evidence, { type: 'artifact', spec_version: '2.1', id: evidence.id, hashes: { 'SHA-256': 'a'.repeat(64) } });
    // An artifact needs its payload or a url: without them the callers' validation leaves it out rather than share the payload.
    assert.equal(validateForIngest(evidence).valid, false);
    const fetched = asEvidence({ ...artifact, url: 'https://files.example/x' }, { type: 'artifact', path: "artifact:hashes.'SHA-256'", value: 'a'.repeat(64) }, randomUuid);
    assert.equal(fetched?.['payload_bin'], undefined);
  });

  it('references follow an observable that got a random id, and one identified by such a reference gets one too', () => {
    const alerts = new AlertAggregator(3600);
    const opened = alerts.record({
      indicatorId, name: 'sender', confidence: 80, observable: { type: 'email-addr', path: 'email-addr:display_name', value: 'Payroll' },
      observations: [observation([{ type: 'email-addr', value: 'ceo@corp.example', display_name: 'Payroll' }, { type: 'email-message', is_multipart: false, from_ref: '0', subject: 'hi' }], '2026-06-01T12:10:00.000Z')],
    });
    assert.ok(opened);
    const context = { homeOrganisationId: 'identity--0a000000-0000-4000-8000-00000000000a', now: '2026-06-01T12:10:01.000Z', randomUuid };
    const all = sightingObjects(opened, context);
    const address = all.objects.find((object) => object.type === 'email-addr');
    const message = all.objects.find((object) => object.type === 'email-message');
    assert.ok(address !== undefined && message !== undefined);
    assert.ok(isRandomId(address.id, 'email-addr') && isRandomId(message.id, 'email-message'), JSON.stringify(all.objects));
    assert.deepEqual(address, { type: 'email-addr', spec_version: '2.1', id: address.id, display_name: 'Payroll' });
    assert.equal(message['from_ref'], address.id, 'not the UUIDv5 of the address, which names it to anyone who tries addresses');
    // The address without its value is no valid STIX: the callers' validation leaves it out, the message stays valid.
    const stored = sightingObjects(opened, context, (object) => validateForIngest(object).valid);
    assert.deepEqual(stored.objects.filter((object) => object.type === 'email-addr'), []);
    const kept = stored.objects.find((object) => object.type === 'email-message');
    assert.ok(kept !== undefined && isRandomId(kept['from_ref'], 'email-addr'));
    assert.ok(!JSON.stringify(stored.objects).includes('ceo@corp.example'));
    for (const object of stored.objects) valid(object);
  });

  it('leaves out an observable with granular markings, whose selectors may name what it drops', () => {
    const marked = { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--00000000-0000-4000-8000-000000000003', value: '10.0.0.1', granular_markings: [{ marking_ref: TLP2_MARKING_IDS.red, selectors: ['value'] }] };
    assert.equal(asEvidence(marked, observable, randomUuid), undefined);
  });

  it('reads the lists for a type of its own only: a type named after a property of every object keeps what any unknown type keeps', () => {
    const odd = { type: 'constructor', spec_version: '2.1', id: 'constructor--00000000-0000-4000-8000-000000000004', x_payload: 'chosen' };
    assert.deepEqual(asEvidence(odd, observable, randomUuid), { type: 'constructor', spec_version: '2.1', id: odd.id });
  });
});
