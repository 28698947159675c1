import { runCli } from './program.ts';

const exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  interactive: process.stderr.isTTY === true,
  outcome: { partialFailure: false },
});
process.exitCode = exitCode;
