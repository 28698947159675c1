import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseOrganisationInput, toIdentityObject } from './organisation.ts';
import { validateStixObject } from '../stix/validate.ts';

const id = 'identity--8c6af861-7b20-41ef-9b59-6344fd872a8f';

describe('partner organisations', () => {
  it('accepts a partner with kind, sectors and country, normalising the country', () => {
    const parsed = parseOrganisationInput({ id, name: ' CERT-FR ', kind: 'cert', sectors: ['government-national', 'government-national'], country: 'fr' });
    assert.deepEqual(parsed, { ok: true, value: { id, name: 'CERT-FR', kind: 'cert', sectors: ['government-national'], country: 'FR' } });
  });

  it('names every problem of a bad input at once', () => {
    const parsed = parseOrganisationInput({ id: 'identity--nope', name: '', kind: 'mafia', sectors: ['Bad Sector'], country: 'France' });
    assert.equal(parsed.ok, false);
    assert.ok(!parsed.ok);
    assert.deepEqual(parsed.error.map((problem) => problem.split(' ')[0]), ['the', 'kind', 'id', 'sector', 'country']);
    assert.match(parsed.error.join('\n'), /kind "mafia" must be one of government, military, cert, company, ngo, academic/);
  });

  it('refuses an id whose UUID has upper-case hex, naming the fix: ingest refuses every object naming such an id', () => {
    const parsed = parseOrganisationInput({ id: id.toUpperCase().replace('IDENTITY', 'identity'), name: 'CERT-FR', kind: 'cert', sectors: [] });
    assert.ok(!parsed.ok);
    assert.deepEqual(parsed.error, [`id "identity--8C6AF861-7B20-41EF-9B59-6344FD872A8F" has upper-case hex in its UUID, which the node refuses in every object naming it: write it in lower case (${id})`]);
  });

  it('becomes a valid STIX identity of class organization, with kind and country as custom properties', () => {
    const parsed = parseOrganisationInput({ id, name: 'Acme Bank', kind: 'company', sectors: ['financial-services'], country: 'DE' });
    assert.ok(parsed.ok);
    const identity = toIdentityObject(parsed.value, '2026-11-23T00:00:00.000Z');
    assert.equal(validateStixObject(identity).valid, true);
    assert.equal(identity['identity_class'], 'organization');
    assert.deepEqual(identity['sectors'], ['financial-services']);
    assert.equal(identity['x_entente_organisation_kind'], 'company');
    assert.equal(identity['x_entente_country'], 'DE');
  });
});
