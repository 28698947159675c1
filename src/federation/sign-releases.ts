// Signing what leaves the node for another organisation (docs/federation.md, "Object signatures",
// "Derived versions"). The release gate calls it once per page, after the release decision, for
// recipients that are not the home organisation:
//
// (a) a version that carries an Entente signature and is shared whole leaves unchanged (signatures
//     survive re-sharing) — except in a hidden circle when the signer is an organisation the
//     recipient may not know to be there (policy/circle.ts visibleMembers): then it leaves as (b);
// (b) a redacted version (granular markings; under anonymising terms a creator, or a signature
//     naming another organisation than the recipient or this node, removed by the release decision)
//     is signed by this node as a derived version (`derived: true`), kept by variant = SHA-256 of
//     the signed bytes;
// (c) a version this node originated (no provenance row, no partner contribution) is signed by the
//     home organisation and kept (variant ''), so that the same bytes leave every time;
// (d) a version received unsigned (from a plain peer or a partner's POST) leaves unsigned.
//
// The contributions are those the release gate counted for the collection released
// (SignableRelease.contributions): a partner's copy of the same version in another collection does
// not unsign the home organisation's own version here once its origin signature is kept, and a
// version the home organisation copied here from a partner's collection still counts as received.
//
// Store calls are batched per page: one provenanceOf for the unsigned versions without partner
// contributions, one signaturesIn for every signature wanted that the listing did not bring along
// (StoredEntry.originSignature), one putSignatures for those made.
import { withoutEntenteSignature } from '../stix/entente-signature.ts';
import { createHash } from 'node:crypto';
import { visibleMembers, type Circle } from '../policy/circle.ts';
import type { ReleaseSigner, SignableRelease } from '../release/open-release-gate.ts';
import type { FederationStore, SignatureKey } from '../store/federation-store.ts';
import { versionKey } from '../store/object-store.ts';
import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';
import { instantOf, signBytes, type NodeSigner } from './node-key.ts';
import type { NodeSignerProvider, NodeSigningKeys } from './node-signer.ts';
import { objectSigningInput } from './sign-object.ts';
import { readSignatureExtension, SIGNATURE_ALGORITHM, SIGNATURE_EXTENSION_ID, type SignatureExtension } from './signature-extension.ts';

export interface ReleaseSignerDeps {
  readonly store: Pick<FederationStore, 'provenanceOf' | 'signaturesIn' | 'putSignatures'>;
  readonly keys: NodeSignerProvider;
  readonly homeOrganisationId: string;
}

/** What one released entry needs: to leave as stored, or a signature (kept or made). */
interface Wanted {
  readonly index: number;
  readonly key: SignatureKey;
  /** The form signed: the stored object (origin) or the redacted / re-signed copy (derived). */
  readonly form: StixObject;
  readonly derived: boolean;
  /** The signed bytes, when already computed (derived forms need them for their variant). */
  input: Buffer | undefined;
  /** The signature kept for this key (signaturesIn), once looked up. */
  kept?: string | undefined;
}

const EXTENSION_KEY_JSON = JSON.stringify(SIGNATURE_EXTENSION_ID);

