import { Command, CommanderError } from 'commander';
import type { CliIo } from './cli-context.ts';
import { startCommand } from './commands/start-command.ts';
import { collectionCommand } from './commands/collection-command.ts';
import { tokenCommand } from './commands/token-command.ts';
import { importCommand } from './commands/import-command.ts';
import { exportCommand } from './commands/export-command.ts';
import { patternCommand } from './commands/pattern-command.ts';
import { orgCommand } from './commands/org-command.ts';
import { extractCommand } from './commands/extract-command.ts';
import { circleCommand } from './commands/circle-command.ts';
import { auditCommand } from './commands/audit-command.ts';
import { matchCommand } from './commands/match-command.ts';
import { draftCommand } from './commands/draft-command.ts';
import { webhookCommand } from './commands/webhook-command.ts';
import { flashCommand } from './commands/flash-command.ts';
import { peerCommand } from './commands/peer-command.ts';
import { syncCommand } from './commands/sync-command.ts';
import { keyCommand } from './commands/key-command.ts';
import { quarantineCommand } from './commands/quarantine-command.ts';
import { reputationCommand } from './commands/reputation-command.ts';
import { recallsCommand } from './commands/recalls-command.ts';
import { isEntenteError } from '../errors/entente-error.ts';

export const exitCodes = { ok: 0, failure: 1, usage: 2 } as const;

export function buildProgram(io: CliIo): Command {
  const program = new Command('entente')
    .description('Entente: share cyber threat intelligence between allies (STIX 2.1 over TAXII 2.1)')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ entente start                                     start a node on 127.0.0.1:8080 with ./data\n' +
        '  $ entente collection create apt-2026 --title "APT 2026"\n' +
        '  $ entente token create --name partner --collections apt-2026:r\n' +
        '  $ entente import enterprise-attack.json --collection apt-2026\n' +
        '  $ entente export --collection apt-2026 -o apt-2026.json\n' +
        "  $ entente pattern check \"[ipv4-addr:value = '198.51.100.7']\"\n\n" +
        'Every command has --help with an example. Settings also come from ENTENTE_* environment variables.',
    );
  const commands = [startCommand(io), collectionCommand(io), tokenCommand(io), orgCommand(io), circleCommand(io), recallsCommand(io), auditCommand(io), importCommand(io), exportCommand(io), patternCommand(io), extractCommand(io), draftCommand(io), matchCommand(io), webhookCommand(io), peerCommand(io), syncCommand(io), flashCommand(io), reputationCommand(io), keyCommand(io), quarantineCommand(io)];
  for (const command of commands) program.addCommand(command);
  configureOutput(program, io);
  return program;
}

/** Commander prints to our streams and throws instead of exiting, at every level of the tree. */
function configureOutput(command: Command, io: CliIo): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => io.stdout.write(text),
    writeErr: (text) => io.stderr.write(text),
  });
  for (const child of command.commands) configureOutput(child, io);
}

/** Runs the CLI and returns the process exit code; errors are printed with their stable code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return io.outcome.partialFailure ? exitCodes.failure : exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end through here too, with exit code 0.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    if (isEntenteError(error)) {
      io.stderr.write(`entente: ${error.code}: ${error.message}\n`);
      return error.code === 'ENT_CLI_USAGE' ? exitCodes.usage : exitCodes.failure;
    }
    io.stderr.write(`entente: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return exitCodes.failure;
  }
}
