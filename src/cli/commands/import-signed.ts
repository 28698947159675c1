// `entente import FILE --from ORG`: a signed bundle from an air-gapped Entente node of organisation
// ORG (federation/signed-bundle.ts), checked object by object with the keys pinned for ORG.
import { readFileSync, statSync } from 'node:fs';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { findCollection } from '../../bootstrap-node.ts';
import { importSignedBundle } from '../../federation/import-signed-bundle.ts';
import { isOrganisationId } from '../../federation/node-key.ts';
import { readSignedBundleHeader } from '../../federation/signed-bundle.ts';
import { DEFAULT_MAX_DEPTH, parseJson } from '../../stix/parse-json.ts';
import { readDocument } from '../../stix/read-documents.ts';

/** V8 cannot hold a string much beyond 512 MiB; a signed bundle is read whole. */
const LARGEST_SIGNED_BUNDLE = 500 * 1024 * 1024;

export interface SignedImportOptions extends NodeLocationOptions {
  readonly collection?: string | undefined;
  readonly quiet?: boolean | undefined;
  readonly from: string;
}

export async function importSignedFile(io: CliIo, inputs: readonly string[], options: SignedImportOptions): Promise<void> {
  if (!isOrganisationId(options.from)) throw new EntenteError('ENT_CLI_USAGE', `--from "${String(options.from as unknown).slice(0, 80)}" is not an organisation identity id (identity--<uuid>)`);
  const [file, ...others] = inputs;
  if (file === undefined || others.length > 0 || file === '-') throw new EntenteError('ENT_CLI_USAGE', '--from imports exactly one signed bundle file');
  let text: string;
  try {
    if (statSync(file).size > LARGEST_SIGNED_BUNDLE) throw new EntenteError('ENT_INPUT_TOO_LARGE', `${file} is larger than 500 MiB; ask the sender for smaller exports (--type, --added-after)`);
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    if (cause instanceof EntenteError) throw cause;
    throw new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
  const parsed = parseJson(text, { maxDepth: DEFAULT_MAX_DEPTH });
  if (!parsed.ok) throw new EntenteError(parsed.error.code, `${file}: ${parsed.error.message}`);
  const header = readSignedBundleHeader(parsed.value);
  if (!header.ok) throw new EntenteError('ENT_INPUT_NOT_ENVELOPE', `${file}: ${header.error}`);
  if (header.value !== undefined && header.value.organisationId !== options.from) {
    throw new EntenteError('ENT_CLI_USAGE', `${file} was exported by the node of ${header.value.organisationId}, not of ${options.from}`);
  }
  const read = readDocument(parsed.value);

  await withNode(io, options, async (node) => {
    const collection = options.collection === undefined ? node.identity.defaultCollection : await findCollection(node.store, options.collection);
    if (collection === undefined) throw new EntenteError('ENT_COLLECTION_NOT_FOUND', `no collection "${options.collection ?? ''}" (see entente collection list)`);
    if (header.value === undefined) writeLine(io.stderr, `${file} carries no node identity (x_entente_node): not an entente export --signed file; every object is checked all the same`);
    for (const problem of read.problems) if (options.quiet !== true) writeLine(io.stderr, `rejected ${file}: ${problem.message}`);
    const counts = await importSignedBundle(
      { store: node.store, clock: () => new Date(), homeOrganisationId: node.identity.homeOrganisation.id },
      { collectionId: collection.id, from: options.from, objects: read.objects.map((item) => item.object), header: header.value },
    );
    for (const key of counts.rotatedKeys) writeLine(io.stderr, `Pinned key ${key.keyId} of ${options.from}: its rotation statement is signed by a key pinned here (fingerprint ${key.fingerprint})`);
    for (const end of counts.endedKeys) writeLine(io.stderr, `Key ${end.keyId} of ${options.from} rotated out for ${end.rotatedTo}: trusted until ${end.validUntil} only`);
    const reasons = [...counts.reasons].map(([reason, count]) => `${reason}: ${count}`).join(', ');
    writeLine(
      io.stdout,
      `${counts.added} accepted, ${counts.duplicates} duplicate, ${counts.quarantined} quarantined${reasons === '' ? '' : ` (${reasons})`}, ${read.problems.length} rejected from ${options.from} into collection ${collection.id}`,
    );
    if (counts.quarantined > 0) writeLine(io.stderr, 'See entente quarantine list; release what you vouch for, drop the rest.');
    if (counts.quarantined > 0 || read.problems.length > 0) io.outcome.partialFailure = true;
  });
}
