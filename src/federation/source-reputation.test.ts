import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildWarninglistIndex } from '../extract/warninglists.ts';
import type { VersionArrival } from '../store/federation-store.ts';
import {
  decideSource,
  decideSourceReputation,
  decideSourceReputations,
  neutralReputation,
  patternFacts,
  reputationFloor,
  type ArrivedIndicator,
} from './source-reputation.ts';

const member = 'identity--00000000-0000-4000-8000-00000000000a';
const other = 'identity--00000000-0000-4000-8000-00000000000b';
const third = 'identity--00000000-0000-4000-8000-00000000000c';

const warninglists = buildWarninglistIndex({
  lists: [
    { name: 'public-dns-v4', kind: 'cidr', appliesTo: ['ipv4-addr', 'ipv6-addr'], entries: ['8.8.8.0/24'] },
    { name: 'google', kind: 'string', appliesTo: ['domain-name'], entries: ['google.com'] },
    { name: 'empty-hashes', kind: 'string', appliesTo: ['file'], entries: ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'] },
    { name: 'security-provider-blogpost', kind: 'hostname', appliesTo: ['domain-name', 'url'], entries: ['blog.vendor.example'] },
  ],
});

let serial = 0;
/** An indicator as it arrived here: `arrivedAt` in microseconds (its first version's dateAdded); by default all at once. */
function indicator(source: string, pattern: string, id = `indicator--00000000-0000-4000-8000-${String(++serial).padStart(12, '0')}`, arrivedAt = 0): ArrivedIndicator {
  return { id, source, arrivedAt, ...patternFacts(pattern, warninglists) };
}
const hour = 3_600_000_000;
const ip = (value: string): string => `[ipv4-addr:value = '${value}']`;

/** One arrival of a version, as the store says where it came from (FederationStore.arrivalsOfEntries). */
function provenance(row: Partial<VersionArrival>): VersionArrival {
  return { peer: undefined, signer: undefined, verification: 'unverified', deliveredBy: undefined, receivedAt: '2026-01-01T00:00:00.000Z', ...row };
}

describe('source reputation', () => {
  it('a new source is neutral (0.92), and says so', () => {
    const fresh = decideSourceReputation(member, { indicators: 0, warninglistHits: 0, falsePositives: 0, corroborated: 0 });
    assert.equal(fresh.reputation, neutralReputation);
    assert.equal(neutralReputation, 0.92);
    assert.match(fresh.reasons.join('\n'), /no indicators yet: neutral 0\.92/);
    const { sources } = decideSourceReputations([indicator(member, ip('45.9.1.1'))], []);
    assert.ok(Math.abs((sources[0]?.reputation ?? 0) - neutralReputation) < 0.01, 'one unremarkable indicator leaves it near neutral');
  });

  it('warninglist hits lower it, more of them lower it more; a handful cannot swing it wildly', () => {
    const hits = (n: number): number => decideSourceReputations(Array.from({ length: n }, (_, i) => indicator(member, ip(`8.8.8.${i + 1}`))), []).sources[0]?.reputation ?? 1;
    assert.ok(hits(1) < neutralReputation);
    assert.ok(hits(1) >= 0.8, `one hit of one: ${hits(1)}`);
    assert.ok(hits(5) < hits(1));
    assert.ok(hits(5) >= 0.55, `five hits of five: ${hits(5)}`);
    assert.equal(hits(40), reputationFloor, 'a source publishing nothing but warninglisted values ends at the floor');
    const [source] = decideSourceReputations([indicator(member, ip('8.8.8.8')), indicator(member, "[domain-name:value = 'google.com']"), indicator(member, ip('45.9.1.1'))], []).sources;
    assert.equal(source?.warninglistHits, 2);
    assert.match(source?.reasons[0] ?? '', /^2 of 3 indicators hit MISP warninglists \(google 1, public-dns-v4 1\)$/);
  });

  it('a false-positive report by ANOTHER source lowers it; its own reports against itself do not', () => {
    const published = [indicator(member, ip('45.9.1.1'), 'indicator--f0000000-0000-4000-8000-000000000001'), indicator(member, ip('45.9.1.2'))];
    const clean = decideSourceReputations(published, []).sources[0];
    const disputed = decideSourceReputations(published, [{ indicatorId: 'indicator--f0000000-0000-4000-8000-000000000001', reporter: other }]).sources[0];
    const selfReported = decideSourceReputations(published, [{ indicatorId: 'indicator--f0000000-0000-4000-8000-000000000001', reporter: member }]).sources[0];
    assert.equal(disputed?.falsePositives, 1);
    assert.ok((disputed?.reputation ?? 1) < (clean?.reputation ?? 0));
    assert.match(disputed?.reasons.join('\n') ?? '', /1 of 2 indicators reported as false positives by 1 other source/);
    assert.equal(selfReported?.falsePositives, 0);
    assert.equal(selfReported?.reputation, clean?.reputation);
  });

  it('corroboration by an independent source raises it; the same values from the source itself do not', () => {
    const mine = Array.from({ length: 10 }, (_, i) => indicator(member, ip(`45.9.1.${i + 1}`)));
    const alone = decideSourceReputations(mine, []).sources.find((s) => s.source === member);
    const repeatedByItself = decideSourceReputations([...mine, ...Array.from({ length: 10 }, (_, i) => indicator(member, ip(`45.9.1.${i + 1}`)))], []);
    const corroborated = decideSourceReputations([...mine, ...Array.from({ length: 10 }, (_, i) => indicator(other, ip(`45.9.1.${i + 1}`)))], []);
    const mineCorroborated = corroborated.sources.find((s) => s.source === member);
    assert.equal(mineCorroborated?.corroborated, 10);
    assert.ok((mineCorroborated?.reputation ?? 0) > (alone?.reputation ?? 1));
    assert.equal(repeatedByItself.sources.find((s) => s.source === member)?.corroborated, 0);
    assert.equal(repeatedByItself.corroboration.size, 0);
    assert.deepEqual(corroborated.corroboration.get(mine[0]?.id ?? ''), [other]);
  });

  it('corroboration per indicator: the distinct other sources of the same normalised value, sorted', () => {
    const a = indicator(member, "[domain-name:value = 'Evil.Example.']");
    const b = indicator(third, "[domain-name:value = 'evil.example' OR domain-name:value = 'other.example']");
    const c = indicator(other, "[domain-name:value IN ('x.example', 'evil.example')]");
    const d = indicator(other, "[domain-name:value = 'evil.example']");
    const { corroboration } = decideSourceReputations([a, b, c, d], []);
    assert.deepEqual(corroboration.get(a.id), [other, third]);
    assert.deepEqual(corroboration.get(c.id), [member, third]);
  });

  it('a warninglisted or disputed indicator is not counted as corroborated for its source', () => {
    const { sources } = decideSourceReputations([indicator(member, ip('8.8.8.8')), indicator(other, ip('8.8.8.8'))], []);
    assert.deepEqual(
      sources.map((s) => [s.warninglistHits, s.corroborated]),
      [
        [1, 0],
        [1, 0],
      ],
    );
  });

  it('a lone reporter cannot sink another source: all its reports count as one bad indicator', () => {
    const mine = Array.from({ length: 100 }, (_, i) => indicator(member, ip(`45.9.2.${i}`)));
    const clean = decideSourceReputations(mine, []).sources[0];
    const alone = decideSourceReputations(mine, mine.map((f) => ({ indicatorId: f.id, reporter: other }))).sources[0];
    const one = decideSourceReputations(mine, [{ indicatorId: mine[0]?.id ?? '', reporter: other }]).sources[0];
    assert.equal(alone?.falsePositives, 100, 'every report is shown');
    assert.equal(alone?.reputation, one?.reputation, 'a hundred reports by one source weigh as one');
    assert.ok((alone?.reputation ?? 0) < (clean?.reputation ?? 0), 'it still lowers it');
    assert.ok((alone?.reputation ?? 0) >= 0.8, `one source's word: ${alone?.reputation}`);
    assert.match(alone?.reasons.join('\n') ?? '', /100 of 100 indicators reported as false positives by 1 other source; a source reporting alone counts as one bad indicator/);
  });

  it('false positives that two independent sources report count each, whoever else reports', () => {
    const mine = Array.from({ length: 20 }, (_, i) => indicator(member, ip(`45.9.3.${i}`)));
    const both = mine.flatMap((f) => [{ indicatorId: f.id, reporter: other }, { indicatorId: f.id, reporter: third }]);
    const [source] = decideSourceReputations(mine, both).sources;
    assert.equal(source?.reputation, reputationFloor, 'twenty indicators two members call false positives: the floor');
    assert.match(source?.reasons.join('\n') ?? '', /20 of them by two or more independent sources/);
    const fromItself = decideSourceReputations(mine, mine.flatMap((f) => [{ indicatorId: f.id, reporter: other }, { indicatorId: f.id, reporter: member }])).sources[0];
    assert.ok((fromItself?.reputation ?? 0) >= 0.8, 'the source itself is not a second reporter');
  });

  it('volume alone does not raise it: thousands of indicators nobody else published leave a source neutral', () => {
    const junk = Array.from({ length: 2000 }, (_, i) => indicator(member, ip(`203.0.${i >> 8}.${i & 255}`)));
    assert.equal(decideSourceReputations(junk, []).sources[0]?.reputation, neutralReputation);
    const bad = Array.from({ length: 20 }, (_, i) => indicator(member, ip(`8.8.8.${i + 1}`)));
    assert.equal(decideSourceReputations([...bad, ...junk], []).sources[0]?.reputation, reputationFloor, 'nor washes out what is on warninglists');
  });

  it('a later copy of another source’s indicators corroborates neither the copier nor the copy; the original is corroborated', () => {
    const originals = Array.from({ length: 100 }, (_, i) => indicator(member, ip(`45.9.4.${i}`), undefined, 0));
    const copies = originals.map((f, i) => ({ ...indicator(other, ip(`45.9.4.${i}`)), arrivedAt: hour }));
    const { sources, corroboration } = decideSourceReputations([...copies, ...originals], []);
    const copier = sources.find((s) => s.source === other);
    assert.equal(copier?.corroborated, 0);
    assert.equal(copier?.reputation, neutralReputation);
    assert.equal(corroboration.get(copies[0]?.id ?? ''), undefined, 'the copy is not corroborated by what it copied');
    assert.deepEqual(corroboration.get(originals[0]?.id ?? ''), [other]);
    assert.equal(sources.find((s) => s.source === member)?.corroborated, 100);
  });

  it('a later publication by a member this node had released the original to is no corroboration: it may be a copy', () => {
    const original = indicator(member, ip('45.9.6.1'), undefined, 0);
    const later = indicator(other, ip('45.9.6.1'), undefined, 2 * hour);
    const released = { indicatorId: original.id, recipient: other, releasedAt: hour };
    const { sources, corroboration } = decideSourceReputations([original, later], [], [released]);
    assert.equal(corroboration.get(original.id), undefined, 'not corroborated by what may be its copy');
    assert.equal(sources.find((s) => s.source === member)?.corroborated, 0);
    assert.equal(sources.find((s) => s.source === member)?.reputation, neutralReputation);
    // Control: the same publications, never released to it here: corroboration as before.
    assert.deepEqual(decideSourceReputations([original, later], []).corroboration.get(original.id), [other]);
  });

  it('a release to the publisher after its publication arrived, or to another member, withholds nothing', () => {
    const original = indicator(member, ip('45.9.6.2'), undefined, 0);
    const later = indicator(other, ip('45.9.6.2'), undefined, 2 * hour);
    const afterwards = { indicatorId: original.id, recipient: other, releasedAt: 3 * hour };
    assert.deepEqual(decideSourceReputations([original, later], [], [afterwards]).corroboration.get(original.id), [other], 'it had the value before this node gave it');
    const elsewhere = { indicatorId: original.id, recipient: third, releasedAt: hour };
    assert.deepEqual(decideSourceReputations([original, later], [], [elsewhere]).corroboration.get(original.id), [other]);
    const ofItsOwn = { indicatorId: later.id, recipient: member, releasedAt: hour };
    assert.deepEqual(decideSourceReputations([original, later], [], [ofItsOwn]).corroboration.get(original.id), [other], 'what went the other way says nothing of this');
  });

  // The release gate's `at` and the store's dateAdded are read by different writers, to different
  // precisions, and a clock stepped back can put a copy's arrival before the release it copies.
  it('a release within a second after the publication arrived still withholds it: the margin errs towards withholding', () => {
    const original = indicator(member, ip('45.9.6.6'), undefined, 0);
    const later = indicator(other, ip('45.9.6.6'), undefined, 2 * hour);
    const releasedAt = (at: number): { indicatorId: string; recipient: string; releasedAt: number } => ({ indicatorId: original.id, recipient: other, releasedAt: at });
    for (const at of [2 * hour, 2 * hour + 999_999]) {
      assert.equal(decideSourceReputations([original, later], [], [releasedAt(at)]).corroboration.get(original.id), undefined, `released ${at - 2 * hour} µs after it arrived`);
    }
    assert.deepEqual(decideSourceReputations([original, later], [], [releasedAt(2 * hour + 1_000_000)]).corroboration.get(original.id), [other], 'a second after: it had the value before');
  });

  // Two colluders: one publishes the source's (poisoned) value, this node gives it to the other, which
  // publishes it too. The second's publication is no more independent than a copy of the source's own.
  it('a release of another source’s indicator carrying the value withholds the member’s corroboration of every source', () => {
    const original = indicator(member, ip('45.9.6.7'), undefined, 0);
    const relayed = indicator(third, ip('45.9.6.7'), undefined, hour);
    const later = indicator(other, ip('45.9.6.7'), undefined, 3 * hour);
    const given = { indicatorId: relayed.id, recipient: other, releasedAt: 2 * hour };
    const { corroboration } = decideSourceReputations([original, relayed, later], [], [given]);
    assert.deepEqual(corroboration.get(original.id), [third], 'not by the member given the value');
    assert.equal(corroboration.get(relayed.id), undefined);
    // Control: never given it here.
    assert.deepEqual(decideSourceReputations([original, relayed, later], []).corroboration.get(original.id), [other, third].sort());
  });

  it('a release of another indicator of the same source carrying the value withholds it too; one carrying other values does not', () => {
    const original = indicator(member, ip('45.9.6.3'), undefined, 0);
    const sameValue = indicator(member, "[ipv4-addr:value = '45.9.6.3'] OR [domain-name:value = 'a.example']", undefined, 0);
    const otherValue = indicator(member, ip('45.9.6.4'), undefined, 0);
    const later = indicator(other, ip('45.9.6.3'), undefined, 2 * hour);
    const release = (indicatorId: string): { indicatorId: string; recipient: string; releasedAt: number } => ({ indicatorId, recipient: other, releasedAt: hour });
    assert.equal(decideSourceReputations([original, sameValue, otherValue, later], [], [release(sameValue.id)]).corroboration.get(original.id), undefined);
    assert.deepEqual(decideSourceReputations([original, sameValue, otherValue, later], [], [release(otherValue.id)]).corroboration.get(original.id), [other]);
  });

  it('the same indicator id arriving as another source (an unverified relay) is no new publication: it corroborates nothing', () => {
    const id = 'indicator--00000000-0000-4000-8000-0000000000f1';
    const original = indicator(member, ip('45.9.6.5'), id, 0);
    const relayed = indicator(other, ip('45.9.6.5'), id, hour);
    const independent = indicator(third, ip('45.9.6.5'), undefined, 2 * hour);
    const { sources, corroboration } = decideSourceReputations([original, relayed, independent], []);
    assert.deepEqual(corroboration.get(id), [third]);
    assert.equal(sources.find((s) => s.source === member)?.corroborated, 1);
    assert.equal(sources.find((s) => s.source === other), undefined, 'the relay is counted as the source it was first seen from');
  });

  it('publications that arrived together (within a second) corroborate each other', () => {
    const a = indicator(member, ip('45.9.5.1'), undefined, 10 * hour);
    const b = indicator(other, ip('45.9.5.1'), undefined, 10 * hour + 900_000);
    const { corroboration } = decideSourceReputations([a, b], []);
    assert.deepEqual(corroboration.get(a.id), [other]);
    assert.deepEqual(corroboration.get(b.id), [member]);
  });

  it('stays within [0.2, 1] whatever the counts', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.nat(100_000), fc.nat(100_000), fc.nat(100_000), (indicators, warninglistHits, falsePositives, corroborated) => {
        const { reputation } = decideSourceReputation(member, { indicators, warninglistHits, falsePositives, corroborated });
        return reputation >= reputationFloor && reputation <= 1;
      }),
    );
  });

  it('is deterministic: the same facts in any order give the same reputations, reasons and corroboration', () => {
    const facts = [
      indicator(member, ip('8.8.8.8')),
      indicator(member, ip('45.9.1.1')),
      indicator(other, ip('45.9.1.1'), undefined, hour),
      indicator(third, ip('45.9.1.1'), undefined, 2 * hour),
      indicator(third, `[file:hashes.'SHA-256' = '${'ab'.repeat(32)}']`),
      indicator(other, `[file:hashes.SHA256 = '${'AB'.repeat(32)}']`),
    ];
    const reports = [
      { indicatorId: facts[1]?.id ?? '', reporter: third },
      { indicatorId: facts[2]?.id ?? '', reporter: member },
      { indicatorId: facts[2]?.id ?? '', reporter: third },
      { indicatorId: facts[4]?.id ?? '', reporter: member },
    ];
    const expected = decideSourceReputations(facts, reports);
    fc.assert(
      fc.property(fc.shuffledSubarray(facts, { minLength: facts.length }), fc.shuffledSubarray(reports, { minLength: reports.length }), (shuffled, shuffledReports) => {
        const got = decideSourceReputations(shuffled, shuffledReports);
        assert.deepEqual(got.sources, expected.sources);
        assert.deepEqual([...got.corroboration].sort(), [...expected.corroboration].sort());
      }),
    );
  });
});

