import { err, ok, type Result } from '../errors/result.ts';
import type { JsonValue } from '../stix/types.ts';

/**
 * The body of "Add Objects" (§5.5): a TAXII envelope `{"objects": [...]}`. A STIX bundle
 * (`{"type": "bundle", "objects": [...]}`) is accepted too, since many producers only write bundles
 * and its objects list means the same. Pure; the items are validated one by one afterwards.
 */
export function parseEnvelope(body: JsonValue | undefined): Result<readonly JsonValue[], string> {
  if (body === undefined) return err('the request has no body; send a TAXII envelope {"objects": [...]}');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return err('the body must be a JSON object: a TAXII envelope {"objects": [...]}');
  }
  const objects = body['objects'];
  if (objects === undefined) return err('the envelope has no "objects" property');
  if (!Array.isArray(objects)) return err('the envelope\'s "objects" must be a list of STIX objects');
  return ok(objects);
}
