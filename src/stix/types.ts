/** JSON as it arrives on the wire and as it is stored: STIX is kept in its own JSON, no mapping layer. */
export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Any STIX object (SDO, SRO, SCO, meta object, custom object) after validation. */
export interface StixObject extends JsonObject {
  type: string;
  id: string;
}

export type IssueSeverity = 'error' | 'warning';

/**
 * One finding of the validator. `path` is a JSONPath into the validated value (`$.objects[3].created`),
 * `code` is stable (`STIX_…`), `message` says what is wrong in words an analyst can act on.
 */
export interface ValidationIssue {
  readonly path: string;
  readonly code: string;
  readonly message: string;
  readonly severity: IssueSeverity;
}
