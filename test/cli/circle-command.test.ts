import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entente, temporaryDirectory, type CliRun } from './cli-kit.ts';

const BANK = 'identity--0b000000-0000-4000-8000-000000000002';
const NGO = 'identity--0c000000-0000-4000-8000-000000000003';
const GRID = 'identity--0d000000-0000-4000-8000-000000000004';
const UNKNOWN = 'identity--0f000000-0000-4000-8000-00000000000f';

const goodTerms = {
  scope: { types: ['indicator', 'malware'] },
  highest_tlp: 'amber',
  onward_sharing: 'none',
  attribution: 'keep',
  expectations: { permitted_actions: 'internally-visible-actions', affected_party_notifications: 'may', provider_attribution: 'may' },
  end_rule: 'recall',
};

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return run;
}

/** A refusal: the exit code, and the stable code on stderr (never a stack trace). */
function refused(run: CliRun, exit: 1 | 2, code: string, message?: RegExp): void {
  assert.equal(run.code, exit, `expected exit ${exit}, got ${run.code}: ${run.stdout}${run.stderr}`);
  assert.match(run.stderr, new RegExp(`^entente: ${code}: `, 'm'));
  assert.doesNotMatch(run.stderr, /unexpected error|\n\s+at /);
  if (message !== undefined) assert.match(run.stderr, message);
}

