// The tamper corpus: thirty genuine signed versions of varied types and TLP levels travel from their
// origins through an Entente peer, and every way of changing one on the way (a character of any
// string, a marking stripped, a field added or removed, a wrong key, flipped signature bytes, a
// swapped key id, a replayed older version, a conflicting version, a future timestamp, a missing
// signature) must end in quarantine with the reason docs/federation.md gives, while every genuine
// version is accepted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contentDigestOf, decideArrival, type ArrivalContext, type ArrivalDecision, type QuarantineReason } from '../../src/federation/decide-arrival.ts';
import { signObject } from '../../src/federation/sign-object.ts';
import { SIGNATURE_EXTENSION_ID } from '../../src/federation/signature-extension.ts';
import { openTerms, testAlliance, type TestOrganisation } from '../../src/federation/test-support.ts';
import { TLP2_MARKING_IDS, TLP_LEVELS, type TlpLevel } from '../../src/policy/tlp.ts';
import type { JsonObject, JsonValue, StixObject } from '../../src/stix/types.ts';
import { validateStixObject } from '../../src/stix/validate.ts';

// ---- The alliance ----------------------------------------------------------------------------
// alpha and charlie originate; bravo is the Entente peer everything arrives through; MITRE creates
// ATT&CK-like objects that charlie imported and signs as origin; stranger's key is pinned nowhere.
const { alpha, alphaRetired, bravo, charlie, stranger, MITRE, directory, NOW } = testAlliance();
const FUTURE_LIMIT_MS = 24 * 3600 * 1000;

type Expected = QuarantineReason | 'accept:verified' | 'accept:derived' | 'accept:unverified';

interface Case {
  readonly name: string;
  readonly object: unknown;
  readonly history?: ArrivalContext['history'];
  readonly peer?: ArrivalContext['peer'];
  readonly allowUnsigned?: boolean;
  readonly expected: Expected;
}

function arrive(testCase: Case): ArrivalDecision {
  return decideArrival(testCase.object, {
    peer: testCase.peer ?? { organisationId: bravo.id, kind: 'entente' },
    terms: openTerms(),
    defaultTlp: 'amber',
    directory,
    history: testCase.history ?? {},
    contentDigest: contentDigestOf(testCase.object as JsonValue),
    now: NOW,
    allowUnsigned: testCase.allowUnsigned ?? false,
  });
}

function outcome(decision: ArrivalDecision): Expected {
  return decision.kind === 'quarantine' ? decision.reason : `accept:${decision.verification}`;
}

/** Runs cases and returns the ones whose outcome differs from the expected one, described. */
function mismatches(cases: readonly Case[]): string[] {
  return cases.flatMap((testCase) => {
    const got = outcome(arrive(testCase));
    return got === testCase.expected ? [] : [`${testCase.name}: expected ${testCase.expected}, got ${got}`];
  });
}

// ---- Thirty genuine versions -------------------------------------------------------------------

const KINDS = ['indicator', 'malware', 'report', 'vulnerability', 'identity', 'relationship'] as const;

interface Genuine {
  readonly label: string;
  /** Version 1 and version 2 (later `modified`, other content), each signed by its origin. */
  readonly v1: StixObject;
  readonly v2: StixObject;
  readonly unsigned: (modified: string, changes?: Record<string, JsonValue | undefined>) => StixObject;
  readonly origin: TestOrganisation;
  readonly creator: string;
  readonly tlp: TlpLevel;
}

