// The keys this node signs with (docs/federation.md, "Keys and signatures"). Receivers accept a
// signature only from a key that was valid at the version's `modified` time (decide-arrival.ts,
// rule key-not-valid), so a version is signed with the newest of the node's keys whose window holds
// its time, and a version without a time (an SCO) with the current key: the newest valid now.
// Read from the store and cached; `entente key rotate` in this process invalidates the cache, and a
// rotation made by another process (the CLI while the node runs) is seen within the cache's lifetime.
import { EntenteError } from '../errors/entente-error.ts';
import type { FederationStore, NodeKeyRecord } from '../store/federation-store.ts';
import { instantOf, parsePrivateKey, type NodeSigner } from './node-key.ts';

/** How long a read of the node's keys is used before the store is asked again. */
export const NODE_SIGNER_CACHE_MS = 30_000;

/** The node's usable keys at one moment. */
export interface NodeSigningKeys {
  /** The newest key valid now: signs rotation statements, messages, and versions without a time. */
  readonly current: NodeSigner;
  /** The key to sign a version whose time (`modified`, ms since the epoch) is given; the current key when none held it. */
  at(versionTime: number | undefined): NodeSigner;
}

export interface NodeSignerProvider {
  /** Throws ENT_KEY_NOT_FOUND when the node holds no key valid now. */
  keys(): Promise<NodeSigningKeys>;
  /** The current signer (`(await keys()).current`). */
  current(): Promise<NodeSigner>;
  /** Forgets the cached keys at once (after a rotation in this process). */
  invalidate(): void;
}

export interface NodeSignerDeps {
  readonly store: Pick<FederationStore, 'listNodeKeys'>;
  /** The home organisation's identity id: the signer named in every signature this node makes. */
  readonly organisationId: string;
  readonly clock: () => Date;
  readonly cacheMs?: number;
}

interface Window {
  readonly key: NodeKeyRecord;
  readonly from: number;
  readonly until: number;
}

function windowsOf(keys: readonly NodeKeyRecord[]): Window[] {
  const windows: Window[] = [];
  for (const key of keys) {
    const from = instantOf(key.validFrom);
    const until = key.validUntil === undefined ? Number.POSITIVE_INFINITY : instantOf(key.validUntil);
    if (from !== undefined && until !== undefined) windows.push({ key, from, until });
  }
  // Newest first: by valid_from, then by creation.
  return windows.sort((a, b) => b.from - a.from || b.key.createdAt.localeCompare(a.key.createdAt));
}

/** The newest key whose window [valid_from, valid_until) holds the instant; undefined when none does. Pure. */
export function nodeKeyAt(keys: readonly NodeKeyRecord[], at: number): NodeKeyRecord | undefined {
  return windowsOf(keys).find((window) => window.from <= at && at < window.until)?.key;
}

/** The newest key valid at `at` (the current key). Pure. */
export function currentNodeKey(keys: readonly NodeKeyRecord[], at: Date): NodeKeyRecord | undefined {
  return nodeKeyAt(keys, at.getTime());
}

export function createNodeSignerProvider(deps: NodeSignerDeps): NodeSignerProvider {
  const cacheMs = deps.cacheMs ?? NODE_SIGNER_CACHE_MS;
  let cached: { readonly keys: NodeSigningKeys; readonly readAt: number; readonly currentUntil: number } | undefined;
  let pending: Promise<NodeSigningKeys> | undefined;

  function signerOf(key: NodeKeyRecord): NodeSigner {
    const privateKey = parsePrivateKey(key.privateKey);
    if (!privateKey.ok) throw new EntenteError('ENT_KEY_NOT_FOUND', `The node key ${key.keyId} cannot be used: ${privateKey.error}`, { keyId: key.keyId });
    return { organisationId: deps.organisationId, keyId: key.keyId, privateKey: privateKey.value };
  }

  async function load(): Promise<NodeSigningKeys> {
    const now = deps.clock().getTime();
    const windows = windowsOf(await deps.store.listNodeKeys());
    const currentWindow = windows.find((window) => window.from <= now && now < window.until);
    if (currentWindow === undefined) {
      throw new EntenteError('ENT_KEY_NOT_FOUND', 'This node holds no signing key valid now; restart the node to create one, or run entente key rotate');
    }
    const signers = new Map<string, NodeSigner>();
    const signer = (key: NodeKeyRecord): NodeSigner => {
      let found = signers.get(key.keyId);
      if (found === undefined) {
        found = signerOf(key);
        signers.set(key.keyId, found);
      }
      return found;
    };
    const current = signer(currentWindow.key);
    const keys: NodeSigningKeys = {
      current,
      at(versionTime) {
        if (versionTime === undefined) return current;
        const window = windows.find((candidate) => candidate.from <= versionTime && versionTime < candidate.until);
        return window === undefined ? current : signer(window.key);
      },
    };
    cached = { keys, readAt: now, currentUntil: currentWindow.until };
    return keys;
  }

  async function keys(): Promise<NodeSigningKeys> {
    const now = deps.clock().getTime();
    if (cached !== undefined && now >= cached.readAt && now - cached.readAt < cacheMs && now < cached.currentUntil) return cached.keys;
    // One store read however many requests ask at once.
    pending ??= load().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  return {
    keys,
    current: async () => (await keys()).current,
    invalidate() {
      cached = undefined;
    },
  };
}
