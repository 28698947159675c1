import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaxiiCollection } from '../taxii/taxii-client.ts';
import { fingerprintOf } from './node-key.ts';
import { chooseRemoteCollection, decidePeerKeys, decideRotatedKeyEnds, parseNodeIdentity, parsePeerInput, parseSyncInterval, type PeerNodeIdentity } from './peer-input.ts';
import { signMessage } from './signed-message.ts';
import { testOrganisation } from './test-support.ts';

const ORG = 'identity--0b000000-0000-4000-8000-000000000002';

describe('parsePeerInput', () => {
  const good = { name: 'grid-co', url: 'https://grid.example/taxii2', token: 'ent_secret', circle: 'wide' };

  it('reads a link with its defaults: every 5 minutes, silent after 3 intervals, pull only', () => {
    const parsed = parsePeerInput(good);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, {
      name: 'grid-co',
      url: 'https://grid.example/taxii2/',
      token: 'ent_secret',
      circleId: 'wide',
      remoteCollectionId: undefined,
      push: false,
      intervalSeconds: 300,
      silentAfter: 3,
      fingerprint: undefined,
      organisationId: undefined,
    });
  });

  it('names every field at fault, and never quotes the token', () => {
    const parsed = parsePeerInput({ name: 'Grid_Co', url: 'ftp://grid.example/', token: 'has space secret', circle: '', interval: '200ms', fingerprint: 'abc', organisation: 'grid' });
    assert.ok(!parsed.ok);
    assert.deepEqual(parsed.error.map((issue) => issue.field), ['name', 'url', 'token', 'circle', 'interval', 'fingerprint', 'organisation']);
    assert.ok(!JSON.stringify(parsed.error).includes('has space secret'));
  });

  it("refuses a plain peer's organisation id with upper-case hex, naming the fix", () => {
    const parsed = parsePeerInput({ ...good, organisation: 'identity--0B000000-0000-4000-8000-00000000000A' });
    assert.ok(!parsed.ok);
    assert.equal(parsed.error[0]?.field, 'organisation');
    assert.match(parsed.error[0]?.message ?? '', /write it in lower case \(identity--0b000000-0000-4000-8000-00000000000a\)/);
  });

  it('refuses credentials, queries and fragments in the URL', () => {
    for (const url of ['https://user:pw@grid.example/', 'https://grid.example/?a=1', 'https://grid.example/#x']) {
      const parsed = parsePeerInput({ ...good, url });
      assert.ok(!parsed.ok && parsed.error[0]?.field === 'url', url);
    }
  });

  it('normalises a fingerprint as printed (groups, colons, capitals)', () => {
    const hex = 'AB'.repeat(32);
    const parsed = parsePeerInput({ ...good, fingerprint: hex.match(/.{4}/g)?.join(' ') });
    assert.ok(parsed.ok);
    assert.equal(parsed.value.fingerprint, 'ab'.repeat(32));
  });
});

describe('parseSyncInterval', () => {
  it('reads milliseconds, seconds, minutes, hours and days, within 500 ms to 7 d', () => {
    assert.deepEqual(['500ms', '1s', '30s', '5m', '1h', '1d', '90', 45].map((value) => parseSyncInterval(value)), [
      { ok: true, value: 0.5 },
      { ok: true, value: 1 },
      { ok: true, value: 30 },
      { ok: true, value: 300 },
      { ok: true, value: 3600 },
      { ok: true, value: 86_400 },
      { ok: true, value: 90 },
      { ok: true, value: 45 },
    ]);
    for (const bad of ['499ms', '8d', 'soon', '1.5m', -1, '', 0.0001]) assert.equal(parseSyncInterval(bad).ok, false, String(bad));
  });
});

describe('chooseRemoteCollection', () => {
  const collection = (id: string, canRead: boolean, canWrite: boolean): TaxiiCollection => ({ id, title: id.toUpperCase(), canRead, canWrite, mediaTypes: [] });

  it("takes the collection named like the circle's collection, else the only readable one", () => {
    const both = [collection('other', true, false), collection('wide', true, false)];
    const named = chooseRemoteCollection(both, { requested: undefined, circleCollectionId: 'wide', push: false });
    assert.ok(named.ok);
    assert.equal(named.value.id, 'wide');
    const only = chooseRemoteCollection([collection('feed', true, false), collection('inbox', false, true)], { requested: undefined, circleCollectionId: 'wide', push: false });
    assert.ok(only.ok);
    assert.equal(only.value.id, 'feed');
  });

  it('lists what the token can read when it cannot choose', () => {
    const chosen = chooseRemoteCollection([collection('a', true, false), collection('b', true, true)], { requested: undefined, circleCollectionId: 'wide', push: false });
    assert.ok(!chosen.ok);
    assert.match(chosen.error, /choose one with --collection: a \(A\) r, b \(B\) r w/);
  });

  it('needs read, and write with --push', () => {
    const list = [collection('wide', true, false)];
    const push = chooseRemoteCollection(list, { requested: 'wide', circleCollectionId: 'wide', push: true });
    assert.ok(!push.ok);
    assert.match(push.error, /--push needs write access/);
    const unreadable = chooseRemoteCollection([collection('wide', false, true)], { requested: 'wide', circleCollectionId: 'wide', push: false });
    assert.ok(!unreadable.ok);
    assert.match(unreadable.error, /cannot read/);
  });
});

