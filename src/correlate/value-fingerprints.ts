// 32-bit fingerprints of the string values the bulk matcher indexes for equality, in one open-addressed
// typed array (4 bytes a slot, at most half full: 8 MB for a million values). The raw-line screen hashes
// each string of a log line as it scans it, without making a string, and asks whether any indexed value
// could be equal. A fingerprint answers "maybe" for values that share it (one in ~4 billion per value
// held), which costs only a full parse of that line; it never answers "no" for a held value.
// Fingerprints are never removed (another value may share one): a withdrawn value costs false "maybe"s
// until the matcher is rebuilt.

/** FNV-1a over UTF-16 code units: start here, then `stepFingerprint` per code unit. */
export const fingerprintSeed = 0x811c9dc5 | 0;

export function stepFingerprint(hash: number, codeUnit: number): number {
  return Math.imul(hash ^ codeUnit, 0x01000193);
}

/** The fingerprint of a whole string; equal to stepping through its code units from fingerprintSeed. */
export function fingerprintOf(text: string): number {
  let hash = fingerprintSeed;
  for (let i = 0; i < text.length; i++) hash = stepFingerprint(hash, text.charCodeAt(i));
  return hash;
}

/**
 * A set of fingerprints; 0 marks an empty slot, so the fingerprint 0 is stored as 1 (a shared "maybe").
 * One bit per slot, set from other bits of the same mix, answers most absent fingerprints first: at a
 * million values the slots fill 8 MB, which each of a line's questions would miss in the cache, while
 * the bits (256 KB) mostly stay in it.
 */
export class FingerprintSet {
  private slots = new Int32Array(1024);
  private bits = new Int32Array(1024 / 32);
  /** How far the mix is shifted right to index the bits (one bit per slot). */
  private bitShift = 32 - 10;
  private used = 0;

  get size(): number {
    return this.used;
  }

  add(fingerprint: number): void {
    const stored = fingerprint === 0 ? 1 : fingerprint | 0;
    if ((this.used + 1) * 2 > this.slots.length) this.grow();
    const mix = slotOf(stored);
    const mask = this.slots.length - 1;
    for (let i = mix & mask; ; i = (i + 1) & mask) {
      const held = this.slots[i] as number;
      if (held === stored) return;
      if (held === 0) {
        this.slots[i] = stored;
        this.setBit(mix);
        this.used++;
        return;
      }
    }
  }

  has(fingerprint: number): boolean {
    const stored = fingerprint === 0 ? 1 : fingerprint | 0;
    const mix = slotOf(stored);
    const bit = mix >>> this.bitShift;
    if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
    const mask = this.slots.length - 1;
    for (let i = mix & mask; ; i = (i + 1) & mask) {
      const held = this.slots[i] as number;
      if (held === stored) return true;
      if (held === 0) return false;
    }
  }

  private setBit(mix: number): void {
    const bit = mix >>> this.bitShift;
    this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31));
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.bits = new Int32Array(this.slots.length / 32);
    this.bitShift--;
    const mask = this.slots.length - 1;
    for (const stored of old) {
      if (stored === 0) continue;
      const mix = slotOf(stored);
      let i = mix & mask;
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = stored;
      this.setBit(mix);
    }
  }
}

/** FNV's low bits are weak for short keys: mix the high bits in before masking to a slot. */
function slotOf(fingerprint: number): number {
  const h = Math.imul(fingerprint ^ (fingerprint >>> 16), 0x45d9f3b);
  return h ^ (h >>> 16);
}