describe('what a pattern publishes', () => {
  it('values standing on their own, normalised; otherwise the canonical pattern', () => {
    assert.deepEqual(patternFacts("[ipv4-addr:value = '45.9.1.1/32']", undefined).keys, ['ipv4-addr:value = 45.9.1.1']);
    assert.deepEqual(patternFacts("[file:hashes.'SHA-256' = 'AB']", undefined).keys, ['file:hashes.SHA256 = ab']);
    assert.deepEqual(patternFacts("[domain-name:value = 'a.example'] OR [url:value = 'http://b.example/x']", undefined).keys, [
      'domain-name:value = a.example',
      'url:value = http://b.example/x',
    ]);
    assert.deepEqual(patternFacts("[ipv4-addr:value != '45.9.1.1']", undefined).keys, ["pattern [ipv4-addr:value != '45.9.1.1']"]);
    assert.deepEqual(patternFacts("[ipv4-addr:value = '45.9.1.1'] AND   [domain-name:value = 'a.example']", undefined).keys, [
      "pattern [ipv4-addr:value = '45.9.1.1'] AND [domain-name:value = 'a.example']",
    ]);
    assert.deepEqual(patternFacts('[not a pattern', undefined), { keys: [], warninglist: null });
  });

  it('warninglists through the warninglists module: addresses, domains, hashes, URL hosts', () => {
    assert.equal(patternFacts(ip('8.8.8.8'), warninglists).warninglist?.list, 'public-dns-v4');
    assert.equal(patternFacts("[domain-name:value = 'google.com']", warninglists).warninglist?.list, 'google');
    assert.equal(patternFacts("[file:hashes.MD5 = 'x'] OR [file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855']", warninglists).warninglist?.list, 'empty-hashes');
    assert.equal(patternFacts("[url:value = 'https://blog.vendor.example/apt-report']", warninglists).warninglist?.list, 'security-provider-blogpost');
    assert.equal(patternFacts(ip('45.9.1.1'), warninglists).warninglist, null);
  });
});

