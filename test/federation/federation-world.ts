/**
 * A world of real Entente nodes for the federation tests: each node is a separate `entente start`
 * process with its own data directory and SQLite file (port 0 at first, the same port on restart,
 * so that the peer links made to it stay valid); `entente` commands run in this process against the
 * same data directory (WAL lets them share the file with the running node). The world registers
 * partners, issues tokens, links peers, waits for convergence against a deadline (polling, never
 * sleeping blindly), and stops, kills and restarts nodes. And the plumbing of a small HTTP server a
 * test puts between a node and its peer, to pass the peer's answers on or spoil them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runEntente, temporaryDirectory, type CliRun } from '../cli/cli-kit.ts';
import { startNodeProcess, type NodeProcess } from '../node/node-process.ts';

const TAXII = 'application/taxii+json;version=2.1';

/** What the tests call an organisation's kind (entente org add --kind). */
export type OrganisationKind = 'government' | 'company' | 'ngo' | 'international';

export interface NodeSpec {
  /** Short name: data directory, token and peer names. Letters, digits and '-'. */
  readonly name: string;
  readonly orgName: string;
  readonly kind: OrganisationKind;
  readonly country?: string;
  readonly sectors?: readonly string[];
  /** Extra environment of the node process only (ENTENTE_CLOCK_OFFSET_MS …). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface StixLike {
  readonly id: string;
  readonly type: string;
  readonly modified?: string;
  readonly created?: string;
  readonly [key: string]: unknown;
}

export interface PeerLink {
  /** The peer's name on the holder. */
  readonly name: string;
  readonly circle: string;
  readonly push?: boolean;
  /** Seconds between cycles (the product's minimum is 5). */
  readonly intervalSeconds?: number;
  /** The URL the holder is given (default: the issuer's discovery URL). */
  readonly url?: string;
  /** The token the issuer gave the holder's organisation. */
  readonly token: string;
  /** The collection on the issuer (default: the one the product chooses). */
  readonly collection?: string;
}

export class WorldNode {
  readonly spec: NodeSpec;
  readonly dataDir: string;
  organisationId = '';
  adminToken = '';
  /** The port it listens on (fixed after the first start). */
  port = 0;
  /** Extra environment of the node process from the next start on (ENTENTE_CLOCK_OFFSET_MS …). */
  env: Record<string, string>;
  private process: NodeProcess | undefined;
  private exited: Promise<void> | undefined;

  constructor(spec: NodeSpec, dataDir: string) {
    this.spec = spec;
    this.dataDir = dataDir;
    this.env = { ...spec.env };
  }