describe('entente circle', () => {
  const data = temporaryDirectory('circle-cli');
  const files = temporaryDirectory('circle-cli-files');
  after(() => {
    data.remove();
    files.remove();
  });
  const file = (name: string, text: string): string => {
    const path = join(files.path, name);
    writeFileSync(path, text);
    return path;
  };
  const run = (...args: string[]): Promise<CliRun> => entente(data.path, args);

  before(async () => {
    for (const [name, id] of [['Bank', BANK], ['NGO', NGO], ['Grid', GRID]] as const) ok(await run('org', 'add', name, '--kind', 'company', '--id', id));
  });

  it('has --help with an example for the command and every subcommand', async () => {
    const top = ok(await run('circle', '--help'));
    for (const sub of ['create', 'list', 'show', 'invite', 'propose', 'accept', 'counter', 'promote', 'leave', 'end', 'recalls']) {
      assert.match(top.stdout, new RegExp(`\\b${sub}\\b`));
      const help = ok(await run('circle', sub, '--help'));
      assert.match(help.stdout, /Example:\n\s+\$ entente circle /, `circle ${sub} --help`);
    }
  });

  it('creates, lists and shows a hidden tacit circle on a collection of its own', async () => {
    const created = ok(await run('circle', 'create', 'grid-2026', '--name', 'Grid operators 2026', '--visibility', 'hidden', '--default-tlp', 'amber', '--until', '2026-12-31T00:00:00Z', '--description', 'TSOs'));
    assert.match(created.stdout, /^Created tacit circle grid-2026 on collection grid-2026; next: entente circle propose grid-2026 --terms FILE$/m);
    assert.match(ok(await run('collection', 'list')).stdout, /grid-2026/);
    const list = ok(await run('circle', 'list'));
    assert.match(list.stdout, /^ID\tKIND\tVISIBILITY\tMEMBERS\tFROM\tUNTIL\tNAME$/m);
    assert.match(list.stdout, /^grid-2026\ttacit\thidden\t1\t\S+Z\t2026-12-31T00:00:00Z\tGrid operators 2026$/m);
    const shown = JSON.parse(ok(await run('circle', 'show', 'grid-2026')).stdout) as Record<string, unknown>;
    assert.equal(shown['visibility'], 'hidden');
    assert.equal(shown['description'], 'TSOs');
    assert.deepEqual(shown['agreements'], []);
    const json = JSON.parse(ok(await run('circle', 'list', '--json')).stdout) as { id: string }[];
    assert.deepEqual(json.map((circle) => circle.id), ['grid-2026']);
  });

  it('invites, proposes, accepts, promotes, lets members leave and ends the circle', async () => {
    const first = ok(await run('circle', 'invite', 'grid-2026', '--org', BANK, '--role', 'contributor'));
    assert.match(first.stdout, new RegExp(`^Invited ${BANK} to circle grid-2026 as contributor$`, 'm'));
    assert.equal(first.stderr, '', 'nobody but the coordinator was in: nobody has to acknowledge the newcomer');
    const second = ok(await run('circle', 'invite', 'grid-2026', '--org', NGO, '--trial'));
    assert.match(second.stdout, /as consumer \(trial\)$/m);
    // Bank was in before NGO: what it contributed reaches NGO only once it accepts terms again (rule 3a).
    assert.match(second.stderr, new RegExp(`^What the 1 other member\\(s\\) contributed reaches ${NGO} once each accepts terms after now: propose the next version \\(entente circle propose grid-2026 --terms …\\)`, 'm'));
    assert.match(ok(await run('circle', 'invite', '--help')).stdout, /reaches the newcomer only once that member accepts terms again after it\njoined/);
    ok(await run('circle', 'invite', 'grid-2026', '--org', GRID, '--role', 'coordinator'));
    const terms = file('terms.json', JSON.stringify(goodTerms));
    assert.match(ok(await run('circle', 'propose', 'grid-2026', '--terms', terms)).stdout, /^Proposed agreement v1 for circle grid-2026/m);
    assert.match(ok(await run('circle', 'accept', 'grid-2026', '--org', BANK, '--agreement-version', '1')).stdout, new RegExp(`^${BANK} accepted agreement v1 of circle grid-2026 at \\S+Z$`, 'm'));
    assert.match(ok(await run('circle', 'propose', 'grid-2026', '--terms', file('terms2.json', JSON.stringify({ ...goodTerms, end_rule: 'retain' })))).stdout, /v2/);
    // v1 is superseded now: only the latest version can be accepted.
    refused(await run('circle', 'accept', 'grid-2026', '--org', NGO, '--agreement-version', '1'), 1, 'ENT_AGREEMENT_SUPERSEDED', /superseded by version 2/);
    assert.match(ok(await run('circle', 'accept', 'grid-2026', '--org', NGO)).stdout, /accepted agreement v2/, 'the latest version by default');
    assert.match(ok(await run('circle', 'promote', 'grid-2026', '--org', NGO)).stdout, new RegExp(`^${NGO} is now a full member of circle grid-2026$`, 'm'));

    const shown = JSON.parse(ok(await run('circle', 'show', 'grid-2026')).stdout) as {
      members: { organisation_id: string; role: string; trial: boolean; left_at?: string }[];
      agreements: { version: number }[];
      acceptances: { organisation_id: string; version: number }[];
    };
    assert.deepEqual(shown.members.map((member) => [member.organisation_id, member.role, member.trial]).slice(1), [[BANK, 'contributor', false], [NGO, 'consumer', false], [GRID, 'coordinator', false]]);
    assert.deepEqual(shown.agreements.map((agreement) => agreement.version), [1, 2]);
    assert.deepEqual(shown.acceptances.map((acceptance) => [acceptance.organisation_id, acceptance.version]).sort(), [[BANK, 1], [NGO, 2]]);

    assert.match(ok(await run('circle', 'leave', 'grid-2026', '--org', BANK)).stdout, new RegExp(`^${BANK} left circle grid-2026; 0 recall notices queued$`, 'm'));
    const listed = ok(await run('circle', 'list'));
    assert.match(listed.stdout, /^grid-2026\ttacit\thidden\t3\t/m, 'members that left are not counted');
    const ended = ok(await run('circle', 'end', 'grid-2026'));
    assert.match(ended.stdout, /^Circle grid-2026 ends at \S+Z; \d+ recall notices queued$/m);
    const recalls = ok(await run('circle', 'recalls', '--circle', 'grid-2026'));
    assert.match(recalls.stderr, /^0 recall notices$/m);
  });

  it('ends at a later instant with --at, and never postpones an end', async () => {
    ok(await run('circle', 'create', 'later', '--name', 'Later', '--until', '2099-12-31T00:00:00Z'));
    assert.match(ok(await run('circle', 'end', 'later', '--at', '2098-01-01T00:00:00Z')).stdout, /^Circle later ends at 2098-01-01T00:00:00.000Z;/m);
    refused(await run('circle', 'end', 'later', '--at', '2098-06-01T00:00:00Z'), 1, 'ENT_CIRCLE_ENDED', /never postponed/);
  });

  it('names the problem, with its code and exit status, for each bad input', async () => {
    refused(await run('circle', 'show', 'no-such-circle'), 1, 'ENT_CIRCLE_NOT_FOUND');
    refused(await run('circle', 'invite', 'no-such-circle', '--org', BANK), 1, 'ENT_CIRCLE_NOT_FOUND');
    refused(await run('circle', 'end', 'no-such-circle'), 1, 'ENT_CIRCLE_NOT_FOUND');
    refused(await run('circle', 'recalls', '--circle', 'no-such-circle'), 1, 'ENT_CIRCLE_NOT_FOUND');
    refused(await run('circle', 'recalls', '--org', UNKNOWN), 1, 'ENT_ORG_NOT_FOUND');

    ok(await run('circle', 'create', 'bad-inputs', '--name', 'Bad inputs', '--until', '2099-01-01T00:00:00Z'));
    refused(await run('circle', 'invite', 'bad-inputs', '--org', UNKNOWN), 1, 'ENT_ORG_NOT_FOUND');
    refused(await run('circle', 'invite', 'bad-inputs', '--org', "identity--x' OR '1'='1"), 1, 'ENT_ORG_NOT_FOUND');
    refused(await run('circle', 'invite', 'bad-inputs', '--org', BANK, '--role', 'god'), 2, 'ENT_CLI_USAGE', /--role must be coordinator, contributor or consumer/);
    assert.equal((await run('circle', 'invite', 'bad-inputs')).code, 2, '--org is required');

    for (const until of ['tomorrow', '2026-02-30T00:00:00Z', '2026-12-31T00:00:00', '2026-12-31', '2026-12-31T24:00:00Z']) {
      refused(await run('circle', 'create', 'bad-time', '--name', 'B', '--until', until), 2, 'ENT_CLI_USAGE', /--until .* is not an RFC 3339 timestamp/);
    }
    refused(await run('circle', 'create', 'bad-time', '--name', 'B', '--until', '2026-01-01T00:00:00Z', '--from', '2026-06-01T00:00:00Z'), 1, 'ENT_POLICY_CIRCLE_INVALID', /\$\.valid_until: valid_until must be after valid_from/);
    refused(await run('circle', 'create', 'bad-kind', '--name', 'B', '--kind', 'cult', '--until', '2099-01-01T00:00:00Z'), 1, 'ENT_POLICY_CIRCLE_INVALID', /\$\.kind: must be one of formal, tacit/);
    refused(await run('circle', 'create', 'bad-tlp', '--name', 'B', '--default-tlp', 'clear', '--until', '2099-01-01T00:00:00Z'), 1, 'ENT_POLICY_CIRCLE_INVALID', /\$\.default_tlp/);
    refused(await run('circle', 'create', 'no-end', '--name', 'B'), 1, 'ENT_POLICY_CIRCLE_INVALID', /\$\.valid_until: a tacit circle must have an end/);
    refused(await run('circle', 'create', 'bad-inputs', '--name', 'Again', '--until', '2099-01-01T00:00:00Z'), 1, 'ENT_CIRCLE_EXISTS');
    refused(await run('circle', 'create', 'other', '--name', 'Other', '--until', '2099-01-01T00:00:00Z', '--collection', 'bad-inputs'), 1, 'ENT_CIRCLE_COLLECTION_TAKEN');
    refused(await run('circle', 'end', 'bad-inputs', '--at', '2026-13-01T00:00:00Z'), 2, 'ENT_CLI_USAGE', /--at/);

    refused(await run('circle', 'accept', 'bad-inputs', '--org', BANK), 1, 'ENT_CIRCLE_NOT_MEMBER');
    // A circle this node coordinates: the member is named (a mirrored one defaults to this node's organisation).
    for (const sub of ['accept', 'leave']) refused(await run('circle', sub, 'bad-inputs'), 2, 'ENT_CLI_USAGE', /--org is required/);
    ok(await run('circle', 'invite', 'bad-inputs', '--org', BANK));
    refused(await run('circle', 'accept', 'bad-inputs', '--org', BANK), 1, 'ENT_AGREEMENT_NOT_FOUND', /has no proposed terms yet/);
    for (const version of ['abc', '0', '-1', '1.5', '0x1', '']) {
      refused(await run('circle', 'accept', 'bad-inputs', '--org', BANK, '--agreement-version', version), 2, 'ENT_CLI_USAGE', /--agreement-version must be a positive integer/);
    }

    refused(await run('circle', 'propose', 'bad-inputs', '--terms', join(files.path, 'missing.json')), 1, 'ENT_INPUT_UNREADABLE', /ENOENT/);
    refused(await run('circle', 'propose', 'bad-inputs', '--terms', file('broken.json', '{"scope": ')), 1, 'ENT_INPUT_MALFORMED_JSON');
    refused(await run('circle', 'propose', 'bad-inputs', '--terms', file('array.json', '[]')), 1, 'ENT_POLICY_AGREEMENT_INVALID', /\$\.terms: expected a JSON object/);
    const invalid = file('invalid.json', JSON.stringify({ ...goodTerms, highest_tlp: 'purple', scope: { types: [] }, sneaky: true }));
    refused(await run('circle', 'propose', 'bad-inputs', '--terms', invalid), 1, 'ENT_POLICY_AGREEMENT_INVALID', /\$\.terms\.sneaky: unknown field.*\$\.terms\.scope\.types: must list at least one item.*\$\.terms\.highest_tlp: must be one of/);
    assert.equal((JSON.parse(ok(await run('circle', 'show', 'bad-inputs')).stdout) as { agreements: unknown[] }).agreements.length, 0);

    refused(await run('circle', 'leave', 'bad-inputs', '--org', NGO), 1, 'ENT_CIRCLE_NOT_MEMBER');
    const home = (JSON.parse(ok(await run('org', 'list', '--json')).stdout) as { id: string; home: boolean }[]).find((org) => org.home)?.id ?? '';
    refused(await run('circle', 'leave', 'bad-inputs', '--org', home), 1, 'ENT_CIRCLE_LAST_COORDINATOR');
    refused(await run('circle', 'promote', 'bad-inputs', '--org', NGO), 1, 'ENT_CIRCLE_NOT_MEMBER');

    ok(await run('circle', 'end', 'bad-inputs'));
    refused(await run('circle', 'invite', 'bad-inputs', '--org', NGO), 1, 'ENT_CIRCLE_ENDED', /nobody can join it/);
    refused(await run('circle', 'end', 'bad-inputs'), 1, 'ENT_CIRCLE_ENDED');
    refused(await run('circle', 'propose', 'bad-inputs', '--terms', file('late.json', JSON.stringify(goodTerms))), 1, 'ENT_CIRCLE_ENDED');
  });
});
