import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entente, temporaryDirectory } from './cli-kit.ts';
import { validateBundle } from '../../src/stix/validate.ts';

const fixture = (name: string): string => new URL(`../fixtures/${name}`, import.meta.url).pathname;

function indicator(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const uuid = `6b0ee3a1-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${uuid}`,
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
    pattern: `[ipv4-addr:value = '198.51.100.${n % 250}']`,
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00Z',
    ...extra,
  };
}

describe('entente command line', () => {
  const data = temporaryDirectory('cli');
  after(() => data.remove());
  before(async () => {
    const first = await entente(data.path, ['collection', 'list']);
    assert.equal(first.code, 0, first.stderr);
  });

  it('initialises a new node on first use: admin token file with mode 0600, default collection', () => {
    const tokenFile = join(data.path, 'admin.token');
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.match(readFileSync(tokenFile, 'utf8'), /^ent_[A-Za-z0-9_-]{43}\n$/);
  });

  it('lists every command in --help, and each command has --help with an example', async () => {
    const top = await entente(data.path, ['--help']);
    assert.equal(top.code, 0);
    for (const command of ['start', 'collection', 'token', 'org', 'import', 'export', 'pattern', 'extract']) assert.match(top.stdout, new RegExp(`\\b${command}\\b`));
    for (const args of [
      ['start'],
      ['collection', 'create'],
      ['collection', 'list'],
      ['token', 'create'],
      ['token', 'list'],
      ['token', 'revoke'],
      ['org', 'add'],
      ['org', 'list'],
      ['org', 'show'],
      ['import'],
      ['export'],
      ['pattern', 'check'],
      ['pattern', 'match'],
      ['extract'],
    ]) {
      const help = await entente(data.path, [...args, '--help']);
      assert.equal(help.code, 0, args.join(' '));
      assert.match(help.stdout, /Example/, `${args.join(' ')} --help shows an example`);
      assert.match(help.stdout, /\$ entente /, `${args.join(' ')} --help shows a command line`);
    }
  });

  it('answers an unknown command or a missing option with a usage error (exit 2)', async () => {
    const unknown = await entente(data.path, ['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const missing = await entente(data.path, ['collection', 'create', 'x']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--title/);
  });

  it('creates and lists collections, refusing duplicates and unsafe ids', async () => {
    const created = await entente(data.path, ['collection', 'create', 'apt-2026', '--title', 'APT 2026', '--description', 'Shared with the ISAC']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created collection apt-2026 "APT 2026"/);
    const again = await entente(data.path, ['collection', 'create', 'apt-2026', '--title', 'Again']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ENT_COLLECTION_EXISTS/);
    const unsafe = await entente(data.path, ['collection', 'create', '../etc', '--title', 'Bad']);
    assert.equal(unsafe.code, 1);
    assert.match(unsafe.stderr, /ENT_COLLECTION_INVALID: collection id "..\/etc" must be/);
    // The names of the node's own collections (the default collection's and the home sightings
    // collection's aliases), and any other collection's id or alias, are not given to a new one: a
    // lookup tries ids first, so it would take over grants and imports that name them.
    for (const args of [
      ['home-sightings', '--title', 'Takes the home sightings name'],
      ['default', '--title', 'Takes the default name'],
      ['other', '--title', 'Aliased as home-sightings', '--alias', 'home-sightings'],
      ['other', '--title', 'Aliased as default', '--alias', 'default'],
      ['other', '--title', 'Aliased as another id', '--alias', 'apt-2026'],
    ]) {
      const taken = await entente(data.path, ['collection', 'create', ...args]);
      assert.equal(taken.code, 1, args.join(' '));
      assert.match(taken.stderr, /ENT_COLLECTION_EXISTS/, args.join(' '));
    }
    const list = await entente(data.path, ['collection', 'list', '--json']);
    const rows = JSON.parse(list.stdout) as { id: string; alias?: string; objects: number }[];
    assert.ok(rows.some((row) => row.id === 'apt-2026'));
    assert.deepEqual(rows.filter((row) => ['home-sightings', 'default', 'other'].includes(row.id)), [], 'none of them was created');
    assert.ok(rows.some((row) => row.alias === 'default' && row.objects === 1), 'default collection holds the home organisation');
  });

  it('issues a token once, lists it without its secret, and revokes it', async () => {
    const created = await entente(data.path, ['token', 'create', '--name', 'partner', '--collections', 'apt-2026:r,default:rw']);
    assert.equal(created.code, 0, created.stderr);
    const secret = created.stdout.trim();
    assert.match(secret, /^ent_/);
    const list = await entente(data.path, ['token', 'list']);
    assert.match(list.stdout, /partner\tmember\tapt-2026:r,[0-9a-f-]{36}:rw\tidentity--/);
    assert.ok(!list.stdout.includes(secret), 'the secret is never listed');
    const json = await entente(data.path, ['token', 'list', '--json']);
    assert.ok(!json.stdout.includes('secretHash'));
    const revoked = await entente(data.path, ['token', 'revoke', 'partner']);
    assert.equal(revoked.code, 0);
    assert.match((await entente(data.path, ['token', 'list'])).stdout, /partner.*revoked 20/);
    const unknown = await entente(data.path, ['token', 'revoke', 'nobody']);
    assert.match(unknown.stderr, /ENT_TOKEN_NOT_FOUND/);
  });

  it('refuses a token grant on a collection that does not exist, or a malformed grant', async () => {
    const missing = await entente(data.path, ['token', 'create', '--name', 'x1', '--collections', 'nope:r']);
    assert.match(missing.stderr, /ENT_COLLECTION_NOT_FOUND: --collections: no collection "nope"/);
    const malformed = await entente(data.path, ['token', 'create', '--name', 'x2', '--collections', 'apt-2026:rx']);
    assert.match(malformed.stderr, /ENT_TOKEN_INVALID: --collections: "apt-2026:rx": rights must be r, w or rw/);
  });

  it('imports a bundle, storing the valid objects and naming each rejection with its reason (exit 1)', async () => {
    const file = join(data.path, 'mixed.json');
    const bundle = {
      type: 'bundle',
      id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
      objects: [indicator(1), indicator(2), indicator(3, { modified: '2025-01-01T00:00:00.000Z' }), { type: 'indicator', id: 'not-an-id' }],
    };
    writeFileSync(file, JSON.stringify(bundle));
    const run = await entente(data.path, ['import', file, '--collection', 'apt-2026']);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^2 accepted, 0 duplicate, 2 rejected/);
    assert.match(run.stderr, /objects\[2\] indicator--6b0ee3a1-0000-4000-8000-000000000003: .*modified/);
    assert.match(run.stderr, /objects\[3\] not-an-id: /);
    const again = await entente(data.path, ['import', file, '--collection', 'apt-2026', '--quiet']);
    assert.match(again.stdout, /^0 accepted, 2 duplicate, 2 rejected/);
    assert.equal(again.stderr, '');
  });

  it('refuses a new version with the same id and modified but different content', async () => {
    const file = join(data.path, 'conflict.json');
    writeFileSync(file, JSON.stringify(indicator(1, { name: 'changed in place' })));
    const run = await entente(data.path, ['import', file, '--collection', 'apt-2026']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /ENT_OBJECT_VERSION_CONFLICT/);
  });

  it('imports JSON lines from standard input, counting a malformed line without losing the others', async () => {
    const lines = [JSON.stringify(indicator(10)), '{"type": "indicator", "id": ', JSON.stringify(indicator(11))].join('\n');
    const run = await entente(data.path, ['import', '-', '--collection', 'apt-2026'], lines);
    assert.match(run.stdout, /^2 accepted, 0 duplicate, 1 rejected/);
    assert.match(run.stderr, /line 2/);
  });

  it('imports a .jsonl file line by line', async () => {
    const file = join(data.path, 'feed.jsonl');
    writeFileSync(file, [indicator(20), indicator(21), indicator(22)].map((o) => JSON.stringify(o)).join('\r\n') + '\n');
    const run = await entente(data.path, ['import', file, '--collection', 'apt-2026']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^3 accepted/);
  });

  it('upgrades STIX 2.0 bundles to 2.1 on import', async () => {
    const run = await entente(data.path, ['import', fixture('misp-stix/test_event1_stix20.json'), '--collection', 'apt-2026']);
    assert.match(run.stdout, /^[1-9]\d* accepted/, run.stderr);
    const exported = await entente(data.path, ['export', '--collection', 'apt-2026', '--type', 'observed-data']);
    const bundle = JSON.parse(exported.stdout) as { objects: { spec_version?: string; object_refs?: unknown }[] };
    assert.ok(bundle.objects.length > 0);
    for (const object of bundle.objects) {
      assert.equal(object.spec_version, '2.1');
      assert.ok(Array.isArray(object.object_refs));
    }
  });

  it('imports every document of a directory', async () => {
    const run = await entente(data.path, ['import', fixture('misp-stix'), '--collection', 'default', '--quiet']);
    assert.match(run.stdout, /^[1-9]\d* accepted/);
  });

  it('does not follow a symbolic link to a directory inside a directory it imports (a loop would never end), and says so', async () => {
    const dir = join(data.path, 'loopdir');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'a.json'), JSON.stringify(indicator(40)));
    symlinkSync('..', join(dir, 'sub', 'up'));
    symlinkSync(join(dir, 'a.json'), join(dir, 'sub', 'linked.json'));
    const run = await entente(data.path, ['import', dir, '--collection', 'default']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^entente: warning: skipped .*sub\/up: a symbolic link to a directory, not followed\n$/);
    // a.json, and the linked file again (a duplicate): a link to a file is read like the file.
    assert.match(run.stdout, /^1 accepted, 1 duplicate, 0 rejected/);
    // A link that leads nowhere, or to itself, where a document was expected: named, with a code.
    symlinkSync(join(dir, 'gone.json'), join(dir, 'dangling.json'));
    const dangling = await entente(data.path, ['import', dir, '--collection', 'default']);
    assert.equal(dangling.code, 1);
    assert.match(dangling.stderr, /ENT_INPUT_UNREADABLE: cannot read .*dangling\.json: ENOENT/);
    symlinkSync('self.json', join(dir, 'sub', 'self.json'));
    const loop = await entente(data.path, ['import', join(dir, 'sub'), '--collection', 'default']);
    assert.match(loop.stderr, /ENT_INPUT_UNREADABLE: cannot read .*self\.json: ELOOP/);
    assert.doesNotMatch(`${run.stderr}${dangling.stderr}${loop.stderr}`, /unexpected error/);
  });

  it('names an unreadable input and an unknown collection', async () => {
    const missing = await entente(data.path, ['import', join(data.path, 'nope.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ENT_INPUT_UNREADABLE: cannot read .*nope.json: ENOENT/);
    const unknown = await entente(data.path, ['import', fixture('misp-stix/test_event1_stix21.json'), '--collection', 'nope']);
    assert.match(unknown.stderr, /ENT_COLLECTION_NOT_FOUND: no collection "nope"/);
  });

  it('rejects a document nested deeper than 64 levels, and binary garbage, with a clear message', async () => {
    const deep = join(data.path, 'deep.json');
    writeFileSync(deep, '['.repeat(10_000) + ']'.repeat(10_000));
    const run = await entente(data.path, ['import', deep]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /deep/i);
    const garbage = join(data.path, 'garbage.json');
    writeFileSync(garbage, Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0a, 0x00]));
    const junk = await entente(data.path, ['import', garbage]);
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /rejected .*garbage.json: /);
  });

  it('exports one valid STIX 2.1 bundle, filtered by type and added_after', async () => {
    const out = join(data.path, 'export.json');
    const run = await entente(data.path, ['export', '--collection', 'apt-2026', '--type', 'indicator', '-o', out]);
    assert.equal(run.code, 0, run.stderr);
    const bundle = JSON.parse(readFileSync(out, 'utf8')) as { type: string; objects: { type: string }[] };
    assert.equal(bundle.type, 'bundle');
    assert.ok(bundle.objects.length >= 7);
    assert.ok(bundle.objects.every((object) => object.type === 'indicator'));
    assert.equal(validateBundle(bundle).valid, true);
    const later = await entente(data.path, ['export', '--collection', 'apt-2026', '--added-after', '2999-01-01T00:00:00Z']);
    assert.deepEqual((JSON.parse(later.stdout) as { objects: unknown[] }).objects, []);
    const bad = await entente(data.path, ['export', '--collection', 'apt-2026', '--added-after', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--added-after "yesterday" is not an RFC 3339 timestamp/);
    const exists = await entente(data.path, ['export', '--collection', 'apt-2026', '-o', out]);
    assert.equal(exists.code, 1, 'an existing file is not overwritten');
  });
});
