// Which versions of an indicator IndicatorLoader compiles, when two collections hold different latest
// versions of it: `newest` (`entente match`, one reader of every collection it is given) compiles the
// newest of them only; `latest-of-each` (the node, whose tokens read different collections) compiles
// each collection's latest beside the others, the same version held by several compiled once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher } from '../../src/correlate/bulk-matcher.ts';
import { IndicatorLoader, type CompiledVersions } from '../../src/correlate/load-indicators.ts';
import { observation } from '../../src/correlate/test-support.ts';
import { ADD_TEST, HIGH_VALUE, SECRET, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { ipIndicator } from './alert-test-kit.ts';

const now = new Date('2026-11-20T10:00:00Z');
const v1 = ipIndicator(91, '198.51.100.91', { name: 'Version 1' });
const v2 = ipIndicator(91, '198.51.100.191', { modified: '2026-06-01T00:00:00.000Z', name: 'Version 2' });
const v3 = ipIndicator(91, '198.51.100.91', { modified: '2026-07-01T00:00:00.000Z', name: 'Version 3' });

describe('the versions an indicator loader compiles', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ empty: true });
    // ADD_TEST and HIGH_VALUE hold version 1, SECRET the newer version 2.
    await node.store.addObjects(ADD_TEST, [v1]);
    await node.store.addObjects(HIGH_VALUE, [v1]);
    await node.store.addObjects(SECRET, [v2]);
  });
  after(() => node.close());

  async function loaded(compiled: CompiledVersions): Promise<{ matcher: BulkMatcher; loader: IndicatorLoader }> {
    const matcher = new BulkMatcher();
    const loader = new IndicatorLoader(node.store, [ADD_TEST, HIGH_VALUE, SECRET], matcher, undefined, compiled);
    await loader.load({ now });
    return { matcher, loader };
  }

  function matched(matcher: BulkMatcher, loader: IndicatorLoader, ip: string): (string | undefined)[] {
    return matcher.match(observation([{ type: 'ipv4-addr', value: ip }], now.toISOString())).map((m) => loader.versionOf(m.indicatorId, m.variant));
  }

  it('`newest`: the newest any of the collections holds, alone', async () => {
    const { matcher, loader } = await loaded('newest');
    assert.equal(matcher.stats().indicators, 1);
    assert.deepEqual(matched(matcher, loader, '198.51.100.91'), []);
    assert.deepEqual(matched(matcher, loader, '198.51.100.191'), [v2.modified]);
  });

  it('`latest-of-each`: each collection’s latest, the version two collections hold compiled once', async () => {
    const { matcher, loader } = await loaded('latest-of-each');
    assert.equal(matcher.stats().indicators, 2);
    assert.deepEqual(matched(matcher, loader, '198.51.100.91'), [v1.modified]);
    assert.deepEqual(matched(matcher, loader, '198.51.100.191'), [v2.modified]);
  });

  it('`latest-of-each` refreshed: a version no collection holds as its latest any more is withdrawn, a new latest compiled', async () => {
    const { matcher, loader } = await loaded('latest-of-each');
    await node.store.addObjects(ADD_TEST, [v3]);
    await loader.refresh({ now });
    // HIGH_VALUE still holds version 1 as its latest: it stays, beside versions 2 and 3.
    assert.equal(matcher.stats().indicators, 3);
    assert.deepEqual(matched(matcher, loader, '198.51.100.91').sort(), [v1.modified, v3.modified].sort());
    await node.store.addObjects(HIGH_VALUE, [v3]);
    await loader.refresh({ now });
    assert.equal(matcher.stats().indicators, 2);
    assert.deepEqual(matched(matcher, loader, '198.51.100.91'), [v3.modified]);
    assert.deepEqual(matched(matcher, loader, '198.51.100.191'), [v2.modified]);
  });
});

/** Runs `run` on a node holding nothing, closed afterwards whatever happens. */
async function onEmptyNode(run: (node: TestNode) => Promise<void>): Promise<void> {
  const node = await startTestNode({ empty: true });
  try {
    await run(node);
  } finally {
    await node.close();
  }
}

describe('one version held by several collections', () => {
  it('is compiled once: no slot, and no stale posting, per further collection', async () => {
    await onEmptyNode(async (node) => {
      await node.store.addObjects(ADD_TEST, [v1]);
      await node.store.addObjects(HIGH_VALUE, [v1]);
      await node.store.addObjects(SECRET, [v1]);
      for (const compiled of ['newest', 'latest-of-each'] as const) {
        const matcher = new BulkMatcher();
        const loader = new IndicatorLoader(node.store, [ADD_TEST, HIGH_VALUE, SECRET], matcher, undefined, compiled);
        const loaded = await loader.load({ now });
        assert.equal(loaded.added, 1, compiled);
        assert.deepEqual([matcher.stats().indicators, matcher.stats().stalePostings], [1, 0], compiled);
      }
    });
  });
});

