import { Command } from 'commander';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { toReceivedRecallJson } from '../../federation/recall-receive.ts';

const MAX_LIMIT = 10_000;

interface ReceivedOptions extends NodeLocationOptions {
  circle?: string;
  limit: string;
  json?: boolean;
}

/** Text another node wrote, on one line and at most so long, for a terminal. */
function oneLine(text: string, max = 200): string {
  let flat = '';
  for (const char of text) flat += char < ' ' || char === '\u007f' ? ' ' : char;
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * `entente recalls received`: the recalls other nodes sent here and what each did. What this node
 * sent, and who confirmed, is `entente circle recalls` (the coordinator's queue).
 */
export function recallsCommand(io: CliIo): Command {
  const command = new Command('recalls').description('recalls other nodes sent here: what each removed, and where those versions had come from');

  command
    .command('received')
    .description('list the recalls this node received that removed something here, newest first: sender, reason, versions removed, kept and absent')
    .option('--circle <id>', 'only this circle')
    .option('--limit <n>', `how many (1 to ${MAX_LIMIT})`, '100')
    .option('--json', 'print JSON lines: every version named, with its outcome and provenance, and the signed recall as received')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExample:\n  $ entente recalls received --circle grid-2026\n  $ entente recalls received --json | jq \'.versions[] | select(.outcome == "removed")\'\n\n' +
        "A version is removed from the circle's collection, kept (the home organisation's own objects stay, whoever\n" +
        'asks) or absent (not held there when the recall came). Recalls this node sent: entente circle recalls.',
    )
    .action(async (options: ReceivedOptions) => {
      const limit = /^[0-9]{1,6}$/.test(options.limit) ? Number(options.limit) : Number.NaN;
      if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new EntenteError('ENT_CLI_USAGE', `--limit must be a whole number from 1 to ${MAX_LIMIT}, not "${options.limit.slice(0, 32)}"`);
      await withNode(io, options, async (node) => {
        const circleId = options.circle;
        if (circleId !== undefined && (await node.store.getCircle(circleId)) === undefined) {
          throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `--circle: no circle ${circleId.slice(0, 120)}`);
        }
        const recalls = await node.store.listReceivedRecalls({ ...(circleId === undefined ? {} : { circleId }), limit });
        if (options.json === true) {
          for (const recall of recalls) writeLine(io.stdout, JSON.stringify(toReceivedRecallJson(recall)));
          return;
        }
        writeLine(io.stdout, ['SEQ', 'RECEIVED', 'CIRCLE', 'SENDER', 'AUTHORITY', 'REMOVED', 'KEPT', 'ABSENT', 'REASON'].join('\t'));
        for (const recall of recalls) {
          const count = (outcome: string): string => String(recall.versions.filter((version) => version.outcome === outcome).length);
          writeLine(
            io.stdout,
            [recall.seq, recall.receivedAt, recall.circleId, recall.senderOrganisationId, recall.authority, count('removed'), count('kept'), count('absent'), oneLine(recall.reason)].join('\t'),
          );
        }
      });
    });

  return command;
}
