import { Command } from 'commander';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { parseTimeOption, withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { FIRST_KEY_VALID_FROM, manualPin, rotateNodeKey, toPublicNodeKeys } from '../../federation/node-key-lifecycle.ts';
import { fingerprintOf } from '../../federation/node-key.ts';

const DURATION = /^([0-9]{1,6})(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A rotation overlap longer than this is almost certainly a typo (and keeps a possibly compromised key alive). */
const MAX_OVERLAP_MS = 365 * 86_400_000;

/** `30s`, `15m`, `12h`, `7d` → milliseconds; ENT_CLI_USAGE naming the option otherwise. */
export function parseDurationOption(text: string, option: string): number {
  const match = DURATION.exec(text);
  const ms = match === null ? undefined : Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
  if (ms === undefined || ms > MAX_OVERLAP_MS) {
    throw new EntenteError('ENT_CLI_USAGE', `${option} "${text.slice(0, 32)}" must be a duration such as 30s, 15m, 12h or 7d (at most 365d)`);
  }
  return ms;
}

export function keyCommand(io: CliIo): Command {
  const command = new Command('key').description("the node's Ed25519 signing keys, and keys pinned for other organisations");

  command
    .command('show')
    .description("show this node's public keys: key id, fingerprint, validity (never the private key)")
    .option('--json', 'print JSON')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExample:\n  $ entente key show\n\n' +
        'Give a partner the fingerprint over a channel you trust (in person, by phone); it is what\n' +
        '`entente peer add --fingerprint` and `entente key pin` check on their side.',
    )
    .action(async (options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const keys = toPublicNodeKeys(await node.store.listNodeKeys(), new Date());
        if (options.json === true) {
          const rows = keys.map((key) => ({
            key_id: key.keyId,
            public_key: key.publicKey,
            fingerprint: key.fingerprint,
            valid_from: key.validFrom,
            valid_until: key.validUntil ?? null,
            current: key.current,
            rotated_in: key.rotationStatement !== undefined,
          }));
          writeLine(io.stdout, JSON.stringify({ organisation_id: node.identity.homeOrganisation.id, keys: rows }, null, 2));
          return;
        }
        writeLine(io.stdout, `Organisation ${node.identity.homeOrganisation.id}`);
        for (const key of keys) {
          writeLine(io.stdout);
          writeLine(io.stdout, `key ${key.keyId}${key.current ? '  (signs now)' : ''}`);
          writeLine(io.stdout, `  fingerprint  ${key.fingerprint}`);
          writeLine(io.stdout, `  public key   ${key.publicKey}`);
          writeLine(io.stdout, `  valid        ${key.validFrom} – ${key.validUntil ?? 'until rotated'}`);
          if (key.rotationStatement !== undefined) writeLine(io.stdout, '  rotated in   with a statement signed by the key before it');
        }
      });
    });

  command
    .command('rotate')
    .description('make a new key that signs from now on; the old one stays valid for the overlap')
    .option('--overlap <duration>', 'how long the old key stays valid (30s, 15m, 12h, 7d)', '7d')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExample:\n  $ entente key rotate --overlap 7d\n\n' +
        'The new key is published at GET /api/federation/node with a rotation statement signed by the old\n' +
        'key, so peers that pinned the old key accept the new one without asking anyone. A running node\n' +
        'signs with the new key within 30 seconds. Versions modified before now keep being signed with\n' +
        'the key of their time, which is what receivers check.',
    )
    .action(async (options: NodeLocationOptions & { overlap: string }) => {
      const overlapMs = parseDurationOption(options.overlap, '--overlap');
      await withNode(io, options, async (node) => {
        const outcome = await rotateNodeKey(node.store, { organisationId: node.identity.homeOrganisation.id, now: new Date(), overlapMs });
        node.signers.invalidate();
        writeLine(io.stdout, `New key ${outcome.created.keyId} signs from ${outcome.created.validFrom}`);
        writeLine(io.stdout, `  fingerprint  ${fingerprintOf(outcome.created.publicKey)}`);
        writeLine(io.stdout, `Key ${outcome.previous.keyId} stays valid until ${outcome.previousValidUntil}`);
      });
    });

  command
    .command('pin')
    .description("pin an organisation's node key by hand (air-gapped exchange); check its fingerprint first")
    .argument('<organisation>', 'the organisation (identity id), a partner known to this node (entente org list)')
    .requiredOption('--public-key <key>', 'the raw Ed25519 public key, 43 characters of base64url (its entente key show)')
    .option('--valid-from <timestamp>', `from when the key may sign versions (default ${FIRST_KEY_VALID_FROM}: a first key covers everything before it)`)
    .option('--valid-until <timestamp>', 'until when (default: open)')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExample:\n  $ entente key pin identity--7d3c… --public-key 2xN0…\n\n' +
        'Prints the key id and fingerprint: compare the fingerprint with the one the partner reads out\n' +
        'from `entente key show` before you import anything signed with it. Pinning the same key again\n' +
        'updates its validity window.',
    )
    .action(async (organisation: string, options: NodeLocationOptions & { publicKey: string; validFrom?: string; validUntil?: string }) => {
      const validFrom = options.validFrom === undefined ? FIRST_KEY_VALID_FROM : (parseTimeOption(options.validFrom, '--valid-from') ?? new Date(0)).toISOString();
      const validUntil = parseTimeOption(options.validUntil, '--valid-until')?.toISOString();
      const pin = manualPin({ organisationId: organisation, publicKey: options.publicKey, validFrom, validUntil, now: new Date() });
      await withNode(io, options, async (node) => {
        if (organisation === node.identity.homeOrganisation.id) throw new EntenteError('ENT_CLI_USAGE', "this node's own keys are not pinned; see entente key show");
        if ((await node.store.getOrganisation(organisation)) === undefined) {
          throw new EntenteError('ENT_ORG_NOT_FOUND', `no partner organisation ${organisation} (add it first: entente org add)`);
        }
        await node.store.pinKey(pin);
        writeLine(io.stdout, `Pinned key ${pin.keyId} for ${organisation}, valid ${pin.validFrom} – ${pin.validUntil ?? 'open'}`);
        writeLine(io.stdout, `  fingerprint  ${fingerprintOf(pin.publicKey)}`);
      });
    });

  command
    .command('pinned')
    .description('list the keys pinned for other organisations')
    .argument('[organisation]', 'only this organisation')
    .option('--json', 'print JSON lines')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente key pinned identity--7d3c…')
    .action(async (organisation: string | undefined, options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const keys = await node.store.listPinnedKeys(organisation);
        if (options.json !== true) writeLine(io.stdout, ['ORGANISATION', 'KEY_ID', 'VALID_FROM', 'VALID_UNTIL', 'SOURCE', 'FINGERPRINT'].join('\t'));
        for (const key of keys) {
          if (options.json === true) {
            writeLine(io.stdout, JSON.stringify({ organisation_id: key.organisationId, key_id: key.keyId, public_key: key.publicKey, fingerprint: fingerprintOf(key.publicKey), valid_from: key.validFrom, valid_until: key.validUntil ?? null, source: key.source, pinned_at: key.pinnedAt }));
          } else {
            writeLine(io.stdout, [key.organisationId, key.keyId, key.validFrom, key.validUntil ?? '-', key.source, fingerprintOf(key.publicKey)].join('\t'));
          }
        }
      });
    });

  return command;
}
