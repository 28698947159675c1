// Webhooks and their delivery log (migration 6; the collections a webhook is limited to, 13).
import type Database from 'better-sqlite3';
import { EntenteError } from '../../errors/entente-error.ts';
import type { WebhookDelivery, WebhookRecord } from '../object-store.ts';

type Statement = Database.Statement<unknown[], unknown>;

interface WebhookRow {
  name: string;
  url: string;
  secret: string;
  min_severity: string;
  collections: string | null;
  created_at: string;
}

interface DeliveryRow {
  webhook: string;
  alert_id: string;
  attempts: number;
  outcome: string;
  status: number | null;
  error: string | null;
  at: string;
}

const severities = ['low', 'medium', 'high'] as const;

/** A scope that does not read back as a list of ids limits the webhook to no collection rather than widening it to all. */
function scopeOf(text: string | null): readonly string[] | undefined {
  if (text === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

function toWebhook(row: WebhookRow): WebhookRecord {
  const minSeverity = (severities as readonly string[]).includes(row.min_severity) ? (row.min_severity as WebhookRecord['minSeverity']) : 'high';
  const collections = scopeOf(row.collections);
  return { name: row.name, url: row.url, secret: row.secret, minSeverity, ...(collections === undefined ? {} : { collections }), createdAt: row.created_at };
}

const outcomes = ['delivered', 'failed', 'abandoned'] as const;

export class SqliteWebhookTables {
  readonly #insert: Statement;
  readonly #select: Statement;
  readonly #delete: Statement;
  readonly #insertDelivery: Statement;
  readonly #selectDeliveries: Statement;
  readonly #selectDeliveriesOf: Statement;

  constructor(db: Database.Database) {
    this.#insert = db.prepare('INSERT INTO webhooks (name, url, secret, min_severity, collections, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.#select = db.prepare('SELECT * FROM webhooks ORDER BY name');
    this.#delete = db.prepare('DELETE FROM webhooks WHERE name = ?');
    this.#insertDelivery = db.prepare(
      'INSERT INTO webhook_deliveries (webhook, alert_id, attempts, outcome, status, error, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#selectDeliveries = db.prepare('SELECT * FROM webhook_deliveries ORDER BY seq DESC LIMIT ?');
    this.#selectDeliveriesOf = db.prepare('SELECT * FROM webhook_deliveries WHERE webhook = ? ORDER BY seq DESC LIMIT ?');
  }

  addWebhook(webhook: WebhookRecord): void {
    try {
      this.#insert.run(webhook.name, webhook.url, webhook.secret, webhook.minSeverity, webhook.collections === undefined ? null : JSON.stringify(webhook.collections), webhook.createdAt);
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') === true) {
        throw new EntenteError('ENT_WEBHOOK_EXISTS', `a webhook named "${webhook.name}" exists (entente webhook list)`, { webhook: webhook.name });
      }
      throw error;
    }
  }

  listWebhooks(): WebhookRecord[] {
    return (this.#select.all() as WebhookRow[]).map(toWebhook);
  }

  removeWebhook(name: string): void {
    if (this.#delete.run(name).changes === 0) {
      throw new EntenteError('ENT_WEBHOOK_NOT_FOUND', `no webhook named "${name.slice(0, 64)}" (entente webhook list)`, { webhook: name.slice(0, 64) });
    }
  }

  recordWebhookDelivery(delivery: WebhookDelivery): void {
    this.#insertDelivery.run(delivery.webhook, delivery.alertId, delivery.attempts, delivery.outcome, delivery.status ?? null, delivery.error ?? null, delivery.at);
  }

  listWebhookDeliveries(query: { readonly webhook?: string; readonly limit: number }): WebhookDelivery[] {
    const rows = (query.webhook === undefined ? this.#selectDeliveries.all(query.limit) : this.#selectDeliveriesOf.all(query.webhook, query.limit)) as DeliveryRow[];
    return rows.map((row) => ({
      webhook: row.webhook,
      alertId: row.alert_id,
      attempts: row.attempts,
      outcome: (outcomes as readonly string[]).includes(row.outcome) ? (row.outcome as WebhookDelivery['outcome']) : 'failed',
      status: row.status ?? undefined,
      error: row.error ?? undefined,
      at: row.at,
    }));
  }
}