  get name(): string {
    return this.spec.name;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** The process id of the running node (benchmarks read its CPU time). */
  get pid(): number | undefined {
    return this.process?.child.pid;
  }

  /** http://127.0.0.1:PORT of the running node. */
  get url(): string {
    assert.ok(this.port !== 0, `${this.name} has never been started`);
    return `http://127.0.0.1:${this.port}`;
  }

  get discoveryUrl(): string {
    return `${this.url}/taxii2/`;
  }

  /** What the node process printed (for assertion messages). */
  output(): string {
    return this.process?.output() ?? '';
  }

  /** Creates the data directory, the home organisation and the admin token (the first `entente` command does it). */
  async initialise(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    const orgs = JSON.parse(await this.cli('org', 'list', '--json')) as { id: string; home: boolean }[];
    const home = orgs.find((org) => org.home);
    assert.ok(home !== undefined, `${this.name} has no home organisation`);
    this.organisationId = home.id;
    this.adminToken = readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim();
  }

  private cliEnv(): NodeJS.ProcessEnv {
    return { ENTENTE_DATA: this.dataDir, ENTENTE_ORG_NAME: this.spec.orgName, ENTENTE_LOG_LEVEL: 'silent' };
  }

  /** `entente ARGS…` against this node's data directory; the outcome as it is. */
  cliRun(args: readonly string[], stdin = ''): Promise<CliRun> {
    return runEntente(args, { env: this.cliEnv(), stdin });
  }

  /** `entente ARGS…` that must succeed; its stdout. */
  async cli(...args: string[]): Promise<string> {
    const result = await this.cliRun(args);
    assert.equal(result.code, 0, `${this.name}: entente ${args.join(' ')} exited ${result.code}\n${result.stderr}`);
    return result.stdout;
  }

  /** Starts `entente start` on port 0 the first time, on the same port afterwards. */
  async start(): Promise<void> {
    assert.ok(this.process === undefined, `${this.name} is running already`);
    const started = await startNodeProcess(['--host', '127.0.0.1', '--port', String(this.port)], {
      ENTENTE_DATA: this.dataDir,
      ENTENTE_ORG_NAME: this.spec.orgName,
      ENTENTE_LOG_LEVEL: 'warn',
      ...this.env,
    });
    this.process = started;
    this.exited = new Promise((resolve) => {
      if (started.child.exitCode !== null || started.child.signalCode !== null) resolve();
      else started.child.once('exit', () => resolve());
    });
    this.port = Number(new URL(started.url).port);
  }

  /** SIGTERM, and waits for the process to end (SIGKILL after 10 s). */
  async stop(): Promise<void> {
    const running = this.process;
    if (running === undefined) return;
    running.child.kill('SIGTERM');
    const timer = setTimeout(() => running.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
    this.process = undefined;
  }

  /** SIGKILL: no chance to finish anything (kill -9). */
  async kill(): Promise<void> {
    const running = this.process;
    if (running === undefined) return;
    running.child.kill('SIGKILL');
    await this.exited;
    this.process = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** A request to the running node with a token (the admin token by default); the JSON answer. */
  async request(path: string, options: { token?: string; method?: string; body?: unknown; accept?: string; contentType?: string } = {}): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? this.adminToken}`, accept: options.accept ?? 'application/json' };
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await fetch(`${this.url}${path}`, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body };
  }

  /** Every version of every object of a collection as the reader may see it (the admin: as stored), over TAXII. */
  async objects(collectionId: string, token?: string): Promise<StixLike[]> {
    const objects: StixLike[] = [];
    let next: string | undefined;
    for (let page = 0; page < 10_000; page += 1) {
      const query = new URLSearchParams({ 'match[version]': 'all', limit: '1000', ...(next === undefined ? {} : { next }) });
      const answer = await this.request(`/taxii2/api/collections/${encodeURIComponent(collectionId)}/objects/?${query.toString()}`, {
        accept: TAXII,
        ...(token === undefined ? {} : { token }),
      });
      assert.equal(answer.status, 200, `${this.name}: reading collection ${collectionId}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      const envelope = answer.body as { objects?: StixLike[]; more?: boolean; next?: string };
      objects.push(...(envelope.objects ?? []));
      if (envelope.more !== true || envelope.next === undefined) return objects;
      next = envelope.next;
    }
    throw new Error(`${this.name}: collection ${collectionId} never ended`);
  }

  /**
   * `id@version` of every entry of a collection, read straight from the SQLite file (read-only; the
   * node may be running, or dead): what is stored, whatever the read paths would show.
   */
  storedVersions(collectionId: string): string[] {
    const database = new Database(join(this.dataDir, 'entente.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return database
        .prepare(
          `SELECT v.object_id || '@' || v.version FROM entries e JOIN collections c ON c.key = e.collection_key JOIN object_versions v ON v.vid = e.vid WHERE c.id = ?`,
        )
        .pluck()
        .all(collectionId) as string[];
    } finally {
      database.close();
    }
  }

  /** The node's identity document (organisation and public keys) as it publishes it. */
  async identity(): Promise<{ organisation: StixLike; keys: { key_id: string; public_key: string; valid_from: string; valid_until?: string }[] }> {
    const answer = await this.request('/api/federation/node');
    assert.equal(answer.status, 200, `${this.name}: GET /api/federation/node: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    return answer.body as { organisation: StixLike; keys: { key_id: string; public_key: string; valid_from: string; valid_until?: string }[] };
  }

  /** Imports STIX objects into a collection with `entente import` (a bundle file in the data directory). */
  async publish(collectionId: string, objects: readonly object[]): Promise<void> {
    const file = join(this.dataDir, `publish-${collectionId}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ type: 'bundle', id: 'bundle--0b5e1a4c-0000-4000-8000-000000000000', objects }));
    await this.cli('import', file, '--collection', collectionId);
  }

  /** `entente peer status NAME --json`. */
  async peerStatus(peer: string): Promise<PeerStatusJson> {
    const statuses = JSON.parse(await this.cli('peer', 'status', peer, '--json')) as PeerStatusJson[];
    const status = statuses[0];
    assert.ok(status !== undefined, `${this.name}: no status for peer ${peer}`);
    return status;
  }

  /** One sync cycle of a peer now, in the running node (POST /api/peers/NAME/sync); its answer. */
  async syncNow(peer: string): Promise<{ status: number; body: unknown }> {
    return this.request(`/api/peers/${encodeURIComponent(peer)}/sync`, { method: 'POST', body: {} });
  }
}

