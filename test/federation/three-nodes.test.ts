// The federation issue's acceptance scenario, with three real nodes as separate processes: A, a
// national CERT, coordinates two overlapping circles — "inner" (hidden: A and B, a ministry of
// another state) and "wide" (open: A, B and C, a private company). B and C mirror the circles from
// A with `peer add`, accept the terms on A (which pins their keys), and sync on their own schedule
// (pull, and push what they contribute). A publishes at every TLP level into both circles, B and C
// into wide. What each node should end up holding is computed here from the TLP 2.0 rules and the
// terms, independently of the product's release decision; then: convergence, no leak, onward
// sharing, signatures checked with node:crypto against each node's published keys, and A's audit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { createWorld, idsOf, waitFor, type StixLike, type World, type WorldNode } from './federation-world.ts';

// ---- TLP 2.0 (FIRST), as published: ids and order ----
type Tlp = 'clear' | 'green' | 'amber' | 'amber+strict' | 'red';
const TLP_ORDER: readonly Tlp[] = ['clear', 'green', 'amber', 'amber+strict', 'red'];
const TLP_ID: Record<Tlp, string> = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};
const rank = (level: Tlp): number => TLP_ORDER.indexOf(level);
/** Entente's recipients marking (src/policy/README.md, "Entente markings"). */
const MARKING_EXTENSION = 'extension-definition--14470295-cc5e-4c4c-93a3-8759ee5effc0';
/** Entente's object signature extension (docs/federation.md, "Object signatures"). */
const SIGNATURE_EXTENSION = 'extension-definition--014e3473-d4e7-4544-b76b-4fde9209e1b4';

type NodeName = 'a' | 'b' | 'c';
type CircleName = 'inner' | 'wide';
type Round = 1 | 2 | 3;

/** One object of the scenario, with what the expectation needs to know about it. */
interface Item {
  readonly key: string;
  readonly origin: NodeName;
  readonly circle: CircleName;
  readonly tlp: Tlp;
  /** Organisations named by a recipients marking (RED for named recipients). */
  readonly named?: readonly NodeName[];
  /** Report: the items it refers to. */
  readonly refs?: readonly string[];
  /** A copy by A's analyst of an object C contributed to wide, made while C's terms said this. */
  readonly copiedFromWideUnder?: 'none' | 'circles';
  /** When it is published: 1 at the start, 2 with the first copies into inner, 3 once C's terms allow onward sharing. */
  readonly round: Round;
}

let serial = 0;
const uuidOf = new Map<string, string>();
function idOf(key: string, type = 'indicator'): string {
  let uuid = uuidOf.get(key);
  if (uuid === undefined) {
    serial += 1;
    uuid = `f3de7a10-0000-4000-8000-${String(serial).padStart(12, '0')}`;
    uuidOf.set(key, uuid);
  }
  return `${type}--${uuid}`;
}

const LEVELS: readonly Tlp[] = ['clear', 'green', 'amber', 'amber+strict', 'red'];
const items: Item[] = [];
for (const circle of ['inner', 'wide'] as const) {
  for (const tlp of LEVELS) items.push({ key: `a-${circle}-${tlp}`, origin: 'a', circle, tlp, round: 1 });
  // RED naming a recipient: B in the hidden circle (it may receive RED there), C in the wide one (RED is above its ceiling).
  items.push({ key: `a-${circle}-red-named`, origin: 'a', circle, tlp: 'red', named: [circle === 'inner' ? 'b' : 'c'], round: 1 });
}
// A report in wide pointing at a GREEN indicator and an AMBER+STRICT one: it reaches members with the second reference cut out.
items.push({ key: 'a-wide-report', origin: 'a', circle: 'wide', tlp: 'green', refs: ['a-wide-green', 'a-wide-amber+strict'], round: 1 });
for (const tlp of LEVELS) items.push({ key: `b-wide-${tlp}`, origin: 'b', circle: 'wide', tlp, round: 1 });
items.push({ key: 'b-wide-red-named', origin: 'b', circle: 'wide', tlp: 'red', named: ['c'], round: 1 });
for (const tlp of ['clear', 'green', 'amber'] as const) {
  items.push({ key: `c1-${tlp}`, origin: 'c', circle: 'wide', tlp, round: 1 });
  items.push({ key: `c2-${tlp}`, origin: 'c', circle: 'wide', tlp, round: 3 });
}
// A's analyst copies C's contributions into inner: round 2 while C's terms say onward_sharing none, round 3 once they say circles.
for (const tlp of ['clear', 'green', 'amber'] as const) {
  items.push({ key: `c1-${tlp}`, origin: 'c', circle: 'inner', tlp, copiedFromWideUnder: 'none', round: 2 });
  items.push({ key: `c2-${tlp}`, origin: 'c', circle: 'inner', tlp, copiedFromWideUnder: 'circles', round: 3 });
}
// Markers A publishes into inner after each round of copies: once B holds one, its pull has gone past the copies before it.
items.push({ key: 'a-inner-marker-2', origin: 'a', circle: 'inner', tlp: 'green', round: 2 });
items.push({ key: 'a-inner-marker-3', origin: 'a', circle: 'inner', tlp: 'green', round: 3 });

