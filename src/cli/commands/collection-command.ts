import { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { defaultCollectionAlias, homeSightingsCollectionAlias } from '../../bootstrap-node.ts';

interface CreateOptions extends NodeLocationOptions {
  title: string;
  description?: string;
  alias?: string;
}

/** Collection ids travel in TAXII URLs: keep them to characters that need no escaping. */
const collectionIdPattern = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;

/**
 * The names of the node's own collections, never given to another: lookups try ids before aliases, so
 * a collection by such a name would take over the grants (`--collections home-sightings:r`) and imports
 * that name the node's. The store refuses any name another collection answers to; these are refused
 * even where the node's collection goes by its id alone (an older data directory whose alias was taken).
 */
const reservedCollectionNames: ReadonlyMap<string, string> = new Map([
  [defaultCollectionAlias, 'the default collection'],
  [homeSightingsCollectionAlias, 'the home sightings collection'],
]);

function refuseReservedName(name: string, as: 'id' | 'alias'): void {
  const owner = reservedCollectionNames.get(name);
  if (owner !== undefined) {
    throw new EntenteError('ENT_COLLECTION_EXISTS', `"${name}" names ${owner} of the node: choose another ${as}`);
  }
}

export function collectionCommand(io: CliIo): Command {
  const command = new Command('collection').description('create and list TAXII collections');

  command
    .command('create')
    .description('create a collection')
    .argument('[id]', 'collection id (letters, digits, . _ ~ -); a UUID is generated when omitted')
    .requiredOption('--title <title>', 'human-readable title')
    .option('--description <text>', 'what the collection holds')
    .option('--alias <alias>', "short alias usable instead of the id (not another collection's id or alias, nor default or home-sightings)")
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente collection create ransomware-2026 --title "Ransomware 2026" --description "Shared with the ISAC"')
    .action(async (id: string | undefined, options: CreateOptions) => {
      const collectionId = id ?? randomUUID();
      if (!collectionIdPattern.test(collectionId)) {
        throw new EntenteError(
          'ENT_COLLECTION_INVALID',
          `collection id "${collectionId}" must be 1-128 letters, digits, ".", "_", "~" or "-", starting with a letter or digit`,
        );
      }
      if (options.title.trim() === '') throw new EntenteError('ENT_COLLECTION_INVALID', 'the collection title must not be empty');
      refuseReservedName(collectionId, 'id');
      if (options.alias !== undefined) refuseReservedName(options.alias, 'alias');
      await withNode(io, options, async (node) => {
        const created = await node.store.createCollection(
          {
            id: collectionId,
            title: options.title,
            ...(options.description !== undefined ? { description: options.description } : {}),
            ...(options.alias !== undefined ? { alias: options.alias } : {}),
          },
          new Date(),
        );
        writeLine(io.stdout, `Created collection ${created.id} "${created.title}"`);
      });
    });

  command
    .command('list')
    .description('list collections with their object counts')
    .option('--json', 'print JSON')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente collection list --json')
    .action(async (options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const collections = await node.store.listCollections();
        const rows = await Promise.all(
          collections.map(async (collection) => ({ ...collection, ...(await node.store.countEntries(collection.id)) })),
        );
        if (options.json === true) {
          writeLine(io.stdout, JSON.stringify(rows, null, 2));
          return;
        }
        writeLine(io.stdout, ['ID', 'ALIAS', 'OBJECTS', 'VERSIONS', 'TITLE'].join('\t'));
        for (const row of rows) {
          writeLine(io.stdout, [row.id, row.alias ?? '-', row.objects, row.versions, row.title].join('\t'));
        }
      });
    });
  return command;
}
