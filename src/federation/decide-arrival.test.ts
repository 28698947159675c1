import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { TLP2_MARKING_IDS } from '../policy/tlp.ts';
import { scoId } from '../stix/ids.ts';
import type { JsonObject, StixObject } from '../stix/types.ts';
import { contentDigestOf, decideArrival, QUARANTINE_REASONS, type ArrivalContext, type ArrivalDecision } from './decide-arrival.ts';
import { signObject } from './sign-object.ts';
import { SIGNATURE_EXTENSION_ID } from './signature-extension.ts';
import { createKeyDirectory } from './node-key.ts';
import { openTerms, testAlliance, testOrganisation } from './test-support.ts';

// The alliance: alpha creates and signs, bravo is the Entente peer objects arrive through, charlie is
// another member; alpha's first key was retired on 1 June. MITRE has no keys pinned here.
const { alpha, alphaRetired, bravo, charlie, stranger, MITRE, directory, NOW } = testAlliance();

/** An indicator version; an override of `undefined` removes the property. */
function indicator(overrides: Record<string, unknown> = {}): StixObject {
  const object = {
    type: 'indicator',
    spec_version: '2.1',
    id: 'indicator--00000000-0000-4000-8000-0000000000a1',
    created_by_ref: alpha.id,
    created: '2026-11-01T10:00:00.000Z',
    modified: '2026-11-20T10:00:00.000Z',
    name: 'Grid controller C2',
    pattern: "[ipv4-addr:value = '203.0.113.7']",
    pattern_type: 'stix',
    valid_from: '2026-11-01T10:00:00Z',
    labels: ['energy'],
    object_marking_refs: [TLP2_MARKING_IDS.amber],
    ...overrides,
  };
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as StixObject;
}

function context(object: unknown, overrides: Partial<ArrivalContext> = {}): ArrivalContext {
  return {
    peer: { organisationId: bravo.id, kind: 'entente' },
    terms: openTerms(),
    defaultTlp: 'amber',
    directory,
    history: {},
    contentDigest: contentDigestOf(object as JsonObject),
    now: NOW,
    allowUnsigned: false,
    ...overrides,
  };
}

function arrive(object: unknown, overrides: Partial<ArrivalContext> = {}): ArrivalDecision {
  return decideArrival(object, context(object, overrides));
}

function reasonOf(decision: ArrivalDecision): string {
  return decision.kind === 'quarantine' ? decision.reason : `accept:${decision.verification}`;
}

const signed = signObject(indicator(), alpha.signer);