// ---- The circles and their terms ----
const MEMBERS: Record<CircleName, readonly NodeName[]> = { inner: ['a', 'b'], wide: ['a', 'b', 'c'] };
const CEILING: Record<CircleName, Tlp> = { inner: 'red', wide: 'amber' };
const baseTerms = {
  scope: { types: ['indicator', 'report'] },
  onward_sharing: 'none',
  attribution: 'keep',
  expectations: { permitted_actions: 'internally-visible-actions', affected_party_notifications: 'may', provider_attribution: 'may' },
  end_rule: 'retain',
};

/**
 * The reference policy for this scenario, written from TLP 2.0 and the terms (src/policy/README.md
 * rules 5-9, 14), not by calling the product: may `item` go from A to `to` through its circle?
 */
function mayReceive(item: Item, to: NodeName): boolean {
  if (!MEMBERS[item.circle].includes(to)) return false;
  if (rank(item.tlp) > rank(CEILING[item.circle])) return false;
  // Onward sharing: what C contributed to wide and A copied into inner travels on only when C's terms say circles, and only CLEAR or GREEN.
  if (item.copiedFromWideUnder !== undefined && to !== item.origin) {
    if (item.copiedFromWideUnder === 'none' || rank(item.tlp) > rank('green')) return false;
  }
  if (item.tlp === 'red') return (item.named ?? []).includes(to);
  if (item.refs !== undefined) return item.refs.some((key) => visibleRef(key, to));
  return true;
}
function visibleRef(key: string, to: NodeName): boolean {
  const target = items.find((item) => item.key === key && item.circle === 'wide');
  return target !== undefined && mayReceive(target, to);
}

/** What each node holds in each circle's collection once the alliance has converged (rounds up to `round`). */
function expectedHoldings(round: Round): Record<NodeName, Partial<Record<CircleName, Set<string>>>> {
  const inRound = items.filter((item) => item.round <= round);
  // A holds what it published and copied, and what B and C contributed to wide that their own nodes may release to A.
  const atA = (circle: CircleName): Item[] => inRound.filter((item) => item.circle === circle && (item.origin === 'a' || item.copiedFromWideUnder !== undefined || mayReceive(item, 'a')));
  const holding = (node: NodeName, circle: CircleName): Set<string> => {
    const own = inRound.filter((item) => item.circle === circle && item.origin === node && item.copiedFromWideUnder === undefined);
    const fromA = atA(circle).filter((item) => node === 'a' || mayReceive(item, node));
    return new Set([...own, ...fromA].map((item) => idFor(item)));
  };
  return {
    a: { inner: holding('a', 'inner'), wide: holding('a', 'wide') },
    b: { inner: holding('b', 'inner'), wide: holding('b', 'wide') },
    c: { wide: holding('c', 'wide') },
  };
}

/** What A's audit should say each member received from A: what A holds that the policy lets go to it. */
function expectedReleases(to: NodeName): Set<string> {
  const released = new Set<string>();
  for (const circle of ['inner', 'wide'] as const) {
    for (const item of items) {
      if (item.circle !== circle) continue;
      const heldByA = item.origin === 'a' || item.copiedFromWideUnder !== undefined || mayReceive(item, 'a');
      if (heldByA && mayReceive(item, to)) released.add(`${circle} ${idFor(item)}`);
    }
  }
  return released;
}

