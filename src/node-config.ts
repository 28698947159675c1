import { isIP } from 'node:net';
import { EntenteError } from './errors/entente-error.ts';

/** Everything a node needs to start, after flags, environment and config file are merged and checked. */
export interface NodeConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly orgName: string;
  readonly logLevel: LogLevel;
  readonly maxBodyBytes: number;
  readonly maxJsonDepth: number;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Plain HTTP on a non-loopback address, acknowledged because a TLS proxy sits in front. */
  readonly insecureHttp: boolean;
  /** HTTP worker processes sharing the port and the database (node:cluster); 1 serves from this process. */
  readonly workers: number;
  /** New flash messages one member's node may deliver here in an hour (docs/federation.md). */
  readonly flashLimit: number;
  /**
   * Longest one report may take to become a draft over REST (POST /api/drafts: reading, extraction
   * and tagging on a worker thread), in milliseconds; past it the report is abandoned (ENT_EXTRACT_TIMEOUT).
   */
  readonly draftTimeLimitMs: number;
  /**
   * How long a request's headers may take to arrive, in milliseconds, from the connection's first
   * byte (or its opening); past it the node answers 408 ENT_HTTP_REQUEST_TIMEOUT and closes it.
   * Over TLS the handshake, before any request, gets as long (then the connection is only closed).
   * A request the node is not reading, held behind answers its client has not taken (pipelining),
   * gets this and requestTimeoutMs from when the node reads the connection again.
   */
  readonly headersTimeoutMs: number;
  /**
   * How long a whole request, headers and body, may take to arrive, in milliseconds; past it as
   * past headersTimeoutMs. Not its handling, however long. An answer must be taken by the client
   * within as long from when it starts to be sent, else the connection is closed (a client that
   * never reads held it and the answer for ever); the alert stream, unending, is not cut.
   */
  readonly requestTimeoutMs: number;
  /** Connections one HTTP process holds at once (each worker of --workers); past it a new one is closed unanswered. */
  readonly maxConnections: number;
  /**
   * Uploads (requests with a body of more than 64 KiB or of undeclared length: TAXII POST objects,
   * POST /api/drafts, any other) one token may have received or handled at once, across the node (with workers the primary counts them, server/upload-places.ts); past it 429 ENT_HTTP_TOO_MANY_UPLOADS
   * before any of the body is read. The administrator token is counted too.
   */
  readonly maxUploadsPerToken: number;
  /**
   * On stop, how long requests still receiving their body may go on arriving, in milliseconds; past
   * it they are answered 503 ENT_NODE_SHUTTING_DOWN and their connections closed (nothing of them was kept).
   */
  readonly shutdownGraceMs: number;
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Raw settings as strings, from one source (flags, environment or config file); later sources win. */
export type RawSettings = Partial<Record<keyof typeof settingNames, string | number | boolean | undefined>>;

/** Each setting's environment variable; config-file keys use the setting names themselves. */
export const settingNames = {
  host: 'ENTENTE_HOST',
  port: 'ENTENTE_PORT',
  dataDir: 'ENTENTE_DATA',
  orgName: 'ENTENTE_ORG_NAME',
  logLevel: 'ENTENTE_LOG_LEVEL',
  maxBodyBytes: 'ENTENTE_MAX_BODY_BYTES',
  maxJsonDepth: 'ENTENTE_MAX_JSON_DEPTH',
  tlsCert: 'ENTENTE_TLS_CERT',
  tlsKey: 'ENTENTE_TLS_KEY',
  insecureHttp: 'ENTENTE_INSECURE_HTTP',
  workers: 'ENTENTE_WORKERS',
  flashLimit: 'ENTENTE_FLASH_LIMIT',
  draftTimeLimitMs: 'ENTENTE_DRAFT_TIME_LIMIT_MS',
  headersTimeoutMs: 'ENTENTE_HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'ENTENTE_REQUEST_TIMEOUT_MS',
  maxConnections: 'ENTENTE_MAX_CONNECTIONS',
  maxUploadsPerToken: 'ENTENTE_MAX_UPLOADS_PER_TOKEN',
  shutdownGraceMs: 'ENTENTE_SHUTDOWN_GRACE_MS',
} as const;

