import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TLP2_EXTENSION_DEFINITION_ID, TLP2_MARKING_IDS } from '../policy/tlp.ts';
import type { StixObject } from '../stix/types.ts';
import { decidePullPage, hopsOf, UnwrittenPages, type PageHistory, type PullBasis } from './decide-pull-page.ts';
import { createKeyDirectory } from './node-key.ts';
import { signObject } from './sign-object.ts';
import { openTerms, testOrganisation } from './test-support.ts';

const grid = testOrganisation(2);
const bank = testOrganisation(3);
const NOW = new Date('2026-03-01T12:00:00.000Z');

function indicator(n: number, modified = '2026-02-01T00:00:00.000Z', extra: Record<string, unknown> = {}): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    created: '2026-01-01T00:00:00.000Z',
    modified,
    pattern: `[ipv4-addr:value = '198.51.100.${n}']`,
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00Z',
    ...extra,
  } as StixObject;
}

const basis: PullBasis = {
  peer: { organisationId: grid.id, kind: 'entente' },
  terms: openTerms(),
  defaultTlp: 'amber',
  directory: createKeyDirectory([grid.pinned, bank.pinned]),
  now: NOW,
};

const nothingHeld: PageHistory = { versions: new Map(), originSigners: new Map(), markingDefinitions: new Map() };

describe('hopsOf', () => {
  it('is the signer alone when the peer signed, the signer then the peer when the peer passes on, the peer alone for unsigned input', () => {
    assert.deepEqual(hopsOf(grid.id, grid.id), [grid.id]);
    assert.deepEqual(hopsOf(bank.id, grid.id), [bank.id, grid.id]);
    assert.deepEqual(hopsOf(undefined, grid.id), [grid.id]);
  });
});

