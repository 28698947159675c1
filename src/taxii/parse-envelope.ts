import { err, ok, type Result } from '../errors/result.ts';
import type { JsonValue } from '../stix/types.ts';

/**
 * Most objects one "Add Objects" request may carry. The body limit alone (64 MB) lets a sender post
 * tens of millions of tiny items (`[1,1,1,…]`), each decided, and quarantined or refused, in memory
 * and written in one transaction: 300,000 of them in 0.6 MB took 48 s and 400 MB. A node's own
 * pushes send 500 objects a request (federation/push-peer.ts, PUSH_ENVELOPE_SIZE); larger sets are
 * sent in several requests, or imported with `entente import`.
 */
export const MAX_ENVELOPE_OBJECTS = 10_000;

export interface EnvelopeProblem {
  /** ENT_INPUT_NOT_ENVELOPE: not an envelope; ENT_INPUT_TOO_LARGE: more than MAX_ENVELOPE_OBJECTS objects. */
  readonly code: 'ENT_INPUT_NOT_ENVELOPE' | 'ENT_INPUT_TOO_LARGE';
  readonly message: string;
}

function notEnvelope(message: string): Result<readonly JsonValue[], EnvelopeProblem> {
  return err({ code: 'ENT_INPUT_NOT_ENVELOPE', message });
}

/**
 * The body of "Add Objects" (§5.5): a TAXII envelope `{"objects": [...]}`. A STIX bundle
 * (`{"type": "bundle", "objects": [...]}`) is accepted too, since many producers only write bundles
 * and its objects list means the same. Pure; the items are validated one by one afterwards.
 */
export function parseEnvelope(body: JsonValue | undefined): Result<readonly JsonValue[], EnvelopeProblem> {
  if (body === undefined) return notEnvelope('the request has no body; send a TAXII envelope {"objects": [...]}');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return notEnvelope('the body must be a JSON object: a TAXII envelope {"objects": [...]}');
  }
  const objects = body['objects'];
  if (objects === undefined) return notEnvelope('the envelope has no "objects" property');
  if (!Array.isArray(objects)) return notEnvelope('the envelope\'s "objects" must be a list of STIX objects');
  if (objects.length > MAX_ENVELOPE_OBJECTS) {
    return err({
      code: 'ENT_INPUT_TOO_LARGE',
      message: `the envelope has ${objects.length} objects, more than the ${MAX_ENVELOPE_OBJECTS} one request may add; send them in several requests`,
    });
  }
  return ok(objects);
}
