import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import {
  chainEntry, chainEntryText, fastCanonicalAuditJson, GENESIS_HASH, MAX_PAGE_ENTRY_RELEASES, pageAuditEntries, releaseAuditEntry, releasesIn, verifyChain,
  type AuditEntry, type ChainedAuditEntry, type FlashAuditEntry, type PageAuditEntry, type PageRelease,
} from './audit-chain.ts';

const ORG = 'identity--00000000-0000-4000-8000-000000000001';

function entry(n: number, decision: AuditEntry['decision'] = 'share'): AuditEntry {
  return {
    objectId: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    objectModified: '2026-01-01T00:00:00.000Z',
    recipientOrganisationId: ORG,
    circleId: 'baltic-energy',
    agreementVersion: 2,
    decision,
    at: `2026-02-01T00:00:0${n % 10}.000Z`,
  };
}

function log(count: number): ChainedAuditEntry[] {
  const entries: ChainedAuditEntry[] = [];
  let previous = GENESIS_HASH;
  for (let n = 0; n < count; n += 1) {
    const chained = chainEntry(previous, entry(n, n % 3 === 0 ? 'withhold' : 'share'));
    entries.push(chained);
    previous = chained.hash;
  }
  return entries;
}

describe('audit chain (append-only, hash-chained release log)', () => {
  it('hashes the RFC 8785 canonical JSON of the previous hash and the entry with SHA-256', () => {
    const chained = chainEntry(GENESIS_HASH, entry(1));
    const e = entry(1);
    // Canonical form written out by hand: keys sorted, no whitespace.
    const canonical =
      `{"entry":{"agreementVersion":2,"at":"${e.at}","circleId":"baltic-energy","decision":"share",` +
      `"objectId":"${e.objectId}","objectModified":"${e.objectModified}","recipientOrganisationId":"${ORG}"},` +
      `"previousHash":"${GENESIS_HASH}"}`;
    assert.equal(chained.hash, createHash('sha256').update(canonical).digest('hex'));
  });

  it('does not depend on property order', () => {
    const e = entry(4);
    const reordered: AuditEntry = { at: e.at, decision: e.decision, circleId: e.circleId, objectModified: e.objectModified, recipientOrganisationId: ORG, objectId: e.objectId, agreementVersion: 2 };
    assert.equal(chainEntry('ab', e).hash, chainEntry('ab', reordered).hash);
  });

  it('verifies an intact log and returns its last hash', () => {
    const entries = log(20);
    assert.deepEqual(verifyChain(entries), { ok: true, value: { lastHash: entries[19]?.hash } });
    assert.deepEqual(verifyChain([]), { ok: true, value: { lastHash: GENESIS_HASH } });
  });

  it('names the first broken index when an entry is edited', () => {
    const entries = log(10);
    const edited = entries.map((chained, index) =>
      index === 4 ? { ...chained, entry: { ...(chained.entry as AuditEntry), decision: 'share' as const, recipientOrganisationId: 'identity--x' } } : chained,
    );
    assert.deepEqual(verifyChain(edited), { ok: false, error: { index: 4, reason: 'hash-mismatch' } });
  });

  it('names the first broken index when an entry is removed, reordered or the hash recomputed', () => {
    const entries = log(10);
    assert.deepEqual(verifyChain([...entries.slice(0, 3), ...entries.slice(4)]), { ok: false, error: { index: 3, reason: 'previous-hash-mismatch' } });
    const swapped = [...entries];
    [swapped[5], swapped[6]] = [entries[6] as ChainedAuditEntry, entries[5] as ChainedAuditEntry];
    assert.deepEqual(verifyChain(swapped), { ok: false, error: { index: 5, reason: 'previous-hash-mismatch' } });
    // An attacker who rewrites an entry and recomputes its own hash still breaks the next link.
    const rewritten = [...entries];
    rewritten[2] = chainEntry(entries[1]?.hash ?? '', { ...entry(2), decision: 'withhold' });
    assert.deepEqual(verifyChain(rewritten), { ok: false, error: { index: 3, reason: 'previous-hash-mismatch' } });
  });

  it('reports malformed entries instead of throwing', () => {
    const entries: unknown[] = [...log(2), null];
    assert.deepEqual(verifyChain(entries as ChainedAuditEntry[]), { ok: false, error: { index: 2, reason: 'malformed' } });
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const bad = { previousHash: log(1)[0]?.hash ?? '', entry: cyclic, hash: 'x' } as unknown as ChainedAuditEntry;
    assert.deepEqual(verifyChain([...log(1), bad]), { ok: false, error: { index: 1, reason: 'malformed' } });
  });

  it('continues a log from a stored last hash', () => {
    const entries = log(6);
    const tail = entries.slice(3);
    assert.ok(verifyChain(tail, entries[2]?.hash).ok);
    assert.equal(verifyChain(tail).ok, false);
  });

  it('records a release decision: version, recipient, circle, agreement version, decision and redacted fields', () => {
    const object = { type: 'indicator', id: 'indicator--1', created: '2026-01-01T00:00:00Z', modified: '2026-01-02T00:00:00Z' };
    const redacted = releaseAuditEntry(
      object,
      { kind: 'redact', fields: ['$.description'], redacted: object, reasons: [], agreementVersion: 4 },
      ORG, 'baltic-energy', new Date('2026-02-01T00:00:00Z'),
    );
    assert.deepEqual(redacted, {
      objectId: 'indicator--1', objectModified: '2026-01-02T00:00:00Z', recipientOrganisationId: ORG, circleId: 'baltic-energy',
      agreementVersion: 4, decision: 'redact', redactedFields: ['$.description'], at: '2026-02-01T00:00:00.000Z',
    });
    const withheld = releaseAuditEntry({ type: 'identity', id: 'identity--1', created: '2026-01-01T00:00:00Z' }, { kind: 'withhold', reasons: ['x'] }, ORG, 'c', new Date(0));
    assert.equal(withheld.objectModified, '2026-01-01T00:00:00Z');
    assert.equal('agreementVersion' in withheld, false);
  });

  it('chains a flash sent like a release, in RFC 8785 JSON, so that changing what it says breaks the chain', () => {
    const flash: FlashAuditEntry = {
      kind: 'flash', flashId: 'f-1', sentFlashId: 'f-1v', indicatorId: 'indicator--1', indicatorNamed: false,
      recipientOrganisationId: ORG, circleId: 'baltic-energy', agreementVersion: 2, at: '2026-02-01T00:00:00.000Z',
    };
    const first = chainEntry(GENESIS_HASH, entry(1));
    const chained = chainEntry(first.hash, flash);
    const canonical =
      `{"entry":{"agreementVersion":2,"at":"${flash.at}","circleId":"baltic-energy","flashId":"f-1","indicatorId":"indicator--1",` +
      `"indicatorNamed":false,"kind":"flash","recipientOrganisationId":"${ORG}","sentFlashId":"f-1v"},"previousHash":"${first.hash}"}`;
    assert.equal(chained.hash, createHash('sha256').update(canonical).digest('hex'));
    assert.equal(chainEntryText(first.hash, flash).hash, chained.hash);
    assert.ok(verifyChain([first, chained]).ok);
    // Saying the indicator was not named to the member (or naming another copy) no longer verifies.
    const edited = { ...chained, entry: { ...flash, indicatorNamed: true } };
    assert.deepEqual(verifyChain([first, edited]), { ok: false, error: { index: 1, reason: 'hash-mismatch' } });
  });

  it('writes the same canonical bytes as the general RFC 8785 canonicaliser, or leaves the entry to it', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\u2028', '\u0000', 'é', '\ud800'));
    const entryShape = fc.record(
      {
        objectId: text,
        objectModified: text,
        recipientOrganisationId: text,
        circleId: text,
        agreementVersion: fc.oneof(fc.integer(), fc.double(), fc.constant(undefined)),
        decision: fc.constantFrom('share', 'redact', 'withhold'),
        redactedFields: fc.array(text, { maxLength: 4 }),
        at: text,
        extra: text,
      },
      { requiredKeys: ['objectId', 'objectModified', 'recipientOrganisationId', 'circleId', 'decision', 'at'] },
    );
    fc.assert(
      fc.property(text, entryShape, (previousHash, shape) => {
        const entry = shape as unknown as AuditEntry;
        const fast = fastCanonicalAuditJson(previousHash, entry);
        let general: string | undefined;
        try {
          general = canonicalize({ previousHash, entry });
        } catch {
          general = undefined;
        }
        if (fast !== undefined) assert.equal(fast, general);
        // The store's form: the same link, and a text that reads back as the entry.
        if (general !== undefined) {
          const stored = chainEntryText(previousHash, entry);
          assert.equal(stored.hash, chainEntry(previousHash, entry).hash);
          assert.deepEqual(JSON.parse(stored.entryJson), JSON.parse(JSON.stringify(entry)));
          if (fast !== undefined) assert.equal(`{"entry":${stored.entryJson},"previousHash":${JSON.stringify(previousHash)}}`, fast);
        }
        if ('extra' in shape) assert.equal(fast, undefined, 'an unknown key takes the general path');
        else if (general !== undefined && Number.isSafeInteger(shape.agreementVersion ?? 0)) assert.notEqual(fast, undefined, 'a plain entry takes the fast path');
      }),
      { numRuns: 2000 },
    );
  });

  describe('a page of releases to one recipient, as one entry', () => {
    const releases: PageRelease[] = [
      { objectId: entry(1).objectId, objectModified: '2026-01-01T00:00:00.000Z', agreementVersion: 2, decision: 'share' },
      { objectId: entry(2).objectId, objectModified: '2026-01-02T00:00:00.000Z', agreementVersion: 2, decision: 'redact', redactedFields: ['$.description'] },
      { objectId: entry(3).objectId, objectModified: '2026-01-03T00:00:00.000Z', decision: 'withhold' },
    ];
    const at = '2026-02-01T00:00:00.000Z';

    it('writes no entry for no release, a single release as its own entry, and several as one page entry', () => {
      assert.deepEqual(pageAuditEntries(ORG, 'baltic-energy', at, []), []);
      assert.deepEqual(pageAuditEntries(ORG, 'baltic-energy', at, releases.slice(0, 1)), [{ ...releases[0], recipientOrganisationId: ORG, circleId: 'baltic-energy', at }]);
      assert.deepEqual(pageAuditEntries(ORG, 'baltic-energy', at, releases), [{ kind: 'page', recipientOrganisationId: ORG, circleId: 'baltic-energy', at, releases }]);
    });

    it(`lists at most ${MAX_PAGE_ENTRY_RELEASES} releases an entry, every release of the page once, in order`, () => {
      const many: PageRelease[] = Array.from({ length: 2 * MAX_PAGE_ENTRY_RELEASES + 1 }, (_, n) => ({ objectId: entry(n).objectId, objectModified: at, decision: 'share' }));
      const entries = pageAuditEntries(ORG, 'baltic-energy', at, many);
      assert.deepEqual(entries.map((page) => (page.kind === 'page' ? page.releases.length : 0)), [MAX_PAGE_ENTRY_RELEASES, MAX_PAGE_ENTRY_RELEASES, 1]);
      assert.deepEqual(entries.flatMap(releasesIn).map((release) => release.objectId), many.map((release) => release.objectId));
      // A release is well under 256 bytes of canonical JSON: the entry's text stays under 128 KiB.
      const largest = Math.max(...entries.map((page) => chainEntryText(GENESIS_HASH, page).entryJson.length));
      assert.ok(largest < 128 * 1024, `an entry of ${largest} characters`);
    });

    it('gives its readers every release it holds, each with the page recipient, circle and time; a flash gives none', () => {
      const [page] = pageAuditEntries(ORG, 'baltic-energy', at, releases);
      assert.ok(page !== undefined);
      assert.deepEqual(releasesIn(page), releases.map((release) => ({ ...release, recipientOrganisationId: ORG, circleId: 'baltic-energy', at })));
      assert.deepEqual(releasesIn(entry(7)), [entry(7)]);
      const flash: FlashAuditEntry = { kind: 'flash', flashId: 'f', sentFlashId: 'f', indicatorNamed: false, recipientOrganisationId: ORG, circleId: 'c', at };
      assert.deepEqual(releasesIn(flash), []);
    });

    it('covers every release with its hash: changing, dropping, adding or reordering one breaks the chain', () => {
      const page: PageAuditEntry = { kind: 'page', recipientOrganisationId: ORG, circleId: 'baltic-energy', at, releases };
      const first = chainEntry(GENESIS_HASH, entry(0));
      const chained = chainEntryText(first.hash, page);
      assert.equal(chained.hash, chainEntry(first.hash, page).hash);
      assert.deepEqual(JSON.parse(chained.entryJson), page);
      assert.ok(verifyChain([first, chained]).ok);
      const tampered: PageAuditEntry[] = [
        { ...page, releases: releases.map((release, index) => (index === 2 ? { ...release, decision: 'share' as const } : release)) },
        { ...page, releases: releases.slice(0, 2) },
        { ...page, releases: [...releases, { objectId: entry(9).objectId, objectModified: '2026-01-09T00:00:00.000Z', decision: 'share' }] },
        { ...page, releases: [releases[1], releases[0], releases[2]] as PageRelease[] },
        { ...page, recipientOrganisationId: 'identity--00000000-0000-4000-8000-000000000009' },
      ];
      for (const edited of tampered) {
        assert.deepEqual(verifyChain([first, { ...chained, entry: edited }]), { ok: false, error: { index: 1, reason: 'hash-mismatch' } });
      }
    });

    it('writes the same canonical bytes as the general RFC 8785 canonicaliser, or leaves the page to it', () => {
      const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('"', '\\', '\u2028', '\u0000', 'é', '\ud800'));
      const releaseShape = fc.record(
        {
          objectId: text,
          objectModified: text,
          agreementVersion: fc.oneof(fc.integer(), fc.double(), fc.constant(undefined)),
          decision: fc.constantFrom('share', 'redact', 'withhold'),
          redactedFields: fc.array(text, { maxLength: 3 }),
          extra: text,
        },
        { requiredKeys: ['objectId', 'objectModified', 'decision'] },
      );
      const pageShape = fc.record(
        { kind: fc.constant('page'), recipientOrganisationId: text, circleId: text, at: text, releases: fc.array(releaseShape, { minLength: 1, maxLength: 5 }), objectId: text },
        { requiredKeys: ['kind', 'recipientOrganisationId', 'circleId', 'at', 'releases'] },
      );
      fc.assert(
        fc.property(text, pageShape, (previousHash, shape) => {
          const page = shape as unknown as PageAuditEntry;
          const fast = fastCanonicalAuditJson(previousHash, page);
          let general: string | undefined;
          try {
            general = canonicalize({ previousHash, entry: page });
          } catch {
            general = undefined;
          }
          if (fast !== undefined) assert.equal(fast, general);
          if (general !== undefined) {
            const stored = chainEntryText(previousHash, page);
            assert.equal(stored.hash, chainEntry(previousHash, page).hash);
            assert.deepEqual(JSON.parse(stored.entryJson), JSON.parse(JSON.stringify(page)));
          }
          const plain = !('objectId' in shape) && shape.releases.every((release) => !('extra' in release) && Number.isSafeInteger(release.agreementVersion ?? 0));
          if (!plain) assert.equal(fast, undefined, 'an unknown key or a non-integer version takes the general path');
          else if (general !== undefined) assert.notEqual(fast, undefined, 'a plain page takes the fast path');
        }),
        { numRuns: 1000 },
      );
    });
  });
});
