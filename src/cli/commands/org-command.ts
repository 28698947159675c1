import { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { organisationKinds, parseOrganisationInput, toIdentityObject } from '../../policy/organisation.ts';
import type { OrganisationRecord } from '../../store/object-store.ts';

interface AddOptions extends NodeLocationOptions {
  kind: string;
  sector?: string[];
  country?: string;
  id?: string;
}

export function orgCommand(io: CliIo): Command {
  const command = new Command('org').description('register and list partner organisations');

  command
    .command('add')
    .description('register a partner organisation (a STIX identity of class organization)')
    .argument('<name>', 'the organisation name')
    .requiredOption('--kind <kind>', `one of ${organisationKinds.join(', ')}`)
    .option('--sector <sector...>', 'STIX industry sectors (repeatable), e.g. government-national financial-services')
    .option('--country <code>', 'ISO 3166-1 alpha-2 country code, e.g. FR')
    .option('--id <identity-id>', "the identity id the partner's own node uses (so its created_by_ref matches), in lower-case hex; generated when omitted")
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExample:\n  $ entente org add "CERT-FR" --kind cert --sector government-national --country FR \\\n' +
        '      --id identity--8c6af861-7b20-41ef-9b59-6344fd872a8f',
    )
    .action(async (name: string, options: AddOptions) => {
      const parsed = parseOrganisationInput({
        id: options.id ?? `identity--${randomUUID()}`,
        name,
        kind: options.kind,
        sectors: options.sector ?? [],
        country: options.country,
      });
      if (!parsed.ok) throw new EntenteError('ENT_ORG_INVALID', parsed.error.join('; '));
      await withNode(io, options, async (node) => {
        if (parsed.value.id === node.identity.homeOrganisation.id) {
          throw new EntenteError('ENT_ORG_EXISTS', `${parsed.value.id} is this node's home organisation`);
        }
        const createdAt = new Date().toISOString();
        const record: OrganisationRecord = {
          ...parsed.value,
          identityJson: JSON.stringify(toIdentityObject(parsed.value, createdAt)),
          createdAt,
        };
        await node.store.createOrganisation(record);
        writeLine(io.stdout, `Registered ${record.kind} organisation "${record.name}" as ${record.id}`);
      });
    });

  command
    .command('list')
    .description('list the home organisation and the registered partners')
    .option('--json', 'print JSON')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente org list')
    .action(async (options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const home = node.identity.homeOrganisation;
        const partners = await node.store.listOrganisations();
        if (options.json === true) {
          const rows = [
            { id: home.id, name: home['name'], home: true },
            ...partners.map(({ identityJson: _identityJson, ...partner }) => ({ ...partner, home: false })),
          ];
          writeLine(io.stdout, JSON.stringify(rows, null, 2));
          return;
        }
        writeLine(io.stdout, ['ID', 'ROLE', 'KIND', 'COUNTRY', 'SECTORS', 'NAME'].join('\t'));
        writeLine(io.stdout, [home.id, 'home', '-', '-', '-', String(home['name'])].join('\t'));
        for (const partner of partners) {
          writeLine(io.stdout, [partner.id, 'partner', partner.kind, partner.country ?? '-', partner.sectors.join(',') || '-', partner.name].join('\t'));
        }
      });
    });

  command
    .command('show')
    .description("print an organisation's STIX identity and the tokens that act for it")
    .argument('<id>', 'identity id')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente org show identity--8c6af861-7b20-41ef-9b59-6344fd872a8f')
    .action(async (id: string, options: NodeLocationOptions) => {
      await withNode(io, options, async (node) => {
        const home = node.identity.homeOrganisation;
        const partner = id === home.id ? undefined : await node.store.getOrganisation(id);
        if (id !== home.id && partner === undefined) {
          throw new EntenteError('ENT_ORG_NOT_FOUND', `no organisation ${id} (see entente org list)`);
        }
        const identity: unknown = partner === undefined ? home : JSON.parse(partner.identityJson);
        const tokens = (await node.store.listTokens())
          .filter((token) => (token.organisationId ?? home.id) === id)
          .map((token) => `${token.name}${token.revokedAt === undefined ? '' : ' (revoked)'}`);
        writeLine(io.stdout, JSON.stringify({ identity, home: partner === undefined, tokens }, null, 2));
      });
    });
  return command;
}
