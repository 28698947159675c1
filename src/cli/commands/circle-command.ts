import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { parseTimeOption, withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import {
  circleView,
  createCircle,
  end,
  invite,
  promote,
  proposeAgreement,
  queueRecallsOfEndedCircles,
  visibleCircles,
  type CircleActor,
  type CircleDeps,
} from '../../circles/circle-operations.ts';
import type { OpenedNode } from '../../compose.ts';
import { acceptOrForward, circleHolding, counterOrForward, leaveOrForward, type CoordinatorLinkDeps, type Forwarded } from '../../federation/coordinator-link.ts';
import { openTaxiiClient } from '../../taxii/taxii-client.ts';
import { parseJson } from '../../stix/parse-json.ts';

const dataOption = ['--data <dir>', 'data directory (env ENTENTE_DATA)'] as const;

function depsOf(node: OpenedNode): { deps: CircleDeps; admin: CircleActor } {
  const home = node.identity.homeOrganisation.id;
  // The command line is the node operator: it acts as the administrator, for the home organisation.
  return { deps: { store: node.store, clock: () => new Date(), homeOrganisationId: home }, admin: { organisationId: home, admin: true } };
}

function linkDepsOf(node: OpenedNode): CoordinatorLinkDeps {
  return { ...depsOf(node).deps, openClient: openTaxiiClient };
}

/**
 * The organisation a member's action is for: on a circle mirrored from its coordinator's node, this
 * node's own (the default); on a circle coordinated here, the member named with --org.
 */
async function memberOf(deps: CoordinatorLinkDeps, circleId: string, org: string | undefined): Promise<string> {
  if (org !== undefined) return org;
  if ((await circleHolding(deps, circleId)).kind !== 'here') return deps.homeOrganisationId;
  throw new EntenteError('ENT_CLI_USAGE', `--org is required: circle ${circleId.slice(0, 120)} is not mirrored from a coordinator's node, so name the member organisation the action is for`);
}

/** Where the action was carried out, for the line printed. */
function onCoordinator(forwarded: Forwarded): string {
  const name = forwarded.coordinatorName === undefined ? forwarded.coordinatorId : `${forwarded.coordinatorName}, ${forwarded.coordinatorId}`;
  return `on the coordinator's node (${name}) through peer ${forwarded.peer}`;
}

function warnIfStale(io: CliIo, forwarded: Forwarded): void {
  if (forwarded.refreshError === undefined) return;
  io.stderr.write(`warning: the circle here could not be refreshed (${forwarded.refreshError.code}: ${forwarded.refreshError.message}); the next sync with peer ${forwarded.peer} refreshes it\n`);
}

async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const parsed = parseJson(text, { maxDepth: 64, maxBytes: 1024 * 1024 });
  if (!parsed.ok) throw new EntenteError(parsed.error.code, `${path}: ${parsed.error.message}`);
  return parsed.value;
}

/** A STIX (RFC 3339, UTC) timestamp: no local times, no rolled-over dates such as February 30. */
async function requireOrganisation(node: OpenedNode, organisationId: string, option: string): Promise<void> {
  if (organisationId === node.identity.homeOrganisation.id) return;
  if ((await node.store.getOrganisation(organisationId)) === undefined) {
    throw new EntenteError('ENT_ORG_NOT_FOUND', `${option}: no organisation ${organisationId.slice(0, 120)} (see entente org list)`);
  }
}

interface CreateOptions extends NodeLocationOptions {
  name: string;
  description?: string;
  kind: string;
  visibility: string;
  defaultTlp: string;
  collection?: string;
  from?: string;
  until?: string;
  review?: string;
}

