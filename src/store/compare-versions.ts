/**
 * Orders two version keys (STIX timestamps from `versionOf`) in time. Plain string comparison is
 * wrong when fractional seconds differ in length: "…:00Z" sorts after "…:00.5Z" because 'Z' > '.'.
 * Keys that are not RFC 3339 UTC timestamps fall back to string order so that the order stays total.
 */
export function compareVersions(a: string, b: string): number {
  const left = toSortableVersion(a);
  const right = toSortableVersion(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

const timestampPattern = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

function toSortableVersion(version: string): string {
  const match = timestampPattern.exec(version);
  if (match === null) return version;
  return `${match[1] ?? ''}.${(match[2] ?? '').padEnd(9, '0')}`;
}

/**
 * Every spelling of the same instant that a STIX timestamp may take: fractions of 1 to 9 digits
 * differing only in trailing zeros, and no fraction at all when it is zero. TAXII's
 * `match[version]=<timestamp>` names an instant, so `…:59.444Z` must find a version stored as
 * `…:59.444000Z`. Keys that are not timestamps stand only for themselves.
 */
export function equivalentVersionKeys(version: string): string[] {
  const match = timestampPattern.exec(version);
  if (match === null) return [version];
  const seconds = match[1] ?? '';
  const significant = (match[2] ?? '').replace(/0+$/, '');
  const keys: string[] = significant === '' ? [`${seconds}Z`] : [];
  for (let digits = Math.max(1, significant.length); digits <= 9; digits += 1) {
    keys.push(`${seconds}.${significant.padEnd(digits, '0')}Z`);
  }
  return keys;
}