function uuid(index: number, block: number): string {
  return `${block.toString(16).padStart(8, '0')}-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

function minute(base: string, minutes: number): string {
  return new Date(Date.parse(base) + minutes * 60_000).toISOString();
}

function withoutUndefined(object: Record<string, JsonValue | undefined>): StixObject {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as StixObject;
}

function body(kind: (typeof KINDS)[number], index: number): Record<string, JsonValue> {
  switch (kind) {
    case 'indicator':
      return {
        name: `Grid controller C2 ${index}`,
        description: 'Beacon to a staging server seen on substation gateways.',
        pattern: `[ipv4-addr:value = '203.0.113.${index}'] OR [domain-name:value = 'update-${index}.example.net']`,
        pattern_type: 'stix',
        valid_from: '2026-10-01T00:00:00Z',
        indicator_types: ['malicious-activity'],
        kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'command-and-control' }],
        labels: ['energy', 'c2'],
      };
    case 'malware':
      return {
        name: `GridWiper variant ${index}`,
        description: 'Wiper that overwrites the firmware of protection relays.',
        is_family: true,
        malware_types: ['wiper'],
        external_references: [{ source_name: 'vendor-report', url: `https://reports.example.org/gridwiper-${index}`, external_id: `GW-${index}` }],
      };
    case 'report':
      return {
        name: `Weekly energy sector summary ${index}`,
        description: 'Activity against transmission operators this week.',
        published: '2026-10-02T00:00:00Z',
        report_types: ['threat-report'],
        object_refs: [`indicator--${uuid(index, 1)}`, `malware--${uuid(index, 2)}`],
      };
    case 'vulnerability':
      return {
        name: `CVE-2026-${1000 + index}`,
        description: 'Authentication bypass in the maintenance port of a relay family.',
        external_references: [{ source_name: 'cve', external_id: `CVE-2026-${1000 + index}` }],
      };
    case 'identity':
      return {
        name: `Transmission operator ${index}`,
        description: 'A member organisation of the energy circle.',
        identity_class: 'organization',
        sectors: ['energy'],
        contact_information: `soc-${index}@operator.example`,
      };
    case 'relationship':
      return {
        relationship_type: 'indicates',
        description: 'The beacon indicates the wiper.',
        source_ref: `indicator--${uuid(index, 3)}`,
        target_ref: `malware--${uuid(index, 4)}`,
      };
  }
}

function buildGenuine(index: number): Genuine {
  const kind = KINDS[index % KINDS.length] ?? 'indicator';
  const tlp = TLP_LEVELS[index % TLP_LEVELS.length] ?? 'amber';
  const creatorPick = index % 3;
  const origin = creatorPick === 1 ? charlie : creatorPick === 2 ? charlie : alpha;
  const creator = creatorPick === 0 ? alpha.id : creatorPick === 1 ? charlie.id : MITRE;
  const created = minute('2026-10-01T08:00:00.000Z', index);
  const granular = index % 4 === 0;
  const unsigned = (modified: string, changes: Record<string, JsonValue | undefined> = {}): StixObject =>
    withoutUndefined({
      type: kind,
      spec_version: '2.1',
      id: `${kind}--${uuid(index, 0xa)}`,
      created_by_ref: creator,
      created,
      modified,
      ...body(kind, index),
      object_marking_refs: [TLP2_MARKING_IDS[tlp]],
      ...(granular ? { granular_markings: [{ marking_ref: TLP2_MARKING_IDS.red, selectors: ['description'] }] } : {}),
      ...changes,
    });
  const v1 = signObject(unsigned(minute('2026-11-01T09:00:00.000Z', index)), origin.signer);
  const v2 = signObject(unsigned(minute('2026-11-10T09:00:00.000Z', index), { description: `Revised after new sightings (${index}).` }), origin.signer);
  return { label: `#${index} ${kind} TLP:${tlp.toUpperCase()}${granular ? ' +granular' : ''}`, v1, v2, unsigned, origin, creator, tlp };
}

const GENUINE: readonly Genuine[] = Array.from({ length: 30 }, (_, index) => buildGenuine(index));

function extensionOf(object: StixObject): Record<string, JsonValue> {
  return ((object['extensions'] as Record<string, JsonObject>)[SIGNATURE_EXTENSION_ID] ?? {}) as Record<string, JsonValue>;
}

function withExtension(object: StixObject, changes: Record<string, JsonValue>): StixObject {
  return { ...object, extensions: { [SIGNATURE_EXTENSION_ID]: { ...extensionOf(object), ...changes } } };
}

function stripSignature(object: StixObject): StixObject {
  const { extensions: _extensions, ...rest } = object;
  return rest as StixObject;
}

/** The expected verdict for a version the direct peer signed itself without saying derived. */
function peerResignedOutcome(genuine: Genuine): Expected {
  return genuine.creator === MITRE ? 'not-origin' : 'signer-not-creator';
}