// Only its creator versions an object (STIX 2.1): a "newer version" of an indicator id by another
// creator, which any writer of one of the collections can plant, is another object in substance. The
// newest version is taken per creator (created_by_ref ignoring letter case, or none), so the plant is
// compiled beside the genuine version and blinds no one, as the node's matcher does (node-matcher.ts).
describe('`newest` takes the newest version of each creator', () => {
  const BANK = 'identity--0b000000-0000-4000-8000-00000000000b';
  const PLANTER = 'identity--0c000000-0000-4000-8000-00000000000c';
  const PARTNER = 'identity--0d000000-0000-4000-8000-00000000000d';
  const genuine = ipIndicator(92, '198.51.100.92', { created_by_ref: BANK, name: 'Genuine' });
  const planted = ipIndicator(92, '198.51.100.192', { created_by_ref: PLANTER, modified: '2026-06-01T00:00:00.000Z', name: 'Planted' });
  const revised = ipIndicator(92, '198.51.100.93', { created_by_ref: BANK.toUpperCase().replace('IDENTITY', 'identity'), modified: '2026-07-01T00:00:00.000Z', name: 'Revised' });

  async function loadedNewest(node: TestNode): Promise<{ matcher: BulkMatcher; loader: IndicatorLoader }> {
    const matcher = new BulkMatcher();
    const loader = new IndicatorLoader(node.store, [ADD_TEST, SECRET], matcher);
    await loader.load({ now });
    return { matcher, loader };
  }

  function matchedIn(matcher: BulkMatcher, loader: IndicatorLoader, ip: string): (string | undefined)[] {
    return matcher.match(observation([{ type: 'ipv4-addr', value: ip }], now.toISOString())).map((m) => loader.versionOf(m.indicatorId, m.variant));
  }

  it('compiles a newer version by another creator beside the genuine one: both match', async () => {
    await onEmptyNode(async (node) => {
      await node.store.addObjects(ADD_TEST, [genuine]);
      await node.store.addObjects(SECRET, [planted]);
      const { matcher, loader } = await loadedNewest(node);
      assert.equal(matcher.stats().indicators, 2);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.92'), [genuine.modified]);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.192'), [planted.modified]);
    });
  });

  // created_by_ref is authenticated only for organisations with pinned keys: the origin the store
  // records (a home original, a partner's contribution) decides, as for the node's matcher.
  it('compiles a newer version claiming the genuine creator beside it when a partner wrote it', async () => {
    await onEmptyNode(async (node) => {
      await node.store.addObjects(ADD_TEST, [genuine]);
      await node.store.addObjects(SECRET, [{ ...planted, created_by_ref: BANK }], undefined, PARTNER);
      const { matcher, loader } = await loadedNewest(node);
      assert.equal(matcher.stats().indicators, 2);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.92'), [genuine.modified]);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.192'), [planted.modified]);
    });
  });

  it('a newer version from the same partner as the older replaces it', async () => {
    await onEmptyNode(async (node) => {
      await node.store.addObjects(ADD_TEST, [genuine], undefined, PARTNER);
      await node.store.addObjects(SECRET, [{ ...planted, created_by_ref: BANK }], undefined, PARTNER);
      const { matcher, loader } = await loadedNewest(node);
      assert.equal(matcher.stats().indicators, 1);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.92'), []);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.192'), [planted.modified]);
    });
  });

  it("a newer version by the same creator (its reference in capitals) replaces the genuine one; the other creator's stays", async () => {
    await onEmptyNode(async (node) => {
      await node.store.addObjects(ADD_TEST, [genuine, revised]);
      await node.store.addObjects(SECRET, [planted]);
      const { matcher, loader } = await loadedNewest(node);
      assert.equal(matcher.stats().indicators, 2);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.92'), []);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.93'), [revised.modified]);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.192'), [planted.modified]);
    });
  });

  it('refreshed (`entente match --follow`): a plant arriving later is compiled beside, a revision by the creator replaces', async () => {
    await onEmptyNode(async (node) => {
      await node.store.addObjects(ADD_TEST, [genuine]);
      const { matcher, loader } = await loadedNewest(node);
      await node.store.addObjects(SECRET, [planted]);
      await loader.refresh({ now });
      assert.equal(matcher.stats().indicators, 2);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.92'), [genuine.modified]);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.192'), [planted.modified]);
      // The creator's revision held in the collection of the plant: it is that collection's latest.
      await node.store.addObjects(SECRET, [revised]);
      await loader.refresh({ now });
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.92'), []);
      assert.deepEqual(matchedIn(matcher, loader, '198.51.100.93'), [revised.modified]);
    });
  });
});
