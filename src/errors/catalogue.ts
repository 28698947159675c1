/**
 * The one catalogue of error codes. Every EntenteError carries one of these codes; the HTTP
 * boundary maps it to its status, and docs/errors.md lists the same codes (a test keeps them in step).
 * Codes are stable: never rename one, add a new one instead.
 */
export const errorCatalogue = {
  // Input that cannot be read at all
  ENT_INPUT_MALFORMED_JSON: { status: 400, title: 'The body or file is not well-formed JSON' },
  ENT_INPUT_TOO_DEEP: { status: 400, title: 'JSON nested deeper than the allowed depth' },
  ENT_INPUT_TOO_LARGE: { status: 413, title: 'Body larger than the configured limit' },
  ENT_INPUT_NOT_ENVELOPE: { status: 400, title: 'Body is not a TAXII envelope or STIX bundle' },
  ENT_INPUT_UNREADABLE: { status: 400, title: 'Input file or stream could not be read' },

  // HTTP negotiation
  ENT_HTTP_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Content-Type is not one this endpoint accepts' },
  ENT_HTTP_NOT_ACCEPTABLE: { status: 406, title: 'Accept header names no media type this endpoint serves' },
  ENT_HTTP_NOT_FOUND: { status: 404, title: 'No such resource' },
  ENT_HTTP_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed on this resource' },
  ENT_HTTP_BAD_QUERY: { status: 400, title: 'A query parameter is invalid' },
  ENT_HTTP_BAD_FIELD: { status: 400, title: 'A field of the JSON request body is missing, unknown or invalid' },
  ENT_HTTP_INTERNAL: { status: 500, title: 'Internal error' },
  ENT_HTTP_TOO_MANY_UPLOADS: { status: 429, title: 'This token already has as many uploads under way as the node allows at once; send this one again once one of them is answered' },
  ENT_HTTP_UPLOAD_UNCOUNTED: { status: 503, title: 'The node could not count this upload against its token\'s bound in time; send it again shortly' },
  ENT_HTTP_REQUEST_TIMEOUT: { status: 408, title: 'The request (its headers, or the whole of it with its body) did not arrive within the time the node allows; the connection is closed' },

  // Authentication and authorisation
  ENT_AUTH_MISSING: { status: 401, title: 'No credentials were presented' },
  ENT_AUTH_INVALID: { status: 401, title: 'The token is unknown or has been revoked' },
  ENT_AUTH_FORBIDDEN: { status: 403, title: 'The token does not grant this access' },

  // Collections
  ENT_COLLECTION_NOT_FOUND: { status: 404, title: 'No such collection' },
  ENT_COLLECTION_EXISTS: { status: 409, title: 'A collection with this id or alias already exists' },
  ENT_COLLECTION_INVALID: { status: 400, title: 'Collection definition is invalid' },
  ENT_COLLECTION_NOT_WRITABLE: { status: 403, title: 'The collection does not accept writes with this token' },
  ENT_COLLECTION_NOT_READABLE: { status: 403, title: 'The collection cannot be read with this token' },

  // Objects
  ENT_OBJECT_NOT_FOUND: { status: 404, title: 'No such object' },
  ENT_OBJECT_INVALID: { status: 422, title: 'The STIX object is invalid' },
  ENT_OBJECT_VERSION_CONFLICT: { status: 409, title: 'Same id and modified as a stored version, but different content' },
  ENT_OBJECT_REVOKED: { status: 409, title: 'The object is revoked; no newer version may be added' },
  ENT_MARKING_IMMUTABLE: { status: 409, title: 'A marking definition with this id is stored already; marking definitions are never versioned' },
  ENT_STATUS_NOT_FOUND: { status: 404, title: 'No such status resource' },

  // Tokens
  ENT_TOKEN_EXISTS: { status: 409, title: 'A token with this name already exists' },
  ENT_TOKEN_NOT_FOUND: { status: 404, title: 'No such token' },
  ENT_TOKEN_INVALID: { status: 400, title: 'Token definition is invalid' },

  // Organisations
  ENT_ORG_EXISTS: { status: 409, title: 'An organisation with this id is already known' },
  ENT_ORG_NOT_FOUND: { status: 404, title: 'No such organisation' },
  ENT_ORG_INVALID: { status: 400, title: 'Organisation definition is invalid' },

  // Extraction
  ENT_EXTRACT_UNSUPPORTED_FORMAT: { status: 415, title: 'The report is in a format extraction does not read' },
  ENT_EXTRACT_ENCRYPTED: { status: 422, title: 'The document is encrypted and needs a password to read' },
  ENT_EXTRACT_MALFORMED: { status: 422, title: 'The document is truncated or corrupt and cannot be read' },
  ENT_EXTRACT_LIMIT_EXCEEDED: { status: 413, title: 'Reading the document went past a safety limit (pages, size, nesting, parts, observables, memory or time)' },
  ENT_DRAFT_QUEUE_FULL: { status: 503, title: 'Too many reports are waiting to become drafts; send this one again later' },
  ENT_EXTRACT_TIMEOUT: { status: 422, title: 'Turning the report into a draft (reading, extraction, tagging) took longer than the node allows' },

  // Search
  ENT_SEARCH_INVALID: { status: 400, title: 'The search query is invalid' },

  // Configuration and start-up
  ENT_CONFIG_INVALID: { status: 500, title: 'The configuration is invalid' },
  ENT_CONFIG_UNSAFE: { status: 500, title: 'The configuration is unsafe; the node refuses to start' },
  ENT_STORE_UNAVAILABLE: { status: 503, title: 'The store cannot be opened or written' },
  ENT_NODE_SHUTTING_DOWN: { status: 503, title: 'The node is shutting down and takes no new work; send the request again once it is back' },

  // Circles and agreements (documents from other organisations; each issue names its path)
  ENT_POLICY_CIRCLE_INVALID: { status: 422, title: 'The circle document is invalid' },
  ENT_POLICY_AGREEMENT_INVALID: { status: 422, title: 'The agreement document is invalid' },
  ENT_POLICY_MISSING: { status: 422, title: 'A required field of a circle or agreement is missing' },
  ENT_POLICY_WRONG_TYPE: { status: 422, title: 'A circle or agreement field has the wrong JSON type' },
  ENT_POLICY_BAD_VALUE: { status: 422, title: 'A circle or agreement field has a value outside its vocabulary or format' },
  ENT_POLICY_UNKNOWN_FIELD: { status: 422, title: 'A circle or agreement document has a field the format does not define' },
  ENT_POLICY_DUPLICATE: { status: 422, title: 'A circle or agreement lists the same item twice' },
  ENT_POLICY_TOO_LARGE: { status: 422, title: 'A circle or agreement list is longer than allowed' },
  ENT_POLICY_WINDOW: { status: 422, title: 'A validity or membership window is missing or ends before it starts' },
  ENT_POLICY_NO_COORDINATOR: { status: 422, title: 'A circle has no coordinator' },

  // Circle lifecycle, agreements and the audit log
  ENT_CIRCLE_NOT_FOUND: { status: 404, title: 'No such circle' },
  ENT_CIRCLE_EXISTS: { status: 409, title: 'A circle with this id already exists' },
  ENT_CIRCLE_COLLECTION_TAKEN: { status: 409, title: 'The collection already carries another circle' },
  ENT_CIRCLE_COLLECTION_DEFAULT: { status: 409, title: 'A circle cannot be created over the default collection' },
  ENT_CIRCLE_COLLECTION_HOLDS_SIGHTINGS: { status: 409, title: 'The collection holds home sightings or their evidence; a circle over it would release them to the members' },
  ENT_CIRCLE_ENDED: { status: 409, title: 'The circle has ended' },
  ENT_CIRCLE_MEMBER_EXISTS: { status: 409, title: 'The organisation is or was already a member of the circle' },
  ENT_CIRCLE_NOT_MEMBER: { status: 409, title: 'The organisation is not a current member of the circle' },
  ENT_CIRCLE_LAST_COORDINATOR: { status: 409, title: 'The last coordinator cannot leave a running circle' },
  ENT_CIRCLE_FORBIDDEN: { status: 403, title: 'Only a coordinator (or the node administrator) may change the circle' },
  ENT_AGREEMENT_EXISTS: { status: 409, title: 'This agreement version already exists' },
  ENT_AGREEMENT_NOT_FOUND: { status: 404, title: 'No such agreement version' },
  ENT_AGREEMENT_SUPERSEDED: { status: 409, title: 'A later agreement version has been proposed; only the latest can be accepted' },
  ENT_AUDIT_BROKEN: { status: 500, title: 'The audit log hash chain does not verify' },
  ENT_AUDIT_ANCHOR_INVALID: { status: 400, title: 'The audit anchor cannot be read, or is not one this node signed' },
  ENT_AUDIT_ANCHOR_MISMATCH: { status: 500, title: 'The audit log no longer holds an anchored entry: its history was rewritten or cut short' },

  // Command line
  ENT_CLI_USAGE: { status: 400, title: 'The command line is invalid' },

  // STIX patterns
  ENT_PATTERN_INVALID: { status: 422, title: 'The STIX pattern is not valid STIX 2.1 patterning' },
  ENT_PATTERN_OVER_LIMIT: { status: 422, title: "An indicator's pattern is valid but past a planning limit (size, nesting, comparisons, …); it is kept but not matched" },
  ENT_MATCH_OVER_BUDGET: { status: 422, title: 'An observation ran out of its matching budget: some indicators were left untested on it (a warning in the log)' },

  // ATT&CK/ATLAS tagging
  ENT_TAGGING_DATA_INVALID: { status: 500, title: 'The shipped tagging data (data/tagging) is missing or unreadable; rebuild it with scripts/train-tagger.ts' },

  // Matching telemetry against indicators (entente match)
  ENT_MATCH_MAPPING_INVALID: { status: 400, title: 'The CSV column mapping is invalid' },
  ENT_MATCH_SIGHTING_REJECTED: { status: 422, title: 'A sighting produced by matching was refused by the store' },

  // Drafts: review of extraction and tagging before publication
  ENT_DRAFT_NOT_FOUND: { status: 404, title: 'No such draft' },
  ENT_DRAFT_ITEM_NOT_FOUND: { status: 404, title: 'The draft has no item with this id' },
  ENT_DRAFT_VALUE_INVALID: { status: 422, title: 'An edited value is not a valid value of the item type, or the STIX pattern does not parse' },
  ENT_DRAFT_DECISION_INVALID: { status: 400, title: 'The decision is malformed (unknown decision, edit without a value, bad analyst name)' },
  ENT_DRAFT_UNDECIDED: { status: 409, title: 'The draft still has undecided items; automatic output is never published without a human decision' },
  ENT_DRAFT_EMPTY: { status: 409, title: 'The draft has no accepted item to publish' },
  ENT_DRAFT_PUBLISHED: { status: 409, title: 'The draft was already published; its decisions are final' },
  ENT_DRAFT_PUBLISHING: { status: 409, title: 'A publication of the draft is in progress; decisions and other publications are refused until it ends' },
  ENT_DRAFT_CHANGED: { status: 409, title: 'A decision changed the draft since the revision the publisher reviewed; nothing was published' },
  ENT_DRAFT_HOME_ONLY: { status: 403, title: "Drafts are the home organisation's own work; partner tokens cannot use them" },
  ENT_DRAFT_TARGET_INVALID: { status: 400, title: 'Publishing needs exactly one circle or collection, and a TLP 2.0 level' },
  ENT_DRAFT_PUBLICATION_REJECTED: { status: 409, title: 'The store refused objects built from the draft because of what it holds (a conflicting version, a revoked object, an immutable marking); nothing was published' },
  ENT_DRAFT_PUBLICATION_INVALID: { status: 422, title: "An object built from the draft is not valid STIX 2.1 (an item's value, as proposed or edited); nothing was published" },
  ENT_DRAFT_PUBLICATION_FAILED: { status: 500, title: 'A last check inside the node found a withheld value in what the draft would publish (a fault of the node); nothing was published' },
  ENT_DRAFT_TLP_BELOW_LABEL: { status: 409, title: "The TLP asked for is laxer than the TLP label the report itself carries; publish at that label's level or stricter" },
  ENT_DRAFT_OWNER_INVALID: { status: 400, title: "A draft can be assigned only to an unrevoked token of the home organisation" },

  // Alerts: observations posted to the node, the alert stream, webhooks
  ENT_OBSERVATIONS_INVALID: { status: 400, title: 'The observations body is neither JSON lines nor a JSON array of observations' },
  ENT_WEBHOOK_EXISTS: { status: 409, title: 'A webhook with this name exists' },
  ENT_WEBHOOK_NOT_FOUND: { status: 404, title: 'No webhook with this name' },
  ENT_WEBHOOK_INVALID: { status: 400, title: 'The webhook URL, secret or minimum severity is invalid' },
  ENT_WEBHOOK_INSECURE_HTTP: { status: 400, title: 'A plain http webhook URL to another host would send alerts unencrypted' },
  // Federation: peers, sync, signatures, quarantine, flash messages and recalls
  ENT_PEER_EXISTS: { status: 409, title: 'A peer with this name exists' },
  ENT_PEER_NOT_FOUND: { status: 404, title: 'No peer with this name' },
  ENT_PEER_INVALID: { status: 400, title: "The peer's name, URL, token, circle or interval is invalid" },
  ENT_PEER_UNREACHABLE: { status: 502, title: "The peer's server could not be reached (connection refused, DNS, TLS)" },
  ENT_PEER_TIMEOUT: { status: 504, title: 'The peer did not answer in time' },
  ENT_PEER_AUTH_REFUSED: { status: 502, title: 'The peer refused the token (HTTP 401 or 403)' },
  ENT_PEER_BAD_RESPONSE: { status: 502, title: 'The peer answered with something that is not TAXII 2.1 (status, media type, or body)' },
  ENT_PEER_RESPONSE_TOO_LARGE: { status: 502, title: "The peer's response is larger than the limit" },
  ENT_PEER_NO_COLLECTION: { status: 502, title: 'The peer has no such collection, or the token cannot read (or write) it' },
  ENT_PEER_KEY_MISMATCH: { status: 400, title: "The key does not match the peer's fingerprint, is malformed, or belongs to another organisation (or this node)" },
  ENT_SYNC_BUSY: { status: 409, title: 'A sync of this peer is already running' },
  ENT_SIGNATURE_INVALID: { status: 400, title: 'A signed message (flash, recall, key rotation) does not verify against a pinned key' },
  ENT_KEY_NOT_FOUND: { status: 404, title: 'No signing key with this id' },
  ENT_QUARANTINE_NOT_FOUND: { status: 404, title: 'No quarantined item with this id' },
  ENT_QUARANTINE_RESOLVED: { status: 409, title: 'The quarantined item was already released or dropped' },
  ENT_FLASH_NOT_FOUND: { status: 404, title: 'No flash message with this id' },
  ENT_FLASH_RATE_LIMITED: { status: 429, title: 'This member delivered too many flash messages in the last hour' },
  ENT_FLASH_INVALID: { status: 400, title: 'The flash message is invalid (empty or too long text, unknown circle, bad indicator id)' },
  ENT_RECALL_INVALID: { status: 400, title: 'The recall notice is malformed or names a circle this node does not share with the sender' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;
