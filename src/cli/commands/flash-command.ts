import { Command, Option } from 'commander';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import type { OpenedNode } from '../../compose.ts';
import {
  acknowledgeFlash,
  listFlashes,
  promoteFlash,
  sendFlash,
  showFlash,
  type FlashDeps,
  type FlashView,
} from '../../federation/flash-operations.ts';
import type { Recipient } from '../../policy/recipient.ts';
import { postToPeer } from '../../taxii/post-to-peer.ts';

const dataOption = ['--data <dir>', 'data directory (env ENTENTE_DATA)'] as const;

function depsOf(node: OpenedNode): { deps: FlashDeps; operator: Recipient } {
  const home = node.identity.homeOrganisation.id;
  const clock = (): Date => new Date();
  return {
    deps: { store: node.store, clock, randomUuid: randomUUID, homeOrganisationId: home, signer: () => node.signers.current(), post: postToPeer },
    // The command line is the node operator: the administrator, for the home organisation.
    operator: { name: 'cli', organisationId: home, admin: true, actsForHome: true, grants: [] },
  };
}

function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'operator';
  }
}

function printView(io: CliIo, view: FlashView): void {
  writeLine(io.stdout, `Flash ${view.id} (${view.direction}) in circle ${view.circle_id}`);
  writeLine(io.stdout, `  from ${view.sender} at ${view.sent_at}${view.received_at === null ? '' : `, received ${view.received_at}`}`);
  if (view.indicator_id !== null) writeLine(io.stdout, `  indicator ${view.indicator_id}`);
  if (view.acknowledged !== null) writeLine(io.stdout, `  acknowledged here by ${view.acknowledged.by} at ${view.acknowledged.at}`);
  for (const line of view.text.split(/\r\n|\r|\n/)) writeLine(io.stdout, `  | ${line}`);
  for (const member of view.members) {
    const detail =
      member.state === 'acknowledged'
        ? `acknowledged by ${member.acknowledged_by ?? '?'} at ${member.acknowledged_at ?? '?'} (delivered ${member.delivered_at ?? '?'})`
        : member.state === 'delivered'
          ? `delivered ${member.delivered_at ?? '?'}`
          : member.state === 'failed'
            ? `not delivered: ${member.error ?? '?'}`
            : member.state === 'not-eligible'
              ? `not sent: ${member.error ?? '?'}`
              : 'pending';
    writeLine(io.stdout, `  ${member.organisation_id}  ${member.state}  ${detail}`);
  }
}

