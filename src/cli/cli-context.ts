import type { Writable } from 'node:stream';
import { loadNodeConfig, openNode, type OpenedNode } from '../compose.ts';
import type { RawSettings } from '../node-config.ts';
import { EntenteError } from '../errors/entente-error.ts';
import { parseMicroTimestamp } from '../stix/micro-timestamp.ts';

/** What a command may touch of the outside world; tests pass their own streams. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  /** True when stderr is a terminal: progress bars are drawn only then. */
  readonly interactive: boolean;
  /** Set by a command that finished its work but must still exit non-zero (some input was rejected). */
  readonly outcome: { partialFailure: boolean };
}

/** Options every command accepts to find its node. */
export interface NodeLocationOptions {
  readonly data?: string;
  readonly config?: string;
}

export function settingsFromNodeLocation(options: NodeLocationOptions): RawSettings & { config?: string } {
  return {
    ...(options.data !== undefined ? { dataDir: options.data } : {}),
    ...(options.config !== undefined ? { config: options.config } : {}),
  };
}

/** Opens the node's store for a one-shot command, reporting a first-start admin token as `start` does. */
export async function withNode<T>(io: CliIo, options: NodeLocationOptions, action: (node: OpenedNode) => Promise<T>): Promise<T> {
  const config = loadNodeConfig(settingsFromNodeLocation(options), io.env);
  const node = await openNode(config);
  try {
    if (node.adminTokenPath !== undefined) {
      io.stderr.write(`New node: admin token written to ${node.adminTokenPath} (mode 0600)\n`);
    }
    return await action(node);
  } finally {
    await node.close();
  }
}

export function writeLine(stream: Writable, line = ''): void {
  stream.write(line + '\n');
}

/** A timestamp option (`--from`, `--at` …): strict RFC 3339 in UTC, or ENT_CLI_USAGE naming the option. */
export function parseTimeOption(value: string | undefined, option: string): Date | undefined {
  if (value === undefined) return undefined;
  const micros = parseMicroTimestamp(value);
  if (micros === undefined) {
    throw new EntenteError('ENT_CLI_USAGE', `${option} "${value.slice(0, 64)}" is not an RFC 3339 timestamp such as 2026-12-31T00:00:00Z`);
  }
  return new Date(Math.floor(micros / 1000));
}
