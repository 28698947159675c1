/**
 * SQL LIKE as STIX §9 defines it: `%` stands for any run of characters (including none), `_` for exactly
 * one, everything else for itself, and the pattern covers the whole value. Code points, not UTF-16 units,
 * are the characters. The greedy scan with one backtrack point per `%` takes O(pattern × value) at worst
 * — never exponential, whatever the pattern. With `budget`, each step of the scan is charged to it, and
 * the answer is undefined when it runs out first (budget left at or below 0).
 */
export function matchLike(pattern: string, value: string): boolean;
export function matchLike(pattern: string, value: string, budget: { remaining: number } | undefined): boolean | undefined;
export function matchLike(pattern: string, value: string, budget?: { remaining: number }): boolean | undefined {
  const p = Array.from(pattern);
  const v = Array.from(value);
  // Splitting the value into code points costs about as much as scanning it once.
  if (budget !== undefined) budget.remaining -= v.length;
  let pi = 0;
  let vi = 0;
  let starAt = -1;
  let resumeAt = 0;
  // Charged in chunks: a decrement per step would be a tenth of the scan's cost.
  let steps = 0;
  while (vi < v.length) {
    if (budget !== undefined && ++steps === 4096) {
      budget.remaining -= steps;
      steps = 0;
      if (budget.remaining <= 0) return undefined;
    }
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
  if (budget !== undefined) budget.remaining -= steps;
  while (p[pi] === '%') pi++;
  return pi === p.length;
}
