// Builders shared by the federation tests: organisations with deterministic Ed25519 keys, pinned
// keys, and the agreement terms a circle could have. Nothing here is used outside tests.
import { createPrivateKey } from 'node:crypto';
import type { AgreementTerms } from '../policy/agreement.ts';
import { createKeyDirectory, keyIdOf, toRawPublicKey, type NodeSigner, type PinnedKey } from './node-key.ts';

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

/**
 * The alliance the arrival-check tests use: alpha creates and signs (its first key retired on
 * 1 June 2026), bravo is the Entente peer objects arrive through, charlie another member, stranger
 * a key pinned nowhere; MITRE creates objects and has no keys. `directory` pins alpha (both keys),
 * bravo and charlie.
 */
export function testAlliance() {
  const alpha = testOrganisation(1);
  const alphaRetired = testOrganisation(1, 11, { validFrom: '2025-01-01T00:00:00.000Z', validUntil: '2026-06-01T00:00:00.000Z' });
  const bravo = testOrganisation(2);
  const charlie = testOrganisation(3);
  const stranger = testOrganisation(4);
  return {
    alpha, alphaRetired, bravo, charlie, stranger,
    MITRE: 'identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5',
    directory: createKeyDirectory([alpha.pinned, alphaRetired.pinned, bravo.pinned, charlie.pinned]),
    NOW: new Date('2026-11-23T12:00:00.000Z'),
  };
}