export function circleCommand(io: CliIo): Command {
  const command = new Command('circle').description('alliances: create circles, invite members, propose and accept terms, end them');

  command
    .command('create')
    .description('create a circle coordinated by the home organisation, with its own TAXII collection')
    .argument('<id>', 'circle id (letters, digits, . _ : ~ -)')
    .requiredOption('--name <name>', 'display name')
    .option('--description <text>', 'what the circle is for')
    .option('--kind <kind>', 'formal (needs --review) or tacit (needs --until)', 'tacit')
    .option('--visibility <visibility>', 'open, or hidden (a member sees only the coordinators and itself)', 'open')
    .option('--default-tlp <level>', 'TLP for objects without a marking: green, amber, amber+strict or red (never clear)', 'amber')
    .option(
      '--collection <id>',
      'existing collection to carry the circle (default: a new collection named after the circle); never the default collection, nor one holding home sightings, nor home-sightings: what it holds goes to the members',
    )
    .option('--from <time>', 'start (RFC 3339; default now)')
    .option('--until <time>', 'end (RFC 3339); required for tacit circles')
    .option('--review <time>', 'review date (RFC 3339); required for formal circles')
    .option(...dataOption)
    .addHelpText(
      'after',
      '\nExample:\n  $ entente circle create grid-2026 --name "Grid operators 2026" --kind tacit --visibility hidden \\\n' +
        '      --default-tlp amber --until 2026-12-31T00:00:00Z',
    )
    .action(async (id: string, options: CreateOptions) => {
      parseTimeOption(options.from, '--from');
      parseTimeOption(options.until, '--until');
      parseTimeOption(options.review, '--review');
      await withNode(io, options, async (node) => {
        const { deps } = depsOf(node);
        const circle = await createCircle(deps, {
          id,
          name: options.name,
          ...(options.description === undefined ? {} : { description: options.description }),
          kind: options.kind,
          visibility: options.visibility,
          default_tlp: options.defaultTlp,
          ...(options.collection === undefined ? {} : { collection_id: options.collection }),
          ...(options.from === undefined ? {} : { valid_from: options.from }),
          ...(options.until === undefined ? {} : { valid_until: options.until }),
          ...(options.review === undefined ? {} : { review_at: options.review }),
        });
        writeLine(io.stdout, `Created ${circle.kind} circle ${circle.id} on collection ${circle.collectionId}; next: entente circle propose ${circle.id} --terms FILE`);
      });
    });

  command
    .command('list')
    .description('list the circles of this node')
    .option('--json', 'print JSON')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente circle list')
    .action(async (options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const { deps, admin } = depsOf(node);
        const circles = await visibleCircles(deps, admin);
        if (options.json === true) {
          writeLine(io.stdout, JSON.stringify(await Promise.all(circles.map((circle) => circleView(deps, admin, circle.id))), null, 2));
          return;
        }
        writeLine(io.stdout, ['ID', 'KIND', 'VISIBILITY', 'MEMBERS', 'FROM', 'UNTIL', 'NAME'].join('\t'));
        for (const circle of circles) {
          const current = circle.members.filter((member) => member.leftAt === undefined).length;
          writeLine(io.stdout, [circle.id, circle.kind, circle.visibility, String(current), circle.validFrom, circle.validUntil ?? '-', circle.name].join('\t'));
        }
      });
    });

  command
    .command('show')
    .description('show a circle: members, agreement versions and acceptances (JSON)')
    .argument('<id>', 'circle id')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente circle show grid-2026')
    .action(async (id: string, options: NodeLocationOptions) => {
      await withNode(io, options, async (node) => {
        const { deps, admin } = depsOf(node);
        writeLine(io.stdout, JSON.stringify(await circleView(deps, admin, id), null, 2));
      });
    });

  command
    .command('invite')
    .description("add an organisation to a circle; it receives nothing until it accepts the terms, and another member's contributions only once that member accepts terms after it joined")
    .argument('<id>', 'circle id')
    .requiredOption('--org <identity-id>', 'the organisation (see entente org list)')
    .option('--role <role>', 'coordinator, contributor or consumer', 'consumer')
    .option('--trial', 'start small: CLEAR and GREEN indicators only, until promoted')
    .option(...dataOption)
    .addHelpText(
      'after',
      '\nExample:\n  $ entente circle invite grid-2026 --org identity--7d3c… --role contributor --trial\n' +
        '\nThe members already in agreed to terms without the newcomer: what each of them contributed (before\n' +
        'and after the invitation) reaches the newcomer only once that member accepts terms again after it\n' +
        'joined. Propose the next version (the same terms will do) and ask them to accept it:\n' +
        '  $ entente circle propose grid-2026 --terms docs/examples/grid-terms.json\n' +
        "The coordinators' own contributions reach the newcomer as soon as it accepts (src/policy/README.md, rule 3a).",
    )
    .action(async (id: string, options: NodeLocationOptions & { org: string; role: string; trial?: boolean }) => {
      if (!['coordinator', 'contributor', 'consumer'].includes(options.role)) {
        throw new EntenteError('ENT_CLI_USAGE', `--role must be coordinator, contributor or consumer, not "${options.role}"`);
      }
      await withNode(io, options, async (node) => {
        const { deps, admin } = depsOf(node);
        const circle = await invite(deps, admin, id, { organisationId: options.org, role: options.role as 'consumer', trial: options.trial === true });
        writeLine(io.stdout, `Invited ${options.org} to circle ${id} as ${options.role}${options.trial === true ? ' (trial)' : ''}`);
        // Rule 3a of the release decision: the members already in (but coordinators) agreed to terms
        // without the newcomer, and their contributions wait for their word on it.
        const waiting = circle.members.filter((member) => member.organisationId !== options.org && member.role !== 'coordinator' && member.leftAt === undefined);
        if (waiting.length > 0) {
          writeLine(
            io.stderr,
            `What the ${waiting.length} other member(s) contributed reaches ${options.org} once each accepts terms after now: propose the next version (entente circle propose ${id} --terms …) for them to accept`,
          );
        }
      });
    });

  command
    .command('propose')
    .description('propose the next version of the circle\'s terms (JSON file holding the "terms" object)')
    .argument('<id>', 'circle id')
    .requiredOption('--terms <file>', 'JSON file: {"scope":{"types":[…]},"highest_tlp":…,"onward_sharing":…,"attribution":…,"expectations":{…},"end_rule":…}')
    .option(...dataOption)
    .addHelpText(
      'after',
      '\nWider onward_sharing applies to what members send after they accept it: what they sent under stricter terms stays under those (docs/federation.md).\n' +
        '\nExample:\n  $ entente circle propose grid-2026 --terms docs/examples/grid-terms.json',
    )
    .action(async (id: string, options: NodeLocationOptions & { terms: string }) => {
      const terms = await readJsonFile(options.terms);
      await withNode(io, options, async (node) => {
        const { deps, admin } = depsOf(node);
        const agreement = await proposeAgreement(deps, admin, id, terms);
        writeLine(io.stdout, `Proposed agreement v${agreement.version} for circle ${id}; members bind themselves with: entente circle accept ${id} --org ORG`);
      });
    });

  command
    .command('accept')
    .description("accept a version of the terms (the latest by default): on a circle mirrored from its coordinator's node, for this node's organisation, on that node (with this node's public keys), and only a version the mirror here holds (the latest it holds by default); on a circle coordinated here, record a member's acceptance (--org)")
    .argument('<id>', 'circle id')
    .option('--org <identity-id>', "the accepting organisation (default on a mirrored circle: this node's own; required on a circle coordinated here)")
    // Not --version: the program's own --version (print the release) would answer it instead.
    .option('--agreement-version <n>', 'agreement version (default: the latest; on a mirrored circle, the latest the mirror here holds)')
    .option(...dataOption)
    .addHelpText(
      'after',
      '\nExample:\n  $ entente circle accept grid-2026 --agreement-version 1            # a member\'s node, on its coordinator\'s node\n' +
        '  $ entente circle accept grid-2026 --org identity--7d3c… --agreement-version 1   # the coordinator records a member\'s acceptance',
    )
    .action(async (id: string, options: NodeLocationOptions & { org?: string; agreementVersion?: string }) => {
      const text = options.agreementVersion;
      if (text !== undefined && !/^[1-9]\d{0,6}$/.test(text)) {
        throw new EntenteError('ENT_CLI_USAGE', `--agreement-version must be a positive integer, not "${text.slice(0, 32)}"`);
      }
      const version = text === undefined ? undefined : Number(text);
      await withNode(io, options, async (node) => {
        const { admin } = depsOf(node);
        const deps = linkDepsOf(node);
        const org = await memberOf(deps, id, options.org);
        const accepted = await acceptOrForward(deps, admin, id, org, version);
        if (accepted.forwarded === undefined) {
          writeLine(io.stdout, `${org} accepted agreement v${accepted.version} of circle ${id} at ${accepted.acceptedAt}`);
          return;
        }
        writeLine(io.stdout, `${org} accepted agreement v${accepted.version} of circle ${id} at ${accepted.acceptedAt} ${onCoordinator(accepted.forwarded)}, with ${accepted.keysSent} public key(s) of this node`);
        warnIfStale(io, accepted.forwarded);
      });
    });

  command
    .command('counter')
    .description("counter the terms: the terms a member would accept instead (binds nobody; a coordinator may adopt them with propose). On a mirrored circle, for this node's organisation, on the coordinator's node")
    .argument('<id>', 'circle id')
    .option('--org <identity-id>', "the countering member (default on a mirrored circle: this node's own; required on a circle coordinated here)")
    .requiredOption('--terms <file>', 'JSON file holding the "terms" object it proposes')
    .option('--comment <text>', 'why (at most 2,000 characters)')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente circle counter grid-2026 --terms amber-only.json --comment "we cannot take RED"')
    .action(async (id: string, options: NodeLocationOptions & { org?: string; terms: string; comment?: string }) => {
      const terms = await readJsonFile(options.terms);
      await withNode(io, options, async (node) => {
        const { admin } = depsOf(node);
        const deps = linkDepsOf(node);
        const org = await memberOf(deps, id, options.org);
        const { counter, forwarded } = await counterOrForward(deps, admin, id, org, terms, options.comment);
        const where = forwarded === undefined ? '' : ` ${onCoordinator(forwarded)}`;
        writeLine(io.stdout, `${org} countered agreement v${counter.basedOnVersion} of circle ${id}${where}; it stays unbound until it accepts a version`);
        if (forwarded !== undefined) warnIfStale(io, forwarded);
      });
    });

  command
    .command('promote')
    .description('make a trial member a full member')
    .argument('<id>', 'circle id')
    .requiredOption('--org <identity-id>', 'the member')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente circle promote grid-2026 --org identity--7d3c…')
    .action(async (id: string, options: NodeLocationOptions & { org: string }) => {
      await withNode(io, options, async (node) => {
        const { deps, admin } = depsOf(node);
        await promote(deps, admin, id, options.org);
        writeLine(io.stdout, `${options.org} is now a full member of circle ${id}`);
      });
    });

  command
    .command('leave')
    .description("a member leaves now: releases to it stop at once; with the recall rule, recall notices are queued. On a mirrored circle, this node's organisation leaves, on the coordinator's node")
    .argument('<id>', 'circle id')
    .option('--org <identity-id>', "the leaving member (default on a mirrored circle: this node's own; required on a circle coordinated here)")
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente circle leave grid-2026 --org identity--7d3c…')
    .action(async (id: string, options: NodeLocationOptions & { org?: string }) => {
      await withNode(io, options, async (node) => {
        const { admin } = depsOf(node);
        const deps = linkDepsOf(node);
        const org = await memberOf(deps, id, options.org);
        const left = await leaveOrForward(deps, admin, id, org);
        if (left.forwarded === undefined) {
          writeLine(io.stdout, `${org} left circle ${id}; ${left.recalls} recall notices queued`);
          return;
        }
        writeLine(io.stdout, `${org} left circle ${id} at ${left.leftAt ?? '?'} ${onCoordinator(left.forwarded)}; the coordinator queued ${left.recalls} recall notices`);
        warnIfStale(io, left.forwarded);
      });
    });

  command
    .command('end')
    .description('end the circle now (or at --at): releases through it stop at that instant')
    .argument('<id>', 'circle id')
    .option('--at <time>', 'a later end instant (RFC 3339)')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente circle end grid-2026')
    .action(async (id: string, options: NodeLocationOptions & { at?: string }) => {
      const at = parseTimeOption(options.at, '--at');
      await withNode(io, options, async (node) => {
        const { deps, admin } = depsOf(node);
        const result = await end(deps, admin, id, at);
        writeLine(io.stdout, `Circle ${id} ends at ${result.circle.validUntil ?? '?'}; ${result.recalls} recall notices queued`);
      });
    });

  command
    .command('recalls')
    .description('list recall notices: queued, delivered to the member\'s node, acknowledged (versions removed there)')
    .argument('[circle]', 'only this circle (same as --circle)')
    .option('--circle <id>', 'only this circle')
    .option('--org <identity-id>', 'only this organisation')
    .option(...dataOption)
    .addHelpText('after', '\nExample:\n  $ entente circle recalls grid-2026\n\nOne JSON line per notice on stdout; per organisation, how many were delivered and acknowledged on stderr.')
    .action(async (circleArgument: string | undefined, options: NodeLocationOptions & { circle?: string; org?: string }) => {
      const circleId = options.circle ?? circleArgument;
      await withNode(io, options, async (node) => {
        if (circleId !== undefined && (await node.store.getCircle(circleId)) === undefined) {
          throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `--circle: no circle ${circleId.slice(0, 120)}`);
        }
        if (options.org !== undefined) await requireOrganisation(node, options.org, '--org');
        await queueRecallsOfEndedCircles(depsOf(node).deps);
        const notices = await node.store.listRecalls({
          ...(circleId === undefined ? {} : { circleId }),
          ...(options.org === undefined ? {} : { organisationId: options.org }),
        });
        for (const notice of notices) writeLine(io.stdout, JSON.stringify(notice));
        io.stderr.write(`${notices.length} recall notices\n`);
        const totals = new Map<string, { queued: number; delivered: number; acknowledged: number }>();
        for (const notice of notices) {
          const key = `${notice.circleId} ${notice.organisationId}`;
          const total = totals.get(key) ?? { queued: 0, delivered: 0, acknowledged: 0 };
          total.queued += 1;
          if (notice.deliveredAt !== undefined) total.delivered += 1;
          if (notice.acknowledgedAt !== undefined) total.acknowledged += 1;
          totals.set(key, total);
        }
        for (const [key, total] of totals) {
          io.stderr.write(`  ${key}: ${total.queued} queued, ${total.delivered} delivered, ${total.acknowledged} acknowledged\n`);
        }
      });
    });

  return command;
}
