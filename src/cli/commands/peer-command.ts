import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import type { OpenedNode } from '../../compose.ts';
import { addedPeerJson, addPeer, listPeers, peerJson, peerStatus, peerStatusJson, removePeer, type PeerDeps, type PeerStatus } from '../../federation/peer-operations.ts';
import { openTaxiiClient } from '../../taxii/taxii-client.ts';

const dataOption = ['--data <dir>', 'data directory (env ENTENTE_DATA)'] as const;
/** Where a peer token may come from besides --token, which leaves it in the shell history. */
export const PEER_TOKEN_VARIABLE = 'ENTENTE_PEER_TOKEN';

export function peerDepsOf(node: OpenedNode): PeerDeps {
  return { store: node.store, clock: () => new Date(), homeOrganisationId: node.identity.homeOrganisation.id, openClient: openTaxiiClient };
}

/**
 * The token the peer issued to this node: `--token`, `--token-file` (its first line), or
 * ENTENTE_PEER_TOKEN — exactly one of them. Never printed.
 */
export function peerTokenOf(options: { token?: string; tokenFile?: string }, env: NodeJS.ProcessEnv): string {
  if (options.token !== undefined && options.tokenFile !== undefined) throw new EntenteError('ENT_CLI_USAGE', 'give the token with --token or --token-file, not both');
  if (options.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.tokenFile, 'utf8');
    } catch (cause) {
      throw new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${options.tokenFile}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
    }
    const token = text.split(/\r?\n/)[0] ?? '';
    if (token === '') throw new EntenteError('ENT_PEER_INVALID', `${options.tokenFile} holds no token on its first line`);
    return token;
  }
  const token = options.token ?? env[PEER_TOKEN_VARIABLE];
  if (token === undefined || token === '') {
    throw new EntenteError('ENT_CLI_USAGE', `the token the peer issued to this node is required: --token-file FILE, ${PEER_TOKEN_VARIABLE}, or --token`);
  }
  return token;
}

function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  if (!Number.isInteger(seconds)) return `${Math.round(seconds * 1000)}ms`;
  return `${seconds}s`;
}

function printStatus(io: CliIo, status: PeerStatus): void {
  writeLine(io.stdout, `${status.name}  ${status.kind} peer of circle ${status.circleId}, organisation ${status.organisationId}${status.push ? ', pull and push' : ', pull'}, every ${duration(status.intervalSeconds)}`);
  writeLine(io.stdout, `  lag: ${status.lagSeconds === undefined ? 'never synced' : `${status.lagSeconds} s`}   last success: ${status.lastSuccessAt ?? '-'}   consecutive failures: ${status.consecutiveFailures}`);
  writeLine(io.stdout, `  objects in: ${status.objectsIn}   out: ${status.objectsOut}   quarantined: ${status.quarantined}`);
  if (status.lastError !== undefined) writeLine(io.stdout, `  last error (${status.lastError.at}): ${status.lastError.code}: ${status.lastError.message}`);
  const cursor = status.pullCursor === undefined ? 'none (from the start)' : [status.pullCursor.addedAfter === undefined ? undefined : `added_after ${status.pullCursor.addedAfter}`, status.pullCursor.next === undefined ? undefined : `next ${status.pullCursor.next.slice(0, 60)}`].filter(Boolean).join(', ');
  writeLine(io.stdout, `  pull cursor: ${cursor}${status.push ? `   push cursor: ${status.pushCursor ?? 'none'}` : ''}`);
}

interface AddOptions extends NodeLocationOptions {
  circle: string;
  token?: string;
  tokenFile?: string;
  collection?: string;
  push?: boolean;
  interval?: string;
  silentAfter?: string;
  fingerprint?: string;
  organisation?: string;
  json?: boolean;
}

