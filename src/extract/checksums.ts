// Checksum validation for cryptocurrency addresses: a random base58 or bech32 string passes with
// probability 2^-32 or less, which is what makes these extractors precise on prose.
import { createHash } from 'node:crypto';

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B58_INDEX = new Map([...B58].map((c, i) => [c, i] as const));

function base58Decode(s: string): Uint8Array | null {
  let n = 0n;
  for (const c of s) {
    const d = B58_INDEX.get(c);
    if (d === undefined) return null;
    n = n * 58n + BigInt(d);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.push(Number(n & 0xffn));
    n >>= 8n;
  }
  for (const c of s) {
    if (c !== '1') break;
    bytes.push(0);
  }
  return Uint8Array.from(bytes.reverse());
}

/** Base58Check (legacy P2PKH/P2SH Bitcoin addresses): version byte + 20 bytes + 4-byte checksum. */
export function isBase58CheckAddress(s: string): boolean {
  const raw = base58Decode(s);
  if (raw === null || raw.length !== 25) return false;
  const body = raw.subarray(0, 21);
  const sum = createHash('sha256').update(createHash('sha256').update(body).digest()).digest();
  for (let i = 0; i < 4; i++) if (sum[i] !== raw[21 + i]) return false;
  return true;
}

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** Bech32 / Bech32m (BIP-173/BIP-350) checksum for an HRP-prefixed segwit address. */
export function isBech32Address(s: string): boolean {
  const lower = s.toLowerCase();
  if (lower !== s && s.toUpperCase() !== s) return false;
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || lower.length - sep < 7) return false;
  const hrp = lower.slice(0, sep);
  let chk = 1;
  const step = (v: number): void => {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i] ?? 0;
  };
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) >>> 5);
  step(0);
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) & 31);
  for (let i = sep + 1; i < lower.length; i++) {
    const d = BECH32.indexOf(lower.charAt(i));
    if (d < 0) return false;
    step(d);
  }
  return chk === 1 || chk === 0x2bc830a3;
}
