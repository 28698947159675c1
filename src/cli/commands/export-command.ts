import { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { findCollection } from '../../bootstrap-node.ts';
import type { Recipient } from '../../policy/recipient.ts';
import { openReleaseGate } from '../../release/open-release-gate.ts';
import { parseMicroTimestamp } from '../../stix/micro-timestamp.ts';
import { toNodeIdentityDocument } from '../../federation/node-identity.ts';
import { signedBundleOpening } from '../../federation/signed-bundle.ts';

interface ExportOptions extends NodeLocationOptions {
  collection: string;
  addedAfter?: string;
  type?: string[];
  output?: string;
  allVersions?: boolean;
  for?: string;
  signed?: boolean;
}

const pageSize = 1000;

export function exportCommand(io: CliIo): Command {
  return new Command('export')
    .description('write the objects of a collection as one STIX 2.1 bundle')
    .requiredOption('--collection <id>', 'collection id or alias')
    .option('--added-after <timestamp>', 'only objects added to the collection after this time (RFC 3339)')
    .option('--type <type...>', 'only these STIX types (repeatable)')
    .option('--all-versions', 'every version of every object, not only the latest')
    .option('--for <organisation>', 'export what this partner organisation (identity id) may receive through the circle the collection carries; each release is audited')
    .option('--signed', "with --for: an Entente signed bundle for an air-gapped partner node, headed by this node's identity and keys (docs/federation.md)")
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ entente export --collection default --type indicator malware -o shared.json\n' +
        '  $ entente export --collection grid-circle --for identity--7d3c… -o for-grid-co.json   (hand-carried release to a partner)\n' +
        '  $ entente export --collection grid-circle --for identity--7d3c… --signed -o for-grid-co.json   (their node runs entente import FILE --from <our organisation>)\n\n' +
        'With --for, what the partner may receive leaves signed as it would over TAXII: versions this node\n' +
        'originated with its key, redacted ones as derived versions, received ones with their signatures.',
    )
    .action(async (options: ExportOptions) => {
      const addedAfter = options.addedAfter === undefined ? undefined : parseMicroTimestamp(options.addedAfter);
      if (options.addedAfter !== undefined && addedAfter === undefined) {
        throw new EntenteError('ENT_CLI_USAGE', `--added-after "${options.addedAfter ?? ''}" is not an RFC 3339 timestamp such as 2026-01-31T00:00:00Z`);
      }
      if (options.signed === true && options.for === undefined) {
        throw new EntenteError('ENT_CLI_USAGE', '--signed needs --for: a signed bundle is a release to one partner organisation');
      }
      await withNode(io, options, async (node) => {
        const collection = await findCollection(node.store, options.collection);
        if (collection === undefined) {
          throw new EntenteError('ENT_COLLECTION_NOT_FOUND', `no collection "${options.collection}" (see entente collection list)`);
        }
        // Without --for the command line acts as the node administrator (the home organisation); with
        // it, the export is a release to that partner and goes through the circle rules and the audit.
        const home = node.identity.homeOrganisation.id;
        const forPartner = options.for !== undefined && options.for !== home;
        if (options.signed === true && !forPartner) throw new EntenteError('ENT_CLI_USAGE', '--signed is for a partner organisation, not the home organisation');
        if (forPartner && (await node.store.getOrganisation(options.for ?? '')) === undefined) {
          throw new EntenteError('ENT_ORG_NOT_FOUND', `no partner organisation ${options.for ?? ''} (see entente org list)`);
        }
        const recipient: Recipient = forPartner
          ? { name: `cli-export-for-${options.for ?? ''}`, organisationId: options.for ?? '', admin: false, actsForHome: false, grants: [{ collectionId: collection.id, read: true, write: false }] }
          : { name: 'cli-export', organisationId: home, admin: true, actsForHome: true, grants: [] };
        // A release to a partner leaves signed, through the same gate and signer as TAXII reads. One
        // gate for each page, opened when the page is read: an export lasts as long as its reader
        // takes (a pipe, a slow disk), and a gate kept from the start would go on releasing after the
        // circle ended or the partner left, audited at the start — outside the recall queued then.
        const gateNow = () => openReleaseGate(node.store, recipient, collection.id, new Date(), forPartner ? { signer: node.releaseSigner } : {});
        const output: Writable = options.output === undefined ? io.stdout : createWriteStream(options.output, { flags: 'wx' });
        const filter = {
          ...(options.type !== undefined ? { types: options.type } : {}),
          ...(addedAfter !== undefined ? { addedAfter } : {}),
          ...(options.allVersions === true ? { versions: [{ kind: 'all' as const }] } : {}),
        };
        let written = 0;
        if (options.signed === true) {
          await write(output, signedBundleOpening(`bundle--${randomUUID()}`, toNodeIdentityDocument(node.identity.homeOrganisation, await node.store.listNodeKeys())));
        } else {
          await write(output, `{"type":"bundle","id":"bundle--${randomUUID()}","objects":[`);
        }
        let after: number | undefined;
        for (;;) {
          const page = await node.store.listEntries(collection.id, filter, { limit: pageSize, ...(after !== undefined ? { after } : {}) });
          let chunk = '';
          for (const entry of (await (await gateNow()).release(page.entries)).released) {
            chunk += (written === 0 ? '\n' : ',\n') + entry.json;
            written += 1;
          }
          if (chunk !== '') await write(output, chunk);
          const last = page.entries.at(-1);
          if (!page.more || last === undefined) break;
          after = last.dateAdded;
        }
        await write(output, '\n]}\n');
        if (output !== io.stdout) {
          output.end();
          await once(output, 'finish');
        }
        io.stderr.write(`Exported ${written} objects from collection ${collection.id}${options.output ? ` to ${options.output}` : ''}\n`);
      });
    });
}

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
