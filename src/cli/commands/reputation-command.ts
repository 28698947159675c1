import { Command } from 'commander';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { isReputationStore, loadSourceReputation, type ReputationStore } from '../../federation/load-source-reputation.ts';
import type { EntryArrivals } from '../../store/federation-store.ts';
import { versionKey, type ObjectStore } from '../../store/object-store.ts';

/** A store that keeps no provenance yet reads as one where nothing arrived signed and no peer is linked. */
function reputationStoreOf(store: ObjectStore): { store: ReputationStore; provenance: boolean } {
  const kept: object = store;
  if (isReputationStore(kept)) return { store: kept, provenance: true };
  // Each collection's versions by dateAdded, read once: the reputation asks page by page.
  const indexes = new Map<string, Promise<Map<number, { id: string; version: string }>>>();
  const versionsOf = (collectionId: string): Promise<Map<number, { id: string; version: string }>> => {
    let index = indexes.get(collectionId);
    if (index === undefined) {
      index = (async () => {
        const byDate = new Map<number, { id: string; version: string }>();
        for (let after: number | undefined; ; ) {
          const page = await store.listEntries(collectionId, {}, { limit: 5000, ...(after === undefined ? {} : { after }) });
          for (const entry of page.entries) byDate.set(entry.dateAdded, { id: entry.id, version: entry.version });
          const last = page.entries[page.entries.length - 1];
          if (!page.more || last === undefined) return byDate;
          after = last.dateAdded;
        }
      })();
      indexes.set(collectionId, index);
    }
    return index;
  };
  const plain: ReputationStore = {
    listCollections: () => store.listCollections(),
    listEntries: (collectionId, filter, page) => store.listEntries(collectionId, filter, page),
    getMeta: (key) => store.getMeta(key),
    // Only the contributors (partners' TAXII POSTs): a store without provenance has no other arrivals.
    arrivalsOfEntries: async (collectionId, dateAdded) => {
      const versions = await versionsOf(collectionId);
      const wanted = dateAdded.flatMap((at) => {
        const version = versions.get(at);
        return version === undefined ? [] : [{ at, ...version }];
      });
      const contributions = await store.contributionsOf(wanted);
      const found = new Map<number, EntryArrivals>();
      for (const { at, id, version } of wanted) {
        const organisations = (contributions.get(versionKey(id, version)) ?? []).map((contribution) => contribution.organisationId);
        if (organisations.length > 0) found.set(at, { arrivals: [], contributors: organisations });
      }
      return found;
    },
    listPeers: () => Promise.resolve([]),
    listPinnedKeys: () => Promise.resolve([]),
    // What it released to a partner that POSTs the values back is no corroboration here either.
    firstReleases: (objectIds) => store.firstReleases(objectIds),
    listCircles: () => store.listCircles(),
  };
  return { store: plain, provenance: false };
}

async function namesOf(store: ObjectStore, ids: readonly string[], home: { id: string; name: string }): Promise<Map<string, string>> {
  const names = new Map<string, string>([[home.id, home.name]]);
  for (const organisation of await store.listOrganisations()) names.set(organisation.id, organisation.name);
  const missing = ids.filter((id) => !names.has(id));
  for (const [id, entry] of await store.latestVersions(missing)) {
    const name = (JSON.parse(entry.json) as { name?: unknown }).name;
    if (typeof name === 'string') names.set(id, name);
  }
  return names;
}

export function reputationCommand(io: CliIo): Command {
  return new Command('reputation')
    .description('how far the node trusts each source of indicators: warninglist hits, false positives, corroboration')
    .option('--json', 'print JSON')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExample:\n  $ entente reputation\n  $ entente reputation --json | jq \'.[] | select(.reputation < 0.5)\'\n\n' +
        'A source is the organisation whose node signed what arrived (an unsigned arrival counts as the peer or\n' +
        'partner that delivered it; what was stored here, as the home organisation), never the identities objects\n' +
        'name. Per source, over its latest non-revoked indicators: how many hit a MISP warninglist, how many another\n' +
        'source reported as false positives, how many another source published too (same pattern or value). The\n' +
        'reputation, 0.2 to 1 (0.92 for a new source), multiplies the stated confidence of its indicators in alerts;\n' +
        "the home organisation's own indicators are not discounted. See docs/federation.md.",
    )
    .action(async (options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const { store, provenance } = reputationStoreOf(node.store);
        const report = await loadSourceReputation(store, { now: new Date() });
        const home = { id: node.identity.homeOrganisation.id, name: String(node.identity.homeOrganisation['name'] ?? 'home') };
        const names = await namesOf(
          node.store,
          report.sources.map((s) => s.source),
          home,
        );
        if (options.json === true) {
          const rows = report.sources.map((s) => ({
            organisation: s.source,
            name: names.get(s.source) ?? null,
            home: s.source === report.home,
            indicators: s.indicators,
            warninglist_hits: s.warninglistHits,
            false_positives: s.falsePositives,
            corroborated: s.corroborated,
            reputation: s.reputation,
            reasons: s.reasons,
          }));
          writeLine(io.stdout, JSON.stringify(rows, null, 2));
        } else {
          writeLine(io.stdout, ['SOURCE', 'NAME', 'INDICATORS', 'WARNINGLIST', 'FALSE_POSITIVES', 'CORROBORATED', 'REPUTATION'].join('\t'));
          for (const s of report.sources) {
            const name = (names.get(s.source) ?? '-') + (s.source === report.home ? ' (home: not applied)' : '');
            writeLine(io.stdout, [s.source, name, String(s.indicators), String(s.warninglistHits), String(s.falsePositives), String(s.corroborated), s.reputation.toFixed(2)].join('\t'));
            for (const reason of s.reasons) writeLine(io.stdout, `  ${reason}`);
          }
        }
        if (!provenance) writeLine(io.stderr, 'reputation: this store records no provenance yet: sources are the partners that POSTed objects and the home organisation');
      });
    });
}