describe('decidePeerKeys', () => {
  const first = testOrganisation(2, 21);
  const second = testOrganisation(2, 22);
  const stranger = testOrganisation(2, 23);
  const NOW = new Date('2026-03-01T00:00:00.000Z');
  const publish = (key: typeof first, statement?: unknown, validFrom = '2026-01-01T00:00:00.000Z') => ({ keyId: key.pinned.keyId, publicKey: key.pinned.publicKey, validFrom, validUntil: undefined, rotationStatement: statement });
  const rotation = (from: typeof first, to: typeof first, validFrom = '2026-02-01T00:00:00.000Z') =>
    signMessage('key-rotation', { organisation_id: first.id, key_id: to.pinned.keyId, public_key: to.pinned.publicKey, valid_from: validFrom }, from.signer);
  const identity = (...keys: ReturnType<typeof publish>[]): PeerNodeIdentity => ({ organisationId: first.id, organisationName: 'Grid Co', keys });
  /** `first` pinned here, valid from the epoch; `window` narrows it. */
  const pinnedFirst = (window: { validFrom?: string; validUntil?: string } = {}) => ({ ...first.pinned, validFrom: '1970-01-01T00:00:00.000Z', validUntil: undefined, ...window });
  const keysOf = (decided: ReturnType<typeof decidePeerKeys>) => (decided.ok ? decided.value.map((key) => [key.keyId, key.source]) : decided.error);

  it('trusts every published key on first use when nothing is pinned for the organisation', () => {
    const decided = decidePeerKeys(identity(publish(first), publish(second)), { fingerprint: undefined, pinned: [], now: NOW });
    assert.ok(decided.ok);
    assert.deepEqual(decided.value.map((key) => [key.keyId, key.source]), [[first.pinned.keyId, 'peer-add'], [second.pinned.keyId, 'peer-add']]);
    assert.equal(decided.value[0]?.fingerprint, fingerprintOf(first.pinned.publicKey));
  });

  it('with a fingerprint, pins the key it names and the keys rotated from it, not keys nothing vouches for', () => {
    const fingerprint = fingerprintOf(first.pinned.publicKey).replace(/ /g, '');
    const decided = decidePeerKeys(identity(publish(first), publish(second, rotation(first, second)), publish(stranger)), { fingerprint, pinned: [], now: NOW });
    assert.ok(decided.ok);
    assert.deepEqual(decided.value.map((key) => [key.keyId, key.source]), [[first.pinned.keyId, 'fingerprint'], [second.pinned.keyId, 'rotation']]);
  });

  it('refuses a fingerprint that names none of the published keys', () => {
    const decided = decidePeerKeys(identity(publish(first)), { fingerprint: 'ab'.repeat(32), pinned: [], now: NOW });
    assert.ok(!decided.ok);
    assert.match(decided.error, /no key the peer's node publishes has the fingerprint given/);
  });

  it('refuses keys that are all different from the ones already pinned, and takes a rotation signed by a pinned key', () => {
    const refused = decidePeerKeys(identity(publish(stranger)), { fingerprint: undefined, pinned: [pinnedFirst()], now: NOW });
    assert.ok(!refused.ok);
    assert.match(refused.error, /none of the keys already pinned/);
    const rotated = decidePeerKeys(identity(publish(first), publish(second, rotation(first, second))), { fingerprint: undefined, pinned: [pinnedFirst()], now: NOW });
    assert.deepEqual(keysOf(rotated), [[second.pinned.keyId, 'rotation']]);
    const forged = decidePeerKeys(identity(publish(first), publish(second, rotation(stranger, second))), { fingerprint: undefined, pinned: [pinnedFirst()], now: NOW });
    assert.deepEqual(keysOf(forged), []);
  });

  it('lets a pinned key vouch only while the window it has here holds now, whatever window the identity publishes for it', () => {
    const rotated = identity(publish(first), publish(second, rotation(first, second)));
    assert.deepEqual(keysOf(decidePeerKeys(rotated, { fingerprint: undefined, pinned: [pinnedFirst({ validUntil: '2026-02-15T00:00:00.000Z' })], now: NOW })), [], 'ended here two weeks ago');
    // Within the usual five minutes of clock skew, the window still holds.
    const justEnded = pinnedFirst({ validUntil: new Date(NOW.getTime() - 60_000).toISOString() });
    assert.deepEqual(keysOf(decidePeerKeys(rotated, { fingerprint: undefined, pinned: [justEnded], now: NOW })), [[second.pinned.keyId, 'rotation']]);
  });

  it('lets a pinned key vouch only for a statement dated inside the window it has here', () => {
    const pinned = [pinnedFirst({ validFrom: '2026-01-15T00:00:00.000Z' })];
    const early = identity(publish(first), publish(second, rotation(first, second, '2026-01-01T00:00:00.000Z')));
    assert.deepEqual(keysOf(decidePeerKeys(early, { fingerprint: undefined, pinned, now: NOW })), []);
    const undated = identity(publish(first), publish(second, rotation(first, second, 'yesterday')));
    assert.deepEqual(keysOf(decidePeerKeys(undated, { fingerprint: undefined, pinned, now: NOW })), []);
  });

  it('lets no pinned key vouch once a later key is pinned for the organisation: it has its successor', () => {
    const pinned = [pinnedFirst({ validUntil: '2026-03-08T00:00:00.000Z' }), { ...second.pinned, validFrom: '2026-02-01T00:00:00.000Z', validUntil: undefined }];
    const forked = identity(publish(first), publish(stranger, rotation(first, stranger)));
    assert.deepEqual(keysOf(decidePeerKeys(forked, { fingerprint: undefined, pinned, now: NOW })), []);
  });

  it('pins neither of two keys the same key signed over', () => {
    const forked = identity(publish(first), publish(second, rotation(first, second)), publish(stranger, rotation(first, stranger)));
    assert.deepEqual(keysOf(decidePeerKeys(forked, { fingerprint: undefined, pinned: [pinnedFirst()], now: NOW })), []);
  });

  it('pins a rotated key from the instant its statement names, or later, never earlier', () => {
    const pinned = [pinnedFirst()];
    const backdated = decidePeerKeys(identity(publish(first), publish(second, rotation(first, second), '1970-01-01T00:00:00.000Z')), { fingerprint: undefined, pinned, now: NOW });
    assert.deepEqual(backdated.ok ? backdated.value.map((key) => key.validFrom) : backdated.error, ['2026-02-01T00:00:00.000Z']);
    const later = decidePeerKeys(identity(publish(first), publish(second, rotation(first, second), '2026-02-02T00:00:00.000Z')), { fingerprint: undefined, pinned, now: NOW });
    assert.deepEqual(later.ok ? later.value.map((key) => key.validFrom) : later.error, ['2026-02-02T00:00:00.000Z']);
  });

  it("ignores another organisation's keys among those pinned", () => {
    const elsewhere = { ...pinnedFirst(), organisationId: 'identity--00000000-0000-4000-8000-000000000009' };
    const decided = decidePeerKeys(identity(publish(first), publish(second, rotation(first, second))), { fingerprint: undefined, pinned: [elsewhere], now: NOW });
    assert.deepEqual(keysOf(decided), [[first.pinned.keyId, 'peer-add'], [second.pinned.keyId, 'peer-add']], 'nothing pinned for this organisation: first use');
  });
});

describe('decideRotatedKeyEnds', () => {
  const old = testOrganisation(2, 31);
  const next = testOrganisation(2, 32);
  const stranger = testOrganisation(2, 33);
  const rotatedAt = '2026-02-01T00:00:00.000Z';
  const overlapEnd = '2026-02-08T00:00:00.000Z';
  const statement = (from: typeof old, validFrom = rotatedAt) =>
    signMessage('key-rotation', { organisation_id: old.id, key_id: next.pinned.keyId, public_key: next.pinned.publicKey, valid_from: validFrom }, from.signer);
  const published = (key: typeof old, validFrom: string, validUntil: string | undefined, rotationStatement?: unknown) => ({
    keyId: key.pinned.keyId, publicKey: key.pinned.publicKey, validFrom, validUntil, rotationStatement,
  });
  /** The peer's node after a rotation with a week's overlap. */
  const identity = (oldUntil: string | null = overlapEnd, rotation: unknown = statement(old)): PeerNodeIdentity => ({
    organisationId: old.id,
    organisationName: 'Grid Co',
    keys: [published(old, '1970-01-01T00:00:00.000Z', oldUntil ?? undefined), published(next, rotatedAt, undefined, rotation)],
  });
  const pinnedOld = { ...old.pinned, validFrom: '1970-01-01T00:00:00.000Z', validUntil: undefined };
  const pinnedNext = { ...next.pinned, validFrom: rotatedAt, validUntil: undefined };

  it('ends a pinned key where the node publishes its end, once the key it rotated to is pinned here', () => {
    assert.deepEqual(decideRotatedKeyEnds(identity(), [pinnedOld, pinnedNext]), [{ keyId: old.pinned.keyId, validUntil: overlapEnd, rotatedTo: next.pinned.keyId }]);
    // A rotation with no overlap: the old key ends at the rotation.
    assert.deepEqual(decideRotatedKeyEnds(identity(rotatedAt), [pinnedOld, pinnedNext]).map((end) => end.validUntil), [rotatedAt]);
  });

  it('never before the instant the old key itself signed for: the published end carries no signature', () => {
    assert.deepEqual(decideRotatedKeyEnds(identity('2020-01-01T00:00:00.000Z'), [pinnedOld, pinnedNext]).map((end) => end.validUntil), [rotatedAt]);
  });

  it('only shortens: a window ending earlier, or a key published without an end, stays as it is', () => {
    assert.deepEqual(decideRotatedKeyEnds(identity(), [{ ...pinnedOld, validUntil: '2026-02-03T00:00:00.000Z' }, pinnedNext]), []);
    assert.deepEqual(decideRotatedKeyEnds(identity(null), [pinnedOld, pinnedNext]), []);
  });

  it('needs the rotation followed: the new key pinned, its statement signed by the pinned old key for exactly that key', () => {
    assert.deepEqual(decideRotatedKeyEnds(identity(), [pinnedOld]), [], 'the new key is not pinned here');
    assert.deepEqual(decideRotatedKeyEnds(identity(overlapEnd, statement(stranger)), [pinnedOld, pinnedNext]), [], 'signed by a key not pinned here');
    const altered = { ...statement(old), body: { ...statement(old).body, valid_from: '2026-01-01T00:00:00.000Z' } };
    assert.deepEqual(decideRotatedKeyEnds(identity(overlapEnd, altered), [pinnedOld, pinnedNext]), [], 'a statement altered on the way');
    assert.deepEqual(decideRotatedKeyEnds(identity(overlapEnd, 'not a statement'), [pinnedOld, pinnedNext]), []);
    const otherOrganisation = { ...pinnedOld, organisationId: 'identity--00000000-0000-4000-8000-000000000009' };
    assert.deepEqual(decideRotatedKeyEnds(identity(), [otherOrganisation, pinnedNext]), [], "another organisation's key with the same id is not this one's");
  });
});

describe('parseNodeIdentity', () => {
  const key = testOrganisation(2, 21).pinned;
  const document = {
    organisation: { type: 'identity', spec_version: '2.1', id: ORG, name: 'Grid Co', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z' },
    keys: [{ key_id: key.keyId, public_key: key.publicKey, valid_from: '1970-01-01T00:00:00.000Z' }],
    software: 'entente',
    protocol: 1,
  };

  it('reads the organisation and its keys', () => {
    const parsed = parseNodeIdentity(document);
    assert.ok(parsed.ok);
    assert.equal(parsed.value.organisationId, ORG);
    assert.equal(parsed.value.organisationName, 'Grid Co');
    assert.equal(parsed.value.keys[0]?.keyId, key.keyId);
  });

  it('refuses an organisation id with upper-case hex, which every object it writes would name', () => {
    const parsed = parseNodeIdentity({ ...document, organisation: { ...document.organisation, id: 'identity--0B000000-0000-4000-8000-000000000002' } });
    assert.ok(!parsed.ok);
    assert.match(parsed.error, /^\$\.organisation\.id: .*write it in lower case/);
  });

  it('refuses a key whose id is not its hash', () => {
    const parsed = parseNodeIdentity({ ...document, keys: [{ key_id: 'A'.repeat(22), public_key: key.publicKey, valid_from: '1970-01-01T00:00:00.000Z' }] });
    assert.ok(!parsed.ok);
    assert.match(parsed.error, /\$\.keys\[0\]\.public_key/);
  });
});
