import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { temporaryDirectory } from '../cli/cli-kit.ts';
import { spawnCli, startNodeProcess as startEntente } from './node-process.ts';

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
      for (const file of ['entente.sqlite', 'entente.sqlite-wal', 'entente.sqlite-shm']) {
        assert.equal(statSync(join(data.path, file)).mode & 0o077, 0, `${file} is readable by its owner only`);
      }
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
    const child = spawnCli(['start', '--host', '0.0.0.0', '--port', '0'], { ENTENTE_DATA: data.path });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(stderr, /ENT_CONFIG_UNSAFE: refusing to serve plain HTTP on 0\.0\.0\.0/);
  });
});
