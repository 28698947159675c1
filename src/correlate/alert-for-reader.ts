// What one reader of some collections is sent of the node's alerts, and how it is shown them: the rule
// the alert stream and the POST's answer apply to a token (api/alerts-routes.ts) and the webhook
// dispatcher to a webhook scoped to some collections (webhook-delivery.ts), kept in one place so that
// the two readers are never shown an alert differently.
import type { AlertEvent, AlertJson } from './alert-bus.ts';
import { confidenceIn, severityOf, type ConfidenceBasis } from './effective-confidence.ts';

/** Which collections the reader may read. */
export type ReadsCollection = (collectionId: string) => boolean;

/**
 * Whether the alert is one for this reader: some collection it reads holds the version that matched as
 * its latest (`collections`), and none it reads holds a newer one by the same creator and origin
 * (`newerIn`; node-matcher.ts). So a newer version held where it may not read neither hides the
 * version it reads nor shows, and a reader of several collections gets one alert, the newest's.
 */
export function isAlertForReader(event: Pick<AlertEvent, 'collections' | 'newerIn'>, reads: ReadsCollection): boolean {
  return event.collections.some(reads) && !(event.newerIn ?? []).some(reads);
}

/**
 * The alert as a reader that is not the administrator is shown it: its confidence and severity count
 * only the evidence of the collections it reads (`basis`; without one the alert's own confidence), the
 * token whose POST raised it is not named (`"api"`), and the collection whose observed-data raised it
 * only when the reader reads it (else `"collection"`).
 */
export function alertAsReadBy(alert: AlertJson, basis: ConfidenceBasis | undefined, reads: ReadsCollection): AlertJson {
  const confidence = basis === undefined ? alert.confidence : confidenceIn(basis, reads);
  const shown = confidence === alert.confidence ? alert : { ...alert, confidence, severity: severityOf(confidence) };
  if (shown.input.startsWith('api:')) return { ...shown, input: 'api' };
  if (shown.input.startsWith('collection:') && !reads(shown.input.slice('collection:'.length))) return { ...shown, input: 'collection' };
  return shown;
}