const idFor = (item: Pick<Item, 'key' | 'refs'>): string => idOf(item.key, item.refs === undefined ? 'indicator' : 'report');

const common = { spec_version: '2.1', created: '2026-11-01T00:00:00.000Z', modified: '2026-11-01T00:00:00.000Z' };

function stixOf(item: Item, organisations: Record<NodeName, string>, recipientsMarking: (node: NodeName, named: readonly NodeName[]) => string): Record<string, unknown> {
  const markings = [TLP_ID[item.tlp], ...(item.named === undefined ? [] : [recipientsMarking(item.origin, item.named)])];
  // C's objects carry no created_by_ref: A's copies of them into the hidden circle must stay the same version B may also get through wide.
  const creator = item.origin === 'c' ? {} : { created_by_ref: organisations[item.origin] };
  if (item.refs !== undefined) {
    return { ...common, type: 'report', id: idFor(item), name: `Report ${item.key}`, published: '2026-11-01T00:00:00Z', object_refs: item.refs.map((key) => idOf(key)), object_marking_refs: markings, ...creator };
  }
  return {
    ...common, type: 'indicator', id: idFor(item), name: `Indicator ${item.key}`, pattern: `[domain-name:value = '${item.key.replace(/[^a-z0-9-]/g, '-')}.example.net']`,
    pattern_type: 'stix', valid_from: '2026-11-01T00:00:00Z', object_marking_refs: markings, ...creator,
  };
}

// ---- Signatures, checked here with node:crypto (docs/federation.md: Ed25519 over the prefix and the RFC 8785 form without the extension) ----
type Keys = Map<string, Map<string, string>>;
interface SignatureFinding {
  readonly signer: string;
  readonly derived: boolean;
}
function checkSignature(object: StixLike, keys: Keys): SignatureFinding | string {
  const extensions = object['extensions'] as Record<string, Record<string, unknown>> | undefined;
  const extension = extensions?.[SIGNATURE_EXTENSION];
  if (extension === undefined) return 'unsigned';
  const { [SIGNATURE_EXTENSION]: _signature, ...others } = extensions ?? {};
  const { extensions: _all, ...rest } = object;
  const unsigned = Object.keys(others).length === 0 ? rest : { ...rest, extensions: others };
  const signer = String(extension['signer']);
  const publicKey = keys.get(signer)?.get(String(extension['key_id']));
  if (publicKey === undefined) return `no published key ${String(extension['key_id'])} of ${signer}`;
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
  const bytes = Buffer.from(`ENTENTE-STIX-SIGNATURE-V1\n${canonicalize(unsigned) ?? ''}`, 'utf8');
  if (!verify(null, bytes, key, Buffer.from(String(extension['signature']), 'base64url'))) return `the signature of ${signer} does not verify`;
  return { signer, derived: extension['derived'] === true };
}

