// The one place federation reads a file: the extension-definition Entente ships for its signatures.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EntenteError } from '../errors/entente-error.ts';
import { parseSignatureExtensionBundle, type SignatureExtensionDefinition } from './signature-extension.ts';

const SHIPPED_FILE = fileURLToPath(new URL('../../data/federation/entente-signature-extension.json', import.meta.url));

let cached: SignatureExtensionDefinition | undefined;

/**
 * Loads (once per process for the shipped file) the Entente project identity and the
 * "Entente signature" extension-definition, which a node publishes with its identity and puts in
 * signed exports. Throws ENT_CONFIG_INVALID when the file is missing or not what Entente ships.
 */
export function loadSignatureExtension(file: string = SHIPPED_FILE): SignatureExtensionDefinition {
  if (cached !== undefined && file === SHIPPED_FILE) return cached;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new EntenteError('ENT_CONFIG_INVALID', `The signature extension-definition ${file} cannot be read: ${error instanceof Error ? error.message : 'unknown error'}`, { file }, { cause: error });
  }
  const parsed = parseSignatureExtensionBundle(value);
  if (!parsed.ok) {
    throw new EntenteError('ENT_CONFIG_INVALID', `The signature extension-definition ${file} is invalid: ${parsed.error.slice(0, 3).join('; ')}`, { file, problems: parsed.error });
  }
  if (file === SHIPPED_FILE) cached = parsed.value;
  return parsed.value;
}
