/**
 * A Set that refuses every change once built. The bundled TLD set is loaded once and shared by every
 * extraction in the process; frozen, it is also known to hold the same TLDs from one call to the next,
 * so that the copy made from it (the reserved TLDs added, see extract-observables.ts) need not be
 * compared with it again on each call, which cost a lookup per TLD per document.
 */
export class FrozenSet<T> extends Set<T> {
  #open = true;

  constructor(items: Iterable<T>) {
    super();
    for (const item of items) super.add(item);
    this.#open = false;
  }

  override add(value: T): this {
    if (!this.#open) throw new TypeError('this set is frozen: make a new one instead');
    return super.add(value);
  }

  override delete(value: T): boolean {
    throw new TypeError(`this set is frozen: ${String(value)} stays; make a new set instead`);
  }

  override clear(): void {
    throw new TypeError('this set is frozen: make a new one instead');
  }
}
