/**
 * An alliance of real nodes for the flash and recall tests: each one started by compose.ts's
 * startNode (its own SQLite file in a temporary directory, HTTP on a free port, the recall sender
 * and the flash retrier running), every node knowing every other: the organisation registered, a
 * partner token issued to it, an Entente peer link to it with the token it issued, its key pinned,
 * and the same circle (first node coordinator) on every node.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { startNode, type RunningNode } from '../../src/compose.ts';
import { resolveNodeConfig, type NodeConfig } from '../../src/node-config.ts';
import type { Circle } from '../../src/policy/circle.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { parsePrivateKey, type NodeSigner } from '../../src/federation/node-key.ts';
import { temporaryDirectory } from '../cli/cli-kit.ts';

export interface AllianceNode {
  readonly name: string;
  readonly organisationId: string;
  readonly dataDir: string;
  readonly adminToken: string;
  node: RunningNode;
  url: string;
  /** Stops the node (the port is free until restart). */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port. */
  restart(): Promise<void>;
}

export interface Alliance {
  readonly nodes: AllianceNode[];
  readonly circleId: string;
  /** The secret `issuer` issued to `holder`'s organisation (what holder's peer link to issuer uses). */
  partnerSecret(issuer: AllianceNode, holder: AllianceNode): string;
  close(): Promise<void>;
}

function configOf(dataDir: string, name: string, port: number, flashLimit: number | undefined): NodeConfig {
  return resolveNodeConfig([{ dataDir, orgName: name, host: '127.0.0.1', port: String(port), logLevel: 'silent', flashLimit }], hostname());
}

export async function startAlliance(
  names: readonly string[],
  circleId = 'grid-2026',
  options: { readonly endRule?: 'recall' | 'retain'; readonly flashLimit?: number } = {},
): Promise<Alliance> {
  const directory = temporaryDirectory('alliance');
  const nodes: AllianceNode[] = [];
  for (const name of names) {
    const dataDir = `${directory.path}/${name}`;
    let node = await startNode(configOf(dataDir, name, 0, options.flashLimit));
    const port = Number(new URL(node.url).port);
    const entry: AllianceNode = {
      name,
      organisationId: node.identity.homeOrganisation.id,
      dataDir,
      adminToken: readFileSync(`${dataDir}/admin.token`, 'utf8').trim(),
      node,
      url: node.url,
      async stop() {
        await entry.node.close();
      },
      async restart() {
        node = await startNode(configOf(dataDir, name, port, options.flashLimit));
        entry.node = node;
        entry.url = node.url;
      },
    };
    nodes.push(entry);
  }
  const secret = (issuer: AllianceNode, holder: AllianceNode): string => `ent_${issuer.name}-for-${holder.name}-secret-0000000000000000000000`.slice(0, 44);
  const now = new Date();
  const validFrom = new Date(now.getTime() - 3_600_000).toISOString();
  const coordinator = nodes[0];
  if (coordinator === undefined) throw new Error('an alliance needs a node');
  const circle: Circle = {
    id: circleId,
    name: 'Grid operators',
    kind: 'tacit',
    visibility: 'open',
    collectionId: circleId,
    defaultTlp: 'amber',
    validFrom,
    validUntil: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
    members: nodes.map((member, index) => ({ organisationId: member.organisationId, role: index === 0 ? 'coordinator' : 'contributor', joinedAt: validFrom, trial: false })),
  };
  for (const self of nodes) {
    const store = self.node.store;
    await store.createCollection({ id: circleId, title: circle.name }, now);
    await store.createCircle(circle, now);
    for (const other of nodes) {
      if (other === self) continue;
      const identity = other.node.identity.homeOrganisation;
      await store.createOrganisation({
        id: other.organisationId, name: other.name, kind: 'company', sectors: ['energy'], country: undefined, identityJson: JSON.stringify(identity), createdAt: now.toISOString(),
      });
      await store.createToken({
        name: `${other.name}-partner`,
        secretHash: hashTokenSecret(secret(self, other)),
        admin: false,
        grants: [{ collectionId: circleId, read: true, write: true }],
        organisationId: other.organisationId,
        createdAt: now.toISOString(),
        revokedAt: undefined,
      });
      await store.addPeer({
        name: other.name,
        url: `${other.url}/taxii2/`,
        apiRootUrl: `${other.url}/taxii2/api/`,
        token: secret(other, self),
        circleId,
        localCollectionId: circleId,
        remoteCollectionId: circleId,
        organisationId: other.organisationId,
        kind: 'entente',
        push: false,
        intervalSeconds: 3600,
        silentAfter: 3,
        createdAt: now.toISOString(),
      });
      for (const key of await other.node.store.listNodeKeys()) {
        await store.pinKey({
          organisationId: other.organisationId, keyId: key.keyId, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: key.validUntil, source: 'peer-add', pinnedAt: now.toISOString(),
        });
      }
    }
  }
  // The coordinator's terms, accepted by every member, so that releases are audited and the end rule
  // binds; every member's node holds them too, as it mirrors them from the coordinator (mirror-circle.ts),
  // since a flash is taken only from a member whose acceptance it knows (flash-recipients.ts flashSenderRefusal).
  for (const { node: { store } } of nodes) {
    await store.addAgreement({ circleId, version: 1, proposedBy: coordinator.organisationId, proposedAt: validFrom, terms: openTerms({ endRule: options.endRule ?? 'recall' }) });
    for (const member of nodes) await store.addAcceptance({ circleId, organisationId: member.organisationId, version: 1, acceptedAt: validFrom });
  }
  return {
    nodes,
    circleId,
    partnerSecret: secret,
    async close() {
      for (const node of nodes) await node.node.close().catch(() => undefined);
      directory.remove();
    },
  };
}

/** `entente` settings for running the CLI against a node's data directory (while it runs). */
export function cliEnv(node: AllianceNode): NodeJS.ProcessEnv {
  return { ENTENTE_DATA: node.dataDir, ENTENTE_LOG_LEVEL: 'silent' };
}

/** What `node` signs its own messages with: its first node key. */
export async function signerOf(node: AllianceNode): Promise<NodeSigner> {
  const [key] = await node.node.store.listNodeKeys();
  assert.ok(key !== undefined);
  const privateKey = parsePrivateKey(key.privateKey);
  assert.ok(privateKey.ok);
  return { organisationId: node.organisationId, keyId: key.keyId, privateKey: privateKey.value };
}