export function createReleaseSigner(deps: ReleaseSignerDeps): ReleaseSigner {
  const home = deps.homeOrganisationId;

  return {
    async signReleases(releases, context) {
      const texts: string[] = releases.map((release) => release.entry.json);
      const wanted: Wanted[] = [];
      const unknownOrigin: number[] = [];
      let visible: ReadonlySet<string> | undefined;
      const hiddenFromRecipient = (signer: string, circle: Circle | undefined): boolean => {
        if (circle === undefined || circle.visibility !== 'hidden' || signer === home || signer === context.recipient.organisationId) return false;
        visible ??= new Set(visibleMembers(circle, context.recipient.organisationId).map((member) => member.organisationId));
        return !visible.has(signer);
      };

      releases.forEach((release, index) => {
        if (release.redacted !== undefined) {
          wanted.push(derivedForm(index, release, release.redacted));
          return;
        }
        const reading = readSignatureExtension(release.object);
        if (reading.kind === 'ok') {
          if (hiddenFromRecipient(reading.extension.signer, context.circle)) wanted.push(derivedForm(index, release, release.object));
          return;
        }
        // Sent to this node by a partner (TAXII POST, sync), here or copied here by the home
        // organisation (the gate counted its contributions): not the home organisation's to sign.
        if (release.contributions.length > 0) return;
        unknownOrigin.push(index);
      });

      const originKey = (index: number): SignatureKey => ({ ...releaseVersion(releases, index), variant: '' });
      // One lookup for every signature wanted. A kept signature of the stored form (variant '') means
      // this node originated the version (it signs nothing else so): no provenance lookup for it.
      // Answers come back by position: the derived forms first, then the stored forms of unknown origin
      // the listing did not bring their signature with (StoredEntry.originSignature).
      const unlisted = unknownOrigin.filter((index) => releases[index]?.entry.originSignature === undefined);
      const kept = wanted.length + unlisted.length === 0 ? [] : await deps.store.signaturesIn([...wanted.map((item) => item.key), ...unlisted.map(originKey)]);
      wanted.forEach((item, position) => {
        item.kept = kept[position];
      });
      const lookedUp = new Map(unlisted.map((index, position) => [index, kept[wanted.length + position]]));
      const keptOrigin = unknownOrigin.map((index) => releases[index]?.entry.originSignature ?? lookedUp.get(index));
      // Proven the home organisation's own by the gate: what came of it through other collections does not count.
      const unsure = unknownOrigin.filter((index, position) => keptOrigin[position] === undefined && releases[index]?.homeOriginal !== true);
      const provenance = unsure.length === 0 ? new Map<string, readonly unknown[]>() : await deps.store.provenanceOf(unsure.map((index) => releaseVersion(releases, index)));
      unknownOrigin.forEach((index, position) => {
        const release = releases[index] as SignableRelease;
        const origin = keptOrigin[position];
        // Received from a peer (or a file, or released from quarantine): leaves as it came.
        if (origin === undefined && release.homeOriginal !== true && (provenance.get(versionKey(release.entry.id, release.entry.version)) ?? []).length > 0) return;
        wanted.push({ index, key: originKey(index), form: release.object, derived: false, input: undefined, kept: origin });
      });
      if (wanted.length === 0) return texts;

      let keys: NodeSigningKeys | undefined;
      const made: (SignatureKey & { extensionJson: string; signer: string })[] = [];
      const madeNow = new Map<string, string>();
      for (const item of wanted) {
        let extensionJson = item.kept;
        // Not kept: made now, once for a version the page holds twice.
        const cacheKey = extensionJson === undefined ? signatureKey(item.key) : '';
        extensionJson ??= madeNow.get(cacheKey);
        if (extensionJson === undefined) {
          keys ??= await deps.keys.keys();
          extensionJson = JSON.stringify(signatureExtension(keys.at(versionTimeOf(item.form)), item.input ?? objectSigningInput(item.form), item.derived));
          made.push({ ...item.key, extensionJson, signer: home });
          madeNow.set(cacheKey, extensionJson);
        }
        const release = releases[item.index] as SignableRelease;
        texts[item.index] = withSignatureText(item.form, item.derived ? undefined : release.entry.json, extensionJson);
      }
      // Kept before anything leaves, so that the next release of the same version sends the same bytes.
      await deps.store.putSignatures(made);
      return texts;
    },
  };
}

function derivedForm(index: number, release: SignableRelease, form: StixObject): Wanted {
  const input = objectSigningInput(form);
  const variant = createHash('sha256').update(input).digest('hex');
  return { index, key: { id: release.entry.id, version: release.entry.version, variant }, form, derived: true, input };
}

/** A SignatureKey as one string, for a Map (sign-releases caches the signatures it makes by it). */
function signatureKey(key: SignatureKey): string {
  return `${key.id}\u0000${key.version}\u0000${key.variant}`;
}

function releaseVersion(releases: readonly SignableRelease[], index: number): { id: string; version: string } {
  const release = releases[index] as SignableRelease;
  return { id: release.entry.id, version: release.entry.version };
}

/** The instant of the version (`modified`, else `created`); undefined for an object without one (SCOs). */
function versionTimeOf(object: StixObject): number | undefined {
  const modified = object['modified'];
  const created = object['created'];
  const text = typeof modified === 'string' ? modified : typeof created === 'string' ? created : undefined;
  return text === undefined ? undefined : instantOf(text);
}

function signatureExtension(signer: NodeSigner, input: Buffer, derived: boolean): SignatureExtension {
  return {
    extension_type: 'property-extension',
    algorithm: SIGNATURE_ALGORITHM,
    signer: signer.organisationId,
    key_id: signer.keyId,
    signature: signBytes(signer, input),
    ...(derived ? { derived: true as const } : {}),
  };
}

/**
 * The JSON text of `form` carrying the signature extension. When the object has no `extensions` and
 * its stored text is at hand, the extension is appended to that text without serialising the object
 * again (the bytes signed are the canonical form, so any spelling of the same object verifies).
 */
export function withSignatureText(form: StixObject, storedJson: string | undefined, extensionJson: string): string {
  if (!Object.hasOwn(form, 'extensions')) {
    const text = storedJson ?? JSON.stringify(form);
    const end = text.lastIndexOf('}');
    const rest = text.slice(0, end).trimEnd();
    return `${rest}${rest.endsWith('{') ? '' : ','}"extensions":{${EXTENSION_KEY_JSON}:${extensionJson}}}`;
  }
  const unsigned = withoutEntenteSignature(form as JsonObject);
  const others = unsigned['extensions'];
  const extensions: [string, JsonValue][] = typeof others === 'object' && others !== null && !Array.isArray(others) ? Object.entries(others) : [];
  extensions.push([SIGNATURE_EXTENSION_ID, JSON.parse(extensionJson) as JsonValue]);
  return JSON.stringify(
    Object.fromEntries([...Object.entries(unsigned).filter(([key]) => key !== 'extensions'), ['extensions', Object.fromEntries(extensions)]]),
  );
}
