import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { settingNames } from '../../node-config.ts';
import { startCommand } from './start-command.ts';

describe('entente start --help', () => {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {}, interactive: false, outcome: { partialFailure: false } };
  const help = startCommand(io).helpInformation();

  it('names the drafting time limit, its variable and its default, as it does the other node settings', () => {
    // Commander wraps the description to the terminal's width: compared with its lines joined.
    const flat = help.replace(/\s+/g, ' ');
    assert.match(flat, /--draft-time-limit <ms> longest one report may take to become a draft over REST, in ms \(env ENTENTE_DRAFT_TIME_LIMIT_MS; default 60000\)/);
  });

  it('names the limits on a request arriving, their variables and defaults', () => {
    const flat = help.replace(/\s+/g, ' ');
    assert.match(flat, /--headers-timeout <ms> longest a request's headers may take to arrive, in ms \(env ENTENTE_HEADERS_TIMEOUT_MS; default 30000\)/);
    assert.match(flat, /--request-timeout <ms> longest a whole request \(headers and body\) may take to arrive, in ms \(env ENTENTE_REQUEST_TIMEOUT_MS; default 300000\)/);
  });

  it('names the variable of each setting it has a flag for', () => {
    for (const variable of ['ENTENTE_HOST', 'ENTENTE_PORT', 'ENTENTE_FLASH_LIMIT', 'ENTENTE_WORKERS', settingNames.draftTimeLimitMs, settingNames.headersTimeoutMs, settingNames.requestTimeoutMs]) assert.ok(help.includes(variable), variable);
  });
});
