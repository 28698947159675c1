import { Command } from 'commander';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import type { OpenedNode } from '../../compose.ts';
import { syncPeer, syncReportJson, type SyncDeps, type SyncReport } from '../../federation/sync-peer.ts';
import { openTaxiiClient } from '../../taxii/taxii-client.ts';

export function syncDepsOf(node: OpenedNode): SyncDeps {
  return {
    store: node.store,
    clock: () => new Date(),
    homeOrganisationId: node.identity.homeOrganisation.id,
    openClient: openTaxiiClient,
    releaseSigner: node.releaseSigner,
  };
}

/**
 * What the circle's refresh refused or queued, when it did: members the coordinator's view shows as
 * members again after this node recorded them as left (refused: a member that left stays gone), and
 * the recall notices queued for members it shows as left. Nothing when there was neither.
 */
function mirrorParts(mirror: NonNullable<SyncReport['mirror']>): string[] {
  return [
    ...(mirror.rejoinsRefused.length === 0 ? [] : [`rejoins refused ${mirror.rejoinsRefused.length} (${mirror.rejoinsRefused.join(' ')}: left here, kept gone)`]),
    ...(mirror.recallsQueued === 0 ? [] : [`recalls queued ${mirror.recallsQueued}`]),
  ];
}

/** The human line of a peer's cycle. */
export function syncSummary(report: SyncReport): string {
  if (report.error !== undefined) {
    const partial = report.pull.added + report.pull.quarantined > 0 ? ` (before that: added ${report.pull.added}, quarantined ${report.pull.quarantined})` : '';
    return `${report.peer}: failed: ${report.error.code}: ${report.error.message}${partial}`;
  }
  const parts = [
    ...(report.mirror === undefined ? [] : ['circle refreshed', ...mirrorParts(report.mirror)]),
    `added ${report.pull.added}`,
    `duplicates ${report.pull.duplicates}`,
    `quarantined ${report.pull.quarantined}`,
    ...(report.push === undefined ? [] : [`pushed ${report.push.pushed}`, `refused by the peer ${report.push.refused}`]),
  ];
  return `${report.peer}: ${parts.join(', ')}`;
}

export function syncCommand(io: CliIo): Command {
  return new Command('sync')
    .description('run one sync cycle now (pull, and push for --push peers) with one peer or every peer, against the database directly')
    .argument('[peer]', 'only this peer (default: every peer, one after the other)')
    .option('--json', 'print one JSON object per peer')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ entente sync\n  $ entente sync grid-co --json\n\n' +
        'Prints per peer what was added, what this node held already (duplicates), what was quarantined\n' +
        '(entente quarantine list) and what was pushed. When the peer coordinates the circle and its view\n' +
        'was taken ("circle refreshed"), also the members it shows as members again after they left here\n' +
        '("rejoins refused": a member that left stays gone) and the recall notices queued for members it\n' +
        'shows as left ("recalls queued"; entente circle recalls); --json always has rejoins_refused and\n' +
        'recalls_queued (null when the circle was not refreshed). Exits 1 when a peer failed; its error is\n' +
        'recorded (entente peer status), but for ENT_SYNC_BUSY: another process (the running node) pulled\n' +
        'the same pages meanwhile, and this pull wrote nothing. The running node syncs every peer on its\n' +
        'interval by itself, and logs the same (a refused re-joining as a warning).',
    )
    .action(async (peer: string | undefined, options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const deps = syncDepsOf(node);
        const names = peer === undefined ? (await node.store.listPeers()).map((record) => record.name) : [peer];
        if (names.length === 0 && options.json !== true) writeLine(io.stdout, 'No peers (entente peer add)');
        for (const name of names) {
          const report = await syncPeer(deps, name);
          if (!report.ok) io.outcome.partialFailure = true;
          if (report.push !== undefined) for (const refusal of report.push.refusals) if (options.json !== true) writeLine(io.stderr, `${name}: the peer refused ${refusal.id} ${refusal.version}: ${refusal.message}`);
          writeLine(io.stdout, options.json === true ? JSON.stringify(syncReportJson(report)) : syncSummary(report));
        }
      });
    });
}
