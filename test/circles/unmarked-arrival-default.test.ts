// An object that carries no TLP marking stands at the default TLP of the circle it arrived through:
// that is the level the arrival checks judged it at. When another member posts the same version
// into a circle with a laxer default, the release gate must not let it fall to that default — else
// what a partner sent under AMBER+STRICT (or AMBER) is passed on as GREEN, while the same object
// marked explicitly is withheld (docs/federation.md: "what arrived under AMBER+STRICT or RED is
// never released into another circle").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Circle } from '../../src/policy/circle.ts';
import type { Recipient } from '../../src/policy/recipient.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--dddddddd-0000-4000-8000-000000000000';
const ALPHA = 'identity--dddddddd-0000-4000-8000-00000000000a';
const RELAY = 'identity--dddddddd-0000-4000-8000-00000000000b';
const READER = 'identity--dddddddd-0000-4000-8000-00000000000c';
const BETA = 'identity--dddddddd-0000-4000-8000-00000000000e';
const AT = new Date('2026-06-01T00:00:00Z');

const indicator = (n: number, markings?: string[]): StixObject => ({
  type: 'indicator', spec_version: '2.1', id: `indicator--dddddddd-0000-4000-8000-00000000000${n}`, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z',
  created_by_ref: ALPHA, pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z',
  ...(markings === undefined ? {} : { object_marking_refs: markings }),
});
const UNMARKED = indicator(1);
const STRICT = indicator(2, [TLP2_MARKING_IDS['amber+strict']]);
const GREEN = indicator(3, [TLP2_MARKING_IDS.green]);
const HOME_UNMARKED = indicator(4);

interface Seen {
  readonly released: ReadonlySet<string>;
  readonly reasons: ReadonlyMap<string, string>;
}

/**
 * Alpha sends the indicators through `arrival` (default `arrivalDefault`; `'no circle'`: a
 * collection that carries none); with `betaDefault`, Beta sends the unmarked one through a third
 * circle too. Relay posts the same versions into `green-c` (default GREEN); the home organisation
 * puts its own unmarked indicator into `green-c`. What does Reader, a full member of `green-c`, receive?
 */
async function scenario(arrivalDefault: Circle['defaultTlp'] | 'no circle', betaDefault?: Circle['defaultTlp']): Promise<Seen> {
  const store = openSqliteObjectStore({ path: ':memory:' });
  try {
    const created = new Date('2026-01-01T00:00:00Z');
    for (const org of [ALPHA, BETA, RELAY, READER]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    const circles: [string, Circle['defaultTlp'], string[]][] = [['green-c', 'green', [RELAY, READER]]];
    if (arrivalDefault === 'no circle') await store.createCollection({ id: 'arrival', title: 'arrival' }, created);
    else circles.push(['arrival', arrivalDefault, [ALPHA, RELAY]]);
    if (betaDefault !== undefined) circles.push(['arrival-2', betaDefault, [BETA]]);
    for (const [id, defaultTlp, members] of circles) {
      await store.createCollection({ id, title: id }, created);
      await store.createCircle({
        id, name: id, kind: 'formal', visibility: 'open', collectionId: id, defaultTlp, validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, ...members].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
      }, created);
      await store.addAgreement({
        circleId: id, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z',
        terms: { scope: { types: ['indicator'] }, highestTlp: 'red', onwardSharing: 'circles', attribution: 'keep', expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' }, endRule: 'retain', unsignedInput: 'accept' },
      });
      for (const org of members) await store.addAcceptance({ circleId: id, organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    }
    await store.addObjects('arrival', [UNMARKED, STRICT, GREEN], undefined, ALPHA);
    if (betaDefault !== undefined) await store.addObjects('arrival-2', [UNMARKED], undefined, BETA);
    await store.addObjects('green-c', [UNMARKED, STRICT, GREEN], undefined, RELAY);
    await store.addObjects('green-c', [HOME_UNMARKED]);

    const reader: Recipient = { name: 'reader', organisationId: READER, admin: false, actsForHome: false, grants: [{ collectionId: 'green-c', read: true, write: false }] };
    const gate = await openReleaseGate(store, reader, 'green-c', AT, { audit: false });
    const page = await store.listEntries('green-c', { versions: [{ kind: 'last' }] }, { limit: 100 });
    assert.equal(page.entries.length, 4);
    const { released } = await gate.release(page.entries);
    const reasons = new Map<string, string>();
    for (const entry of page.entries) reasons.set(entry.id, (await gate.decide(entry)).reasons.join(' | '));
    return { released: new Set(released.map((entry) => entry.id)), reasons };
  } finally {
    await store.close();
  }
}

describe('an unmarked object keeps the default TLP of the circle it arrived through when relayed into another', () => {
  it('arrived through an AMBER+STRICT circle: not released into a GREEN circle, exactly as when marked AMBER+STRICT', async () => {
    const seen = await scenario('amber+strict');
    assert.equal(seen.released.has(UNMARKED.id), false, seen.reasons.get(UNMARKED.id));
    assert.match(seen.reasons.get(UNMARKED.id) ?? '', /TLP:AMBER\+STRICT/);
    assert.equal(seen.released.has(STRICT.id), false);
  });

  it('arrived through an AMBER circle: judged at AMBER, so not passed on (only CLEAR and GREEN travel on)', async () => {
    const seen = await scenario('amber');
    assert.equal(seen.released.has(UNMARKED.id), false, seen.reasons.get(UNMARKED.id));
    assert.match(seen.reasons.get(UNMARKED.id) ?? '', /^tlp\.onward: TLP:AMBER /);
  });

  it('arrived through a GREEN circle: passed on at GREEN', async () => {
    const seen = await scenario('green');
    assert.equal(seen.released.has(UNMARKED.id), true, seen.reasons.get(UNMARKED.id));
  });

  it('arrived through several circles: the strictest of their defaults, whichever circle has the strictest terms', async () => {
    const seen = await scenario('green', 'amber+strict');
    assert.equal(seen.released.has(UNMARKED.id), false, seen.reasons.get(UNMARKED.id));
    assert.match(seen.reasons.get(UNMARKED.id) ?? '', /^tlp\.onward: TLP:AMBER\+STRICT /);
  });

  it('arrived through a collection that carries no circle: no terms, no default — withheld (fail closed)', async () => {
    const seen = await scenario('no circle');
    assert.equal(seen.released.has(UNMARKED.id), false, seen.reasons.get(UNMARKED.id));
    assert.equal(seen.released.has(HOME_UNMARKED.id), true);
  });

  it('explicit markings and the home organisation’s own unmarked objects are decided as before', async () => {
    for (const arrivalDefault of ['amber+strict', 'red'] as const) {
      const seen = await scenario(arrivalDefault);
      assert.equal(seen.released.has(GREEN.id), true, `${arrivalDefault}: an explicit GREEN marking is what the object is`);
      assert.equal(seen.released.has(HOME_UNMARKED.id), true, `${arrivalDefault}: the home organisation's own stands at the releasing circle's default`);
      assert.match(seen.reasons.get(HOME_UNMARKED.id) ?? '', /TLP:GREEN \(circle default; /);
    }
  });
});
