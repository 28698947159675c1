// Two nodes that never talk over a network (docs/federation.md, "Air-gapped networks"): A's operator
// exports what the circle may release to B as a signed bundle, carries the file across, and B's
// operator imports it with `--from A` after pinning A's key by hand — having compared its fingerprint.
// Everything A originated arrives verified, the redacted version as derived. After A rotates its key,
// the next file carries the new key's rotation statement, and B pins the new key from it and ends its
// trust in the old one where A's node says it ends: a stolen old key signs nothing new after the overlap,
// nor vouches, in a forged header, for a key of its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseFileName } from '../../src/compose.ts';
import { createKeyDirectory, createNodeKeyPair, fingerprintOf, parsePrivateKey } from '../../src/federation/node-key.ts';
import { signObject, verifyObjectSignature } from '../../src/federation/sign-object.ts';
import { SIGNED_BUNDLE_NODE_PROPERTY } from '../../src/federation/signed-bundle.ts';
import { parseSignedMessage, signMessage, verifyMessage } from '../../src/federation/signed-message.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { entente, temporaryDirectory, type CliRun } from '../cli/cli-kit.ts';

interface KeyJson {
  key_id: string;
  public_key: string;
  fingerprint: string;
  valid_from: string;
  valid_until: string | null;
  current: boolean;
  rotated_in: boolean;
}
interface KeysJson {
  organisation_id: string;
  keys: KeyJson[];
}
interface SignedBundle {
  [SIGNED_BUNDLE_NODE_PROPERTY]: { organisation: { id: string }; keys: { key_id: string; public_key: string; valid_from: string; valid_until?: string; rotation_statement?: unknown }[]; software: string; protocol: number };
  objects: StixObject[];
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stdout}${run.stderr}`);
  return run;
}

const TERMS = {
  scope: { types: ['indicator'] }, highest_tlp: 'amber', onward_sharing: 'none', attribution: 'keep',
  expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' }, end_rule: 'retain',
};

function indicator(n: number, extra: Record<string, unknown> = {}): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--0f0f0f0f-0000-4000-8000-${String(n).padStart(12, '0')}`,
    created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', name: `indicator ${n}`,
    pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z',
    object_marking_refs: [TLP2_MARKING_IDS.green], ...extra,
  } as StixObject;
}

