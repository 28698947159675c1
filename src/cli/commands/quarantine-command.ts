import { Command } from 'commander';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import {
  dropQuarantinedItem,
  MAX_QUARANTINE_LIMIT,
  parseQuarantineSeq,
  releaseQuarantinedItem,
  requireQuarantined,
  toQuarantineFilter,
  toQuarantineJson,
} from '../../federation/quarantine-operations.ts';
import { QUARANTINE_REASONS } from '../../store/federation-store.ts';

interface ListOptions extends NodeLocationOptions {
  peer?: string;
  reason?: string;
  all?: boolean;
  limit: string;
  json?: boolean;
}

function seqArgument(text: string): number {
  const parsed = parseQuarantineSeq(text);
  if (!parsed.ok) throw new EntenteError('ENT_CLI_USAGE', parsed.error);
  return parsed.value;
}

function usage(field: string, message: string): EntenteError {
  return new EntenteError('ENT_CLI_USAGE', `--${field}: ${message}`);
}

/** Who resolved an item, as the quarantine records it. */
function operatorOf(io: CliIo): string {
  return `cli:${(io.env['USER'] ?? io.env['LOGNAME'] ?? 'operator').slice(0, 64)}`;
}

/** A message on one line, at most so long: it came from another node and goes to a terminal. */
function oneLine(text: string, max = 200): string {
  let flat = '';
  for (const char of text) flat += char < ' ' || char === '\u007f' ? ' ' : char;
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function quarantineCommand(io: CliIo): Command {
  const command = new Command('quarantine').description('objects the arrival checks held back: list, show, release or drop them');

  command
    .command('list')
    .description('list quarantined items, oldest first: seq, time, peer, reason, object id and version, message')
    .option('--peer <name>', 'only what came through this peer')
    .option('--reason <reason>', `only this reason (${QUARANTINE_REASONS.join(', ')})`)
    .option('--all', 'released and dropped items too')
    .option('--limit <n>', `how many (1 to ${MAX_QUARANTINE_LIMIT})`, '100')
    .option('--json', 'print JSON lines')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente quarantine list --reason bad-signature')
    .action(async (options: ListOptions) => {
      const limit = /^[0-9]{1,6}$/.test(options.limit) ? Number(options.limit) : Number.NaN;
      const filter = toQuarantineFilter({ peer: options.peer, reason: options.reason, all: options.all, limit }, usage);
      await withNode(io, options, async (node) => {
        const items = await node.store.listQuarantine(filter);
        if (options.json === true) {
          for (const item of items) writeLine(io.stdout, JSON.stringify(toQuarantineJson(item, false)));
          return;
        }
        writeLine(io.stdout, ['SEQ', 'RECEIVED', 'PEER', 'REASON', 'OBJECT', 'VERSION', 'STATE', 'MESSAGE'].join('\t'));
        for (const item of items) {
          writeLine(
            io.stdout,
            [
              item.seq,
              item.receivedAt,
              item.peer ?? `(${item.source})`,
              item.reason,
              oneLine(item.objectId, 120) || '-',
              oneLine(item.version, 40) || '-',
              item.resolution?.kind ?? 'open',
              oneLine(item.message),
            ].join('\t'),
          );
        }
      });
    });

  command
    .command('show')
    .description('one quarantined item in full, with the object exactly as it arrived')
    .argument('<seq>', 'the sequence number (entente quarantine list)')
    .option('--json', 'print JSON')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente quarantine show 42')
    .action(async (seqText: string, options: NodeLocationOptions & { json?: boolean }) => {
      const seq = seqArgument(seqText);
      await withNode(io, options, async (node) => {
        const item = await requireQuarantined(node.store, seq);
        if (options.json === true) {
          writeLine(io.stdout, JSON.stringify(toQuarantineJson(item, true), null, 2));
          return;
        }
        const lines: [string, string][] = [
          ['seq', String(item.seq)],
          ['received', item.receivedAt],
          ['source', item.source],
          ['peer', item.peer ?? '-'],
          ['from', item.contributorOrganisationId],
          ['circle', item.circleId ?? '-'],
          ['collection', item.collectionId],
          ['object', oneLine(item.objectId, 300)],
          ['version', oneLine(item.version, 80)],
          ['reason', item.reason],
          ['message', oneLine(item.message, 2000)],
          ['state', item.resolution === undefined ? 'open' : `${item.resolution.kind} by ${item.resolution.by} at ${item.resolution.at}`],
        ];
        for (const [name, value] of lines) writeLine(io.stdout, `${name.padEnd(11)}${value}`);
        writeLine(io.stdout);
        writeLine(io.stdout, item.json);
      });
    });

  command
    .command('release')
    .description('store a quarantined object as received, marked unverified (you vouch for it; no key did)')
    .argument('<seq>', 'the sequence number (entente quarantine list)')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente quarantine release 42')
    .action(async (seqText: string, options: NodeLocationOptions) => {
      const seq = seqArgument(seqText);
      await withNode(io, options, async (node) => {
        const outcome = await releaseQuarantinedItem(node.store, seq, operatorOf(io), new Date());
        if (outcome.kind === 'rejected') throw new EntenteError(outcome.code, `quarantined item ${seq} stays quarantined: ${outcome.message}`, { seq });
        writeLine(io.stdout, `Released item ${seq}: ${outcome.id} version ${outcome.version} ${outcome.kind === 'added' ? 'stored' : 'was already stored'}, marked unverified`);
      });
    });

  command
    .command('drop')
    .description('close a quarantined item without storing it (it stays listed with --all)')
    .argument('<seq>', 'the sequence number (entente quarantine list)')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente quarantine drop 42')
    .action(async (seqText: string, options: NodeLocationOptions) => {
      const seq = seqArgument(seqText);
      await withNode(io, options, async (node) => {
        await dropQuarantinedItem(node.store, seq, operatorOf(io), new Date());
        writeLine(io.stdout, `Dropped item ${seq}`);
      });
    });

  return command;
}
