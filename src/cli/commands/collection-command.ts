import { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';

interface CreateOptions extends NodeLocationOptions {
  title: string;
  description?: string;
  alias?: string;
}

/** Collection ids travel in TAXII URLs: keep them to characters that need no escaping. */
const collectionIdPattern = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;

export function collectionCommand(io: CliIo): Command {
  const command = new Command('collection').description('create and list TAXII collections');

  command
    .command('create')
    .description('create a collection')
    .argument('[id]', 'collection id (letters, digits, . _ ~ -); a UUID is generated when omitted')
    .requiredOption('--title <title>', 'human-readable title')
    .option('--description <text>', 'what the collection holds')
    .option('--alias <alias>', 'short alias usable instead of the id')
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