describe('arrival: what is accepted', () => {
  it('accepts a version its creator signed, relayed by an Entente peer, as verified, naming signer and key', () => {
    assert.deepEqual(arrive(signed), { kind: 'accept', verification: 'verified', signer: alpha.id, keyId: alpha.signer.keyId, duplicate: false });
  });

  it('accepts a derived version from the peer that redacted and signed it, as derived', () => {
    const redacted = signObject(indicator({ name: undefined, created_by_ref: MITRE }), bravo.signer, { derived: true });
    const decision = arrive(JSON.parse(JSON.stringify(redacted)));
    assert.deepEqual(decision, { kind: 'accept', verification: 'derived', signer: bravo.id, keyId: bravo.signer.keyId, duplicate: false });
  });

  it('accepts unsigned objects from a plain peer into a circle that accepts unsigned input, as unverified', () => {
    const unsigned = indicator({ created_by_ref: MITRE });
    assert.deepEqual(arrive(unsigned, { peer: { organisationId: bravo.id, kind: 'plain' }, allowUnsigned: true }), {
      kind: 'accept',
      verification: 'unverified',
      duplicate: false,
    });
  });

  it("accepts each member's own copy of an SCO: its versions are contents, not later versions of another's, and have no order in time", () => {
    const id = scoId('ipv4-addr', { value: '203.0.113.7' });
    assert.ok(id.ok);
    const address: StixObject = { type: 'ipv4-addr', spec_version: '2.1', id: id.value, value: '203.0.113.7' };
    const byCharlie = signObject({ ...address, object_marking_refs: [TLP2_MARKING_IDS.green] }, charlie.signer);
    const history = { originSigner: alpha.id, newestVersion: '1988-01-01T00:00:00.000000000Z' };
    assert.equal(reasonOf(arrive(byCharlie, { history })), 'accept:verified');
    // A redacted copy is one more content, never "newer" than what is held.
    const redacted = signObject(address, bravo.signer, { derived: true });
    assert.equal(reasonOf(arrive(JSON.parse(JSON.stringify(redacted)), { history })), 'accept:derived');
  });

  it('accepts a version it already holds with the same content as a duplicate (a retried push, a re-fetched page)', () => {
    const decision = arrive(signed, { history: { originSigner: alpha.id, newestVersion: '2026-11-22T00:00:00.000Z', sameVersionDigest: contentDigestOf(signed) } });
    assert.deepEqual(decision, { kind: 'accept', verification: 'verified', signer: alpha.id, keyId: alpha.signer.keyId, duplicate: true });
  });

  it('accepts a signed copy of a version it holds unsigned as a duplicate (its own version, signed on the way out, relayed back)', () => {
    const unsignedHeld = contentDigestOf(indicator());
    const decision = arrive(signed, { history: { originSigner: alpha.id, newestVersion: '2026-11-20T10:00:00.000Z', sameVersionDigest: unsignedHeld } });
    assert.deepEqual(decision, { kind: 'accept', verification: 'verified', signer: alpha.id, keyId: alpha.signer.keyId, duplicate: true });
  });

  it('accepts a redacted copy of a version it holds whole, from the peer that redacted it, rather than calling it a conflict', () => {
    const redacted = signObject(indicator({ name: undefined }), bravo.signer, { derived: true });
    const decision = arrive(redacted, { history: { originSigner: alpha.id, newestVersion: '2026-11-20T10:00:00.000Z', sameVersionDigest: contentDigestOf(signed) } });
    assert.equal(reasonOf(decision), 'accept:derived');
  });

  it('accepts a newer version of an id from its origin', () => {
    assert.equal(reasonOf(arrive(signed, { history: { originSigner: alpha.id, newestVersion: '2026-11-19T00:00:00.000Z' } })), 'accept:verified');
  });

  it('accepts objects created by an organisation without pinned keys (ATT&CK imported by a CERT)', () => {
    const attack = signObject(indicator({ created_by_ref: MITRE }), charlie.signer);
    assert.equal(reasonOf(arrive(attack)), 'accept:verified');
  });

  it('accepts a version signed with a retired key when the key was valid at its modified time', () => {
    const old = signObject(indicator({ created: '2026-05-01T00:00:00.000Z', modified: '2026-05-31T00:00:00.000Z' }), alphaRetired.signer);
    assert.equal(reasonOf(arrive(old)), 'accept:verified');
  });
});

