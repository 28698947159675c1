/**
 * A node for /api/circles tests: the TAXII test node (empty), partner organisations registered,
 * and one token acting for each partner with read grants on the circles' collections.
 */
import type { LightMyRequestResponse } from 'fastify';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { startTestNode, type TestNode, type TestNodeOptions } from '../taxii/taxii-test-kit.ts';

/** The home organisation of the TAXII test node. */
export const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';

export const ORG = {
  bank: 'identity--0b000000-0000-4000-8000-000000000002',
  ngo: 'identity--0c000000-0000-4000-8000-000000000003',
  grid: 'identity--0d000000-0000-4000-8000-000000000004',
  stranger: 'identity--0e000000-0000-4000-8000-000000000005',
} as const;

export type Partner = keyof typeof ORG;
/** Partners, plus the node's own admin token and its non-admin analyst token. */
export type Caller = Partner | 'admin' | 'analyst';

const partnerSecret = (partner: Partner): string => `ent_${partner}-partner-secret-000000000000000000`.slice(0, 44);
const homeSecrets = { admin: 'ent_admin-secret-000000000000000000000000000', analyst: 'ent_analyst-secret-0000000000000000000000000' } as const;

/** The Authorization header of a caller's token. */
export function authorization(caller: Caller): string {
  return `Bearer ${caller === 'admin' || caller === 'analyst' ? homeSecrets[caller] : partnerSecret(caller)}`;
}

export interface CircleApiNode extends TestNode {
  call(caller: Caller | undefined, method: 'GET' | 'POST', url: string, body?: unknown): Promise<LightMyRequestResponse>;
}

/**
 * `collections`: the collections partner tokens may read (the circles' collections, created by the
 * test). `options`: the node's settings a test changes.
 */
export async function startCircleApiNode(collections: readonly string[], options: Pick<TestNodeOptions, 'draftTimeLimitMs' | 'draftUploadReceiveLimitMs' | 'maxUploadsPerToken'> = {}): Promise<CircleApiNode> {
  const node = await startTestNode({ empty: true, tokenCacheTtlMs: 0, ...options });
  const now = new Date('2026-11-22T23:00:00.000Z');
  for (const partner of Object.keys(ORG) as Partner[]) {
    await node.store.createOrganisation({
      id: ORG[partner], name: partner, kind: 'company', sectors: ['energy'], country: undefined, identityJson: '{}', createdAt: now.toISOString(),
    });
    await node.store.createToken({
      name: `${partner}-token`,
      secretHash: hashTokenSecret(partnerSecret(partner)),
      admin: false,
      grants: collections.map((collectionId) => ({ collectionId, read: true, write: false })),
      organisationId: ORG[partner],
      createdAt: now.toISOString(),
      revokedAt: undefined,
    });
  }
  return {
    ...node,
    async call(caller, method, url, body) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (caller !== undefined) headers['authorization'] = authorization(caller);
      if (body !== undefined) headers['content-type'] = 'application/json';
      return node.app.inject({
        method,
        url,
        headers,
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    },
  };
}

export interface ErrorBody {
  title: string;
  description: string;
  error_id: string;
  error_code: string;
  http_status: string;
  details?: Record<string, unknown>;
}

export function errorOf(response: LightMyRequestResponse): ErrorBody {
  return response.json<ErrorBody>();
}