export function peerCommand(io: CliIo): Command {
  const command = new Command('peer').description('links to other TAXII 2.1 servers (Entente nodes or plain TAXII): add, list, status, remove');

  command
    .command('add')
    .description("link a collection on another TAXII 2.1 server to a local circle: pulled objects land in the circle's collection")
    .argument('<name>', 'a name for the link (a-z, 0-9, -)')
    .argument('<url>', "the peer's TAXII discovery URL (…/taxii2/) or API root URL")
    .requiredOption('--circle <id>', 'the local circle the link belongs to; a circle not here yet is mirrored from the peer when it coordinates it')
    .option('--token-file <file>', 'file whose first line is the token the peer issued to this node')
    .option('--token <token>', `the token itself (stays in the shell history: prefer --token-file or ${PEER_TOKEN_VARIABLE})`)
    .option('--collection <id>', "the collection on the peer (default: the one with the circle's collection id, else the only one the token can read)")
    .option('--push', "also push what the circle may release to the peer's organisation (needs write access)")
    .option('--interval <duration>', 'how often to sync: 500ms (the least), 30s, 5m, 1h … (default 5m)')
    .option('--silent-after <n>', 'raise a peer-silent notice after this many intervals without a successful sync (default 3)')
    .option('--fingerprint <hex>', "the peer's key fingerprint as `entente key show` prints it on the peer (else its keys are trusted on first use)")
    .option('--organisation <identity>', 'for a plain TAXII server: the organisation that runs it (a registered partner)')
    .option('--json', 'print JSON')
    .option(...dataOption)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ entente peer add grid-co https://taxii.grid.example/taxii2/ --circle wide --token-file grid.token --push \\\n' +
        "      --fingerprint '3b6a 27bc ce1b …'\n" +
        '  $ ENTENTE_PEER_TOKEN=… entente peer add isac https://isac.example/taxii2/ --circle wide --organisation identity--…\n\n' +
        'The peer is asked before anything is stored: its API root, the collection and what the token may do with it,\n' +
        'and whether it is an Entente node (GET /api/federation/node), whose keys are then pinned. The token is\n' +
        'stored for the sync and never printed.',
    )
    .action(async (name: string, url: string, options: AddOptions) => {
      const token = peerTokenOf(options, io.env);
      await withNode(io, options, async (node) => {
        const added = await addPeer(peerDepsOf(node), {
          name,
          url,
          token,
          circle: options.circle,
          ...(options.collection === undefined ? {} : { collection: options.collection }),
          push: options.push === true,
          ...(options.interval === undefined ? {} : { interval: options.interval }),
          ...(options.silentAfter === undefined ? {} : { silentAfter: options.silentAfter }),
          ...(options.fingerprint === undefined ? {} : { fingerprint: options.fingerprint }),
          ...(options.organisation === undefined ? {} : { organisation: options.organisation }),
        });
        if (options.json === true) {
          writeLine(io.stdout, JSON.stringify(addedPeerJson(added), null, 2));
          return;
        }
        const peer = added.peer;
        const who = `${peer.organisationId}${added.organisationName === undefined ? '' : ` (${added.organisationName})`}`;
        writeLine(io.stdout, `Added ${peer.kind} peer "${peer.name}" of ${who}: circle ${peer.circleId}, remote collection ${peer.remoteCollectionId}, ${peer.push ? 'pull and push' : 'pull'} every ${duration(peer.intervalSeconds)}`);
        if (added.mirror !== undefined) {
          const mirror = added.mirror;
          writeLine(io.stdout, `Mirrored circle ${mirror.circleId} from its coordinator: ${mirror.agreementsAdded} agreement version(s), ${mirror.acceptancesAdded} acceptance(s), ${mirror.keysPinned} member key(s)${mirror.collectionCreated ? `; created collection ${peer.localCollectionId}` : ''}`);
        }
        for (const key of added.pinned) {
          const how = key.source === 'fingerprint' ? 'matches the fingerprint given' : key.source === 'rotation' ? 'signed over by a trusted key' : 'trusted on first use: compare with `entente key show` on the peer';
          writeLine(io.stdout, `Pinned key ${key.keyId}: ${key.fingerprint} (${how})`);
        }
        for (const end of added.ended) writeLine(io.stdout, `Key ${end.keyId} rotated out for ${end.rotatedTo}: trusted until ${end.validUntil} only`);
        if (peer.kind === 'plain') writeLine(io.stdout, 'A plain TAXII server: unsigned objects are accepted only when the circle\'s agreement says unsigned_input: accept (else quarantined).');
      });
    });

  command
    .command('list')
    .description('list peers (never their tokens)')
    .option('--json', 'print JSON')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente peer list')
    .action(async (options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const peers = await listPeers({ store: node.store });
        if (options.json === true) {
          writeLine(io.stdout, JSON.stringify(peers.map(peerJson), null, 2));
          return;
        }
        writeLine(io.stdout, ['NAME', 'KIND', 'CIRCLE', 'ORGANISATION', 'MODE', 'INTERVAL', 'URL'].join('\t'));
        for (const peer of peers) writeLine(io.stdout, [peer.name, peer.kind, peer.circleId, peer.organisationId, peer.push ? 'pull+push' : 'pull', duration(peer.intervalSeconds), peer.url].join('\t'));
      });
    });

  command
    .command('status')
    .description('per peer: kind, circle, lag since the last successful sync, last error, consecutive failures, objects in/out/quarantined, cursors')
    .argument('[name]', 'only this peer')
    .option('--json', 'print JSON')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente peer status grid-co')
    .action(async (name: string | undefined, options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const statuses = await peerStatus({ store: node.store, clock: () => new Date() }, name);
        if (options.json === true) {
          writeLine(io.stdout, JSON.stringify(statuses.map(peerStatusJson), null, 2));
          return;
        }
        if (statuses.length === 0) writeLine(io.stdout, 'No peers (entente peer add)');
        for (const status of statuses) printStatus(io, status);
      });
    });

  command
    .command('remove')
    .description('remove a peer and its sync state (what it brought stays, with its provenance; pinned keys stay)')
    .argument('<name>', 'the peer name')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente peer remove grid-co')
    .action(async (name: string, options: NodeLocationOptions) => {
      await withNode(io, options, async (node) => {
        await removePeer({ store: node.store }, name);
        writeLine(io.stdout, `Removed peer "${name}"`);
      });
    });

  return command;
}
