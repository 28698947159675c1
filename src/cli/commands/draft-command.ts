import { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { terminalLine } from '../terminal-text.ts';
import type { OpenedNode } from '../../compose.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { assignDraft, decideOnDraft, listVisibleDrafts, publishDraft, requireDraft, type DraftDeps } from '../../drafts/draft-operations.ts';
import { describe } from '../../drafts/decide-draft-items.ts';
import { draftRevision, effectiveValue, type Draft, type DraftItem, type DraftSummary } from '../../drafts/draft.ts';
import { draftJson, itemJson, publicationJson, summaryJson } from '../../drafts/draft-json.ts';
import { TLP_LEVELS } from '../../policy/tlp.ts';

const dataOption = ['--data <dir>', 'data directory (env ENTENTE_DATA)'] as const;
const analystOption = ['--analyst <name>', 'who decides (default: $USER)'] as const;

function depsOf(node: OpenedNode): DraftDeps {
  return { store: node.store, clock: () => new Date(), randomUuid: randomUUID, homeOrganisationId: node.identity.homeOrganisation.id };
}

function analystOf(io: CliIo, analyst: string | undefined): string {
  return analyst ?? io.env['USER'] ?? io.env['USERNAME'] ?? 'operator';
}

/**
 * Item arguments: ids (`3`), ranges (`3-7`) and `pending` (every pending item). Ranges are
 * expanded against the draft, so that `1-1000000` cannot make a million ids.
 */
export function selectItems(draft: Draft, selectors: readonly string[]): string[] {
  const ids: string[] = [];
  for (const selector of selectors) {
    if (selector === 'pending') {
      ids.push(...draft.items.filter((item) => item.decision.state === 'pending').map((item) => item.id));
      continue;
    }
    const range = /^(\d{1,9})-(\d{1,9})$/.exec(selector);
    if (range !== null) {
      const from = Number(range[1]);
      const to = Number(range[2]);
      if (from > to) throw new EntenteError('ENT_CLI_USAGE', `item range ${selector} runs backwards`);
      const inRange = draft.items.filter((item) => Number(item.id) >= from && Number(item.id) <= to).map((item) => item.id);
      if (inRange.length === 0) throw new EntenteError('ENT_DRAFT_ITEM_NOT_FOUND', `draft ${draft.id} has no item in ${selector} (items are 1–${draft.items.length})`);
      ids.push(...inRange);
      continue;
    }
    ids.push(selector);
  }
  if (ids.length === 0) throw new EntenteError('ENT_CLI_USAGE', `nothing to decide: draft ${draft.id} has no item matching ${selectors.join(' ')}`);
  return ids;
}

function itemLine(item: DraftItem): string {
  const shown = effectiveValue(item).replace(/\s+/g, ' ');
  const value = shown.length > 100 ? `${shown.slice(0, 97)}…` : shown;
  const name = item.name === undefined ? '' : ` ${item.name}`;
  const edited = item.decision.state === 'edited' && item.decision.value !== item.value ? ` (was ${item.value.slice(0, 60)})` : '';
  const reason = item.decision.reason === undefined ? '' : `\t${item.decision.reason}`;
  const by = item.decision.analyst === undefined ? '' : `\tby ${item.decision.analyst}`;
  return `  ${item.id.padStart(3)}  ${item.decision.state.padEnd(8)} ${describe(item).padEnd(22)} ${value}${name}${edited}\t${item.method.source}:${item.method.detail} ${item.confidence}${by}${reason}`;
}

function summaryLine(summary: DraftSummary): string {
  const counts = summary.counts;
  const state = summary.publication === undefined ? `${counts.pending} pending` : `published ${summary.publication.publishedAt} to ${summary.publication.circleId ?? summary.publication.collectionId}`;
  return `${summary.id}\t${summary.source.fileName}\t${summary.title.slice(0, 60)}\t${counts.accepted + counts.edited} accepted, ${counts.rejected} rejected, ${state}`;
}

function printDraft(io: CliIo, draft: Draft, evidence: boolean): void {
  writeLine(io.stdout, terminalLine(`draft ${draft.id}: ${draft.title}`));
  writeLine(io.stdout, terminalLine(`  source: ${draft.source.fileName} (${draft.source.format}${draft.source.pages === undefined ? '' : `, ${draft.source.pages} pages`}), sha256 ${draft.source.sha256}`));
  writeLine(io.stdout, terminalLine(`  created ${draft.createdAt}${draft.createdBy === undefined ? '' : ` by ${draft.createdBy}`}`));
  writeLine(io.stdout, terminalLine(draft.createdByToken === undefined ? '  token: none (administrators only; entente draft assign gives it to one)' : `  token: ${draft.createdByToken} (and administrators)`));
  if (draft.publication !== undefined) {
    writeLine(io.stdout, terminalLine(`  published ${draft.publication.publishedAt} by ${draft.publication.analyst} as ${draft.publication.reportId} (TLP:${draft.publication.tlp.toUpperCase()}) in ${draft.publication.circleId === undefined ? `collection ${draft.publication.collectionId}` : `circle ${draft.publication.circleId}`}`));
  }
  if (draft.publication === undefined) writeLine(io.stdout, `  revision: ${draftRevision(draft.items)} (entente draft publish --revision publishes this state or nothing)`);
  for (const warning of draft.warnings) writeLine(io.stdout, terminalLine(`  warning: ${warning}`));
  for (const item of draft.items) {
    writeLine(io.stdout, terminalLine(itemLine(item)));
    if (evidence) {
      for (const found of item.evidence.slice(0, 2)) {
        const where = found.page !== undefined ? ` [page ${found.page}]` : found.part !== undefined ? ` [${found.part}]` : '';
        writeLine(io.stdout, terminalLine(`         “${found.sentence.slice(0, 200)}”${where}`));
      }
    }
  }
}

interface JsonOption extends NodeLocationOptions {
  json?: boolean;
}

interface DecideOptions extends NodeLocationOptions {
  analyst?: string;
  reason?: string;
  json?: boolean;
}

interface EditOptions extends NodeLocationOptions {
  analyst?: string;
  value?: string;
  pattern?: string;
  json?: boolean;
}

interface PublishOptions extends NodeLocationOptions {
  circle?: string;
  collection?: string;
  tlp?: string;
  analyst?: string;
  name?: string;
  rejectPending?: boolean;
  revision?: string;
  json?: boolean;
}

export function draftCommand(io: CliIo): Command {
  const command = new Command('draft')
    .description('review what extraction and tagging proposed from a report, then publish it as STIX to a circle')
    .addHelpText(
      'after',
      '\nExample (a report, reviewed and published in a few commands):\n' +
        '  $ entente extract apt-report.pdf --json          # prints "draft": 7\n' +
        '  $ entente draft show 7                           # items with their evidence\n' +
        '  $ entente draft reject 7 4 9 --reason "sinkhole"\n' +
        '  $ entente draft edit 7 3 --value 45.77.12.0/24\n' +
        '  $ entente draft accept 7 pending\n' +
        '  $ entente draft publish 7 --circle wide --tlp amber\n\n' +
        'Nothing automatic is published without a decision: publish refuses while items are pending\n' +
        '(unless --reject-pending). Items are numbered from 1; `3-7` is a range, `pending` every pending item.',
    );

  command
    .command('list')
    .description('lists drafts, newest first, with how many items are decided')
    .option(...dataOption)
    .option('--json', 'one JSON object per draft')
    .addHelpText('after', '\nExample:\n  $ entente draft list')
    .action(async (options: JsonOption) => {
      await withNode(io, options, async (node) => {
        const drafts = await listVisibleDrafts(node, 'operator');
        if (options.json === true) {
          for (const summary of drafts) writeLine(io.stdout, JSON.stringify(summaryJson(summary, true)));
          return;
        }
        if (drafts.length === 0) writeLine(io.stdout, 'No drafts. `entente extract REPORT` makes one.');
        for (const summary of drafts) writeLine(io.stdout, terminalLine(summaryLine(summary)));
      });
    });

  command
    .command('show')
    .description('prints a draft: each item with its state, value, method, confidence and evidence')
    .argument('<draft>', 'draft id (entente draft list)')
    .option(...dataOption)
    .option('--json', 'the whole draft as JSON, as GET /api/drafts/ID gives it (items, evidence, decisions; without the text)')
    .option('--no-evidence', 'items only, without the sentences that support them')
    .addHelpText('after', '\nExample:\n  $ entente draft show 7')
    .action(async (draftId: string, options: JsonOption & { evidence: boolean }) => {
      await withNode(io, options, async (node) => {
        const draft = await requireDraft(depsOf(node), draftId, 'operator');
        if (options.json === true) writeLine(io.stdout, JSON.stringify(draftJson(draft, false, true)));
        else printDraft(io, draft, options.evidence);
      });
    });

  const decide = (name: 'accept' | 'reject', description: string, example: string): void => {
    command
      .command(name)
      .description(description)
      .argument('<draft>', 'draft id')
      .argument('<items...>', 'item ids, ranges (3-7) or `pending`')
      .option(...dataOption)
      .option(...analystOption)
      .option('--reason <text>', 'a note kept with the decision, in the draft (never published)')
      .option('--json', 'the changed items as JSON')
      .addHelpText('after', `\nExample:\n  $ ${example}`)
      .action(async (draftId: string, selectors: string[], options: DecideOptions) => {
        await withNode(io, options, async (node) => {
          const deps = depsOf(node);
          const ids = selectItems(await requireDraft(deps, draftId, 'operator'), selectors);
          const changed = await decideOnDraft(deps, draftId, ids, { decision: name, ...(options.reason === undefined ? {} : { reason: options.reason }) }, analystOf(io, options.analyst), 'operator');
          if (options.json === true) writeLine(io.stdout, JSON.stringify({ draft: draftId, items: changed.map(itemJson) }));
          else for (const item of changed) writeLine(io.stdout, terminalLine(itemLine(item)));
        });
      });
  };
  decide('accept', 'accepts items as proposed', 'entente draft accept 7 1 2 5-9');
  decide('reject', 'rejects items: they are not published', 'entente draft reject 7 4 --reason "our own sinkhole"');

  command
    .command('edit')
    .description("replaces an item's value (checked as strictly as the extractor's: an IP must stay an IP) and accepts it")
    .argument('<draft>', 'draft id')
    .argument('<item>', 'item id')
    .option(...dataOption)
    .option(...analystOption)
    .option('--value <value>', 'the new value')
    .option('--pattern <pattern>', "observables only: the indicator's STIX pattern instead of the generated one (must parse)")
    .option('--json', 'the changed item as JSON')
    .addHelpText('after', "\nExamples:\n  $ entente draft edit 7 3 --value 45.77.12.0/24\n  $ entente draft edit 7 5 --pattern \"[domain-name:value LIKE '%.evil-c2.com']\"")
    .action(async (draftId: string, itemId: string, options: EditOptions) => {
      await withNode(io, options, async (node) => {
        const changed = await decideOnDraft(
          depsOf(node),
          draftId,
          [itemId],
          { decision: 'edit', ...(options.value === undefined ? {} : { value: options.value }), ...(options.pattern === undefined ? {} : { pattern: options.pattern }) },
          analystOf(io, options.analyst),
          'operator',
        );
        if (options.json === true) writeLine(io.stdout, JSON.stringify({ draft: draftId, items: changed.map(itemJson) }));
        else for (const item of changed) writeLine(io.stdout, terminalLine(itemLine(item)));
      });
    });

  command
    .command('publish')
    .description('publishes the accepted items as STIX 2.1 (report, indicators, observables, ATT&CK references, relationships) into a circle or collection')
    .argument('<draft>', 'draft id')
    .option(...dataOption)
    .option('--circle <id>', "the circle to publish to (its collection; TLP defaults to the circle's, or the document's own TLP label when stricter)")
    .option('--collection <id>', 'a collection (id or alias) to publish to instead of a circle')
    .option('--tlp <level>', `TLP 2.0 marking of everything published: ${TLP_LEVELS.join(', ')}; never laxer than a TLP label the document carries`)
    .option(...analystOption)
    .option('--name <name>', "the report's name (default: the document's title)")
    .option('--reject-pending', 'reject the items still pending instead of refusing to publish')
    .option('--revision <revision>', 'the revision entente draft show printed: publish that state of the draft, or nothing (ENT_DRAFT_CHANGED) when a decision changed it since')
    .option('--json', 'the publication and the report as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ entente draft publish 7 --circle wide --tlp amber\n  $ entente draft publish 8 --collection default --tlp green --reject-pending\n\n' +
        'Every object is validated as any import is, created by the home organisation and marked with the\n' +
        "TLP; the report's x_entente_provenance says which published items were automatic and who accepted\n" +
        'them; rejected items are only counted (their values and reasons stay in the draft).\n\n' +
        'A TLP label in the document itself (TLP:RED, TLP: AMBER+STRICT, TLP 1.0 TLP:WHITE…; the strictest\n' +
        'one found) is a floor: without --tlp the circle\'s default is raised to it, and a --tlp laxer than it\n' +
        'is refused (ENT_DRAFT_TLP_BELOW_LABEL, naming the label and its line).',
    )
    .action(async (draftId: string, options: PublishOptions) => {
      await withNode(io, options, async (node) => {
        const outcome = await publishDraft(depsOf(node), {
          draftId,
          ...(options.circle === undefined ? {} : { circle: options.circle }),
          ...(options.collection === undefined ? {} : { collection: options.collection }),
          ...(options.tlp === undefined ? {} : { tlp: options.tlp.toLowerCase() }),
          analyst: analystOf(io, options.analyst),
          viewer: 'operator',
          ...(options.name === undefined ? {} : { name: options.name }),
          rejectPending: options.rejectPending === true,
          ...(options.revision === undefined ? {} : { revision: options.revision }),
        });
        for (const warning of outcome.warnings) writeLine(io.stderr, terminalLine(`entente: warning: ${warning}`));
        if (options.json === true) {
          writeLine(io.stdout, JSON.stringify({ draft: draftId, publication: publicationJson(outcome.publication), added: outcome.added, duplicate: outcome.duplicate, warnings: outcome.warnings, report: outcome.report }));
          return;
        }
        const where = outcome.publication.circleId === undefined ? `collection ${outcome.publication.collectionId}` : `circle ${outcome.publication.circleId}`;
        writeLine(io.stdout, `published draft ${draftId} to ${where} as ${outcome.publication.reportId} (TLP:${outcome.publication.tlp.toUpperCase()}): ${outcome.objects.length} objects, ${outcome.added} new`);
      });
    });

  command
    .command('assign')
    .description('gives a draft to an API token, which may then see, decide on and publish it (besides administrators)')
    .argument('<draft>', 'draft id (entente draft list)')
    .argument('<token>', 'token name (entente token list): unrevoked, of the home organisation')
    .option(...dataOption)
    .addHelpText(
      'after',
      '\nExample:\n  $ entente draft assign 7 ana\n\n' +
        'Drafts made with `entente extract`, or before Entente recorded the uploading token (store schema 9),\n' +
        'belong to no token: only administrators see them over REST until assigned. Assigning replaces the\n' +
        'token a draft had (the old one no longer sees it).',
    )
    .action(async (draftId: string, tokenName: string, options: NodeLocationOptions) => {
      await withNode(io, options, async (node) => {
        const { previousToken } = await assignDraft(depsOf(node), draftId, tokenName);
        writeLine(io.stdout, `draft ${draftId} now belongs to token ${tokenName}${previousToken === undefined ? ' (it had none)' : previousToken === tokenName ? ' (unchanged)' : ` (was ${previousToken})`}`);
      });
    });

  return command;
}