export function flashCommand(io: CliIo): Command {
  const command = new Command('flash').description('flash messages: urgent signed warnings to every member of a circle');

  command
    .command('send')
    .description("sign a flash and POST it at once to every member's node of the circle")
    .argument('<text>', 'the warning (1 to 4,000 characters; the first line is its summary)')
    .requiredOption('--circle <id>', 'the circle whose members receive it')
    .option('--indicator <id>', "an indicator of the circle's collection the warning is about")
    .option('--json', 'print JSON')
    .option(...dataOption)
    .addHelpText(
      'after',
      '\nExample:\n  $ entente flash send --circle grid-2026 "Active exploitation of CVE-2026-1234 against substation gateways" \\\n' +
        '      --indicator indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\n\n' +
        "Each member's node verifies the signature, shows the flash on its alert stream and answers with a signed\n" +
        'receipt. Members that could not be reached are tried again by the running node (a few times, within an hour).',
    )
    .action(async (text: string, options: NodeLocationOptions & { circle: string; indicator?: string; json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const { deps, operator } = depsOf(node);
        const { flash, deliveries } = await sendFlash(deps, operator, { circleId: options.circle, text, indicatorId: options.indicator });
        if (options.json === true) {
          writeLine(io.stdout, JSON.stringify({ flash: await showFlash(deps, operator, flash.id), deliveries }, null, 2));
        } else {
          const delivered = deliveries.filter((delivery) => delivery.outcome === 'delivered').length;
          // Members the circle rules keep the flash from are listed below, not counted as addressees.
          const addressed = deliveries.filter((delivery) => delivery.outcome !== 'not-eligible').length;
          writeLine(io.stdout, `Flash ${flash.id} sent to circle ${flash.circleId}: delivered to ${delivered} of ${addressed} members`);
          for (const delivery of deliveries) {
            const what = delivery.outcome === 'delivered' ? `delivered (${Math.round(delivery.ms ?? 0)} ms)` : `${delivery.outcome}: ${delivery.error ?? ''}`;
            writeLine(io.stdout, `  ${delivery.organisationId}  ${what}`);
          }
        }
        if (deliveries.some((delivery) => delivery.outcome === 'failed')) {
          io.stderr.write('Some members were not reached; the running node tries again (see entente flash show).\n');
          io.outcome.partialFailure = true;
        }
      });
    });

  command
    .command('list')
    .description('list flashes sent and received, newest first')
    .option('--circle <id>', 'only this circle')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente flash list --circle grid-2026')
    .action(async (options: NodeLocationOptions & { circle?: string; limit: string; json?: boolean }) => {
      if (!/^\d{1,4}$/.test(options.limit) || Number(options.limit) < 1) throw new EntenteError('ENT_CLI_USAGE', '--limit must be a whole number from 1 to 9999');
      await withNode(io, options, async (node) => {
        const { deps, operator } = depsOf(node);
        const flashes = await listFlashes(deps, operator, { ...(options.circle === undefined ? {} : { circleId: options.circle }), limit: Number(options.limit) });
        if (options.json === true) {
          writeLine(io.stdout, JSON.stringify(flashes, null, 2));
          return;
        }
        for (const flash of flashes) {
          const firstLine = flash.text.split(/\r\n|\r|\n/)[0] ?? '';
          const state =
            flash.direction === 'sent'
              ? `${flash.members.filter((m) => m.state === 'delivered' || m.state === 'acknowledged').length}/${flash.members.length} delivered, ${flash.members.filter((m) => m.state === 'acknowledged').length} acknowledged`
              : flash.acknowledged === null
                ? 'not acknowledged'
                : `acknowledged by ${flash.acknowledged.by}`;
          writeLine(io.stdout, `${flash.id}  ${flash.direction.padEnd(8)}  ${flash.circle_id}  ${flash.sent_at}  ${state}  ${firstLine.slice(0, 80)}`);
        }
        io.stderr.write(`${flashes.length} flashes\n`);
      });
    });

  command
    .command('show')
    .description('show one flash; for a sent one, per member: delivered, acknowledged, or the error')
    .argument('<id>', 'flash id')
    .option('--json', 'print JSON')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente flash show 0b6f3c8e-5d5e-4f53-9f5b-3c1d2e4f5a6b')
    .action(async (id: string, options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const { deps, operator } = depsOf(node);
        const view = await showFlash(deps, operator, id);
        if (options.json === true) writeLine(io.stdout, JSON.stringify(view, null, 2));
        else printView(io, view);
      });
    });

  command
    .command('ack')
    .description("acknowledge a received flash (a human read it); the acknowledgement is sent to the sender's node")
    .argument('<id>', 'flash id')
    .option('--by <name>', 'who acknowledges (default: the operating system user)')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente flash ack 0b6f3c8e-5d5e-4f53-9f5b-3c1d2e4f5a6b --by "duty officer"')
    .action(async (id: string, options: NodeLocationOptions & { by?: string }) => {
      await withNode(io, options, async (node) => {
        const { deps, operator } = depsOf(node);
        const outcome = await acknowledgeFlash(deps, operator, id, options.by ?? operatorName());
        const by = outcome.flash.acknowledged?.by ?? '?';
        if (outcome.sent) writeLine(io.stdout, `Flash ${id} acknowledged by ${by}; the sender's node recorded it`);
        else {
          writeLine(io.stdout, `Flash ${id} acknowledged by ${by} here; not yet sent to the sender: ${outcome.error ?? '?'}`);
          io.stderr.write('The running node tries again.\n');
          io.outcome.partialFailure = true;
        }
      });
    });

  command
    .command('promote')
    .description("turn a flash into a STIX note in its circle's collection (it then syncs like any intelligence)")
    .argument('<id>', 'flash id')
    .addOption(new Option('--as <type>', 'what to make of it').choices(['note']).default('note'))
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente flash promote 0b6f3c8e-5d5e-4f53-9f5b-3c1d2e4f5a6b --as note')
    .action(async (id: string, options: NodeLocationOptions & { as: 'note' }) => {
      await withNode(io, options, async (node) => {
        const { deps, operator } = depsOf(node);
        const promoted = await promoteFlash(deps, operator, id);
        writeLine(
          io.stdout,
          promoted.created
            ? `Flash ${id} promoted to ${promoted.noteId} in collection ${promoted.collectionId}`
            : `Flash ${id} was already promoted to ${promoted.noteId} in collection ${promoted.collectionId}`,
        );
      });
    });

  return command;
}
