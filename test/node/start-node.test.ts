import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { temporaryDirectory } from '../cli/cli-kit.ts';

const mainScript = new URL('../../src/cli/main.ts', import.meta.url).pathname;

interface StartedProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output: () => string;
}

/** Starts `entente start` as a real process and waits for its "listening on" line. */
async function startEntente(args: string[], env: Record<string, string>): Promise<StartedProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainScript, 'start', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start in 20 s:\n${output}`)), 20_000);
    const check = (): void => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stderr?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code}:\n${output}`));
    });
  });
  return { child, url, output: () => output };
}

describe('entente start (a real node process)', () => {
  const data = temporaryDirectory('start');
  after(() => data.remove());

  it('creates its data on first start, serves TAXII with the admin token, never logs the token, and stops on SIGTERM', async () => {
    const node = await startEntente(['--port', '0', '--org-name', 'CERT Testland'], { ENTENTE_DATA: data.path, ENTENTE_LOG_LEVEL: 'info' });
    try {
      assert.match(node.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const tokenFile = join(data.path, 'admin.token');
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      assert.ok(statSync(join(data.path, 'entente.sqlite')).size > 0);
      assert.match(node.output(), new RegExp(`admin token written to ${tokenFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const token = readFileSync(tokenFile, 'utf8').trim();

      const health = await fetch(`${node.url}/healthz`);
      assert.equal(health.status, 200);
      const discovery = await fetch(`${node.url}/taxii2/`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/taxii+json;version=2.1' },
      });
      assert.equal(discovery.status, 200);
      assert.match(discovery.headers.get('content-type') ?? '', /^application\/taxii\+json; ?version=2\.1/);
      const basic = await fetch(`${node.url}/taxii2/api/collections/`, {
        headers: { authorization: `Basic ${Buffer.from(`anyone:${token}`).toString('base64')}`, accept: 'application/taxii+json;version=2.1' },
      });
      assert.equal(basic.status, 200);
      const body = (await basic.json()) as { collections: { alias?: string; title: string }[] };
      assert.ok(body.collections.some((collection) => collection.alias === 'default' && collection.title.startsWith('CERT Testland')));
      const anonymous = await fetch(`${node.url}/taxii2/`, { headers: { accept: 'application/taxii+json;version=2.1' } });
      assert.equal(anonymous.status, 401);

      const logs = node.output();
      assert.ok(!logs.includes(token), 'the admin token never appears in the output');
      assert.match(logs, /"reqId":"[^"]+"/, 'log lines carry request ids');
    } finally {
      node.child.kill('SIGTERM');
      const [code] = (await once(node.child, 'exit')) as [number | null];
      assert.equal(code, 0);
    }
  });

  it('keeps its identity and token across restarts (no second token file)', async () => {
    const tokenBefore = readFileSync(join(data.path, 'admin.token'), 'utf8');
    const node = await startEntente(['--port', '0'], { ENTENTE_DATA: data.path, ENTENTE_LOG_LEVEL: 'warn' });
    try {
      assert.ok(!node.output().includes('admin token written'));
      const response = await fetch(`${node.url}/taxii2/`, {
        headers: { authorization: `Bearer ${tokenBefore.trim()}`, accept: 'application/taxii+json;version=2.1' },
      });
      assert.equal(response.status, 200);
    } finally {
      node.child.kill('SIGTERM');
      await once(node.child, 'exit');
    }
  });

  it('refuses to serve plain HTTP beyond loopback, naming the setting', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', mainScript, 'start', '--host', '0.0.0.0', '--port', '0'], {
      env: { ...process.env, ENTENTE_DATA: data.path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(stderr, /ENT_CONFIG_UNSAFE: refusing to serve plain HTTP on 0\.0\.0\.0/);
  });
});
