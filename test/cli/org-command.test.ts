import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { entente, temporaryDirectory } from './cli-kit.ts';
import { validateStixObject } from '../../src/stix/validate.ts';

const certFr = 'identity--8c6af861-7b20-41ef-9b59-6344fd872a8f';

describe('entente org', () => {
  const data = temporaryDirectory('org');
  after(() => data.remove());

  it('registers a partner under the identity id its own node uses, as a valid STIX identity', async () => {
    const added = await entente(data.path, ['org', 'add', 'CERT-FR', '--kind', 'cert', '--sector', 'government-national', '--country', 'fr', '--id', certFr]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`Registered cert organisation "CERT-FR" as ${certFr}`));
    const shown = await entente(data.path, ['org', 'show', certFr]);
    const body = JSON.parse(shown.stdout) as { identity: Record<string, unknown>; home: boolean; tokens: string[] };
    assert.equal(body.home, false);
    assert.equal(body.identity['x_entente_country'], 'FR');
    assert.deepEqual(body.identity['sectors'], ['government-national']);
    assert.equal(validateStixObject(body.identity).valid, true);
  });

  it('generates an identity id when none is given, and lists home first, then partners', async () => {
    const added = await entente(data.path, ['org', 'add', 'Acme Bank', '--kind', 'company', '--sector', 'financial-services']);
    assert.match(added.stdout, /as identity--[0-9a-f-]{36}$/m);
    const list = await entente(data.path, ['org', 'list']);
    const lines = list.stdout.trim().split('\n');
    assert.match(lines[1] ?? '', /\thome\t/);
    assert.match(list.stdout, /partner\tcompany\t-\tfinancial-services\tAcme Bank/);
    assert.match(list.stdout, /partner\tcert\tFR\tgovernment-national\tCERT-FR/);
    const json = JSON.parse((await entente(data.path, ['org', 'list', '--json'])).stdout) as { home: boolean }[];
    assert.equal(json.filter((row) => row.home).length, 1);
    assert.equal(json.length, 3);
  });

  it('issues a token that acts for a partner, and shows it on the organisation', async () => {
    const token = await entente(data.path, ['token', 'create', '--name', 'cert-fr-pull', '--collections', 'default:r', '--org', certFr]);
    assert.equal(token.code, 0, token.stderr);
    assert.match((await entente(data.path, ['token', 'list'])).stdout, new RegExp(`cert-fr-pull\\tmember\\t[^\\t]+\\t${certFr}`));
    const shown = JSON.parse((await entente(data.path, ['org', 'show', certFr])).stdout) as { tokens: string[] };
    assert.deepEqual(shown.tokens, ['cert-fr-pull']);
  });

  it('names each problem: bad kind, country, id; a taken id; an unknown organisation', async () => {
    const bad = await entente(data.path, ['org', 'add', 'X', '--kind', 'mafia', '--country', 'France', '--id', 'identity--x']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /ENT_ORG_INVALID: kind "mafia" must be one of .*; id "identity--x" must be a STIX identity id.*; country "France" must be a two-letter/);
    const taken = await entente(data.path, ['org', 'add', 'Again', '--kind', 'cert', '--id', certFr]);
    assert.match(taken.stderr, /ENT_ORG_EXISTS: An organisation with id identity--8c6af861/);
    const unknown = await entente(data.path, ['org', 'show', 'identity--00000000-0000-4000-8000-000000000000']);
    assert.match(unknown.stderr, /ENT_ORG_NOT_FOUND: no organisation identity--00000000/);
    const orphan = await entente(data.path, ['token', 'create', '--name', 'ghost', '--collections', 'default:r', '--org', 'identity--00000000-0000-4000-8000-000000000000']);
    assert.match(orphan.stderr, /ENT_ORG_NOT_FOUND: --org: no organisation/);
    const adminForPartner = await entente(data.path, ['token', 'create', '--name', 'x', '--admin', '--org', certFr]);
    assert.match(adminForPartner.stderr, /ENT_TOKEN_INVALID: an administrator token acts for the home organisation/);
  });

  it('refuses an id with upper-case hex, naming the lower-case spelling to use, and registers nothing', async () => {
    const upper = 'identity--5E1A0000-0000-4000-8000-00000000ABCD';
    const added = await entente(data.path, ['org', 'add', 'Shouting CERT', '--kind', 'cert', '--id', upper]);
    assert.equal(added.code, 1);
    assert.match(added.stderr, /ENT_ORG_INVALID: id "identity--5E1A0000-0000-4000-8000-00000000ABCD" has upper-case hex .*: write it in lower case \(identity--5e1a0000-0000-4000-8000-00000000abcd\)/);
    assert.doesNotMatch((await entente(data.path, ['org', 'list'])).stdout, /Shouting CERT/);
  });

  it("refuses to register the node's own home organisation as a partner", async () => {
    const home = (JSON.parse((await entente(data.path, ['org', 'list', '--json'])).stdout) as { id: string; home: boolean }[]).find((row) => row.home);
    const again = await entente(data.path, ['org', 'add', 'Me', '--kind', 'cert', '--id', home?.id ?? '']);
    assert.match(again.stderr, /ENT_ORG_EXISTS: .* is this node's home organisation/);
  });
});
