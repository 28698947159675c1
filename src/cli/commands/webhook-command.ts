import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import type { WebhookRecord } from '../../store/object-store.ts';

interface AddOptions extends NodeLocationOptions {
  secretFile: string;
  minSeverity: WebhookRecord['minSeverity'];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MIN_SECRET_BYTES = 16;
const MAX_SECRET_BYTES = 4096;

function invalid(message: string): EntenteError {
  return new EntenteError('ENT_WEBHOOK_INVALID', message);
}

/** The URL a webhook may use: http or https, no credentials in it (they would sit in the store and logs). */
export function checkWebhookUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`"${text.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`the webhook URL must be http or https, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw invalid('put no credentials in the webhook URL; the receiver verifies X-Entente-Signature instead');
  return url.href;
}

function readSecret(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
  const secret = text.replace(/\r?\n$/, '');
  const bytes = Buffer.byteLength(secret);
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) throw invalid(`the secret in ${path} must be ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes (got ${bytes})`);
  return secret;
}

export function webhookCommand(io: CliIo): Command {
  const command = new Command('webhook').description("send the node's alerts to other systems as signed JSON POSTs");

  command
    .command('add')
    .description('add a webhook: each alert at or above the minimum severity is POSTed to URL')
    .argument('<name>', 'a name for the webhook (letters, digits, . _ -)')
    .argument('<url>', 'http(s) URL that receives the alerts')
    .requiredOption('--secret-file <file>', 'file holding the HMAC-SHA256 key (16 to 4096 bytes; a final newline is ignored)')
    .addOption(new Option('--min-severity <severity>', 'send only alerts of this severity or higher').choices(['low', 'medium', 'high']).default('low'))
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExample:\n  $ head -c 32 /dev/urandom | base64 > soc.key\n  $ entente webhook add soc https://soc.example/hooks/entente --secret-file soc.key --min-severity medium\n\n' +
        'Each alert is one POST with Content-Type application/json, X-Entente-Timestamp (Unix seconds) and\n' +
        'X-Entente-Signature: sha256=<hex HMAC-SHA256 of the body under the secret>. A 5xx, 408, 429, time-out or\n' +
        'connection failure is retried with exponential backoff and jitter (6 attempts); every outcome is logged\n' +
        '(entente webhook deliveries). The running node picks up added and removed webhooks within seconds.',
    )
    .action(async (name: string, url: string, options: AddOptions) => {
      if (!NAME.test(name)) throw invalid(`webhook name "${name.slice(0, 80)}": letters, digits, '.', '_' or '-', at most 64`);
      const record: WebhookRecord = { name, url: checkWebhookUrl(url), secret: readSecret(options.secretFile), minSeverity: options.minSeverity, createdAt: new Date().toISOString() };
      await withNode(io, options, async (node) => {
        await node.store.addWebhook(record);
        writeLine(io.stdout, `Added webhook "${name}" → ${record.url} (severity ${record.minSeverity} and higher)`);
      });
    });

  command
    .command('list')
    .description('list webhooks (never their secrets)')
    .option('--json', 'print JSON')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente webhook list')
    .action(async (options: NodeLocationOptions & { json?: boolean }) => {
      await withNode(io, options, async (node) => {
        const hooks = (await node.store.listWebhooks()).map(({ secret: _secret, ...hook }) => hook);
        if (options.json === true) {
          writeLine(io.stdout, JSON.stringify(hooks.map((h) => ({ name: h.name, url: h.url, min_severity: h.minSeverity, created_at: h.createdAt })), null, 2));
          return;
        }
        writeLine(io.stdout, ['NAME', 'MIN_SEVERITY', 'CREATED', 'URL'].join('\t'));
        for (const hook of hooks) writeLine(io.stdout, [hook.name, hook.minSeverity, hook.createdAt, hook.url].join('\t'));
      });
    });

  command
    .command('remove')
    .description('remove a webhook (its delivery log stays)')
    .argument('<name>', 'the webhook name')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente webhook remove soc')
    .action(async (name: string, options: NodeLocationOptions) => {
      await withNode(io, options, async (node) => {
        await node.store.removeWebhook(name);
        writeLine(io.stdout, `Removed webhook "${name}"`);
      });
    });

  command
    .command('deliveries')
    .description('the latest deliveries, newest first: alert, attempts, outcome, last HTTP status or error')
    .argument('[name]', 'only this webhook')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON lines')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText('after', '\nExample:\n  $ entente webhook deliveries soc --limit 20')
    .action(async (name: string | undefined, options: NodeLocationOptions & { limit: string; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100_000) throw new EntenteError('ENT_CLI_USAGE', `--limit must be 1 to 100000, got "${options.limit}"`);
      await withNode(io, options, async (node) => {
        const rows = await node.store.listWebhookDeliveries({ ...(name === undefined ? {} : { webhook: name }), limit });
        if (options.json !== true) writeLine(io.stdout, ['AT', 'WEBHOOK', 'ALERT', 'ATTEMPTS', 'OUTCOME', 'STATUS', 'ERROR'].join('\t'));
        for (const row of rows) {
          if (options.json === true) writeLine(io.stdout, JSON.stringify({ at: row.at, webhook: row.webhook, alert_id: row.alertId, attempts: row.attempts, outcome: row.outcome, status: row.status ?? null, error: row.error ?? null }));
          else writeLine(io.stdout, [row.at, row.webhook, row.alertId, String(row.attempts), row.outcome, row.status === undefined ? '-' : String(row.status), row.error ?? '-'].join('\t'));
        }
      });
    });

  return command;
}
