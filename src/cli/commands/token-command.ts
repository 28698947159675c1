import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { formatTokenGrants, parseTokenGrants } from '../../policy/token-grants.ts';
import { formatTokenSecret, hashTokenSecret } from '../../policy/token-secret.ts';
import { findCollection, homeSightingsCollectionOf } from '../../bootstrap-node.ts';
import type { CollectionGrant } from '../../store/object-store.ts';

interface CreateOptions extends NodeLocationOptions {
  name: string;
  collections?: string;
  admin?: boolean;
  org?: string;
}

const tokenNamePattern = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function tokenCommand(io: CliIo): Command {
  const command = new Command('token').description('issue, list and revoke API tokens');

  command
    .command('create')
    .description('issue a token; its secret is printed once and never stored')
    .requiredOption('--name <name>', 'unique name, shown in logs and audit instead of the secret')
    .option('--collections <grants>', 'grants as COLLECTION:r|w|rw, comma-separated (ids or aliases)')
    .option('--admin', 'node administrator: every collection, every command')
    .option('--org <identity-id>', 'the partner organisation the token acts for (see entente org list); default: the home organisation')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ entente token create --name cert-fr-pull --collections default:r,ransomware-2026:rw\n' +
        '  $ entente token create --name soc-analyst --collections home-sightings:r\n\n' +
        'Present the token as "Authorization: Bearer <secret>" or as the password of HTTP Basic auth.\n' +
        'No token is granted home-sightings (the sightings of matches on indicators only circles hold, with the\n' +
        'values matched) unless given here; its reader learns every such indicator matched. Never to a partner (--org).',
    )
    .action(async (options: CreateOptions) => {
      if (!tokenNamePattern.test(options.name)) {
        throw new EntenteError('ENT_TOKEN_INVALID', `token name "${options.name}" must be 1-64 letters, digits, ".", "_", "@" or "-"`);
      }
      if (options.collections === undefined && options.admin !== true) {
        throw new EntenteError('ENT_TOKEN_INVALID', 'give --collections C1:rw,C2:r (or --admin for an administrator token)');
      }
      let requested: CollectionGrant[] = [];
      if (options.collections !== undefined) {
        const parsed = parseTokenGrants(options.collections);
        if (!parsed.ok) throw new EntenteError('ENT_TOKEN_INVALID', `--collections: ${parsed.error}`);
        requested = parsed.value;
      }
      if (options.org !== undefined && options.admin === true) {
        throw new EntenteError('ENT_TOKEN_INVALID', 'an administrator token acts for the home organisation; leave out --org or --admin');
      }
      await withNode(io, options, async (node) => {
        const homeId = node.identity.homeOrganisation.id;
        if (options.org !== undefined && options.org !== homeId && (await node.store.getOrganisation(options.org)) === undefined) {
          throw new EntenteError('ENT_ORG_NOT_FOUND', `--org: no organisation ${options.org} (register it with entente org add)`);
        }
        const grants: CollectionGrant[] = [];
        const homeSightings = await homeSightingsCollectionOf(node.store);
        for (const grant of requested) {
          const collection = await findCollection(node.store, grant.collectionId);
          if (collection === undefined) {
            throw new EntenteError('ENT_COLLECTION_NOT_FOUND', `--collections: no collection "${grant.collectionId}" (see entente collection list)`);
          }
          // The release decision gives a partner nothing of it anyway (it carries no circle): a grant
          // would only list it to the partner, and says the administrator meant something it cannot do.
          if (collection.id === homeSightings && options.org !== undefined && options.org !== homeId) {
            throw new EntenteError(
              'ENT_TOKEN_INVALID',
              `--collections: ${grant.collectionId} is the home sightings collection, for the home organisation's readers alone; a partner token receives through circles only`,
            );
          }
          grants.push({ ...grant, collectionId: collection.id });
        }
        const secret = formatTokenSecret(randomBytes(32));
        await node.store.createToken({
          name: options.name,
          secretHash: hashTokenSecret(secret),
          admin: options.admin === true,
          grants,
          organisationId: options.org ?? homeId,
          createdAt: new Date().toISOString(),
          revokedAt: undefined,
        });
        io.stderr.write(`Token "${options.name}" created. Its secret is shown only now:\n`);
        writeLine(io.stdout, secret);
      });
    });

  command
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print JSON')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente token list')
    .action(async (options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const tokens = (await node.store.listTokens()).map(({ secretHash: _secretHash, ...visible }) => visible);
        if (options.json === true) {
          writeLine(io.stdout, JSON.stringify(tokens, null, 2));
          return;
        }
        writeLine(io.stdout, ['NAME', 'ROLE', 'GRANTS', 'ACTS FOR', 'CREATED', 'STATE'].join('\t'));
        for (const token of tokens) {
          writeLine(
            io.stdout,
            [
              token.name,
              token.admin ? 'admin' : 'member',
              token.admin ? '*' : formatTokenGrants(token.grants),
              token.organisationId ?? '-',
              token.createdAt,
              token.revokedAt === undefined ? 'active' : `revoked ${token.revokedAt}`,
            ].join('\t'),
          );
        }
      });
    });

  command
    .command('revoke')
    .description('revoke a token at once; its name stays reserved')
    .argument('<name>', 'token name')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente token revoke cert-fr-pull')
    .action(async (name: string, options: NodeLocationOptions) => {
      await withNode(io, options, async (node) => {
        const revoked = await node.store.revokeToken(name, new Date());
        writeLine(io.stdout, `Revoked token "${revoked.name}" at ${revoked.revokedAt ?? ''}`);
      });
    });
  return command;
}
