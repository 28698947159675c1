// `entente export --for` is a release to a partner that lasts as long as its pages take to write:
// a slow reader of the output (a pipe to a removable disk, ssh, a paused terminal) can keep it going
// for minutes. Each page is decided when it is read, with the circle as it stands then, so a member
// that leaves during the export receives nothing more, and every release it did receive is audited
// before it left — exactly what the recall queued at its leaving covers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { runCli } from '../../src/cli/program.ts';
import { entente, temporaryDirectory, type CliRun } from './cli-kit.ts';

const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const CIRCLE = 'grid-2026';
/** One more than the export's page (1000): the export reads two pages. */
const COUNT = 1001;

function indicator(n: number): Record<string, unknown> {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', name: `Indicator ${n}`,
    pattern: `[ipv4-addr:value = '198.51.${Math.floor(n / 256)}.${n % 256}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
  };
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return run;
}

describe('entente export --for: each page is released when it is read', () => {
  const data = temporaryDirectory('export-over-time');
  after(() => data.remove());
  const run = (...args: string[]): Promise<CliRun> => entente(data.path, args);

  before(async () => {
    ok(await run('org', 'add', 'Bank', '--kind', 'company', '--id', BANK));
    ok(await run('circle', 'create', CIRCLE, '--name', 'Grid 2026', '--until', '2099-01-01T00:00:00Z'));
    ok(await run('circle', 'invite', CIRCLE, '--org', BANK));
    const terms = join(data.path, 'terms.json');
    writeFileSync(terms, JSON.stringify({
      scope: { types: ['indicator'] }, highest_tlp: 'amber', onward_sharing: 'none', attribution: 'keep',
      expectations: { permitted_actions: 'none', affected_party_notifications: 'may', provider_attribution: 'may' }, end_rule: 'recall',
    }));
    ok(await run('circle', 'propose', CIRCLE, '--terms', terms));
    ok(await run('circle', 'accept', CIRCLE, '--org', BANK));
    const bundle = join(data.path, 'bundle.json');
    writeFileSync(bundle, JSON.stringify({ type: 'bundle', id: 'bundle--00000000-0000-4000-8000-000000000001', objects: Array.from({ length: COUNT }, (_, i) => indicator(i + 1)) }));
    ok(await run('import', bundle, '--collection', CIRCLE));
  });

  it('sends nothing more once the member has left during the export; the recall covers every release', async () => {
    let out = '';
    let left = false;
    // The reader of the output takes the first page, then the member leaves before it reads on.
    const stdout = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, done) {
        const text = chunk.toString();
        out += text;
        if (left || !text.includes('indicator--')) return done();
        left = true;
        void (async () => {
          ok(await run('circle', 'leave', CIRCLE, '--org', BANK));
          await new Promise((resolve) => setTimeout(resolve, 5));
        })().then(() => done(), done);
      },
    });
    const stderr = new PassThrough();
    let errText = '';
    stderr.on('data', (chunk: Buffer) => (errText += chunk.toString()));
    const code = await runCli(['export', '--collection', CIRCLE, '--for', BANK], {
      stdout, stderr, stdin: Readable.from(['']), env: { ENTENTE_DATA: data.path, ENTENTE_ORG_NAME: 'Test CERT' }, interactive: false, outcome: { partialFailure: false },
    });
    assert.equal(code, 0, errText);
    assert.ok(left, 'the member left during the export');

    const exported = (JSON.parse(out) as { objects: { id: string }[] }).objects.map((object) => object.id).sort();
    assert.equal(exported.length, 1000, 'the first page only: the second was read after the member left');
    const received = ok(await run('audit', 'received', '--json', '--org', BANK, '--circle', CIRCLE)).stdout.trim().split('\n').map((line) => JSON.parse(line) as { objectId: string });
    assert.deepEqual(received.map((entry) => entry.objectId).sort(), exported, 'the audit records what left, and nothing else');
    const recalled = ok(await run('circle', 'recalls', '--circle', CIRCLE, '--org', BANK)).stdout.trim().split('\n').map((line) => (JSON.parse(line) as { objectId: string }).objectId).sort();
    assert.deepEqual(recalled, exported, 'every version that left is recalled');
  });
});
