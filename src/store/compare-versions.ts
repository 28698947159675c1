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