describe('air-gapped exchange: entente export --signed, entente key pin, entente import --from', () => {
  const a = temporaryDirectory('airgap-a');
  const b = temporaryDirectory('airgap-b');
  after(() => {
    a.remove();
    b.remove();
  });
  const atA = (...args: string[]): Promise<CliRun> => entente(a.path, args);
  const atB = (...args: string[]): Promise<CliRun> => entente(b.path, args);
  const keysOf = async (at: (...args: string[]) => Promise<CliRun>): Promise<KeysJson> => JSON.parse(ok(await at('key', 'show', '--json')).stdout) as KeysJson;
  let orgA = '';
  let orgB = '';
  let firstFile = '';

  before(async () => {
    orgA = (await keysOf(atA)).organisation_id;
    orgB = (await keysOf(atB)).organisation_id;
    const terms = join(a.path, 'terms.json');
    writeFileSync(terms, JSON.stringify(TERMS));
    // A's circle with B; B's circle with A (each node keeps its own copy of the agreement).
    for (const [at, other] of [[atA, orgB], [atB, orgA]] as const) {
      ok(await at('org', 'add', 'Partner', '--kind', 'cert', '--id', other));
      ok(await at('circle', 'create', 'air', '--name', 'Air-gapped', '--until', '2099-01-01T00:00:00Z'));
      ok(await at('circle', 'invite', 'air', '--org', other));
      ok(await at('circle', 'propose', 'air', '--terms', terms));
      ok(await at('circle', 'accept', 'air', '--org', other));
    }
    const bundle = join(a.path, 'objects.json');
    writeFileSync(bundle, JSON.stringify({
      type: 'bundle', id: 'bundle--0f0f0f0f-0000-4000-8000-000000000001',
      objects: [indicator(1), indicator(2, { description: 'red detail', granular_markings: [{ selectors: ['description'], marking_ref: TLP2_MARKING_IDS.red }] })],
    }));
    ok(await atA('import', bundle, '--collection', 'air'));
  });

  it('key show: one key valid from the start, current, with its fingerprint; never the private key', async () => {
    const shown = await keysOf(atA);
    assert.equal(shown.keys.length, 1);
    const key = shown.keys[0] as KeyJson;
    assert.equal(key.current, true);
    assert.equal(key.valid_until, null);
    assert.equal(key.fingerprint, fingerprintOf(key.public_key));
    const text = ok(await atA('key', 'show')).stdout;
    assert.match(text, new RegExp(`key ${key.key_id} {2}\\(signs now\\)`));
    assert.ok(!/private|BEGIN/i.test(text));
    assert.equal((await keysOf(atA)).keys[0]?.key_id, key.key_id, 'the key is made once, not at every start');
  });

  it('export --signed needs --for a partner', async () => {
    const refused = await atA('export', '--collection', 'air', '--signed');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /ENT_CLI_USAGE/);
  });

  it("writes a bundle headed by A's node identity, each object signed (the redacted one derived)", async () => {
    firstFile = join(a.path, 'for-b-1.json');
    ok(await atA('export', '--collection', 'air', '--for', orgB, '--signed', '--type', 'indicator', '-o', firstFile));
    const text = readFileSync(firstFile, 'utf8');
    assert.ok(text.indexOf(`"${SIGNED_BUNDLE_NODE_PROPERTY}"`) < text.indexOf('"objects"'), 'the identity comes before the objects');
    const file = JSON.parse(text) as SignedBundle;
    const node = file[SIGNED_BUNDLE_NODE_PROPERTY];
    assert.equal(node.organisation.id, orgA);
    assert.equal(node.software, 'entente');
    const directory = createKeyDirectory(node.keys.map((key) => ({ organisationId: orgA, keyId: key.key_id, publicKey: key.public_key, validFrom: key.valid_from, validUntil: key.valid_until })));
    const verdicts = file.objects.map((object) => verifyObjectSignature(object, directory));
    assert.deepEqual(verdicts.map((verdict) => verdict.kind), ['verified', 'verified']);
    assert.deepEqual(verdicts.map((verdict) => verdict.kind === 'verified' && verdict.derived), [false, true]);
    assert.equal(file.objects[1]?.['description'], undefined);
  });

  it('B pins the key after comparing fingerprints, imports, and holds both versions as A signed them', async () => {
    const keyA = (await keysOf(atA)).keys[0] as KeyJson;
    const pinned = ok(await atB('key', 'pin', orgA, '--public-key', keyA.public_key));
    assert.ok(pinned.stdout.includes(keyA.fingerprint), 'B sees the fingerprint to compare with what A reads out');
    const imported = ok(await atB('import', firstFile, '--from', orgA, '--collection', 'air'));
    assert.match(imported.stdout, /^2 accepted, 0 duplicate, 0 quarantined, 0 rejected/);
    const held = JSON.parse(ok(await atB('export', '--collection', 'air', '--type', 'indicator')).stdout) as { objects: StixObject[] };
    const sent = (JSON.parse(readFileSync(firstFile, 'utf8')) as SignedBundle).objects;
    assert.deepEqual(held.objects, sent, 'stored exactly as signed');
    const listed = ok(await atB('key', 'pinned', orgA)).stdout;
    assert.match(listed, new RegExp(`${orgA}\\t${keyA.key_id}\\t1970-01-01T00:00:00.000Z\\t-\\tmanual`));
  });

  it('a file edited on the way is quarantined at B', async () => {
    const file = JSON.parse(readFileSync(firstFile, 'utf8')) as SignedBundle;
    const edited = join(b.path, 'edited.json');
    writeFileSync(edited, JSON.stringify({ ...file, objects: [{ ...file.objects[0], modified: '2026-03-01T00:00:00.000Z', name: 'edited' }] }));
    const imported = await atB('import', edited, '--from', orgA, '--collection', 'air');
    assert.equal(imported.code, 1);
    assert.match(imported.stdout, /^0 accepted, 0 duplicate, 1 quarantined \(bad-signature: 1\)/);
  });

  it("after A rotates its key, B pins the new key from the file's rotation statement and verifies what it signs", async () => {
    const before = (await keysOf(atA)).keys[0] as KeyJson;
    const rotated = ok(await atA('key', 'rotate', '--overlap', '1h'));
    assert.match(rotated.stdout, /^New key [A-Za-z0-9_-]{22} signs from /);
    const keys = (await keysOf(atA)).keys;
    assert.equal(keys.length, 2);
    const current = keys.find((key) => key.current);
    const old = keys.find((key) => key.key_id === before.key_id);
    assert.ok(current !== undefined && old !== undefined && current.key_id !== old.key_id);
    assert.equal(current.rotated_in, true);
    const overlap = Date.parse(old.valid_until ?? '') - Date.parse(current.valid_from);
    assert.ok(Math.abs(overlap - 3_600_000) < 1000, `the old key stays valid for the overlap (${overlap} ms)`);
    assert.equal((await atA('key', 'rotate', '--overlap', 'forever')).code, 2);

    // A new version, modified now: signed with the new key.
    const fresh = indicator(3, { created: new Date().toISOString(), modified: new Date().toISOString() });
    const bundle = join(a.path, 'fresh.json');
    writeFileSync(bundle, JSON.stringify({ type: 'bundle', id: 'bundle--0f0f0f0f-0000-4000-8000-000000000002', objects: [fresh] }));
    ok(await atA('import', bundle, '--collection', 'air'));
    const secondFile = join(a.path, 'for-b-2.json');
    ok(await atA('export', '--collection', 'air', '--for', orgB, '--signed', '--type', 'indicator', '-o', secondFile));
    const file = JSON.parse(readFileSync(secondFile, 'utf8')) as SignedBundle;
    const published = file[SIGNED_BUNDLE_NODE_PROPERTY].keys.find((key) => key.key_id === current.key_id);
    const statement = parseSignedMessage(published?.rotation_statement);
    assert.ok(statement.ok, 'the new key carries a rotation statement');
    assert.equal(verifyMessage(statement.value, createKeyDirectory([{ organisationId: orgA, keyId: old.key_id, publicKey: old.public_key, validFrom: old.valid_from }])).kind, 'verified');
    assert.deepEqual(statement.value.body, { organisation_id: orgA, key_id: current.key_id, public_key: current.public_key, valid_from: current.valid_from });
    const signedFresh = file.objects.find((object) => object.id === fresh.id);
    assert.equal((signedFresh?.['extensions'] as Record<string, { key_id: string }> | undefined)?.['extension-definition--014e3473-d4e7-4544-b76b-4fde9209e1b4']?.key_id, current.key_id);
    // Versions modified before the rotation keep the signature of their time.
    const first = (JSON.parse(readFileSync(firstFile, 'utf8')) as SignedBundle).objects[0];
    assert.deepEqual(file.objects.find((object) => object.id === first?.id), first);

    const imported = ok(await atB('import', secondFile, '--from', orgA, '--collection', 'air'));
    assert.match(imported.stdout, /^1 accepted, 2 duplicate, 0 quarantined/);
    assert.match(imported.stderr, new RegExp(`Pinned key ${current.key_id} of ${orgA}: its rotation statement is signed by a key pinned here`));
    assert.match(imported.stderr, new RegExp(`Key ${old.key_id} of ${orgA} rotated out for ${current.key_id}: trusted until ${old.valid_until ?? '?'} only`));
    assert.match(ok(await atB('key', 'pinned', orgA)).stdout, new RegExp(`\\t${current.key_id}\\t.*\\trotation\\t`));
  });

  it("B ends the old key's window where A's node says it ends: after the overlap, a stolen old key signs nothing new", async () => {
    const keysOfA = (await keysOf(atA)).keys;
    const old = keysOfA.find((key) => !key.current);
    assert.ok(old?.valid_until !== null && old?.valid_until !== undefined, 'A rotated in the test before');

    // Whoever copied A's data directory holds the old private key, and signs a version dated after the overlap.
    const store = openSqliteObjectStore({ path: join(a.path, databaseFileName) });
    const stolen = (await store.listNodeKeys()).find((key) => key.keyId === old.key_id);
    await store.close();
    const privateKey = parsePrivateKey(stolen?.privateKey);
    assert.ok(privateKey.ok);
    const after = new Date(Date.parse(old.valid_until) + 3_600_000).toISOString();
    const forged = signObject(indicator(4, { created: after, modified: after, name: 'planted' }), { organisationId: orgA, keyId: old.key_id, privateKey: privateKey.value });
    const genuine = JSON.parse(readFileSync(join(a.path, 'for-b-2.json'), 'utf8')) as SignedBundle;
    const file = join(b.path, 'forged.json');
    writeFileSync(file, JSON.stringify({ type: 'bundle', id: 'bundle--0f0f0f0f-0000-4000-8000-000000000003', [SIGNED_BUNDLE_NODE_PROPERTY]: genuine[SIGNED_BUNDLE_NODE_PROPERTY], objects: [forged] }));
    const imported = await atB('import', file, '--from', orgA, '--collection', 'air');
    assert.equal(imported.code, 1, imported.stdout + imported.stderr);
    assert.match(imported.stdout, /^0 accepted, 0 duplicate, 1 quarantined \(key-not-valid: 1\)/);
    // The old key keeps how it was pinned (by hand); only its window changed.
    const pinnedAtB = ok(await atB('key', 'pinned', orgA, '--json'))
      .stdout.trim().split('\n').map((line) => JSON.parse(line) as { key_id: string; valid_from: string; valid_until: string | null; source: string });
    const oldAtB = pinnedAtB.find((key) => key.key_id === old.key_id);
    assert.deepEqual([oldAtB?.valid_from, oldAtB?.valid_until, oldAtB?.source], [old.valid_from, old.valid_until, 'manual']);
  });

  it('nor can a stolen old key vouch for a key of its own: its rotation statement in a forged header pins nothing', async () => {
    const old = (await keysOf(atA)).keys.find((key) => !key.current);
    assert.ok(old !== undefined, 'A rotated in the test before');
    const store = openSqliteObjectStore({ path: join(a.path, databaseFileName) });
    const stolen = (await store.listNodeKeys()).find((key) => key.keyId === old.key_id);
    await store.close();
    const privateKey = parsePrivateKey(stolen?.privateKey);
    assert.ok(privateKey.ok);
    // The thief's own key, which the old key signs over as if A had rotated to it, backdated so it
    // could sign old versions too; and a version signed with it as A's. The header publishes the old
    // key without an end. B already follows A's real rotation, so the old key has its successor.
    const evil = createNodeKeyPair();
    const backdated = '2026-01-01T00:00:00.000Z';
    const statement = signMessage('key-rotation', { organisation_id: orgA, key_id: evil.keyId, public_key: evil.publicKey, valid_from: backdated }, { organisationId: orgA, keyId: old.key_id, privateKey: privateKey.value });
    const now = new Date().toISOString();
    const planted = signObject(indicator(5, { created: now, modified: now, name: 'planted' }), { organisationId: orgA, keyId: evil.keyId, privateKey: evil.privateKey });
    const header = {
      organisation: { type: 'identity', spec_version: '2.1', id: orgA, created: now, modified: now, name: 'A', identity_class: 'organization' },
      keys: [
        { key_id: old.key_id, public_key: old.public_key, valid_from: old.valid_from },
        { key_id: evil.keyId, public_key: evil.publicKey, valid_from: backdated, rotation_statement: statement },
      ],
      software: 'entente',
      protocol: 1,
    };
    const file = join(b.path, 'forged-rotation.json');
    writeFileSync(file, JSON.stringify({ type: 'bundle', id: 'bundle--0f0f0f0f-0000-4000-8000-000000000004', [SIGNED_BUNDLE_NODE_PROPERTY]: header, objects: [planted] }));
    const imported = await atB('import', file, '--from', orgA, '--collection', 'air');
    assert.equal(imported.code, 1, imported.stdout + imported.stderr);
    assert.match(imported.stdout, /^0 accepted, 0 duplicate, 1 quarantined \(unknown-key: 1\)/);
    assert.doesNotMatch(imported.stderr, /Pinned key/);
    assert.doesNotMatch(ok(await atB('key', 'pinned', orgA)).stdout, new RegExp(evil.keyId));
  });

  it('key pin refuses the home organisation and unknown organisations', async () => {
    const keyA = (await keysOf(atA)).keys[0] as KeyJson;
    assert.equal((await atB('key', 'pin', orgB, '--public-key', keyA.public_key)).code, 2);
    const unknown = await atB('key', 'pin', 'identity--0f0f0f0f-0000-4000-8000-0000000000ff', '--public-key', keyA.public_key);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /ENT_ORG_NOT_FOUND/);
  });
});