describe('arrival: each quarantine reason', () => {
  it('malformed: not valid STIX 2.1, keeping the validator\'s issues', () => {
    const decision = arrive({ ...signed, spec_version: '2.0' });
    assert.equal(decision.kind === 'quarantine' && decision.reason, 'malformed');
    assert.ok(decision.kind === 'quarantine' && decision.issues !== undefined && decision.issues.some((issue) => issue.path === '$.spec_version'));
    assert.equal(reasonOf(arrive('not an object')), 'malformed');
    assert.equal(reasonOf(arrive(null)), 'malformed');
  });

  it('no-agreement: the sending organisation is not bound by accepted terms', () => {
    assert.equal(reasonOf(arrive(signed, { terms: undefined })), 'no-agreement');
  });

  it('outside-agreement: a type outside the scope', () => {
    assert.equal(reasonOf(arrive(signed, { terms: openTerms({ scope: { types: ['malware'] } }) })), 'outside-agreement');
  });

  it('outside-agreement: none of the scoped labels', () => {
    assert.equal(reasonOf(arrive(signed, { terms: openTerms({ scope: { types: ['indicator'], labels: ['water'] } }) })), 'outside-agreement');
    assert.equal(reasonOf(arrive(signed, { terms: openTerms({ scope: { types: ['indicator'], labels: ['water', 'energy'] } }) })), 'accept:verified');
  });

  it('outside-agreement: a TLP above the ceiling, on the object, by the circle default, or on a granular part', () => {
    const green = openTerms({ highestTlp: 'green' });
    assert.equal(reasonOf(arrive(signed, { terms: green })), 'outside-agreement');
    const unmarked = signObject(indicator({ object_marking_refs: undefined }), alpha.signer);
    assert.equal(reasonOf(arrive(unmarked, { terms: green, defaultTlp: 'amber' })), 'outside-agreement');
    assert.equal(reasonOf(arrive(unmarked, { terms: green, defaultTlp: 'green' })), 'accept:verified');
    const granular = signObject(
      indicator({ object_marking_refs: [TLP2_MARKING_IDS.green], granular_markings: [{ marking_ref: TLP2_MARKING_IDS.red, selectors: ['name'] }] }),
      alpha.signer,
    );
    assert.equal(reasonOf(arrive(granular, { terms: openTerms({ highestTlp: 'amber' }) })), 'outside-agreement');
  });

  it('outside-agreement: a TLP definition under another id narrows, never widens', () => {
    const customRed = 'marking-definition--aaaaaaaa-0000-4000-8000-00000000beef';
    const definition: JsonObject = { type: 'marking-definition', id: customRed, definition_type: 'tlp', definition: { tlp: 'red' } };
    const object = signObject(indicator({ object_marking_refs: [TLP2_MARKING_IDS.green, customRed] }), alpha.signer);
    const terms = openTerms({ highestTlp: 'amber' });
    assert.equal(reasonOf(arrive(object, { terms, markingDefinitions: new Map([[customRed, definition]]) })), 'outside-agreement');
    const customClear: JsonObject = { ...definition, definition: { tlp: 'clear' } };
    const amber = signObject(indicator({ object_marking_refs: [TLP2_MARKING_IDS.amber, customRed] }), alpha.signer);
    assert.equal(reasonOf(arrive(amber, { terms, markingDefinitions: new Map([[customRed, customClear]]) })), 'accept:verified');
  });

  it('future-modified: more than 24 hours ahead of this node\'s clock (24 hours exactly is tolerated)', () => {
    const at24h = signObject(indicator({ modified: '2026-11-24T12:00:00.000Z' }), alpha.signer);
    assert.equal(reasonOf(arrive(at24h)), 'accept:verified');
    const beyond = signObject(indicator({ modified: '2026-11-24T12:00:00.001Z' }), alpha.signer);
    assert.equal(reasonOf(arrive(beyond)), 'future-modified');
  });

  it('unsigned: from an Entente peer always, from a plain peer unless the circle accepts unsigned input', () => {
    assert.equal(reasonOf(arrive(indicator({ created_by_ref: MITRE }))), 'unsigned');
    assert.equal(reasonOf(arrive(indicator({ created_by_ref: MITRE }), { allowUnsigned: true })), 'unsigned');
    assert.equal(reasonOf(arrive(indicator({ created_by_ref: MITRE }), { peer: { organisationId: bravo.id, kind: 'plain' } })), 'unsigned');
  });

  it('bad-signature: the content changed after signing, or the signature extension cannot be read', () => {
    assert.equal(reasonOf(arrive({ ...signed, name: 'Grid controller C3' })), 'bad-signature');
    const extensions = signed['extensions'] as Record<string, JsonObject>;
    const unreadable = { ...signed, extensions: { [SIGNATURE_EXTENSION_ID]: { ...extensions[SIGNATURE_EXTENSION_ID], signature: 'AAAA' } } };
    assert.equal(reasonOf(arrive(unreadable)), 'bad-signature');
  });

  it('bad-signature: a signed object from a plain peer is checked too, even where unsigned input is accepted', () => {
    assert.equal(reasonOf(arrive({ ...signed, name: 'x' }, { peer: { organisationId: bravo.id, kind: 'plain' }, allowUnsigned: true })), 'bad-signature');
  });

  it('unknown-key: a key not pinned, or pinned for another organisation than the signer named', () => {
    assert.equal(reasonOf(arrive(signObject(indicator({ created_by_ref: MITRE }), stranger.signer))), 'unknown-key');
    const extensions = signed['extensions'] as Record<string, JsonObject>;
    const claimed = { ...signed, extensions: { [SIGNATURE_EXTENSION_ID]: { ...extensions[SIGNATURE_EXTENSION_ID], signer: charlie.id } } };
    assert.equal(reasonOf(arrive(claimed)), 'unknown-key');
  });

  it('key-not-valid: outside the key\'s window at the version\'s modified time, beyond five minutes of skew', () => {
    const afterRetirement = signObject(indicator({ created: '2026-05-01T00:00:00.000Z', modified: '2026-06-01T00:05:00.000Z' }), alphaRetired.signer);
    assert.equal(reasonOf(arrive(afterRetirement)), 'key-not-valid');
    const withinSkew = signObject(indicator({ created: '2026-05-01T00:00:00.000Z', modified: '2026-06-01T00:04:59.000Z' }), alphaRetired.signer);
    assert.equal(reasonOf(arrive(withinSkew)), 'accept:verified');
    const beforeKey = signObject(indicator({ created: '2024-01-01T00:00:00.000Z', modified: '2024-12-31T23:00:00.000Z' }), alphaRetired.signer);
    assert.equal(reasonOf(arrive(beforeKey)), 'key-not-valid');
  });

  it('signer-not-creator: created_by_ref names an organisation with pinned keys and another one signed', () => {
    assert.equal(reasonOf(arrive(signObject(indicator(), charlie.signer))), 'signer-not-creator');
    // Not signed at all, yet claiming a creator whose keys are pinned.
    assert.equal(reasonOf(arrive(indicator(), { peer: { organisationId: bravo.id, kind: 'plain' }, allowUnsigned: true })), 'signer-not-creator');
  });

  it('signer-not-creator: a derived version naming a creator with pinned keys, unless this node holds a version of the id that creator originated', () => {
    // The peer calls its own signature derived over an indicator "created by alpha" that alpha never made.
    const claimed = signObject(indicator({ name: undefined }), bravo.signer, { derived: true });
    const decision = arrive(claimed);
    assert.equal(reasonOf(decision), 'signer-not-creator');
    assert.ok(decision.kind === 'quarantine' && decision.message.includes('derived version') && decision.message.includes(alpha.id), JSON.stringify(decision));
    // Versions of the id held, but originated by another organisation (or by the peer itself).
    assert.equal(reasonOf(arrive(claimed, { history: { originSigner: charlie.id, newestVersion: '2026-11-20T10:00:00.000Z' } })), 'signer-not-creator');
    assert.equal(reasonOf(arrive(claimed, { history: { originSigner: bravo.id, newestVersion: '2026-11-20T10:00:00.000Z' } })), 'signer-not-creator');
    // A redaction of what alpha really made: alpha's version of the id is held (in any letter case).
    assert.equal(reasonOf(arrive(claimed, { history: { originSigner: alpha.id, newestVersion: '2026-11-20T10:00:00.000Z' } })), 'accept:derived');
    assert.equal(reasonOf(arrive(claimed, { history: { originSigner: alpha.id.toUpperCase().replace('IDENTITY', 'identity'), newestVersion: '2026-11-20T10:00:00.000Z' } })), 'accept:derived');
    // The creator's own derived version needs nothing held; a creator without pinned keys neither.
    assert.equal(reasonOf(arrive(signObject(indicator({ name: undefined }), alpha.signer, { derived: true }), { peer: { organisationId: alpha.id, kind: 'entente' } })), 'accept:derived');
    assert.equal(reasonOf(arrive(signObject(indicator({ name: undefined, created_by_ref: MITRE }), bravo.signer, { derived: true }))), 'accept:derived');
  });

  it("signer-not-creator: an organisation's identity, its keys pinned, signed by anyone else or not at all — derived or not, held or not", () => {
    const identity = { type: 'identity', spec_version: '2.1', id: alpha.id, created: '2026-01-01T00:00:00.000Z', modified: '2026-11-20T10:00:00.000Z', name: 'Alpha', identity_class: 'organization' };
    const plain = { peer: { organisationId: bravo.id, kind: 'plain' as const }, allowUnsigned: true };
    assert.equal(reasonOf(arrive(signObject(identity, alpha.signer))), 'accept:verified', 'as its organisation signed it, through a relay');
    assert.equal(reasonOf(arrive(signObject(identity, bravo.signer))), 'signer-not-creator');
    assert.equal(reasonOf(arrive(signObject(identity, bravo.signer, { derived: true }))), 'signer-not-creator');
    assert.equal(reasonOf(arrive(identity, plain)), 'signer-not-creator');
    assert.equal(reasonOf(arrive(identity, { ...plain, history: { newestVersion: identity.modified, sameVersionDigest: contentDigestOf(identity) } })), 'signer-not-creator', 'the verdict reads nothing held');
    const decision = arrive(signObject(identity, bravo.signer));
    assert.ok(decision.kind === 'quarantine' && !decision.message.includes('held'));
    // The organisation's own derived version, and identities of organisations without pinned keys.
    assert.equal(reasonOf(arrive(signObject(identity, alpha.signer, { derived: true }), { peer: { organisationId: alpha.id, kind: 'entente' } })), 'accept:derived');
    assert.equal(reasonOf(arrive({ ...identity, id: MITRE, name: 'MITRE' }, plain)), 'accept:unverified');
    assert.equal(reasonOf(arrive(signObject({ ...identity, id: MITRE, name: 'MITRE' }, bravo.signer))), 'accept:verified');
  });

  it('signer-not-creator: a sighting naming where sighted an organisation with pinned keys that did not sign it, whoever it says created it', () => {
    const sighting = (overrides: Record<string, unknown> = {}): StixObject =>
      ({
        type: 'sighting', spec_version: '2.1', id: 'sighting--00000000-0000-4000-8000-0000000000c1', created: '2026-11-20T10:00:00.000Z', modified: '2026-11-20T10:00:00.000Z',
        sighting_of_ref: 'indicator--00000000-0000-4000-8000-0000000000a1', where_sighted_refs: [alpha.id], count: 40, ...overrides,
      }) as StixObject;
    const inScope = openTerms({ scope: { types: ['sighting'] } });
    const arriveSighting = (object: StixObject, overrides: Partial<ArrivalContext> = {}): ArrivalDecision => arrive(object, { terms: inScope, ...overrides });
    assert.equal(reasonOf(arriveSighting(signObject(sighting(), charlie.signer))), 'signer-not-creator');
    assert.equal(reasonOf(arriveSighting(signObject(sighting({ created_by_ref: charlie.id }), charlie.signer))), 'signer-not-creator');
    assert.equal(reasonOf(arriveSighting(signObject(sighting({ where_sighted_refs: [MITRE, alpha.id], created_by_ref: MITRE }), charlie.signer))), 'signer-not-creator');
    assert.equal(reasonOf(arriveSighting(sighting({ created_by_ref: MITRE }), { peer: { organisationId: bravo.id, kind: 'plain' }, allowUnsigned: true })), 'signer-not-creator');
    const decision = arriveSighting(signObject(sighting(), charlie.signer));
    assert.ok(decision.kind === 'quarantine' && decision.message.includes(`where_sighted_refs names ${alpha.id}`), JSON.stringify(decision));
    // Its own sighting, relayed; a place without pinned keys.
    assert.equal(reasonOf(arriveSighting(signObject(sighting({ created_by_ref: alpha.id }), alpha.signer))), 'accept:verified');
    assert.equal(reasonOf(arriveSighting(signObject(sighting({ where_sighted_refs: [MITRE], created_by_ref: charlie.id }), charlie.signer))), 'accept:verified');
  });

  it('signer-not-creator: a derived sighting naming where sighted an organisation with pinned keys, unless that organisation originated the id here', () => {
    const sighting: StixObject = {
      type: 'sighting', spec_version: '2.1', id: 'sighting--00000000-0000-4000-8000-0000000000c2', created: '2026-11-20T10:00:00.000Z', modified: '2026-11-20T10:00:00.000Z',
      sighting_of_ref: 'indicator--00000000-0000-4000-8000-0000000000a1', where_sighted_refs: [alpha.id], count: 40,
    } as StixObject;
    const inScope = { terms: openTerms({ scope: { types: ['sighting'] } }) };
    // A brand-new id "sighted at alpha, count 40", the peer's own signature marked derived.
    const forged = signObject(sighting, bravo.signer, { derived: true });
    const decision = arrive(forged, inScope);
    assert.equal(reasonOf(decision), 'signer-not-creator');
    assert.ok(decision.kind === 'quarantine' && decision.message.includes(`where_sighted_refs names ${alpha.id}`), JSON.stringify(decision));
    assert.equal(reasonOf(arrive(forged, { ...inScope, history: { originSigner: charlie.id, newestVersion: '2026-11-20T10:00:00.000Z' } })), 'signer-not-creator');
    // The redacted copy of alpha's own sighting, alpha's version held here.
    assert.equal(reasonOf(arrive(forged, { ...inScope, history: { originSigner: alpha.id, newestVersion: '2026-11-20T10:00:00.000Z' } })), 'accept:derived');
    // Two organisations with pinned keys named: one held origin cannot speak for both.
    const both = signObject({ ...sighting, where_sighted_refs: [alpha.id, charlie.id] } as StixObject, bravo.signer, { derived: true });
    assert.equal(reasonOf(arrive(both, { ...inScope, history: { originSigner: alpha.id, newestVersion: '2026-11-20T10:00:00.000Z' } })), 'signer-not-creator');
  });

  it('signer-not-creator: whatever the letter case of the organisation named (a UUID is case-insensitive; the validator only warns)', () => {
    // delta: a member whose id has hex letters, its key pinned under the lower-case id as registered.
    const base = testOrganisation(5);
    const id = 'identity--0000000d-e17a-4000-8000-00000000beef';
    const delta = { id, signer: { ...base.signer, organisationId: id }, pinned: { ...base.pinned, organisationId: id } };
    const withDelta = { directory: createKeyDirectory([alpha.pinned, bravo.pinned, charlie.pinned, delta.pinned]) };
    const shouted = id.replace(/--(.*)$/, (_, uuid: string) => `--${uuid.toUpperCase()}`);
    const plain = { ...withDelta, peer: { organisationId: bravo.id, kind: 'plain' as const }, allowUnsigned: true };
    assert.equal(reasonOf(arrive(indicator({ created_by_ref: shouted }), plain)), 'signer-not-creator');
    assert.equal(reasonOf(arrive(signObject(indicator({ created_by_ref: shouted }), charlie.signer), withDelta)), 'signer-not-creator');
    assert.equal(reasonOf(arrive(signObject(indicator({ created_by_ref: shouted }), delta.signer), withDelta)), 'accept:verified', 'its own signature stands');
    const identity = { type: 'identity', spec_version: '2.1', id: shouted, created: '2026-01-01T00:00:00.000Z', modified: '2026-11-20T10:00:00.000Z', name: 'Delta', identity_class: 'organization' };
    assert.equal(reasonOf(arrive(identity, plain)), 'signer-not-creator');
    assert.equal(reasonOf(arrive(signObject(identity, bravo.signer), withDelta)), 'signer-not-creator');
    assert.equal(reasonOf(arrive(signObject(identity, delta.signer), withDelta)), 'accept:verified');
  });

  it('not-origin: earlier versions of the id were signed by another organisation', () => {
    const byCharlie = signObject(indicator({ created_by_ref: MITRE }), charlie.signer);
    assert.equal(reasonOf(arrive(byCharlie, { history: { originSigner: alpha.id } })), 'not-origin');
    assert.equal(reasonOf(arrive(byCharlie, { history: { originSigner: charlie.id } })), 'accept:verified');
    const unsigned = indicator({ created_by_ref: MITRE });
    const plain = { peer: { organisationId: bravo.id, kind: 'plain' as const }, allowUnsigned: true };
    assert.equal(reasonOf(arrive(unsigned, { ...plain, history: { originSigner: alpha.id } })), 'not-origin');
  });

  it('not-origin: a derived version newer than the newest this node holds of an id another organisation originated', () => {
    const forged = signObject(indicator({ modified: '2026-11-21T10:00:00.000Z', name: 'rewritten by the peer' }), bravo.signer, { derived: true });
    const history = { originSigner: alpha.id, newestVersion: '2026-11-20T10:00:00.000Z' };
    assert.equal(reasonOf(arrive(forged, { history })), 'not-origin');
    const redactedCopy = signObject(indicator({ name: undefined }), bravo.signer, { derived: true });
    assert.equal(reasonOf(arrive(redactedCopy, { history: { ...history, sameVersionDigest: contentDigestOf(signed) } })), 'accept:derived', 'a copy of a held version is still fine');
  });

  it('not-origin: a derived version that does not come from the peer that signed it', () => {
    const derivedByCharlie = signObject(indicator({ created_by_ref: MITRE }), charlie.signer, { derived: true });
    assert.equal(reasonOf(arrive(derivedByCharlie)), 'not-origin');
    assert.equal(reasonOf(arrive(derivedByCharlie, { peer: { organisationId: charlie.id, kind: 'entente' } })), 'accept:derived');
  });

  it('content-conflict: this node holds the same id and modified with other content', () => {
    const equivocation = signObject(indicator({ name: 'Another name, same version' }), alpha.signer);
    assert.equal(reasonOf(arrive(equivocation, { history: { originSigner: alpha.id, newestVersion: '2026-11-20T10:00:00.000Z', sameVersionDigest: contentDigestOf(signed) } })), 'content-conflict');
  });

  it('rollback: older than the newest version held, and not held already', () => {
    assert.equal(reasonOf(arrive(signed, { history: { originSigner: alpha.id, newestVersion: '2026-11-21T00:00:00.000Z' } })), 'rollback');
    // Fractions of different lengths are compared as time, not text ('Z' sorts after '.').
    assert.equal(reasonOf(arrive(signed, { history: { newestVersion: '2026-11-20T10:00:00.5Z' } })), 'rollback');
    assert.equal(reasonOf(arrive(signed, { history: { newestVersion: '2026-11-20T10:00:00.000000Z' } })), 'accept:verified');
  });

  it('names every reason in docs/federation.md and nothing else', () => {
    assert.deepEqual(
      [...QUARANTINE_REASONS].sort(),
      ['bad-signature', 'content-conflict', 'future-modified', 'key-not-valid', 'malformed', 'no-agreement', 'not-origin', 'outside-agreement', 'rollback', 'signer-not-creator', 'unknown-key', 'unsigned'],
    );
  });
});