describe('who a version counts as', () => {
  const peers = new Map([['grid-peer', other]]);

  it('the organisation that signed it, verified; a derived version counts as its redacting signer', () => {
    assert.deepEqual(decideSource([provenance({ verification: 'verified', signer: member, peer: 'grid-peer' })], undefined, peers), { organisation: member, how: 'verified' });
    assert.deepEqual(decideSource([provenance({ verification: 'derived', signer: other, peer: 'grid-peer' })], undefined, peers), { organisation: other, how: 'derived' });
  });

  it('unverified: the peer that delivered it, never the signer it claims', () => {
    assert.deepEqual(decideSource([provenance({ verification: 'unverified', signer: member, peer: 'grid-peer' })], undefined, peers), { organisation: other, how: 'unverified' });
    assert.deepEqual(decideSource([provenance({ verification: 'unverified', peer: 'removed-peer', deliveredBy: third })], undefined, peers), { organisation: third, how: 'unverified' });
  });

  it('a verified row wins over others whatever their order; without rows, the partner that POSTed it; otherwise stored here', () => {
    const rows = [provenance({ verification: 'unverified', peer: 'grid-peer' }), provenance({ verification: 'verified', signer: member, peer: 'p2' })];
    assert.equal(decideSource(rows, undefined, peers)?.organisation, member);
    assert.equal(decideSource([...rows].reverse(), undefined, peers)?.organisation, member);
    assert.deepEqual(decideSource([], [third, other], peers), { organisation: other, how: 'contributor' });
    assert.equal(decideSource(undefined, undefined, peers), undefined);
  });
});
