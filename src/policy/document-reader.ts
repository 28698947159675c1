import type { ErrorCode } from '../errors/catalogue.ts';

/** One problem found in a circle or agreement document: where (JSONPath), what (stable code), why. */
export interface PolicyIssue {
  readonly path: string;
  readonly code: ErrorCode & `ENT_POLICY_${string}`;
  readonly message: string;
}

/** Documents come from other organisations: bound every list and string so a hostile one stays cheap. */
export const POLICY_LIMITS = { maxString: 2048, maxList: 1000 } as const;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const IDENTITY_ID = /^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._:~-]{0,199}$/;

/**
 * Reads untrusted JSON field by field, collecting issues instead of throwing. Only own properties
 * are read (a `__proto__` key is an unknown field like any other), and every object is checked
 * for fields the format does not define, so a typo never silently drops a term.
 */
export class DocumentReader {
  readonly issues: PolicyIssue[] = [];

  issue(path: string, code: PolicyIssue['code'], message: string): undefined {
    this.issues.push({ path, code, message });
    return undefined;
  }

  object(value: unknown, path: string, known: readonly string[]): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.issue(path, 'ENT_POLICY_WRONG_TYPE', 'expected a JSON object');
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!known.includes(key)) this.issue(`${path}.${key}`, 'ENT_POLICY_UNKNOWN_FIELD', `unknown field "${key.slice(0, 64)}"`);
    }
    return record;
  }

  field(record: Record<string, unknown>, key: string): unknown {
    return Object.hasOwn(record, key) ? record[key] : undefined;
  }

  string(record: Record<string, unknown>, key: string, path: string, required: true): string | undefined;
  string(record: Record<string, unknown>, key: string, path: string, required: false): string | undefined;
  string(record: Record<string, unknown>, key: string, path: string, required: boolean): string | undefined {
    const value = this.field(record, key);
    const at = `${path}.${key}`;
    if (value === undefined) return required ? this.issue(at, 'ENT_POLICY_MISSING', `"${key}" is required`) : undefined;
    if (typeof value !== 'string') return this.issue(at, 'ENT_POLICY_WRONG_TYPE', 'expected a string');
    if (value.length === 0 || value.length > POLICY_LIMITS.maxString) {
      return this.issue(at, 'ENT_POLICY_BAD_VALUE', `must be 1 to ${POLICY_LIMITS.maxString} characters`);
    }
    return value;
  }

  oneOf<T extends string>(record: Record<string, unknown>, key: string, path: string, allowed: readonly T[]): T | undefined {
    const value = this.field(record, key);
    const at = `${path}.${key}`;
    if (value === undefined) return this.issue(at, 'ENT_POLICY_MISSING', `"${key}" is required`);
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      return this.issue(at, 'ENT_POLICY_BAD_VALUE', `must be one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  timestamp(record: Record<string, unknown>, key: string, path: string, required: boolean): string | undefined {
    const value = required ? this.string(record, key, path, true) : this.string(record, key, path, false);
    if (value === undefined) return undefined;
    if (!TIMESTAMP.test(value) || !Number.isFinite(Date.parse(value))) {
      return this.issue(`${path}.${key}`, 'ENT_POLICY_BAD_VALUE', 'must be an RFC 3339 UTC timestamp (…Z)');
    }
    return value;
  }

  identityId(record: Record<string, unknown>, key: string, path: string): string | undefined {
    const value = this.string(record, key, path, true);
    if (value !== undefined && !IDENTITY_ID.test(value)) {
      return this.issue(`${path}.${key}`, 'ENT_POLICY_BAD_VALUE', 'must be a STIX identity id (identity--<uuid>)');
    }
    return value;
  }

  plainId(record: Record<string, unknown>, key: string, path: string): string | undefined {
    const value = this.string(record, key, path, true);
    if (value !== undefined && !PLAIN_ID.test(value)) {
      return this.issue(`${path}.${key}`, 'ENT_POLICY_BAD_VALUE', 'must be letters, digits and . _ : ~ - (at most 200)');
    }
    return value;
  }

  boolean(record: Record<string, unknown>, key: string, path: string, fallback: boolean): boolean {
    const value = this.field(record, key);
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.issue(`${path}.${key}`, 'ENT_POLICY_WRONG_TYPE', 'expected true or false');
      return fallback;
    }
    return value;
  }

  /** A list of distinct non-empty strings; `required` also demands at least one. */
  stringList(record: Record<string, unknown>, key: string, path: string, required: boolean): string[] | undefined {
    const value = this.field(record, key);
    const at = `${path}.${key}`;
    if (value === undefined) return required ? this.issue(at, 'ENT_POLICY_MISSING', `"${key}" is required`) : undefined;
    if (!Array.isArray(value)) return this.issue(at, 'ENT_POLICY_WRONG_TYPE', 'expected a list of strings');
    if (value.length > POLICY_LIMITS.maxList) return this.issue(at, 'ENT_POLICY_TOO_LARGE', `at most ${POLICY_LIMITS.maxList} items`);
    if (required && value.length === 0) return this.issue(at, 'ENT_POLICY_BAD_VALUE', 'must list at least one item');
    const seen = new Set<string>();
    value.forEach((item: unknown, index) => {
      if (typeof item !== 'string' || item.length === 0 || item.length > POLICY_LIMITS.maxString) {
        this.issue(`${at}[${index}]`, 'ENT_POLICY_WRONG_TYPE', 'expected a non-empty string');
      } else if (seen.has(item)) {
        this.issue(`${at}[${index}]`, 'ENT_POLICY_DUPLICATE', `"${item.slice(0, 64)}" is listed twice`);
      } else {
        seen.add(item);
      }
    });
    return [...seen];
  }
}