describe('decidePullPage', () => {
  it('accepts signed versions with their signer and hops, quarantines the rest with the reason', () => {
    const own = signObject(indicator(1), grid.signer);
    const passedOn = signObject(indicator(2), bank.signer);
    const unsigned = indicator(3);
    const page = decidePullPage([own, passedOn, unsigned, { type: 'indicator', id: 'nonsense' }], basis, nothingHeld);
    assert.deepEqual(
      page.accepted.map((arrived) => [arrived.object.id, arrived.signer, arrived.verification, arrived.hops]),
      [
        [own.id, grid.id, 'verified', [grid.id]],
        [passedOn.id, bank.id, 'verified', [bank.id, grid.id]],
      ],
    );
    assert.deepEqual(page.quarantined.map((item) => [item.objectId, item.reason]), [
      [unsigned.id, 'unsigned'],
      ['nonsense', 'malformed'],
    ]);
    assert.deepEqual(JSON.parse(page.quarantined[0]?.json ?? ''), unsigned, 'kept whole, as it arrived');
  });

  it('judges later versions of an id on the same page against the earlier ones', () => {
    const newer = signObject(indicator(4, '2026-02-02T00:00:00.000Z'), grid.signer);
    const older = signObject(indicator(4, '2026-02-01T00:00:00.000Z'), grid.signer);
    const page = decidePullPage([newer, older], basis, nothingHeld);
    assert.deepEqual(page.accepted.map((arrived) => arrived.object['modified']), ['2026-02-02T00:00:00.000Z']);
    assert.deepEqual(page.quarantined.map((item) => item.reason), ['rollback']);
  });

  it('takes what the node holds into account: the same version again is accepted (a duplicate), other content is a conflict', () => {
    const held = signObject(indicator(5), grid.signer);
    const history: PageHistory = {
      versions: new Map([[held.id, [{ version: '2026-02-01T00:00:00.000Z', json: JSON.stringify(held) }]]]),
      originSigners: new Map([[held.id, grid.id]]),
      markingDefinitions: new Map(),
    };
    const changed = signObject(indicator(5, '2026-02-01T00:00:00.000Z', { name: 'changed' }), grid.signer);
    const page = decidePullPage([held, changed], basis, history);
    assert.equal(page.accepted.length, 1);
    assert.deepEqual(page.quarantined.map((item) => item.reason), ['content-conflict']);
  });

  it('a redacted copy of a version held whole is not stored, nor the whole version added to this collection (a peer cannot move versions between circles)', () => {
    const whole = signObject(indicator(8, '2026-02-01T00:00:00.000Z', { name: 'Beacon', created_by_ref: bank.id }), bank.signer);
    const history: PageHistory = {
      versions: new Map([[whole.id, [{ version: '2026-02-01T00:00:00.000Z', json: JSON.stringify(whole) }]]]),
      originSigners: new Map([[whole.id, bank.id]]),
      markingDefinitions: new Map(),
    };
    const { created_by_ref: _creator, ...anonymised } = indicator(8, '2026-02-01T00:00:00.000Z', { name: 'Beacon' });
    const redacted = signObject(anonymised as StixObject, grid.signer, { derived: true });
    const page = decidePullPage([redacted], basis, history);
    assert.deepEqual(page.quarantined, []);
    assert.deepEqual(page.accepted, []);
  });

  it('quarantines an indicator whose STIX pattern does not parse, as every write path refuses it', () => {
    const broken = signObject(indicator(6, '2026-02-01T00:00:00.000Z', { pattern: "[ipv4-addr:value = '1.2.3.4'" }), grid.signer);
    const page = decidePullPage([broken], basis, nothingHeld);
    assert.deepEqual(page.quarantined.map((item) => item.reason), ['malformed']);
  });

  it("quarantines an id whose UUID has upper-case hex, which readers take for the lower-case one: another's indicator cannot be rewritten under it", () => {
    const banks = 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f';
    const history: PageHistory = { ...nothingHeld, originSigners: new Map([[banks, bank.id]]) };
    const upper = 'indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F';
    const rewritten = signObject({ ...indicator(7, '2026-02-15T00:00:00.000Z', { pattern: "[ipv4-addr:value = '192.0.2.1']" }), id: upper }, grid.signer);
    const page = decidePullPage([rewritten], basis, history);
    assert.deepEqual(page.accepted, []);
    assert.deepEqual(page.quarantined.map((item) => [item.objectId, item.reason]), [[upper, 'malformed']]);
  });

  it('quarantines everything when no accepted agreement binds the peer', () => {
    const page = decidePullPage([signObject(indicator(7), grid.signer)], { ...basis, terms: undefined }, nothingHeld);
    assert.deepEqual(page.quarantined.map((item) => item.reason), ['no-agreement']);
  });

  it('decides each page of one write as if the pages before it were stored: their versions, origins and marking definitions count (UnwrittenPages)', () => {
    const customRed = 'marking-definition--aaaaaaaa-0000-4000-8000-00000000beef';
    // A TLP 2.0 definition under an id of its own: it can only narrow what an object's TLP allows.
    const definition = signObject(
      {
        type: 'marking-definition',
        spec_version: '2.1',
        id: customRed,
        created: '2026-01-01T00:00:00.000Z',
        name: 'TLP:RED',
        extensions: { [TLP2_EXTENSION_DEFINITION_ID]: { extension_type: 'property-extension', tlp_2_0: 'red' } },
      } as StixObject,
      grid.signer,
    );
    const amberBasis: PullBasis = { ...basis, terms: openTerms({ highestTlp: 'amber' }) };
    const firstPage = [signObject(indicator(10, '2026-02-02T00:00:00.000Z'), bank.signer), signObject(indicator(11, '2026-02-03T00:00:00.000Z'), grid.signer), definition];
    const secondPage = [
      signObject(indicator(10, '2026-02-04T00:00:00.000Z'), grid.signer),
      signObject(indicator(11, '2026-02-01T00:00:00.000Z'), grid.signer),
      signObject(indicator(11, '2026-02-03T00:00:00.000Z'), grid.signer),
      signObject(indicator(12, '2026-02-01T00:00:00.000Z', { object_marking_refs: [TLP2_MARKING_IDS.green, customRed] }), grid.signer),
    ];
    const unwritten = new UnwrittenPages();
    const first = decidePullPage(firstPage, amberBasis, nothingHeld, undefined, unwritten);
    assert.deepEqual(first.quarantined, []);
    assert.equal(first.accepted.length, 3);
    const second = decidePullPage(secondPage, amberBasis, nothingHeld, undefined, unwritten);
    assert.deepEqual(second.quarantined.map((item) => [item.objectId, item.reason]), [
      [indicator(10).id, 'not-origin'],
      [indicator(11).id, 'rollback'],
      [indicator(12).id, 'outside-agreement'],
    ]);
    // The same version again is accepted (the store counts it a duplicate) and held once.
    assert.deepEqual(second.accepted.map((arrived) => [arrived.object.id, arrived.object['modified']]), [[indicator(11).id, '2026-02-03T00:00:00.000Z']]);
    assert.equal(unwritten.versionsOf(indicator(11).id)?.length, 1);
    // Without the pages before it, the second page would be accepted whole: the rules above are the carry's doing.
    assert.equal(decidePullPage(secondPage, amberBasis, nothingHeld).accepted.length, 4);
  });

  it('a marking definition held already is not replaced by another on the page or in the pages before it', () => {
    // Held: a custom id meaning TLP:RED. A page redefining that id as CLEAR must not lift an object
    // marked with it under an AMBER ceiling (the store refuses the second definition anyway).
    const customRed = 'marking-definition--00000000-0000-4000-8000-00000000cafe';
    const definition = (tlp: 'red' | 'clear', created: string): StixObject =>
      signObject({
        type: 'marking-definition', spec_version: '2.1', id: customRed, created, name: `TLP:${tlp.toUpperCase()}`,
        extensions: { [TLP2_EXTENSION_DEFINITION_ID]: { extension_type: 'property-extension', tlp_2_0: tlp } },
      } as StixObject, grid.signer);
    const amberBasis: PullBasis = { ...basis, terms: openTerms({ highestTlp: 'amber' }) };
    const held: PageHistory = { ...nothingHeld, markingDefinitions: new Map([[customRed, definition('red', '2026-01-01T00:00:00.000Z')]]) };
    const marked = signObject(indicator(13, '2026-02-01T00:00:00.000Z', { object_marking_refs: [TLP2_MARKING_IDS.green, customRed] }), grid.signer);
    const forged = definition('clear', '2026-01-02T00:00:00.000Z');
    const onThePage = decidePullPage([forged, marked], amberBasis, held);
    assert.deepEqual(onThePage.quarantined.map((item) => [item.objectId, item.reason]).filter(([id]) => id === marked.id), [[marked.id, 'outside-agreement']]);
    const unwritten = new UnwrittenPages();
    decidePullPage([forged], amberBasis, held, undefined, unwritten);
    const later = decidePullPage([marked], amberBasis, held, undefined, unwritten);
    assert.deepEqual(later.quarantined.map((item) => item.reason), ['outside-agreement']);
  });
  it('quarantines a value nested too deep to serialise as malformed, with a short text, and decides the rest of the page (it never throws)', () => {
    // JSON.parse builds such values without recursing; JSON.stringify and the signature's canonical
    // form overflow the stack on them. A page that made the decision throw would be fetched again
    // every cycle: the peer link would be stuck on it.
    let nest: unknown = 1;
    for (let depth = 0; depth < 100_000; depth += 1) nest = [nest];
    const good = signObject(indicator(20), grid.signer);
    const unsigned = { ...indicator(21), x_deep: nest };
    const signed = { ...signObject(indicator(22), grid.signer), x_deep: nest };
    const held = signObject(indicator(23), grid.signer);
    const sameVersion = { ...held, x_deep: nest };
    const history: PageHistory = {
      versions: new Map([[held.id, [{ version: '2026-02-01T00:00:00.000Z', json: JSON.stringify(held) }]]]),
      originSigners: new Map([[held.id, grid.id]]),
      markingDefinitions: new Map(),
    };
    const page = decidePullPage([unsigned, nest, signed, sameVersion, good], basis, history);
    assert.deepEqual(page.accepted.map((arrived) => arrived.object.id), [good.id]);
    assert.deepEqual(page.quarantined.map((item) => item.objectId), [unsigned.id, '', signed.id, held.id]);
    for (const item of page.quarantined) {
      assert.ok(item.json.length < 1024, `a short text stands for the value (${item.json.length} characters)`);
      assert.doesNotThrow(() => JSON.parse(item.json), 'the text kept is JSON');
    }
    assert.deepEqual(page.quarantined.map((item) => item.reason), ['unsigned', 'malformed', 'bad-signature', 'malformed']);
  });
});
