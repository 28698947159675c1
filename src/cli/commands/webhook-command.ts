import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { isIP } from 'node:net';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { findCollection } from '../../bootstrap-node.ts';
import type { ObjectStore, WebhookRecord } from '../../store/object-store.ts';

interface AddOptions extends NodeLocationOptions {
  secretFile: string;
  minSeverity: WebhookRecord['minSeverity'];
  collections?: string;
  allowInsecureHttp?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MIN_SECRET_BYTES = 16;
const MAX_SECRET_BYTES = 4096;

function invalid(message: string): EntenteError {
  return new EntenteError('ENT_WEBHOOK_INVALID', message);
}

/** A host name or address that cannot leave this machine: localhost, 127.0.0.0/8, ::1. */
function isLoopback(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * The URL a webhook may use: https, or http to this machine only unless the administrator allows it
 * (alerts name the indicators matched and what was seen; in clear text on a network anyone on the
 * path reads them), and no credentials in it (they would sit in the store and logs).
 */
export function checkWebhookUrl(text: string, options: { readonly allowInsecureHttp?: boolean } = {}): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`"${text.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`the webhook URL must be http or https, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw invalid('put no credentials in the webhook URL; the receiver verifies X-Entente-Signature instead');
  if (url.protocol === 'http:' && !isLoopback(url.hostname) && options.allowInsecureHttp !== true) {
    throw new EntenteError(
      'ENT_WEBHOOK_INSECURE_HTTP',
      `${url.host}: alerts would cross the network unencrypted; use https, or give --allow-insecure-http to accept that (plain http is allowed to localhost, 127.0.0.0/8 and ::1)`,
    );
  }
  return url.href;
}

/** The collection ids a `--collections` list names (ids or aliases), each checked to exist. */
async function resolveScope(store: ObjectStore, list: string): Promise<string[]> {
  const names = list.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0) throw invalid('--collections names no collection; leave it out to send alerts from every collection');
  const ids: string[] = [];
  for (const name of names) {
    const collection = await findCollection(store, name);
    if (collection === undefined) throw new EntenteError('ENT_COLLECTION_NOT_FOUND', `--collections: no collection "${name.slice(0, 200)}" (see entente collection list)`);
    if (!ids.includes(collection.id)) ids.push(collection.id);
  }
  return ids;
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
    .option('--collections <list>', 'send only alerts on indicators held in these collections (ids or aliases, comma-separated); default: every collection')
    .option('--allow-insecure-http', 'accept a plain http URL to another host (alerts then cross the network unencrypted)')
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ head -c 32 /dev/urandom | base64 > soc.key\n  $ entente webhook add soc https://soc.example/hooks/entente --secret-file soc.key --min-severity medium\n' +
        '  $ entente webhook add circle-chat https://chat.example/hooks/ct --secret-file chat.key --collections default,ransomware-2026\n\n' +
        'Each alert is one POST with Content-Type application/json, X-Entente-Timestamp (Unix seconds) and\n' +
        'X-Entente-Signature: sha256=<hex HMAC-SHA256 of the body under the secret>. A 5xx, 408, 429, time-out or\n' +
        'connection failure is retried with exponential backoff and jitter (6 attempts); every outcome is logged\n' +
        '(entente webhook deliveries). The running node reads the webhooks for every alert and before every retry:\n' +
        'an added webhook gets the next alert, and a removed one, or one whose URL or secret changed, gets nothing\n' +
        'more (retries already scheduled for it are logged as abandoned). Before every attempt, the first included,\n' +
        'it also reads again which collections hold the indicator version behind the alert: one recalled by its\n' +
        'source partner, deleted or superseded in the collections the webhook reads since the alert was raised is\n' +
        'not sent (logged as abandoned, "alert withdrawn: ...").\n\n' +
        'Without --collections a webhook receives the alerts of every collection, whatever circle shared the\n' +
        'indicator, as the administrator does: deciding that the receiver may see them is the administrator\'s\n' +
        'choice. With it, the webhook receives only what a token reading those collections would, as it would see\n' +
        'it (confidence and severity from those collections\' evidence; the token that posted the observations unnamed).\n' +
        'The URL must be https, except http to localhost, 127.0.0.0/8 or ::1 (or with --allow-insecure-http).',
    )
    .action(async (name: string, url: string, options: AddOptions) => {
      if (!NAME.test(name)) throw invalid(`webhook name "${name.slice(0, 80)}": letters, digits, '.', '_' or '-', at most 64`);
      const checkedUrl = checkWebhookUrl(url, { allowInsecureHttp: options.allowInsecureHttp === true });
      const secret = readSecret(options.secretFile);
      await withNode(io, options, async (node) => {
        const collections = options.collections === undefined ? undefined : await resolveScope(node.store, options.collections);
        const record: WebhookRecord = { name, url: checkedUrl, secret, minSeverity: options.minSeverity, ...(collections === undefined ? {} : { collections }), createdAt: new Date().toISOString() };
        await node.store.addWebhook(record);
        const scope = collections === undefined ? 'every collection' : `alerts on indicators held in collection ${collections.join(', ')}`;
        writeLine(io.stdout, `Added webhook "${name}" → ${record.url} (severity ${record.minSeverity} and higher; ${scope})`);
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
          const json = hooks.map((h) => ({ name: h.name, url: h.url, min_severity: h.minSeverity, collections: h.collections ?? null, created_at: h.createdAt }));
          writeLine(io.stdout, JSON.stringify(json, null, 2));
          return;
        }
        writeLine(io.stdout, ['NAME', 'MIN_SEVERITY', 'COLLECTIONS', 'CREATED', 'URL'].join('\t'));
        for (const hook of hooks) writeLine(io.stdout, [hook.name, hook.minSeverity, hook.collections?.join(',') ?? 'all', hook.createdAt, hook.url].join('\t'));
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
    .description('the latest deliveries, newest first: alert, attempts, outcome (delivered, failed, abandoned), last HTTP status or error')
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
