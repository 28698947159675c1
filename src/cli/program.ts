import { Command, CommanderError } from 'commander';
import type { CliIo } from './cli-context.ts';
import { isEntenteError } from '../errors/entente-error.ts';

export const exitCodes = { ok: 0, failure: 1, usage: 2 } as const;

type CommandFactory = (io: CliIo) => Command;

/**
 * Each command's module, loaded only when the command runs: a command's imports (the HTTP server,
 * federation, extraction, PDF and mail readers …) cost start-up time, which every other command
 * would otherwise pay (all of them: about 1.4 s of module loading under tsx before an import began).
 * Listed in the order of `entente --help`.
 */
const commandModules: readonly (readonly [string, () => Promise<CommandFactory>])[] = [
  ['start', async () => (await import('./commands/start-command.ts')).startCommand],
  ['collection', async () => (await import('./commands/collection-command.ts')).collectionCommand],
  ['token', async () => (await import('./commands/token-command.ts')).tokenCommand],
  ['org', async () => (await import('./commands/org-command.ts')).orgCommand],
  ['circle', async () => (await import('./commands/circle-command.ts')).circleCommand],
  ['recalls', async () => (await import('./commands/recalls-command.ts')).recallsCommand],
  ['audit', async () => (await import('./commands/audit-command.ts')).auditCommand],
  ['import', async () => (await import('./commands/import-command.ts')).importCommand],
  ['export', async () => (await import('./commands/export-command.ts')).exportCommand],
  ['pattern', async () => (await import('./commands/pattern-command.ts')).patternCommand],
  ['extract', async () => (await import('./commands/extract-command.ts')).extractCommand],
  ['draft', async () => (await import('./commands/draft-command.ts')).draftCommand],
  ['match', async () => (await import('./commands/match-command.ts')).matchCommand],
  ['webhook', async () => (await import('./commands/webhook-command.ts')).webhookCommand],
  ['peer', async () => (await import('./commands/peer-command.ts')).peerCommand],
  ['sync', async () => (await import('./commands/sync-command.ts')).syncCommand],
  ['flash', async () => (await import('./commands/flash-command.ts')).flashCommand],
  ['reputation', async () => (await import('./commands/reputation-command.ts')).reputationCommand],
  ['key', async () => (await import('./commands/key-command.ts')).keyCommand],
  ['quarantine', async () => (await import('./commands/quarantine-command.ts')).quarantineCommand],
];

/**
 * The program with the commands `argv` may run: only the named one when the first argument names a
 * command (its own --help included), every command otherwise (help, version, a mistyped name that
 * commander should suggest a correction for).
 */
export async function buildProgram(io: CliIo, argv: readonly string[] = []): Promise<Command> {
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
  const named = commandModules.filter(([name]) => name === argv[0]);
  const factories = await Promise.all((named.length > 0 ? named : commandModules).map(([, load]) => load()));
  for (const factory of factories) program.addCommand(factory(io));
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
  try {
    const program = await buildProgram(io, argv);
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
