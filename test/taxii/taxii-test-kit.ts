/**
 * A node for end-to-end TAXII tests: an in-memory SQLite store holding the medallion fixture's
 * collections and objects, tokens with different grants, and the HTTP app. Used through `app.inject`.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createHttpApp, type HttpAppDeps } from '../../src/server/create-http-app.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { CollectionGrant, ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

export const TAXII = 'application/taxii+json;version=2.1';
export const API = '/taxii2/api/';

interface FixtureCollection {
  id: string;
  title: string;
  description?: string;
  objects?: StixObject[];
}
interface Fixture {
  trustgroup1: { collections: FixtureCollection[] };
}

export const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/taxii-medallion/default_data.json', import.meta.url), 'utf8'),
) as Fixture;

/** The medallion collection that holds objects (8 versions of 5 objects). */
export const HIGH_VALUE = '91a7b528-80eb-42ed-a74d-c6fbd5a26116';
/** Read-only for the analyst token. */
export const PAST_24H = '52892447-4d7e-4f70-b94d-d7f22742ff63';
/** Write-only for the analyst token. */
export const QUERY_TEST = '472c94ae-3113-4e3e-a4dd-a9f4ac7471d4';
/** Read and write for the analyst token, empty: POST tests write here. */
export const ADD_TEST = '365fed99-08fa-fdcd-a1b3-fb247eb41d01';
/** No token but admin has a grant. */
export const SECRET = '64993447-4d7e-4f70-b94d-d7f33742ee63';

export const secrets = {
  admin: 'ent_admin-secret-000000000000000000000000000',
  analyst: 'ent_analyst-secret-0000000000000000000000000',
  reader: 'ent_reader-secret-00000000000000000000000000',
  outsider: 'ent_outsider-secret-0000000000000000000000',
  revoked: 'ent_revoked-secret-00000000000000000000000',
} as const;

export type TokenName = keyof typeof secrets;

const grants: Record<TokenName, CollectionGrant[]> = {
  admin: [],
  analyst: [
    { collectionId: HIGH_VALUE, read: true, write: true },
    { collectionId: ADD_TEST, read: true, write: true },
    { collectionId: PAST_24H, read: true, write: false },
    { collectionId: QUERY_TEST, read: false, write: true },
  ],
  reader: [{ collectionId: HIGH_VALUE, read: true, write: false }],
  outsider: [],
  revoked: [{ collectionId: HIGH_VALUE, read: true, write: true }],
};

export interface TestNode {
  readonly app: FastifyInstance;
  readonly store: ObjectStore;
  readonly logLines: string[];
  close(): Promise<void>;
}

export interface TestNodeOptions {
  readonly limits?: HttpAppDeps['limits'];
  readonly tokenCacheTtlMs?: number;
  readonly logLevel?: string;
  /** Skip loading the fixture's objects. */
  readonly empty?: boolean;
  /** The node's drafting time limit (NodeConfig.draftTimeLimitMs). */
  readonly draftTimeLimitMs?: number;
  /** How long the body of POST /api/drafts may take to arrive (HttpAppDeps.draftUploadReceiveLimitMs). */
  readonly draftUploadReceiveLimitMs?: number;
  /** Requests with a body one token may have under way at once (HttpAppDeps.maxUploadsPerToken). */
  readonly maxUploadsPerToken?: number;
}

export async function startTestNode(options: TestNodeOptions = {}): Promise<TestNode> {
  const store = openSqliteObjectStore({ path: ':memory:' });
  const now = new Date('2026-11-22T23:00:00.000Z');
  for (const collection of fixture.trustgroup1.collections) {
    await store.createCollection(
      { id: collection.id, title: collection.title, ...(collection.description === undefined ? {} : { description: collection.description }) },
      now,
    );
  }
  if (options.empty !== true) {
    const source = fixture.trustgroup1.collections.find((c) => c.id === HIGH_VALUE);
    await store.addObjects(HIGH_VALUE, source?.objects ?? []);
  }
  for (const name of Object.keys(secrets) as TokenName[]) {
    await store.createToken({
      name,
      secretHash: hashTokenSecret(secrets[name]),
      admin: name === 'admin',
      grants: grants[name],
      organisationId: undefined,
      createdAt: now.toISOString(),
      revokedAt: undefined,
    });
  }
  await store.revokeToken('revoked', now);

  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  const logger = pino({ level: options.logLevel ?? 'info' }, sink);
  const app = await createHttpApp({
    store,
    logger,
    limits: options.limits ?? { maxBodyBytes: 64 * 1024 * 1024, maxJsonDepth: 64 },
    clock: () => new Date(),
    randomUuid: randomUUID,
    homeOrganisationId: 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d',
    node: { title: 'Entente test node', description: 'TAXII conformance tests', apiRootPath: 'api' },
    ...(options.tokenCacheTtlMs === undefined ? {} : { tokenCacheTtlMs: options.tokenCacheTtlMs }),
    ...(options.draftTimeLimitMs === undefined ? {} : { draftTimeLimitMs: options.draftTimeLimitMs }),
    ...(options.draftUploadReceiveLimitMs === undefined ? {} : { draftUploadReceiveLimitMs: options.draftUploadReceiveLimitMs }),
    ...(options.maxUploadsPerToken === undefined ? {} : { maxUploadsPerToken: options.maxUploadsPerToken }),
  });
  return {
    app,
    store,
    logLines,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

export function bearer(name: TokenName): Record<string, string> {
  return { authorization: `Bearer ${secrets[name]}`, accept: TAXII };
}

export function basic(name: TokenName, user = 'anyone'): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${secrets[name]}`).toString('base64')}`, accept: TAXII };
}

export interface TaxiiErrorJson {
  title: string;
  description: string;
  error_id: string;
  error_code: string;
  http_status: string;
  details?: Record<string, unknown>;
}

export function errorOf(response: LightMyRequestResponse): TaxiiErrorJson {
  return response.json<TaxiiErrorJson>();
}

export function indicator(n: number, overrides: Record<string, unknown> = {}): StixObject {
  const suffix = n.toString(16).padStart(12, '0');
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--00000000-0000-4000-8000-${suffix}`,
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
    name: `Indicator ${n}`,
    pattern: `[ipv4-addr:value = '10.0.${Math.floor(n / 256) % 256}.${n % 256}']`,
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00Z',
    ...overrides,
  } as StixObject;
}