// ---- Genuine arrivals ------------------------------------------------------------------------------

function genuineCases(): Case[] {
  const cases: Case[] = [];
  for (const genuine of GENUINE) {
    const origin = { originSigner: genuine.origin.id };
    cases.push({ name: `${genuine.label} first arrival`, object: genuine.v1, expected: 'accept:verified' });
    cases.push({ name: `${genuine.label} through JSON`, object: JSON.parse(JSON.stringify(genuine.v1)) as unknown, expected: 'accept:verified' });
    cases.push({ name: `${genuine.label} newer version`, object: genuine.v2, history: { ...origin, newestVersion: String(genuine.v1['modified']) }, expected: 'accept:verified' });
    cases.push({
      name: `${genuine.label} duplicate of a held older version`,
      object: genuine.v1,
      history: { ...origin, newestVersion: String(genuine.v2['modified']), sameVersionDigest: contentDigestOf(genuine.v1) },
      expected: 'accept:verified',
    });
    if (genuine.v1['granular_markings'] !== undefined) {
      // bravo's release decision removed the RED description for us and signed the redacted form.
      const redacted = signObject(stripSignature({ ...genuine.v1, description: undefined, granular_markings: undefined } as unknown as StixObject), bravo.signer, { derived: true });
      cases.push({ name: `${genuine.label} redacted by the peer (derived)`, object: JSON.parse(JSON.stringify(redacted)) as unknown, history: origin, expected: 'accept:derived' });
    }
    if (genuine.origin === alpha) {
      const before = signObject(genuine.unsigned('2026-05-20T00:00:00.000Z', { created: '2026-05-01T00:00:00.000Z' }), alphaRetired.signer);
      cases.push({ name: `${genuine.label} signed with the retired key while it was valid`, object: before, expected: 'accept:verified' });
    }
    if (genuine.creator === MITRE) {
      const plain = { organisationId: bravo.id, kind: 'plain' as const };
      cases.push({ name: `${genuine.label} unsigned from a plain peer into a circle accepting it`, object: stripSignature(genuine.v1), peer: plain, allowUnsigned: true, expected: 'accept:unverified' });
    }
  }
  return cases;
}

// ---- String mutations --------------------------------------------------------------------------

type Path = readonly (string | number)[];

function stringLeaves(value: JsonValue, path: Path = []): Path[] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringLeaves(item, [...path, index]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => stringLeaves(item, [...path, key]));
  return [];
}

function getAt(value: JsonValue, path: Path): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? current[step as number] : (current as JsonObject)[step as string];
  }
  return current;
}

function setAt<T extends JsonValue>(value: T, path: Path, replacement: JsonValue): T {
  const copy = structuredClone(value);
  let current: JsonValue = copy;
  for (const step of path.slice(0, -1)) current = (current as Record<string | number, JsonValue>)[step] as JsonValue;
  (current as Record<string | number, JsonValue>)[path[path.length - 1] as string | number] = replacement;
  return copy;
}

/** A different character of the same kind, where there is one: digit → digit, letter → letter, '-' ↔ '_'. */
function flipCharacter(character: string): string {
  const code = character.charCodeAt(0);
  if (code >= 48 && code <= 57) return String.fromCharCode(48 + ((code - 48 + 1) % 10));
  if (code >= 97 && code <= 122) return String.fromCharCode(97 + ((code - 97 + 1) % 26));
  if (code >= 65 && code <= 90) return String.fromCharCode(65 + ((code - 65 + 1) % 26));
  if (character === '-') return '_';
  if (character === '_') return '-';
  return character === 'x' ? 'y' : 'x';
}

function flipAt(text: string, position: number): string {
  return text.slice(0, position) + flipCharacter(text.charAt(position)) + text.slice(position + 1);
}

/**
 * What a one-character change of the signed content must give: the validator's refusal first
 * (a broken id, timestamp or vocabulary value is malformed), a `modified` pushed beyond a day
 * ahead next, and otherwise a signature that no longer verifies.
 */
