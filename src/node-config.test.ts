import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveNodeConfig, settingsFromEnvironment, isLoopback } from './node-config.ts';
import { EntenteError } from './errors/entente-error.ts';

function rejects(sources: Parameters<typeof resolveNodeConfig>[0], code: string, text: string): void {
  assert.throws(
    () => resolveNodeConfig(sources, 'host-name'),
    (error: unknown) => error instanceof EntenteError && error.code === code && error.message.includes(text),
  );
}

describe('node configuration', () => {
  it('defaults to 127.0.0.1:8080, ./data, the host name as organisation, 64 MB bodies, depth 64', () => {
    const config = resolveNodeConfig([], 'host-name');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8080);
    assert.equal(config.dataDir, './data');
    assert.equal(config.orgName, 'host-name');
    assert.equal(config.maxBodyBytes, 64 * 1024 * 1024);
    assert.equal(config.maxJsonDepth, 64);
    assert.equal(config.tls, undefined);
    assert.equal(config.flashLimit, 60, 'new flashes a member node may deliver in an hour');
    assert.equal(config.draftTimeLimitMs, 60_000, 'the longest one report may take to become a draft');
  });

  it('reads the drafting time limit like any setting: config file, ENTENTE_DRAFT_TIME_LIMIT_MS, --draft-time-limit', () => {
    assert.deepEqual(settingsFromEnvironment({ ENTENTE_DRAFT_TIME_LIMIT_MS: '120000' }), { draftTimeLimitMs: '120000' });
    assert.equal(resolveNodeConfig([{ draftTimeLimitMs: 90_000 }], 'h').draftTimeLimitMs, 90_000);
    assert.equal(resolveNodeConfig([{ draftTimeLimitMs: 90_000 }, settingsFromEnvironment({ ENTENTE_DRAFT_TIME_LIMIT_MS: '120000' })], 'h').draftTimeLimitMs, 120_000);
    assert.equal(resolveNodeConfig([settingsFromEnvironment({ ENTENTE_DRAFT_TIME_LIMIT_MS: '120000' }), { draftTimeLimitMs: '300' }], 'h').draftTimeLimitMs, 300);
    // A value that is not a whole number of milliseconds from 1 ms to 24 h stops the node at start.
    for (const bad of ['0', '-5', '1.5', '60s', '86400001']) {
      rejects([settingsFromEnvironment({ ENTENTE_DRAFT_TIME_LIMIT_MS: bad })], 'ENT_CONFIG_INVALID', `draftTimeLimitMs (ENTENTE_DRAFT_TIME_LIMIT_MS): expected a whole number from 1 to 86400000, got ${JSON.stringify(bad)}`);
    }
  });

  it('gives a request 30 s for its headers and 5 minutes in all to arrive by default (64 MiB at under 2 Mbit/s)', () => {
    const config = resolveNodeConfig([], 'h');
    assert.equal(config.headersTimeoutMs, 30_000);
    assert.equal(config.requestTimeoutMs, 300_000);
  });

  it('reads the request limits like any setting: config file, ENTENTE_HEADERS_TIMEOUT_MS and ENTENTE_REQUEST_TIMEOUT_MS, flags', () => {
    assert.deepEqual(settingsFromEnvironment({ ENTENTE_HEADERS_TIMEOUT_MS: '10000', ENTENTE_REQUEST_TIMEOUT_MS: '600000' }), { headersTimeoutMs: '10000', requestTimeoutMs: '600000' });
    const config = resolveNodeConfig([{ headersTimeoutMs: 20_000, requestTimeoutMs: 60_000 }, settingsFromEnvironment({ ENTENTE_REQUEST_TIMEOUT_MS: '900000' }), { headersTimeoutMs: '5000' }], 'h');
    assert.deepEqual([config.headersTimeoutMs, config.requestTimeoutMs], [5000, 900_000]);
    // Under 100 ms no real client gets a request through; past a day the limit protects nothing.
    for (const bad of ['0', '99', '1.5', '30s', '86400001']) {
      rejects([{ requestTimeoutMs: bad }], 'ENT_CONFIG_INVALID', `requestTimeoutMs (ENTENTE_REQUEST_TIMEOUT_MS): expected a whole number from 100 to 86400000, got ${JSON.stringify(bad)}`);
      rejects([{ headersTimeoutMs: bad }], 'ENT_CONFIG_INVALID', `headersTimeoutMs (ENTENTE_HEADERS_TIMEOUT_MS): expected a whole number from 100 to 86400000, got ${JSON.stringify(bad)}`);
    }
  });

  it('holds 1,000 connections per HTTP process by default, and reads maxConnections like any setting', () => {
    assert.equal(resolveNodeConfig([], 'h').maxConnections, 1000);
    assert.deepEqual(settingsFromEnvironment({ ENTENTE_MAX_CONNECTIONS: '5000' }), { maxConnections: '5000' });
    assert.equal(resolveNodeConfig([{ maxConnections: 200 }, settingsFromEnvironment({ ENTENTE_MAX_CONNECTIONS: '5000' })], 'h').maxConnections, 5000);
    // Under 16 the node's own peers and analysts would be refused; past a million no process has the descriptors.
    for (const bad of ['0', '15', '2.5', 'many', '1000001']) {
      rejects([{ maxConnections: bad }], 'ENT_CONFIG_INVALID', `maxConnections (ENTENTE_MAX_CONNECTIONS): expected a whole number from 16 to 1000000, got ${JSON.stringify(bad)}`);
    }
  });

  it('lets one token have 4 uploads under way by default, and reads maxUploadsPerToken like any setting', () => {
    assert.equal(resolveNodeConfig([], 'h').maxUploadsPerToken, 4);
    assert.deepEqual(settingsFromEnvironment({ ENTENTE_MAX_UPLOADS_PER_TOKEN: '16' }), { maxUploadsPerToken: '16' });
    assert.equal(resolveNodeConfig([{ maxUploadsPerToken: 2 }, settingsFromEnvironment({ ENTENTE_MAX_UPLOADS_PER_TOKEN: '16' })], 'h').maxUploadsPerToken, 16);
    // None would refuse every upload; past ten thousand it bounds nothing.
    for (const bad of ['0', '2.5', 'many', '10001']) {
      rejects([{ maxUploadsPerToken: bad }], 'ENT_CONFIG_INVALID', `maxUploadsPerToken (ENTENTE_MAX_UPLOADS_PER_TOKEN): expected a whole number from 1 to 10000, got ${JSON.stringify(bad)}`);
    }
  });

  it('waits 10 s on stop for request bodies still arriving by default, and reads shutdownGraceMs like any setting', () => {
    assert.equal(resolveNodeConfig([], 'h').shutdownGraceMs, 10_000);
    assert.deepEqual(settingsFromEnvironment({ ENTENTE_SHUTDOWN_GRACE_MS: '0' }), { shutdownGraceMs: '0' });
    assert.equal(resolveNodeConfig([settingsFromEnvironment({ ENTENTE_SHUTDOWN_GRACE_MS: '0' })], 'h').shutdownGraceMs, 0);
    for (const bad of ['-1', 'soon', '86400001']) {
      rejects([{ shutdownGraceMs: bad }], 'ENT_CONFIG_INVALID', `shutdownGraceMs (ENTENTE_SHUTDOWN_GRACE_MS): expected a whole number from 0 to 86400000, got ${JSON.stringify(bad)}`);
    }
  });

  it('refuses a headers limit longer than the whole request\'s: the headers are part of the request', () => {
    rejects([{ headersTimeoutMs: '60000', requestTimeoutMs: '30000' }], 'ENT_CONFIG_INVALID', 'headersTimeoutMs (ENTENTE_HEADERS_TIMEOUT_MS): the headers limit (60000 ms) must not be longer than the request limit, requestTimeoutMs (30000 ms)');
    // A short request limit alone brings the default headers limit down with it rather than refuse it.
    const short = resolveNodeConfig([{ requestTimeoutMs: '10000' }], 'h');
    assert.deepEqual([short.headersTimeoutMs, short.requestTimeoutMs], [10_000, 10_000]);
  });

  it('lets flags override the environment, which overrides the config file', () => {
    const file = { port: 9000, orgName: 'From file', logLevel: 'warn' };
    const env = settingsFromEnvironment({ ENTENTE_PORT: '9100', ENTENTE_ORG_NAME: 'From env', ENTENTE_DATA: '/srv/e' });
    const flags = { port: '9200', flashLimit: '500' };
    const config = resolveNodeConfig([file, env, flags], 'host-name');
    assert.equal(config.port, 9200);
    assert.equal(config.orgName, 'From env');
    assert.equal(config.dataDir, '/srv/e');
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.flashLimit, 500);
  });

  it('ignores empty environment variables', () => {
    assert.deepEqual(settingsFromEnvironment({ ENTENTE_HOST: '' }), {});
  });

  it('names the setting and the variable when a value is invalid', () => {
    rejects([{ port: '80x' }], 'ENT_CONFIG_INVALID', 'port (ENTENTE_PORT): expected a whole number from 0 to 65535, got "80x"');
    rejects([{ port: 70000 }], 'ENT_CONFIG_INVALID', 'port');
    rejects([{ logLevel: 'loud' }], 'ENT_CONFIG_INVALID', 'expected one of fatal, error');
    rejects([{ maxBodyBytes: '12' }], 'ENT_CONFIG_INVALID', 'maxBodyBytes');
    rejects([{ orgName: '   ' }], 'ENT_CONFIG_INVALID', 'must not be empty');
    rejects([{ tlsCert: 'cert.pem' }], 'ENT_CONFIG_INVALID', 'needs both a certificate');
    rejects([{ insecureHttp: 'maybe' }], 'ENT_CONFIG_INVALID', 'expected true or false');
    rejects([{ flashLimit: '0' }], 'ENT_CONFIG_INVALID', 'flashLimit (ENTENTE_FLASH_LIMIT): expected a whole number from 1 to 100000');
  });

  it('refuses plain HTTP beyond loopback, unless TLS is configured or a proxy is acknowledged', () => {
    rejects([{ host: '0.0.0.0' }], 'ENT_CONFIG_UNSAFE', 'refusing to serve plain HTTP on 0.0.0.0');
    rejects([{ host: '192.0.2.10' }], 'ENT_CONFIG_UNSAFE', 'tokens would cross the network in clear');
    assert.equal(resolveNodeConfig([{ host: '0.0.0.0', tlsCert: 'c.pem', tlsKey: 'k.pem' }], 'h').tls?.certFile, 'c.pem');
    assert.equal(resolveNodeConfig([{ host: '0.0.0.0', insecureHttp: '1' }], 'h').insecureHttp, true);
  });

  it('treats 127.0.0.0/8, ::1 and localhost as loopback, nothing else', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', 'localhost']) assert.equal(isLoopback(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.org', '128.0.0.1']) assert.equal(isLoopback(host), false, host);
  });
});
