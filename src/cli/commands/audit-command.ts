import { Command } from 'commander';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { parseTimeOption, withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { AUDIT_READ_ENTRIES, GENESIS_HASH, isFlashAuditEntry, releasesIn, verifyChain } from '../../audit/audit-chain.ts';

/** A STIX (RFC 3339, UTC) timestamp: no local times, no rolled-over dates such as February 30. */
function broken(seq: number, reason: string): EntenteError {
  return new EntenteError('ENT_AUDIT_BROKEN', `audit entry ${seq} does not verify (${reason}); the log was changed after it was written`, { seq });
}

export function auditCommand(io: CliIo): Command {
  const command = new Command('audit').description('the append-only, hash-chained log of every release to a partner, flash messages included');

  command
    .command('verify')
    .description('check the whole hash chain; exit 1 naming the first entry that does not verify')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente audit verify')
    .action(async (options: NodeLocationOptions) => {
      await withNode(io, options, async (node) => {
        let previous = GENESIS_HASH;
        let afterSeq = 0;
        let count = 0;
        for (;;) {
          const records = await node.store.readAudit({ afterSeq, limit: AUDIT_READ_ENTRIES });
          const verified = verifyChain(records.map((record) => record.chained), previous);
          if (!verified.ok) throw broken(records[verified.error.index]?.seq ?? 0, verified.error.reason);
          previous = verified.value.lastHash;
          count += records.length;
          const last = records.at(-1);
          if (last === undefined || records.length < AUDIT_READ_ENTRIES) break;
          afterSeq = last.seq;
        }
        writeLine(io.stdout, `Audit log verified: ${count} entries, last hash ${previous}`);
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
        let afterSeq = 0;
        const versions = new Set<string>();
        let releases = 0;
        let flashes = 0;
        if (options.json !== true) writeLine(io.stdout, ['AT', 'CIRCLE', 'AGREEMENT', 'DECISION', 'OBJECT', 'VERSION', 'REDACTED'].join('\t'));
        for (;;) {
          const records = await node.store.readAudit({
            recipientOrganisationId: options.org,
            ...(options.circle === undefined ? {} : { circleId: options.circle }),
            ...(from === undefined ? {} : { from }),
            ...(to === undefined ? {} : { to }),
            afterSeq,
            limit: AUDIT_READ_ENTRIES,
          });
          for (const { seq, chained } of records) {
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
          const last = records.at(-1);
          if (last === undefined || records.length < AUDIT_READ_ENTRIES) break;
          afterSeq = last.seq;
        }
        io.stderr.write(`${options.org} received ${versions.size} object versions in ${releases} releases${flashes === 0 ? '' : ` and ${flashes} flash message${flashes === 1 ? '' : 's'}`}\n`);
      });
    });

  return command;
}