export interface PeerStatusJson {
  readonly name: string;
  readonly last_success_at: string | null;
  readonly last_error: { code: string; message: string; at: string } | null;
  readonly consecutive_failures: number;
  readonly objects_in: number;
  readonly objects_out: number;
  readonly quarantined: number;
  readonly pull_cursor: { added_after: string | null; next: string | null } | null;
  readonly push_cursor: string | null;
}

export interface World {
  readonly root: string;
  readonly nodes: WorldNode[];
  /** Creates and initialises a node (not started). */
  node(spec: NodeSpec): Promise<WorldNode>;
  /** Registers every node's organisation on every other node (entente org add --id). */
  introduce(nodes: readonly WorldNode[]): Promise<void>;
  /** A token on `issuer` acting for `holder`'s organisation with these grants (COLLECTION:r|w|rw,…); its secret. */
  issueToken(issuer: WorldNode, holder: WorldNode, grants: string): Promise<string>;
  /**
   * Links `holder` to `issuer` (entente peer add on the holder's data directory; through POST
   * /api/peers when the holder runs, so that its scheduler knows the peer at once).
   */
  link(holder: WorldNode, issuer: WorldNode, link: PeerLink): Promise<void>;
  /** The member accepts the current terms of a circle on the coordinator's node, with its public keys (POST /api/circles/ID/accept). */
  accept(member: WorldNode, coordinator: WorldNode, circleId: string, token: string): Promise<void>;
  /**
   * The member's own node accepts the current terms of a circle it mirrors (`entente circle accept
   * C`, through its peer link to the coordinator), so that its acceptance counts there too.
   */
  acceptThroughLink(member: WorldNode, coordinator: WorldNode, circleId: string, token: string): Promise<void>;
  /** Stops every node (SIGTERM) and removes the directories. */
  close(): Promise<void>;
}

export async function createWorld(prefix: string): Promise<World> {
  const directory = temporaryDirectory(prefix);
  const nodes: WorldNode[] = [];
  return {
    root: directory.path,
    nodes,
    async node(spec) {
      const node = new WorldNode(spec, join(directory.path, spec.name));
      await node.initialise();
      nodes.push(node);
      return node;
    },
    introduce,
    issueToken,
    link,
    accept,
    acceptThroughLink,
    async close() {
      await Promise.all(nodes.map((node) => node.stop()));
      directory.remove();
    },
  };
}

/** Registers every node's organisation on every other node (entente org add --id). */
export async function introduce(members: readonly WorldNode[]): Promise<void> {
  for (const self of members) {
    const known = new Set((JSON.parse(await self.cli('org', 'list', '--json')) as { id: string }[]).map((org) => org.id));
    for (const other of members) {
      if (other === self || known.has(other.organisationId)) continue;
      await self.cli(
        'org', 'add', other.spec.orgName, '--kind', other.spec.kind, '--id', other.organisationId,
        ...(other.spec.country === undefined ? [] : ['--country', other.spec.country]),
        ...(other.spec.sectors === undefined || other.spec.sectors.length === 0 ? [] : ['--sector', ...other.spec.sectors]),
      );
    }
  }
}

let tokensIssued = 0;

/** A token on `issuer` acting for `holder`'s organisation with these grants (COLLECTION:r|w|rw,…); its secret. */
export async function issueToken(issuer: WorldNode, holder: WorldNode, grants: string): Promise<string> {
  tokensIssued += 1;
  const secret = (await issuer.cli('token', 'create', '--name', `${holder.name}-${tokensIssued}`, '--org', holder.organisationId, '--collections', grants)).trim();
  assert.match(secret, /\S{20,}/, `${issuer.name}: token create printed no secret`);
  return secret;
}

/**
 * Links `holder` to `issuer` (entente peer add on the holder's data directory; through POST
 * /api/peers when the holder runs, so that its scheduler knows the peer at once).
 */
export async function link(holder: WorldNode, issuer: WorldNode, peer: PeerLink): Promise<void> {
  const url = peer.url ?? issuer.discoveryUrl;
  const interval = `${Math.round((peer.intervalSeconds ?? 5) * 1000)}ms`;
  const collection = peer.collection === undefined ? [] : ['--collection', peer.collection];
  if (holder.running) {
    const answer = await holder.request('/api/peers', {
      body: { name: peer.name, url, token: peer.token, circle: peer.circle, push: peer.push === true, interval, ...(peer.collection === undefined ? {} : { collection: peer.collection }) },
    });
    assert.equal(answer.status, 201, `${holder.name}: POST /api/peers ${peer.name}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}`);
    return;
  }
  await holder.cli('peer', 'add', peer.name, url, '--circle', peer.circle, '--token', peer.token, '--interval', interval, ...collection, ...(peer.push === true ? ['--push'] : []));
}

