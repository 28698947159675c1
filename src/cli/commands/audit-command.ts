import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { parseTimeOption, withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { isFlashAuditEntry, releasesIn, verifyChain } from '../../audit/audit-chain.ts';
import { auditRecords } from '../../audit/read-audit-log.ts';
import { anchoredHead, checkAuditAnchor, makeAuditAnchor, readAuditAnchor, type AuditAnchor } from '../../audit/audit-anchor.ts';
import { auditBroken as broken, walkAuditChain } from '../../audit/walk-audit-chain.ts';
import { createKeyDirectory } from '../../federation/node-key.ts';
import { ownKeysAsPinned } from '../../federation/node-key-lifecycle.ts';
import { createNodeSignerProvider } from '../../federation/node-signer.ts';

/** An anchor file as its keeper gave it; ENT_AUDIT_ANCHOR_INVALID naming the file and the problem. */
function readAnchorFile(path: string): AuditAnchor {
  const invalid = (problem: string): EntenteError =>
    new EntenteError('ENT_AUDIT_ANCHOR_INVALID', `--anchor ${path}: ${problem}`, { file: path });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalid(`the file cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('the file is not JSON');
  }
  const anchor = readAuditAnchor(value);
  if (!anchor.ok) throw invalid(`not an audit anchor: ${anchor.error}`);
  return anchor.value;
}

export function auditCommand(io: CliIo): Command {
  const command = new Command('audit').description('the append-only, hash-chained log of every release to a partner, flash messages included');

  command
    .command('verify')
    .description('check the whole hash chain, and that `audit received --from/--to` would find every entry; exit 1 naming the first entry that does not verify, or an anchor the log no longer holds')
    .option('--anchor <file>', 'also check an anchor made earlier by `audit anchor` (repeatable)', (file: string, files: string[] = []) => [...files, file])
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nThe chain alone shows that no entry was changed without every later hash being computed again;\n' +
        'an anchor kept outside the node shows that the history up to it was not rewritten at all.\n' +
        '\nExample:\n  $ entente audit verify\n  $ entente audit verify --anchor anchors/2026-11-01.json --anchor anchors/2026-11-15.json',
    )
    .action(async (options: NodeLocationOptions & { anchor?: string[] }) => {
      // Every file is read before the log: a damaged one is named before a long walk.
      const anchors = (options.anchor ?? []).map((path) => ({ path, anchor: readAnchorFile(path) }));
      await withNode(io, options, async (node) => {
        const home = node.identity.homeOrganisation.id;
        const ownKeys = createKeyDirectory(ownKeysAsPinned(await node.store.listNodeKeys(), home));
        const wanted = new Set(anchors.map(({ anchor }) => anchoredHead(anchor).seq));
        const hashes = new Map<number, string>();
        const walked = await walkAuditChain(node.store, (record) => {
          if (wanted.has(record.seq)) hashes.set(record.seq, record.chained.hash);
        });
        // The chain holds every entry; `audit received --from/--to` finds them, and the source
        // reputation what each gave, through indexes the chain does not cover, which must place each one too.
        const unindexed = await node.store.firstUnindexedAudit();
        if (unindexed !== undefined) {
          throw broken(unindexed, 'an index kept beside the log does not place it: the one --from/--to windows are read through, so `audit received` would leave it out, or the first releases of indicators, so a copy of what it gave would corroborate its source');
        }
        writeLine(io.stdout, `Audit log verified: ${walked.entries} entries, last hash ${walked.head.hash}`);
        // Every anchor is checked, and every one that fails is named, whatever their order: those that
        // hold and those that do not bound where a history was rewritten.
        const mismatched: { file: string; problem: string }[] = [];
        const invalid: { file: string; problem: string }[] = [];
        for (const { path, anchor } of anchors) {
          const verdict = checkAuditAnchor(anchor, home, ownKeys, { lastSeq: walked.head.seq, hashAt: (seq) => hashes.get(seq) });
          if (verdict.kind === 'holds') writeLine(io.stdout, `Anchor ${path}: entry ${anchor.body.seq} holds`);
          else if (verdict.kind === 'not-ours') invalid.push({ file: path, problem: `--anchor ${path}: not an anchor of this node: ${verdict.reason}` });
          else mismatched.push({ file: path, problem: `--anchor ${path}: the log no longer holds what was anchored on ${anchor.body.anchored_at}: ${verdict.reason}` });
        }
        // A mismatch is the graver finding: it leads, and the files refused follow it.
        const failed = [...mismatched, ...invalid];
        if (failed.length > 0) {
          const code = mismatched.length > 0 ? 'ENT_AUDIT_ANCHOR_MISMATCH' : 'ENT_AUDIT_ANCHOR_INVALID';
          throw new EntenteError(code, failed.map((failure) => failure.problem).join('\n'), { files: failed.map((failure) => failure.file) });
        }
      });
    });

  command
    .command('anchor')
    .description("sign the log's last entry (seq and hash) with the node's key, to keep outside the node; the chain is verified first")
    .option('--out <file>', 'write the anchor to this new file instead of standard output (an existing file is refused)')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nGive anchors to someone outside the node (a partner, a notary, a ticket): `audit verify --anchor FILE`\n' +
        'later shows that the log still holds the anchored history, which the hash chain alone cannot show\n' +
        'against whoever controls the node and can compute every hash again.\n' +
        '\nExample:\n  $ entente audit anchor --out anchors/$(date -u +%F).json',
    )
    .action(async (options: NodeLocationOptions & { out?: string }) => {
      await withNode(io, options, async (node) => {
        const walked = await walkAuditChain(node.store);
        const signers = createNodeSignerProvider({ store: node.store, organisationId: node.identity.homeOrganisation.id, clock: () => new Date() });
        const anchor = makeAuditAnchor(walked.head, await signers.current(), new Date());
        const text = `${JSON.stringify(anchor, null, 2)}\n`;
        if (options.out === undefined) {
          io.stdout.write(text);
          return;
        }
        // Never over an existing file: it may hold an earlier anchor, the only record of the log as it
        // was then, and the new one (made over whatever the log holds now) cannot stand in for it.
        try {
          writeFileSync(options.out, text, { flag: 'wx' });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          throw new EntenteError('ENT_CLI_USAGE', `--out ${options.out} already exists: an anchor is never written over a file, which may hold an earlier one; choose another name`);
        }
        io.stderr.write(`anchored entry ${walked.head.seq} (hash ${walked.head.hash}) in ${options.out}\n`);
      });
    });

  command
    .command('received')
    .description('what an organisation received: one line per release (object version, circle, agreement version, decision) and per flash message sent to it (decision flash)')
    .requiredOption('--org <identity-id>', 'the recipient organisation')
    .option('--circle <id>', 'only through this circle')
    .option('--from <time>', 'from this instant (inclusive, RFC 3339)')
    .option('--to <time>', 'until this instant (exclusive, RFC 3339)')
    .option('--json', 'print JSON lines, each a release or flash with "seq" (its log entry) and "item" (its place in that entry)')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nWith --json, the releases of one page share its entry\'s "seq"; "item" is each one\'s place in that entry (0 first; 0 for an\n' +
        'entry of one release or a flash): ("seq", "item") names one line, and "audit verify" counts entries, not lines.\n' +
        '\nExample:\n  $ entente audit received --org identity--7d3c… --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z',
    )
    .action(async (options: NodeLocationOptions & { org: string; circle?: string; from?: string; to?: string; json?: boolean }) => {
      const from = parseTimeOption(options.from, '--from');
      const to = parseTimeOption(options.to, '--to');
      if (from !== undefined && to !== undefined && !(from.getTime() < to.getTime())) {
        throw new EntenteError('ENT_CLI_USAGE', `--from ${options.from ?? ''} must be before --to ${options.to ?? ''}`);
      }
      await withNode(io, options, async (node) => {
        // An unknown name is a mistake to report, not an organisation that received nothing.
        if (options.org !== node.identity.homeOrganisation.id && (await node.store.getOrganisation(options.org)) === undefined) {
          throw new EntenteError('ENT_ORG_NOT_FOUND', `--org: no organisation ${options.org.slice(0, 120)} (see entente org list)`);
        }
        if (options.circle !== undefined && (await node.store.getCircle(options.circle)) === undefined) {
          throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `--circle: no circle ${options.circle.slice(0, 120)}`);
        }
        const versions = new Set<string>();
        let releases = 0;
        let flashes = 0;
        if (options.json !== true) writeLine(io.stdout, ['AT', 'CIRCLE', 'AGREEMENT', 'DECISION', 'OBJECT', 'VERSION', 'REDACTED'].join('\t'));
        const query = {
          recipientOrganisationId: options.org,
          ...(options.circle === undefined ? {} : { circleId: options.circle }),
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
        };
        for await (const { seq, chained } of auditRecords(node.store, query)) {
          // Each line is checked against its own hash: a tampered entry is never reported as received.
          const own = verifyChain([chained], chained.previousHash);
          if (!own.ok) throw broken(seq, own.error.reason);
          const entry = chained.entry;
          if (isFlashAuditEntry(entry)) {
            // A flash names no object version: its id, and whether the indicator it names was withheld from this copy.
            flashes += 1;
            const withheld = entry.indicatorId !== undefined && !entry.indicatorNamed;
            if (options.json === true) writeLine(io.stdout, JSON.stringify({ seq, item: 0, ...entry }));
            else writeLine(io.stdout, [entry.at, entry.circleId, `v${entry.agreementVersion ?? '-'}`, 'flash', entry.flashId, '-', withheld ? 'indicator_id' : '-'].join('\t'));
            continue;
          }
          // A page's entry is one line per version it released, as single releases are; its lines share
          // the entry's seq, so each also says where in the entry it is (releasesIn keeps their order).
          for (const [item, release] of releasesIn(entry).entries()) {
            releases += 1;
            versions.add(`${release.objectId} ${release.objectModified}`);
            if (options.json === true) writeLine(io.stdout, JSON.stringify({ seq, item, ...release }));
            else {
              writeLine(io.stdout, [release.at, release.circleId, `v${release.agreementVersion ?? '-'}`, release.decision, release.objectId, release.objectModified, (release.redactedFields ?? []).join(',') || '-'].join('\t'));
            }
          }
        }
        io.stderr.write(`${options.org} received ${versions.size} object versions in ${releases} releases${flashes === 0 ? '' : ` and ${flashes} flash message${flashes === 1 ? '' : 's'}`}\n`);
      });
    });

  return command;
}
