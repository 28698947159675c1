import { Command } from 'commander';
import type { CliIo } from '../cli-context.ts';
import { writeLine } from '../cli-context.ts';
import { loadNodeConfig, startNode } from '../../compose.ts';
import type { RawSettings } from '../../node-config.ts';

interface StartOptions {
  host?: string;
  port?: string;
  data?: string;
  orgName?: string;
  logLevel?: string;
  config?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export function startCommand(io: CliIo): Command {
  return new Command('start')
    .description('start the node: TAXII 2.1 server, REST API and health check')
    .option('--host <host>', 'address to listen on (env ENTENTE_HOST)', undefined)
    .option('--port <port>', 'port to listen on, 0 for any free port (env ENTENTE_PORT)')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .option('--org-name <name>', 'home organisation name, used at first start (env ENTENTE_ORG_NAME; default: host name)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env ENTENTE_LOG_LEVEL)')
    .option('--config <file>', 'JSON config file with the same settings (env ENTENTE_CONFIG)')
    .option('--tls-cert <file>', 'TLS certificate (PEM); required to listen beyond loopback')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .addHelpText(
      'after',
      '\nExample:\n  $ entente start --port 8443 --org-name "CERT-EU" --data /var/lib/entente\n\n' +
        'At first start the node creates its SQLite database, its home organisation, a default collection\n' +
        'and an admin token written to <data>/admin.token (mode 0600). The token itself is never logged.',
    )
    .action(async (options: StartOptions) => {
      const flags: RawSettings & { config?: string } = {
        ...(options.host !== undefined ? { host: options.host } : {}),
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.data !== undefined ? { dataDir: options.data } : {}),
        ...(options.orgName !== undefined ? { orgName: options.orgName } : {}),
        ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
        ...(options.config !== undefined ? { config: options.config } : {}),
        ...(options.tlsCert !== undefined ? { tlsCert: options.tlsCert } : {}),
        ...(options.tlsKey !== undefined ? { tlsKey: options.tlsKey } : {}),
      };
      const config = loadNodeConfig(flags, io.env);
      const node = await startNode(config);
      if (node.adminTokenPath !== undefined) {
        writeLine(io.stderr, `New node: admin token written to ${node.adminTokenPath} (mode 0600)`);
      }
      writeLine(io.stderr, `Entente node "${config.orgName}" listening on ${node.url} (TAXII discovery: ${node.url}/taxii2/)`);
      await new Promise<void>((resolveStop) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void node.close().then(resolveStop, resolveStop);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
