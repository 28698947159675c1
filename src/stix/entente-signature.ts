import type { JsonObject, JsonValue } from './types.ts';

/**
 * The property extension that carries an Entente node's signature on a STIX object
 * (docs/federation.md, "Keys and signatures"). It lives here, beside the STIX types, because the
 * store too must know it: two copies of one version that differ only in their Entente signature
 * are the same content (a version this node sent unsigned may come back signed by a peer's relay).
 */
export const ENTENTE_SIGNATURE_EXTENSION_ID = 'extension-definition--014e3473-d4e7-4544-b76b-4fde9209e1b4';

function isRecord(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The object without its Entente signature (and without `extensions` when nothing else was in it):
 * the content a signature covers. Anything that is not an object, or carries no signature, comes
 * back unchanged (the same reference).
 */
export function withoutEntenteSignature<T extends JsonValue>(value: T): T {
  if (!isRecord(value)) return value;
  const extensions = Object.hasOwn(value, 'extensions') ? value['extensions'] : undefined;
  if (!isRecord(extensions) || !Object.hasOwn(extensions, ENTENTE_SIGNATURE_EXTENSION_ID)) return value;
  const rest = Object.entries(extensions).filter(([key]) => key !== ENTENTE_SIGNATURE_EXTENSION_ID);
  // Object.fromEntries defines own properties, so a key such as "__proto__" stays data.
  const entries: [string, JsonValue][] = Object.entries(value).filter(([key]) => key !== 'extensions');
  if (rest.length > 0) entries.push(['extensions', Object.fromEntries(rest) as JsonObject]);
  return Object.fromEntries(entries) as T;
}

/** The Entente signature extension of an object, or undefined when it carries none. */
export function ententeSignatureOf(value: JsonValue): JsonValue | undefined {
  if (!isRecord(value)) return undefined;
  const extensions = Object.hasOwn(value, 'extensions') ? value['extensions'] : undefined;
  if (!isRecord(extensions) || !Object.hasOwn(extensions, ENTENTE_SIGNATURE_EXTENSION_ID)) return undefined;
  return extensions[ENTENTE_SIGNATURE_EXTENSION_ID];
}

/**
 * The JSON text of `json` with its Entente signature replaced by `signatureJson` (the JSON of a
 * signature extension), or removed when `signatureJson` is empty. Other extensions are kept; the
 * signature goes last, where signObject puts it.
 */
export function withEntenteSignatureText(json: string, signatureJson: string): string {
  const unsigned = withoutEntenteSignature(JSON.parse(json) as JsonValue);
  if (signatureJson === '' || !isRecord(unsigned)) return JSON.stringify(unsigned);
  const others = Object.hasOwn(unsigned, 'extensions') ? unsigned['extensions'] : undefined;
  const extensions: [string, JsonValue][] = isRecord(others) ? Object.entries(others) : [];
  extensions.push([ENTENTE_SIGNATURE_EXTENSION_ID, JSON.parse(signatureJson) as JsonValue]);
  return JSON.stringify(
    Object.fromEntries([...Object.entries(unsigned).filter(([key]) => key !== 'extensions'), ['extensions', Object.fromEntries(extensions)]]),
  );
}
