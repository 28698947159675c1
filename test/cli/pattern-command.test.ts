import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEntente, type CliRun } from './cli-kit.ts';

/** `entente ARGS…` through the real command-line entry point; pattern commands need no node. */
async function entente(args: readonly string[], stdin = ''): Promise<CliRun> {
  return runEntente(args, { stdin });
}

const bundle21 = {
  type: 'bundle',
  id: 'bundle--44af6c39-c09b-49c5-9de2-394224b04982',
  objects: [
    { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd', value: '198.51.100.3' },
    {
      type: 'observed-data',
      spec_version: '2.1',
      id: 'observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf',
      created: '2026-01-01T00:00:00.000Z',
      modified: '2026-01-01T00:00:00.000Z',
      first_observed: '2026-01-01T00:00:00Z',
      last_observed: '2026-01-01T00:00:00Z',
      number_observed: 1,
      object_refs: ['ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd'],
    },
  ],
};

describe('entente pattern', () => {
  let dir: string;
  let bundlePath: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'entente-pattern-'));
    bundlePath = join(dir, 'bundle.json');
    writeFileSync(bundlePath, JSON.stringify(bundle21));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('check: exit 0 and the canonical form for a valid pattern', async () => {
    const run = await entente(['pattern', 'check', "[ipv4-addr:value=='198.51.100.3']  within 5 SECONDS".replace('within', 'WITHIN')]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, "[ipv4-addr:value = '198.51.100.3'] WITHIN 5 SECONDS\n");
  });

  it('check: exit 2 with the position and what was expected for an invalid pattern', async () => {
    const run = await entente(['pattern', 'check', '[file:size = 1280 foo]']);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, "entente: ENT_PATTERN_INVALID: at 18: expected ']' or AND/OR, found 'foo'\n");
  });

  it('match: exit 0 on a match, naming the observed-data', async () => {
    const run = await entente(['pattern', 'match', "[ipv4-addr:value ISSUBSET '198.51.100.0/24']", bundlePath]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, 'match: observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf\n');
  });

  it('match: exit 1 on no match, 2 on an invalid pattern, 1 on an unreadable bundle', async () => {
    const none = await entente(['pattern', 'match', "[ipv4-addr:value = '10.0.0.1']", bundlePath]);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, 'no match (1 observed-data)\n');
    const invalid = await entente(['pattern', 'match', "[ipv4-addr:value = '10.0.0.1'", bundlePath]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /ENT_PATTERN_INVALID: at 29: expected '\]' or AND\/OR, found end of pattern/);
    const missing = await entente(['pattern', 'match', "[ipv4-addr:value = '10.0.0.1']", join(dir, 'absent.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ENT_INPUT_UNREADABLE: cannot read .*absent\.json: ENOENT/);
  });

  it('match --jsonl: one verdict line per case, malformed lines included', async () => {
    const cases = join(dir, 'cases.jsonl');
    writeFileSync(
      cases,
      [
        JSON.stringify({ id: 'hit', pattern: "[ipv4-addr:value = '198.51.100.3']", bundle: bundle21 }),
        JSON.stringify({ id: 'miss', pattern: "[ipv4-addr:value = '198.51.100.4']", bundle: bundle21 }),
        JSON.stringify({ id: 'bad', pattern: '[ipv4-addr:value = ]', bundle: bundle21 }),
        '{not json',
        '',
      ].join('\n'),
    );
    const run = await entente(['pattern', 'match', '--jsonl', cases]);
    assert.equal(run.code, 0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(lines.slice(0, 3), [
      { id: 'hit', valid: true, match: true, error: null },
      { id: 'miss', valid: true, match: false, error: null },
      { id: 'bad', valid: false, match: false, error: "at 19: expected a string, number, boolean, timestamp, binary or hex literal, found ']'" },
    ]);
    assert.equal(lines[3]?.['valid'], false);
    assert.match(String(lines[3]?.['error']), /^line 4: /);
    assert.equal(lines.length, 4);
  });

  it('match: refuses a pattern together with --jsonl, and --help shows an example', async () => {
    const both = await entente(['pattern', 'match', '--jsonl', 'x.jsonl', '[file:name = 1]']);
    assert.equal(both.code, 2);
    for (const sub of ['check', 'match']) {
      const help = await entente(['pattern', sub, '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Example:\n {2}\$ entente pattern/);
    }
  });
});
