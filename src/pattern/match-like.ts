/**
 * SQL LIKE as STIX §9 defines it: `%` stands for any run of characters (including none), `_` for exactly
 * one, everything else for itself, and the pattern covers the whole value. Code points, not UTF-16 units,
 * are the characters. The greedy scan with one backtrack point per `%` takes O(pattern × value) at worst
 * — never exponential, whatever the pattern.
 */
export function matchLike(pattern: string, value: string): boolean {
  const p = Array.from(pattern);
  const v = Array.from(value);
  let pi = 0;
  let vi = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (vi < v.length) {
    const pc = p[pi];
    if (pc !== undefined && pc !== '%' && (pc === '_' || pc === v[vi])) {
      pi++;
      vi++;
    } else if (pc === '%') {
      starAt = pi++;
      resumeAt = vi;
    } else if (starAt >= 0) {
      pi = starAt + 1;
      vi = ++resumeAt;
    } else {
      return false;
    }
  }
  while (p[pi] === '%') pi++;
  return pi === p.length;
}