function expectedForContentChange(object: StixObject): Expected {
  if (!validateStixObject(object).valid) return 'malformed';
  const modified = Date.parse(String(object['modified']));
  if (modified - NOW.getTime() > FUTURE_LIMIT_MS) return 'future-modified';
  return 'bad-signature';
}

const IDENTITY_ID = /^identity--[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function stringFlipCases(): Case[] {
  const cases: Case[] = [];
  for (const genuine of GENUINE) {
    const content = stripSignature(genuine.v1);
    for (const path of stringLeaves(content)) {
      const text = getAt(content, path) as string;
      for (const position of new Set([0, Math.floor(text.length / 2), text.length - 1])) {
        const object = setAt(genuine.v1, path, flipAt(text, position));
        cases.push({ name: `${genuine.label} $.${path.join('.')}[${position}]`, object, expected: expectedForContentChange(object) });
      }
    }
    const extension = extensionOf(genuine.v1);
    for (const position of [0, 21, 42, 85]) {
      cases.push({ name: `${genuine.label} signature[${position}]`, object: withExtension(genuine.v1, { signature: flipAt(String(extension['signature']), position) }), expected: 'bad-signature' });
    }
    for (const position of [0, 11, 21]) {
      cases.push({ name: `${genuine.label} key_id[${position}]`, object: withExtension(genuine.v1, { key_id: flipAt(String(extension['key_id']), position) }), expected: 'unknown-key' });
    }
    for (const position of [0, 10, 50]) {
      const signer = flipAt(String(extension['signer']), position);
      // Another well-formed identity has no such key pinned; a broken one makes the extension unreadable.
      cases.push({ name: `${genuine.label} signer[${position}]`, object: withExtension(genuine.v1, { signer }), expected: IDENTITY_ID.test(signer) ? 'unknown-key' : 'bad-signature' });
    }
    cases.push({ name: `${genuine.label} algorithm`, object: withExtension(genuine.v1, { algorithm: 'Ed25518' }), expected: 'bad-signature' });
  }
  return cases;
}

// ---- Markings, fields, keys, signatures, versions ----------------------------------------------

function markingCases(): Case[] {
  const cases: Case[] = [];
  for (const genuine of GENUINE) {
    const v1 = genuine.v1;
    const removed = { ...v1 } as Record<string, JsonValue>;
    delete removed['object_marking_refs'];
    cases.push({ name: `${genuine.label} object_marking_refs removed`, object: removed, expected: 'bad-signature' });
    if (genuine.tlp !== 'clear') {
      cases.push({ name: `${genuine.label} marking replaced with CLEAR`, object: { ...v1, object_marking_refs: [TLP2_MARKING_IDS.clear] }, expected: 'bad-signature' });
    }
    cases.push({ name: `${genuine.label} marking replaced with TLP 1.0 WHITE`, object: { ...v1, object_marking_refs: ['marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9'] }, expected: 'bad-signature' });
    if (v1['granular_markings'] !== undefined) {
      const withoutGranular = { ...v1 } as Record<string, JsonValue>;
      delete withoutGranular['granular_markings'];
      cases.push({ name: `${genuine.label} granular marking removed`, object: withoutGranular, expected: 'bad-signature' });
      cases.push({
        name: `${genuine.label} granular marking lowered to CLEAR`,
        object: { ...v1, granular_markings: [{ marking_ref: TLP2_MARKING_IDS.clear, selectors: ['description'] }] },
        expected: 'bad-signature',
      });
    }
    // The peer strips the marking and signs the result as its own, without saying it redacted anything.
    const stripped = stripSignature({ ...v1, object_marking_refs: [TLP2_MARKING_IDS.clear] });
    cases.push({ name: `${genuine.label} stripped and re-signed by the peer`, object: signObject(stripped, bravo.signer), history: { originSigner: genuine.origin.id }, expected: peerResignedOutcome(genuine) });
  }
  return cases;
}

function fieldCases(): Case[] {
  const cases: Case[] = [];
  for (const genuine of GENUINE) {
    const v1 = genuine.v1;
    const without = (key: string): StixObject => {
      const copy = { ...v1 } as Record<string, JsonValue>;
      delete copy[key];
      return copy as StixObject;
    };
    // A granular marking whose selector names the removed property no longer selects anything: invalid STIX.
    const selected = v1['granular_markings'] !== undefined;
    cases.push({ name: `${genuine.label} description removed`, object: without('description'), expected: selected ? 'malformed' : 'bad-signature' });
    cases.push({ name: `${genuine.label} created_by_ref removed`, object: without('created_by_ref'), expected: 'bad-signature' });
    cases.push({ name: `${genuine.label} custom property added`, object: { ...v1, x_injected: 'call this number' }, expected: 'bad-signature' });
    cases.push({ name: `${genuine.label} confidence added`, object: { ...v1, confidence: 100 }, expected: 'bad-signature' });
    cases.push({ name: `${genuine.label} revoked`, object: { ...v1, revoked: true }, expected: 'bad-signature' });
    cases.push({ name: `${genuine.label} labels added`, object: { ...v1, labels: ['benign'] }, expected: 'bad-signature' });
    cases.push({ name: `${genuine.label} modified moved a minute on`, object: { ...v1, modified: minute(String(v1['modified']), 1) }, expected: 'bad-signature' });
    cases.push({ name: `${genuine.label} creator swapped`, object: { ...v1, created_by_ref: genuine.creator === alpha.id ? charlie.id : alpha.id }, expected: 'bad-signature' });
    const extensions = { ...(v1['extensions'] as JsonObject), 'extension-definition--aaaaaaaa-0000-4000-8000-000000000000': { extension_type: 'property-extension', note: 'unsigned' } };
    cases.push({ name: `${genuine.label} another extension added`, object: { ...v1, extensions }, expected: 'bad-signature' });
    cases.push({ name: `${genuine.label} field added inside the signature extension`, object: withExtension(v1, { comment: 'trust me' }), expected: 'bad-signature' });
  }
  return cases;
}

function keyCases(): Case[] {
  const cases: Case[] = [];
  for (const genuine of GENUINE) {
    const content = stripSignature(genuine.v1);
    const other = genuine.origin === alpha ? charlie : alpha;
    const strangerSigned = signObject(content, stranger.signer);
    cases.push({ name: `${genuine.label} signed by an unpinned key`, object: strangerSigned, expected: 'unknown-key' });
    cases.push({ name: `${genuine.label} unpinned key claiming the origin`, object: withExtension(strangerSigned, { signer: genuine.origin.id }), expected: 'unknown-key' });
    const otherSigned = signObject(content, other.signer);
    cases.push({ name: `${genuine.label} another member's pinned key claiming the origin`, object: withExtension(otherSigned, { signer: genuine.origin.id }), expected: 'unknown-key' });
    cases.push({ name: `${genuine.label} another member's signature under the origin's key id`, object: withExtension(otherSigned, { signer: genuine.origin.id, key_id: genuine.origin.signer.keyId }), expected: 'bad-signature' });
    cases.push({
      name: `${genuine.label} another member signing as itself`,
      object: otherSigned,
      history: { originSigner: genuine.origin.id },
      expected: genuine.creator === MITRE ? 'not-origin' : 'signer-not-creator',
    });
    // Key id swapped: to another key pinned for the same organisation, and to another organisation's key.
    if (genuine.origin === alpha) {
      cases.push({ name: `${genuine.label} key id swapped to the origin's retired key`, object: withExtension(genuine.v1, { key_id: alphaRetired.signer.keyId }), expected: 'bad-signature' });
    }
    cases.push({ name: `${genuine.label} key id swapped to another member's key`, object: withExtension(genuine.v1, { key_id: other.signer.keyId }), expected: 'unknown-key' });
    if (genuine.origin === alpha) {
      cases.push({ name: `${genuine.label} signed with a retired key after its window`, object: signObject(content, alphaRetired.signer), expected: 'key-not-valid' });
    }
    // A derived signature is accepted only first-hand from the peer that made it.
    const derivedElsewhere = signObject(content, genuine.origin === alpha ? charlie.signer : alpha.signer, { derived: true });
    cases.push({
      name: `${genuine.label} derived by a member that is not the direct peer`,
      object: derivedElsewhere,
      history: { originSigner: genuine.origin.id },
      expected: genuine.creator === MITRE ? 'not-origin' : 'signer-not-creator',
    });
    // Signature bytes flipped, re-encoded in canonical base64url.
    for (const byte of [0, 31, 63]) {
      const bytes = Buffer.from(String(extensionOf(genuine.v1)['signature']), 'base64url');
      bytes[byte] = (bytes[byte] ?? 0) ^ 0x01;
      cases.push({ name: `${genuine.label} signature byte ${byte} flipped`, object: withExtension(genuine.v1, { signature: bytes.toString('base64url') }), expected: 'bad-signature' });
    }
  }
  return cases;
}

function versionCases(): Case[] {
  const cases: Case[] = [];
  for (const genuine of GENUINE) {
    const v1Version = String(genuine.v1['modified']);
    const v2Version = String(genuine.v2['modified']);
    const origin = genuine.origin.id;
    cases.push({ name: `${genuine.label} older version replayed after a newer one`, object: genuine.v1, history: { originSigner: origin, newestVersion: v2Version }, expected: 'rollback' });
    const changed = genuine.unsigned(v1Version, { description: 'Nothing to see here.' });
    cases.push({
      name: `${genuine.label} same version, other content, re-signed by the origin`,
      object: signObject(changed, genuine.origin.signer),
      history: { originSigner: origin, newestVersion: v1Version, sameVersionDigest: contentDigestOf(genuine.v1) },
      expected: 'content-conflict',
    });
    cases.push({
      name: `${genuine.label} same version, other content, old signature kept`,
      object: { ...genuine.v1, description: 'Nothing to see here.' },
      history: { originSigner: origin, newestVersion: v1Version, sameVersionDigest: contentDigestOf(genuine.v1) },
      expected: 'bad-signature',
    });
    const future = signObject(genuine.unsigned(new Date(NOW.getTime() + 25 * 3600 * 1000).toISOString()), genuine.origin.signer);
    cases.push({ name: `${genuine.label} modified 25 hours ahead`, object: future, expected: 'future-modified' });
    cases.push({ name: `${genuine.label} unsigned from the Entente peer`, object: stripSignature(genuine.v1), expected: 'unsigned' });
    const plain = { organisationId: bravo.id, kind: 'plain' as const };
    cases.push({ name: `${genuine.label} unsigned from a plain peer, circle refusing unsigned input`, object: stripSignature(genuine.v1), peer: plain, expected: 'unsigned' });
    if (genuine.creator !== MITRE) {
      cases.push({
        name: `${genuine.label} unsigned from a plain peer, claiming a creator with pinned keys`,
        object: stripSignature(genuine.v1),
        peer: plain,
        allowUnsigned: true,
        expected: 'signer-not-creator',
      });
    } else {
      cases.push({
        name: `${genuine.label} unsigned from a plain peer, for an id its origin signed`,
        object: stripSignature(genuine.v2),
        peer: plain,
        allowUnsigned: true,
        history: { originSigner: origin, newestVersion: v1Version },
        expected: 'not-origin',
      });
    }
  }
  return cases;
}

// ---- The assertions ----------------------------------------------------------------------------

describe('tamper corpus: genuine versions', () => {
  it('are thirty, of six types and every TLP level, some with granular markings', () => {
    assert.equal(GENUINE.length, 30);
    assert.deepEqual(new Set(GENUINE.map((genuine) => genuine.v1.type)), new Set(KINDS));
    assert.deepEqual(new Set(GENUINE.map((genuine) => genuine.tlp)), new Set(TLP_LEVELS));
    assert.ok(GENUINE.filter((genuine) => genuine.v1['granular_markings'] !== undefined).length >= 5);
    for (const genuine of GENUINE) {
      for (const version of [genuine.v1, genuine.v2]) assert.deepEqual(validateStixObject(version).issues, [], genuine.label);
    }
  });

  it('are all accepted: no false quarantine', (t) => {
    const cases = genuineCases();
    t.diagnostic(`${cases.length} genuine arrivals`);
    assert.deepEqual(mismatches(cases), []);
  });
});

describe('tamper corpus: every tampered version is quarantined with the expected reason', () => {
  const families: [string, () => Case[]][] = [
    ['one character of any string value changed', stringFlipCases],
    ['markings stripped or lowered', markingCases],
    ['fields changed, added or removed', fieldCases],
    ['wrong keys, swapped key ids, flipped signature bytes, derived elsewhere', keyCases],
    ['replayed, conflicting, future and unsigned versions', versionCases],
  ];
  let total = 0;
  for (const [family, build] of families) {
    it(family, (t) => {
      const cases = build();
      total += cases.length;
      const counts = new Map<Expected, number>();
      for (const testCase of cases) counts.set(testCase.expected, (counts.get(testCase.expected) ?? 0) + 1);
      t.diagnostic(`${cases.length} cases: ${[...counts].map(([reason, count]) => `${reason} ${count}`).join(', ')}`);
      assert.ok(cases.every((testCase) => !testCase.expected.startsWith('accept')));
      assert.deepEqual(mismatches(cases), []);
    });
  }
  it('has covered every quarantine reason the arrival checks can give for a signed version', (t) => {
    const reasons = new Set(families.flatMap(([, build]) => build().map((testCase) => testCase.expected)));
    t.diagnostic(`${total} tampered versions in all`);
    for (const reason of ['malformed', 'unsigned', 'bad-signature', 'unknown-key', 'key-not-valid', 'signer-not-creator', 'not-origin', 'rollback', 'future-modified', 'content-conflict'] as const) {
      assert.ok(reasons.has(reason), reason);
    }
  });
});

describe('tamper corpus: properties', () => {
  const genuineArb = fc.constantFrom(...GENUINE);
  const replacementArb = fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.integer({ min: 0xa0, max: 0x2fff }),
    fc.constantFrom(0x00, 0x0a, 0x22, 0x5c, 0x1f600),
  ).map((code) => String.fromCodePoint(code));

  it('any single-character change of any string value of a signed version, its signature included, is caught', () => {
    fc.assert(
      fc.property(genuineArb, fc.nat(), fc.nat(), replacementArb, (genuine, pathPick, positionPick, replacement) => {
        const paths = stringLeaves(genuine.v1);
        const path = paths[pathPick % paths.length] ?? [];
        const text = getAt(genuine.v1, path) as string;
        const position = positionPick % text.length;
        fc.pre(text.charAt(position) !== replacement);
        const object = setAt(genuine.v1, path, text.slice(0, position) + replacement + text.slice(position + 1));
        const decision = arrive({ name: 'property', object, expected: 'bad-signature' });
        assert.equal(decision.kind, 'quarantine', `$.${path.join('.')}[${position}] → ${JSON.stringify(replacement)}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('renaming any property, at any depth, is caught', () => {
    fc.assert(
      fc.property(genuineArb, fc.nat(), fc.constantFrom('x_renamed', 'name', 'description', 'labels', 'z'), (genuine, pick, newName) => {
        const keys = keyPaths(genuine.v1);
        const path = keys[pick % keys.length] ?? [];
        fc.pre(path[path.length - 1] !== newName);
        const decision = arrive({ name: 'property', object: renameAt(genuine.v1, path, newName), expected: 'bad-signature' });
        assert.equal(decision.kind, 'quarantine', `${path.join('.')} → ${newName}`);
      }),
      { numRuns: 500 },
    );
  });
});

function keyPaths(value: JsonValue, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => keyPaths(item, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => [[...path, key], ...keyPaths(item, [...path, key])]);
  }
  return [];
}

function renameAt(object: StixObject, path: Path, newName: string): StixObject {
  const copy = structuredClone(object);
  let parent: JsonValue = copy;
  for (const step of path.slice(0, -1)) parent = (parent as Record<string | number, JsonValue>)[step] as JsonValue;
  const record = parent as Record<string, JsonValue>;
  const oldName = String(path[path.length - 1]);
  const entries = Object.entries(record).map(([key, value]): [string, JsonValue] => [key === oldName ? newName : key, value]);
  for (const key of Object.keys(record)) delete record[key];
  for (const [key, value] of entries) record[key] = value;
  return copy;
}