/**
 * The member's own node accepts the current terms of a circle it mirrors (`entente circle accept C`:
 * on the coordinator's node through the peer link, where accepting again changes nothing, and
 * recorded here). A member's node never takes its own organisation's acceptance from the
 * coordinator's view (mirror-circle.ts), so one made on the coordinator's node alone binds nothing
 * here. Before the member links to the coordinator for the circle, a link is added for the
 * acceptance alone (mirroring the circle) and removed after; the member's node must not run then,
 * or its scheduler could sync through that link.
 */
export async function acceptThroughLink(member: WorldNode, coordinator: WorldNode, circleId: string, token: string): Promise<void> {
  const peers = JSON.parse(await member.cli('peer', 'list', '--json')) as { circle_id: string; organisation_id: string }[];
  if (peers.some((peer) => peer.circle_id === circleId && peer.organisation_id === coordinator.organisationId)) {
    // A member's node accepts the latest version its mirror holds, never one it has not seen: as an
    // administrator reviews the terms first, wait for a sync to mirror the coordinator's latest.
    const latest = async (node: WorldNode): Promise<number> => {
      const answer = await node.request(`/api/circles/${encodeURIComponent(circleId)}`);
      const agreements = (answer.body as { agreements?: { version: number }[] }).agreements ?? [];
      return Math.max(0, ...agreements.map((agreement) => agreement.version));
    };
    const wanted = await latest(coordinator);
    await waitFor(`${member.name}'s mirror of ${circleId} holds agreement version ${wanted}`, async () => ((await latest(member)) >= wanted ? true : undefined), { deadlineMs: 30_000, everyMs: 300 });
    await member.cli('circle', 'accept', circleId);
    return;
  }
  assert.ok(!member.running, `${member.name} has no link for ${circleId} yet: stop it, or link it first`);
  const name = `accept-${circleId}`;
  await member.cli('peer', 'add', name, coordinator.discoveryUrl, '--circle', circleId, '--token', token);
  try {
    await member.cli('circle', 'accept', circleId);
  } finally {
    await member.cli('peer', 'remove', name);
  }
}

/** The member accepts the current terms of a circle on the coordinator's node, with its public keys (POST /api/circles/ID/accept). */
export async function accept(member: WorldNode, coordinator: WorldNode, circleId: string, token: string): Promise<void> {
  const identity = await member.identity();
  const answer = await coordinator.request(`/api/circles/${encodeURIComponent(circleId)}/accept`, { token, body: { public_keys: identity.keys } });
  assert.equal(answer.status, 200, `${member.name} accepting ${circleId} on ${coordinator.name}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}`);
}

/**
 * Polls `check` until it returns something other than undefined, or throws when the deadline
 * passes, with what the last look found (`describe`).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { deadlineMs?: number; everyMs?: number; describe?: () => Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (options.deadlineMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const found = options.describe === undefined ? '' : `\n${await options.describe().catch((error: unknown) => String(error))}`;
      const cause = lastError === undefined ? '' : `\nlast error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`not reached within ${options.deadlineMs ?? 30_000} ms: ${what}${found}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 200));
  }
}

/** `id@modified` of every version, sorted: what two holdings are compared by. */
export function versionsOf(objects: readonly StixLike[]): string[] {
  return objects.map((object) => `${object.id}@${String(object.modified ?? object.created ?? '')}`).sort();
}

export function idsOf(objects: readonly StixLike[]): string[] {
  return [...new Set(objects.map((object) => object.id))].sort();
}

// ---- A server between a node and its peer ----

/** The whole body of a request the server between received. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The headers of a request the server between passes on to the peer behind it: authorization, accept, content-type. */
export function forwardedHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['authorization', 'accept', 'content-type']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

/** Answers with the peer's answer as the server between passes it on: its status, content type and X-TAXII-* headers, and `text` for body. */
export function passAnswer(response: ServerResponse, upstream: Response, text: string): void {
  const headers: Record<string, string> = {};
  upstream.headers.forEach((value, name) => {
    if (name === 'content-type' || name.startsWith('x-taxii-')) headers[name] = value;
  });
  response.writeHead(upstream.status, headers);
  response.end(text);
}

/** Starts the server between on 127.0.0.1, port 0: its origin (http://127.0.0.1:PORT), and how to close it, open connections too. */
export async function listenBetween(server: Server): Promise<{ origin: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
