// Builders shared by the federation tests: organisations with deterministic Ed25519 keys, pinned
// keys, and the agreement terms a circle could have. Nothing here is used outside tests.
import { createPrivateKey } from 'node:crypto';
import type { AgreementTerms } from '../policy/agreement.ts';
import { keyIdOf, toRawPublicKey, type NodeSigner, type PinnedKey } from './node-key.ts';

/** PKCS#8 DER of an Ed25519 private key is this fixed header followed by the 32-byte seed (RFC 8410). */
const PKCS8_ED25519_HEADER = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The Ed25519 private key with this 32-byte seed (given in hex, or one byte repeated). */
export function keyFromSeed(seed: string | number) {
  const bytes = typeof seed === 'number' ? Buffer.alloc(32, seed) : Buffer.from(seed, 'hex');
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_HEADER, bytes]), format: 'der', type: 'pkcs8' });
}

/** An organisation of the test alliance: its identity id, a signer and the pinned form of its key. */
export interface TestOrganisation {
  readonly id: string;
  readonly signer: NodeSigner;
  readonly pinned: PinnedKey;
}

export function testOrganisation(
  number: number,
  seed: number = number,
  window: { readonly validFrom: string; readonly validUntil?: string } = { validFrom: '2020-01-01T00:00:00.000Z' },
): TestOrganisation {
  const id = `identity--00000000-0000-4000-8000-${String(number).padStart(12, '0')}`;
  const privateKey = keyFromSeed(seed);
  const publicKey = toRawPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  return {
    id,
    signer: { organisationId: id, keyId, privateKey },
    pinned: { organisationId: id, keyId, publicKey, ...window },
  };
}

/** A circle's terms that let everything in: every type used in the tests, up to TLP:RED. */
export function openTerms(overrides: Partial<AgreementTerms> = {}): AgreementTerms {
  return {
    scope: {
      types: ['indicator', 'malware', 'report', 'vulnerability', 'identity', 'relationship', 'attack-pattern', 'ipv4-addr', 'marking-definition', 'note'],
    },
    highestTlp: 'red',
    onwardSharing: 'circles',
    attribution: 'keep',
    expectations: { permittedActions: 'internally-visible-actions', affectedPartyNotifications: 'may', providerAttribution: 'may' },
    endRule: 'retain',
    ...overrides,
  };
}