describe('three nodes in two overlapping circles: convergence, no leak, onward sharing, signatures, audit', () => {
  let world: World;
  let A: WorldNode;
  let B: WorldNode;
  let C: WorldNode;
  const organisations = { a: '', b: '', c: '' } as Record<NodeName, string>;
  const tokens = { b: '', c: '' };
  const recipientsMarkings = new Map<string, Record<string, unknown>>();

  function recipientsMarking(origin: NodeName, named: readonly NodeName[]): string {
    const key = `${origin}:${named.join(',')}`;
    const id = idOf(`marking ${key}`, 'marking-definition');
    recipientsMarkings.set(key, {
      type: 'marking-definition', spec_version: '2.1', id, created: '2026-11-01T00:00:00.000Z', name: `RED recipients: ${named.join(', ')}`,
      extensions: { [MARKING_EXTENSION]: { extension_type: 'property-extension', marking: 'recipients', organisation_refs: named.map((node) => organisations[node]) } },
    });
    return id;
  }

  /** The objects of a publication: the items, preceded by the recipients markings they use. */
  function bundleOf(selected: readonly Item[]): Record<string, unknown>[] {
    const objects = selected.map((item) => stixOf(item, organisations, recipientsMarking));
    const markingIds = new Set(objects.flatMap((object) => object['object_marking_refs'] as string[]));
    return [...[...recipientsMarkings.values()].filter((marking) => markingIds.has(String(marking['id']))), ...objects];
  }
  const publishedBy = (origin: NodeName, circle: CircleName, round: Round, filter: (item: Item) => boolean = () => true): Item[] =>
    items.filter((item) => item.origin === origin && item.circle === circle && item.round === round && item.copiedFromWideUnder === undefined && filter(item));

  async function holding(node: WorldNode, circle: CircleName): Promise<StixLike[]> {
    return (await node.objects(circle)).filter((object) => object.type !== 'marking-definition');
  }

  /** The scenario's keys instead of its ids, for messages. */
  function nameIds(text: string): string {
    return text.replace(/[a-z-]+--f3de7a10-0000-4000-8000-\d{12}/g, (id) => [...uuidOf].find(([, uuid]) => id.endsWith(uuid))?.[0] ?? id);
  }

  /** What every node holds, its peers' counters and its quarantine: what a convergence failure prints. */
  async function snapshot(): Promise<string> {
    const lines: string[] = [];
    for (const node of [A, B, C]) {
      for (const circle of node === C ? (['wide'] as const) : (['inner', 'wide'] as const)) {
        const held = await holding(node, circle).catch(() => [] as StixLike[]);
        lines.push(`${node.name}.${circle}: ${held.map((object) => nameIds(object.id)).sort().join(' ')}`);
      }
      for (const peer of node === A ? [] : node === B ? ['a-inner', 'a-wide'] : ['a-wide']) {
        const status = await node.peerStatus(peer).catch(() => undefined);
        lines.push(`${node.name} peer ${peer}: ${JSON.stringify(status === undefined ? null : { in: status.objects_in, out: status.objects_out, q: status.quarantined, err: status.last_error })}`);
      }
      const quarantined = await node.cli('quarantine', 'list', '--json').catch(() => '');
      for (const line of quarantined.trim().split('\n').filter((text) => text !== '')) lines.push(`${node.name} quarantine: ${nameIds(line)}`);
    }
    return lines.join('\n');
  }

  /** Waits until every node holds exactly what the reference policy says for this round. */
  async function converged(round: Round): Promise<void> {
    const expected = expectedHoldings(round);
    await waitFor(
      `every node holds what the policy allows (round ${round})`,
      async () => {
        for (const [name, node] of [['a', A], ['b', B], ['c', C]] as const) {
          for (const [circle, ids] of Object.entries(expected[name]) as [CircleName, Set<string>][]) {
            const held = idsOf(await holding(node, circle));
            if (held.join() !== [...ids].sort().join()) return undefined;
          }
        }
        return true;
      },
      { deadlineMs: 40_000, everyMs: 300, describe: snapshot },
    );
  }

  async function copyIntoInner(round: Round): Promise<void> {
    // A's analyst exports what C contributed to wide and imports it into inner: the same versions, now in another circle.
    const wanted = new Set(items.filter((item) => item.copiedFromWideUnder !== undefined && item.round === round).map(idFor));
    const copies = (await A.objects('wide')).filter((object) => wanted.has(object.id));
    assert.equal(copies.length, wanted.size, 'A holds what C contributed before copying it');
    await A.publish('inner', copies);
    await A.publish('inner', bundleOf(publishedBy('a', 'inner', round)));
  }

  before(async () => {
    world = await createWorld('three-nodes');
    A = await world.node({ name: 'a', orgName: 'CERT Alpha', kind: 'government', country: 'FR', sectors: ['government-national'] });
    B = await world.node({ name: 'b', orgName: 'Ministry of Defence Beta', kind: 'government', country: 'DE', sectors: ['government-national', 'defense'] });
    C = await world.node({ name: 'c', orgName: 'Gamma Energy', kind: 'company', country: 'NL', sectors: ['energy'] });
    organisations.a = A.organisationId;
    organisations.b = B.organisationId;
    organisations.c = C.organisationId;
    await world.introduce([A, B, C]);

    // The coordinator sets the circles up.
    await A.cli('circle', 'create', 'inner', '--name', 'Alpha and Beta', '--kind', 'tacit', '--visibility', 'hidden', '--default-tlp', 'amber', '--until', '2027-12-31T00:00:00Z');
    await A.cli('circle', 'create', 'wide', '--name', 'Energy sector', '--kind', 'formal', '--visibility', 'open', '--default-tlp', 'amber', '--review', '2027-12-31T00:00:00Z');
    for (const circle of ['inner', 'wide'] as const) {
      const file = join(world.root, `${circle}-terms.json`);
      writeFileSync(file, JSON.stringify({ ...baseTerms, highest_tlp: CEILING[circle] }));
      await A.cli('circle', 'propose', circle, '--terms', file);
    }
    await A.cli('circle', 'invite', 'inner', '--org', B.organisationId, '--role', 'contributor');
    await A.cli('circle', 'invite', 'wide', '--org', B.organisationId, '--role', 'contributor');
    await A.cli('circle', 'invite', 'wide', '--org', C.organisationId, '--role', 'contributor');
    // A is bound by its own terms too: the members' nodes release to A and accept from A only under them.
    await A.cli('circle', 'accept', 'inner', '--org', A.organisationId);
    await A.cli('circle', 'accept', 'wide', '--org', A.organisationId);
    tokens.b = await world.issueToken(A, B, 'inner:r,wide:rw');
    tokens.c = await world.issueToken(A, C, 'wide:rw');

    await Promise.all([A.start(), B.start(), C.start()]);
    // Members accept the terms on the coordinator's node, sending their public keys.
    await world.accept(B, A, 'inner', tokens.b);
    await world.accept(B, A, 'wide', tokens.b);
    await world.accept(C, A, 'wide', tokens.c);
    // B and C link to A: the circles are mirrored from A; they pull, and push what they contribute to wide.
    await world.link(B, A, { name: 'a-inner', circle: 'inner', token: tokens.b });
    await world.link(B, A, { name: 'a-wide', circle: 'wide', token: tokens.b, push: true });
    await world.link(C, A, { name: 'a-wide', circle: 'wide', token: tokens.c, push: true });
    // Their own nodes accept too: a member's node takes its organisation's acceptance from no coordinator's view.
    await world.acceptThroughLink(B, A, 'inner', tokens.b);
    await world.acceptThroughLink(B, A, 'wide', tokens.b);
    await world.acceptThroughLink(C, A, 'wide', tokens.c);

    await A.publish('inner', bundleOf(publishedBy('a', 'inner', 1)));
    await A.publish('wide', bundleOf(publishedBy('a', 'wide', 1)));
    await B.publish('wide', bundleOf(publishedBy('b', 'wide', 1)));
    await C.publish('wide', bundleOf(publishedBy('c', 'wide', 1)));
  });

  after(async () => {
    await world?.close();
  });

  it('A pins the keys the members sent with their acceptances', async () => {
    for (const member of [B, C]) {
      const published = (await member.identity()).keys.map((key) => key.key_id).sort();
      const pinned = (await A.cli('key', 'pinned', member.organisationId, '--json')).trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { key_id: string; source: string });
      assert.deepEqual(pinned.map((key) => key.key_id).sort(), published, member.name);
      assert.ok(pinned.every((key) => key.source === 'acceptance'), `${member.name}: ${JSON.stringify(pinned)}`);
    }
  });

  it('round 1 converges: each node holds exactly what the TLP rules and the terms allow', async () => {
    await converged(1);
  });

  it('what C contributed to wide under onward_sharing "none" and A copied into inner never reaches B through inner', async () => {
    await copyIntoInner(2);
    const marker = idOf('a-inner-marker-2');
    await waitFor('B pulls inner past the copies (it holds the marker published after them)', async () => ((await B.objects('inner')).some((object) => object.id === marker) ? true : undefined), {
      deadlineMs: 30_000, everyMs: 300, describe: snapshot,
    });
    const copies = items.filter((item) => item.copiedFromWideUnder === 'none').map(idFor);
    const innerOnB = new Set(idsOf(await B.objects('inner')));
    assert.deepEqual(copies.filter((id) => innerOnB.has(id)), [], 'none of the copies is in B\'s inner collection');
    const releasedInner = (await A.cli('audit', 'received', '--org', B.organisationId, '--circle', 'inner', '--json')).trim().split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as { objectId: string }).objectId);
    assert.deepEqual(copies.filter((id) => releasedInner.includes(id)), [], 'A\'s audit shows no release of the copies to B through inner');
    // B still holds them through wide, the circle C gave them to.
    const wideOnB = new Set(idsOf(await B.objects('wide')));
    assert.deepEqual(copies.filter((id) => !wideOnB.has(id)), []);
  });

  it('once C\'s terms say onward_sharing "circles", only the CLEAR and GREEN copies reach B through inner', async () => {
    const file = join(world.root, 'wide-terms-v2.json');
    writeFileSync(file, JSON.stringify({ ...baseTerms, highest_tlp: CEILING.wide, onward_sharing: 'circles' }));
    await A.cli('circle', 'propose', 'wide', '--terms', file);
    await A.cli('circle', 'accept', 'wide', '--org', A.organisationId);
    await world.accept(C, A, 'wide', tokens.c);
    await world.acceptThroughLink(C, A, 'wide', tokens.c);
    await C.publish('wide', bundleOf(publishedBy('c', 'wide', 3)));
    const contributed = publishedBy('c', 'wide', 3).map(idFor);
    await waitFor('C\'s round 3 reaches A', async () => {
      const held = new Set(idsOf(await A.objects('wide')));
      return contributed.every((id) => held.has(id)) ? true : undefined;
    }, { deadlineMs: 30_000, everyMs: 300, describe: snapshot });
    await copyIntoInner(3);
    await converged(3);
    const innerOnB = new Set(idsOf(await B.objects('inner')));
    assert.ok(innerOnB.has(idOf('c2-clear')) && innerOnB.has(idOf('c2-green')));
    assert.ok(!innerOnB.has(idOf('c2-amber')), 'AMBER never travels on');
  });

  it('0 leaks: C holds nothing from inner and cannot link to it; nothing above a ceiling anywhere; RED without a named recipient only at its origin', async () => {
    const innerOnly = new Set(items.filter((item) => item.circle === 'inner' && item.copiedFromWideUnder === undefined).map(idFor));
    const cCollections = ((await C.request('/taxii2/api/collections/', { accept: 'application/taxii+json;version=2.1' })).body as { collections?: { id: string }[] }).collections ?? [];
    assert.deepEqual(cCollections.map((collection) => collection.id).filter((id) => id === 'inner'), [], 'C has no inner collection');
    const everythingOnC = (await Promise.all(cCollections.map((collection) => C.objects(collection.id)))).flat();
    assert.deepEqual(everythingOnC.map((object) => object.id).filter((id) => innerOnly.has(id)), []);
    assert.doesNotMatch(await C.cli('circle', 'list'), /\binner\b/);
    const refused = await C.cliRun(['peer', 'add', 'a-inner', A.discoveryUrl, '--circle', 'inner', '--token', tokens.c]);
    assert.notEqual(refused.code, 0, 'C cannot mirror the hidden circle');

    for (const [node, name] of [[A, 'a'], [B, 'b'], [C, 'c']] as const) {
      for (const circle of node === C ? (['wide'] as const) : (['inner', 'wide'] as const)) {
        for (const object of await holding(node, circle)) {
          const item = items.find((candidate) => idFor(candidate) === object.id && candidate.circle === circle);
          assert.ok(item !== undefined, `${name}.${circle} holds an object of no one's: ${object.id}`);
          if (item.origin === name) continue;
          assert.ok(rank(item.tlp) <= rank(CEILING[circle]), `${name}.${circle} holds ${item.key} above the TLP:${CEILING[circle].toUpperCase()} ceiling`);
          if (item.tlp === 'red') assert.ok((item.named ?? []).includes(name), `${name} holds RED ${item.key} without being named`);
        }
      }
    }
  });

  it('every received object carries a signature that verifies; B\'s objects reach C through A with B\'s signature unchanged', async () => {
    const keys: Keys = new Map();
    for (const node of [A, B, C]) {
      const identity = await node.identity();
      keys.set(node.organisationId, new Map(identity.keys.map((key) => [key.key_id, key.public_key])));
    }
    const wideOnA = new Map((await A.objects('wide')).map((object) => [object.id, object]));
    // What A releases to B through the hidden circle: C's versions signed over by A as derived.
    for (const key of ['c2-clear', 'c2-green']) {
      const answer = await A.request(`/taxii2/api/collections/inner/objects/${idOf(key)}/`, { token: tokens.b, accept: 'application/taxii+json;version=2.1' });
      const released = (answer.body as { objects?: StixLike[] }).objects?.[0];
      assert.ok(released !== undefined, `A releases ${key} to B through inner: ${answer.status}`);
      assert.deepEqual(checkSignature(released, keys), { signer: A.organisationId, derived: true }, key);
    }
    for (const [node, name] of [[B, 'b'], [C, 'c']] as const) {
      for (const circle of node === C ? (['wide'] as const) : (['inner', 'wide'] as const)) {
        for (const object of await holding(node, circle)) {
          const item = items.find((candidate) => idFor(candidate) === object.id);
          if (item?.origin === name) continue;
          const finding = checkSignature(object, keys);
          assert.ok(typeof finding !== 'string', `${name}.${circle} ${item?.key ?? object.id}: ${String(finding)}`);
          const origin = { signer: organisations[item?.origin ?? 'a'], derived: false };
          const derivedByA = { signer: A.organisationId, derived: true };
          if (item?.refs !== undefined) {
            // The report was cut for the member: A signed the redacted form itself, as derived.
            assert.deepEqual(finding, derivedByA, `${name}: ${item.key}`);
            assert.deepEqual(object['object_refs'], [idOf('a-wide-green')]);
          } else if (item?.origin === 'c' && name === 'b' && ['c2-clear', 'c2-green'].includes(item.key)) {
            // B receives these through both circles: through the hidden one A signs C's version over as
            // derived (B may not learn who else is there), through wide it comes as C signed it. B
            // keeps the form that arrived first, whichever it was.
            assert.ok(isDeepStrictEqual(finding, origin) || isDeepStrictEqual(finding, derivedByA), `${name}.${circle}: ${item.key}: ${JSON.stringify(finding)}`);
          } else {
            assert.deepEqual(finding, origin, `${name}.${circle}: ${item?.key ?? object.id}`);
          }
          if (item?.origin === 'b') assert.deepEqual(object, wideOnA.get(object.id), `${item.key} on C is B's signed version as A received it`);
        }
      }
    }
  });

  it('nothing genuine is held back: no node quarantined anything (own versions coming back, a version received through two circles)', async () => {
    for (const node of [A, B, C]) {
      const quarantined = (await node.cli('quarantine', 'list', '--json')).trim();
      assert.equal(quarantined, '', `${node.name} quarantined:\n${nameIds(quarantined)}`);
    }
  });

  it('A\'s audit records what each member received, and the chain verifies', async () => {
    for (const [member, name] of [[B, 'b'], [C, 'c']] as const) {
      const received = async (): Promise<string[]> => {
        const lines = (await A.cli('audit', 'received', '--org', member.organisationId, '--json')).trim().split('\n').filter((line) => line !== '');
        const entries = lines.map((line) => JSON.parse(line) as { objectId: string; circleId: string }).filter((entry) => !entry.objectId.startsWith('marking-definition--'));
        return [...new Set(entries.map((entry) => `${entry.circleId} ${entry.objectId}`))].sort();
      };
      const expected = [...expectedReleases(name)].sort();
      // A member holds what it contributed before A releases it back: the last echoes may take one more cycle.
      await waitFor(`A's audit shows what ${name} received`, async () => ((await received()).join() === expected.join() ? true : undefined), {
        deadlineMs: 20_000, everyMs: 500, describe: async () => `audit: ${nameIds((await received()).join(' '))}\nexpected: ${nameIds(expected.join(' '))}`,
      });
      assert.deepEqual(await received(), expected, name);
    }
    assert.match(await A.cli('audit', 'verify'), /Audit log verified: \d+ entries/);
  });
});
