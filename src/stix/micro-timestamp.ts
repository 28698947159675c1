/**
 * TAXII `date_added` values are the store's microsecond clock (ObjectStore.dateAdded). On the wire
 * they are STIX timestamps with exactly six fractional digits, so that a client can hand one back in
 * `added_after` without losing precision. Pure: no clock.
 */

const MICROS_PER_MS = 1000;
const MICROS_PER_SECOND = 1_000_000;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** `1795993860123456` → `2026-11-30T05:11:00.123456Z`. */
export function formatMicroTimestamp(micros: number): string {
  const ms = Math.floor(micros / MICROS_PER_MS);
  const fraction = ((micros % MICROS_PER_SECOND) + MICROS_PER_SECOND) % MICROS_PER_SECOND;
  const date = new Date(ms);
  return (
    pad(date.getUTCFullYear(), 4) +
    '-' +
    pad(date.getUTCMonth() + 1, 2) +
    '-' +
    pad(date.getUTCDate(), 2) +
    'T' +
    pad(date.getUTCHours(), 2) +
    ':' +
    pad(date.getUTCMinutes(), 2) +
    ':' +
    pad(date.getUTCSeconds(), 2) +
    '.' +
    pad(fraction, 6) +
    'Z'
  );
}

// RFC 3339 in UTC as STIX writes it: `Z` only, optional fraction of any length (we keep 6 digits).
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * STIX timestamp → microseconds since the epoch, or undefined when it is not one (wrong shape,
 * impossible date such as Feb 30, leap seconds). Digits beyond the sixth are truncated: a cursor
 * is "strictly after", so truncation never skips an entry.
 */
export function parseMicroTimestamp(text: string): number | undefined {
  const match = TIMESTAMP.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s, frac] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return undefined;
  const micros = frac === undefined ? 0 : Number((frac + '00000').slice(0, 6));
  return ms * MICROS_PER_MS + micros;
}

/** Whether the text is a STIX timestamp (used for `match[version]`, which the store compares as text). */
export function isStixTimestamp(text: string): boolean {
  return parseMicroTimestamp(text) !== undefined;
}