describe('arrival: order of the rules', () => {
  it('reports the first rule broken: agreement before signature, signature before origin, origin before history', () => {
    const unsignedOutOfScope = indicator();
    assert.equal(reasonOf(arrive(unsignedOutOfScope, { terms: openTerms({ scope: { types: ['malware'] } }) })), 'outside-agreement');
    assert.equal(reasonOf(arrive(unsignedOutOfScope, { terms: undefined })), 'no-agreement');
    const tamperedFuture = { ...signObject(indicator({ modified: '2026-12-25T00:00:00.000Z' }), alpha.signer), name: 'x' };
    assert.equal(reasonOf(arrive(tamperedFuture)), 'future-modified');
    const foreignOlder = signObject(indicator(), charlie.signer);
    assert.equal(reasonOf(arrive(foreignOlder, { history: { originSigner: alpha.id, newestVersion: '2026-11-22T00:00:00.000Z' } })), 'signer-not-creator');
    const conflictingOld = signObject(indicator({ name: 'changed' }), alpha.signer);
    const history = { originSigner: alpha.id, newestVersion: '2026-11-22T00:00:00.000Z', sameVersionDigest: contentDigestOf(signed) };
    assert.equal(reasonOf(arrive(conflictingOld, { history })), 'content-conflict');
  });
});

describe('content digests', () => {
  it('are SHA-256 of the RFC 8785 form without the Entente signature, independent of property order', () => {
    assert.equal(contentDigestOf(signed), createHash('sha256').update(canonicalize(indicator()) ?? '').digest('hex'));
    assert.equal(contentDigestOf(Object.fromEntries(Object.entries(signed).reverse()) as JsonObject), contentDigestOf(signed));
    assert.equal(contentDigestOf(signObject(indicator(), bravo.signer)), contentDigestOf(signed), 'who signed is not content');
    assert.notEqual(contentDigestOf(indicator({ name: 'Other' })), contentDigestOf(signed));
  });
});