export const configDefaults = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './data',
  logLevel: 'info' as LogLevel,
  maxBodyBytes: 64 * 1024 * 1024,
  maxJsonDepth: 64,
  workers: 1,
  flashLimit: 60,
  /** Ten times what the densest report within the extraction limits takes. */
  draftTimeLimitMs: 60_000,
  /**
   * Headers are a few kilobytes: 30 s is ample on any link, and half Node's own default (60 s),
   * since a client that sends nothing or trickles its headers (slowloris) holds a socket that long.
   */
  headersTimeoutMs: 30_000,
  /** A 64 MiB body (maxBodyBytes) arrives within 5 minutes at under 2 Mbit/s. */
  requestTimeoutMs: 5 * 60 * 1000,
  /**
   * Connections one HTTP process holds at once (server.maxConnections): past it a new one is closed
   * unanswered. The request limits bound how long a connection is held, not how many: without a
   * bound, a client opening thousands, each within the limits, ran the process out of file
   * descriptors (Node raises its own limit to the hard one, often 4096) and with them its store and
   * threads. Partners, analysts and their alert streams need tens to hundreds.
   */
  maxConnections: 1000,
  /**
   * An authenticated client could open as many connections as maxConnections allows, each sending
   * a 64 MiB body: a gigabyte and more held for one token. A client needs no more than a few uploads
   * at once to use its link; more from one token only queue behind each other in the store's writes.
   */
  maxUploadsPerToken: 4,
  /** Time for an upload almost done to arrive whole; not the request limit (5 minutes), which a trickling client would use up. */
  shutdownGraceMs: 10_000,
};

/** More uploads than this from one token is no bound at all. */
export const MAX_UPLOADS_PER_TOKEN = 10_000;

/** Fewer connections than this would refuse the node's own peers and the analysts' clients. */
export const MIN_MAX_CONNECTIONS = 16;
/** More than this exceeds the file descriptors a process usually gets (its hard limit). */
export const MAX_MAX_CONNECTIONS = 1_000_000;

/** The shortest request limit accepted: no real client gets a request through in less. */
export const MIN_REQUEST_TIMEOUT_MS = 100;
/** The longest request limit accepted: a day. */
export const MAX_REQUEST_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** The longest drafting time limit accepted: a day. */
export const MAX_DRAFT_TIME_LIMIT_MS = 24 * 60 * 60 * 1000;

/** More workers than this gain nothing and only multiply SQLite connections. */
export const MAX_WORKERS = 64;

export function settingsFromEnvironment(env: Readonly<Record<string, string | undefined>>): RawSettings {
  const settings: RawSettings = {};
  for (const [key, variable] of Object.entries(settingNames) as [keyof typeof settingNames, string][]) {
    const value = env[variable];
    if (value !== undefined && value !== '') settings[key] = value;
  }
  return settings;
}

/**
 * Merges sources (lowest precedence first) and validates the result. Throws ENT_CONFIG_INVALID naming
 * the setting and where it came from, or ENT_CONFIG_UNSAFE for settings that would expose the node.
 */
export function resolveNodeConfig(sources: readonly RawSettings[], defaultOrgName: string): NodeConfig {
  const merged: RawSettings = {};
  for (const source of sources) {
    for (const [key, value] of Object.entries(source) as [keyof RawSettings, RawSettings[keyof RawSettings]][]) {
      if (value !== undefined) merged[key] = value;
    }
  }
  const host = text(merged.host, 'host') ?? configDefaults.host;
  const tlsCert = text(merged.tlsCert, 'tlsCert');
  const tlsKey = text(merged.tlsKey, 'tlsKey');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw invalid('tlsCert', 'TLS needs both a certificate (--tls-cert) and a key (--tls-key)');
  }
  const insecureHttp = flag(merged.insecureHttp, 'insecureHttp');
  const requestTimeoutMs = integer(merged.requestTimeoutMs, 'requestTimeoutMs', MIN_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS) ?? configDefaults.requestTimeoutMs;
  // Unset, the headers limit is the default or the request limit, whichever is shorter.
  const headersTimeoutMs = integer(merged.headersTimeoutMs, 'headersTimeoutMs', MIN_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS);
  const config: NodeConfig = {
    host,
    port: integer(merged.port, 'port', 0, 65535) ?? configDefaults.port,
    dataDir: text(merged.dataDir, 'dataDir') ?? configDefaults.dataDir,
    orgName: text(merged.orgName, 'orgName') ?? defaultOrgName,
    logLevel: oneOf(merged.logLevel, 'logLevel', logLevels) ?? configDefaults.logLevel,
    maxBodyBytes: integer(merged.maxBodyBytes, 'maxBodyBytes', 1024, 2 ** 31) ?? configDefaults.maxBodyBytes,
    maxJsonDepth: integer(merged.maxJsonDepth, 'maxJsonDepth', 4, 1024) ?? configDefaults.maxJsonDepth,
    tls: tlsCert !== undefined && tlsKey !== undefined ? { certFile: tlsCert, keyFile: tlsKey } : undefined,
    insecureHttp,
    workers: integer(merged.workers, 'workers', 1, MAX_WORKERS) ?? configDefaults.workers,
    flashLimit: integer(merged.flashLimit, 'flashLimit', 1, 100_000) ?? configDefaults.flashLimit,
    draftTimeLimitMs: integer(merged.draftTimeLimitMs, 'draftTimeLimitMs', 1, MAX_DRAFT_TIME_LIMIT_MS) ?? configDefaults.draftTimeLimitMs,
    headersTimeoutMs: headersTimeoutMs ?? Math.min(configDefaults.headersTimeoutMs, requestTimeoutMs),
    requestTimeoutMs,
    maxConnections: integer(merged.maxConnections, 'maxConnections', MIN_MAX_CONNECTIONS, MAX_MAX_CONNECTIONS) ?? configDefaults.maxConnections,
    maxUploadsPerToken: integer(merged.maxUploadsPerToken, 'maxUploadsPerToken', 1, MAX_UPLOADS_PER_TOKEN) ?? configDefaults.maxUploadsPerToken,
    shutdownGraceMs: integer(merged.shutdownGraceMs, 'shutdownGraceMs', 0, MAX_REQUEST_TIMEOUT_MS) ?? configDefaults.shutdownGraceMs,
  };
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    // Node refuses such a server too: the headers are part of the request.
    throw invalid('headersTimeoutMs', `the headers limit (${config.headersTimeoutMs} ms) must not be longer than the request limit, requestTimeoutMs (${config.requestTimeoutMs} ms)`);
  }
  if (config.orgName.trim() === '') throw invalid('orgName', 'the organisation name must not be empty');
  if (!isLoopback(config.host) && config.tls === undefined && !config.insecureHttp) {
    throw new EntenteError(
      'ENT_CONFIG_UNSAFE',
      `refusing to serve plain HTTP on ${config.host}: tokens would cross the network in clear. ` +
        'Give --tls-cert and --tls-key, or set ENTENTE_INSECURE_HTTP=1 if a TLS proxy terminates in front of the node.',
      { setting: 'host' },
    );
  }
  return config;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function invalid(setting: string, message: string): EntenteError {
  return new EntenteError('ENT_CONFIG_INVALID', `invalid setting ${setting} (${settingNames[setting as keyof typeof settingNames] ?? setting}): ${message}`, { setting });
}

function text(value: RawSettings[keyof RawSettings], setting: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(setting, `expected text, got ${typeof value}`);
  return value;
}

function integer(value: RawSettings[keyof RawSettings], setting: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number < min || number > max) {
    throw invalid(setting, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return number;
}

function flag(value: RawSettings[keyof RawSettings], setting: string): boolean {
  if (value === undefined || value === false) return false;
  if (value === true) return true;
  if (typeof value === 'string' && ['1', 'true', 'yes'].includes(value.toLowerCase())) return true;
  if (typeof value === 'string' && ['0', 'false', 'no', ''].includes(value.toLowerCase())) return false;
  throw invalid(setting, `expected true or false, got ${JSON.stringify(value)}`);
}

function oneOf<T extends string>(value: RawSettings[keyof RawSettings], setting: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(setting, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}
